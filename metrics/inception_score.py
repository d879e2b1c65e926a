"""The Inception Score (Salimans et al. 2016, "Improved techniques for training GANs", sec. 4) over any classifier.

    IS = exp(E_x KL(p(y|x) || p(y)))

as the original code computes it (openai/improved-gan, inception_score.py): the N images in 10 consecutive
splits [k N // 10, (k + 1) N // 10), p(y) the mean of p(y|x) over each split, one score per split, and the mean
and the standard deviation (NumPy's, ddof 0) of the 10 scores.

Streamed: since KL(p(y|x) || p(y)) = sum_y p log p - sum_y p log p(y), and p(y) is the split's mean,

    E_x KL = mean_x(sum_y p(y|x) log p(y|x)) - sum_y p(y) log p(y),

so a split needs only its count, the sum of its p(y|x) (K numbers) and the sum of its sum_y p log p (one
number): `SplitScores` holds 10 x (K + 2) numbers, never the images or their probabilities.

The classifier is anyone's (`CLASSIFIERS`): the evaluation classifier's softmax offline, and Keras' ImageNet
Inception-v3 where its full weights (with the top) are already in Keras' cache; they are never downloaded here.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np

SPLITS = 10   # the original code's default, used for every published IS
FORMULA = ("exp(E_x KL(p(y|x) || p(y))), p(y) the mean of p(y|x) over each split; mean and std (ddof 0) over "
           "consecutive splits (Salimans et al. 2016)")
# keras.applications.InceptionV3(include_top=True) caches its weights under this name in $KERAS_HOME/models.
INCEPTION_TOP_WEIGHTS_FILE = "inception_v3_weights_tf_dim_ordering_tf_kernels.h5"
INCEPTION_LABEL = ("Inception-v3 (Keras' ImageNet weights, 1000 classes; not the 1008-class TF graph of Salimans "
                   "et al.: comparable between runs here, not with published scores)")


# ---------------------------------------------------------------------------------------------- the formula

def _xlogx(p):
    """p log p elementwise, 0 where p = 0 (its limit)."""
    p = np.asarray(p, np.float64)
    return np.where(p > 0, p * np.log(np.where(p > 0, p, 1.0)), 0.0)


def log_softmax(logits):
    """log p(y|x) from logits (B, K), float64, by subtracting the row's logsumexp: no overflow for large logits."""
    z = np.asarray(logits, np.float64)
    z = z - z.max(axis=1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=1, keepdims=True))


