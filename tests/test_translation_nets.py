"""pix2pix / CycleGAN networks (issue 20 items 2-3, translation_nets.py) against the official PyTorch code
(junyanz/pytorch-CycleGAN-and-pix2pix, models/networks.py): parameter counts derived by hand and equal to the
official numbers, output shapes, the PatchGAN's receptive field measured from input gradients, PyTorch's
padding alignment, the bottleneck without normalisation, dropout placement, the N(0, 0.02) initialisation, and
the layer order of every block (walked on the functional graph) with the U-Net skip taken after the LeakyReLU."""
import numpy as np
import pytest
import keras
from keras import layers

import translation_nets as T


def conv(k, cin, cout, bias=True):  # kernel + bias sizes of one (transposed) convolution
    return k * k * cin * cout + (cout if bias else 0)


def bn(c):  # trainable BatchNorm parameters (gamma, beta), what PyTorch's parameters() counts
    return 2 * c


def trainable(model):
    return sum(int(np.prod(w.shape)) for w in model.trainable_weights)


@pytest.fixture(autouse=True)
def _seed():
    keras.utils.set_random_seed(0)


# ---------------------------------------------------------------- parameter counts (no forward pass)

# CycleGAN ResNet generator, instance norm without affine (no norm parameters), every conv with a bias:
# c7s1-64, d128, d256, R256 x n (two 3x3 convs each), u128, u64, c7s1-3.
def resnet_count(n_blocks):
    return (conv(7, 3, 64) + conv(3, 64, 128) + conv(3, 128, 256) + n_blocks * 2 * conv(3, 256, 256)
            + conv(3, 256, 128) + conv(3, 128, 64) + conv(7, 64, 3))


def test_resnet9_generator_has_the_official_parameter_count():
    assert resnet_count(9) == 9472 + 73856 + 295168 + 9 * 1180160 + 295040 + 73792 + 9411
    model = T.resnet_generator(256)
    assert model.count_params() == resnet_count(9) == 11_378_179
    assert sum(isinstance(l, layers.Add) for l in model.layers) == 9


def test_resnet_blocks_follow_the_image_size():
    assert [T.resnet_blocks(s) for s in (32, 64, 128, 256)] == [6, 6, 6, 9]
    assert T.resnet_generator(128).count_params() == resnet_count(6) == 7_837_699


def test_cyclegan_patchgan_has_the_official_parameter_count():
    # NLayerDiscriminator(3, 64, n_layers=3, instance norm): 3->64 s2, 64->128 s2, 128->256 s2, 256->512 s1, 512->1
    hand = conv(4, 3, 64) + conv(4, 64, 128) + conv(4, 128, 256) + conv(4, 256, 512) + conv(4, 512, 1)
    assert hand == 3136 + 131200 + 524544 + 2097664 + 8193
    model = T.patch_discriminator(3, n_layers=3, norm="instance")
    assert model.count_params() == hand == 2_764_737


def test_pix2pix_nets_have_the_official_parameter_counts():
    """BatchNorm: no conv bias but the PatchGAN's first and last and the U-Net's last (official bias rule);
    the official script prints 54.414 M (unet_256) and 2.769 M (basic D on 6 channels)."""
    d = (conv(4, 6, 64) + conv(4, 64, 128, False) + bn(128) + conv(4, 128, 256, False) + bn(256)
         + conv(4, 256, 512, False) + bn(512) + conv(4, 512, 1))
    assert trainable(T.patch_discriminator(6)) == d == 2_768_705
    enc = [3, 64, 128, 256, 512, 512, 512, 512, 512]
    g = sum(conv(4, a, b, False) for a, b in zip(enc, enc[1:]))           # 8 downsamplings
    g += sum(bn(c) for c in enc[2:-1])                                     # none on the first, none at 1x1
    g += conv(4, 512, 512, False) + bn(512)                                # 1x1 -> 2x2
    dec = [512, 512, 512, 512, 256, 128, 64]                               # outputs at 4 ... 128 px
    g += sum(conv(4, 2 * a, b, False) + bn(b) for a, b in zip(enc[-2:1:-1], dec[1:]))
    g += conv(4, 128, 3)                                                   # 128 px -> 256 px, tanh
    model = T.unet_generator(256)
    assert trainable(model) == g == 54_413_955
    assert f"{g / 1e6:.3f}" == "54.414" and f"{d / 1e6:.3f}" == "2.769"


