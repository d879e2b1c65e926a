"""Image-to-image translation networks (issue 20, items 2-3): pix2pix's U-Net generator and PatchGAN
discriminator (Isola et al. 2017) and CycleGAN's ResNet generator (Zhu et al. 2017), as Keras functional models,
channels-last, float32.

The reference is the official PyTorch code (junyanz/pytorch-CycleGAN-and-pix2pix, models/networks.py:
UnetGenerator, NLayerDiscriminator, ResnetGenerator) with its layer order, paddings, bias rule and
initialisation, so that the parameter counts equal the official ones (ResNet-9 11,378,179; 3-channel 70x70
PatchGAN with instance norm 2,764,737; unet_256 54.414 M; pix2pix PatchGAN on 6 channels 2.769 M).
PyTorch's `padding=1` is written as explicit zero padding where Keras "same" would pad differently (stride 1
with an even kernel, stride 2 on odd sizes, the ResNet's 3x3 stride-2 convolutions).

Initialisation (official init_weights 'normal', gain 0.02): conv kernels N(0, 0.02), biases 0, BatchNorm gamma
N(1, 0.02) and beta 0. Normalisation: "batch" (pix2pix), "instance" (CycleGAN; per image and channel, no affine,
as the official get_norm_layer) or "none". As in the official code a conv has a bias unless BatchNorm follows it
(which cancels it); instance norm cancels it too, but the official counts include those biases.
"""
from __future__ import annotations

import math

import keras
from keras import layers

LEAK = 0.2  # every LeakyReLU of pix2pix / the PatchGAN (Isola et al. 2017, sec. 6.1)
EPSILON = 1e-5  # PyTorch's BatchNorm2d / InstanceNorm2d epsilon


def _kernel_init():
    """A fresh N(0, 0.02) per layer (official init_weights 'normal', gain 0.02)."""
    return keras.initializers.RandomNormal(mean=0.0, stddev=0.02)


def _batch_norm(channels, name):
    # PyTorch momentum 0.1 is Keras momentum 0.9; gamma N(1, 0.02) as init_weights does for BatchNorm2d.
    return layers.BatchNormalization(momentum=0.9, epsilon=EPSILON, name=name,
                                     gamma_initializer=keras.initializers.RandomNormal(mean=1.0, stddev=0.02))


def _instance_norm(channels, name):
    # One group per channel = instance normalisation; no gamma/beta (CycleGAN: InstanceNorm2d(affine=False)).
    return layers.GroupNormalization(groups=channels, epsilon=EPSILON, center=False, scale=False, name=name)


NORMS = {"batch": _batch_norm, "instance": _instance_norm, "none": None}


def _check_norm(norm):
    if norm not in NORMS:
        raise ValueError(f"unknown normalisation '{norm}' (choose from {', '.join(NORMS)})")
    return norm


def _normed(x, norm, channels, name):
    make = NORMS[norm]
    return x if make is None else make(channels, name)(x)


def _conv(x, filters, kernel, stride, name, bias=True, pad=0, transpose=False, **kw):
    """Conv (or ConvTranspose) with N(0, 0.02) kernels and zero biases; `pad`: PyTorch's zero padding, explicit."""
    if pad:
        x = layers.ZeroPadding2D(pad, name=f"{name}_pad")(x)
    cls = layers.Conv2DTranspose if transpose else layers.Conv2D
    return cls(filters, kernel, strides=stride, padding=kw.pop("padding", "valid"), use_bias=bias,
               kernel_initializer=_kernel_init(), bias_initializer="zeros", name=name, **kw)(x)


@keras.saving.register_keras_serializable(package="coupled_gan")
class ReflectionPadding2D(layers.Layer):
    """PyTorch's ReflectionPad2d (the edge pixel is not repeated); Keras 3 has no such layer."""

    def __init__(self, pad=1, **kwargs):
        super().__init__(**kwargs)
        self.pad = int(pad)

    def call(self, x):
        p = self.pad
        return keras.ops.pad(x, [[0, 0], [p, p], [p, p], [0, 0]], mode="reflect")

    def compute_output_shape(self, input_shape):
        grow = lambda n: None if n is None else n + 2 * self.pad  # noqa: E731
        return (input_shape[0], grow(input_shape[1]), grow(input_shape[2]), input_shape[3])

    def get_config(self):
        return {**super().get_config(), "pad": self.pad}


# ---------------------------------------------------------------- pix2pix U-Net

def unet_channels(depth, base=64):
    """Encoder widths, outermost first: base * (1, 2, 4, 8, 8, ...) as the official unet_256."""
    return [base * min(2 ** i, 8) for i in range(depth)]


def unet_depth(size):
    """Downsamplings to a 1x1 bottleneck: log2(size) (unet_256: 8, unet_128: 7, 32 px: 5)."""
    depth = int(round(math.log2(size))) if size > 0 else 0
    if 2 ** depth != size or depth < 2:
        raise ValueError(f"the U-Net needs a power-of-two image size of at least 4, not {size}")
    return depth


