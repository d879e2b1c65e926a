"""The named thesis experiments (experiments.py): every one resolves to a valid config without touching data,
flags override its settings, bad names fail in one line, --list_experiments lists them all, each one's networks
build with the right sharing, and every published number matches the thesis's text (when it is beside the
checkout)."""
import dataclasses
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

import config
import evaluation
import experiments
import main

REPO = Path(__file__).resolve().parents[1]
THESIS = REPO.parent / "shared" / "reference" / "scogan-thesis-2020.txt"
NAMES = list(experiments.EXPERIMENTS)
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
    if cfg.preset == "wgan-gp":   # Gulrajani et al. (thesis sec. 2.5)
        assert (cfg.loss, cfg.disc_penalty, cfg.disc_iters, cfg.g_lr, cfg.d_beta1, cfg.d_beta2, cfg.d_norm) == \
            ("wgan", "wgan-gp", 5, 1e-4, 0.0, 0.9, "layer"), name
    if cfg.preset == "dcgan":
        assert (cfg.loss, cfg.disc_penalty, cfg.disc_iters, cfg.g_lr, cfg.g_beta1) == ("nonsat", "none", 1, 2e-4, 0.5)
    if cfg.preset == "thesis":
        assert (cfg.loss, cfg.disc_penalty, cfg.gp_weight, cfg.disc_iters, cfg.g_lr, cfg.g_beta1) == \
            ("wgan", "wgan-gp", 10.0, 5, 2e-4, 0.5), name


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


@pytest.mark.parametrize("name", NAMES)
def test_experiment_builds_its_networks(name, tmp_path_factory):
    assert _build(resolve(name, tmp_path_factory))


# ------------------------------------------------------------------------------------------ published numbers
@pytest.fixture(scope="module")
def thesis():
    if not THESIS.is_file():
        pytest.skip(f"thesis text not found at {THESIS} (only present beside the project checkout)")
    return THESIS.read_text(encoding="utf-8").splitlines()


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
