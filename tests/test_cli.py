"""End to end through `main.main`: a few iterations of every gan_type and SCoGAN regulariser combination,
what a run folder holds, --resume / --overwrite / --config, --sample, and bad input -> one line, exit 2."""
import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import classifiers
import main

REPO = Path(__file__).resolve().parents[1]
# Tiny and quick: every option that changes what is written is still exercised.
FAST = ["--iterations", "3", "--batch_size", "4", "--log_interval", "1", "--sample_interval", "2",
        "--checkpoint_interval", "2", "--sample_rows", "1", "--sample_cols", "2", "--no_final_eval"]
# The demo's generator width, for the data whose default is the thesis's full width (CI time, issue 19): the
# tests that add it check what the data, options and folder give, not the size of the nets.
NARROW = ["--g_width", "0.25"]


def run_ok(*argv):
    assert main.main([str(a) for a in argv]) == 0


def rows(run_dir):
    with open(Path(run_dir) / "losses.csv") as f:
        return list(csv.DictReader(f))


def exits_2(capsys, *argv):
    """main.main returns 2 (our errors) or argparse exits 2; either way one line on stderr."""
    try:
        code = main.main([str(a) for a in argv])
    except SystemExit as e:
        code = e.code
    err = capsys.readouterr().err.strip()
    assert code == 2, err
    assert err.startswith("error: ") and "\n" not in err, err
    return err


def write_images(folder, n, size=(12, 12), seed=0):
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.RandomState(seed)
    for i in range(n):
        Image.fromarray(rng.randint(0, 255, size + (3,), dtype=np.uint8)).save(folder / f"{i}.png")
    return folder


@pytest.fixture(scope="module")
def classifier_path(tmp_path_factory):
    model = classifiers.digit_classifier((32, 32, 3), 10)
    return classifiers.save_classifier(model, tmp_path_factory.mktemp("clf") / "classifier.keras",
                                       multilabel=False, names=[str(i) for i in range(10)])


@pytest.fixture(scope="module")
def default_run(tmp_path_factory):
    """The default cogan run (digits2edge, FAST), trained once for the file (CI time, issue 19): tests that only
    read a run use it, tests that change a run change a copy of it (`copy_of`)."""
    out = tmp_path_factory.mktemp("default") / "run"
    run_ok("--dir", out, *FAST)
    return out


def copy_of(run, tmp_path, name="run"):
    """A copy of `run` (file times kept) in tmp_path: a moved run folder, which a resume accepts (--dir is free)."""
    return Path(shutil.copytree(run, tmp_path / name))


# ------------------------------------------------------------------------------------------ what a run writes
def test_default_cogan_run_writes_everything(default_run):
    out = default_run
    cfg = json.loads((out / "config.json").read_text())
    assert (cfg["gan_type"], cfg["cogan_data"], cfg["arch"]) == ("cogan", "digits2edge", "cogan32")
    assert (cfg["shared_layers_g"], cfg["shared_layers_d"]) == (4, 3)  # Tables 3.1/3.2 defaults
    assert "resume" not in cfg and "overwrite" not in cfg
    r = rows(out)
    assert [int(x["step"]) for x in r] == [1, 2, 3]
    assert {"d_loss_1", "d_loss_2", "g_loss_1", "g_loss_2"} <= set(r[0])
    assert not any("weight_decay" in k for k in r[0])  # the authors' code applied none (sec. 5.1's text: 0.0005)
    assert all(np.isfinite(float(v)) for x in r for v in x.values())
    assert sorted(p.name for p in (out / "samples").glob("*.png")) == ["step_0000002.png", "step_0000003.png"]
    grid = np.asarray(Image.open(out / "samples" / "step_0000003.png"))
    assert grid.shape[0] > grid.shape[1] / 2  # two rows of pairs: domain 1 above domain 2
    assert (out / "losses.png").is_file() and list((out / "tb").iterdir())
    assert (out / "checkpoints" / "checkpoint").is_file()
    assert {p.name for p in (out / "models").iterdir()} == {"G1.weights.h5", "G2.weights.h5",
                                                             "D1.weights.h5", "D2.weights.h5"}


