"""Measures of pairing that LPIPS misses: per-pair statistics for generated pairs (G1(z), G2(z)).

All images are NHWC float batches in [-1, 1], the generators' tanh range. Every function returns one value
per pair (or per image), so an evaluation can stream batches and keep only these arrays.

- `transform_images`: the derived second domains of data.py (edge, negative, rotate; thesis sec. 5.2),
  batched in TF on [-1, 1] RGB images of the generated size.
- `pixel_agreement`: how well G2(z) matches transform(G1(z)) (the CoGAN paper's measure for derived pairs,
  Liu & Tuzel 2016, sec. 5).
- `class_agreement`: whether an evaluation classifier puts G1(z) and G2(z) in the same class.
- `mean_and_se`: mean and standard error, as every entry of the thesis's LPIPS tables (Tables 3.3-3.8).
- `Extremes`: the k lowest- and highest-scoring pairs, kept while streaming (the thesis's figures).
"""
from __future__ import annotations

import math

import numpy as np
import tensorflow as tf

TRANSFORMS = ("edge", "negative", "rotate")
# Intensities are compared in [0, 1] (data.py's transforms work there); a pixel "agrees" within this.
DEFAULT_TOLERANCE = 0.1


def mean_and_se(values) -> tuple:
    """(mean, standard error of the mean = sample std (ddof 1) / sqrt(n)); s.e. is None below two values."""
    v = np.asarray(values, np.float64).reshape(-1)
    if v.size == 0:
        raise ValueError("mean_and_se needs at least one value")
    if v.size < 2:
        return float(v[0]), None
    return float(v.mean()), float(v.std(ddof=1) / math.sqrt(v.size))


# ---------------------------------------------------------------------------------------------- transforms

def to_gray01(x):
    """[-1, 1] images (B, H, W, 1 or 3) -> grayscale intensities (B, H, W) in [0, 1] (mean over channels:
    the data are gray repeated to RGB, and a generator's channels may differ slightly)."""
    x = tf.convert_to_tensor(x, tf.float32)
    return tf.clip_by_value((tf.reduce_mean(x, axis=-1) + 1.0) * 0.5, 0.0, 1.0)


def from_gray01(g, channels=3):
    """(B, H, W) intensities in [0, 1] -> (B, H, W, channels) in [-1, 1], as data.py feeds the nets."""
    return tf.tile(g[..., None] * 2.0 - 1.0, [1, 1, 1, channels])


def _apply(transform, g):
    """data_sources.transforms (the one implementation, NumPy, on [..., H, W] in [0, 1]) on a (B, H, W) tensor."""
    from data_sources import transforms
    return tf.constant(transforms.TRANSFORMS[transform](np.asarray(g, np.float32)), tf.float32)


def _resize01(g, size, antialias=True):
    # Up: as data.py (bilinear + antialias, clipped). Down to the native size: no antialias, which undoes
    # data.py's bilinear upscaling far better (measured: mean error 0.035 vs 0.091 on real 8x8 digits).
    out = tf.image.resize(g[..., None], [size, size], method="bilinear", antialias=antialias)[..., 0]
    return tf.clip_by_value(out, 0.0, 1.0)


def transform_images(x, transform: str, native_size: int | None = None):
    """Apply a derived-domain transform (thesis sec. 5.2) to [-1, 1] images (B, S, S, C) -> same shape.

    data.py transforms the grayscale image at its native resolution (MNIST 28, scikit-learn digits 8) and
    then resizes to S. Negative and rotation commute with that resize, so they act at S directly. The edge
    is a 3x3 dilation, whose width depends on the resolution: it is taken at `native_size` (down, edge, up)
    when given, so a transformed G1(z) looks like the domain-2 data G2 was trained on. That round trip is
    not exact: a real image through both paths agrees on ~84% of pixels (digits, 8x8) and ~87% (MNIST) at
    the default tolerance, a ceiling for edge pairs that G2(z) = transform(G1(z)) alone reaches 100% of.
    """
    if transform not in TRANSFORMS:
        raise ValueError(f"unknown transform '{transform}' (choose from {', '.join(TRANSFORMS)})")
    x = tf.convert_to_tensor(x, tf.float32)
    size, channels = int(x.shape[1]), int(x.shape[-1])
    g = to_gray01(x)
    if transform == "edge" and native_size and int(native_size) != size:
        g = _resize01(_apply("edge", _resize01(g, int(native_size), antialias=False)), size)
    else:
        g = _apply(transform, g)
    return from_gray01(g, channels)


def pixel_agreement(expected, actual, tolerance: float = DEFAULT_TOLERANCE):
    """Per pair: (mean absolute pixel difference, fraction of pixels within `tolerance`), both (B,) numpy.

    Compared as grayscale intensities in [0, 1]; `expected` is transform(G1(z)), `actual` is G2(z).
    Perfect pairing gives (0, 1).
    """
    diff = tf.abs(to_gray01(expected) - to_gray01(actual))
    mad = tf.reduce_mean(diff, axis=[1, 2])
    agree = tf.reduce_mean(tf.cast(diff <= tolerance, tf.float32), axis=[1, 2])
    return mad.numpy(), agree.numpy()


# ---------------------------------------------------------------------------------------------- classes

def class_agreement(logits_1, logits_2, multilabel: bool):
    """Per pair (B,): 1 where the classifier puts both images in the same class (argmax), else 0; for a
    multi-label classifier the fraction of attributes whose thresholded sigmoid (logit > 0) agrees."""
    l1 = np.asarray(logits_1, np.float32)
    l2 = np.asarray(logits_2, np.float32)
    if l1.shape != l2.shape or l1.ndim != 2:
        raise ValueError(f"class_agreement needs two (B, classes) logit arrays, got {l1.shape} and {l2.shape}")
    if multilabel:
        return ((l1 > 0) == (l2 > 0)).mean(axis=1).astype(np.float64)
    return (l1.argmax(axis=1) == l2.argmax(axis=1)).astype(np.float64)


# ---------------------------------------------------------------------------------------------- figures

class Extremes:
    """The k lowest- and k highest-scoring pairs seen so far, with their images; memory O(k)."""

    def __init__(self, k: int = 8):
        self.k = int(k)
        self.low = self.high = None   # (scores, images_1, images_2)

    @staticmethod
    def _keep(current, scores, a, b, k, largest):
        if current is not None:
            scores = np.concatenate([current[0], scores])
            a = np.concatenate([current[1], a])
            b = np.concatenate([current[2], b])
        order = np.argsort(-scores if largest else scores, kind="stable")[:k]
        return scores[order], a[order], b[order]

    def update(self, scores, images_1, images_2):
        scores = np.asarray(scores, np.float64)
        a, b = np.asarray(images_1), np.asarray(images_2)
        self.low = self._keep(self.low, scores, a, b, self.k, largest=False)
        self.high = self._keep(self.high, scores, a, b, self.k, largest=True)