# ---------------------------------------------------------------- shapes

@pytest.mark.parametrize("size,patch", [(32, 2), (64, 6), (128, 14), (256, 30)])
def test_unet_and_patchgan_output_shapes(size, patch):
    g = T.unet_generator(size, 3, 2, base=4)
    x = np.random.default_rng(size).uniform(-1, 1, (1, size, size, 3)).astype("float32")
    y = np.asarray(g(x))
    assert y.shape == (1, size, size, 2) and np.all(np.abs(y) <= 1)
    d = T.patch_discriminator(5, n_layers=3, base=4)
    assert np.asarray(d(np.concatenate([x, y], -1))).shape == (1, patch, patch, 1)
    assert T.patch_output_size(size, 3) == patch


def test_patchgan_refuses_an_image_too_small_for_its_layers():
    assert T.patch_output_size(24, 3) == 1 and T.patch_output_size(16, 3) == 0
    assert T.patch_discriminator(3, n_layers=3, base=4, size=24).output_shape == (None, 1, 1, 1)
    with pytest.raises(ValueError, match="3-layer PatchGAN sees nothing of a 16 px image"):
        T.patch_discriminator(3, n_layers=3, size=16)


def test_unet_at_32px_downsamples_five_times_to_1x1():
    g = T.unet_generator(32, 3, 3, base=8)
    downs = [l for l in g.layers if type(l) is layers.Conv2D]
    assert [tuple(l.strides) for l in downs] == [(2, 2)] * 5
    assert [l.output.shape[1:] for l in downs] == [(16, 16, 8), (8, 8, 16), (4, 4, 32), (2, 2, 64), (1, 1, 64)]


def test_unet_refuses_sizes_that_do_not_halve_to_1x1():
    with pytest.raises(ValueError, match="power-of-two"):
        T.unet_generator(48)


# ---------------------------------------------------------------- U-Net bottleneck and dropout

NORM_LAYERS = (layers.BatchNormalization, layers.GroupNormalization, layers.LayerNormalization)


def test_unet_has_no_normalisation_at_the_1x1_bottleneck():
    g = T.unet_generator(32, 3, 3, base=8)
    norms = [l for l in g.layers if isinstance(l, NORM_LAYERS)]
    assert len(norms) == 3 + 4  # encoder 8, 4, 2 px; decoder 2, 4, 8, 16 px
    assert all(l.output.shape[1] > 1 for l in norms)
    # With BatchNorm at 1x1 a batch of one image would reach the decoder as exactly zero (x - mean(x) = 0).
    probe = keras.Model(g.input, g.get_layer("unet_up5_relu").input)
    x = np.random.default_rng(1).uniform(-1, 1, (2, 32, 32, 3)).astype("float32")
    a, b = (np.asarray(probe(x[i:i + 1], training=True)) for i in (0, 1))
    assert a.shape == (1, 1, 1, 64)
    assert np.abs(a).max() > 1e-4 and np.abs(a - b).max() > 1e-4


@pytest.mark.parametrize("size", [32, 256])
def test_dropout_only_in_the_three_innermost_decoder_blocks(size):
    g = T.unet_generator(size, 3, 3, base=4)
    drops = [l for l in g.layers if isinstance(l, layers.Dropout)]
    assert sorted(l.output.shape[1] for l in drops) == [2, 4, 8] and {l.rate for l in drops} == {0.5}
    assert all(l.name.startswith("unet_up") for l in drops)


def test_dropout_is_active_only_with_training_true():
    g = T.unet_generator(32, 3, 3, base=8)
    drops = [l for l in g.layers if isinstance(l, layers.Dropout)]
    probe = keras.Model(g.input, [t for l in drops for t in (l.input, l.output)])
    x = np.random.default_rng(2).uniform(-1, 1, (4, 32, 32, 3)).astype("float32")
    for training in (False, True):
        outs = [np.asarray(t) for t in probe(x, training=training)]
        for before, after in zip(outs[::2], outs[1::2]):
            live = before != 0
            if not training:
                np.testing.assert_array_equal(after, before)
                continue
            dropped = after[live] == 0
            kept = ~dropped
            # inverted dropout: kept units scaled by 1 / (1 - 0.5); >= 1024 units, so the dropped share is
            # 0.5 within 0.1 (about 6 standard deviations)
            np.testing.assert_allclose(after[live][kept], 2 * before[live][kept], rtol=1e-6)
            assert dropped.size >= 1024 and abs(dropped.mean() - 0.5) < 0.1
    np.testing.assert_array_equal(np.asarray(g(x, training=False)), np.asarray(g(x, training=False)))


