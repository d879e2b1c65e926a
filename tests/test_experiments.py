"""The named thesis experiments (experiments.py): every one resolves to a valid config without touching data,
flags override its settings, bad names fail in one line, --list_experiments lists them all, each one's networks
build with the right sharing, every published number matches the thesis's text (when it is beside the
checkout), every setting a note, description or EXPERIMENTS.md row names is the one the run resolves to, and the
weight-decay rule is stated once, the same way, wherever it is stated. The translation baselines (issue 20 item 8:
pix2pix, CycleGAN, UNIT) build through their trainers at the experiment's size, with --dry_run's counts, the
official CycleGAN counts and hand-worked pix2pix counts; their lengths follow the official schedule or the
thesis's count for the family."""
import dataclasses
import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import config
import evaluation
import experiments
import main

REPO = Path(__file__).resolve().parents[1]
THESIS = REPO.parent / "shared" / "reference" / "scogan-thesis-2020.txt"
NAMES = list(experiments.EXPERIMENTS)
BASELINES = [n for n in NAMES if experiments.get(n).settings["gan_type"] in experiments.BASELINE_TYPES]
COUPLED = [n for n in NAMES if n not in BASELINES]   # the thesis's own GANs, built from nets.py
LPIPS_KEYS = {"gen1_vs_gen2", "gen1_vs_real1", "gen2_vs_real2", "real1_vs_real2", "gen1_vs_real2", "gen2_vs_real1"}
# Blocks (generator, discriminator) of each architecture: one per row of Tables 3.1/3.2, A.1/A.2, A.3/A.4, 2.1
# (dense+reshape one block; pooling and dropout belong to the layer before them).
BLOCKS = {"cogan32": (5, 4), "cogan128": (7, 8), "cogan256": (8, 8), "toy": (4, 4)}
FIRST_MAP_CHANNELS = {"cogan32": 1024, "cogan128": 1024, "cogan256": 2048}   # "Reshape 4x4xC" of the tables

_resolved = {}


def resolve(name, tmp_path_factory=None, *extra):
    """parse_config for `--experiment name` (cached when no extra flags); never reads data."""
    if extra or name not in _resolved:
        out = Path(tmp_path_factory.mktemp("exp")) / "run"
        cfg = config.parse_config(["--experiment", name, "--dir", str(out), *extra], main._data_defaults)
        if extra:
            return cfg
        _resolved[name] = cfg
    return _resolved[name]


# ------------------------------------------------------------------------------------------ the registry
def test_registry_shape():
    assert len(NAMES) == len(set(NAMES)) >= 40
    fields = {f.name for f in dataclasses.fields(config.Config)}
    for e in experiments.EXPERIMENTS.values():
        assert re.fullmatch(r"[a-z0-9_]+", e.name), e.name
        assert e.description and "\n" not in e.description and e.reproduces, e.name
        assert set(e.settings) <= fields, (e.name, set(e.settings) - fields)
        # The text's weight decay is named in the notes, never applied by an experiment (the authors' code had none).
        assert "weight_decay" not in e.settings, e.name
        for key in ("gan_type", "iterations", "preset"):
            assert key in e.settings, (e.name, key)
        if e.name in BASELINES:   # no thesis numbers; translation runs are scored on the held-out split
            assert re.fullmatch(r"baseline for Table 5\.[1-4] \(issue 20\)", e.reproduces), e.name
            assert e.published is None and "eval_pairs" not in e.settings, e.name
        if e.published is not None:
            assert set(e.published) <= LPIPS_KEYS, e.name
            assert e.source and e.pairs, e.name
            assert e.settings.get("eval_pairs") == e.pairs, e.name
        else:
            assert e.pairs is None, e.name


def test_experiments_module_does_not_import_tensorflow():
    code = "import sys, experiments; experiments.list_lines(); assert 'tensorflow' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True)


@pytest.mark.parametrize("name", NAMES)
def test_experiment_resolves(name, tmp_path_factory):
    e = experiments.get(name)
    cfg = resolve(name, tmp_path_factory)
    assert cfg.experiment == name and cfg.to_dict()["experiment"] == name   # saved in config.json
    for k, v in e.settings.items():
        assert getattr(cfg, k) == v, (name, k, getattr(cfg, k), v)
    assert cfg.weight_decay == 0.0
    if cfg.gan_type == "cogan" and not name.startswith("cogan_mnist2svhn_shared"):
        import nets
        assert (cfg.shared_layers_g, cfg.shared_layers_d) == nets.DEFAULT_SHARED[cfg.arch], name
    if cfg.gan_type == "scogan":
        assert (cfg.shared_layers_g, cfg.shared_layers_d) == (0, 0), name
    # Gulrajani et al. (thesis sec. 2.5); the toy ring's WGAN-GP keeps the authors' Adam (0.5, 0.9) and Table 2.1's
    # critic without normalisation (tests/test_toy_ring.py).
    if cfg.preset == "wgan-gp" and not cfg.is_toy:
        assert (cfg.loss, cfg.disc_penalty, cfg.disc_iters, cfg.g_lr, cfg.d_beta1, cfg.d_beta2, cfg.d_norm) == \
            ("wgan", "wgan-gp", 5, 1e-4, 0.0, 0.9, "layer"), name
    if cfg.preset == "dcgan":
        assert (cfg.loss, cfg.disc_penalty, cfg.disc_iters, cfg.g_lr, cfg.g_beta1) == ("nonsat", "none", 1, 2e-4, 0.5)
    if cfg.preset == "thesis":
        assert (cfg.loss, cfg.disc_penalty, cfg.gp_weight, cfg.disc_iters, cfg.g_lr, cfg.g_beta1) == \
            ("wgan", "wgan-gp", 10.0, 5, 2e-4, 0.5), name
    # The baselines' official settings (Isola et al. 2017, Zhu et al. 2017, Liu et al. 2017; config.PRESETS).
    if cfg.preset == "pix2pix":
        assert (cfg.loss, cfg.batch_size, cfg.g_lr, cfg.g_beta1, cfg.l1_weight, cfg.patch_layers, cfg.g_width) == \
            ("nonsat", 1, 2e-4, 0.5, 100.0, 3, 1.0), name
    if cfg.preset == "cyclegan":
        assert (cfg.loss, cfg.batch_size, cfg.g_lr, cfg.g_beta1, cfg.lambda_cycle, cfg.lambda_identity,
                cfg.pool_size, cfg.resnet_blocks, cfg.g_width) == ("lsgan", 1, 2e-4, 0.5, 10.0, 0.5, 50, 6, 1.0), name
    if cfg.preset == "unit":
        assert (cfg.loss, cfg.g_lr, cfg.g_beta1, cfg.unit_weights, cfg.g_width) == \
            ("nonsat", 1e-4, 0.5, "10,0.1,100,0.1,100", 1.0), name


