"""`--evaluate` on translation runs (issue 20 item 5; translation_eval.py): every row, the cycle error, pixel and
class agreement against NumPy on the real held-out pairs with known translators; the ground-truth ceiling a coupled
run gains (the same number as a translation run's); the CLI on a 2-step pix2pix run (its translators: the saved G in
inference mode); `--report` with both kinds in one table."""
import json

import keras
import numpy as np
import pytest
import tensorflow as tf

import classifiers
import data
import evaluation
import main
import metrics
import sampling
from config import Config
from trainers import pix2pix
from trainers.pix2pix import Pix2PixTrainer

TINY = ["--gan_type", "pix2pix", "--cogan_data", "digits2edge", "--g_width", "0.25", "--patch_layers", "1",
        "--batch_size", "4"]
HELD_OUT = 180   # digits2*: the fixed 10 % of scikit-learn's 1,797 digits (data.load_paired's docstring)


def _sq(x, y):
    return np.mean((np.asarray(x, np.float64) - np.asarray(y, np.float64)) ** 2, axis=(1, 2, 3))


class SquaredDifferenceLPIPS:
    """A stand-in for metrics.LPIPS (no weights needed): per pair, the mean squared pixel difference."""
    net = "squared-difference (test)"

    def __init__(self, *a, **k):
        pass

    def __call__(self, x, y):
        return _sq(x, y)


def held_out(direction="AtoB"):
    """Every held-out pair of digits2edge as NumPy (x, y), in the split's fixed order."""
    ds, info = data.load_paired("digits2edge", batch_size=1000, seed=0, split="test", direction=direction)
    x, y = next(iter(ds))
    assert info.sizes[0] == len(x) == HELD_OUT
    return x.numpy(), y.numpy()


def np_f(x):   # the known translators: G_12 and G_21 of the fake runs
    return np.clip(0.5 * x + 0.25, -1.0, 1.0)


def np_g(y):   # the odd offset keeps pixel differences off the agreement threshold's edge (float32 vs float64)
    return -0.8 * y + 0.0137


def fake_translators(seen=None):
    def translators(cfg, shape, models_dir):
        if seen is not None:
            seen.update(shape=tuple(shape), models_dir=models_dir)
        return {(1, 2): lambda x: tf.clip_by_value(0.5 * x + 0.25, -1.0, 1.0), (2, 1): lambda y: -0.8 * y + 0.0137}
    return staticmethod(translators)


def fake_translation_run(path, direction="AtoB", step=7, gan_type="pix2pix"):
    """A translation run folder (pix2pix unless said) holding only config.json and a checkpoint name (its step): the
    translators are patched."""
    path.mkdir(parents=True)
    Config(gan_type=gan_type, cogan_data="digits2edge", image_size=32, direction=direction).save(path / "config.json")
    (path / "checkpoints").mkdir()
    (path / "checkpoints" / f"ckpt-{step}.index").write_bytes(b"")
    return path


def _stub_classifier(seed=0, classes=10, bias=None, w=None):
    """global average pool -> dense: logits = mean colour @ W + bias (NumPy recomputes them)."""
    w = np.random.default_rng(seed).normal(size=(3, classes)).astype(np.float32) if w is None else w
    bias = np.zeros(w.shape[1], np.float32) if bias is None else bias
    inp = keras.Input((32, 32, 3))
    out = keras.layers.Dense(w.shape[1], name="logits")(keras.layers.GlobalAveragePooling2D()(inp))
    model = keras.Model(inp, out)
    model.layers[-1].set_weights([np.asarray(w, np.float32), np.asarray(bias, np.float32)])
    return model, w, bias


# Three classes by the image's mean level m: m < -0.31, -0.31 <= m <= 0.15, m > 0.15 (logits -10m - 3.1, 0,
# 10m - 1.5), so that the digits, their edges and the known translations fall in different classes (a zero-bias
# stub's class follows the sign of m only, and every translation here has the opposite sign of its input). The 20
# first held-out pairs and their translations keep m >= 0.004 from both bounds: float32 logits decide as NumPy's.
BAND_W, BAND_B = np.tile([[-10.0, 0.0, 10.0]], (3, 1)) / 3, np.array([-3.1, 0.0, -1.5])


def _gray(x):
    return np.clip((np.asarray(x, np.float64).mean(axis=-1) + 1) / 2, 0, 1)


def _summary(v):
    v = np.asarray(v, np.float64)
    return v.mean(), v.std(ddof=1) / np.sqrt(v.size)


def _check(stat, values, what):
    mean, se = _summary(values)
    assert stat["n"] == len(values), what
    assert stat["mean"] == pytest.approx(mean, rel=1e-5, abs=1e-7), what
    assert stat["se"] == pytest.approx(se, rel=1e-4, abs=1e-7), what


