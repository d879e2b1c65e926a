"""Each loss against values worked out by hand."""
import math

import numpy as np
import pytest
import tensorflow as tf

import losses


def sp(x):  # softplus
    return math.log1p(math.exp(x))


REAL = np.array([[2.0], [-1.0]], np.float32)
FAKE = np.array([[0.5], [-3.0]], np.float32)


def test_minimax_discriminator_is_binary_cross_entropy():
    # -log sigmoid(r) = softplus(-r); -log(1 - sigmoid(f)) = softplus(f)
    expected = (sp(-2.0) + sp(1.0)) / 2 + (sp(0.5) + sp(-3.0)) / 2
    assert float(losses.minimax_discriminator(REAL, FAKE)) == pytest.approx(expected, rel=1e-6)


def test_minimax_generator_is_log_one_minus_d():
    d = 1 / (1 + np.exp(-FAKE[:, 0]))
    assert float(losses.minimax_generator(FAKE)) == pytest.approx(np.mean(np.log(1 - d)), rel=1e-5)


def test_nonsat_generator_is_minus_log_d():
    d = 1 / (1 + np.exp(-FAKE[:, 0]))
    assert float(losses.nonsat_generator(FAKE)) == pytest.approx(-np.mean(np.log(d)), rel=1e-5)


def test_wasserstein():
    assert float(losses.wasserstein_discriminator(REAL, FAKE)) == pytest.approx(-1.25 - 0.5)
    assert float(losses.wasserstein_generator(FAKE)) == pytest.approx(1.25)


def test_lsgan_is_least_squares_with_0_1_targets():
    # Mao et al. 2017, Eq. 9 coding (a = 0, b = c = 1), without Eq. 2's 1/2 (the official GANLoss('lsgan'))
    assert float(losses.lsgan_discriminator(REAL, FAKE)) == pytest.approx((1.0 + 4.0) / 2 + (0.25 + 9.0) / 2)
    assert float(losses.lsgan_generator(FAKE)) == pytest.approx((0.25 + 16.0) / 2)


def test_lsgan_averages_over_patches():
    # a PatchGAN's (B, H, W, 1) output: the mean over every patch (torch MSELoss), not per image then summed
    patches = np.arange(8, dtype=np.float32).reshape(2, 2, 2, 1) / 4  # 0, 0.25, ..., 1.75
    values = np.arange(8) / 4
    assert float(losses.lsgan_generator(patches)) == pytest.approx(np.mean((values - 1) ** 2), rel=1e-6)
    assert float(losses.lsgan_discriminator(patches, patches)) == pytest.approx(
        np.mean((values - 1) ** 2) + np.mean(values ** 2), rel=1e-6)


def test_at_equilibrium_minimax_discriminator_is_2_log_2():
    zeros = tf.zeros((8, 1))
    assert float(losses.minimax_discriminator(zeros, zeros)) == pytest.approx(2 * math.log(2), rel=1e-6)


def test_nonsat_gradient_does_not_saturate_when_d_rejects_fakes():
    f = tf.Variable([[-10.0]])
    with tf.GradientTape(persistent=True) as t:
        ns = losses.nonsat_generator(f)
        mm = losses.minimax_generator(f)
    assert abs(float(t.gradient(ns, f)[0, 0])) > 0.99
    assert abs(float(t.gradient(mm, f)[0, 0])) < 1e-4


def test_registry():
    assert set(losses.LOSSES) == {"minimax", "nonsat", "wgan", "lsgan"}
    assert losses.get_loss("lsgan").discriminator is losses.lsgan_discriminator
    assert losses.get_loss("wgan").generator is losses.wasserstein_generator
    with pytest.raises(ValueError, match="unknown loss"):
        losses.get_loss("hinge2")