def test_single_gan_on_toy_ring_with_critic_steps(tmp_path):
    toy = tmp_path / "toy"
    run_ok("--gan_type", "gan", "--dataset", "toy", "--disc_iters", "5", "--dir", toy, *FAST[:-1],
           "--eval_pairs", "500")   # with its end-of-training evaluation: mode coverage
    cfg = json.loads((toy / "config.json").read_text())
    assert (cfg["arch"], cfg["disc_iters"], cfg["image_size"]) == ("toy", 5, None)
    assert [int(r["step"]) for r in rows(toy)] == [1, 2, 3]
    assert sorted(p.name for p in (toy / "samples").glob("*.png")) == ["step_0000002.png", "step_0000003.png"]
    metrics = json.loads((toy / "metrics.json").read_text())
    assert (metrics["step"], metrics["samples"], metrics["modes"]["n"]) == (3, 500, 500)
    assert metrics["ring"]["modes"] == metrics["modes"]["modes"] == 10 == len(metrics["modes"]["per_mode"])
    assert (toy / "modes.png").is_file()


def test_single_gan_wgan_gp_on_a_local_folder_skips_unreadable(tmp_path, capsys):
    folder = write_images(tmp_path / "imgs", 6)
    (folder / "broken.png").write_bytes(b"not an image")
    run_ok("--gan_type", "gan", "--domain_a", folder, "--preset", "wgan-gp", "--dir", tmp_path / "w", *FAST,
           *NARROW)
    assert "skipped 1 unreadable" in capsys.readouterr().out
    cfg = json.loads((tmp_path / "w" / "config.json").read_text())
    assert (cfg["loss"], cfg["disc_penalty"], cfg["disc_iters"], cfg["d_norm"]) == ("wgan", "wgan-gp", 5, "layer")
    assert {"d_loss", "d_gp", "g_loss"} <= set(rows(tmp_path / "w")[0])   # one GAN: no domain suffix


def test_cogan_on_two_folders_with_chosen_sharing(tmp_path):
    a, b = write_images(tmp_path / "a", 5, seed=1), write_images(tmp_path / "b", 7, (20, 16), seed=2)
    run_ok("--domain_a", a, "--domain_b", b, "--shared_layers_g", "1", "--shared_layers_d", "0",
           "--weight_decay", "0.0005", "--dir", tmp_path / "f", *FAST, *NARROW)
    cfg = json.loads((tmp_path / "f" / "config.json").read_text())
    assert (cfg["shared_layers_g"], cfg["shared_layers_d"], cfg["image_size"]) == (1, 0, 32)
    assert {"d_weight_decay", "g_weight_decay"} <= set(rows(tmp_path / "f")[0])


def test_cogan_on_real_mnist_idx_files(tmp_path, shared_data):
    # The loader reads idx files from --data_dir (clusters without internet); here the real test split.
    d = tmp_path / "data" / "mnist"
    d.mkdir(parents=True)
    (d / "t10k-images-idx3-ubyte.gz").symlink_to(shared_data / "mnist" / "t10k-images-idx3-ubyte.gz")
    run_ok("--cogan_data", "mnist2edge", "--data_dir", tmp_path / "data", "--no_download",
           "--dir", tmp_path / "m", *FAST, *NARROW)
    assert len(rows(tmp_path / "m")) == 3


SCOGAN_TERMS = {"feature_regulariser": ["fr"], "semantic_loss": ["sl"], "cycle_consistency": ["cc"],
                "perceptual_loss": ["pl_content", "pl_style_1", "pl_style_2"]}


@pytest.mark.parametrize("combo", [("feature_regulariser",), ("semantic_loss",), ("cycle_consistency",),
                                   ("perceptual_loss",), ("semantic_loss", "feature_regulariser"),
                                   ("semantic_loss", "cycle_consistency"),
                                   ("feature_regulariser", "cycle_consistency")],
                         ids=lambda c: "+".join(c))