def test_flags_override_experiment_settings(tmp_path_factory):
    base = resolve("scogan_mnist2svhn_slfr", tmp_path_factory)
    assert (base.fr_weight, base.sl_weight, base.iterations, base.loss) == (100.0, 10.0, 25000, "wgan")
    cfg = resolve("scogan_mnist2svhn_slfr", tmp_path_factory, "--fr_weight", "50", "--iterations", "7",
                  "--preset", "dcgan", "--cogan_data", "mnist2svhn")
    assert (cfg.fr_weight, cfg.iterations, cfg.preset, cfg.loss, cfg.disc_iters) == (50.0, 7, "dcgan", "nonsat", 1)
    assert cfg.cogan_data == "mnist2svhn"
    assert cfg.sl_weight == 10.0 and cfg.semantic_loss and cfg.experiment == "scogan_mnist2svhn_slfr"


def test_experiment_runs_and_config_json_records_it(tmp_path):
    """The toy ring needs no data: a named experiment trains end to end and its name is saved."""
    out = tmp_path / "run"
    assert main.main(["--experiment", "gan_toy_wgangp", "--iterations", "2", "--dir", str(out), "--log_interval",
                      "1", "--sample_interval", "2", "--checkpoint_interval", "2", "--no_final_eval"]) == 0
    saved = json.loads((out / "config.json").read_text())
    assert saved["experiment"] == "gan_toy_wgangp"
    assert (saved["iterations"], saved["noise_dim"], saved["batch_size"], saved["disc_iters"]) == (2, 10, 100, 5)


def test_unknown_experiment_is_one_line_exit_2(tmp_path, capsys):
    code = main.main(["--experiment", "scogan_mnist2svhn_slf", "--dir", str(tmp_path / "run")])
    err = capsys.readouterr().err.strip()
    assert code == 2, err
    assert err.startswith("error: ") and "\n" not in err and "scogan_mnist2svhn_slfr" in err, err
    assert not (tmp_path / "run").exists()


