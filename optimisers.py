"""Optimisers by name (`--optimizer`) and weight decay, the solver setting that Caffe (the original CoGAN
code) and PyTorch put beside the learning rate: it acts on both networks' kernels, not only the critic's."""
from __future__ import annotations

import keras
import tensorflow as tf

import precision

OPTIMIZERS = {
    "adam": lambda lr, beta1, beta2: keras.optimizers.Adam(learning_rate=lr, beta_1=beta1, beta_2=beta2),
    # No betas. The WGAN code's RMSprop (`--preset wgan`): PyTorch's defaults, decay 0.99 and lr * g / (sqrt(v) +
    # 1e-8); Keras adds epsilon inside the root, so 1e-16 there bounds the denominator below by the same 1e-8.
    "rmsprop": lambda lr, beta1, beta2: keras.optimizers.RMSprop(learning_rate=lr, rho=0.99, epsilon=1e-16),
    "sgd": lambda lr, beta1, beta2: keras.optimizers.SGD(learning_rate=lr),  # no momentum: w -= lr * gradient
}


def make_optimizer(name, lr, beta1, beta2, mixed_precision="none"):
    """The optimizer `name`; under --mixed_precision fp16 behind a dynamic loss scale (precision.py)."""
    try:
        optimizer = OPTIMIZERS[name](lr, beta1, beta2)
    except KeyError:
        raise ValueError(f"unknown optimizer '{name}' (choose from {', '.join(OPTIMIZERS)})") from None
    return precision.wrap_optimizer(optimizer, mixed_precision)


def weight_decay(variables, rate):
    """L2 weight decay, the loss term (rate / 2) * sum(w^2) over `variables`' kernels (biases are not decayed).

    `--weight_decay r` adds `(r / 2) * sum(w^2)` over the kernels to each network's loss, i.e. `r * w` to each
    kernel's gradient: the rate as Caffe's solver and PyTorch's optimisers define it. The text's decay rates are
    such solver rates, copied from the CoGAN code: 0.0005 for MNIST2edge and MNIST2SVHN (sec. 5.1, line 996; the
    PyTorch code's) and 0.0001 for CelebA and sec. 5.4's CycleGAN runs (the Caffe code's, line 708; secs. 5.3 and
    5.4, lines 1103 and 1160), so `--weight_decay 0.0005` and `--weight_decay 0.0001` follow the text. The term
    the text writes at line 701, `c * sum(w^2)` (Keras' `l2(c)`), has the gradient `2c * w`: read literally it is
    `--weight_decay 2c` (0.001 and 0.0002).

    The default rate is 0: the authors' training loops never added their layers' regularisation losses
    (Listings 6.12, 6.15), so their published runs had none."""
    kernels = [v for v in variables if "kernel" in v.path]
    if rate == 0 or not kernels:
        return tf.constant(0.0)
    return 0.5 * rate * tf.add_n([tf.reduce_sum(tf.square(tf.cast(v, tf.float32))) for v in kernels])


# --nonfinite skip: the logged column counting the updates a step left out (trainers.loop stops after SKIP_PATIENCE
# consecutive iterations with one).
SKIPPED_KEY = "skipped_updates"


def apply_if_finite(optimizer, grads, variables, values=(), skip=False):
    """optimizer.apply_gradients, or (skip=True, `--nonfinite skip`) nothing when a gradient or one of `values`
    (the objective) is NaN/inf: the weights and the optimizer state stay as they were. -> 1.0 if skipped."""
    if not skip:
        optimizer.apply_gradients(zip(grads, variables))
        return tf.constant(0.0)
    finite = tf.reduce_all([tf.reduce_all(tf.math.is_finite(tf.cast(t, tf.float32)))
                            for t in list(values) + [g for g in grads if g is not None]])

    def apply():
        optimizer.apply_gradients(zip(grads, variables))
        return tf.constant(0.0)

    return tf.cond(finite, apply, lambda: tf.constant(1.0))