def test_scogan_each_regulariser_and_thesis_combinations(tmp_path, combo, classifier_path):
    flags = [f"--{c}" for c in combo]
    if "semantic_loss" in combo:
        flags += ["--classifier_path", classifier_path]
    if "perceptual_loss" in combo:
        flags += ["--vgg_weights", "none"]
    run_ok("--gan_type", "scogan", "--weight_decay", "0", *flags, "--dir", tmp_path / "s", *FAST)
    cfg = json.loads((tmp_path / "s" / "config.json").read_text())
    assert (cfg["shared_layers_g"], cfg["shared_layers_d"]) == (0, 0)
    terms = [t for c in combo for t in SCOGAN_TERMS[c]]
    for r in rows(tmp_path / "s"):
        assert set(terms) <= set(r)
        # Each term is its own column and g_total logs it once (not once per generator update group); that it
        # enters the objective being differentiated is test_scogan.py's (through the trainer's step).
        adv = float(r["g_loss_1"]) + float(r["g_loss_2"])
        assert float(r["g_total"]) == pytest.approx(adv + sum(float(r[t]) for t in terms), rel=1e-4, abs=1e-5)
    if "cycle_consistency" in combo:
        assert (tmp_path / "s" / "models" / "F.weights.h5").is_file()


# ------------------------------------------------------------------------------------------ resume and friends
def test_resume_alone_continues_from_saved_config_to_a_new_total(default_run, tmp_path):
    out = copy_of(default_run, tmp_path)
    run_ok("--dir", out, "--resume", "--iterations", "5")
    assert [int(x["step"]) for x in rows(out)] == [1, 2, 3, 4, 5]
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["iterations"] == 5 and cfg["batch_size"] == 4


def test_existing_run_is_refused_then_overwritten(default_run, tmp_path, capsys):
    out = copy_of(default_run, tmp_path)
    before = (out / "losses.csv").read_bytes()
    err = exits_2(capsys, "--dir", out, *FAST)
    assert "--resume" in err and "--overwrite" in err
    assert (out / "losses.csv").read_bytes() == before
    run_ok("--dir", out, "--overwrite", *FAST, "--iterations", "2")  # the last value given wins
    assert len(rows(out)) == 2


def test_config_file_repeats_a_run(tmp_path):
    run_ok("--dir", tmp_path / "a", "--seed", "3", "--g_lr", "0.0001", *FAST)
    run_ok("--config", tmp_path / "a" / "config.json", "--dir", tmp_path / "b")
    ca = json.loads((tmp_path / "a" / "config.json").read_text())
    cb = json.loads((tmp_path / "b" / "config.json").read_text())
    assert {k: v for k, v in ca.items() if k != "dir"} == {k: v for k, v in cb.items() if k != "dir"}
    la, lb = rows(tmp_path / "a"), rows(tmp_path / "b")
    assert len(la) == len(lb)
    for x, y in zip(la, lb):  # same seed, same config: the same run (to oneDNN float noise)
        for k in x:
            assert float(x[k]) == pytest.approx(float(y[k]), rel=1e-3, abs=1e-4)


def test_sample_writes_pairs_and_latent_walk(default_run, tmp_path):
    run_ok("--sample", default_run, "--num", "5", "--out", tmp_path / "p.npz")
    with np.load(tmp_path / "p.npz") as f:
        assert f["a"].shape == f["b"].shape == (5, 32, 32, 3) and f["z"].shape == (5, 100)
        assert f["a"].dtype == np.float32 and -1 <= f["a"].min() and f["b"].max() <= 1
        assert not np.allclose(f["a"], f["b"])
    assert not (tmp_path / "p_walk.png").exists()
    run_ok("--sample", default_run, "--num", "2", "--out", tmp_path / "w.npz", "--latent_walk")
    walk = np.asarray(Image.open(tmp_path / "w_walk.png"))
    # 4 walks of 8 steps, each a row per domain: 8 rows of 32 + 2 pad, 2 x 2 pad between walks, 2 at the end.
    assert walk.shape == (8 * 34 + 3 * 4 + 2, 8 * 34 + 2, 3)


