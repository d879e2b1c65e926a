"""Generators and discriminators of the thesis, written once and instantiated per domain.

A network is a stack of *blocks* (one "layer" of the thesis tables: e.g. ConvTranspose -> BatchNorm -> PReLU).
CoGAN weight sharing (Liu & Tuzel 2016) means that the first `shared_g` generator blocks and the last
`shared_d` discriminator blocks of the two domains are literally the same block objects, so a shared
variable exists once and receives the sum of both GANs' gradients in one update.

Architectures (name -> thesis table):
- `cogan32`  : 32x32 generator Table 3.1, discriminator Table 3.2 (the original CoGAN digit nets).
- `cogan128` : 128x128 generator Table A.1, discriminator Table A.2 (faces, CycleGAN sets).
- `cogan256` : 256x256 generator Table A.3, discriminator Table A.4.
- `dcgan64`  : DCGAN (Radford et al. 2016) 64x64 nets for single GANs.
- `toy`      : the 2-D MLPs of thesis Table 2.1 (ring of Gaussians, sec. 2.3.2).
All discriminators return logits (no sigmoid). PReLU(0.25) learns one slope per channel, as Caffe does.
"""
from __future__ import annotations

from dataclasses import dataclass

import keras
from keras import layers

# The architectures' tables (ARCHS, DEFAULT_SHARED, FR_MAPS, NUM_BLOCKS, ...) live in archs.py, without
# TensorFlow: config.resolve reads them before Keras is imported.
from archs import (ARCHS, DEFAULT_SHARED, FR_MAPS, IMAGE_SIZE, NUM_BLOCKS, default_arch,  # noqa: F401
                   fr_map_indices, num_blocks)

INITIALISERS = {
    "xavier": "glorot_uniform",  # Caffe's "xavier" filler is uniform
    "xavier_normal": "glorot_normal",
    "he": "he_normal",
    "normal": keras.initializers.RandomNormal(stddev=0.02),  # DCGAN
}
BIAS_INITIALISERS = {"zeros": "zeros", "constant": keras.initializers.Constant(0.1)}
NORMS = ("batch", "layer", "none")


@dataclass(frozen=True)
class NetOptions:
    """What every block builder needs; built from the run config by the trainer, never the config itself."""
    channels: int = 3
    noise_dim: int = 100
    w_init: str = "xavier"
    b_init: str = "zeros"
    prelu_init: float = 0.25
    d_norm: str = "batch"  # normalisation in the discriminator; WGAN-GP needs "layer" or "none"
    # Multiplies the generators' hidden channels (1: the thesis tables); the offline demo's 0.25 (config.py).
    g_width: float = 1.0
    # Under N replicas (devices.py): BatchNorm's batch statistics over the global batch (an all-reduce per
    # layer), so that replicas compute what one device computes; off on one device.
    sync_batchnorm: bool = False


def _initialisers(net_options: NetOptions):
    w = INITIALISERS[net_options.w_init]
    b = BIAS_INITIALISERS[net_options.b_init]
    return (keras.initializers.get(w) if isinstance(w, str) else w.__class__.from_config(w.get_config()),
            keras.initializers.get(b) if isinstance(b, str) else b.__class__.from_config(b.get_config()))


def _batchnorm(net_options):
    return layers.BatchNormalization(synchronized=net_options.sync_batchnorm)


def _norm(kind, net_options):
    if kind == "batch":
        return [_batchnorm(net_options)]
    if kind == "layer":
        return [layers.LayerNormalization()]
    return []


def _prelu(net_options: NetOptions, conv: bool):
    init = keras.initializers.Constant(net_options.prelu_init)
    return layers.PReLU(alpha_initializer=init, shared_axes=[1, 2] if conv else None)


def _dense(units, net_options, **kw):
    w, b = _initialisers(net_options)
    return layers.Dense(units, kernel_initializer=w, bias_initializer=b, **kw)


def _conv(filters, kernel, stride, net_options, transpose=False, **kw):
    w, b = _initialisers(net_options)
    cls = layers.Conv2DTranspose if transpose else layers.Conv2D
    return cls(filters, kernel, strides=stride, padding="same", kernel_initializer=w, bias_initializer=b, **kw)


def _block(block_layers, name):
    return keras.Sequential(block_layers, name=name)


# ---------------------------------------------------------------- block tables (one entry = one table row)

def _width(filters, net_options):
    return max(1, int(round(filters * net_options.g_width)))


