"""Architectures against the thesis tables: layer-by-layer output shapes and parameter counts, and
CoGAN weight sharing (the same block objects, variables counted once)."""
import numpy as np
import pytest
import tensorflow as tf
import keras

import nets


def conv(k, cin, cout):
    return k * k * cin * cout + cout


def dense(nin, nout):
    return nin * nout + nout


def bn(c):  # gamma, beta, moving mean, moving variance
    return 4 * c


def prelu(c):  # one slope per channel (Caffe)
    return c


def block_table(net, x):
    """[(block name, output shape without batch, parameter count)] by running the blocks in order."""
    rows = []
    for b in net.blocks:
        x = b(x)
        rows.append((b.name.split("_", 1)[1], tuple(x.shape[1:]), b.count_params()))
    return rows


O = nets.NetOptions(channels=3, noise_dim=100)

# Table 3.1 (32x32 generator): FC 4x4x1024; FCONV 512, 256, 128 (3x3, stride 2); FCONV C (6x6, stride 1), tanh.
G32 = [("fc", (4, 4, 1024), dense(100, 16384) + bn(1024) + prelu(1024)),
       ("up1", (8, 8, 512), conv(3, 1024, 512) + bn(512) + prelu(512)),
       ("up2", (16, 16, 256), conv(3, 512, 256) + bn(256) + prelu(256)),
       ("up3", (32, 32, 128), conv(3, 256, 128) + bn(128) + prelu(128)),
       ("out", (32, 32, 3), conv(6, 128, 3))]
# Table 3.2 (32x32 discriminator): CONV 20 (5x5) + max-pool; CONV 50 (5x5) + max-pool; FC 500 PReLU; FC 1.
D32 = [("conv1", (16, 16, 20), conv(5, 3, 20)),
       ("conv2", (8, 8, 50), conv(5, 20, 50)),
       ("fc1", (500,), dense(8 * 8 * 50, 500) + prelu(500)),
       ("out", (1,), dense(500, 1))]
# Table A.1 (128x128 generator): FC 4x4x1024; FCONV 512..32 (4x4, stride 2); FCONV C (3x3), tanh.
G128 = [("fc", (4, 4, 1024), dense(100, 16384) + bn(1024) + prelu(1024))] + [
    (f"up{i + 1}", (8 * 2 ** i, 8 * 2 ** i, c), conv(4, cin, c) + bn(c) + prelu(c))
    for i, (cin, c) in enumerate([(1024, 512), (512, 256), (256, 128), (128, 64), (64, 32)])] + [
    ("out", (128, 128, 3), conv(3, 32, 3))]
