"""Fréchet distances between image sets (Heusel et al. 2017): FID on Inception-v3 pool features, or the same
distance on another network's features (reported under another name, e.g. FCD for a classifier's).

    d^2 = ||mu_1 - mu_2||^2 + Tr(S_1 + S_2 - 2 (S_1 S_2)^{1/2})

Statistics are accumulated batch by batch (`FeatureStats`), so memory holds one D x D matrix, not the
features of every image.
"""
from __future__ import annotations

import os
import socket

import numpy as np
import tensorflow as tf

INCEPTION_SIZE = 299
INCEPTION_NAME = "FID (Inception-v3 pool features)"
# keras.applications.InceptionV3(include_top=False) caches its weights under this name in $KERAS_HOME/models.
INCEPTION_WEIGHTS_FILE = "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5"


class FeaturesUnavailable(RuntimeError):
    """The feature network cannot be built here (e.g. ImageNet weights not downloadable)."""


# ---------------------------------------------------------------------------------------------- distance

def _psd_sqrt(s):
    """Symmetric PSD square root by eigen-decomposition; tiny negative eigenvalues (rounding) become 0."""
    w, v = np.linalg.eigh((s + s.T) / 2.0)
    return (v * np.sqrt(np.clip(w, 0.0, None))) @ v.T


