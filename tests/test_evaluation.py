"""Evaluation (`python main.py --evaluate RUN`, evaluation.py, metrics/pairing.py, metrics/fid.py): the Fréchet
distance against closed forms, standard errors, pixel and class agreement, the SL-teacher refusal, and the
LPIPS table on a tiny real run, on demand and at the end of training.

Tests that score a run need the real LPIPS weights ($LPIPS_WEIGHTS_DIR, else ~/.cache/coupled_gan/lpips) and
skip without them (`python -m metrics.weights --fetch DIR`). Inception-v3 is never downloaded here.
"""
import dataclasses
import json
import shutil

import keras

from metrics import markdown
import numpy as np
import pytest
import tensorflow as tf

import classifiers
import data
import evaluation
import main
import nets
from config import Config, ConfigError
from metrics import fid as fidlib
from metrics import pairing
from metrics import weights as lpips_weights

ROWS = ("gen1_vs_gen2", "gen1_vs_real1", "gen2_vs_real2", "real1_vs_real2")
CROSS = ("gen1_vs_real2", "gen2_vs_real1")   # the off-diagonal cells of the 2x2 Tables 3.3-3.8


def _have_lpips_weights():
    return any((lpips_weights.default_dir() / f"alexnet.{ext}").is_file() for ext in ("npz", "ckpt"))


needs_lpips = pytest.mark.skipif(not _have_lpips_weights(), reason=(
    f"real LPIPS weights not found in {lpips_weights.default_dir()}: run `python -m metrics.weights --fetch DIR` and set "
    "LPIPS_WEIGHTS_DIR=DIR"))


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """A 2-iteration CoGAN on real digits -> edges, made through the CLI; its end-of-training metrics.json
    (when the LPIPS weights are present) is read before any other test rewrites it."""
    run_dir = tmp_path_factory.mktemp("eval") / "run"
    argv = ["--gan_type", "cogan", "--cogan_data", "digits2edge", "--iterations", "2", "--batch_size", "8",
            "--dir", str(run_dir), "--eval_pairs", "16", "--log_interval", "1"]
    assert main.main(argv) == 0
    auto = run_dir / "metrics.json"
    return run_dir, (json.loads(auto.read_text()) if auto.is_file() else None)


def trained_generators(run_dir):
    """A run's generators rebuilt from its config and loaded from models/G{i}.weights.h5, the Keras weight files
    written at the end of training: not the checkpoint that sampling.load_run restores (review A16)."""
    cfg = Config.load(run_dir / "config.json")
    options = nets.NetOptions(channels=3, noise_dim=cfg.noise_dim, w_init=cfg.w_init, b_init=cfg.b_init,
                              prelu_init=cfg.prelu_init, d_norm=cfg.d_norm, g_width=cfg.g_width)
    gens = nets.build_generators(cfg.arch, options, domains=1 if cfg.gan_type == "gan" else 2,
                                 shared=cfg.shared_layers_g)
    for g in gens:
        g.load_weights(str(run_dir / "models" / f"{g.name}.weights.h5"))
    return gens


def _no_inception(monkeypatch):
    def unavailable(*a, **k):
        raise fidlib.FeaturesUnavailable("Inception-v3 ImageNet weights not available (test)")
    monkeypatch.setattr(fidlib, "inception_features", unavailable)


def _stub_classifier(size=32, classes=10, seed=0):
    """A real small Keras classifier: global average pool -> dense logits (features = the pooled colours)."""
    inp = keras.Input((size, size, 3))
    x = keras.layers.GlobalAveragePooling2D()(inp)
    out = keras.layers.Dense(classes, name="logits")(x)
    model = keras.Model(inp, out)
    model.layers[-1].set_weights([np.random.default_rng(seed).normal(size=(3, classes)).astype(np.float32),
                                  np.zeros(classes, np.float32)])
    return model


# ---------------------------------------------------------------------------------------------- Fréchet


def test_frechet_distance_closed_forms():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(6, 6))
    s = a @ a.T + 0.1 * np.eye(6)
    mu1, mu2 = rng.normal(size=6), rng.normal(size=6)
    # S2 = k^2 S1: Tr(S + k^2 S - 2 k S) = (1 - k)^2 Tr S.
    k = 3.0
    want = np.sum((mu1 - mu2) ** 2) + (1 - k) ** 2 * np.trace(s)
    assert fidlib.frechet_distance(mu1, s, mu2, k * k * s) == pytest.approx(want, rel=1e-9)
    # Diagonal covariances: sum of (sqrt(a) - sqrt(b))^2.
    va, vb = rng.uniform(0.1, 2, 5), rng.uniform(0.1, 2, 5)
    want = np.sum((np.sqrt(va) - np.sqrt(vb)) ** 2)
    assert fidlib.frechet_distance(np.zeros(5), np.diag(va), np.zeros(5), np.diag(vb)) == pytest.approx(want)
    assert fidlib.frechet_distance(mu1, s, mu1, s) == pytest.approx(0.0, abs=1e-9)