# ---------------------------------------------------------------------------------------------- every row
@pytest.mark.parametrize("direction", ["AtoB", "BtoA"])
def test_every_measure_against_numpy_with_known_translators(direction, tmp_path, monkeypatch):
    """G_12 = clip(0.5 x + 0.25), G_21 = -0.8 y + 0.0137 on the 180 held-out pairs in batches of 64 (the last one 52):
    each LPIPS row, the cycle errors, pixel and class agreement recomputed in NumPy from the pairs and their
    unpaired partners (pair i + 90 mod 180). Domain 1 is the input side of --direction."""
    run = fake_translation_run(tmp_path / "run", direction)
    seen = {}
    monkeypatch.setattr(Pix2PixTrainer, "translators", fake_translators(seen))
    model, w, _ = _stub_classifier()
    clf = classifiers.save_classifier(model, tmp_path / "clf", multilabel=False)
    r = evaluation.evaluate(run, batch_size=64, lpips=SquaredDifferenceLPIPS(), eval_classifier=clf)
    assert seen == {"shape": (32, 32, 3), "models_dir": run / "models"}
    assert (r["kind"], r["step"], r["pairs"], r["directions"]) == ("translation", 7, HELD_OUT, ["1_to_2", "2_to_1"])
    assert "held-out" in r["pairs_source"]
    names = ("digits", "digits edge") if direction == "AtoB" else ("digits edge", "digits")
    assert tuple(r["domains"]) == names

    x, y = held_out(direction)   # domain 1, domain 2
    ox, oy = np.roll(x, -HELD_OUT // 2, axis=0), np.roll(y, -HELD_OUT // 2, axis=0)
    t2, t1 = np_f(x), np_g(y)
    sets = {"real1": x, "real2": y, "other1": ox, "other2": oy, "trans2": t2, "trans1": t1}
    rows = {"real1_vs_trans2": ("real1", "trans2"), "trans2_vs_real2": ("trans2", "other2"),
            "trans2_vs_truth2": ("trans2", "real2"), "real2_vs_trans1": ("real2", "trans1"),
            "trans1_vs_real1": ("trans1", "other1"), "trans1_vs_truth1": ("trans1", "real1"),
            "real1_vs_real2": ("real1", "other2"), "real1_vs_truth2": ("real1", "real2")}
    got = r["lpips"]["rows"]
    assert list(got) == list(rows)
    for key, (a, b) in rows.items():
        _check(got[key], _sq(sets[a], sets[b]), key)
        for other in rows.values():   # any other pairing of the sets gives a clearly different number
            if set(other) != {a, b}:
                assert abs(_sq(sets[other[0]], sets[other[1]]).mean() - got[key]["mean"]) > 1e-3, (key, other)
    assert got["real1_vs_trans2"]["label"] == f"Real {names[0]} vs Translated {names[1]} (x vs G_12(x))"
    assert got["real1_vs_truth2"]["label"] == f"Real {names[0]} vs its pair in {names[1]} (ground-truth ceiling)"

    cycle = r["cycle"]["rows"]
    _check(cycle["1_2_1"], np.abs(np_g(t2) - x).mean(axis=(1, 2, 3)), "cycle 1")
    _check(cycle["2_1_2"], np.abs(np_f(t1) - y).mean(axis=(1, 2, 3)), "cycle 2")

    pa = r["pixel_agreement"]["directions"]
    for d, truth, trans, other in (("1_to_2", y, t2, oy), ("2_to_1", x, t1, ox)):
        for who, img in (("translated", trans), ("real_unpaired", other)):
            diff = np.abs(_gray(truth) - _gray(img))
            _check(pa[d][who]["mean_abs_diff"], diff.mean(axis=(1, 2)), (d, who))
            _check(pa[d][who]["agreement"], (diff <= 0.1).mean(axis=(1, 2)), (d, who))

    ca = r["class_agreement"]["directions"]
    cls = (lambda im: np.argmax(np.asarray(im, np.float64).mean(axis=(1, 2)) @ w, axis=1))  # noqa: E731
    for d, src, trans, other in (("1_to_2", x, t2, oy), ("2_to_1", y, t1, ox)):
        _check(ca[d]["translated"], (cls(src) == cls(trans)).astype(float), (d, "class"))
        _check(ca[d]["real_unpaired"], (cls(src) == cls(other)).astype(float), (d, "class chance"))

    assert json.loads((run / "metrics.json").read_text())["lpips"]["rows"] == got
    md = (run / "metrics.md").read_text()
    assert all(row["label"] in md for row in got.values()) and "## Cycle reconstruction" in md
    line = evaluation.read_history(run)[-1]
    assert line["step"] == 7 and line["cycle"]["rows"]["1_2_1"] == cycle["1_2_1"]["mean"]


def test_num_counts_pairs_and_is_capped_at_the_held_out_split(tmp_path, monkeypatch):
    run = fake_translation_run(tmp_path / "run")
    monkeypatch.setattr(Pix2PixTrainer, "translators", fake_translators())
    x, y = held_out()
    r = evaluation.evaluate(run, num=10, batch_size=4, lpips=SquaredDifferenceLPIPS())
    assert r["pairs"] == 10 and r["pairs_source"] == "--num"
    _check(r["lpips"]["rows"]["trans2_vs_truth2"], _sq(np_f(x[:10]), y[:10]), "first 10 pairs")
    # the unpaired partners still come from half the split away, not from the first 10
    _check(r["lpips"]["rows"]["real1_vs_real2"], _sq(x[:10], y[90:100]), "baseline")
    big = evaluation.evaluate(run, num=5000, lpips=SquaredDifferenceLPIPS())
    assert big["pairs"] == HELD_OUT and any("capped at 180" in n for n in big["notes"])


def test_unpaired_data_scores_against_load_pairs_two_domains(tmp_path, monkeypatch):
    """Without pairs (CycleGAN / UNIT on mnist2svhn, horse2zebra...): x from load_pair's domain 1, the unpaired reals
    from its domain 2 (and the reverse), no ground-truth rows, pixel agreement skipped; N from the thesis's count,
    capped at the smaller domain."""
    import translation_eval
    run = fake_translation_run(tmp_path / "run")
    monkeypatch.setattr(Pix2PixTrainer, "translators", fake_translators())
    monkeypatch.setattr(translation_eval, "paired_source", lambda cfg: False)
    r = evaluation.evaluate(run, num=20, batch_size=20, lpips=SquaredDifferenceLPIPS())
    cfg = Config.load(run / "config.json")
    a, b, info = data.load_pair("digits2edge", image_size=32, batch_size=20, seed=evaluation.EVAL_SEED,
                                download=False)
    a, b = next(iter(a)).numpy(), next(iter(b)).numpy()
    rows = {"real1_vs_trans2": (a, np_f(a)), "trans2_vs_real2": (np_f(a), b), "real2_vs_trans1": (b, np_g(b)),
            "trans1_vs_real1": (np_g(b), a), "real1_vs_real2": (a, b)}
    assert list(r["lpips"]["rows"]) == list(rows)
    for key, (x, y) in rows.items():
        _check(r["lpips"]["rows"][key], _sq(x, y), key)
    assert "skipped" in r["pixel_agreement"]
    assert r["source"] == "unpaired real images (data.load_pair: the training domains)"   # not "held-out"
    assert r["real_images_available"] == list(info.sizes)
    big = evaluation.evaluate(run, batch_size=256, lpips=SquaredDifferenceLPIPS())
    assert big["pairs"] == min(info.sizes) and cfg.cogan_data == "digits2edge"   # 30,000 capped


def test_paired_folder_scores_against_its_held_out_pairs_in_direction_order(tmp_path, monkeypatch):
    """--paired_dir with --direction BtoA: domain 1 is the right halves (B), the truth the left ones; no pixel
    agreement (no known transform), the ground-truth rows from the folder's test/ pairs."""
    from PIL import Image
    rng = np.random.default_rng(3)
    for split, n in (("train", 2), ("test", 6)):
        (tmp_path / "pairs" / split).mkdir(parents=True)
        for i in range(n):
            Image.fromarray(rng.integers(0, 256, (32, 64, 3), dtype=np.uint8)).save(tmp_path / "pairs" / split /
                                                                                 f"{i}.png")
    run = tmp_path / "run"
    run.mkdir()
    Config(gan_type="pix2pix", paired_dir=str(tmp_path / "pairs"), image_size=32, direction="BtoA").save(
        run / "config.json")
    monkeypatch.setattr(Pix2PixTrainer, "translators", fake_translators())
    r = evaluation.evaluate(run, batch_size=4, lpips=SquaredDifferenceLPIPS())
    ds, _ = data.load_paired(None, folder=str(tmp_path / "pairs"), batch_size=6, seed=0, split="test",
                             direction="BtoA")
    x, y = (v.numpy() for v in next(iter(ds)))
    assert np.abs(x[:, :, :, 0] - (np.asarray(Image.open(tmp_path / "pairs" / "test" / "0.png"))[:, 32:, 0] / 127.5
                                   - 1)[None]).min() < 0.02   # x is B, the right half
    assert tuple(r["domains"]) == ("B", "A") and r["pairs"] == 6
    _check(r["lpips"]["rows"]["trans2_vs_truth2"], _sq(np_f(x), y), "G_12(x) vs its pair")
    _check(r["lpips"]["rows"]["real1_vs_real2"], _sq(x, np.roll(y, -3, axis=0)), "baseline")
    assert "skipped" in r["pixel_agreement"]
    assert "## Pixel agreement" in (run / "metrics.md").read_text()


# ---------------------------------------------------------------------------------------------- the coupled table
def fake_coupled_run(path, monkeypatch, n=10):
    """A CoGAN run on digits2edge with known generated and real images (as test_evaluation's 2x2 test)."""
    path.mkdir(parents=True)
    Config(gan_type="cogan", cogan_data="digits2edge").save(path / "config.json")
    rng = np.random.default_rng(5)
    sets = {k: np.clip(level + rng.normal(0, 0.05, (n, 32, 32, 3)), -1, 1).astype(np.float32)
            for k, level in (("gen1", 0.1), ("gen2", 0.3), ("real1", -0.2), ("real2", 0.7))}

    class G:
        input_spec_shape = (100,)

    monkeypatch.setattr(sampling, "load_run", lambda d, step=None: sampling.LoadedRun(
        Config.load(path / "config.json"), [G(), G()], 3))
    monkeypatch.setattr(evaluation, "pair_generator", lambda gens: (
        lambda z: [tf.constant(sets["gen1"][:int(z.shape[0])]), tf.constant(sets["gen2"][:int(z.shape[0])])]))
    monkeypatch.setattr(evaluation, "real_images", lambda cfg, b: (
        iter([tf.constant(sets["real1"])] * 4), iter([tf.constant(sets["real2"])] * 4), (n, n)))
    return path


def test_coupled_run_gains_the_ceiling_of_the_same_held_out_pairs(tmp_path, monkeypatch):
    """A coupled run's ground_truth_ceiling = LPIPS(x, edge(x)) over the first N held-out pairs, the number a
    translation run scored on the same N has in its ceiling row."""
    coupled = fake_coupled_run(tmp_path / "cogan", monkeypatch)
    r = evaluation.evaluate(coupled, num=10, batch_size=10, lpips=SquaredDifferenceLPIPS(), fid=False)
    x, y = held_out()
    c = r["ground_truth_ceiling"]
    _check(c, _sq(x[:10], y[:10]), "ceiling")
    assert c["label"] == "Real digits vs transform(Real digits) (held-out pairs; ground-truth ceiling)"
    assert list(r["lpips"]["rows"])[:4] == [k for k, _ in evaluation.LPIPS_ROWS]   # the thesis's table unchanged
    assert "## Ground-truth ceiling (LPIPS)" in (coupled / "metrics.md").read_text()
    assert evaluation.read_history(coupled)[-1]["ground_truth_ceiling"] == c["mean"]

    monkeypatch.setattr(Pix2PixTrainer, "translators", fake_translators())
    trans = evaluation.evaluate(fake_translation_run(tmp_path / "p2p"), num=10, batch_size=4,
                                lpips=SquaredDifferenceLPIPS())
    assert trans["lpips"]["rows"]["real1_vs_truth2"]["mean"] == pytest.approx(c["mean"], rel=1e-12)


# ---------------------------------------------------------------------------------------------- the CLI
@pytest.fixture(scope="module")
def cli_run(tmp_path_factory):
    d = tmp_path_factory.mktemp("p2p_eval") / "run"
    assert main.main([str(a) for a in TINY + ["--iterations", 2, "--dir", d]]) == 0
    return d


def test_evaluate_cli_scores_the_saved_generator_in_inference_mode(cli_run, monkeypatch, capsys):
    monkeypatch.setattr(metrics, "LPIPS", SquaredDifferenceLPIPS)
    capsys.readouterr()
    assert main.main(["--evaluate", str(cli_run), "--num", "16", "--batch_size", "8"]) == 0
    out = capsys.readouterr().out
    r = json.loads((cli_run / "metrics.json").read_text())
    assert (r["step"], r["pairs"], r["gan_type"], r["directions"]) == (2, 16, "pix2pix", ["1_to_2"])
    assert list(r["lpips"]["rows"]) == ["real1_vs_trans2", "trans2_vs_real2", "trans2_vs_truth2", "real1_vs_real2",
                                        "real1_vs_truth2"]
    assert "skipped" in r["cycle"] and "Real digits vs Translated digits edge" in out
    # G rebuilt from the config and models/G.weights.h5, called with training=False (no dropout)
    cfg = Config.load(cli_run / "config.json")
    g, _ = pix2pix.build_nets(cfg, (32, 32, 3))
    g.load_weights(str(cli_run / "models" / "G.weights.h5"))
    x, y = (a[:16] for a in held_out())
    fake = g(x, training=False).numpy()
    _check(r["lpips"]["rows"]["real1_vs_trans2"], _sq(x, fake), "x vs G(x)")
    _check(r["lpips"]["rows"]["trans2_vs_truth2"], _sq(fake, y), "G(x) vs edge(x)")
    dropout = g(x, training=True).numpy()
    assert abs(_sq(dropout, y).mean() - r["lpips"]["rows"]["trans2_vs_truth2"]["mean"]) > 1e-4
    assert evaluation.read_history(cli_run)[-1]["step"] == 2


@pytest.mark.parametrize("argv,says", [
    (["--sample", "{run}", "--num", "2", "--out", "x.npz"], "--evaluate RUN"),
    (["--evaluate", "{run}", "--step", "1"], "--step 1"),
])
def test_what_a_pix2pix_run_refuses_is_one_line(cli_run, argv, says, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(metrics, "LPIPS", SquaredDifferenceLPIPS)
    capsys.readouterr()
    assert main.main([a.format(run=cli_run) for a in argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and says in err, err
    assert not (tmp_path / "x.npz").exists()


# ---------------------------------------------------------------------------------------------- --report
def test_report_puts_both_kinds_in_one_table(tmp_path, monkeypatch, capsys):
    """The defaults' case: a coupled run on more pairs than the held-out split (its ceiling capped at the split's
    HELD_OUT), a translation run on the whole split: other pair counts, the same ceiling."""
    coupled = fake_coupled_run(tmp_path / "cogan", monkeypatch, n=HELD_OUT + 20)
    c = evaluation.evaluate(coupled, num=HELD_OUT + 20, batch_size=HELD_OUT + 20, lpips=SquaredDifferenceLPIPS(),
                            fid=False)
    assert (c["pairs"], c["ground_truth_ceiling"]["n"]) == (HELD_OUT + 20, HELD_OUT)
    monkeypatch.setattr(Pix2PixTrainer, "translators", fake_translators())
    t = evaluation.evaluate(fake_translation_run(tmp_path / "p2p"), batch_size=64, lpips=SquaredDifferenceLPIPS())
    assert t["pairs"] == HELD_OUT
    capsys.readouterr()
    assert main.main(["--report", str(coupled), str(tmp_path / "p2p")]) == 0   # other pair counts: other kinds
    out = capsys.readouterr().out
    table = {line.split(" | ")[0][2:]: line.strip(" |").split(" | ")[1:] for line in out.splitlines()
             if line.startswith("| ")}
    assert table["measure"] == ["cogan", "p2p"]
    fmt = (lambda s: f"{s['mean']:.4f} ± {s['se']:.4f}")  # noqa: E731
    lp_c, lp_t = c["lpips"]["rows"], t["lpips"]["rows"]
    assert table["LPIPS Gen. digits vs Gen. digits edge (same z)"] == [fmt(lp_c["gen1_vs_gen2"]), "—"]
    assert table["LPIPS Real digits vs Translated digits edge (x vs G_12(x))"] == ["—", fmt(lp_t["real1_vs_trans2"])]
    assert table["LPIPS Real digits vs Real digits edge (unpaired baseline)"] == [
        fmt(lp_c["real1_vs_real2"]), fmt(lp_t["real1_vs_real2"])]
    assert table["LPIPS Real digits vs its pair in digits edge (ground-truth ceiling)"] == [
        fmt(c["ground_truth_ceiling"]), fmt(lp_t["real1_vs_truth2"])]
    cyc = t["cycle"]["rows"]["1_2_1"]
    assert table["Cycle error: mean abs. G_21(G_12(x)) - x, x real digits"] == ["—", fmt(cyc)]
    assert "NOT the same quantity: a coupled run's Gen. d1 vs Gen. d2" in out
    assert table["LPIPS pairs"] == [str(HELD_OUT + 20), str(HELD_OUT)]
    # review A5: on derived pairs the translation run's baseline is from the held-out pairs; the sentence says so
    assert "translation runs on derived pairs (or paired folders) from the held-out pairs, on other data from the " \
           "same training domains as the coupled runs" in out


def test_report_refuses_ceilings_of_different_pair_counts(tmp_path, monkeypatch, capsys):
    """Review A4: a coupled run's ceiling on 10 held-out pairs beside a translation run's on 12 is not the same
    number (the first 10 vs the first 12 pairs): one line, exit 2, naming both counts."""
    coupled = fake_coupled_run(tmp_path / "cogan", monkeypatch)
    evaluation.evaluate(coupled, num=10, batch_size=10, lpips=SquaredDifferenceLPIPS(), fid=False)
    monkeypatch.setattr(Pix2PixTrainer, "translators", fake_translators())
    evaluation.evaluate(fake_translation_run(tmp_path / "p2p"), num=12, batch_size=4, lpips=SquaredDifferenceLPIPS())
    capsys.readouterr()
    assert main.main(["--report", str(coupled), str(tmp_path / "p2p")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: runs evaluated with different ground-truth ceiling pair counts: cogan (10), "
                          "p2p (12)") and err.count("\n") == 1, err


def test_pair_counts_are_compared_within_each_kind():
    import report
    from config import ConfigError

    def run(name, kind, pairs):
        m = {"pairs": pairs, "lpips": {"net": "alex", "rows": {}}, **({"kind": kind} if kind else {})}
        return report.Run(None, {}, m, header=name)

    report.check_comparable([run("cogan", None, 898), run("p2p", "translation", 180)])
    with pytest.raises(ConfigError, match="pair counts of translation runs: p2p \\(180\\), cyclegan \\(100\\)"):
        report.check_comparable([run("cogan", None, 898), run("p2p", "translation", 180),
                                 run("cyclegan", "translation", 100)])
    with pytest.raises(ConfigError, match="different pair counts: cogan \\(898\\), scogan \\(10\\)"):
        report.check_comparable([run("cogan", None, 898), run("scogan", None, 10), run("p2p", "translation", 180)])


def test_ceiling_pair_counts_are_compared_across_kinds():
    """Review A4: the ceiling's n of every run that has one (a coupled run's ground_truth_ceiling, a translation
    run's ceiling row), whatever its kind; a skipped ceiling (no derived pair) takes no part."""
    import report
    from config import ConfigError

    def coupled(name, n):
        ceiling = {"mean": 0.3, "se": 0.01, "n": n} if n else {"skipped": "only for derived pairs"}
        return report.Run(None, {}, {"pairs": 808, "lpips": {"net": "alex", "rows": {}},
                                     "ground_truth_ceiling": ceiling}, header=name)

    def translation(name, n):
        rows = {"real1_vs_truth2": {"mean": 0.3, "se": 0.01, "n": n}}
        return report.Run(None, {}, {"kind": "translation", "pairs": n, "lpips": {"net": "alex", "rows": rows}},
                          header=name)

    report.check_comparable([coupled("cogan", 180), coupled("scogan", None), translation("p2p", 180)])
    with pytest.raises(ConfigError, match="ground-truth ceiling pair counts: cogan \\(180\\), p2p \\(100\\)"):
        report.check_comparable([coupled("cogan", 180), translation("p2p", 100)])
    with pytest.raises(ConfigError, match="ground-truth ceiling pair counts: cogan \\(180\\), scogan \\(50\\)"):
        report.check_comparable([coupled("cogan", 180), coupled("scogan", 50)])


def test_report_shows_unit_translation_and_same_z_pair_counts_apart():
    """Review A3: a UNIT column's Gen. rows are on the coupled runs' count, its translation rows on the held-out
    split's: the pair cell names both."""
    import report
    unit = report.Run(None, {}, {"kind": "translation", "pairs": 180, "lpips": {"rows": {}},
                                 "joint": {"pairs": 808, "lpips": {"rows": {}}}}, header="unit")
    assert report.run_cells(unit, report.Path("."))["pairs"].text == "180 (translations) / 808 (same z)"
    p2p = report.Run(None, {}, {"kind": "translation", "pairs": 180, "lpips": {"rows": {}}}, header="p2p")
    assert report.run_cells(p2p, report.Path("."))["pairs"].text == "180"


def _table(out):
    return {line.split(" | ")[0][2:]: line.strip(" |").split(" | ")[1:] for line in out.splitlines()
            if line.startswith("| ")}


def test_report_shows_a_btoa_run_in_the_table_s_domain_order(tmp_path, monkeypatch, capsys):
    """Review A6: pix2pix --direction BtoA (domain 1 = edges) beside an AtoB run: its edge -> digit numbers go in
    the rows of G_21 (Real digits edge vs Translated digits), its digit -> edge ones in G_12's, each checked
    against NumPy on the held-out pairs, LPIPS, pixel and class agreement alike (review 11 L3); its ceiling stays
    in the ceiling row; a note says it was re-keyed."""
    monkeypatch.setattr(Pix2PixTrainer, "translators", fake_translators())
    lp = SquaredDifferenceLPIPS()
    model, w, b = _stub_classifier(w=BAND_W, bias=BAND_B)
    clf = classifiers.save_classifier(model, tmp_path / "clf", multilabel=False)
    ab = evaluation.evaluate(fake_translation_run(tmp_path / "ab"), num=20, batch_size=20, lpips=lp,
                             eval_classifier=clf)
    ba = evaluation.evaluate(fake_translation_run(tmp_path / "ba", direction="BtoA"), num=20, batch_size=20, lpips=lp,
                             eval_classifier=clf)
    assert ba["domains"] == ["digits edge", "digits"]
    capsys.readouterr()
    assert main.main(["--report", str(tmp_path / "ab"), str(tmp_path / "ba")]) == 0
    out = capsys.readouterr().out
    table = {line.split(" | ")[0][2:]: line.strip(" |").split(" | ")[1:] for line in out.splitlines()
             if line.startswith("| ")}
    x, y = (a[:20] for a in held_out())   # digits, their edges

    def means(label, *values):   # the cells' means (printed to 4 decimals) against NumPy's, column by column
        got = [float(c.split(" ± ")[0]) for c in table[label]]
        assert got == pytest.approx([np.mean(v) for v in values], abs=1e-4), label

    # the ab run: G_12 = np_f on digits, G_21 = np_g on edges; the ba run: G_12 = np_f on edges, G_21 = np_g on digits
    means("LPIPS Real digits vs Translated digits edge (x vs G_12(x))", _sq(x, np_f(x)), _sq(x, np_g(x)))
    means("LPIPS Real digits edge vs Translated digits (x vs G_21(x))", _sq(y, np_g(y)), _sq(y, np_f(y)))
    means("LPIPS Translated digits edge vs ground truth (x's own pair in digits edge)", _sq(np_f(x), y),
          _sq(np_g(x), y))
    means("Cycle error: mean abs. G_21(G_12(x)) - x, x real digits", np.abs(np_g(np_f(x)) - x).mean(axis=(1, 2, 3)),
          np.abs(np_f(np_g(x)) - x).mean(axis=(1, 2, 3)))
    means("LPIPS Real digits vs its pair in digits edge (ground-truth ceiling)", _sq(x, y), _sq(x, y))
    assert abs(_sq(x, np_f(x)).mean() - _sq(x, np_g(x)).mean()) > 0.01   # the two columns' numbers differ
    assert "ba: evaluated with domain 1 = digits edge (--direction BtoA)" in out

    # pixel and class agreement of the translations with their ground truth, per direction (NumPy), and each of the
    # ba column's cells clearly apart from the number of the same key before re-keying (a forgotten section shows)
    agree = (lambda t, im: (np.abs(_gray(t) - _gray(im)) <= 0.1).mean(axis=(1, 2)))  # noqa: E731
    mad = (lambda t, im: np.abs(_gray(t) - _gray(im)).mean(axis=(1, 2)))  # noqa: E731
    cls = (lambda im: np.argmax(np.asarray(im, np.float64).mean(axis=(1, 2)) @ w + b, axis=1))  # noqa: E731
    same = (lambda a, b: (cls(a) == cls(b)).astype(float))  # noqa: E731
    # (label, ab's values, ba's values, ba's values had its 1_to_2 / 2_to_1 keys been left as they were)
    checks = [
        ("Pixel agreement: G_12(x) vs ground truth in digits edge (paired)", agree(y, np_f(x)), agree(y, np_g(x)),
         agree(x, np_f(y))),
        ("Pixel agreement: G_21(x) vs ground truth in digits (paired)", agree(x, np_g(y)), agree(x, np_f(y)),
         agree(y, np_g(x))),
        ("Mean abs. pixel difference: G_12(x) vs ground truth in digits edge", mad(y, np_f(x)), mad(y, np_g(x)),
         mad(x, np_f(y))),
        ("Mean abs. pixel difference: G_21(x) vs ground truth in digits", mad(x, np_g(y)), mad(x, np_f(y)),
         mad(y, np_g(x))),
        ("Class agreement: Real digits x vs G_12(x)", same(x, np_f(x)), same(x, np_g(x)), same(y, np_f(y))),
        ("Class agreement: Real digits edge x vs G_21(x)", same(y, np_g(y)), same(y, np_f(y)), same(x, np_g(x))),
    ]
    for label, want_ab, want_ba, unswapped in checks:
        means(label, want_ab, want_ba)
        assert abs(np.mean(want_ba) - np.mean(unswapped)) > 0.01, label
    # the chance levels (unpaired reals vs the ground truth) are the runs' own numbers, ba's from its other direction
    fmt = (lambda s: f"{s['mean']:.4f} ± {s['se']:.4f}")  # noqa: E731
    for label, d, sec, who in (
            ("Pixel agreement: unpaired Real digits edge vs ground truth (chance level)", "1_to_2", "pixel_agreement",
             "real_unpaired.agreement"),
            ("Pixel agreement: unpaired Real digits vs ground truth (chance level)", "2_to_1", "pixel_agreement",
             "real_unpaired.agreement"),
            ("Class agreement: Real digits vs unpaired Real digits edge (chance level)", "1_to_2", "class_agreement",
             "real_unpaired"),
            ("Class agreement: Real digits edge vs unpaired Real digits (chance level)", "2_to_1", "class_agreement",
             "real_unpaired")):
        def get(m, direction):
            v = m[sec]["directions"][direction]
            for k in who.split("."):
                v = v[k]
            return v
        other = "2_to_1" if d == "1_to_2" else "1_to_2"
        assert table[label] == [fmt(get(ab, d)), fmt(get(ba, other))], label
        assert fmt(get(ba, other)) != fmt(get(ba, d)), label   # re-keying shows in this row


def _patch_translation_models(monkeypatch):
    """pix2pix, CycleGAN and UNIT translate with the known np_f / np_g; UNIT's same-z pairs are G1(z) = 0.1,
    G2(z) = 0.3 everywhere (a squared-difference LPIPS of 0.04 each)."""
    from metrics import evaluation_io
    from trainers.cyclegan import CycleGANTrainer
    from trainers.unit import UNITTrainer

    for trainer in (Pix2PixTrainer, CycleGANTrainer, UNITTrainer):
        monkeypatch.setattr(trainer, "translators", fake_translators())
    monkeypatch.setattr(UNITTrainer, "joint_generators", staticmethod(lambda cfg, shape, models_dir: ((4,), 1, 2)))
    monkeypatch.setattr(evaluation_io, "pair_generator", lambda gens: lambda z: [
        tf.fill([int(z.shape[0]), 32, 32, 3], 0.1), tf.fill([int(z.shape[0]), 32, 32, 3], 0.3)])


def test_report_orders_translation_runs_by_their_data_in_any_argument_order(tmp_path, monkeypatch, capsys):
    """Review 11 M2: the table's domain order is the data's (digits, then digits edge), not the first run's. A pix2pix
    --direction BtoA run, a UNIT run (same-z pairs: never re-keyable) and a CycleGAN run give one table in every
    argument order: only the BtoA run re-keyed, its note naming --direction, none for the runs without one."""
    from itertools import permutations

    _patch_translation_models(monkeypatch)
    lp = SquaredDifferenceLPIPS()
    for name, gan_type, direction in (("ba", "pix2pix", "BtoA"), ("unit", "unit", None), ("cg", "cyclegan", None)):
        evaluation.evaluate(fake_translation_run(tmp_path / name, direction, gan_type=gan_type), num=20, batch_size=20,
                            lpips=lp)
    x, y = (a[:20] for a in held_out())   # digits, their edges

    tables = []
    for order in permutations(("ba", "unit", "cg")):
        capsys.readouterr()
        assert main.main(["--report", *(str(tmp_path / n) for n in order)]) == 0, order
        out = capsys.readouterr().out
        table = _table(out)
        assert table["measure"] == list(order)
        tables.append({label: dict(zip(order, cells)) for label, cells in table.items() if label != "measure"})
        notes = [line for line in out.splitlines() if "evaluated with domain 1" in line]
        assert notes == ["- ba: evaluated with domain 1 = digits edge (--direction BtoA); its rows are shown in its "
                         "data's order, domain 1 = digits (its digits edge -> digits translation in the rows of "
                         "G_21)."], order
    assert all(t == tables[0] for t in tables[1:])
    t = tables[0]
    cells = (lambda label: {k: float(v.split(" ± ")[0]) for k, v in t[label].items()})  # noqa: E731
    # digit -> edge in G_12's row for all three: ba's G_21 (np_g on digits), the others' G_12 (np_f)
    assert cells("LPIPS Real digits vs Translated digits edge (x vs G_12(x))") == pytest.approx(
        {"ba": _sq(x, np_g(x)).mean(), "unit": _sq(x, np_f(x)).mean(), "cg": _sq(x, np_f(x)).mean()}, abs=1e-4)
    assert cells("LPIPS Real digits edge vs Translated digits (x vs G_21(x))") == pytest.approx(
        {"ba": _sq(y, np_f(y)).mean(), "unit": _sq(y, np_g(y)).mean(), "cg": _sq(y, np_g(y)).mean()}, abs=1e-4)
    assert abs(_sq(x, np_g(x)).mean() - _sq(x, np_f(x)).mean()) > 0.01
    assert t["LPIPS Gen. digits vs Gen. digits edge (same z)"] == {"ba": "—", "unit": "0.0400 ± 0.0000", "cg": "—"}
    assert t["LPIPS pairs"] == {"ba": "20", "unit": "20 (translations) / 20 (same z)", "cg": "20"}


def test_report_csv_keeps_unit_s_same_z_pair_count_as_a_number(tmp_path, monkeypatch, capsys):
    """Review 11 L6: by default UNIT scores its translations on the 180 held-out pairs and its same-z pairs on the
    thesis's count capped at load_pair's real images: the CSV's "pairs" row holds the first as its number, a row
    pairs.same_z the second; the Markdown keeps them in one cell (no row of its own)."""
    import csv

    _patch_translation_models(monkeypatch)
    m = evaluation.evaluate(fake_translation_run(tmp_path / "unit", None, gan_type="unit"), batch_size=256,
                            lpips=SquaredDifferenceLPIPS())
    evaluation.evaluate(fake_translation_run(tmp_path / "p2p"), num=HELD_OUT, batch_size=256,
                        lpips=SquaredDifferenceLPIPS())
    same_z = m["joint"]["pairs"]
    assert m["pairs"] == HELD_OUT and same_z > HELD_OUT   # two counts a swap would show
    out = tmp_path / "r.md"
    assert main.main(["--report", str(tmp_path / "unit"), str(tmp_path / "p2p"), "--out", str(out)]) == 0
    with open(out.with_suffix(".csv")) as f:
        rows = {(r["column"], r["measure"]): r for r in csv.DictReader(f)}
    assert (rows[("unit", "pairs")]["mean"], rows[("unit", "pairs")]["text"]) == (
        str(HELD_OUT), f"{HELD_OUT} (translations) / {same_z:,} (same z)")
    got = rows[("unit", "pairs.same_z")]
    assert (got["label"], got["mean"], got["text"]) == ("LPIPS pairs (same z)", str(same_z), f"{same_z:,}")
    assert rows[("p2p", "pairs")]["mean"] == str(HELD_OUT) and ("p2p", "pairs.same_z") not in rows
    table = _table(out.read_text())
    assert "LPIPS pairs (same z)" not in table and table["LPIPS pairs"] == [
        f"{HELD_OUT} (translations) / {same_z:,} (same z)", str(HELD_OUT)]


def test_a_run_without_direction_is_re_keyed_only_against_its_data():
    """Review 11 M2: a run's order is compared with its own data's (specs.domain_names), and the note names
    --direction only for a run that has one (a reversed CycleGAN metrics.json: "the order of its metrics.json")."""
    import report
    rows = {"real1_vs_trans2": {"mean": 0.1, "se": 0.01, "n": 5}, "real2_vs_trans1": {"mean": 0.2, "se": 0.01, "n": 5}}

    def run(name, cfg, domains):
        return report.Run(report.Path(name), cfg, {"kind": "translation", "domains": domains, "pairs": 5,
                                                   "lpips": {"net": "sq", "rows": rows}}, header=name)
    cg = run("cg", {"gan_type": "cyclegan", "cogan_data": "digits2edge", "direction": None}, ["digits edge", "digits"])
    ab = run("ab", {"gan_type": "pix2pix", "cogan_data": "digits2edge", "direction": "AtoB"}, ["digits", "digits edge"])
    old = run("old", {"gan_type": "pix2pix", "direction": "BtoA"}, ["B side", "A side"])   # no data keys: --direction
    report.orient([cg, ab, old])
    assert cg.metrics["domains"] == ["digits", "digits edge"] and cg.metrics["lpips"]["rows"]["real1_vs_trans2"] == \
        rows["real2_vs_trans1"]
    assert cg.notes == ["cg: evaluated with domain 1 = digits edge (the order of its metrics.json); its rows are shown "
                        "in its data's order, domain 1 = digits (its digits edge -> digits translation in the rows of "
                        "G_21)."]
    assert ab.notes == [] and ab.metrics["lpips"]["rows"] == rows
    assert old.metrics["domains"] == ["A side", "B side"] and "(--direction BtoA)" in old.notes[0]
    unit = run("unit", {"gan_type": "unit", "cogan_data": "digits2edge"}, ["digits edge", "digits"])
    unit.metrics["joint"] = {"pairs": 5}   # its same-z pixel agreement has a direction: not re-keyable
    with pytest.raises(report.ConfigError, match="unit: its domains \\(digits edge -> digits\\) are in the reverse "
                       "of its data's order, and its same-z rows cannot be re-keyed: re-evaluate it"):
        report.orient([unit])


def test_a_coupled_table_survives_held_out_pairs_that_cannot_be_loaded(tmp_path, monkeypatch):
    from metrics import held_out

    def missing(*a, **k):
        raise data.DataError("no t10k files (test)")
    coupled = fake_coupled_run(tmp_path / "cogan", monkeypatch)
    monkeypatch.setattr(held_out, "ceiling_values", missing)
    r = evaluation.evaluate(coupled, num=10, batch_size=10, lpips=SquaredDifferenceLPIPS(), fid=False)
    assert "no t10k files (test)" in r["ground_truth_ceiling"]["skipped"] and "gen1_vs_gen2" in r["lpips"]["rows"]
