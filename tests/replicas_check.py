"""Run by tests/test_distributed.py in a fresh process (the CPU must be split before TensorFlow starts):
`python tests/replicas_check.py CASE...` trains each case for a few iterations on one device and with
--strategy mirrored on 2 logical CPUs, from the same weights, data and noise, dropout off, and prints one JSON
line per case: the largest relative difference of every logged term, and after each iteration the variable whose
difference is largest measured against how far that variable moved."""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import devices  # noqa: E402

# One strategy for every case: a second MirroredStrategy over the same devices in one process can reuse the
# first one's collective instance keys (a shape mismatch in an all-reduce).
STRATEGY = [devices.make_strategy("mirrored", 2)]

import numpy as np  # noqa: E402

from test_precision import without_dropout  # noqa: E402
from test_trainers import before_batchnorm, make  # noqa: E402

CASES = {
    # CoGAN, DCGAN preset: BatchNorm in both nets (synchronised under replicas), the shared layers.
    "cogan": dict(gan_type="cogan", preset="dcgan", batch_size=8),
    # SCoGAN, thesis preset (WGAN-GP; 2 critic steps, not 5, for time) with every regulariser at once.
    "scogan_all": dict(gan_type="scogan", batch_size=4, disc_iters=2, feature_regulariser=True, semantic_loss=True,
                       cycle_consistency=True, perceptual_loss=True, vgg_weights="none", sgd_lr=1e-3),
    "clip": dict(gan_type="cogan", preset="dcgan", loss="wgan", disc_penalty="clip", optimizer="rmsprop",
                 batch_size=4),
}


def sgd(t, lr):
    """Plain SGD instead of Adam, built in the trainer's strategy scope: its update is linear in the gradient,
    so a loss not divided by the replicas (a doubled gradient) shows in the weights (Adam would normalise it
    away)."""
    import keras
    with t.strategy.scope():
        t.g_opt, t.d_opt = keras.optimizers.SGD(learning_rate=lr), keras.optimizers.SGD(learning_rate=lr)
        t.g_opt.build(t.g_vars)
        t.d_opt.build(t.d_vars)
    if hasattr(t, "enc_opt"):
        with t.strategy.scope():
            t.enc_opt = keras.optimizers.SGD(learning_rate=lr)
            t.enc_opt.build(t.encoder.trainable_variables)
    return t


def values(t):
    return [v.numpy() for m in t.models() for v in m.variables]


# Every case's trainers stay referenced until the process exits (CI time): on TF 2.21 deleting a tf.data iterator
# waits, idle, for its autotune thread's next pass (up to 60 s; tests/conftest.py _ITERATORS), which the
# garbage collection of an earlier case's trainers would pay during a later case; exiting does not wait.
KEEP = []


def run(case, steps, classifier_path=None):
    kw = dict(CASES[case])
    lr = kw.pop("sgd_lr", 0.05)
    if kw.get("semantic_loss"):
        kw["classifier_path"] = classifier_path
    strategy = STRATEGY[0]
    single = sgd(without_dropout(make(**kw)), lr)
    mirrored = sgd(without_dropout(make(strategy=strategy, **kw)), lr)
    KEEP.extend((single, mirrored))
    assert mirrored.replicas == 2
    start = values(single)
    paths = [v.path for m in single.models() for v in m.variables]
    logs = {"single": [], "mirrored": []}
    worst = []
    for _ in range(steps):
        for name, t in (("single", single), ("mirrored", mirrored)):
            out = t._compiled_step(t.next_inputs())
            logs[name].append({k: float(v) for k, v in out.items()})
        worst.append(worst_variable(paths, start, values(single), values(mirrored)))
    log_diff = max(abs(a[k] - b[k]) / max(abs(a[k]), 1e-3) for a, b in zip(logs["single"], logs["mirrored"])
                   for k in a)
    w_single = values(single)
    moved = max(float(np.max(np.abs(a - s))) for a, s in zip(w_single, start) if a.dtype.kind == "f")
    return {"case": case, "terms": sorted(logs["single"][0]), "log_rel_diff": log_diff, "weights_moved": moved,
            "worst_variable": worst, "variables": len(w_single), "step": int(mirrored.step.numpy()),
            "logs": logs["single"][-1]}


def worst_variable(paths, start, single, mirrored):
    """[ratio, path] of the float variable whose two runs differ most for how far it moved: (largest difference
    beyond one float32 rounding of each result, 2 * spacing of its largest entry) / its own largest move; inf
    where it differs beyond that but did not move. Per variable, so that a small variable that should move but
    stayed (or moved twice as far) shows, which a comparison with the largest move of any variable would hide.
    A bias right before BatchNorm is left out: its gradient is zero, its move rounding noise."""
    worst = [0.0, ""]
    for path, s, a, b in zip(paths, start, single, mirrored):
        if a.dtype.kind != "f" or before_batchnorm(path):
            continue
        excess = float(np.max(np.abs(a - b))) - 2 * float(np.spacing(np.abs(a).max()))
        if excess <= 0:
            continue
        moved = float(np.max(np.abs(a - s)))
        ratio = excess / moved if moved > 0 else float("inf")
        if ratio > worst[0]:
            worst = [ratio, path]
    return worst


if __name__ == "__main__":
    clf = None
    if any(CASES[c].get("semantic_loss") for c in sys.argv[1:]):
        import tempfile
        import classifiers
        clf = classifiers.save_classifier(classifiers.digit_classifier((32, 32, 3), 10),
                                          os.path.join(tempfile.mkdtemp(), "classifier.keras"),
                                          multilabel=False, names=[str(i) for i in range(10)])
    for case in sys.argv[1:]:
        print(json.dumps(run(case, steps=2, classifier_path=clf)), flush=True)
