"""`python main.py --dry_run` (issue 19, item 7): the resolved options, every network's parameter count and the run
folder, with nothing trained, loaded, fetched or written.

The parameter counts are checked against Table 2.1 worked by hand (the toy nets) and against the weight files a real
run of the same options writes (models/*.weights.h5, counted with h5py). Building the nets of all 48 named
experiments takes about a minute on a 2-core CPU (cogan256: ~4 s, cogan128: ~2 s, VGG19: ~1 s each), too slow for
one test: a representative subset builds its real nets (one per architecture; SL and pruning with no cached
classifier; CC; PL without the VGG19 ImageNet file), and every experiment runs the dry run with the GAN and VGG
builders replaced by stubs (resolution, the classifier plan and the folder plan, all for real).
"""
import json

import h5py
import numpy as np
import pytest

import experiments
import main
import nets
import regularisers
from config import Config


def _dry(capsys, argv):
    """-> (stdout, the printed configuration, {net: (parameters or None, note)}) of `main.py ARGV --dry_run`."""
    capsys.readouterr()
    assert main.main(argv + ["--dry_run"]) == 0
    out = capsys.readouterr().out
    cfg, end = json.JSONDecoder().raw_decode(out, out.index("{", out.index("configuration")))
    rows = {}
    for line in out[out.index("networks", end):].splitlines()[1:]:
        if not line.startswith("  "):
            break
        name, count, *note = line.split(maxsplit=2)
        rows[name] = (None if count == "-" else int(count.replace(",", "")), note[0] if note else "")
    return out, cfg, rows