def split_bounds(n: int, splits: int) -> np.ndarray:
    """The original code's split boundaries: split k holds images [k n // splits, (k + 1) n // splits)."""
    return np.array([k * n // splits for k in range(splits + 1)], np.int64)


class SplitScores:
    """The Inception Score of `total` images fed in order, batch by batch, as probabilities or logits.

    splits: SPLITS, or `total` when fewer images than splits (every split then holds one image)."""

    def __init__(self, total: int, splits: int = SPLITS):
        total, splits = int(total), int(splits)
        if total < 1 or splits < 1:
            raise ValueError(f"the Inception Score needs at least one image and one split (got {total}, {splits})")
        self.total, self.splits = total, min(splits, total)
        self.bounds = split_bounds(total, self.splits)
        self.count = np.zeros(self.splits, np.int64)
        self.p_sum = None                              # (splits, K): sum of p(y|x) per split
        self.xlogx_sum = np.zeros(self.splits)         # sum over the split of sum_y p log p
        self.seen = 0

    def add_logits(self, logits):
        logp = log_softmax(logits)
        p = np.exp(logp)
        self._add(p, np.where(p > 0, p * logp, 0.0).sum(axis=1))

    def add_probabilities(self, probabilities):
        """Rows of non-negative numbers, renormalised to sum 1 (a float32 softmax is off by ~1e-7)."""
        p = np.asarray(probabilities, np.float64)
        if p.ndim != 2 or (p < 0).any() or not (p.sum(axis=1) > 0).all():
            raise ValueError("probabilities must be (B, K), non-negative, each row with a positive sum")
        p = p / p.sum(axis=1, keepdims=True)
        self._add(p, _xlogx(p).sum(axis=1))

    def _add(self, p, xlogx):
        if self.p_sum is None:
            self.p_sum = np.zeros((self.splits, p.shape[1]))
        elif p.shape[1] != self.p_sum.shape[1]:
            raise ValueError(f"{p.shape[1]} classes after {self.p_sum.shape[1]}")
        index = self.seen + np.arange(len(p))
        if len(p) and index[-1] >= self.total:
            raise ValueError(f"more than the {self.total} images announced")
        split = np.searchsorted(self.bounds, index, side="right") - 1
        np.add.at(self.count, split, 1)
        np.add.at(self.p_sum, split, p)
        np.add.at(self.xlogx_sum, split, xlogx)
        self.seen += len(p)

    def scores(self) -> np.ndarray:
        """One IS per split: exp(mean_x sum_y p log p - sum_y p(y) log p(y))."""
        if self.seen != self.total:
            raise ValueError(f"{self.seen} images fed of the {self.total} announced")
        p_y = self.p_sum / self.count[:, None]
        return np.exp(self.xlogx_sum / self.count - _xlogx(p_y).sum(axis=1))

    def result(self) -> dict:
        s = self.scores()
        return {"mean": float(s.mean()), "std": float(s.std()), "n": self.total, "splits": self.splits}


def inception_score(values, splits: int = SPLITS, logits: bool = False) -> dict:
    """{"mean", "std", "n", "splits"} of a whole (N, K) array of probabilities (or logits)."""
    values = np.asarray(values)
    stats = SplitScores(len(values), splits)
    (stats.add_logits if logits else stats.add_probabilities)(values)
    return stats.result()


# ---------------------------------------------------------------------------------------------- the classifiers

@dataclass
class Source:
    """A classifier the score is computed with: its label in metrics.json/md, its number of classes, and
    logits(batch, who) -> (B, K) logits of the batch's images `who` (measures.Batch)."""
    label: str
    classes: Optional[int]
    logits: Callable


def evaluation_classifier(ctx):
    """-> (Source, None), or (None, why not): the evaluation classifier's softmax, shared with class agreement
    and FCD (measures.Batch.probed computes it once)."""
    if ctx.probe is None:
        return None, "no evaluation classifier"
    if ctx.probe.multilabel:
        return None, ("the evaluation classifier is multi-label (one sigmoid per attribute); the score needs one "
                      "softmax over classes")
    meta = ctx.classifier_meta or {}
    classes = meta.get("num_outputs") or len(meta.get("names") or ()) or None
    return Source(f"evaluation classifier `{ctx.classifier}`", classes, lambda batch, who: batch.probed(who)[1]), None


def inception_top_weights() -> str:
    """Where Keras caches the Inception-v3 weights with the top ($KERAS_HOME, else ~/.keras, then models/)."""
    home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    return os.path.join(home, "models", INCEPTION_TOP_WEIGHTS_FILE)


def inception_v3(ctx):
    """-> (Source, None), or (None, why not): Keras' ImageNet Inception-v3 logits at 299x299, only when its
    weights are already cached and the evaluation may be slow (ctx.fid; not at the end of training)."""
    if not ctx.fid:
        return None, ("Inception-v3 is not run by the evaluation at the end of training (slow on CPU at 299x299): "
                      "run `python main.py --evaluate RUN_DIR`")
    path = inception_top_weights()
    if not os.path.isfile(path):
        return None, f"Inception-v3's ImageNet weights with the top are not in {path} (never downloaded here)"
    import keras

    from metrics import fid as fidlib
    try:
        model = keras.applications.InceptionV3(weights="imagenet", include_top=True, classifier_activation=None,
                                               input_shape=(fidlib.INCEPTION_SIZE, fidlib.INCEPTION_SIZE, 3))
    except Exception as e:  # a truncated or foreign file: one reason, not a traceback
        return None, f"Inception-v3 not usable ({type(e).__name__}: {' '.join(str(e).split())[:200]})"
    model.trainable = False
    net = fidlib.FeatureExtractor(INCEPTION_LABEL, model, fidlib.inception_preprocess, chunk=50)
    return Source(INCEPTION_LABEL, int(model.output_shape[-1]), lambda batch, who: net(batch.images[who])), None


# In the order of metrics.json and metrics.md: the key of each classifier's scores -> its builder.
CLASSIFIERS = {"evaluation_classifier": evaluation_classifier, "inception_v3": inception_v3}
