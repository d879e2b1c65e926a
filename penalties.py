"""Discriminator penalties and weight decay, chosen by name (`--disc_penalty`).

A penalty contributes a scalar `term` to the discriminator loss and may `constrain` the discriminator's
variables after each update (weight clipping). Trainers call both for every penalty, so they never branch
on the penalty's name.
"""
from __future__ import annotations

import tensorflow as tf


def gradient_penalty(critic, real, fake, alpha, training=True):
    """WGAN-GP penalty E[(||grad_x C(x_hat)||_2 - 1)^2] (Gulrajani et al. 2017, Eq. 3), unweighted.

    x_hat = alpha * real + (1 - alpha) * fake with alpha of shape (B, 1, ..., 1) uniform per sample; the norm is
    per sample over all non-batch axes; epsilon inside the sqrt keeps the gradient finite at 0.
    """
    real = tf.cast(real, tf.float32)
    fake = tf.cast(fake, tf.float32)
    x_hat = alpha * real + (1.0 - alpha) * fake
    with tf.GradientTape() as tape:
        tape.watch(x_hat)
        out = tf.cast(critic(x_hat, training=training), tf.float32)
    grads = tape.gradient(out, x_hat)
    axes = list(range(1, len(x_hat.shape)))
    norm = tf.sqrt(tf.reduce_sum(tf.square(grads), axis=axes) + 1e-12)
    return tf.reduce_mean(tf.square(norm - 1.0))


def weight_decay(variables, rate):
    """L2 weight decay as Caffe and PyTorch define it: the loss term (rate / 2) * sum(w^2) over kernels, whose
    gradient adds rate * w to each kernel's gradient. (Keras' l2(rate) regulariser adds rate * sum(w^2), twice
    that; the authors' training loops never added their layers' regularisation losses, so their published runs
    had no weight decay: the default rate is 0, the text's 0.0005 (sec. 5.1) is `--weight_decay 0.0005`.)"""
    kernels = [v for v in variables if "kernel" in v.path]
    if rate == 0 or not kernels:
        return tf.constant(0.0)
    return 0.5 * rate * tf.add_n([tf.reduce_sum(tf.square(tf.cast(v, tf.float32))) for v in kernels])


class NoPenalty:
    name = "none"

    def term(self, critic, real, fake, rng, training=True):
        return tf.constant(0.0)

    def constrain(self, variables):
        pass


class WganGpPenalty(NoPenalty):
    """lambda * gradient_penalty (lambda = 10 in Gulrajani et al.)."""
    name = "wgan-gp"

    def __init__(self, weight=10.0):
        self.weight = float(weight)

    def term(self, critic, real, fake, rng, training=True):
        shape = [tf.shape(real)[0]] + [1] * (len(real.shape) - 1)
        alpha = rng.uniform(shape, 0.0, 1.0)
        return self.weight * gradient_penalty(critic, real, fake, alpha, training=training)


class WeightClip(NoPenalty):
    """Clip every discriminator variable to [-c, c] after each update (Arjovsky et al. 2017, Alg. 1)."""
    name = "clip"

    def __init__(self, clip_value=0.01):
        self.clip_value = float(clip_value)

    def constrain(self, variables):
        for v in variables:
            v.assign(tf.clip_by_value(v, -self.clip_value, self.clip_value))


PENALTIES = {"none": NoPenalty, "wgan-gp": WganGpPenalty, "clip": WeightClip}


def get_penalty(name: str, *, gp_weight=10.0, clip_value=0.01):
    if name == "wgan-gp":
        return WganGpPenalty(gp_weight)
    if name == "clip":
        return WeightClip(clip_value)
    if name == "none":
        return NoPenalty()
    raise ValueError(f"unknown discriminator penalty '{name}' (choose from {', '.join(PENALTIES)})")