@pytest.fixture(autouse=True)
def _empty_world(tmp_path, monkeypatch):
    """The current folder (where runs/ would go) and every cache are empty folders under tmp_path: a dry run must
    leave tmp_path empty."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COUPLED_GAN_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("LPIPS_WEIGHTS_DIR", str(tmp_path / "lpips"))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.delenv("LPIPS_NO_DOWNLOAD", raising=False)


def test_toy_counts_are_table_2_1_worked_by_hand(tmp_path, capsys):
    # Table 2.1: G = z(10) -> 128 -> 128 -> 128 -> 2 and D = 2 -> 128 -> 128 -> 128 -> 1, dense layers with biases.
    g = (10 * 128 + 128) + 2 * (128 * 128 + 128) + (128 * 2 + 2)
    d = (2 * 128 + 128) + 2 * (128 * 128 + 128) + (128 * 1 + 1)
    out, cfg, rows = _dry(capsys, ["--gan_type", "gan", "--dataset", "toy"])
    assert rows == {"G1": (g, ""), "D1": (d, "")}
    assert (cfg["arch"], cfg["noise_dim"], cfg["preset"], cfg["dir"]) == ("toy", 10, "toy", None)
    assert "run folder: runs/gan_toy_" in out and "LPIPS" not in out   # a toy run is scored by mode coverage
    assert not any(tmp_path.iterdir())


def _h5_values(path) -> int:
    """The number of values in a Keras weights file: every dataset in it."""
    sizes = []
    with h5py.File(path, "r") as f:
        f.visititems(lambda name, obj: sizes.append(obj.size) if isinstance(obj, h5py.Dataset) else None)
    return int(np.sum(sizes))


def test_counts_and_configuration_are_what_the_real_run_builds_and_saves(tmp_path, capsys):
    run_dir = tmp_path / "run"
    argv = ["--gan_type", "scogan", "--cogan_data", "digits2edge", "--cycle_consistency", "--shared_layers_g", "2",
            "--shared_layers_d", "1", "--iterations", "1", "--batch_size", "8", "--g_width", "0.25",
            "--no_final_eval", "--dir", str(run_dir)]
    out, cfg, rows = _dry(capsys, argv)
    assert not any(tmp_path.iterdir()), "the dry run created the run folder, its lock or a cache"
    assert f"run folder: {run_dir} (a new run)" in out
    assert rows["G2"][1] == "shares G1's first 2 blocks" and rows["D2"][1] == "shares D1's last 1 block"
    assert main.main(argv) == 0
    assert json.loads((run_dir / "config.json").read_text()) == cfg
    for name in ("G1", "G2", "D1", "D2", "F"):
        assert rows[name][0] == _h5_values(run_dir / "models" / f"{name}.weights.h5"), name
    # Shared weights once: G2 without G1's first 2 blocks, D2 without D1's last block, counted from the run's cfg.
    run_cfg = Config.load(run_dir / "config.json")
    options = nets.NetOptions(channels=3, noise_dim=run_cfg.noise_dim, g_width=run_cfg.g_width, d_norm=run_cfg.d_norm)
    g_shared = sum(b.count_params() for b in nets.build_generators("cogan32", options, 1)[0].blocks[:2])
    d_shared = nets.build_discriminators("cogan32", options, (32, 32, 3), 1)[0].blocks[-1].count_params()
    assert rows["together"][0] == sum(rows[n][0] for n in ("G1", "G2", "D1", "D2")) - g_shared - d_shared
    # The folder now holds a run: the dry run says what the real one would do with it, and still writes nothing.
    before = sorted(p.name for p in run_dir.iterdir())
    out, _, _ = _dry(capsys, argv)
    assert f"{run_dir} (holds a run: the run would refuse it without --resume or --overwrite)" in out
    out, _, _ = _dry(capsys, argv + ["--resume"])
    assert f"{run_dir} (continues the run there)" in out
    assert sorted(p.name for p in run_dir.iterdir()) == before


REPRESENTATIVE = ("gan_toy_k1", "cogan_mnist2svhn_shared1", "scogan_mnist2svhn_slcc", "scogan_mnist2edge_pl",
                  "cogan_celeba_smiling_table53", "cogan_horse2zebra_256")


@pytest.mark.parametrize("name", REPRESENTATIVE)
def test_named_experiments_build_their_nets_offline_and_write_nothing(name, tmp_path, capsys):
    out, cfg, rows = _dry(capsys, ["--experiment", name])
    exp = experiments.get(name).settings
    assert {k: cfg[k] for k in exp} == exp
    assert all(count and count > 0 for count, _ in rows.values())
    uses_classifier = cfg["semantic_loss"] or cfg["cogan_data"] == "mnist2svhn_prune"
    assert ("classifier" in rows) == uses_classifier
    if uses_classifier:  # not cached here: said, not trained
        assert "not cached yet, the run would first train it on mnist_svhn" in rows["classifier"][1]
        assert str(tmp_path / "cache" / "classifiers") in rows["classifier"][1]
    assert ("F" in rows) == cfg["cycle_consistency"] and ("VGG19" in rows) == cfg["perceptual_loss"]
    if cfg["perceptual_loss"]:
        assert "its ImageNet weights are not here" in rows["VGG19"][1]
    if cfg["gan_type"] != "gan":
        assert f"not in {tmp_path / 'lpips'} yet, fetched there at the end of training" in out
    assert not any(tmp_path.iterdir())


TRANSLATION_TYPES = ("pix2pix", "cyclegan", "unit")   # trainers with their own dry_run_rows


class _Net:
    def __init__(self, name):
        self.name, self.weights = name, []


def test_every_named_experiment_dry_runs_with_stub_nets(tmp_path, capsys, monkeypatch):
    """Resolution, the classifier and folder plans of every experiment, the nets replaced by empty stubs."""
    monkeypatch.setattr(nets, "build_generators", lambda arch, o, domains=2, shared=0: [
        _Net(f"G{i + 1}") for i in range(domains)])
    monkeypatch.setattr(nets, "build_discriminators", lambda arch, o, shape, domains=2, shared=0: [
        _Net(f"D{i + 1}") for i in range(domains)])
    monkeypatch.setattr(regularisers, "build_vgg19_features", lambda weights: _Net("vgg"))
    for name in experiments.EXPERIMENTS:
        if experiments.get(name).settings["gan_type"] in TRANSLATION_TYPES:
            continue   # their own nets, built and counted against --dry_run in test_experiments.py (baselines)
        out, cfg, rows = _dry(capsys, ["--experiment", name])
        assert cfg["experiment"] == name and "G1" in rows and "run folder: runs/" in out, name
    assert not any(tmp_path.iterdir())


def test_a_refused_option_is_refused_by_the_dry_run_too(tmp_path, capsys):
    assert main.main(["--dry_run", "--resume"]) == 2
    assert capsys.readouterr().err.startswith("error: --resume continues the run in a folder")
    assert not any(tmp_path.iterdir())
