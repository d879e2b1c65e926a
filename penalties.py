"""Discriminator penalties, chosen by name (`--disc_penalty`).

A penalty contributes named `terms` to the critic's loss ({log name: scalar}: each is added to the objective and
logged in its own losses.csv column, per domain; `noise.uniform(shape, lo, hi)`, trainers.base.StepNoise, draws
its random numbers) and may `constrain` the critic's variables after each update
(weight clipping). Trainers call both for every penalty, so they never branch on the penalty's name. A penalty's
`options` maps its constructor's arguments to the config options that set them: get_penalty reads those and only
those, so a new penalty (with options of its own) is its class, one PENALTIES entry and its options in config.py.
(Weight decay is an optimiser setting on both nets: optimisers.weight_decay.)
"""
from __future__ import annotations

import tensorflow as tf


def gradient_penalty(critic, real, fake, alpha, training=True, scale=None):
    """WGAN-GP penalty E[(||grad_x C(x_hat)||_2 - 1)^2] (Gulrajani et al. 2017, Eq. 3), unweighted.

    x_hat = alpha * real + (1 - alpha) * fake with alpha of shape (B, 1, ..., 1) uniform per sample; the norm is
    per sample over all non-batch axes; epsilon inside the sqrt keeps the gradient finite at 0. `scale`
    (--mixed_precision fp16: the critic optimizer's loss scale): the inner gradient is taken of scale * C and
    divided by it, so that its float16 backward pass does not underflow (precision.py).
    """
    real = tf.cast(real, tf.float32)
    fake = tf.cast(fake, tf.float32)
    x_hat = alpha * real + (1.0 - alpha) * fake
    with tf.GradientTape() as tape:
        tape.watch(x_hat)
        out = tf.cast(critic(x_hat, training=training), tf.float32)
        if scale is not None:
            out = out * scale
    grads = tape.gradient(out, x_hat)
    if scale is not None:
        grads = grads / scale
    axes = list(range(1, len(x_hat.shape)))
    norm = tf.sqrt(tf.reduce_sum(tf.square(grads), axis=axes) + 1e-12)
    return tf.reduce_mean(tf.square(norm - 1.0))


class NoPenalty:
    name = "none"
    options: dict = {}   # constructor argument -> config option (read by get_penalty)

    def terms(self, critic, real, fake, noise, training=True, scale=None):
        return {}

    def constrain(self, variables):
        pass


class WganGpPenalty(NoPenalty):
    """lambda * gradient_penalty (lambda = 10 in Gulrajani et al.)."""
    name = "wgan-gp"
    options = {"weight": "gp_weight"}

    def __init__(self, weight=10.0):
        self.weight = float(weight)

    def terms(self, critic, real, fake, noise, training=True, scale=None):
        shape = [tf.shape(real)[0]] + [1] * (len(real.shape) - 1)
        alpha = noise.uniform(shape, 0.0, 1.0)
        return {"d_gp": self.weight * gradient_penalty(critic, real, fake, alpha, training=training, scale=scale)}


class WeightClip(NoPenalty):
    """Clip every discriminator variable to [-c, c] after each update (Arjovsky et al. 2017, Alg. 1)."""
    name = "clip"
    options = {"clip_value": "clip_value"}

    def __init__(self, clip_value=0.01):
        self.clip_value = float(clip_value)

    def constrain(self, variables):
        c = self.clip_value
        clip = lambda v: v.assign(tf.clip_by_value(v, -c, c))  # noqa: E731
        ctx = tf.distribute.get_replica_context()
        if ctx is not None and ctx.num_replicas_in_sync > 1:
            # Replicated: clipped once, in cross-replica context, on every copy of the weights.
            ctx.merge_call(lambda strategy: [strategy.extended.update(getattr(v, "value", v), clip)
                                             for v in variables])
        else:
            for v in variables:
                clip(v)


PENALTIES = {"none": NoPenalty, "wgan-gp": WganGpPenalty, "clip": WeightClip}


def get_penalty(name: str, **options):
    """The penalty `name`, built from the config options its class names (`options`, e.g. gp_weight=10.0 for
    wgan-gp); options it does not name are ignored, a named one left out takes the constructor's default."""
    try:
        cls = PENALTIES[name]
    except KeyError:
        raise ValueError(f"unknown discriminator penalty '{name}' (choose from {', '.join(PENALTIES)})") from None
    return cls(**{arg: options[key] for arg, key in cls.options.items() if key in options})
