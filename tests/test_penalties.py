"""Penalties against hand-computed values."""
import numpy as np
import pytest
import tensorflow as tf
import keras

import optimisers
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


def test_gradient_penalty_at_per_sample_interpolates():
    """C(x) = 0.5 * sum(x^2) has input gradient x, so the penalty reads off x_hat = alpha * real + (1 - alpha) * fake
    (Gulrajani et al. 2017, Alg. 1) at an intermediate alpha per sample, the norm per sample over H, W, C: sample 1
    (real 3, fake 1, alpha 0.25) has x_hat = 1.5, sample 2 (real 4, fake 0, alpha 0.5) x_hat = 2, both in 2 entries.
    x_hat = real, = fake, or the mixture with alpha and 1 - alpha swapped give other values."""
    class Quadratic(keras.Model):
        def call(self, x, training=False):
            return 0.5 * tf.reduce_sum(x * x, axis=[1, 2, 3])[:, None]
    real = tf.constant(np.stack([np.full((1, 1, 2), 3.0), np.full((1, 1, 2), 4.0)]).astype(np.float32))
    fake = tf.constant(np.stack([np.full((1, 1, 2), 1.0), np.full((1, 1, 2), 0.0)]).astype(np.float32))
    alpha = tf.constant([0.25, 0.5], shape=(2, 1, 1, 1))
    gp = float(penalties.gradient_penalty(Quadratic(), real, fake, alpha))
    norms = np.sqrt(2.0) * np.array([1.5, 2.0])
    assert gp == pytest.approx(np.mean((norms - 1) ** 2), rel=1e-6)
    for wrong in ([3.0, 4.0], [1.0, 0.0], [2.5, 2.0]):  # real, fake, swapped
        assert abs(gp - np.mean((np.sqrt(2.0) * np.array(wrong) - 1) ** 2)) > 0.1


def test_gradient_penalty_gradient_reaches_the_critic_weights():
    """The penalty must train the critic: for C(x) = sum(w * x) it is (||w|| - 1)^2, whose gradient with respect
    to w is 2 (||w|| - 1) w / ||w|| -- through the inner input gradient (double backpropagation)."""
    class Trainable(keras.Model):
        def __init__(self, w):
            super().__init__()
            self.w = tf.Variable(w)

        def call(self, x, training=False):
            return tf.reduce_sum(self.w * x, axis=[1, 2, 3])[:, None]

    w0 = np.random.default_rng(1).normal(size=(2, 2, 1)).astype(np.float32)
    critic = Trainable(w0)
    real, fake = tf.random.normal((4, 2, 2, 1)), tf.random.normal((4, 2, 2, 1))
    with tf.GradientTape() as tape:
        gp = penalties.gradient_penalty(critic, real, fake, tf.random.uniform((4, 1, 1, 1)))
    g = tape.gradient(gp, critic.w)
    norm = np.linalg.norm(w0)
    assert g is not None
    np.testing.assert_allclose(g.numpy(), 2 * (norm - 1) * w0 / norm, rtol=1e-4, atol=1e-6)
    # Where the input gradient vanishes (w = 0) the penalty is 1 and its gradient finite (epsilon in the sqrt).
    critic.w.assign(np.zeros_like(w0))
    with tf.GradientTape() as tape:
        gp = penalties.gradient_penalty(critic, real, fake, tf.ones((4, 1, 1, 1)))
    g = tape.gradient(gp, critic.w)
    assert float(gp) == pytest.approx(1.0, abs=1e-5)
    assert g is not None and np.all(np.isfinite(g.numpy()))


def test_wgan_gp_penalty_applies_lambda():
    critic = LinearCritic(np.full((2, 2, 1), 1.0, np.float32))  # ||w|| = 2
    p = penalties.get_penalty("wgan-gp", gp_weight=10.0)
    rng = tf.random.Generator.from_seed(0)
    real = tf.ones((3, 2, 2, 1))
    assert float(p.terms(critic, real, -real, rng)["d_gp"]) == pytest.approx(10.0, rel=1e-5)


def test_weight_clip_constrains_all_variables():
    v = [tf.Variable([0.5, -0.2, 0.001]), tf.Variable([[-3.0]])]
    penalties.get_penalty("clip", clip_value=0.01).constrain(v)
    np.testing.assert_allclose(v[0].numpy(), [0.01, -0.01, 0.001])
    np.testing.assert_allclose(v[1].numpy(), [[-0.01]])


def test_no_penalty_is_zero_and_changes_nothing():
    p = penalties.get_penalty("none")
    v = [tf.Variable([5.0])]
    p.constrain(v)
    assert p.terms(None, None, None, None) == {} and float(v[0][0]) == 5.0


def test_weight_decay_counts_kernels_only():
    layer = keras.layers.Dense(2, bias_initializer="ones")
    layer.build((None, 3))
    layer.kernel.assign(np.full((3, 2), 2.0, np.float32))
    wd = optimisers.weight_decay(layer.trainable_variables, 0.0005)
    # Caffe / PyTorch weight decay: the loss term (rate / 2) * sum(w^2), 6 kernel entries of 4.
    assert float(wd) == pytest.approx(0.5 * 0.0005 * 6 * 4.0)
    assert float(optimisers.weight_decay(layer.trainable_variables, 0.0)) == 0.0


def test_weight_decay_gradient_is_rate_times_w():
    """What Caffe and PyTorch mean by weight decay r: each kernel's gradient gains r * w (not 2 r w)."""
    layer = keras.layers.Dense(3)
    layer.build((None, 4))
    w = np.random.default_rng(2).normal(size=(4, 3)).astype(np.float32)
    layer.kernel.assign(w)
    with tf.GradientTape() as tape:
        wd = optimisers.weight_decay(layer.trainable_variables, 0.0005)
    gk, gb = tape.gradient(wd, [layer.kernel, layer.bias])
    np.testing.assert_allclose(gk.numpy(), 0.0005 * w, rtol=1e-5)
    assert gb is None


def test_unknown_penalty():
    with pytest.raises(ValueError, match="unknown discriminator penalty"):
        penalties.get_penalty("spectral")