def _gen_upsampling(net_options, start_filters, ups, kernel, out_kernel, name):
    """Dense -> 4x4xF, then stride-2 transposed convs; BN before PReLU; tanh output (Tables 3.1, A.1, A.3).
    Hidden widths times net_options.g_width."""
    start_filters, ups = _width(start_filters, net_options), [_width(f, net_options) for f in ups]
    blocks = [_block([_dense(4 * 4 * start_filters, net_options), layers.Reshape((4, 4, start_filters)),
                      _batchnorm(net_options), _prelu(net_options, True)], f"{name}_fc")]
    for i, f in enumerate(ups):
        blocks.append(_block([_conv(f, kernel, 2, net_options, transpose=True), _batchnorm(net_options),
                              _prelu(net_options, True)], f"{name}_up{i + 1}"))
    blocks.append(_block([_conv(net_options.channels, out_kernel, 1, net_options, transpose=True),
                          layers.Activation("tanh", dtype="float32")], f"{name}_out"))
    return blocks


def gen_blocks(arch: str, net_options: NetOptions, name="G"):
    if arch == "cogan32":  # Table 3.1: 4 -> 8 -> 16 -> 32, output 6x6 conv
        return _gen_upsampling(net_options, 1024, (512, 256, 128), 3, 6, name)
    if arch == "cogan128":  # Table A.1: 4 -> 128, output 3x3 conv
        return _gen_upsampling(net_options, 1024, (512, 256, 128, 64, 32), 4, 3, name)
    if arch == "cogan256":  # Table A.3: 4 -> 256, output 3x3 conv
        return _gen_upsampling(net_options, 2048, (1024, 512, 256, 128, 64, 32), 4, 3, name)
    if arch == "dcgan64":  # Radford et al. 2016, Fig. 1
        top = _width(1024, net_options)
        blocks = [_block([_dense(4 * 4 * top, net_options), layers.Reshape((4, 4, top)),
                          _batchnorm(net_options), layers.ReLU()], f"{name}_fc")]
        for i, f in enumerate((512, 256, 128)):
            blocks.append(_block([_conv(_width(f, net_options), 5, 2, net_options, transpose=True),
                                  _batchnorm(net_options), layers.ReLU()], f"{name}_up{i + 1}"))
        blocks.append(_block([_conv(net_options.channels, 5, 2, net_options, transpose=True),
                              layers.Activation("tanh", dtype="float32")], f"{name}_out"))
        return blocks
    if arch == "toy":  # Table 2.1: three tanh layers of 128, linear 2-D output
        return [_block([_dense(128, net_options, activation="tanh")], f"{name}_fc{i + 1}") for i in range(3)] + [
            _block([_dense(2, net_options, dtype="float32")], f"{name}_out")]
    raise ValueError(f"unknown architecture '{arch}'")


def disc_blocks(arch: str, net_options: NetOptions, name="D"):
    if arch == "cogan32":  # Table 3.2: conv20-pool, conv50-pool, fc500-PReLU-dropout, fc1
        return [
            _block([_conv(20, 5, 1, net_options), layers.MaxPooling2D()], f"{name}_conv1"),
            _block([_conv(50, 5, 1, net_options), layers.MaxPooling2D()], f"{name}_conv2"),
            _block([layers.Flatten(), _dense(500, net_options), _prelu(net_options, False), layers.Dropout(0.5)],
                   f"{name}_fc1"),
            _block([_dense(1, net_options, dtype="float32")], f"{name}_out"),
        ]
    if arch in ("cogan128", "cogan256"):  # Tables A.2 / A.4: the same kernels (5, 5, 5, 3, 3, 3) and dropouts
        spec = [(32, 5, 0.0), (64, 5, 0.0), (128, 5, 0.1), (256, 3, 0.3), (512, 3, 0.3), (1024, 3, 0.5)]
        blocks = []
        for i, (f, ks, drop) in enumerate(spec):
            seq = [_conv(f, ks, 2, net_options)] + _norm(net_options.d_norm, net_options) + [
                _prelu(net_options, True)]
            if drop:
                seq.append(layers.Dropout(drop))
            blocks.append(_block(seq, f"{name}_conv{i + 1}"))
        blocks.append(_block([layers.Flatten(), _dense(2048, net_options)] + _norm(net_options.d_norm, net_options) +
                             [_prelu(net_options, False), layers.Dropout(0.5)], f"{name}_fc1"))
        blocks.append(_block([_dense(1, net_options, dtype="float32")], f"{name}_out"))
        return blocks
    if arch == "dcgan64":
        blocks = []
        for i, f in enumerate((64, 128, 256, 512)):
            norm = _norm(net_options.d_norm, net_options) if i else []
            seq = [_conv(f, 5, 2, net_options)] + norm + [layers.LeakyReLU(0.2)]
            blocks.append(_block(seq, f"{name}_conv{i + 1}"))
        blocks.append(_block([layers.Flatten(), _dense(1, net_options, dtype="float32")], f"{name}_out"))
        return blocks
    if arch == "toy":
        return [_block([_dense(128, net_options, activation="tanh")], f"{name}_fc{i + 1}") for i in range(3)] + [
            _block([_dense(1, net_options, dtype="float32")], f"{name}_out")]
    raise ValueError(f"unknown architecture '{arch}'")


