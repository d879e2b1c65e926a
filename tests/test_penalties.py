"""Penalties against hand-computed values."""
import numpy as np
import pytest
import tensorflow as tf
import keras

import penalties


class LinearCritic(keras.Model):
    """C(x) = sum(w * x): its input gradient is w everywhere, so the penalty is (||w|| - 1)^2."""

    def __init__(self, w):
        super().__init__()
        self.w = tf.constant(w)

    def call(self, x, training=False):
        return tf.reduce_sum(self.w * x, axis=[1, 2, 3])[:, None]


def test_gradient_penalty_of_linear_critic():
    w = np.full((2, 2, 1), 1.5, np.float32)  # ||w|| = 3 over H, W, C
    critic = LinearCritic(w)
    real = tf.random.normal((4, 2, 2, 1))
    fake = tf.random.normal((4, 2, 2, 1))
    alpha = tf.random.uniform((4, 1, 1, 1))
    gp = penalties.gradient_penalty(critic, real, fake, alpha)
    assert float(gp) == pytest.approx((3.0 - 1.0) ** 2, rel=1e-5)


def test_gradient_penalty_norm_is_per_sample():
    # Sample-dependent gradient: C(x) = 0.5 * sum(x^2) has gradient x, norm ||x_hat|| per sample.
    class Quadratic(keras.Model):
        def call(self, x, training=False):
            return 0.5 * tf.reduce_sum(x * x, axis=[1, 2, 3])[:, None]
    real = tf.constant(np.stack([np.full((1, 1, 2), 3.0), np.full((1, 1, 2), 0.0)]).astype(np.float32))
    fake = tf.zeros_like(real)
    alpha = tf.ones((2, 1, 1, 1))  # x_hat = real
    gp = penalties.gradient_penalty(Quadratic(), real, fake, alpha)
    norms = np.array([np.sqrt(18.0), 0.0])
    assert float(gp) == pytest.approx(np.mean((norms - 1) ** 2), rel=1e-5)


def test_gradient_penalty_is_finite_where_gradient_vanishes():
    class Zero(keras.Model):
        def call(self, x, training=False):
            return tf.zeros((tf.shape(x)[0], 1)) * tf.reduce_sum(x)
    x = tf.Variable(tf.zeros((2, 2, 2, 1)))
    with tf.GradientTape() as t:
        gp = penalties.gradient_penalty(Zero(), x, x, tf.ones((2, 1, 1, 1)))
    g = t.gradient(gp, x)
    assert float(gp) == pytest.approx(1.0, abs=1e-5)
    assert g is None or np.all(np.isfinite(g.numpy()))


def test_wgan_gp_penalty_applies_lambda():
    critic = LinearCritic(np.full((2, 2, 1), 1.0, np.float32))  # ||w|| = 2
    p = penalties.get_penalty("wgan-gp", gp_weight=10.0)
    rng = tf.random.Generator.from_seed(0)
    real = tf.ones((3, 2, 2, 1))
    assert float(p.term(critic, real, -real, rng)) == pytest.approx(10.0, rel=1e-5)


def test_weight_clip_constrains_all_variables():
    v = [tf.Variable([0.5, -0.2, 0.001]), tf.Variable([[-3.0]])]
    penalties.get_penalty("clip", clip_value=0.01).constrain(v)
    np.testing.assert_allclose(v[0].numpy(), [0.01, -0.01, 0.001])
    np.testing.assert_allclose(v[1].numpy(), [[-0.01]])


def test_no_penalty_is_zero_and_changes_nothing():
    p = penalties.get_penalty("none")
    v = [tf.Variable([5.0])]
    p.constrain(v)
    assert float(p.term(None, None, None, None)) == 0.0 and float(v[0][0]) == 5.0


def test_weight_decay_counts_kernels_only():
    layer = keras.layers.Dense(2, bias_initializer="ones")
    layer.build((None, 3))
    layer.kernel.assign(np.full((3, 2), 2.0, np.float32))
    wd = penalties.weight_decay(layer.trainable_variables, 0.0005)
    assert float(wd) == pytest.approx(0.0005 * 6 * 4.0)
    assert float(penalties.weight_decay(layer.trainable_variables, 0.0)) == 0.0


def test_unknown_penalty():
    with pytest.raises(ValueError, match="unknown discriminator penalty"):
        penalties.get_penalty("spectral")