def unet_generator(size, in_channels=3, out_channels=3, base=64, norm="batch", dropout=0.5, dropout_blocks=3,
                   name="unet"):
    """pix2pix generator (official UnetGenerator; Isola et al. 2017, sec. 6.1.1), depth log2(size) to 1x1.

    Encoder: Conv 4x4 s2 -> norm -> LeakyReLU(0.2), no norm on the first block and none at the 1x1 bottleneck
    (the official innermost block; BatchNorm there zeroes the bottleneck when the batch is one image).
    Decoder: ReLU -> ConvTranspose 4x4 s2 -> norm -> Dropout, then concat(skip, up) as the official
    torch.cat([x, model(x)]); the last ConvTranspose has a bias and tanh. With BatchNorm no other conv has a
    bias, the first and the bottleneck one included (official bias rule; unet_256 has the official 54.414 M).
    Dropout(0.5) in the `dropout_blocks` decoder blocks nearest the bottleneck, outputs at 2, 4 and 8 px (the
    paper's CD512-CD1024-CD1024; the official code puts them one block further out, at 4, 8 and 16 px, and in
    only log2(size) - 5 blocks, none at 32 px), active only with training=True: pix2pix's test-time dropout is
    the caller's choice of `training`. Layers: {name}_down{i}, {name}_up{i} (i = 1 outermost),
    {name}_up{i}_dropout.
    """
    _check_norm(norm)
    depth = unet_depth(size)
    widths = unet_channels(depth, base)
    bias = norm != "batch"
    x = inp = keras.Input((size, size, in_channels), name=f"{name}_input")
    skips = []
    for i, f in enumerate(widths, start=1):
        innermost = i == depth
        x = _conv(x, f, 4, 2, f"{name}_down{i}", bias=bias, padding="same")
        if 1 < i < depth:
            x = _normed(x, norm, f, f"{name}_down{i}_norm")
        if not innermost:  # the bottleneck goes straight to the decoder's ReLU
            x = layers.LeakyReLU(LEAK, name=f"{name}_down{i}_lrelu")(x)
            skips.append(x)
    for i in range(depth, 1, -1):  # decoder blocks, innermost first, back to the skip of level i - 1
        f = widths[i - 2]
        x = layers.ReLU(name=f"{name}_up{i}_relu")(x)
        x = _conv(x, f, 4, 2, f"{name}_up{i}", bias=bias, transpose=True, padding="same")
        x = _normed(x, norm, f, f"{name}_up{i}_norm")
        if depth - i < dropout_blocks and dropout:
            x = layers.Dropout(dropout, name=f"{name}_up{i}_dropout")(x)
        x = layers.Concatenate(name=f"{name}_up{i}_skip")([skips[i - 2], x])
    x = layers.ReLU(name=f"{name}_up1_relu")(x)
    x = _conv(x, out_channels, 4, 2, f"{name}_up1", transpose=True, padding="same")
    out = layers.Activation("tanh", dtype="float32", name=f"{name}_tanh")(x)
    return keras.Model(inp, out, name=name)


# ---------------------------------------------------------------- PatchGAN

def patch_receptive_field(n_layers):
    """Input pixels one output unit sees: 16 / 34 / 70 for n_layers 1 / 2 / 3 (4x4 kernels, n_layers
    stride-2 convolutions, then two of stride 1)."""
    strides = [2] * n_layers + [1, 1]
    field, jump = 1, 1
    for s in strides:
        field, jump = field + 3 * jump, jump * s
    return field


def patch_output_size(size, n_layers):
    """Side of the logit map for a size x size input (PyTorch's padding 1: floor((s - 2) / 2) + 1 per stride-2
    conv, one pixel less per stride-1 conv): 30 for 256 px and 3 layers, 2 for 32 px."""
    for _ in range(n_layers):
        size = (size - 2) // 2 + 1
    return size - 2