def test_list_experiments_prints_every_name(capsys):
    assert main.main(["--list_experiments"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == len(NAMES)
    for name, line in zip(NAMES, lines):
        e = experiments.get(name)
        assert line.split()[0] == name and e.reproduces in line and e.description in line


def test_experiments_md_lists_every_experiment():
    text = (REPO / "EXPERIMENTS.md").read_text(encoding="utf-8")
    for name in NAMES:
        assert f"`python main.py --experiment {name}`" in text, name
        published = experiments.get(name).published or {}
        for value in published.values():
            assert f"{value:.4f}" in text, (name, value)


# ------------------------------------------------------------------------------------------ the networks
_built = {}


def _net_key(cfg):
    return cfg.arch, cfg.shared_layers_g, cfg.shared_layers_d, cfg.d_norm, 1 if cfg.gan_type == "gan" else 2


def _build(cfg):
    """Build (once per distinct architecture / sharing / critic norm) and check the networks."""
    key = _net_key(cfg)
    if key in _built:
        return _built[key]
    import keras
    import nets

    arch, shared_g, shared_d, d_norm, domains = key
    toy = arch == "toy"
    o = nets.NetOptions(channels=2 if toy else 3, noise_dim=cfg.noise_dim, w_init=cfg.w_init, b_init=cfg.b_init,
                        prelu_init=cfg.prelu_init, d_norm=d_norm)
    shape = (2,) if toy else (cfg.image_size, cfg.image_size, 3)
    gens = nets.build_generators(arch, o, domains=domains, shared=shared_g)
    discs = nets.build_discriminators(arch, o, shape, domains=domains, shared=shared_d)
    n_g, n_d = BLOCKS[arch]
    assert nets.num_blocks(arch) == (n_g, n_d)
    assert len(gens) == len(discs) == domains
    for g in gens:
        assert len(g.blocks) == n_g
        image, features = g.call_with_features(keras.ops.zeros((2, cfg.noise_dim)))
        assert tuple(image.shape) == (2,) + shape
        if not toy:
            assert tuple(features[0].shape) == (2, 4, 4, FIRST_MAP_CHANNELS[arch])
    for d in discs:
        assert len(d.blocks) == n_d
        assert tuple(d(keras.ops.zeros((2,) + shape)).shape) == (2, 1)
        kinds = {type(layer).__name__ for block in d.blocks for layer in block.layers}
        if arch in ("cogan128", "cogan256"):   # BatchNorm (Tables A.2/A.4) or LayerNorm for WGAN-GP (sec. 2.5)
            assert ("BatchNormalization" in kinds) == (d_norm == "batch"), kinds
            assert ("LayerNormalization" in kinds) == (d_norm == "layer"), kinds
    if domains == 2:
        (g1, g2), (d1, d2) = gens, discs
        assert [a is b for a, b in zip(g1.blocks, g2.blocks)] == [i < shared_g for i in range(n_g)]
        assert [a is b for a, b in zip(d1.blocks, d2.blocks)] == [i >= n_d - shared_d for i in range(n_d)]
        shared_vars = sum(len(b.trainable_variables) for b in g1.blocks[:shared_g])
        assert len(nets.unique_variables(gens)) == 2 * len(g1.trainable_variables) - shared_vars
        shared_vars = sum(len(b.trainable_variables) for b in d1.blocks[n_d - shared_d:])
        assert len(nets.unique_variables(discs)) == 2 * len(d1.trainable_variables) - shared_vars
    _built[key] = True
    return True


@pytest.mark.parametrize("name", COUPLED)
def test_experiment_builds_its_networks(name, tmp_path_factory):
    assert _build(resolve(name, tmp_path_factory))


# ------------------------------------------------------------------------------------------ the baselines
# The thesis's data families (issue 20 item 8) -> image size: MNIST pairs at 32 px, CelebA and the CycleGAN sets at
# Table 5.3/5.4's 128 px. pix2pix only where the two domains hold pairs of one image (mnist2edge).
FAMILIES = {"mnist2edge": 32, "mnist2svhn_prune": 32, "celeba_Smiling": 128, "apple2orange": 128, "horse2zebra": 128}
# The thesis's run of each family whose iteration count a baseline without an official schedule takes.
THESIS_RUN = {"mnist2edge": "cogan_mnist2edge_table51", "mnist2svhn_prune": "cogan_mnist2svhn_table52",
              "celeba_Smiling": "cogan_celeba_smiling_table53", "apple2orange": "cogan_apple2orange_table54",
              "horse2zebra": "cogan_horse2zebra_table54"}
# Official counts: ResNet-6 generator = the ResNet-9's 11,378,179 less three residual blocks of two 3x3 256->256
# convolutions with bias; the 3-channel 70x70 PatchGAN 2,764,737 (issue 20 item 3).
RESNET6 = 11_378_179 - 3 * 2 * (256 * 256 * 9 + 256)
# pix2pix at 32 px, trainable weights worked by hand from the official nets (ngf = ndf = 64, BatchNorm, so the convs
# next to a norm have no bias). U-Net depth 5: outermost conv 3->64 and deconv 128->3 (+ bias); 64->128 / 256->64;
# 128->256 / 512->128; 256->512 / 1024->256; innermost 512->512 / 512->512 without a down norm; all 4x4; BN 2 x C.
UNET32 = (3 * 64 * 16 + 128 * 3 * 16 + 3 + (64 * 128 + 256 * 64) * 16 + 2 * (128 + 64)
          + (128 * 256 + 512 * 128) * 16 + 2 * (256 + 128) + (256 * 512 + 1024 * 256) * 16 + 2 * (512 + 256)
          + (512 * 512 + 512 * 512) * 16 + 2 * 512)
# PatchGAN on concat(x, y) (6 channels), 3 layers: 6->64 (+ bias), 64->128, 128->256, 256->512 (BN), 512->1 (+ bias).
PATCH6 = 6 * 64 * 16 + 64 + (64 * 128 + 128 * 256 + 256 * 512) * 16 + 2 * (128 + 256 + 512) + 512 * 16 + 1
TRAINABLE = {"pix2pix": {"G": UNET32, "D": PATCH6},
             "cyclegan": {"G_AB": RESNET6, "G_BA": RESNET6, "D_A": 2_764_737, "D_B": 2_764_737}}


def test_baselines_cover_every_family():
    """One experiment per baseline and family; pix2pix only on the paired family, and a pix2pix run on any other
    family is refused with one line (its domains hold different images: the notes' reason)."""
    got = {(experiments.get(n).settings["gan_type"], experiments.get(n).settings["cogan_data"]) for n in BASELINES}
    assert len(got) == len(BASELINES) == 11
    assert got == {("pix2pix", "mnist2edge")} | {(t, d) for t in ("cyclegan", "unit") for d in FAMILIES}
    for name in BASELINES:
        s = experiments.get(name).settings
        assert s["image_size"] == FAMILIES[s["cogan_data"]], name


@pytest.mark.parametrize("data", [d for d in FAMILIES if d != "mnist2edge"])
def test_pix2pix_has_no_pairs_on_the_other_families(data, tmp_path, capsys):
    """Refused by the options (mnist2svhn, CelebA) or, for a CycleGAN set without an A|B folder, by the loader."""
    code = main.main(["--gan_type", "pix2pix", "--cogan_data", data, "--data_dir", str(tmp_path / "data"),
                      "--no_download", "--iterations", "1", "--dir", str(tmp_path / "r")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and err.startswith("error: ") and "\n" not in err and "no paired data" in err, err
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize("name", BASELINES)
def test_baseline_length(name, tmp_path_factory):
    """CycleGAN on its own sets: the official 200 epochs of max(|trainA|, |trainB|) images at batch 1 (tfds
    cycle_gan: horse2zebra 1,067 / 1,334, apple2orange 995 / 1,019); else the thesis's count for the family."""
    cfg = resolve(name, tmp_path_factory)
    official = {("cyclegan", "horse2zebra"): 200 * 1334, ("cyclegan", "apple2orange"): 200 * 1019}
    expected = official.get((cfg.gan_type, cfg.cogan_data),
                            experiments.get(THESIS_RUN[cfg.cogan_data]).settings["iterations"])
    assert cfg.iterations == expected, (name, cfg.iterations, expected)
    assert official[("cyclegan", "horse2zebra")] == 266_800 and official[("cyclegan", "apple2orange")] == 203_800
    # batch 1 but UNIT's digit net (CoVAE32x32: the default batch; COCOResGen: cat2tiger.yaml's batch_size 1)
    digit_unit = cfg.gan_type == "unit" and config.unit_net(cfg.image_size) == "CoVAE32x32"
    assert cfg.batch_size == (config.DEFAULT_BATCH_SIZE if digit_unit else 1), name


_baseline_nets = {}


def _n_weights(weights):
    return int(sum(int(np.prod(w.shape)) for w in weights))


def _baseline_nets_of(cfg):
    """{name: model} as the trainer module builds them at the experiment's size (once per model kind and size)."""
    import importlib
    key = (cfg.gan_type, cfg.image_size)
    if key not in _baseline_nets:
        built = importlib.import_module(f"trainers.{cfg.gan_type}").build_nets(cfg, (cfg.image_size,) * 2 + (3,))
        _baseline_nets[key] = dict(zip(("G", "D"), built)) if isinstance(built, tuple) else built
    return _baseline_nets[key]


def _dry_run_rows(out):
    """{net: parameters} of --dry_run's 'networks' listing."""
    lines = out.split("networks (parameters, trainable and not):\n", 1)[1].splitlines()
    rows = {}
    for line in lines:
        m = re.match(r"  (\S+) +([\d,]+)(?:  |$)", line)
        if not m:
            break
        rows[m[1]] = int(m[2].replace(",", ""))
    return rows


@pytest.mark.parametrize("name", BASELINES)
def test_baseline_builds_its_networks(name, tmp_path, tmp_path_factory, capsys):
    """The trainer's own build_nets at the experiment's image size: images in and out at that size, the official
    (CycleGAN) or hand-worked (pix2pix) trainable counts, UNIT's sharing, and `--experiment NAME --dry_run` prints
    the same count for every net (trainable and not) and UNIT's shared weights counted once."""
    cfg = resolve(name, tmp_path_factory)
    models = _baseline_nets_of(cfg)
    size = cfg.image_size
    for net, count in TRAINABLE.get(cfg.gan_type, {}).items():
        assert _n_weights(models[net].trainable_weights) == count, (name, net)
    if cfg.gan_type == "unit":
        n = config.unit_blocks(size)
        e1, e2, g1, g2 = (models[k] for k in ("E1", "E2", "G1", "G2"))
        assert [a is b for a, b in zip(e1.blocks, e2.blocks)] == [i >= n - cfg.shared_layers_e for i in range(n)]
        assert [a is b for a, b in zip(g1.blocks, g2.blocks)] == [i < cfg.shared_layers_g for i in range(n)]
        own = e2.blocks[:n - cfg.shared_layers_e] + g2.blocks[cfg.shared_layers_g:]   # E2's and G2's unshared
        d1, d2 = models["D1"], models["D2"]   # CoDis32x32 (32 px): D2 holds D1's last blocks; COCODis: nothing shared
        own += [b for b in getattr(d2, "blocks", [d2]) if all(b is not c for c in getattr(d1, "blocks", [d1]))]
        together = sum(_n_weights(models[k].weights) for k in ("E1", "G1", "D1"))
        together += sum(_n_weights(b.weights) for b in own)
        image = models["G1"](models["E1"](np.zeros((1, size, size, 3), "float32")))
        assert tuple(image.shape) == (1, size, size, 3), name
    else:
        generators = [m for k, m in models.items() if k.startswith("G")]
        for g in generators:
            assert tuple(g.input_shape) == tuple(g.output_shape) == (None, size, size, 3), name
    assert main.main(["--experiment", name, "--dry_run", "--dir", str(tmp_path / "run")]) == 0
    rows = _dry_run_rows(capsys.readouterr().out)
    assert {k: rows.get(k) for k in models} == {k: _n_weights(m.weights) for k, m in models.items()}
    # Besides: UNIT's total, and the SVHN-pruning classifier the data needs (sec. 2.7).
    extra = {k for k, on in (("together", cfg.gan_type == "unit"), ("classifier", cfg.cogan_data == "mnist2svhn_prune"))
             if on}
    assert set(rows) - set(models) == extra, (name, rows)
    if cfg.gan_type == "unit":
        assert rows["together"] == together, name
    assert not (tmp_path / "run").exists()


# ------------------------------------------------------------------------------------------ published numbers
@pytest.fixture(scope="module")
def thesis(shared_file):
    return shared_file(THESIS, "thesis text").read_text(encoding="utf-8").splitlines()


def thesis_tables(lines):
    """{'5.2': [[header cells], [row cells], ...]}: the tab-separated lines just above each 'Table X.Y:' caption."""
    tables = {}
    for i, line in enumerate(lines):
        m = re.match(r"\**Table (\d+\.\d+):", line.strip())
        if not m:
            continue
        j = i - 1
        while j >= 0 and not lines[j].strip():
            j -= 1
        block = []
        while j >= 0 and "\t" in lines[j]:
            block.append([c.strip() for c in lines[j].split("\t")])
            j -= 1
        if block:
            tables[m.group(1)] = block[::-1]
    return tables


# The thesis's row names -> our domain number (domain 1 = first name of a pair; CelebA: WITH the attribute).
THESIS_DOMAIN = {"MNIST": 1, "edge": 2, "SVHN": 2, "Smile": 1, "No-smile": 2, "Domain1": 1, "Domain2": 2}


def _domain_of(word, cfg):
    if word in THESIS_DOMAIN:
        return THESIS_DOMAIN[word]
    first, _, second = cfg.cogan_data.partition("2")   # "Real horses" in horse2zebra -> 1
    assert word.startswith(first) != word.startswith(second), (word, cfg.cogan_data)
    return 1 if word.startswith(first) else 2


def _table_numbers(table, column, cfg):
    """Our row keys -> the thesis's numbers, for one column of Tables 5.1-5.4 / 7.1 or a whole 2x2 Table 3.3-3.8."""
    header, rows = table[0], table[1:]
    out = {}
    if header[0] == "Gen./Real":
        for row in rows:
            g = _domain_of(row[0].removeprefix("Gen. "), cfg)
            for cell, value in zip(header[1:], row[1:]):
                out[f"gen{g}_vs_real{_domain_of(cell.removeprefix('Real '), cfg)}"] = float(value)
        return out
    assert header[0] == "Configuration" and column in header, (header, column)
    k = header.index(column)
    for row in rows:
        m = re.fullmatch(r"Gen\. (\S+) vs (Gen\.|Real) (\S+)", row[0])
        assert m, row[0]
        if m.group(2) == "Gen.":
            out["gen1_vs_gen2"] = float(row[k])
        else:
            assert m.group(1) == m.group(3), row[0]
            d = _domain_of(m.group(1), cfg)
            out[f"gen{d}_vs_real{d}"] = float(row[k])
    return out


def test_celeba_domain_1_is_the_attribute():
    """Table 5.3's 'Smile' rows map to our domain 1 because our domain 1 holds the faces WITH the attribute."""
    cfg = config.Config(gan_type="scogan", cogan_data="celeba_Smiling")
    assert evaluation.domain_names(cfg) == ("Smiling", "not Smiling")


@pytest.mark.parametrize("name", [n for n in NAMES if experiments.get(n).published])
def test_published_numbers_match_the_thesis(name, thesis, tmp_path_factory):
    e = experiments.get(name)
    cfg = resolve(name, tmp_path_factory)
    checked = {}
    m = re.match(r"Table (\d+\.\d+)(?:, column ([^\s;]+))?", e.source)
    if m:
        tables = thesis_tables(thesis)
        checked.update(_table_numbers(tables[m.group(1)], m.group(2), cfg))
    m = re.search(r"text \(line (\d+)\)", e.source)
    if m:   # Fig. 3.8: "The calculated average for 4 shared layers is 0.3541 and for 1 shared layer is 0.3423"
        line = thesis[int(m.group(1)) - 1]
        n = cfg.shared_layers_g
        found = re.search(rf"\b{n} shared layers? is (\d\.\d+)", line)
        assert found, line
        checked["gen1_vs_gen2"] = float(found.group(1))
    m = re.search(r"baseline sec\. [\d.]+ \(line (\d+)\)", e.source)
    if m:
        line = thesis[int(m.group(1)) - 1]
        assert "baseline" in line or "base-line" in line, line
        value = f"{e.published['real1_vs_real2']:.4f}"
        assert value in line, (value, line)
        if cfg.cogan_data in line:   # sec. 5.4 gives both CycleGAN baselines in one sentence
            assert re.search(rf"{cfg.cogan_data}\D*{value}", line), line
        checked["real1_vs_real2"] = e.published["real1_vs_real2"]
    assert set(checked) == set(e.published), (set(e.published) ^ set(checked))
    for key, value in e.published.items():
        assert value == checked[key], (name, key, value, checked[key])


# ------------------------------------------------------------------------------------------ notes vs settings
# What a note (or description, or EXPERIMENTS.md row) says about a run, read off its wording: pattern -> the Config
# values the wording asserts. A new note is checked by the same patterns; a clause naming another experiment speaks
# of that run and is skipped.
def _count(s):   # "25k", "25,000", "20.000" (the thesis's thousands separator), "4000"
    return int(s[:-1]) * 1000 if s.endswith("k") else int(re.sub(r"[,.]", "", s))


_DCGAN_ADAM = dict(g_lr=2e-4, d_lr=2e-4, g_beta1=0.5, d_beta1=0.5, g_beta2=0.999, d_beta2=0.999)   # sec. 2.6
_GULRAJANI = dict(g_lr=1e-4, d_lr=1e-4, g_beta1=0.0, d_beta1=0.0, g_beta2=0.9, d_beta2=0.9, d_norm="layer")  # 2.5
CLAIMS = [
    (r"\bXavier\b", dict(w_init="xavier")),
    (r"N\(0, ?0\.02\)", dict(w_init="normal")),
    (r"WGAN-GP|gradient penalty", dict(loss="wgan", disc_penalty="wgan-gp")),
    (r"non-saturating", dict(loss="nonsat", disc_penalty="none")),
    (r"(?:lambda|λ) (\d+)", lambda m: dict(gp_weight=float(m[1]))),
    (r"(\d+) (?:critic|discriminator) (?:steps?|updates|iterations)|\bk (?:= )?(\d+)\b",
     lambda m: dict(disc_iters=int(m[1] or m[2]))),
    (r"DCGAN (?:settings|hyperparameters|optimiser)", _DCGAN_ADAM),
    (r"Gulrajani|settings of sec\. 2\.5", _GULRAJANI),
    (r"LayerNorm|layer normalisation", dict(d_norm="layer")),
    (r"gen_lr = disc_lr = ([\d.e-]+)", lambda m: dict(g_lr=float(m[1]), d_lr=float(m[1]))),
    (r"Adam ([\d.e-]+) \(([\d.]+), ([\d.]+)\)", lambda m: dict(
        g_lr=float(m[1]), d_lr=float(m[1]), g_beta1=float(m[2]), d_beta1=float(m[2]), g_beta2=float(m[3]),
        d_beta2=float(m[3]))),
    (r"(\d+(?:[,.]\d{3})*k?) iterations", lambda m: dict(iterations=_count(m[1]))),
    (r"\bbatch (?:size )?(\d+)", lambda m: dict(batch_size=int(m[1]))),
    (r"\bz(?:_size)? (?:of )?(\d+)", lambda m: dict(noise_dim=int(m[1]))),
    (r"without (?:any )?shared layers|\bunshared\b", dict(shared_layers_g=0, shared_layers_d=0)),
    (r"Tables? 3\.1/3\.2", dict(arch="cogan32")),
    (r"Tables? A\.1/A\.2", dict(arch="cogan128")),
    (r"Tables? A\.3/A\.4", dict(arch="cogan256")),
    (r"alpha_SL (\d+)|\bSL (\d+)\b(?![.\d])", lambda m: dict(semantic_loss=True, sl_weight=float(m[1] or m[2]))),
    (r"alpha_FR (\d+)|\bFR (\d+)\b(?![.\d])",
     lambda m: dict(feature_regulariser=True, fr_weight=float(m[1] or m[2]))),
    (r"alpha_CC (\d+)|\bCC (\d+)\b(?![.\d])",
     lambda m: dict(cycle_consistency=True, cc_weight=float(m[1] or m[2]))),
    (r"\balpha (\d+)\b(?![.\d])", lambda m: dict(coupling_weight=float(m[1]))),   # the one term's weight
    (r"alpha ([\d.]+), beta ([\d.e-]+)",
     lambda m: dict(perceptual_loss=True, pl_content_weight=float(m[1]), pl_style_weight=float(m[2]))),
    (r"\bK (\d)\b|K reduced from \d to (\d)", lambda m: dict(fr_layers=int(m[1] or m[2]))),
    (r"(\d[\d,]*) (?:pairs|samples per set)", lambda m: dict(pairs=int(m[1].replace(",", "")))),
    (r"\bData: (\w+)", lambda m: dict(cogan_data=m[1])),
    (r"[Ww]eight decay: none|none is set", dict(weight_decay=0.0)),
    # The translation baselines (issue 20 item 8).
    (r"(\d+) px\b", lambda m: dict(image_size=int(m[1]))),
    (r"(\d+) ResNet blocks", lambda m: dict(resnet_blocks=int(m[1]))),
    (r"cycle weight (\d+(?:\.\d+)?)", lambda m: dict(lambda_cycle=float(m[1]))),
    (r"identity weight (\d+(?:\.\d+)?)", lambda m: dict(lambda_identity=float(m[1]))),
    (r"pool of (\d+)", lambda m: dict(pool_size=int(m[1]))),
    (r"L1 weight (\d+(?:\.\d+)?)", lambda m: dict(l1_weight=float(m[1]))),
    (r"direction (AtoB|BtoA)", lambda m: dict(direction=m[1])),
    (r"UNIT weights (\d+(?:\.\d+)?(?:,\d+(?:\.\d+)?){4})", lambda m: dict(unit_weights=m[1])),
    (r"\b(pix2pix|cyclegan|unit) preset\b", lambda m: dict(preset=m[1])),
]


# Where a note quotes the text's value and says the run reads it otherwise: (experiment, key) -> the note's words
# that say so. An entry must be needed (the literal claim differs from the run) and its words present.
READ_OTHERWISE = {
    ("gan_toy_k1", "iterations"): r"the text's iterations read as that code's epochs",
}


def claims(text, skip_names=()):
    """{Config key: {values}} that `text` asserts (several values for one key: the text contradicts itself).
    Skipped: 'quoted' thesis words, clauses naming another experiment or giving a `--flag` (another run)."""
    out = {}
    text = re.sub(r"(?<!\w)'[^']+?'(?!\w)", "", " ".join(text.split()))
    for clause in re.split(r"(?<=[.;])\s+(?=[A-Z(])|;\s+", text):
        if "`--" in clause or any(re.search(rf"\b{re.escape(n)}\b", clause) for n in skip_names):
            continue
        for pattern, values in CLAIMS:
            for m in re.finditer(pattern, clause):
                for k, v in (values(m) if callable(values) else values).items():
                    out.setdefault(k, set()).add(v)
    return out


def effective(cfg, key):
    """The resolved value a claim is compared with: pairs as --evaluate counts them; a bare alpha is the weight of
    the run's one coupling term."""
    if key == "pairs":
        return cfg.eval_pairs or evaluation.default_num_pairs(cfg)[0]
    if key == "coupling_weight":
        on = [w for flag, w in (("feature_regulariser", cfg.fr_weight), ("semantic_loss", cfg.sl_weight),
                                ("cycle_consistency", cfg.cc_weight)) if getattr(cfg, flag)]
        return on[0] if len(on) == 1 else f"ambiguous: {len(on)} coupling terms"
    return getattr(cfg, key)


def _contradictions(found, cfg, name):
    bad = {k: (sorted(v, key=str), effective(cfg, k)) for k, v in found.items()
           if len(v) > 1 or next(iter(v)) != effective(cfg, k)}
    return {k: v for k, v in bad.items() if (name, k) not in READ_OTHERWISE}


def test_claim_patterns():
    assert claims("No initialisation is stated: the default Xavier.") == {"w_init": {"xavier"}}
    assert claims("N(0, 0.02) weights") == {"w_init": {"normal"}}
    assert claims("(WGAN-GP Gulrajani, N(0,0.02))")["w_init"] == {"normal"}
    for text, n in (("25k iterations", 25000), ("25,000 iterations", 25000), ("20.000 iterations", 20000),
                    ("4000 iterations", 4000)):
        assert claims(text) == {"iterations": {n}}, text
    assert claims("WGAN-GP lambda 10, 5 critic steps") == {"loss": {"wgan"}, "disc_penalty": {"wgan-gp"},
                                                          "gp_weight": {10.0}, "disc_iters": {5}}
    assert claims("PL weights alpha 0.001, beta 1e-11; line 988 writes beta 1e-13") == {
        "perceptual_loss": {True}, "pl_content_weight": {0.001}, "pl_style_weight": {1e-11}}
    assert claims("alpha_SL 10, alpha_FR 100, K 3") == {"semantic_loss": {True}, "sl_weight": {10.0},
                                                       "feature_regulariser": {True}, "fr_weight": {100.0},
                                                       "fr_layers": {3}}
    assert claims("Table 5.1, column FR 0.1227") == {}   # a published number is no weight
    # A clause naming another run speaks of it; the rest of the note still counts.
    assert claims("Chapter 4 ran 4000 iterations (cogan_x). Here 20000 iterations.", ["cogan_x"]) == \
        {"iterations": {20000}}
    assert claims("1000 samples per set, batch 100, z_size 10") == {"pairs": {1000}, "batch_size": {100},
                                                                   "noise_dim": {10}}
    assert claims("Weight decay: none is set") == {"weight_decay": {0.0}}
    # The text's words quoted, and a flag for another run, are no claims about this run.
    assert claims("learned 'after 3000 iterations', so 3000 epochs; the authors' 20k iterations") == \
        {"iterations": {20000}}
    assert claims("The text names Adam 1e-4 (0, 0.9): add `--g_beta1 0`. WGAN-GP.") == \
        {"loss": {"wgan"}, "disc_penalty": {"wgan-gp"}}
    assert claims("the cyclegan preset: cycle weight 10, identity weight 0.5, pool of 50, 6 ResNet blocks at 128 px.") \
        == {"preset": {"cyclegan"}, "lambda_cycle": {10.0}, "lambda_identity": {0.5}, "pool_size": {50},
            "resnet_blocks": {6}, "image_size": {128}}
    assert claims("direction AtoB, L1 weight 100; the paper's UNIT weights 10,0.1,100,0.1,100.") == \
        {"direction": {"AtoB"}, "l1_weight": {100.0}, "unit_weights": {"10,0.1,100,0.1,100"}}


@pytest.mark.parametrize("name", NAMES)
def test_notes_match_the_resolved_settings(name, tmp_path_factory):
    """Every setting a note or description names (initialiser, loss, optimiser, iterations, batch, z, sharing,
    architecture, coupling weights, K, pairs, data, weight decay) is what the experiment resolves to."""
    e = experiments.get(name)
    found = claims(e.notes + " " + e.description, [n for n in NAMES if n != name])
    assert found, f"{name}: its note names no setting the patterns know"
    cfg = resolve(name, tmp_path_factory)
    assert not _contradictions(found, cfg, name), _contradictions(found, cfg, name)
    for (n, key), words in READ_OTHERWISE.items():
        if n == name:
            assert re.search(words, " ".join(e.notes.split())), (name, key, "the note no longer says so")
            assert next(iter(found[key])) != effective(cfg, key), (name, key, "no longer needed")


def _md_sections():
    """[(prose, {name: row cells}, header cells)] of EXPERIMENTS.md's sections that list experiments."""
    text = (REPO / "EXPERIMENTS.md").read_text(encoding="utf-8")
    out = []
    for section in re.split(r"\n(?=## )", text):
        prose, rows, header = [], {}, []
        for line in section.splitlines()[1:]:
            m = re.match(r"\| `(\w+)` \|", line)
            if line.startswith("| experiment |"):
                header = [c.strip() for c in line.strip().strip("|").split("|")]
            elif m:
                rows[m[1]] = [c.strip() for c in line.strip().strip("|").split("|")]
            elif not line.startswith("|"):
                prose.append(line)
        if rows:
            out.append((" ".join(prose), rows, header))
    return out


def test_experiments_md_matches_the_resolved_settings(tmp_path_factory):
    """Each row of EXPERIMENTS.md (its text and pairs column) states its run's settings; a setting the prose of a
    section names must be that of at least one of the section's runs (prose speaks of several runs at once)."""
    sections = _md_sections()
    assert sum(len(rows) for _, rows, _ in sections) == len(NAMES)
    for prose, rows, header in sections:
        for name, cells in rows.items():
            cfg = resolve(name, tmp_path_factory)
            found = claims(" ".join(cells), [n for n in NAMES if n != name])
            if "pairs" in header and cells[header.index("pairs")] not in ("–", "-"):
                found.setdefault("pairs", set()).add(int(cells[header.index("pairs")].replace(",", "")))
            assert not _contradictions(found, cfg, name), (name, _contradictions(found, cfg, name))
        for key, values in claims(prose).items():
            for v in values:
                held = [n for n in rows if effective(resolve(n, tmp_path_factory), key) == v
                        or (n, key) in READ_OTHERWISE]
                assert held, f"EXPERIMENTS.md says {key} = {v!r} in a section where no run has it: {sorted(rows)}"


def test_ch3_cyclegan_runs_use_the_dcgan_initialisation(thesis, tmp_path_factory):
    """Secs. 3.3.1/3.3.2 train 'using DCGAN hyperparameters' (lines 733, 758); sec. 2.6's list of them includes a
    zero-mean normal initialisation (line 511); the WGAN-GP runs (line 778) change loss and optimiser only."""
    assert "DCGAN hyperparameters" in thesis[733 - 1] and "DCGAN hyperparameter" in thesis[758 - 1]
    assert re.search(r"all weights should be initialised from a normal distribution .* mean 0", thesis[511 - 1])
    assert "WGAN-GP hyperparameter settings" in thesis[778 - 1] and "initiali" not in thesis[486 - 1]
    for data in ("horse2zebra", "apple2orange"):
        for suffix in ("256", "128", "128_wgangp"):
            name = f"cogan_{data}_{suffix}"
            assert experiments.get(name).settings["w_init"] == "normal", name   # not left to the data's defaults
            assert resolve(name, tmp_path_factory).w_init == "normal", name


# ------------------------------------------------------------------------------------------ weight decay docs
WD_STATEMENT = re.compile(r"`--weight_decay r` adds .*? \(0\.001 and 0\.0002\)\.")


def _wd_statement(text):
    found = WD_STATEMENT.findall(" ".join(text.split()))
    assert len(found) == 1, found
    return found[0]


def test_weight_decay_is_stated_once_the_same_way():
    """README, EXPERIMENTS.md and optimisers.weight_decay say the same thing about the flag and the text; the help
    string gives the same mapping in short. (tests/test_penalties.py checks the code: gradient r * w.)"""
    import ast
    tree = ast.parse((REPO / "optimisers.py").read_text(encoding="utf-8"))
    doc = next(ast.get_docstring(f) for f in tree.body if isinstance(f, ast.FunctionDef) and f.name == "weight_decay")
    statement = _wd_statement(doc)
    for doc_file in ("README.md", "EXPERIMENTS.md"):
        assert _wd_statement((REPO / doc_file).read_text(encoding="utf-8")) == statement, doc_file
    assert "`r * w` to each kernel's gradient" in statement and "`--weight_decay 2c`" in statement
    field = next(f for f in dataclasses.fields(config.Config) if f.name == "weight_decay")
    help_text = " ".join(field.metadata["help"].split())
    for part in ("r*w to each kernel's gradient", "0.0005, sec. 5.1", "0.0001", "c*sum(w^2) (line 701)", "is 2c"):
        assert part in help_text, part


def test_weight_decay_notes_match_the_thesis(thesis):
    """Each note's rate is the one the thesis line it cites states; the formula is at line 701 with c at 708."""
    assert r"c \sum_{i=0}^{l} w_i^2" in thesis[701 - 1] and "c=0.0001" in thesis[708 - 1]
    statement = _wd_statement((REPO / "README.md").read_text(encoding="utf-8"))
    for rate, line in (("0.0005", 996), ("0.0001", 708), ("0.0001", 1103)):
        assert f"line {line}" in statement or f"lines {line}" in statement, line
        assert rate in thesis[line - 1], (rate, line)
    checked = 0
    for e in experiments.EXPERIMENTS.values():
        m = re.search(r"decay rate ([\d.]+) \(([^)]*)\) is `--weight_decay ([\d.]+)`.*?with c = ([\d.]+), is "
                      r"`--weight_decay ([\d.]+)`", e.notes)
        if not m:
            assert "weight_decay" not in e.notes, e.name   # every mention has the one form
            continue
        rate, where, flag, c, literal = m.groups()
        cited = int(re.findall(r"\d{3,4}", where)[-1])   # the line that states the rate
        assert rate in thesis[cited - 1], (e.name, rate, cited)
        assert rate == flag == c and float(literal) == 2 * float(rate), e.name
        checked += 1
    assert checked == 25   # secs. 5.1-5.4 (22 entries) and the CoGAN CelebA runs of sec. 3.3 (3)