# ---------------------------------------------------------------- networks

class BlockNet(keras.Model):
    """A network made of blocks; `call_with_features` also returns every block's output."""

    def __init__(self, blocks, input_shape, **kwargs):
        super().__init__(**kwargs)
        self.blocks = list(blocks)
        self.input_spec_shape = tuple(input_shape)

    def call(self, x, training=False):
        for block in self.blocks:
            x = block(x, training=training)
        return x

    def call_with_features(self, x, training=False):
        """(output, [every block's output, the output last]) -- what the feature regulariser (Eq. 4.1) picks
        its maps from (`fr_map_indices`)."""
        features = []
        for block in self.blocks:
            x = block(x, training=training)
            features.append(x)
        return x, features

    def build_now(self):
        self(keras.ops.zeros((1,) + self.input_spec_shape))
        return self


def _check_shared(shared, total, what):
    if not 0 <= shared < total:
        raise ValueError(f"--shared_layers_{what} {shared} is out of range: this network has {total} layers, "
                         f"so at most {total - 1} can be shared")


def build_generators(arch, net_options: NetOptions, domains=2, shared=0):
    """One generator per domain; the first `shared` blocks are the same objects in all of them."""
    first = gen_blocks(arch, net_options, "G1")
    _check_shared(shared, len(first), "g")
    nets = [BlockNet(first, (net_options.noise_dim,), name="G1")]
    for d in range(2, domains + 1):
        own = gen_blocks(arch, net_options, f"G{d}")
        nets.append(BlockNet(first[:shared] + own[shared:], (net_options.noise_dim,), name=f"G{d}"))
    return [n.build_now() for n in nets]


def build_discriminators(arch, net_options: NetOptions, input_shape, domains=2, shared=0):
    """One discriminator per domain; the last `shared` blocks are the same objects in all of them."""
    first = disc_blocks(arch, net_options, "D1")
    _check_shared(shared, len(first), "d")
    cut = len(first) - shared
    nets = [BlockNet(first, input_shape, name="D1")]
    for d in range(2, domains + 1):
        own = disc_blocks(arch, net_options, f"D{d}")
        nets.append(BlockNet(own[:cut] + first[cut:], input_shape, name=f"D{d}"))
    return [n.build_now() for n in nets]


def shared_prefix(generators) -> int:
    """How many leading blocks all generators share (CoGAN weight sharing: the very same objects)."""
    blocks = [getattr(g, "blocks", None) for g in generators]
    if any(b is None for b in blocks):
        return 0
    k = 0
    while k < min(len(b) for b in blocks) - 1 and all(b[k] is blocks[0][k] for b in blocks):
        k += 1
    return k


def forward_coupled(generators, z, training=False, shared=None):
    """[(image, [every block's output, the image last])] of each generator for the same z, the shared leading
    blocks run once: the same objects on the same input give the same output, so both domains' heads continue
    from one trunk output (with CoGAN32's default sharing, 4 of 5 blocks, a pair costs about one generator
    pass, forward and backward). Shared BatchNorm layers see the batch once, so their moving statistics take
    one update per batch. `shared`: nets.shared_prefix(generators), when the caller knows it."""
    if not all(hasattr(g, "blocks") for g in generators):  # plain Keras models: no blocks to share
        return [(x, [x]) for x in (g(z, training=training) for g in generators)]
    k = shared_prefix(generators) if shared is None else shared
    h, trunk = z, []
    for block in generators[0].blocks[:k]:
        h = block(h, training=training)
        trunk.append(h)
    out = []
    for g in generators:
        x, features = h, list(trunk)
        for block in g.blocks[k:]:
            x = block(x, training=training)
            features.append(x)
        out.append((x, features))
    return out


def unique_variables(models, trainable=True):
    """The union of the models' variables, each shared variable once (de-duplicated by identity)."""
    seen, out = set(), []
    for m in models:
        for v in (m.trainable_variables if trainable else m.variables):
            if id(v) not in seen:
                seen.add(id(v))
                out.append(v)
    return out