def test_frechet_matches_scipy_sqrtm_and_survives_singular_covariances():
    scipy_linalg = pytest.importorskip("scipy.linalg")
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(200, 8)), rng.normal(size=(200, 8)) @ rng.normal(size=(8, 8))
    s1, s2 = np.cov(x, rowvar=False), np.cov(y, rowvar=False)
    ref = np.trace(s1) + np.trace(s2) - 2 * np.trace(scipy_linalg.sqrtm(s1 @ s2).real)
    assert fidlib.frechet_distance(np.zeros(8), s1, np.zeros(8), s2) == pytest.approx(ref, rel=1e-6)
    # Fewer samples than features: rank-deficient covariances still give a finite, non-negative number.
    few = rng.normal(size=(5, 32))
    stats = fidlib.FeatureStats()
    stats.update(few)
    d = stats.distance(stats)
    assert np.isfinite(d) and 0.0 <= d < 1e-6


def test_streamed_statistics_equal_whole_set_and_identical_sets_give_zero():
    rng = np.random.default_rng(2)
    x = rng.normal(1000.0, 1.0, size=(1000, 4))   # large mean: a naive sum of squares would cancel badly
    stats = fidlib.FeatureStats()
    for i in range(0, 1000, 64):
        stats.update(x[i:i + 64])
    np.testing.assert_allclose(stats.mean, x.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(stats.covariance(), np.cov(x, rowvar=False), rtol=1e-8, atol=1e-10)
    assert stats.distance(stats) == pytest.approx(0.0, abs=1e-8)
    other = fidlib.FeatureStats()
    other.update(x + np.array([3.0, 0, 0, 0]))
    assert stats.distance(other) == pytest.approx(9.0, rel=1e-6)


def test_inception_preprocessing_keeps_minus_one_to_one():
    # keras' inception preprocess_input wants 0..255: [-1, 1] in must come out as the same [-1, 1].
    x = np.random.default_rng(3).uniform(-1, 1, (2, 299, 299, 3)).astype(np.float32)
    np.testing.assert_allclose(fidlib.inception_preprocess(x).numpy(), x, atol=1e-5)
    small = fidlib.inception_preprocess(np.full((1, 32, 32, 1), 0.5, np.float32)).numpy()
    assert small.shape == (1, 299, 299, 3)
    np.testing.assert_allclose(small, 0.5, atol=1e-5)


# ---------------------------------------------------------------------------------------------- statistics


def test_mean_and_standard_error():
    mean, se = pairing.mean_and_se([1.0, 2.0, 3.0, 4.0])
    assert mean == 2.5 and se == pytest.approx(np.std([1, 2, 3, 4], ddof=1) / 2.0)
    assert pairing.mean_and_se([0.7]) == (pytest.approx(0.7), None)
    with pytest.raises(ValueError):
        pairing.mean_and_se([])


def test_extremes_keep_lowest_and_highest_across_batches():
    ext = pairing.Extremes(k=2)
    scores = [np.array([0.5, 0.1, 0.9]), np.array([0.05, 0.7])]
    for i, s in enumerate(scores):
        imgs = np.stack([np.full((2, 2, 3), v, np.float32) for v in s])
        ext.update(s, imgs, -imgs)
    np.testing.assert_allclose(ext.low[0], [0.05, 0.1])
    np.testing.assert_allclose(ext.high[0], [0.9, 0.7])
    np.testing.assert_allclose(ext.low[1][:, 0, 0, 0], [0.05, 0.1])   # images travel with their scores


# ---------------------------------------------------------------------------------------------- pixel agreement


def test_transform_images_at_native_size_hand_values():
    """A 5x5 gray image in [0, 1] (as test_data.py's edge case), given as [-1, 1] RGB whose channels differ (their
    mean is the gray value): edge = 3x3 dilation minus the image, negative = 1 - x, rotate = 90 degrees
    counter-clockwise, each returned as the gray value repeated to RGB in [-1, 1]."""
    gray = np.zeros((5, 5), np.float32)
    gray[2, 2], gray[0, 0] = 0.75, 0.5
    spread = 0.25 * (gray > 0)   # where no channel would leave [-1, 1]
    x = np.stack([2 * gray - 1 + spread, 2 * gray - 1, 2 * gray - 1 - spread], axis=-1)[None]   # mean: 2g - 1
    edge = np.array([[0, .5, 0, 0, 0],
                     [.5, .75, .75, .75, 0],
                     [0, .75, 0, .75, 0],
                     [0, .75, .75, .75, 0],
                     [0, 0, 0, 0, 0]], np.float32)
    rotated = np.zeros((5, 5), np.float32)
    rotated[2, 2], rotated[4, 0] = 0.75, 0.5   # the top-left corner moves to the bottom-left
    for name, want in (("edge", edge), ("negative", 1 - gray), ("rotate", rotated)):
        out = pairing.transform_images(tf.constant(x, tf.float32), name).numpy()
        assert out.shape == (1, 5, 5, 3), name
        np.testing.assert_allclose(out[0], np.repeat((2 * want - 1)[..., None], 3, -1), atol=1e-6, err_msg=name)


@pytest.mark.parametrize("transform", pairing.TRANSFORMS)
def test_pixel_agreement_perfect_when_g2_is_the_transform_of_g1(transform):
    rng = np.random.default_rng(4)
    g1 = np.repeat(rng.uniform(-1, 1, (6, 32, 32, 1)), 3, axis=-1).astype(np.float32)
    expected = pairing.transform_images(g1, transform, native_size=8).numpy()
    # G2(z) = transform(G1(z)) but for one pixel of pair 0, off by 0.2 in [0, 1] (0.4 in [-1, 1]: outside the
    # 0.1 tolerance), and one of pair 1 off by 0.05 (inside): MAD 0.2 / (H W) and 0.05 / (H W), agreement
    # 1 - 1 / (H W) and 1; the other pairs (0, 1).
    g2 = expected.copy()
    for k, (i, j, off) in enumerate(((3, 7, 0.4), (20, 11, 0.1))):
        g2[k, i, j] += -off if g2[k, i, j, 0] > 0 else off
    mad, agree = pairing.pixel_agreement(expected, g2)
    hw = 32 * 32
    np.testing.assert_allclose(mad, [0.2 / hw, 0.05 / hw, 0, 0, 0, 0], atol=1e-7)
    np.testing.assert_allclose(agree, [1 - 1 / hw, 1, 1, 1, 1, 1], atol=1e-7)
    other = np.repeat(rng.uniform(-1, 1, (6, 32, 32, 1)), 3, axis=-1).astype(np.float32)
    mad, agree = pairing.pixel_agreement(pairing.transform_images(g1, transform, native_size=8), other)
    assert (mad > 0.1).all() and (agree < 0.5).all()


def test_edge_transform_follows_data_py_on_real_digits():
    # data.py: edge at 8x8, then resize to 32; ours sees only the 32x32 image. Same real image both ways.
    x = data._load_digits_array()[:200]

    def up(g):
        return tf.clip_by_value(tf.image.resize(g[..., None], [32, 32], "bilinear", antialias=True), 0, 1)[..., 0]

    truth = pairing.from_gray01(up(tf.constant(data.edge(x))))
    ours = pairing.transform_images(pairing.from_gray01(up(tf.constant(x))), "edge", native_size=8)
    at_32 = pairing.transform_images(pairing.from_gray01(up(tf.constant(x))), "edge")
    agree = pairing.pixel_agreement(ours, truth)[1].mean()
    assert agree > 0.8
    assert agree > pairing.pixel_agreement(at_32, truth)[1].mean() + 0.3   # a 32x32 edge is far thinner


# ---------------------------------------------------------------------------------------------- class agreement


def test_class_agreement_single_and_multilabel():
    l1 = np.array([[3.0, 0, 0], [0, 2, 0], [0, 0, 1]])
    l2 = np.array([[1.0, 0, 0], [5, 0, 0], [0, 0, 9]])
    np.testing.assert_array_equal(pairing.class_agreement(l1, l2, multilabel=False), [1, 0, 1])
    m1 = np.array([[1.0, -1, 1], [1, 1, 1]])
    m2 = np.array([[2.0, -3, -1], [-1, -1, -1]])
    np.testing.assert_allclose(pairing.class_agreement(m1, m2, multilabel=True), [2 / 3, 0])


def test_class_agreement_through_a_saved_stub_classifier(tmp_path):
    # Logits = channel means: the class is the dominant colour, so we know what every image is.
    model = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.GlobalAveragePooling2D(),
                              keras.layers.Dense(3, name="logits")])
    model.layers[-1].set_weights([np.eye(3, dtype=np.float32), np.zeros(3, np.float32)])
    path = classifiers.save_classifier(model, tmp_path / "stub", multilabel=False)
    probe, meta = evaluation.load_probe(path)

    def colour(c, n, size=16):   # images of another size: the probe resizes them to 8x8
        x = np.full((n, size, size, 3), -0.5, np.float32)
        x[..., c] = 0.5
        return x

    a = np.concatenate([colour(0, 3), colour(1, 2)])
    b = np.concatenate([colour(0, 3), colour(2, 2)])
    (fa, la), (_, lb) = probe(a), probe(b)
    assert fa.shape == (5, 3)   # penultimate features: the pooled colours entering the logit layer
    np.testing.assert_array_equal(pairing.class_agreement(la, lb, meta["multilabel"]), [1, 1, 1, 0, 0])
    multi = evaluation.ClassifierProbe(model, multilabel=True)
    agree = pairing.class_agreement(multi(a)[1], multi(b)[1], True)
    np.testing.assert_allclose(agree, [1, 1, 1, 1 / 3, 1 / 3])


