"""benchmarks/flops.py: layer counts against hand-worked numbers, the 32x32 generator, one iteration's sum."""
import os
import sys
from types import SimpleNamespace

import keras
import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "benchmarks"))
import flops  # noqa: E402
import nets  # noqa: E402


def test_dense():
    # 100 inputs x 16384 units, one multiply-add each.
    assert flops.layer_flops(keras.layers.Dense(16384), (100,)).flops == 2 * 100 * 16384


def test_conv2d_same_and_strided():
    c = flops.layer_flops(keras.layers.Conv2D(20, 5, padding="same"), (32, 32, 3))
    assert c.flops == 2 * 32 * 32 * 5 * 5 * 3 * 20 and c.output_shape == (32, 32, 20)
    # stride 2: a quarter of the output positions.
    c = flops.layer_flops(keras.layers.Conv2D(128, 3, strides=2, padding="same"), (32, 32, 64))
    assert c.flops == 2 * 16 * 16 * 3 * 3 * 64 * 128


def test_conv2d_transpose_costs_the_conv_it_is_the_gradient_of():
    t = flops.layer_flops(keras.layers.Conv2DTranspose(512, 3, strides=2, padding="same"), (4, 4, 1024))
    assert t.output_shape == (8, 8, 512)
    assert t.flops == 2 * 4 * 4 * 3 * 3 * 1024 * 512  # = 150,994,944
    # The forward conv 8x8x512 -> 4x4x1024 (stride 2) whose input gradient this is: the same multiply-adds.
    c = flops.layer_flops(keras.layers.Conv2D(1024, 3, strides=2, padding="same"), (8, 8, 512))
    assert c.flops == t.flops


def test_generator_32x32_forward_is_0_48_gflop():
    g = nets.build_generators("cogan32", nets.NetOptions(), domains=1)[0]
    cost = flops.net_flops(g)
    hand = (2 * 100 * 4 * 4 * 1024              # fc 100 -> 4x4x1024
            + 2 * 4 * 4 * 9 * 1024 * 512        # convT 3x3/2 -> 8x8x512
            + 2 * 8 * 8 * 9 * 512 * 256         # convT 3x3/2 -> 16x16x256
            + 2 * 16 * 16 * 9 * 256 * 128       # convT 3x3/2 -> 32x32x128
            + 2 * 32 * 32 * 36 * 128 * 3)       # convT 6x6/1 -> 32x32x3
    assert cost.forward == hand == 484_573_184  # the 0.48 GFLOP per image
    assert cost.first == 2 * 100 * 16384
    assert [lc.kind for lc in cost.layers if lc.flops] == ["Dense"] + ["Conv2DTranspose"] * 4


def test_discriminator_32x32_forward():
    d = nets.build_discriminators("cogan32", nets.NetOptions(), (32, 32, 3), domains=1)[0]
    hand = 2 * 32 * 32 * 25 * 3 * 20 + 2 * 16 * 16 * 25 * 20 * 50 + 2 * 3200 * 500 + 2 * 500
    assert flops.net_flops(d).forward == hand


def test_shared_trunk_counted_once():
    gs = nets.build_generators("cogan32", nets.NetOptions(), domains=2, shared=4)
    one = flops.net_flops(gs[0]).forward
    head = 2 * 32 * 32 * 36 * 128 * 3
    pair = flops.generators_flops(gs)
    assert pair.forward == one + head
    assert pair.first == 2 * 100 * 16384  # the trunk's dense layer, once


def test_iteration_sum_by_hand():
    """Toy nets (Dense only), K = 2 critic steps with WGAN-GP, no sharing, batch 8: the formula written out."""
    opts = nets.NetOptions(channels=2, noise_dim=4)
    gs = nets.build_generators("toy", opts, domains=2)
    ds = nets.build_discriminators("toy", opts, (2,), domains=2)
    g = 2 * (4 * 128 + 128 * 128 * 2 + 128 * 2)      # per generator forward
    g1 = 2 * 4 * 128
    d = 2 * (2 * 128 + 128 * 128 * 2 + 128 * 1)
    d1 = 2 * 2 * 128
    cfg = SimpleNamespace(batch_size=8, disc_iters=2, disc_penalty="wgan-gp")
    t = SimpleNamespace(cfg=cfg, generators=gs, discriminators=ds, shared_g=0)
    f = flops.iteration_flops(t)
    critic = 2 * g + 2 * (2 * d + 2 * (2 * d - d1))
    gp = 2 * (d + d + flops.GP_DOUBLE_BACKWARD * d + (2 * d - d1))  # the last: zeros through the x_hat pass
    gen = 2 * g + 2 * d + 2 * d + 2 * (2 * g - g1)
    assert f["critic_steps"] == pytest.approx(8 * 2 * critic)
    assert f["gp"] == pytest.approx(8 * 2 * gp)
    assert f["gp_zero_path"] == pytest.approx(8 * 2 * 2 * (2 * d - d1))
    assert f["generator_step"] == pytest.approx(8 * gen)
    assert f["total"] == pytest.approx(8 * (2 * (critic + gp) + gen))


def test_functional_chain_and_unknown_layer():
    import classifiers
    e = classifiers.latent_encoder((32, 32, 3), 100)
    hand = (2 * 32 * 32 * 9 * 3 * 64 + 2 * 16 * 16 * 9 * 64 * 128 + 2 * 8 * 8 * 9 * 128 * 128
            + 2 * 4 * 4 * 9 * 128 * 256 + 2 * 4096 * 100)
    assert flops.net_flops(e).forward == hand
    emb = keras.layers.Embedding(10, 4)
    emb.build((None, 3))
    with pytest.raises(ValueError, match="no FLOP rule"):  # a weighted layer must not silently count as free
        flops.layer_flops(emb, (3,))