# ---------------------------------------------------------------- PatchGAN receptive field

@pytest.mark.parametrize("n_layers,field,start", [(1, 16, 5), (2, 34, 11), (3, 70, 23)])
def test_patchgan_receptive_field_measured_from_input_gradients(n_layers, field, start):
    """The input pixels with a nonzero gradient of one central output unit form a field x field square that
    starts at i * 2^n - start (PyTorch's padding 1 at every layer: start = (2^n - 1) + 2 * 2^n).
    BatchNorm in inference mode keeps the net local (batch statistics or instance norm would couple all pixels)."""
    import tensorflow as tf
    d = T.patch_discriminator(3, n_layers=n_layers, base=8)
    x = tf.constant(np.random.default_rng(3).normal(size=(1, 96, 96, 3)).astype("float32"))
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = d(x, training=False)
        i = y.shape[1] // 2
        unit = y[0, i, i, 0]
    grad = np.abs(np.asarray(tape.gradient(unit, x)))[0].max(-1)
    rows, cols = np.nonzero(grad.max(1))[0], np.nonzero(grad.max(0))[0]
    assert len(rows) == len(cols) == field == T.patch_receptive_field(n_layers)
    assert rows[0] == cols[0] == i * 2 ** n_layers - start and rows[-1] - rows[0] == field - 1
    assert np.count_nonzero(grad) == field * field and 0 < rows[0] and rows[-1] < 95


# ---------------------------------------------------------------- PyTorch layer semantics

def test_reflection_padding_and_instance_norm_match_numpy():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(2, 5, 6, 3)).astype("float32")
    np.testing.assert_array_equal(np.asarray(T.ReflectionPadding2D(2)(x)),
                                  np.pad(x, [(0, 0), (2, 2), (2, 2), (0, 0)], mode="reflect"))
    # per image and channel; means and scales differ per image and channel, so wrong axes fail
    x = (rng.normal(size=(2, 8, 8, 3)) * [1.0, 3.0, 0.5] + rng.normal(size=(2, 1, 1, 3)) * 5).astype("float32")
    norm = T.NORMS["instance"](3, "inorm")
    mean, var = x.mean((1, 2), keepdims=True), x.var((1, 2), keepdims=True)
    np.testing.assert_allclose(np.asarray(norm(x)), (x - mean) / np.sqrt(var + 1e-5), atol=1e-4)
    assert norm.count_params() == 0


def _torch_conv(x, w, stride, pad, out_size):
    """PyTorch Conv2d, zero padding `pad`, no bias; x (H, W, Cin), w Keras layout (k, k, Cin, Cout)."""
    k = w.shape[0]
    xp = np.pad(x, [(pad, pad), (pad, pad), (0, 0)])
    out = np.zeros((out_size, out_size, w.shape[3]))
    for i in range(out_size):
        for j in range(out_size):
            out[i, j] = np.einsum("abc,abcd->d", xp[i * stride:i * stride + k, j * stride:j * stride + k], w)
    return out


def _torch_conv_transpose(x, w, stride, pad, out_size):
    """PyTorch ConvTranspose2d: input (i, j) adds w[t, u] to output (i*s - pad + t, j*s - pad + u);
    w Keras layout (k, k, Cout, Cin); outputs outside [0, out_size) are dropped."""
    k = w.shape[0]
    out = np.zeros((out_size, out_size, w.shape[2]))
    for i in range(x.shape[0]):
        for j in range(x.shape[1]):
            for t in range(k):
                for u in range(k):
                    o, p = i * stride - pad + t, j * stride - pad + u
                    if 0 <= o < out_size and 0 <= p < out_size:
                        out[o, p] += w[t, u] @ x[i, j]
    return out