# Table A.2 (128x128 discriminator): CONV 32, 64, 128 (5x5), 256, 512, 1024 (3x3), all stride 2; FC 2048; FC 1.
D128 = [(f"conv{i + 1}", (64 // 2 ** i, 64 // 2 ** i, c), conv(k, cin, c) + bn(c) + prelu(c))
        for i, (k, cin, c) in enumerate([(5, 3, 32), (5, 32, 64), (5, 64, 128), (3, 128, 256), (3, 256, 512),
                                         (3, 512, 1024)])] + [
    ("fc1", (2048,), dense(2 * 2 * 1024, 2048) + bn(2048) + prelu(2048)),
    ("out", (1,), dense(2048, 1))]
# Table A.3 (256x256 generator): FC 4x4x2048; FCONV 1024..32 (4x4, stride 2); FCONV C (3x3), tanh.
G256 = [("fc", (4, 4, 2048), dense(100, 32768) + bn(2048) + prelu(2048))] + [
    (f"up{i + 1}", (8 * 2 ** i, 8 * 2 ** i, c), conv(4, cin, c) + bn(c) + prelu(c))
    for i, (cin, c) in enumerate([(2048, 1024), (1024, 512), (512, 256), (256, 128), (128, 64), (64, 32)])] + [
    ("out", (256, 256, 3), conv(3, 32, 3))]
# Table A.4 (256x256 discriminator): as A.2, kernels 5, 5, 5, 3, 3, 3 (the table's Kernel column).
D256 = [(f"conv{i + 1}", (128 // 2 ** i, 128 // 2 ** i, c), conv(k, cin, c) + bn(c) + prelu(c))
        for i, (k, cin, c) in enumerate([(5, 3, 32), (5, 32, 64), (5, 64, 128), (3, 128, 256), (3, 256, 512),
                                         (3, 512, 1024)])] + [
    ("fc1", (2048,), dense(4 * 4 * 1024, 2048) + bn(2048) + prelu(2048)),
    ("out", (1,), dense(2048, 1))]
# DCGAN (Radford et al. 2016, Fig. 1) at 64x64: FC 4x4x1024; FCONV 512, 256, 128 (5x5, stride 2), BN, ReLU; FCONV C
# (5x5, stride 2), tanh. Discriminator: CONV 64 (no BN), 128, 256, 512 (5x5, stride 2), LeakyReLU; FC 1.
G64 = [("fc", (4, 4, 1024), dense(100, 16384) + bn(1024)),
       ("up1", (8, 8, 512), conv(5, 1024, 512) + bn(512)),
       ("up2", (16, 16, 256), conv(5, 512, 256) + bn(256)),
       ("up3", (32, 32, 128), conv(5, 256, 128) + bn(128)),
       ("out", (64, 64, 3), conv(5, 128, 3))]
D64 = [("conv1", (32, 32, 64), conv(5, 3, 64)),
       ("conv2", (16, 16, 128), conv(5, 64, 128) + bn(128)),
       ("conv3", (8, 8, 256), conv(5, 128, 256) + bn(256)),
       ("conv4", (4, 4, 512), conv(5, 256, 512) + bn(512)),
       ("out", (1,), dense(4 * 4 * 512, 1))]
# Table 2.1 (toy): three tanh layers of 128 units; linear output.
GTOY = [("fc1", (128,), dense(100, 128)), ("fc2", (128,), dense(128, 128)), ("fc3", (128,), dense(128, 128)),
        ("out", (2,), dense(128, 2))]
DTOY = [("fc1", (128,), dense(2, 128)), ("fc2", (128,), dense(128, 128)), ("fc3", (128,), dense(128, 128)),
        ("out", (1,), dense(128, 1))]


@pytest.mark.parametrize("arch,size,gtab,dtab", [
    ("cogan32", 32, G32, D32), ("cogan128", 128, G128, D128), ("cogan256", 256, G256, D256),
    ("dcgan64", 64, G64, D64), ("toy", None, GTOY, DTOY)])
def test_architecture_matches_table(arch, size, gtab, dtab):
    g = nets.build_generators(arch, O, domains=1)[0]
    shape = (2,) if size is None else (size, size, 3)
    d = nets.build_discriminators(arch, O, shape, domains=1)[0]
    assert block_table(g, tf.zeros((1, 100))) == gtab
    assert block_table(d, tf.zeros((1,) + shape)) == dtab
    assert g.count_params() == sum(r[2] for r in gtab)
    assert d.count_params() == sum(r[2] for r in dtab)


def test_generator_width_scales_the_hidden_channels_only():
    """--g_width 0.25 (the offline demo): Table 3.1's layout with a quarter of its hidden channels, the same
    output; the discriminator is Table 3.2's."""
    o = nets.NetOptions(channels=3, noise_dim=100, g_width=0.25)
    g = nets.build_generators("cogan32", o, domains=1)[0]
    d = nets.build_discriminators("cogan32", o, (32, 32, 3), domains=1)[0]
    assert block_table(g, tf.zeros((1, 100))) == [
        ("fc", (4, 4, 256), dense(100, 4096) + bn(256) + prelu(256)),
        ("up1", (8, 8, 128), conv(3, 256, 128) + bn(128) + prelu(128)),
        ("up2", (16, 16, 64), conv(3, 128, 64) + bn(64) + prelu(64)),
        ("up3", (32, 32, 32), conv(3, 64, 32) + bn(32) + prelu(32)),
        ("out", (32, 32, 3), conv(6, 32, 3))]
    assert block_table(d, tf.zeros((1, 32, 32, 3))) == D32


def test_generator_output_range_and_features():
    g = nets.build_generators("cogan32", O, domains=1)[0]
    img, feats = g.call_with_features(tf.random.uniform((2, 100), -1, 1), training=False)
    assert img.shape == (2, 32, 32, 3)
    assert float(tf.reduce_max(tf.abs(img))) <= 1.0
    assert [tuple(f.shape[1:]) for f in feats] == [r[1] for r in G32]
    np.testing.assert_array_equal(feats[-1].numpy(), img.numpy())


@pytest.mark.parametrize("arch,thesis,hidden", [
    # Listing 6.7 (32x32): the 8x8 and 16x16 maps, then the image; the authors' 128x128 multi-output generator:
    # 8x8 .. 64x64, then the image.
    ("cogan32", [(8, 8, 512), (16, 16, 256), (32, 32, 3)], [(4, 4, 1024), (8, 8, 512), (16, 16, 256), (32, 32, 128)]),
    ("cogan128", [(8, 8, 512), (16, 16, 256), (32, 32, 128), (64, 64, 64), (128, 128, 3)], None),
])
def test_feature_regulariser_maps(arch, thesis, hidden):
    g = nets.build_generators(arch, O, domains=1)[0]
    _, feats = g.call_with_features(tf.zeros((1, 100)))
    pick = lambda kind: [tuple(feats[i].shape[1:]) for i in nets.fr_map_indices(len(feats), kind)]  # noqa: E731
    assert pick("thesis") == thesis
    if hidden:
        assert pick("hidden") == hidden


@pytest.mark.parametrize("arch,g,d", [("cogan32", 4, 3), ("cogan128", 5, 7), ("cogan256", 6, 7)])
def test_default_sharing_is_the_tables_shared_column(arch, g, d):
    """Tables 3.1/3.2, A.1/A.2, A.3/A.4: every generator layer but the last (32x32) or the last two transposed
    convolutions (128, 256) is shared; every discriminator layer but the first convolution."""
    assert nets.DEFAULT_SHARED[arch] == (g, d)
    n_g, n_d = nets.num_blocks(arch)
    assert n_g - g == (1 if arch == "cogan32" else 2) and n_d - d == 1


@pytest.mark.parametrize("arch", nets.ARCHS)
def test_num_blocks_table_counts_the_built_blocks(arch):
    assert nets.num_blocks(arch) == (len(nets.gen_blocks(arch, O)), len(nets.disc_blocks(arch, O)))


@pytest.mark.parametrize("shared_g,shared_d", [(4, 3), (1, 1), (0, 0), (3, 2)])
def test_sharing_is_the_same_blocks(shared_g, shared_d):
    g1, g2 = nets.build_generators("cogan32", O, shared=shared_g)
    d1, d2 = nets.build_discriminators("cogan32", O, (32, 32, 3), shared=shared_d)
    for i in range(len(g1.blocks)):
        assert (g1.blocks[i] is g2.blocks[i]) == (i < shared_g)
    n = len(d1.blocks)
    for i in range(n):
        assert (d1.blocks[i] is d2.blocks[i]) == (i >= n - shared_d)
    # The union counts every shared variable once: two tables' trainable parameters minus the shared part.
    union = nets.unique_variables([g1, g2])
    assert sum(int(np.prod(v.shape)) for v in union) == 2 * _trainable_sum(G32) - _trainable_sum(G32[:shared_g])
    assert len({id(v) for v in union}) == len(union)


def _trainable(row):
    # BatchNorm's moving statistics (2 per channel) are not trainable.
    name, shape, count = row
    if name == "out" or len(shape) == 1:
        return count
    return count - 2 * shape[-1]


def _trainable_sum(rows):
    return sum(_trainable(r) for r in rows)


def test_one_adam_step_moves_a_shared_variable_once():
    """One Adam step over nets.unique_variables: every entry of a shared kernel with a clear gradient moves by lr
    (Adam's first step is lr * g / (|g| + eps / sqrt(1 - beta2)), lr to 1e-3 where |g| > 1e-2) -- once, not 2 lr
    as if the variable were listed once per generator (Keras 3 applies a variable listed twice twice, PITFALLS);
    the optimizer counts one iteration; the unshared blocks train apart."""
    lr = 1e-2
    g1, g2 = nets.build_generators("cogan32", O, shared=2)
    variables = nets.unique_variables([g1, g2])
    shared = g1.blocks[1].trainable_variables[0]  # up1's kernel, in both generators
    assert shared is g2.blocks[1].trainable_variables[0]
    opt = keras.optimizers.Adam(lr)
    opt.build(variables)
    z = tf.random.uniform((2, 100), -1, 1, seed=3)
    with tf.GradientTape() as t:
        loss = tf.reduce_sum(g1(z, training=True) ** 2) + tf.reduce_sum((g2(z, training=True) - 1) ** 2)
    grads = t.gradient(loss, variables)
    before = {id(v): v.numpy().copy() for v in variables}
    opt.apply_gradients(zip(grads, variables))
    assert int(opt.iterations) == 1
    g = grads[[id(v) for v in variables].index(id(shared))].numpy()
    clear = np.abs(g) > 1e-2
    assert clear.sum() > 100
    step = (before[id(shared)] - shared.numpy())[clear]
    np.testing.assert_allclose(step, lr * np.sign(g[clear]), rtol=1e-3)
    unshared = [b.trainable_variables[0] for b in (g1.blocks[2], g2.blocks[2])]
    assert all(not np.array_equal(before[id(v)], v.numpy()) for v in unshared)
    assert not np.array_equal(unshared[0].numpy(), unshared[1].numpy())


def test_shared_variable_gets_sum_of_both_gradients_once():
    """SGD(1) over nets.unique_variables on l1 + l2: a variable of the shared block moves by dl1/dv + dl2/dv, each
    taken on its own (once: a duplicate in the list would move it twice)."""
    g1, g2 = nets.build_generators("toy", O, shared=1)
    v = g1.blocks[0].trainable_variables[0]
    z = tf.random.uniform((4, 100), -1, 1)
    with tf.GradientTape(persistent=True) as t:
        l1 = tf.reduce_mean(g1(z, training=True) ** 2)
        l2 = tf.reduce_mean(g2(z, training=True) ** 3)
        total = l1 + l2
    variables = nets.unique_variables([g1, g2])
    assert sum(1 for w in variables if w is v) == 1
    expected = (t.gradient(l1, v) + t.gradient(l2, v)).numpy()
    assert np.abs(expected).max() > 1e-3
    opt = keras.optimizers.SGD(1.0)
    opt.build(variables)
    before = v.numpy().copy()
    opt.apply_gradients(zip(t.gradient(total, variables), variables))
    np.testing.assert_allclose(before - v.numpy(), expected, rtol=1e-5, atol=1e-6)


def test_too_many_shared_layers():
    with pytest.raises(ValueError, match="at most 4"):
        nets.build_generators("cogan32", O, shared=5)
    with pytest.raises(ValueError, match="at most 3"):
        nets.build_discriminators("cogan32", O, (32, 32, 3), shared=4)


def test_layer_norm_discriminator_has_no_batch_norm():
    o = nets.NetOptions(d_norm="layer")
    d = nets.build_discriminators("cogan128", o, (128, 128, 3), domains=1)[0]
    kinds = {type(l).__name__ for b in d.blocks for l in b.layers}
    assert "BatchNormalization" not in kinds and "LayerNormalization" in kinds


def test_prelu_is_per_channel_with_initial_slope():
    o = nets.NetOptions(prelu_init=0.1)
    g = nets.build_generators("cogan32", o, domains=1)[0]
    prelu_layer = [l for l in g.blocks[1].layers if isinstance(l, keras.layers.PReLU)][0]
    assert prelu_layer.alpha.shape == (1, 1, 512)
    np.testing.assert_allclose(prelu_layer.alpha.numpy(), 0.1)