def test_refuses_the_semantic_loss_teacher(tmp_path):
    teacher = classifiers.save_classifier(_stub_classifier(seed=1), tmp_path / "teacher", multilabel=False)
    cfg = Config(classifier_path=str(tmp_path / "teacher"))   # without .keras, as a user may type it
    for same in (teacher, tmp_path / "teacher"):
        with pytest.raises(ConfigError, match="its own teacher"):
            evaluation.check_eval_classifier(same, cfg)
    copy = tmp_path / "copy.keras"
    shutil.copy(teacher, copy)
    with pytest.raises(ConfigError, match="its own teacher"):
        evaluation.check_eval_classifier(copy, cfg)
    other = classifiers.save_classifier(_stub_classifier(seed=2), tmp_path / "other", multilabel=False)
    assert evaluation.check_eval_classifier(other, cfg).name == "other.keras"
    with pytest.raises(ConfigError, match="not found"):
        evaluation.check_eval_classifier(tmp_path / "missing.keras", cfg)


# ---------------------------------------------------------------------------------------------- pair counts


def test_default_pair_counts_follow_the_thesis_and_are_capped():
    def n(name, **kw):
        return evaluation.default_num_pairs(Config(cogan_data=name, **kw))[0]

    assert n("mnist2edge") == n("mnist2rotate") == 30000
    assert n("mnist2svhn") == n("celeba_Smiling") == n("Eyeglasses") == 50000
    # Sec. 5.4: "1000 samples for horse2zebra, and 995 samples for apple2orange".
    assert (n("horse2zebra"), n("apple2orange"), n(None)) == (1000, 995, evaluation.DEFAULT_PAIRS)
    cfg = Config(cogan_data="digits2edge")
    num, source, notes = evaluation.resolve_num(None, cfg, (808, 809))
    assert num == 808 and "capped at 808" in notes[0]
    cfg = dataclasses.replace(cfg, eval_pairs=100)
    assert evaluation.resolve_num(None, cfg, (808, 809))[:2] == (100, "eval_pairs in the run's config")
    assert evaluation.resolve_num(64, cfg, (808, 809))[:2] == (64, "--num")
    assert evaluation.domain_names(Config(cogan_data="celeba_Smiling")) == ("Smiling", "not Smiling")
    assert evaluation.domain_names(Config(cogan_data="mnist2edge")) == ("MNIST", "MNIST edge")


