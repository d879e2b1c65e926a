"""Optimisers by name (`--optimizer`) and weight decay, the solver setting that Caffe (the original CoGAN
code) and PyTorch put beside the learning rate: it acts on both networks' kernels, not only the critic's."""
from __future__ import annotations

import keras
import tensorflow as tf

import precision

OPTIMIZERS = {
    "adam": lambda lr, beta1, beta2: keras.optimizers.Adam(learning_rate=lr, beta_1=beta1, beta_2=beta2),
    "rmsprop": lambda lr, beta1, beta2: keras.optimizers.RMSprop(learning_rate=lr),  # no betas: WGAN (clip)
}


def make_optimizer(name, lr, beta1, beta2, mixed_precision="none"):
    """The optimizer `name`; under --mixed_precision fp16 behind a dynamic loss scale (precision.py)."""
    try:
        optimizer = OPTIMIZERS[name](lr, beta1, beta2)
    except KeyError:
        raise ValueError(f"unknown optimizer '{name}' (choose from {', '.join(OPTIMIZERS)})") from None
    return precision.wrap_optimizer(optimizer, mixed_precision)


def weight_decay(variables, rate):
    """L2 weight decay as Caffe and PyTorch define it: the loss term (rate / 2) * sum(w^2) over kernels, whose
    gradient adds rate * w to each kernel's gradient. (Keras' l2(rate) regulariser adds rate * sum(w^2), twice
    that; the authors' training loops never added their layers' regularisation losses, so their published runs
    had no weight decay: the default rate is 0, the text's 0.0005 (sec. 5.1) is `--weight_decay 0.0005`.)"""
    kernels = [v for v in variables if "kernel" in v.path]
    if rate == 0 or not kernels:
        return tf.constant(0.0)
    return 0.5 * rate * tf.add_n([tf.reduce_sum(tf.square(tf.cast(v, tf.float32))) for v in kernels])