def _one_blas_thread():
    """A context that runs numpy's BLAS single-threaded. Right after TensorFlow ops, its spinning thread pools
    and OpenBLAS' contend for the cores and an eigh of 2048x2048 was measured 10x slower (2 cores); one BLAS
    thread takes ~1 s. threadpoolctl ships with scikit-learn; without it, nothing changes."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        import contextlib
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


def trace_sqrt_product(sigma_1, sigma_2) -> float:
    """Tr((S_1 S_2)^{1/2}) for covariance matrices.

    S_1 S_2 is not symmetric, and a general matrix square root of it (scipy.linalg.sqrtm) can return complex
    noise for singular covariances (fewer samples than features). It is similar to the symmetric PSD matrix
    S_1^{1/2} S_2 S_1^{1/2} (AB and BA share eigenvalues), whose eigenvalues `eigvalsh` gets stably: the
    trace is the sum of their square roots.
    """
    s1 = np.asarray(sigma_1, np.float64)
    s2 = np.asarray(sigma_2, np.float64)
    with _one_blas_thread():
        r = _psd_sqrt(s1)
        m = r @ s2 @ r
        w = np.linalg.eigvalsh((m + m.T) / 2.0)
    return float(np.sqrt(np.clip(w, 0.0, None)).sum())


def frechet_distance(mu_1, sigma_1, mu_2, sigma_2) -> float:
    """Squared Fréchet distance between N(mu_1, S_1) and N(mu_2, S_2) (Heusel et al. 2017, Eq. 6)."""
    mu_1, mu_2 = np.asarray(mu_1, np.float64).reshape(-1), np.asarray(mu_2, np.float64).reshape(-1)
    s1, s2 = np.atleast_2d(np.asarray(sigma_1, np.float64)), np.atleast_2d(np.asarray(sigma_2, np.float64))
    if mu_1.shape != mu_2.shape or s1.shape != s2.shape or s1.shape != (mu_1.size, mu_1.size):
        raise ValueError(f"mismatched statistics: means {mu_1.shape}, {mu_2.shape}; covariances {s1.shape}, "
                         f"{s2.shape}")
    diff = mu_1 - mu_2
    d = diff @ diff + np.trace(s1) + np.trace(s2) - 2.0 * trace_sqrt_product(s1, s2)
    return float(max(d, 0.0))  # rounding can leave -1e-12 for identical sets


class FeatureStats:
    """Running mean and covariance of feature vectors, merged batch by batch (Chan et al. 1979): no
    sum-of-squares cancellation when the mean is large next to the spread."""

    def __init__(self):
        self.n = 0
        self.mean = None
        self.m2 = None   # sum of outer products of deviations from the mean

    def update(self, features):
        x = np.asarray(features, np.float64)
        x = x.reshape(len(x), -1)
        nb = len(x)
        if nb == 0:
            return
        mb = x.mean(axis=0)
        dev = x - mb
        m2b = dev.T @ dev
        if self.n == 0:
            self.n, self.mean, self.m2 = nb, mb, m2b
            return
        n = self.n + nb
        delta = mb - self.mean
        self.mean = self.mean + delta * (nb / n)
        self.m2 = self.m2 + m2b + np.outer(delta, delta) * (self.n * nb / n)
        self.n = n

    def covariance(self):
        if self.n < 2:
            raise ValueError("a covariance needs at least two feature vectors")
        return self.m2 / (self.n - 1)

    def distance(self, other: "FeatureStats") -> float:
        return frechet_distance(self.mean, self.covariance(), other.mean, other.covariance())


# ---------------------------------------------------------------------------------------------- features

def inception_preprocess(images):
    """[-1, 1] images (B, H, W, 1 or 3) -> Inception-v3 input: RGB, 299x299, range [-1, 1].

    keras.applications.inception_v3.preprocess_input expects 0..255 ("tf" mode: x / 127.5 - 1), so the
    images go to 0..255 first; feeding [-1, 1] into preprocess_input would squash them to about -1.
    """
    from keras.applications import inception_v3

    x = tf.convert_to_tensor(images, tf.float32)
    if x.shape[-1] == 1:
        x = tf.tile(x, [1, 1, 1, 3])
    x = (tf.clip_by_value(x, -1.0, 1.0) + 1.0) * 127.5
    if tuple(x.shape[1:3]) != (INCEPTION_SIZE, INCEPTION_SIZE):
        x = tf.image.resize(x, [INCEPTION_SIZE, INCEPTION_SIZE], method="bilinear")
    return inception_v3.preprocess_input(x)


class FeatureExtractor:
    """Callable [-1, 1] images -> (B, D) float32 features, run in chunks of `chunk` images."""

    def __init__(self, name, model, preprocess, chunk=64):
        self.name = name
        self.model = model
        self.preprocess = preprocess
        self.chunk = int(chunk)
        self._fn = tf.function(lambda x: self.model(self.preprocess(x), training=False), reduce_retracing=True)

    def __call__(self, images):
        images = np.asarray(images, np.float32)
        out = [self._fn(tf.constant(images[i:i + self.chunk])).numpy() for i in range(0, len(images), self.chunk)]
        return np.concatenate(out).reshape(len(images), -1)


def inception_features(timeout_s: float = 60.0) -> FeatureExtractor:
    """Inception-v3 (ImageNet weights, no top, global average pool: 2048 features), or FeaturesUnavailable.

    The weights come from Keras' cache (~/.keras/models) or are downloaded; the download gets a socket
    timeout so that a machine behind a silent firewall fails instead of hanging. These are Keras' Inception
    weights, not the TF-slim graph of the original FID code: numbers are comparable between runs here, not
    with published FIDs.
    """
    import keras

    cached = os.path.join(os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras"),
                          "models", INCEPTION_WEIGHTS_FILE)
    if not os.path.isfile(cached):
        from data_sources import tfds_source
        if not tfds_source.network_reachable():  # say so at once, not after Keras' "Downloading ..." and its retries
            raise FeaturesUnavailable(f"Inception-v3 ImageNet weights not available (not in {cached} and "
                                      f"{tfds_source.DOWNLOAD_HOST} unreachable)")
    old = socket.getdefaulttimeout()
    socket.setdefaulttimeout(timeout_s)
    try:
        model = keras.applications.InceptionV3(weights="imagenet", include_top=False, pooling="avg",
                                               input_shape=(INCEPTION_SIZE, INCEPTION_SIZE, 3))
    except Exception as e:  # URL errors, HTTP errors, truncated files: all mean "not available here"
        text = " ".join(str(e).split())[:200]
        raise FeaturesUnavailable(f"Inception-v3 ImageNet weights not available ({type(e).__name__}: {text})") \
            from None
    finally:
        socket.setdefaulttimeout(old)
    model.trainable = False
    return FeatureExtractor(INCEPTION_NAME, model, inception_preprocess, chunk=50)


def adapt_to_input(images, input_shape):
    """[-1, 1] images -> the (H, W, C) a classifier takes: bilinear resize, gray <-> RGB by channel mean/tile."""
    x = tf.convert_to_tensor(images, tf.float32)
    h, w, c = (int(d) for d in input_shape)
    if tuple(x.shape[1:3]) != (h, w):
        x = tf.image.resize(x, [h, w], method="bilinear", antialias=True)
    if x.shape[-1] != c:
        if c == 1:
            x = tf.reduce_mean(x, axis=-1, keepdims=True)
        elif x.shape[-1] == 1:
            x = tf.tile(x, [1, 1, 1, c])
        else:
            raise ValueError(f"cannot feed {x.shape[-1]}-channel images to a {c}-channel classifier")
    return x