def test_stride_two_convolutions_align_as_pytorch_padding_one():
    """ResNet d1 (Conv 3x3 s2 p1) and u1 (ConvTranspose 3x3 s2 p1 output_padding 1), and the U-Net's 4x4
    ones (p1), against PyTorch's definitions in NumPy: a one-pixel shift changes values by about their size."""
    x = np.random.default_rng(5).uniform(-1, 1, (1, 16, 16, 3)).astype("float32")
    r = T.resnet_generator(16, base=4, n_blocks=1)
    u = T.unet_generator(16, base=4)
    rng = np.random.default_rng(6)
    for l in r.layers + u.layers:  # unit-scale kernels, so that outputs are O(1) and a shift is plain
        if isinstance(l, (layers.Conv2D, layers.Conv2DTranspose)):
            fan_in = np.prod(l.kernel.shape) / l.kernel.shape[3 if isinstance(l, layers.Conv2D) else 2]
            l.kernel.assign(rng.normal(size=l.kernel.shape) / np.sqrt(fan_in))
    # (model, layer whose input is the conv's input, the conv, layer whose output is the result, ...)
    cases = [(r, "resnet_d1_pad", "resnet_d1", "resnet_d1", False, 8),
             (r, "resnet_u1", "resnet_u1", "resnet_u1_crop", True, 8),
             (u, "unet_down2", "unet_down2", "unet_down2", False, 4),
             (u, "unet_up2", "unet_up2", "unet_up2", True, 8)]
    for model, src, layer, result, transpose, out_size in cases:
        probe = keras.Model(model.input, [model.get_layer(src).input, model.get_layer(result).output])
        inp, out = (np.asarray(t)[0].astype("float64") for t in probe(x))
        first = model.get_layer(layer)
        w = np.asarray(first.kernel)
        want = (_torch_conv_transpose(inp, w, 2, 1, out_size) if transpose
                else _torch_conv(inp, w, 2, 1, out_size))
        assert out.shape == want.shape and np.abs(want).max() > 0.1
        np.testing.assert_allclose(out, want, atol=1e-5)  # float32 sums of <= 256 terms below 1


# ---------------------------------------------------------------- initialisation

@pytest.mark.parametrize("build", [lambda: T.unet_generator(32, base=16), lambda: T.resnet_generator(32, base=16),
                                   lambda: T.patch_discriminator(6, base=64)], ids=["unet", "resnet", "patchgan"])
def test_convolutions_start_from_n0_002_and_zero_bias(build):
    model = build()
    convs = [l for l in model.layers if isinstance(l, (layers.Conv2D, layers.Conv2DTranspose))]
    kernels = np.concatenate([np.asarray(l.kernel).ravel() for l in convs])
    n = kernels.size
    assert n > 100_000
    # standard errors 0.02 / sqrt(n) (mean) and 0.02 / sqrt(2n) (std); 6 of them. Glorot, a truncated normal
    # (std 0.0176) or N(0, 1) fail.
    assert abs(kernels.mean()) < 6 * 0.02 / np.sqrt(n)
    assert abs(kernels.std() - 0.02) < 6 * 0.02 / np.sqrt(2 * n)
    for l in convs:
        assert abs(np.asarray(l.kernel).std() - 0.02) < 0.2 * 0.02  # every layer, not only the pooled ones
        if l.use_bias:
            assert not np.asarray(l.bias).any()


def test_batchnorm_gamma_starts_from_n1_002():
    model = T.patch_discriminator(6, base=64)
    norms = [l for l in model.layers if isinstance(l, layers.BatchNormalization)]
    gamma = np.concatenate([np.asarray(l.gamma) for l in norms])
    assert gamma.size == 128 + 256 + 512
    assert abs(gamma.mean() - 1) < 6 * 0.02 / np.sqrt(gamma.size)
    assert abs(gamma.std() - 0.02) < 6 * 0.02 / np.sqrt(2 * gamma.size)
    assert not np.concatenate([np.asarray(l.beta) for l in norms]).any()
    assert {l.epsilon for l in norms} == {1e-5} and {l.momentum for l in norms} == {0.9}


def test_unknown_normalisation_is_refused():
    with pytest.raises(ValueError, match="unknown normalisation 'group'"):
        T.patch_discriminator(3, norm="group")


# ---------------------------------------------------------------- layer sequences (official networks.py order)
# Walked on the functional graph from a tensor back to the layer that made it, so a layer that is built but wired
# elsewhere, or one left out, shows. Each layer is described by its class and what sets its function (kernel,
# stride, slope, padding), so ReLU for LeakyReLU(0.2), norm after the activation, or a reordered residual block fail.

def producer(tensor):
    return tensor._keras_history[0]  # Keras 3: the layer whose call made the tensor