# ------------------------------------------------------------------------------------------ bad input
@pytest.mark.parametrize("argv, says", [
    (["--cogan_data", "nope2nothing"], "unknown coupled dataset"),
    (["--gan_type", "gan", "--dataset", "nope"], "unknown single-GAN dataset 'nope'"),
    (["--gan_type", "wgan"], "invalid choice"),
    (["--loss", "hinge"], "invalid choice"),
    (["--iterations", "ten"], "invalid int"),
    (["--domain_a", "/no/such/dir", "--domain_b", "/no/such/dir2"], "not found"),
    (["--shared_layers_g", "9"], "out of range"),
    (["--gan_type", "cogan", "--dataset", "mnist"], "--cogan_data"),
    (["--feature_regulariser"], "scogan"),
    (["--resume", "--overwrite"], "contradict"),
    (["--preset", "wgan-gp", "--d_norm", "batch"], "BatchNorm"),
    (["--image_size", "48"], "invalid choice: 48 (choose from 32, 64, 128, 256)"),
    (["--config", "/no/such/config.json"], "not found"),
])
def test_bad_input_is_one_line_and_exit_2(tmp_path, capsys, monkeypatch, argv, says):
    monkeypatch.chdir(tmp_path)   # nothing may be written, under --dir or in a default folder
    err = exits_2(capsys, *argv, "--dir", tmp_path / "never", *FAST)
    assert says in err
    assert list(tmp_path.iterdir()) == []


