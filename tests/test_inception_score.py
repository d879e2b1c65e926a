"""The Inception Score (metrics/inception_score.py; issue 20 item 6): the streamed splits against the original
code's formula in NumPy, hand-worked cases, and the measure through `--evaluate` (metrics.json, metrics.md,
metrics_history.jsonl), with the evaluation classifier and with an Inception-v3 of random weights.
"""
import json
import types

import keras
import numpy as np
import pytest
import tensorflow as tf

import classifiers
import evaluation
import main
import metrics
import sampling
from config import Config
from metrics import fid as fidlib
from metrics import inception_score as isc
from test_evaluation import SquaredDifferenceLPIPS, _no_inception, known_image_sets

WHO = ("gen1", "real1", "gen2", "real2")


def reference_is(p, splits=10):
    """The original code (openai/improved-gan, inception_score.py) on an (N, K) array of positive probabilities:
    consecutive splits, KL against each split's mean, NumPy's std."""
    scores = []
    for k in range(splits):
        part = p[k * len(p) // splits:(k + 1) * len(p) // splits]
        kl = part * (np.log(part) - np.log(np.mean(part, 0, keepdims=True)))
        scores.append(np.exp(np.mean(np.sum(kl, 1))))
    return np.mean(scores), np.std(scores)


def streamed(values, batch, logits, splits=isc.SPLITS):
    stats = isc.SplitScores(len(values), splits)
    for i in range(0, len(values), batch):
        (stats.add_logits if logits else stats.add_probabilities)(values[i:i + batch])
    return stats.result()


# ---------------------------------------------------------------------------------------------- the formula


@pytest.mark.parametrize("n", [53, 200])
def test_streamed_splits_equal_the_original_code(n):
    """Batches of 7 cut across the uneven splits (53 = 5, 5, 5, 6, ...); probabilities and logits (log p plus
    a per-row shift, which softmax removes) give the original code's mean and std to float64 rounding."""
    rng = np.random.default_rng(n)
    p = rng.dirichlet(np.full(6, 0.3), size=n)   # peaked rows, so the splits' scores differ
    want_mean, want_std = reference_is(p)
    assert want_std > 0.01
    for got in (streamed(p, 7, logits=False), streamed(np.log(p) + rng.normal(0, 5, (n, 1)), 7, logits=True)):
        assert got["n"] == n and got["splits"] == 10
        assert got["mean"] == pytest.approx(want_mean, rel=1e-10)
        assert got["std"] == pytest.approx(want_std, rel=1e-8)
    assert isc.inception_score(p)["mean"] == pytest.approx(want_mean, rel=1e-10)


def test_hand_cases_k_even_classes_give_k_and_identical_images_give_one():
    k = 4
    labels = np.arange(40) % k              # each split of 4 images holds each class once
    onehot = np.eye(k)[labels]
    got = streamed(onehot, 6, logits=False)
    assert got["mean"] == pytest.approx(k, abs=1e-12) and got["std"] == pytest.approx(0.0, abs=1e-12)
    # Logits 60 apart: p(other class) ~ e^-60 each, so the score is k up to ~1e-24.
    got = streamed(60.0 * onehot, 6, logits=True)
    assert got["mean"] == pytest.approx(k, abs=1e-9)
    # Every image the same distribution (however confident): p(y|x) = p(y), KL 0, score 1.
    same = np.tile([[0.7, 0.1, 0.15, 0.05]], (40, 1))
    assert streamed(same, 6, logits=False)["mean"] == pytest.approx(1.0, abs=1e-12)
    assert streamed(np.tile([[50.0, 0, 0, 0]], (40, 1)), 6, logits=True)["mean"] == pytest.approx(1.0, abs=1e-12)


def test_p_of_y_is_taken_per_split_and_the_std_is_numpys():
    """Splits of 2: five hold two classes (score 2), five one class twice (score 1): mean 1.5, std 0.5 (ddof 0).
    A p(y) over all 20 images would give each image KL against (0.75, 0.25) instead."""
    labels = [0, 1] * 5 + [0, 0] * 5
    got = streamed(np.eye(2)[labels], 3, logits=False)
    assert got["mean"] == pytest.approx(1.5, abs=1e-12) and got["std"] == pytest.approx(0.5, abs=1e-12)
    assert isc.split_bounds(23, 10).tolist() == [0, 2, 4, 6, 9, 11, 13, 16, 18, 20, 23]
    # Fewer images than splits: one split per image, each scoring 1.
    assert streamed(np.eye(3), 1, logits=False) == {"mean": 1.0, "std": 0.0, "n": 3, "splits": 3}


def test_feeding_other_than_announced_is_refused():
    stats = isc.SplitScores(4)
    stats.add_probabilities(np.eye(2)[[0, 1, 0]])
    with pytest.raises(ValueError, match="3 images fed of the 4"):
        stats.result()
    with pytest.raises(ValueError, match="more than the 4"):
        stats.add_probabilities(np.eye(2)[[0, 1]])
    with pytest.raises(ValueError, match="classes"):
        stats.add_probabilities(np.eye(3)[[0]])
    with pytest.raises(ValueError, match="non-negative"):
        isc.SplitScores(2).add_probabilities([[0.5, -0.5]])


def test_classifier_sources_say_why_not():
    ctx = types.SimpleNamespace(probe=types.SimpleNamespace(multilabel=True), classifier="c.keras",
                                classifier_meta=None, fid=True)
    assert isc.evaluation_classifier(ctx)[0] is None and "multi-label" in isc.evaluation_classifier(ctx)[1]
    assert "end of training" in isc.inception_v3(types.SimpleNamespace(fid=False))[1]


# ---------------------------------------------------------------------------------------------- in --evaluate


def _colour_model(w, b=None):
    """A real Keras classifier whose logits are a known NumPy function of the image: mean colour @ w (3, K) + b."""
    w = np.asarray(w, np.float32)
    b = np.zeros(w.shape[1], np.float32) if b is None else np.asarray(b, np.float32)
    inp = keras.Input((32, 32, 3))
    out = keras.layers.Dense(w.shape[1], name="logits")(keras.layers.GlobalAveragePooling2D()(inp))
    model = keras.Model(inp, out)
    model.layers[-1].set_weights([w, b])
    return model, (lambda x: np.asarray(x, np.float64).mean(axis=(1, 2)) @ w + b)


def _intensity_classifier(classes=10, bins=8, scale=200.0):
    """_colour_model putting grey images into `bins` bins of their mean intensity t over [-0.6, 0.1] (where the
    tiny run's real digits and edges lie): logit_j = -scale (t - c_j)^2 less the -scale t^2 common to all classes,
    which softmax ignores. Classes past the bins get logit -30."""
    c = np.linspace(-0.6, 0.1, bins)
    w = np.zeros((3, classes))
    w[:, :bins] = 2 * scale * c / 3
    b = np.full(classes, -30.0)
    b[:bins] = -scale * c ** 2
    return _colour_model(w, b)


def _colour_classifier(classes=5, scale=10.0, turn=0.0):
    """_colour_model with class j's column pointing at COLOURS[j] (on a circle of the red-green plane): an image
    of that colour is class j with p ~ 0.95."""
    angles = 2 * np.pi * np.arange(classes) / classes + turn
    return _colour_model(scale * 0.8 * np.stack([np.cos(angles), np.sin(angles), np.zeros(classes)]))


COLOURS = 0.8 * np.stack([np.cos(2 * np.pi * np.arange(5) / 5), np.sin(2 * np.pi * np.arange(5) / 5),
                          np.zeros(5)], axis=1)


def _numpy_is(images, logits_of):
    z = logits_of(images)
    p = np.exp(z - z.max(1, keepdims=True))
    return reference_is(p / p.sum(1, keepdims=True))


def test_evaluate_scores_each_domain_under_the_evaluation_classifier(tmp_path, monkeypatch):
    """Four known image sets through evaluate in batches of 5 (47 images: the splits cut across batches): each
    row is the original formula on its own set's logits, computed in NumPy; metrics.md shows it labelled."""
    n, batch = 47, 5
    rng = np.random.default_rng(7)
    # Each set cycles through its own number of class colours (5, 1, 2, 3), with pixel noise: clearly apart.
    sets = {who: np.clip(COLOURS[np.arange(n) % m, None, None, :] + rng.normal(0, 0.05, (n, 32, 32, 3)), -1, 1
                         ).astype(np.float32) for who, m in zip(WHO, (5, 1, 2, 3))}
    run_dir, done = known_image_sets(tmp_path, monkeypatch, sets, n)
    model, logits_of = _colour_classifier()
    clf = classifiers.save_classifier(model, tmp_path / "clf", multilabel=False, names=list("abcde"))
    result = evaluation.evaluate(run_dir, num=n, batch_size=batch, lpips=SquaredDifferenceLPIPS(), fid=False,
                                 eval_classifier=clf)
    assert done[0] == n   # one pass over the generated sets serves every measure
    sc = result["inception_score"]
    assert list(sc["classifiers"]) == ["evaluation_classifier"]
    c = sc["classifiers"]["evaluation_classifier"]
    assert c["label"] == f"evaluation classifier `{clf}`" and c["classes"] == 5
    assert list(c["rows"]) == list(WHO)
    want = {who: _numpy_is(sets[who], logits_of) for who in WHO}
    for who, row in c["rows"].items():
        # float32 logits of magnitude ~6 against float64: ~1e-6 relative in each p, so 1e-4 on the score.
        assert row["n"] == n and row["splits"] == 10
        assert row["mean"] == pytest.approx(want[who][0], rel=1e-4), who
        assert row["std"] == pytest.approx(want[who][1], rel=1e-3, abs=1e-5), who
        for other in WHO:   # any other set would give a clearly different number
            if other != who:
                assert abs(want[other][0] - row["mean"]) > 0.3
    assert c["rows"]["gen2"]["label"] == "Gen. digits edge" and c["rows"]["real1"]["label"] == "Real digits (reference)"
    assert "--evaluate RUN_DIR" in sc["not_computed"]["inception_v3"]   # fid=False: the slow path is not taken
    md = (run_dir / "metrics.md").read_text()
    assert f"Not computed under `inception_v3`: {sc['not_computed']['inception_v3']}" in md
    assert "## Inception Score per domain (Salimans et al. 2016)" in md
    assert f"Under the evaluation classifier `{clf}`, 5 classes:" in md
    row = c["rows"]["gen1"]
    assert f"| Gen. digits | {row['mean']:.3f} ± {row['std']:.3f} | 47 |" in md
    assert "Only about 4 images per split for 5 classes: the score is biased low" in md
    history = json.loads((run_dir / evaluation.HISTORY_FILE).read_text().splitlines()[-1])
    assert history["inception_score"]["classifiers"]["evaluation_classifier"]["rows"]["real2"]["mean"] == \
        c["rows"]["real2"]["mean"]


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("is") / "run"
    assert main.main(["--gan_type", "cogan", "--cogan_data", "digits2edge", "--iterations", "2", "--batch_size", "8",
                      "--g_width", "0.25", "--dir", str(run_dir), "--no_final_eval"]) == 0
    return run_dir


def test_evaluate_cli_writes_the_score_into_metrics_json(tiny_run, tmp_path, monkeypatch):
    """`main.py --evaluate` on a real run: the real rows equal the formula on the evaluation's real images (its
    seed and batches) through the classifier's NumPy twin; the generated rows on G1(z), G2(z) of its z stream."""
    _no_inception(monkeypatch)
    monkeypatch.setattr(metrics, "LPIPS", lambda *a, **k: SquaredDifferenceLPIPS())   # no weights needed
    model, logits_of = _intensity_classifier()
    clf = classifiers.save_classifier(model, tmp_path / "clf", multilabel=False)
    n, batch = 20, 8
    assert main.main(["--evaluate", str(tiny_run), "--num", str(n), "--batch_size", str(batch),
                      "--eval_classifier", clf]) == 0
    sc = json.loads((tiny_run / "metrics.json").read_text())["inception_score"]
    rows = sc["classifiers"]["evaluation_classifier"]["rows"]
    it_a, it_b, _ = evaluation.real_images(Config.load(tiny_run / "config.json"), batch)
    generate = evaluation.pair_generator(sampling.load_run(tiny_run).generators)
    zgen = tf.random.Generator.from_seed(evaluation.EVAL_SEED)
    sets = {who: [] for who in WHO}
    for b in (8, 8, 4):
        g1, g2 = (x.numpy() for x in generate(zgen.uniform([b, 100], -1.0, 1.0)))
        for who, x in zip(WHO, (g1, next(it_a).numpy()[:b], g2, next(it_b).numpy()[:b])):
            sets[who].append(x)
    want = {who: _numpy_is(np.concatenate(sets[who]), logits_of)[0] for who in WHO}
    # The bins split the real digits and edges (about 1.2-1.5) and not the near-constant samples (1.0): rows apart by
    # > 0.02, over 100 times the comparison's tolerance below (1e-4 relative), so swapped rows would fail.
    assert min(abs(want[a] - want[b]) for a, b in (("real1", "real2"), ("real1", "gen1"), ("real2", "gen2"))) > 0.02
    for who in WHO:
        assert rows[who]["n"] == n
        # float32 logits up to ~100 against float64: ~1e-5 in each, so well under 1e-4 relative on the score.
        assert rows[who]["mean"] == pytest.approx(want[who], rel=1e-4), who
    assert "weights with the top are not in" in sc["not_computed"]["inception_v3"]
    assert f"Under the evaluation classifier `{clf}`, 10 classes:" in (tiny_run / "metrics.md").read_text()


def test_inception_v3_scores_when_its_weights_are_cached(tiny_run, tmp_path, monkeypatch):
    """With Keras' Inception-v3 weights file in the cache the score is computed under it and labelled so; without
    the file it is not, and says where the file belongs. No ImageNet weights here: Keras' constructor gets the
    arguments checked, then a 1000-class colour classifier stands in (at INCEPTION_SIZE 32, so no resize) and each
    row is the formula on its logits of the evaluation's images, recomputed in NumPy."""
    home = tmp_path / "keras_home"
    (home / "models").mkdir(parents=True)
    monkeypatch.setenv("KERAS_HOME", str(home))
    assert str(home / "models" / isc.INCEPTION_TOP_WEIGHTS_FILE) in isc.inception_v3(types.SimpleNamespace(fid=True))[1]
    (home / "models" / isc.INCEPTION_TOP_WEIGHTS_FILE).write_bytes(b"")
    model, logits_of = _intensity_classifier(classes=1000)
    asked = []

    def inception(**kw):
        asked.append(kw)
        return model

    monkeypatch.setattr(keras.applications, "InceptionV3", inception)
    monkeypatch.setattr(fidlib, "INCEPTION_SIZE", 32)
    _no_inception(monkeypatch)   # FID's network is not this test's
    n = 20   # two images a split: a split of one image always scores 1
    result = evaluation.evaluate(tiny_run, num=n, batch_size=n, lpips=SquaredDifferenceLPIPS())
    assert asked == [dict(weights="imagenet", include_top=True, classifier_activation=None, input_shape=(32, 32, 3))]
    c = result["inception_score"]["classifiers"]["inception_v3"]
    assert c["label"] == isc.INCEPTION_LABEL and c["classes"] == 1000
    assert "evaluation_classifier" in result["inception_score"]["not_computed"]
    it_a, it_b, _ = evaluation.real_images(Config.load(tiny_run / "config.json"), n)
    for who, x in (("real1", next(it_a).numpy()[:n]), ("real2", next(it_b).numpy()[:n])):
        assert c["rows"][who]["mean"] == pytest.approx(_numpy_is(x, logits_of)[0], rel=1e-4), who
    assert abs(c["rows"]["real1"]["mean"] - c["rows"]["real2"]["mean"]) > 0.02   # >> the 1e-4 relative tolerance
    assert f"Under the {isc.INCEPTION_LABEL}, 1000 classes:" in (tiny_run / "metrics.md").read_text()
    # Keras' own network with those arguments (random weights): logits, not probabilities, over 1000 classes.
    net = keras.applications.inception_v3.InceptionV3(**{**asked[0], "weights": None, "input_shape": (75, 75, 3)})
    z = net(np.zeros((2, 75, 75, 3), np.float32)).numpy()
    assert z.shape == (2, 1000) and abs(z.sum(axis=1) - 1).min() > 1e-3