def inputs_of(layer):
    x = layer.input
    return list(x) if isinstance(x, (list, tuple)) else [x]


def chain(tensor):
    """The layers that made `tensor`, in forward order, back to the nearest one with other than one input
    (the InputLayer, a Concatenate, an Add), which comes first."""
    out = [producer(tensor)]
    while not isinstance(out[-1], layers.InputLayer) and len(inputs_of(out[-1])) == 1:
        out.append(producer(inputs_of(out[-1])[0]))
    return out[::-1]


def describe(layer):
    kind = type(layer).__name__
    if isinstance(layer, (layers.Conv2D, layers.Conv2DTranspose)):
        return kind, layer.kernel_size[0], layer.strides[0]
    details = {layers.LeakyReLU: lambda l: l.negative_slope, layers.Dropout: lambda l: l.rate,
               layers.ZeroPadding2D: lambda l: l.padding, T.ReflectionPadding2D: lambda l: l.pad,
               layers.Cropping2D: lambda l: l.cropping, layers.Activation: lambda l: l.activation.__name__}
    for cls, detail in details.items():
        if type(layer) is cls:
            return kind, detail(layer)
    return kind


def sequence(tensor):
    return [describe(l) for l in chain(tensor)]


NORM_CLASS = {"batch": "BatchNormalization", "instance": "GroupNormalization"}
LRELU = ("LeakyReLU", 0.2)


def unet_concats(model):
    """The decoder's Concatenate layers, innermost (smallest) first."""
    return sorted((l for l in model.layers if isinstance(l, layers.Concatenate)), key=lambda l: l.output.shape[1])


@pytest.mark.parametrize("norm", ["batch", "instance"])
def test_unet_encoder_and_innermost_block_follow_the_official_order(norm):
    """UnetSkipConnectionBlock: outermost down = [Conv]; others [LeakyReLU(0.2), Conv, Norm]; innermost
    [LeakyReLU(0.2), Conv] then up [ReLU, ConvT, Norm] (+ Dropout). Walked back from the innermost concat's
    decoder input to the image, that is Conv, LReLU, (Conv, Norm, LReLU) x 3, Conv, ReLU, ConvT, Norm, Dropout."""
    g = T.unet_generator(32, 3, 3, base=4, norm=norm)
    n = NORM_CLASS[norm]
    down = ("Conv2D", 4, 2)
    encoder = ["InputLayer", down, LRELU] + [down, n, LRELU] * 3
    innermost = unet_concats(g)[0]
    assert sequence(innermost.input[1]) == encoder + [down, "ReLU", ("Conv2DTranspose", 4, 2), n, ("Dropout", 0.5)]
    # the first two encoder blocks end in the skip the 8 px decoder block concatenates
    assert sequence(unet_concats(g)[2].input[0]) == encoder[:6]


def test_unet_decoder_blocks_follow_the_official_order():
    """Up = [ReLU, ConvT 4 s2, Norm] (+ Dropout(0.5) nearest the bottleneck), then cat([skip, up]); the outermost
    up = [ReLU, ConvT, Tanh] without a norm."""
    g = T.unet_generator(32, 3, 3, base=4)
    c2, c4, c8, c16 = unet_concats(g)
    up = ["ReLU", ("Conv2DTranspose", 4, 2), "BatchNormalization"]
    assert sequence(c8.input[1]) == ["Concatenate"] + up + [("Dropout", 0.5)]
    assert chain(c8.input[1])[0] is c4
    assert sequence(c16.input[1]) == ["Concatenate"] + up
    assert chain(c16.input[1])[0] is c8
    assert sequence(g.output) == ["Concatenate", "ReLU", ("Conv2DTranspose", 4, 2), ("Activation", "tanh")]
    assert chain(g.output)[0] is c16
    assert [describe(producer(c.input[0])) for c in (c2, c4, c8, c16)] == [LRELU] * 4  # skip first, as torch.cat


