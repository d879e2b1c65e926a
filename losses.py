"""Adversarial losses, chosen by name (`--loss`).

Every loss has the same signature so that trainers never branch on its name: the discriminator part takes
the logits on a real and a fake batch and returns one scalar; the generator part takes the logits on a fake
batch. Logits are raw discriminator outputs (no sigmoid layer in the nets), shape (B, 1) or (B,), or a PatchGAN's
(B, H, W, 1): every loss averages over all elements.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import tensorflow as tf


def _f32(x):
    # Losses stay in float32 even if the nets ever run in mixed precision.
    return tf.cast(x, tf.float32)


def minimax_discriminator(real_logits, fake_logits):
    """-E[log D(x)] - E[log(1 - D(G(z)))] (Goodfellow et al. 2014, Eq. 1), D = sigmoid(logits)."""
    r, f = _f32(real_logits), _f32(fake_logits)
    return tf.reduce_mean(tf.nn.softplus(-r)) + tf.reduce_mean(tf.nn.softplus(f))


def minimax_generator(fake_logits):
    """E[log(1 - D(G(z)))], minimised by G: the saturating original game (Eq. 1)."""
    return -tf.reduce_mean(tf.nn.softplus(_f32(fake_logits)))


def nonsat_generator(fake_logits):
    """-E[log D(G(z))]: the non-saturating heuristic generator loss (Goodfellow et al. 2014, sec. 3)."""
    return tf.reduce_mean(tf.nn.softplus(-_f32(fake_logits)))


def wasserstein_discriminator(real_logits, fake_logits):
    """E[C(G(z))] - E[C(x)]: the critic's loss of WGAN (Arjovsky et al. 2017, Eq. 3)."""
    return tf.reduce_mean(_f32(fake_logits)) - tf.reduce_mean(_f32(real_logits))


def wasserstein_generator(fake_logits):
    """-E[C(G(z))]."""
    return -tf.reduce_mean(_f32(fake_logits))


def lsgan_discriminator(real_outputs, fake_outputs):
    """E[(D(x) - 1)^2] + E[D(G(z))^2]: least squares with targets b = 1, a = 0 (Mao et al. 2017, Eq. 2 with the
    0-1 coding of Eq. 9), as the official CycleGAN/pix2pix GANLoss('lsgan'): MSE against a target of ones or zeros,
    averaged over every element (a PatchGAN's patches too). Without the factor 1/2 of Eq. 2: the official code
    halves the sum in CycleGAN's/pix2pix's backward_D, not in the loss (trainers/cyclegan.py puts it there)."""
    r, f = _f32(real_outputs), _f32(fake_outputs)
    return tf.reduce_mean(tf.square(r - 1.0)) + tf.reduce_mean(tf.square(f))


def lsgan_generator(fake_outputs):
    """E[(D(G(z)) - 1)^2] (Mao et al. 2017, Eq. 9 without its 1/2; the official GANLoss('lsgan') with target 1)."""
    return tf.reduce_mean(tf.square(_f32(fake_outputs) - 1.0))


@dataclass(frozen=True)
class GanLoss:
    discriminator: Callable
    generator: Callable


LOSSES = {
    "minimax": GanLoss(minimax_discriminator, minimax_generator),
    "nonsat": GanLoss(minimax_discriminator, nonsat_generator),
    "wgan": GanLoss(wasserstein_discriminator, wasserstein_generator),
    "lsgan": GanLoss(lsgan_discriminator, lsgan_generator),
}


def get_loss(name: str) -> GanLoss:
    try:
        return LOSSES[name]
    except KeyError:
        raise ValueError(f"unknown loss '{name}' (choose from {', '.join(LOSSES)})") from None