def patch_discriminator(in_channels, n_layers=3, base=64, norm="batch", size=None, name="patchgan"):
    """PatchGAN (official NLayerDiscriminator, kw=4, padding 1): Conv s2 -> LeakyReLU, then n_layers - 1 blocks
    Conv s2 -> norm -> LeakyReLU, one Conv s1 -> norm -> LeakyReLU (widths base * min(2^n, 8)), and a 1-channel
    Conv s1: a map of logits (no sigmoid), each over a patch_receptive_field(n_layers) square (70x70 for 3).
    pix2pix feeds concat(x, y) (in_channels 6 for RGB pairs, norm "batch"); CycleGAN an image (norm "instance").
    `size`: fixed input size, or None for any."""
    _check_norm(norm)
    if n_layers < 1:
        raise ValueError(f"the PatchGAN needs n_layers >= 1, not {n_layers}")
    if size is not None and patch_output_size(size, n_layers) < 1:  # TF returns garbage shapes, no error
        raise ValueError(f"a {n_layers}-layer PatchGAN sees nothing of a {size} px image: use fewer layers")
    bias = norm != "batch"
    x = inp = keras.Input((size, size, in_channels), name=f"{name}_input")
    x = _conv(x, base, 4, 2, f"{name}_conv1", pad=1)
    x = layers.LeakyReLU(LEAK, name=f"{name}_conv1_lrelu")(x)
    for n in range(1, n_layers + 1):  # the last of these has stride 1
        f = base * min(2 ** n, 8)
        conv = f"{name}_conv{n + 1}"
        x = _conv(x, f, 4, 2 if n < n_layers else 1, conv, bias=bias, pad=1)
        x = _normed(x, norm, f, f"{conv}_norm")
        x = layers.LeakyReLU(LEAK, name=f"{conv}_lrelu")(x)
    out = _conv(x, 1, 4, 1, f"{name}_logits", pad=1, dtype="float32")
    return keras.Model(inp, out, name=name)


# ---------------------------------------------------------------- CycleGAN ResNet generator

def resnet_blocks(size):
    """CycleGAN's choice (Zhu et al. 2017, sec. 7.2): 6 residual blocks up to 128 px, 9 above."""
    return 6 if size <= 128 else 9


def _residual_block(x, channels, norm, dropout, name):
    """ReflPad1 -> Conv3 -> norm -> ReLU [-> Dropout] -> ReflPad1 -> Conv3 -> norm, plus the input (R256)."""
    bias = norm != "batch"
    h = ReflectionPadding2D(1, name=f"{name}_pad1")(x)
    h = _conv(h, channels, 3, 1, f"{name}_conv1", bias=bias)
    h = layers.ReLU(name=f"{name}_relu")(_normed(h, norm, channels, f"{name}_norm1"))
    if dropout:
        h = layers.Dropout(dropout, name=f"{name}_dropout")(h)
    h = ReflectionPadding2D(1, name=f"{name}_pad2")(h)
    h = _normed(_conv(h, channels, 3, 1, f"{name}_conv2", bias=bias), norm, channels, f"{name}_norm2")
    return layers.Add(name=f"{name}_add")([x, h])


def resnet_generator(size=None, in_channels=3, out_channels=3, base=64, n_blocks=None, norm="instance",
                     dropout=0.0, name="resnet"):
    """CycleGAN generator (official ResnetGenerator; Zhu et al. 2017, sec. 7.2): c7s1-64, d128, d256,
    R256 x n_blocks, u128, u64, c7s1-out, tanh; reflection padding, instance norm without affine.
    n_blocks: resnet_blocks(size) unless given; size None builds a model for any size divisible by 4.
    The upsampling ConvTranspose 3x3 s2 (PyTorch padding 1, output_padding 1) is a valid transposed conv
    with its first row and column cropped, which is exactly PyTorch's output."""
    _check_norm(norm)
    if n_blocks is None:
        if size is None:
            raise ValueError("resnet_generator needs size or n_blocks")
        n_blocks = resnet_blocks(size)
    bias = norm != "batch"
    x = inp = keras.Input((size, size, in_channels), name=f"{name}_input")
    x = _conv(ReflectionPadding2D(3, name=f"{name}_c7_pad")(x), base, 7, 1, f"{name}_c7", bias=bias)
    x = layers.ReLU(name=f"{name}_c7_relu")(_normed(x, norm, base, f"{name}_c7_norm"))
    for i in (1, 2):
        f = base * 2 ** i
        x = _conv(x, f, 3, 2, f"{name}_d{i}", bias=bias, pad=1)
        x = layers.ReLU(name=f"{name}_d{i}_relu")(_normed(x, norm, f, f"{name}_d{i}_norm"))
    for r in range(1, n_blocks + 1):
        x = _residual_block(x, base * 4, norm, dropout, f"{name}_r{r}")
    for i in (1, 2):
        f = base * 2 ** (2 - i)
        x = _conv(x, f, 3, 2, f"{name}_u{i}", bias=bias, transpose=True)
        x = layers.Cropping2D(((1, 0), (1, 0)), name=f"{name}_u{i}_crop")(x)
        x = layers.ReLU(name=f"{name}_u{i}_relu")(_normed(x, norm, f, f"{name}_u{i}_norm"))
    x = _conv(ReflectionPadding2D(3, name=f"{name}_out_pad")(x), out_channels, 7, 1, f"{name}_out")
    out = layers.Activation("tanh", dtype="float32", name=f"{name}_tanh")(x)
    return keras.Model(inp, out, name=name)


# name -> builder, for the trainers' configuration (issue 20 items 2-3)
TRANSLATION_NETS = {"unet": unet_generator, "resnet": resnet_generator, "patchgan": patch_discriminator}