def test_unet_skip_is_the_encoder_output_after_leaky_relu():
    """The official block returns torch.cat([x, model(x)]) with x the block's input; the next block's in-place
    LeakyReLU(0.2, True) rewrites x, so the concatenated skip is LeakyReLU(0.2) of the encoder's pre-activation.
    Without normalisation that is the encoder conv's output, so skip == where(c > 0, c, 0.2 c) in NumPy;
    about half the c are negative, where a pre-activation skip (c) or a ReLU (0) is off by 0.8 |c| or 0.2 |c|."""
    g = T.unet_generator(32, 3, 3, base=4, norm="none")
    convs = sorted((l for l in g.layers if type(l) is layers.Conv2D), key=lambda l: -l.output.shape[1])[:-1]
    concats = unet_concats(g)[::-1]  # 16, 8, 4, 2 px: the skips of encoder blocks 1 .. 4
    probe = keras.Model(g.input, [l.output for l in convs] + [l.output for l in concats])
    x = np.random.default_rng(7).uniform(-1, 1, (2, 32, 32, 3)).astype("float32")
    outs = [np.asarray(t) for t in probe(x, training=False)]
    for conv_out, cat_out in zip(outs[:4], outs[4:]):
        skip = cat_out[..., :conv_out.shape[-1]]  # cat([skip, up]): the skip's channels first
        want = np.where(conv_out > 0, conv_out, np.float32(0.2) * conv_out)
        np.testing.assert_allclose(skip, want, rtol=1e-6, atol=0)  # one float32 multiply: equal up to rounding
        assert (conv_out < 0).mean() > 0.2  # at each, the relative tolerance sees the 0.8 |c| or 0.2 |c|


@pytest.mark.parametrize("norm", ["batch", "instance"])
def test_patchgan_follows_the_official_order(norm):
    """NLayerDiscriminator (kw 4, padw 1): [Conv s2, LReLU(0.2)], [Conv s2, Norm, LReLU] x (n - 1),
    [Conv s1, Norm, LReLU], Conv s1 to one channel; PyTorch's padding 1 as ZeroPadding2D(1) before each conv."""
    d = T.patch_discriminator(3, n_layers=3, base=4, norm=norm)
    n = NORM_CLASS[norm]
    pad = ("ZeroPadding2D", ((1, 1), (1, 1)))
    want = (["InputLayer", pad, ("Conv2D", 4, 2), LRELU] + [pad, ("Conv2D", 4, 2), n, LRELU] * 2
            + [pad, ("Conv2D", 4, 1), n, LRELU, pad, ("Conv2D", 4, 1)])
    assert sequence(d.output) == want


@pytest.mark.parametrize("dropout", [0.0, 0.5])
def test_resnet_generator_and_residual_block_follow_the_official_order(dropout):
    """ResnetGenerator: ReflPad 3, Conv 7, Norm, ReLU; 2 x [Conv 3 s2 (padding 1), Norm, ReLU]; ResnetBlocks;
    2 x [ConvT 3 s2 (padding 1, output_padding 1), Norm, ReLU]; ReflPad 3, Conv 7, Tanh. ResnetBlock: x + [ReflPad 1,
    Conv 3, Norm, ReLU, (Dropout), ReflPad 1, Conv 3, Norm](x), nothing after the sum."""
    r = T.resnet_generator(16, base=4, n_blocks=2, dropout=dropout)
    add1, add2 = sorted((l for l in r.layers if isinstance(l, layers.Add)), key=lambda l: -len(chain(l.input[1])))
    n = "GroupNormalization"
    block = [("ReflectionPadding2D", 1), ("Conv2D", 3, 1), n, "ReLU"] + ([("Dropout", 0.5)] if dropout else [])
    block += [("ReflectionPadding2D", 1), ("Conv2D", 3, 1), n]
    head = ["InputLayer", ("ReflectionPadding2D", 3), ("Conv2D", 7, 1), n, "ReLU"]
    head += [("ZeroPadding2D", ((1, 1), (1, 1))), ("Conv2D", 3, 2), n, "ReLU"] * 2
    assert sequence(add1.input[1]) == head + block
    assert producer(add1.input[0]) is chain(add1.input[1])[len(head) - 1]  # the sum's other term: the block input
    assert sequence(add2.input[1]) == ["Add"] + block
    assert chain(add2.input[1])[0] is add1 and producer(add2.input[0]) is add1
    tail = [("Conv2DTranspose", 3, 2), ("Cropping2D", ((1, 0), (1, 0))), n, "ReLU"] * 2
    assert sequence(r.output) == ["Add"] + tail + [("ReflectionPadding2D", 3), ("Conv2D", 7, 1), ("Activation", "tanh")]
    assert chain(r.output)[0] is add2