def test_empty_folder_and_folder_of_unreadable_files(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert "no images" in exits_2(capsys, "--gan_type", "gan", "--domain_a", tmp_path / "empty", *FAST)
    bad = tmp_path / "bad"
    bad.mkdir()
    for i in range(3):
        (bad / f"{i}.jpg").write_bytes(b"garbage")
    assert "none of the 3" in exits_2(capsys, "--gan_type", "gan", "--domain_a", bad, *FAST)


def test_sample_of_a_folder_that_is_no_run(tmp_path, capsys):
    assert "no run" in exits_2(capsys, "--sample", tmp_path, "--num", "2", "--out", tmp_path / "x.npz")


def test_cli_process_prints_no_traceback(tmp_path):
    p = subprocess.run([sys.executable, "main.py", "--cogan_data", "nope", "--dir", str(tmp_path / "x")],
                       cwd=REPO, capture_output=True, text=True, timeout=300)
    assert p.returncode == 2
    assert "Traceback" not in p.stderr
    assert [line for line in p.stderr.splitlines() if line.startswith("error:")], p.stderr


def test_error_while_building_leaves_no_run_folder(tmp_path, capsys):
    err = exits_2(capsys, "--gan_type", "scogan", "--perceptual_loss", "--vgg_weights", tmp_path / "no.h5",
                  "--dir", tmp_path / "r", *FAST)
    assert "VGG19 weights file not found" in err
    assert not (tmp_path / "r").exists()  # the corrected command can use the same --dir


def test_sample_and_evaluate_refuse_a_classifier_run(tmp_path, capsys):
    import config
    config.Config(gan_type="classifier", dataset="digits").save(tmp_path / "config.json")
    assert "classifier run" in exits_2(capsys, "--sample", tmp_path, "--num", "2", "--out", tmp_path / "x.npz")
    assert "classifier" in exits_2(capsys, "--evaluate", tmp_path)


# ------------------------------------------------------------------------------------------ reliability of --config / --resume
def snapshot(folder):
    """{relative path: (bytes, mtime_ns)} of every file under folder."""
    return {str(p.relative_to(folder)): (p.read_bytes(), p.stat().st_mtime_ns)
            for p in sorted(Path(folder).rglob("*")) if p.is_file()}


@pytest.mark.parametrize("saved, says", [
    ({"iterations": "ten"}, '"iterations" must be an integer or null (got "ten")'),
    ({"gan_type": "nosuch"}, '"gan_type" must be one of gan, cogan, scogan, classifier, pix2pix, cyclegan, unit '
                             '(got "nosuch")'),
    ({"loss": "nosuch"}, '"loss" must be one of minimax, nonsat, wgan, lsgan (got "nosuch")'),
    ({"disc_penalty": "nosuch"}, '"disc_penalty" must be one of none, wgan-gp, clip (got "nosuch")'),
])
def test_bad_config_file_values_are_one_line_and_exit_2(tmp_path, capsys, saved, says):
    path = tmp_path / "c.json"
    path.write_text(json.dumps(saved))
    err = exits_2(capsys, "--config", path, "--dir", tmp_path / "never", *FAST)
    assert err == f"error: config file {path}: {says}"
    assert not (tmp_path / "never").exists()


def test_refused_resume_leaves_the_run_as_it_was(default_run, tmp_path, capsys):
    out = copy_of(default_run, tmp_path)
    before = snapshot(out)
    err = exits_2(capsys, "--dir", out, "--resume", "--shared_layers_g", "2", "--iterations", "5")
    # Issue 22: refused by the option's resume policy (config.py), before TensorFlow's restore is tried.
    assert err == ("error: --shared_layers_g cannot change on resume (start a new run in another --dir): the run "
                   "has 4, this resume gives 2")
    assert snapshot(out) == before  # config.json byte-identical, nothing else touched
    run_ok("--dir", out, "--resume", "--iterations", "5")  # a plain resume still continues it
    assert [int(x["step"]) for x in rows(out)] == [1, 2, 3, 4, 5]
    assert json.loads((out / "config.json").read_text())["shared_layers_g"] == 4


def test_resume_failing_while_building_does_not_rewrite_config(tmp_path, capsys):
    out = tmp_path / "s"
    run_ok("--gan_type", "scogan", "--perceptual_loss", "--vgg_weights", "none", "--dir", out, *FAST,
           "--iterations", "2")
    before = (out / "config.json").read_bytes()
    err = exits_2(capsys, "--dir", out, "--resume", "--vgg_weights", tmp_path / "no.h5", "--iterations", "3",
                  "--allow_change")  # vgg_weights: on_resume allow (a moved file)
    assert "VGG19 weights file not found" in err
    assert (out / "config.json").read_bytes() == before
    run_ok("--dir", out, "--resume", "--iterations", "3")
    assert [int(x["step"]) for x in rows(out)] == [1, 2, 3]


def test_repeating_a_run_with_its_config_starts_a_new_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    first = tmp_path / "first"
    run_ok("--dir", first, "--seed", "3", *FAST)
    saved = json.loads((first / "config.json").read_text())
    before = snapshot(first)
    run_ok("--config", first / "config.json")                   # as the README says
    run_ok("--config", first / "config.json", "--overwrite")    # never deletes the run it came from
    assert snapshot(first) == before
    repeats = sorted((tmp_path / "runs").iterdir())
    assert len(repeats) == 2
    for r in repeats:
        cfg = json.loads((r / "config.json").read_text())
        assert cfg["dir"] == str(Path("runs") / r.name)
        assert {k: v for k, v in cfg.items() if k != "dir"} == {k: v for k, v in saved.items() if k != "dir"}
        assert [int(x["step"]) for x in rows(r)] == [1, 2, 3]


def test_resume_starts_a_run_in_a_missing_or_empty_folder(tmp_path, capsys):
    new = tmp_path / "new"
    run_ok("--dir", new, "--resume", *FAST)  # first start of a job that is requeued with the same command
    assert [int(x["step"]) for x in rows(new)] == [1, 2, 3]
    run_ok("--dir", new, "--resume", *FAST, "--iterations", "5")  # the requeue continues it
    assert [int(x["step"]) for x in rows(new)] == [1, 2, 3, 4, 5]
    empty = tmp_path / "empty"
    empty.mkdir()
    run_ok("--dir", empty, "--resume", *FAST)
    assert (empty / "config.json").is_file() and len(rows(empty)) == 3
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    assert "not empty" in exits_2(capsys, "--dir", other, "--resume", *FAST)
    assert [p.name for p in other.iterdir()] == ["notes.txt"]


def test_provenance_records_every_invocation_of_a_run(default_run, tmp_path):
    """provenance.json: one entry for the start and one per resume, each with the command, the package versions
    TensorFlow really has, the git commit of this checkout, the host and the devices."""
    import socket
    import tensorflow as tf
    run = copy_of(default_run, tmp_path)  # started in default_run's folder, resumed in its copy
    run_ok("--dir", run, "--resume", "--iterations", "4")
    entries = json.loads((run / "provenance.json").read_text())["invocations"]
    assert [e["command"][1:4] for e in entries] == [["--dir", str(default_run), "--iterations"],
                                                    ["--dir", str(run), "--resume"]]
    head = subprocess.run(["git", "-C", str(REPO), "rev-parse", "HEAD"], capture_output=True, text=True)
    for e in entries:
        assert e["packages"]["keras"] and tf.__version__ in {e["packages"].get("tensorflow"),
                                                             e["packages"].get("tensorflow-cpu")}
        assert e["host"] == socket.gethostname() and e["strategy"] == "default"
        assert any("CPU" in d for d in e["devices"])
        if head.returncode == 0:
            assert e["git_commit"] == head.stdout.strip() and isinstance(e["git_dirty"], bool)