# ---------------------------------------------------------------------------------------------- on a real run


def test_shared_trunk_generation_equals_the_generators(tiny_run):
    import sampling

    run = sampling.load_run(tiny_run[0])
    assert nets.shared_prefix(run.generators) == 4   # cogan32 default sharing
    z = tf.random.uniform([5, 100], -1, 1, seed=1)
    for got, g in zip(evaluation.pair_generator(run.generators)(z), run.generators):
        np.testing.assert_allclose(got.numpy(), g(z, training=False).numpy(), atol=1e-6)


def test_load_run_restores_the_trained_generators_bit_for_bit(tiny_run):
    """What --sample and --evaluate score: the generators sampling.load_run restores from the last checkpoint are
    bit for bit those training ended with (models/G{i}.weights.h5), not freshly initialised nets."""
    import sampling

    run = sampling.load_run(tiny_run[0])
    assert run.step == 2
    for got, want in zip(run.generators, trained_generators(tiny_run[0]), strict=True):
        for u, v in zip(got.weights, want.weights, strict=True):   # in build order (layer names are numbered)
            np.testing.assert_array_equal(u.numpy(), v.numpy(), err_msg=f"{got.name}: {u.path}")


def test_a_checkpoint_without_a_generators_key_fails_loudly(tiny_run, tmp_path, capsys):
    """A checkpoint whose generator key is renamed (vars_G1 saved as vars_G1_old, say after a refactoring of
    trainers/base.py) is refused with one line naming the key, never sampled from freshly initialised nets."""
    import sampling

    run_copy = tmp_path / "run"
    shutil.copytree(tiny_run[0], run_copy)
    g1, g2 = trained_generators(run_copy)
    tf.train.Checkpoint(step=tf.Variable(9, dtype=tf.int64), vars_G1_old=[v.value for v in g1.variables],
                        vars_G2=[v.value for v in g2.variables]).write(str(run_copy / "checkpoints" / "ckpt-9"))
    with pytest.raises(ConfigError, match="ckpt-9 has no vars_G1;"):
        sampling.load_run(run_copy)
    capsys.readouterr()
    out = tmp_path / "pairs.npz"
    assert main.main(["--sample", str(run_copy), "--num", "2", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"error: the checkpoint in {run_copy} does not hold this run's generators (ckpt-9 has no "
                          "vars_G1;") and "\n" not in err, err
    assert not out.exists()
    # The step's own checkpoint still restores (the refusal is about the file, not the run).
    assert sampling.load_run(run_copy, step=2).step == 2


@needs_lpips
def test_evaluate_cli_writes_the_lpips_table(tiny_run, tmp_path, monkeypatch):
    run_dir, _ = tiny_run
    _no_inception(monkeypatch)
    clf = classifiers.save_classifier(_stub_classifier(), tmp_path / "eval_clf", multilabel=False)
    assert main.main(["--evaluate", str(run_dir), "--num", "64", "--batch_size", "24",
                      "--eval_classifier", clf]) == 0
    result = json.loads((run_dir / "metrics.json").read_text())
    assert result["pairs"] == 64 and result["pairs_source"] == "--num"
    assert list(result["lpips"]["rows"]) == list(ROWS + CROSS)
    for row in result["lpips"]["rows"].values():
        assert row["n"] == 64 and 0.0 <= row["mean"] and row["se"] >= 0.0
    md = (run_dir / "metrics.md").read_text()
    for label in ("Gen. digits vs Gen. digits edge (same z)", "Gen. digits vs Real digits",
                  "Gen. digits edge vs Real digits edge", "Real digits vs Real digits edge (unpaired baseline)",
                  "Gen. digits vs Real digits edge", "Gen. digits edge vs Real digits"):
        assert f"| {label} |" in md
    assert "| Gen./Real | Real digits | Real digits edge |" in md
    assert "drawn independently" in md and "unpaired" in md
    assert result["pixel_agreement"]["transform"] == "edge"
    assert result["class_agreement"]["generated"]["n"] == 64
    assert result["frechet"]["name"] == evaluation.FCD_NAME and "not FID" in md
    for which in ("lowest", "highest"):
        assert (run_dir / f"lpips_{which}.png").is_file()
        scores = result["figures"][which]["lpips"]
        assert len(scores) == evaluation.FIGURE_PAIRS
    assert max(result["figures"]["lowest"]["lpips"]) <= min(result["figures"]["highest"]["lpips"])
    # Two cells recomputed with metrics.LPIPS on the same images: the trained generators (from their weight
    # files) on the evaluation's z stream, in its batches of 24, 24 and 16, and the same real batches.
    from metrics import LPIPS
    lpips = LPIPS("alex", download=False)
    generate = evaluation.pair_generator(trained_generators(run_dir))
    zgen = tf.random.Generator.from_seed(evaluation.EVAL_SEED)
    it_a, _, _ = evaluation.real_images(Config.load(run_dir / "config.json"), 24)
    pairs, versus_real = [], []
    for b in (24, 24, 16):
        g1, g2 = (x.numpy() for x in generate(zgen.uniform([b, 100], -1.0, 1.0)))
        pairs.append(lpips(g1, g2).numpy())
        versus_real.append(lpips(g1, next(it_a).numpy()[:b]).numpy())
    rows = result["lpips"]["rows"]
    # float64 means of the same float32 distances: only the order of the sum differs
    assert rows["gen1_vs_gen2"]["mean"] == pytest.approx(np.concatenate(pairs).astype(np.float64).mean(), rel=1e-9)
    assert rows["gen1_vs_real1"]["mean"] == pytest.approx(np.concatenate(versus_real).astype(np.float64).mean(),
                                                          rel=1e-9)


@needs_lpips
def test_metrics_table_written_at_the_end_of_training(tiny_run):
    _, auto = tiny_run
    assert auto is not None, "main.run wrote no metrics.json after training"
    assert auto["pairs"] == 16 and auto["pairs_source"] == "eval_pairs in the run's config"
    assert set(auto["lpips"]["rows"]) == set(ROWS + CROSS)
    assert "skipped" in auto["frechet"] and "skipped" in auto["class_agreement"]


def test_end_of_training_without_lpips_weights_logs_one_line(tiny_run, tmp_path, monkeypatch, logged):
    monkeypatch.setenv("LPIPS_WEIGHTS_DIR", str(tmp_path / "empty"))
    monkeypatch.setenv("LPIPS_NO_DOWNLOAD", "1")
    lines = logged.messages
    cfg = Config.load(tiny_run[0] / "config.json")
    assert evaluation.evaluate_after_training(cfg, tiny_run[0]) is None
    assert len(lines) == 1 and "\n" not in lines[0]
    assert "python -m metrics.weights --fetch" in lines[0] and "--evaluate" in lines[0]
    cfg = dataclasses.replace(cfg, final_eval=False)
    assert evaluation.evaluate_after_training(cfg, tiny_run[0]) is None and len(lines) == 1


def test_evaluate_bad_input_exits_2(tiny_run, tmp_path, capsys):
    assert main.main(["--evaluate", str(tmp_path / "nope")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and "config.json missing" in err and "\n" not in err
    assert main.main(["--evaluate", str(tiny_run[0]), "--num", "0"]) == 2
    # A run trained with a semantic-loss teacher refuses that teacher as its grader, before any work.
    run_copy = tmp_path / "run"
    shutil.copytree(tiny_run[0], run_copy)
    teacher = classifiers.save_classifier(_stub_classifier(), tmp_path / "teacher", multilabel=False)
    cfg = json.loads((run_copy / "config.json").read_text())
    cfg["classifier_path"] = teacher
    (run_copy / "config.json").write_text(json.dumps(cfg))
    capsys.readouterr()
    assert main.main(["--evaluate", str(run_copy), "--eval_classifier", teacher]) == 2
    assert "its own teacher" in capsys.readouterr().err


def test_fid_branch_with_an_inception_of_random_weights(tiny_run, tmp_path, monkeypatch):
    # No ImageNet weights offline: build the very same network with random weights to run the FID path.
    real = keras.applications.InceptionV3

    def random_inception(weights=None, **kw):
        return real(weights=None, **kw)

    monkeypatch.setattr(keras.applications, "InceptionV3", random_inception)
    from data_sources import tfds_source
    monkeypatch.setattr(tfds_source, "network_reachable", lambda *a, **k: True)  # past the offline check
    monkeypatch.setattr(fidlib, "INCEPTION_SIZE", 75)   # its smallest input: the path, not the numbers, is tested
    run_copy = tmp_path / "run"
    shutil.copytree(tiny_run[0], run_copy)
    keras.utils.set_random_seed(0)   # the same random Inception in both evaluations below
    result = evaluation.evaluate(run_copy, num=6, lpips=SquaredDifferenceLPIPS())
    fr = result["frechet"]
    assert fr["name"] == fidlib.INCEPTION_NAME and fr["n"] == 6
    assert all(np.isfinite(fr[k]) and fr[k] > 0 for k in ("domain1", "domain2", "real1_vs_real2"))
    assert "FID (Inception-v3" in (run_copy / "metrics.md").read_text()
    # The same path with domain 2's real images replaced by domain 1's (the same seed: the same batches):
    # FID(real 1, real 1) is zero up to the rounding of the matrix square root, far below FID(real 1, real 2).
    load = evaluation.real_images

    def domain_1_twice(cfg, batch):
        (first, _, sizes), (again, _, _) = load(cfg, batch), load(cfg, batch)
        return first, again, sizes

    monkeypatch.setattr(evaluation, "real_images", domain_1_twice)
    keras.utils.set_random_seed(0)
    same = evaluation.evaluate(run_copy, num=6, lpips=SquaredDifferenceLPIPS())["frechet"]
    assert same["domain1"] == pytest.approx(fr["domain1"], rel=1e-6), (same, fr)
    assert same["real1_vs_real2"] <= 1e-6 * fr["real1_vs_real2"], (same["real1_vs_real2"], fr["real1_vs_real2"])


# ---------------------------------------------------------------------------------------------- 2x2 cells


class SquaredDifferenceLPIPS:
    """A stand-in for metrics.LPIPS (no weights needed): per pair, the mean squared pixel difference."""
    net = "squared-difference (test)"

    def __call__(self, x, y):
        return _sq(x, y)


def _sq(x, y):
    return np.mean((np.asarray(x, np.float64) - np.asarray(y, np.float64)) ** 2, axis=(1, 2, 3))


CELLS = {"gen1_vs_gen2": ("gen1", "gen2"), "gen1_vs_real1": ("gen1", "real1"), "gen2_vs_real2": ("gen2", "real2"),
         "real1_vs_real2": ("real1", "real2"), "gen1_vs_real2": ("gen1", "real2"), "gen2_vs_real1": ("gen2", "real1")}


def known_image_sets(tmp_path, monkeypatch, sets, n):
    """A digits2edge CoGAN run folder (step 7) whose evaluation sees `sets`, n images each: its generators put out
    sets["gen1"], sets["gen2"] in order, its real images are sets["real1"], sets["real2"] in the evaluation's
    batches. -> (run folder, [how many images the generators have put out]). Shared with
    tests/test_inception_score.py."""
    import sampling

    run_dir = tmp_path / "run"
    run_dir.mkdir()
    Config(gan_type="cogan", cogan_data="digits2edge").save(run_dir / "config.json")

    class G:
        input_spec_shape = (100,)

    monkeypatch.setattr(sampling, "load_run", lambda d, step=None: sampling.LoadedRun(
        Config.load(run_dir / "config.json"), [G(), G()], 7))
    done = [0]

    def pair_generator(generators):
        def generate(z):
            i, b = done[0], int(z.shape[0])
            done[0] += b
            return [tf.constant(sets["gen1"][i:i + b]), tf.constant(sets["gen2"][i:i + b])]
        return generate

    def real_images(cfg, b):
        def batches(x):
            return iter([tf.constant(x[i:i + b]) for i in range(0, n, b)])
        return batches(sets["real1"]), batches(sets["real2"]), (n, n)

    monkeypatch.setattr(evaluation, "pair_generator", pair_generator)
    monkeypatch.setattr(evaluation, "real_images", real_images)
    return run_dir, done


def test_every_lpips_cell_compares_its_own_two_sets(tmp_path, monkeypatch):
    """Four known image sets (gen 1, gen 2, real 1, real 2) fed through evaluate in batches of 4 (the last one
    partial): each cell must be the NumPy mean (and standard error) over the pairs of exactly its two sets."""
    n, batch = 10, 4
    rng = np.random.default_rng(5)
    sets = {name: np.clip(level + rng.normal(0, 0.05, (n, 32, 32, 3)), -1, 1).astype(np.float32)
            for name, level in (("gen1", 0.1), ("gen2", 0.3), ("real1", -0.2), ("real2", 0.7))}
    run_dir, done = known_image_sets(tmp_path, monkeypatch, sets, n)
    result = evaluation.evaluate(run_dir, num=n, batch_size=batch, lpips=SquaredDifferenceLPIPS(), fid=False)
    assert done[0] == n
    rows = result["lpips"]["rows"]
    assert list(rows) == list(ROWS + CROSS)
    for key, (a, b) in CELLS.items():
        d = _sq(sets[a], sets[b])
        assert rows[key]["n"] == n
        assert rows[key]["mean"] == pytest.approx(d.mean(), rel=1e-6), key
        assert rows[key]["se"] == pytest.approx(d.std(ddof=1) / np.sqrt(n), rel=1e-5), key
        for other in CELLS.values():   # any other pair of sets gives a clearly different number
            if set(other) != {a, b}:
                assert abs(_sq(sets[other[0]], sets[other[1]]).mean() - rows[key]["mean"]) > 0.01
    assert rows["gen1_vs_real2"]["label"] == "Gen. digits vs Real digits edge"
    assert rows["gen2_vs_real1"]["label"] == "Gen. digits edge vs Real digits"
    md = (run_dir / "metrics.md").read_text()
    pm = markdown.pm
    assert "| Gen./Real | Real digits | Real digits edge |" in md
    assert f"| Gen. digits | {pm(rows['gen1_vs_real1'])} | {pm(rows['gen1_vs_real2'])} |" in md
    assert f"| Gen. digits edge | {pm(rows['gen2_vs_real1'])} | {pm(rows['gen2_vs_real2'])} |" in md
    assert json.loads((run_dir / "metrics.json").read_text())["lpips"]["rows"] == rows


def test_cells_on_a_real_run_match_generators_and_data_recomputed(tiny_run, tmp_path):
    """The real pipeline (generators restored from the checkpoint, real images from data.py) with the
    NumPy distance: each cell equals the mean recomputed from G1(z), G2(z) of the trained generators (their
    weight files) and the real batches."""
    run_copy = tmp_path / "run"
    shutil.copytree(tiny_run[0], run_copy)
    n = 24
    result = evaluation.evaluate(run_copy, num=n, batch_size=n, lpips=SquaredDifferenceLPIPS(), fid=False)
    gens = trained_generators(run_copy)   # from models/*.weights.h5, not through load_run's checkpoint
    z = tf.random.Generator.from_seed(evaluation.EVAL_SEED).uniform([n, gens[0].input_spec_shape[0]], -1.0, 1.0)
    cfg = Config.load(run_copy / "config.json")
    a, b, _ = data.load_pair(cfg.cogan_data, image_size=cfg.image_size, batch_size=n, seed=evaluation.EVAL_SEED,
                             data_dir=cfg.data_dir, download=False)
    sets = {"gen1": gens[0](z, training=False).numpy(), "gen2": gens[1](z, training=False).numpy(),
            "real1": next(iter(a)).numpy()[:n], "real2": next(iter(b)).numpy()[:n]}
    for key, (x, y) in CELLS.items():
        assert result["lpips"]["rows"][key]["mean"] == pytest.approx(_sq(sets[x], sets[y]).mean(), rel=1e-4), key
    assert result["lpips"]["net"] == SquaredDifferenceLPIPS.net


# ---------------------------------------------------------------------------------------------- toy ring


@pytest.fixture(scope="module")
def toy_run(tmp_path_factory):
    """A 3-iteration GAN on the toy ring through the CLI, with its end-of-training evaluation."""
    run_dir = tmp_path_factory.mktemp("toy") / "run"
    assert main.main(["--gan_type", "gan", "--dataset", "toy", "--iterations", "3", "--batch_size", "16",
                      "--log_interval", "1", "--dir", str(run_dir)]) == 0
    auto = run_dir / "metrics.json"
    return run_dir, (json.loads(auto.read_text()) if auto.is_file() else None)


def test_toy_run_gets_mode_coverage_at_the_end_of_training_and_on_demand(toy_run, capsys):
    run_dir, auto = toy_run
    assert auto is not None, "main.run wrote no metrics.json after a toy run"
    assert (auto["samples"], auto["modes"]["n"], auto["modes"]["modes"]) == (evaluation.TOY_SAMPLES, 10000, 10)
    # The ring the run trained on (the default --toy_ring authors: radius 3, std 0.05), z ~ N(0, 1) as trained.
    assert auto["modes"]["std"] == 0.05 == data.toy_ring("authors").std and auto["step"] == 3
    assert (auto["ring"]["name"], auto["ring"]["radius"], auto["ring"]["size"], auto["noise"]) == (
        "authors", 3.0, 5120, "normal")
    assert 0 <= auto["modes"]["covered"] <= 10 and 0.0 <= auto["modes"]["high_quality"] <= 1.0
    md = (run_dir / "metrics.md").read_text()
    assert f"| modes covered | {auto['modes']['covered']} / 10 |" in md and (run_dir / "modes.png").is_file()
    capsys.readouterr()
    assert main.main(["--evaluate", str(run_dir), "--num", "3000"]) == 0
    assert "modes covered" in capsys.readouterr().out
    again = json.loads((run_dir / "metrics.json").read_text())
    assert again["samples"] == again["modes"]["n"] == 3000 and again["samples_source"] == "--num"
    # Fixed noise seed: the same points, so the same numbers, every time.
    assert evaluation.evaluate(run_dir, num=3000)["modes"] == again["modes"]
    assert main.main(["--evaluate", str(run_dir), "--eval_classifier", "x.keras"]) == 2
    err = capsys.readouterr().err.strip()
    assert "mode coverage" in err and "\n" not in err


def test_toy_evaluation_counts_the_modes_the_generator_reaches(tmp_path, monkeypatch):
    """A generator that puts every z near one of 6 chosen centres: 6 of 10 modes, all points high quality."""
    import sampling

    chosen = np.array([0, 2, 3, 5, 7, 8])
    centres = data.ring_modes()

    class G:
        input_spec_shape = (10,)

        def __call__(self, z, training=False):
            z = np.asarray(z)
            k = np.minimum(((z[:, 0] + 1) / 2 * len(chosen)).astype(int), len(chosen) - 1)
            return centres[chosen[k]] + 0.5 * data.TOY_STD * z[:, 1:3]

    run_dir = tmp_path / "toy"
    run_dir.mkdir()
    Config(gan_type="gan", dataset="toy", toy_ring="metz").save(run_dir / "config.json")
    monkeypatch.setattr(sampling, "load_run", lambda d, step=None: sampling.LoadedRun(
        Config.load(run_dir / "config.json"), [G()], 42))
    result = evaluation.evaluate(run_dir)
    m = result["modes"]
    assert (m["covered"], m["covered_modes"], m["high_quality"]) == (6, chosen.tolist(), 1.0)
    assert (result["samples"], result["step"], sum(m["per_mode"])) == (10000, 42, 10000)


def test_single_gan_on_images_is_refused(tmp_path, capsys):
    run_dir = tmp_path / "gan"
    run_dir.mkdir()
    Config(gan_type="gan", dataset="digits").save(run_dir / "config.json")
    assert main.main(["--evaluate", str(run_dir)]) == 2
    err = capsys.readouterr().err.strip()
    assert "toy" in err and "'gan' run on digits" in err and "\n" not in err


def test_inception_offline_is_unavailable_at_once_without_a_download(tmp_path, monkeypatch):
    """No cached weights and no network: FeaturesUnavailable says why, and Keras never starts its download
    (which printed "Downloading ..." and retried before the fallback)."""
    from data_sources import tfds_source
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    monkeypatch.setattr(tfds_source, "network_reachable", lambda *a, **k: False)

    def no_download(*a, **k):
        raise AssertionError("InceptionV3 built offline")

    monkeypatch.setattr(keras.applications, "InceptionV3", no_download)
    with pytest.raises(fidlib.FeaturesUnavailable, match=r"not in .*inception_v3_weights_tf_dim_ordering_tf_kernels"
                                                         r"_notop\.h5 and storage\.googleapis\.com unreachable"):
        fidlib.inception_features()
