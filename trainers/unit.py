"""`--gan_type unit` (issue 20, item 4): UNIT, Liu, Breuel & Kautz 2017, "Unsupervised Image-to-Image Translation
Networks" (NIPS): CoGAN's weight sharing plus VAE encoders and one shared latent space, on unpaired data
(data.load_pair, default --cogan_data digits2edge).

Sources. The paper (sec. 3, Eqs. 2-5; sec. 4) and the official code, github.com/mingyuliutw/UNIT: its NIPS-era
branch `version_02` (src/trainers/cocogan_trainer.py COCOGANTrainer, cocogan_nets.py, cocogan_nets_da.py
CoVAE32x32, exps/unit/*.yaml) and master (trainer.py UNIT_Trainer, configs/unit_*.yaml). No code is copied.

Objective, for domain 1 (domain 2 symmetric; E encoders, G generators, D discriminators):

    mu1 = E1(x1),  z1 = mu1 + N(0, I)      q1(z1|x1) = N(mu1, I): the paper's VAE "with unit variance"
    x1->1 = G1(z1),  x1->2 = G2(z1)        the same z1 for both (official gen_update: decode(h_a + n_a))
    mu12 = E2(x1->2),  x1->2->1 = G1(mu12 + N(0, I))
    G side:  lambda0 * BCE(D2(x1->2), 1)            GAN (Eq. 4; the non-saturating form the official code trains)
           + lambda1 * KL(mu1) + lambda2 * |x1->1 - x1|            VAE (Eq. 3; the Laplacian likelihood is L1)
           + lambda3 * KL(mu12) + lambda4 * |x1->2->1 - x1|        cycle (Eq. 5)
    D side:  lambda0 * (BCE(D1(x1), 1) + BCE(D1(x2->1), 0))        (official dis_update: gan_w * (ad_a + ad_b))

    KL(mu) = mean(mu ** 2) over every element: the official `_compute_kl` (both branches; the learned-sigma form is
    commented out there). The exact KL of N(mu, I) from N(0, I) is 0.5 * sum(mu ** 2) per example; the weights
    below go with the code's form, so that is the one computed. It is taken on mu, as master does (version_02
    took it on mu + noise: the same expected gradient, noisier). Eq. 5, as we read it, repeats the first
    encoding's KL in the cycle term; both official trainers count it once (version_02: kl_direct_link_w *
    (enc_loss + enc_loss), enc_loss the mean over both domains' codes, = KL(mu1) + KL(mu2)), and so does this one.
    |.| is the mean absolute error over pixels (torch.nn.L1Loss).

Weights (--unit_weights lambda0,lambda1,lambda2,lambda3,lambda4; default 10,0.1,100,0.1,100):
    lambda0 = 10  GAN                the paper's default values (sec. 4: lambda0 = 10, lambda1 = lambda3 = 0.1,
                                     lambda2 = lambda4 = 100); every translation yaml of version_02
                                     (exps/unit/, exps/unit_local/): gan_w: 10
    lambda1 = 0.1 KL                 paper; version_02 kl_direct_link_w: 0.1
    lambda2 = 100 reconstruction     paper; version_02 ll_direct_link_w: 100
    lambda3 = 0.1 cycle KL           paper; version_02 kl_cycle_link_w: 0.1
    lambda4 = 100 cycle L1           paper; version_02 ll_cycle_link_w: 100
  Master's configs/unit_*.yaml (gan_w 1, recon_kl_w 0.01, recon_x_w 10, recon_kl_cyc_w 0.01, recon_x_cyc_w 10) are
  the same weights divided by 10, its D loss too (gan_w * ...). Adam's steps are invariant to a constant factor on
  an objective (up to its epsilon), so `--unit_weights 1,0.01,10,0.01,10` trains the same model as the default; it
  does NOT reproduce master, whose LSGAN loss, multi-scale D, VAEGen nets, kaiming init and weight decay are not
  built here (review 10, B1).

Optimisers: Adam lr 1e-4, betas (0.5, 0.999) for both sides (the paper sec. 4; version_02 COCOGANTrainer and
master's yaml alike), the `unit` preset. Both official trainers also pass weight_decay=0.0001 to Adam, which the
paper does not mention: not applied here (--weight_decay is refused for unit). One iteration = the official
order (version_02 cocogan_train.py, master train.py): dis_update (fresh encodings and noise, translations held
fixed), then gen_update (fresh encodings and noise, through the updated D), in one compiled step. The batch, unless
given: 1 at 64 px and up (config.UNIT_BATCH: COCOResGen's official batch_size in cat2tiger.yaml, corgi2husky.yaml),
the data's default at 32 px (version_02 trains its BatchNorm digit net at 64, svhn2mnist.yaml).

Networks: chosen by the image size (config.unit_net; the blocks per net and the default sharing in
config.UNIT_NETS), both version_02's nets, with unit variance (the paper's translation model):
  32 px: CoVAE32x32 (cocogan_nets_da.py), the DA digit net: version_02 trains it in COCOGANDAContextTrainer with
  other losses (svhn2mnist.yaml: kl 1e-4, ll 1e-3, gan_w 1, plus feature and classification terms), so pairing it
  with COCOGANTrainer's translation weights is this project's combination (review 10, D). Latent (1, 1, 8 * base).
    E: [conv 5x5/2 -> BN -> LReLU] x 2 doubling from `base`, conv 8x8 valid to 1x1, conv 1x1, and the mean: conv
       1x1 (linear)                                                                                 5 blocks
    G: deconv 4x4/2 valid 1x1 -> 4x4, [deconv 4x4/2 -> BN -> LReLU] x 3 halving, deconv 1x1 -> tanh   5 blocks
    base = 96 * --g_width (svhn2mnist.yaml's gen_ch 96); BatchNorm without scale (official
    BatchNorm2d(affine=False) + Bias2d), LeakyReLU 0.01 (PyTorch's default), N(0, 0.02) kernels. Default
    sharing: the encoders' last 4 blocks (g_en_conv1-3, g_vae), the generators' first 3 (g_de_conv0-2).
  64 px and up: COCOResGen (cocogan_nets.py; cat2tiger.yaml / corgi2husky.yaml: ch 64, n_enc_front_blk 3,
  n_enc_res_blk 3, n_enc_shared_blk 1, n_gen_shared_blk 1, n_gen_res_blk 3, n_gen_front_blk 3), the paper's
  translation net, with a spatial latent (size/4, size/4, 4 * base): (32, 32, 256) at 128 px, base 64 * --g_width.
    E: conv 7x7/1 -> LReLU (no norm), [conv 3x3/2 -> IN -> ReLU] x 2 doubling, 3 INSResBlocks, 1 shared
       INSResBlock (its output the mean; the official GaussianNoiseLayer after it is the trainer's N(0, I))  7 blocks
    G: 1 shared INSResBlock, 3 INSResBlocks, [convT 3x3/2 (padding 1, output_padding 1) -> IN -> ReLU] x 2
       halving, convT 1x1 -> tanh                                                                   7 blocks
    INSResBlock: conv 3x3 -> IN -> ReLU -> conv 3x3 -> IN, plus the input (no ReLU after the sum); IN =
    InstanceNorm2d without affine (GroupNormalization, one group per channel, eps 1e-5); zero padding as the
    official; every conv with a bias. Default sharing: the encoders' last block, the generators' first.
  Sharing (nets.py's CoGAN machinery: the same block objects, nets.BlockNet): the encoders' last --shared_layers_e
  blocks and the generators' first --shared_layers_g. A shared variable is listed once in the one optimizer over
  E1, E2, G1, G2 (nets.unique_variables), so it takes ONE update with the sum of both domains' gradients, as
  PyTorch's single gen_opt does. As the official forward(), the shared blocks see both domains' batch at once (the
  encoders' outputs concatenated), so CoVAE32x32's BatchNorm statistics are over both.
  D, chosen with the net (DISCRIMINATORS), each the official partner of its generator; BCE over the logits:
  32 px: CoDis32x32 (cocogan_nets_da.py; svhn2mnist.yaml dis_ch 64 * --g_width), the discriminator version_02 trains
    CoVAE32x32 against: per domain conv0, then conv1, conv2, conv3 and a 2x2 logit conv SHARED by D1 and D2 (the
    official net holds one copy; here the same block objects, one update with the sum of both domains' gradients);
    each conv 5x5 stride 1 (zero padding 2) -> ReLU -> max pool 2x2, dropout 0.1 on conv0's output and 0.3, 0.5, 0.5
    after conv1-3 (its _forward_core_dropout, the GAN output), one logit per image; xavier_uniform kernels (gain
    sqrt 2) and biases 0.1 (init.xavier_weights_init). One logit with BCE stands for its two-way softmax (the same
    family; not the same start: the official logit difference starts with bias 0 and twice the kernel variance).
    Its classification head (conv_cl) and the DA trainer's feature and class losses are not built.
    Until session 12 the 32 px D was COCODis with 3 layers (a 4x4 map of 15 px patches): it sat near chance
    (d_loss ~27 = 10 x 4 x 0.68 from step ~800 on) while x1->2 were textures (benchmarks/RESULTS.md).
  64 px and up: COCODis (cocogan_nets.py; cat2tiger / corgi2husky, no normalisation): [conv 3x3/2 -> LReLU] with
    64 * --g_width channels doubling without a cap (64 ... 1024 at 128 px), log2(size) - 2 layers so the logit map
    is 4x4 as the yaml's n_layer 6 makes it on its 216 px crops (256 px: 6 layers), then a 1x1 conv to one logit
    per patch, BCE over the map. Not master's multi-scale LSGAN discriminator (nor version_02's COCOMsDis of its
    street scenes). One D per domain, nothing shared.
  version_02's face setting is not built (review 11, M3): exps/unit/blondhair.yaml (CelebA, 128 px crops) trains
  COCOResGen2 (as COCOResGen, but the stride-2 convs and transposed convs are LeakyReLU 0.01 without instance norm;
  the 7x7 front, the residual blocks and the 1x1 -> tanh output as COCOResGen) with COCOSharedDis (n_front_layer
  2: a 7x7/2 and a 3x3/2 layer per domain; n_shared_layer 4: four 3x3/2 layers and the 1x1 logit conv shared by D1
  and D2, 2x2 logits at 128 px, widths up to 2048). Building it needs a net option in config (the D-sharing path
  exists since CoDis32x32: shared D blocks in both D files, one D update with the summed gradient), so the
  cat2tiger nets above serve every set at 64 px and up, CelebA included (unit_celeba_smiling's note says so).
  Not as the official code (small; review 10, B2): biases and BatchNorm shifts start at zero (version_02: Bias2d
  and GaussianVAE2D.en_mu's bias N(0, 0.002), conv biases PyTorch's default uniform; en_mu's kernel N(0, 0.002),
  here N(0, 0.02)); Keras Adam's epsilon is 1e-7 (PyTorch's 1e-8); the D's widths scale with --g_width too.

Outputs: samples rows x1 | x1->2 | x2 | x2->1 | G1(z) | G2(z) (z ~ N(0, I) fixed, inference mode; translations
from the mean, as the official test.py / sample()); `translators` for the evaluation of translations and
`joint_generators` for same-z pairs scored by the LPIPS table. UNIT is not trained as a prior sampler (its KL
weight is tiny next to the L1 terms; the paper never samples the prior): its same-z rows test the shared latent,
not its translations (review 10, B3).
"""
from __future__ import annotations

import math
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf
from keras import layers

import nets
import run_folder
from config import ConfigError, parse_unit_weights, unit_blocks, unit_net
from optimisers import SKIPPED_KEY, apply_if_finite, make_optimizer
from trainers.checkpoints import net_variables
from trainers.loop import TrainingLoop

GEN_BASE = 96   # official svhn2mnist.yaml gen_ch (CoVAE32x32 layout)
RES_BASE = 64   # official cat2tiger.yaml gen ch (COCOResGen layout)
DIS_BASE = 64   # official COCODis ch (cat2tiger.yaml dis ch)
MAX_MULT = 8    # CoVAE32x32's widths stop doubling at 8 * base (never reached at 32 px)
LEAK = 0.01     # PyTorch nn.LeakyReLU() default, the official LeakyReLU*Conv2d blocks
EPSILON = 1e-5  # PyTorch BatchNorm2d


# ---------------------------------------------------------------------------------------------- the objectives
def kl_term(mu):
    """mean(mu ** 2) over every element: the official `_compute_kl` of a unit-variance Gaussian code."""
    mu = tf.cast(mu, tf.float32)
    return tf.reduce_mean(tf.square(mu))


def l1(x, y):
    """mean |x - y| over every element (torch.nn.L1Loss), in float32."""
    return tf.reduce_mean(tf.abs(tf.cast(x, tf.float32) - tf.cast(y, tf.float32)))


def bce_with_logits(logits, target):
    """Mean BCE of sigmoid(logits) against the constant label `target` over every patch of every image."""
    logits = tf.cast(logits, tf.float32)
    labels = tf.fill(tf.shape(logits), tf.cast(target, tf.float32))
    return tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(labels=labels, logits=logits))


def discriminator_loss(weights, real1_logits, fake1_logits, real2_logits, fake2_logits):
    """lambda0 * (BCE(D1(x1), 1) + BCE(D1(x2->1), 0) + BCE(D2(x2), 1) + BCE(D2(x1->2), 0)) (official dis_update,
    no halving)."""
    return weights[0] * (bce_with_logits(real1_logits, 1.0) + bce_with_logits(fake1_logits, 0.0)
                         + bce_with_logits(real2_logits, 1.0) + bce_with_logits(fake2_logits, 0.0))


def stream_terms(weights, fake_logits, x, mu, recon, mu_cycle, cycle):
    """The unweighted terms of one domain's stream and their weighted sum: for x1, fake_logits = D2(x1->2), mu =
    E1(x1), recon = x1->1, mu_cycle = E2(x1->2), cycle = x1->2->1 (module docstring)."""
    t = dict(gan=bce_with_logits(fake_logits, 1.0), kl=kl_term(mu), recon=l1(recon, x), kl_cyc=kl_term(mu_cycle),
             cyc=l1(cycle, x))
    w0, w1, w2, w3, w4 = weights
    t["total"] = w0 * t["gan"] + w1 * t["kl"] + w2 * t["recon"] + w3 * t["kl_cyc"] + w4 * t["cyc"]
    return t


def generator_terms(weights, s1, s2):
    """{gan_1, kl_1, ..., total_1, gan_2, ..., total_2, g_total}: the two streams' terms (stream_terms of the
    inputs s1, s2: dicts of its arguments) and the one objective of E1, E2, G1, G2, total_1 + total_2."""
    out = {}
    for d, s in (("1", s1), ("2", s2)):
        out.update({f"{k}_{d}": v for k, v in stream_terms(weights, **s).items()})
    out["g_total"] = out["total_1"] + out["total_2"]
    return out


# ---------------------------------------------------------------------------------------------- the networks
def _init():
    return keras.initializers.RandomNormal(mean=0.0, stddev=0.02)


def _conv(filters, kernel, stride, name, transpose=False, padding="valid", bias=True):
    cls = layers.Conv2DTranspose if transpose else layers.Conv2D
    return cls(filters, kernel, strides=stride, padding=padding, use_bias=bias, kernel_initializer=_init(),
               bias_initializer="zeros", name=name)


def _bn_lrelu(name):
    # BatchNorm2d(affine=False) + Bias2d: a shift, no scale; PyTorch momentum 0.1 = Keras 0.9. The conv's bias
    # before it is cancelled by the normalisation, so the conv has none (the official count has it).
    return [layers.BatchNormalization(momentum=0.9, epsilon=EPSILON, scale=False, name=f"{name}_bn"),
            layers.LeakyReLU(LEAK, name=f"{name}_lrelu")]


def _block(block_layers, name):
    return keras.Sequential(block_layers, name=name)  # one block: what nets.BlockNet stacks and shares


def num_blocks(size):
    """Blocks of each encoder and each generator of the net built at this size (config.unit_blocks)."""
    return unit_blocks(size)


def _log2(size):
    return int(round(math.log2(size)))


def _widths(base, n):
    return [base * min(2 ** i, MAX_MULT) for i in range(n)]


def encoder_blocks(size, base, name):
    """CoVAE32x32's encoder: log2(size) blocks, the last the mean (module docstring)."""
    downs = _log2(size) - 3
    widths = _widths(base, downs + 2)
    blocks = [_block([layers.ZeroPadding2D(2), _conv(widths[i], 5, 2, f"{name}_conv{i + 1}", bias=False)]
                          + _bn_lrelu(f"{name}_conv{i + 1}"), f"{name}_down{i + 1}") for i in range(downs)]
    side = size // 2 ** downs
    blocks.append(_block([_conv(widths[downs], side, 1, f"{name}_full", bias=False)] + _bn_lrelu(f"{name}_full"),
                              f"{name}_to1x1"))
    blocks.append(_block([_conv(widths[downs + 1], 1, 1, f"{name}_c1x1", bias=False)]
                              + _bn_lrelu(f"{name}_c1x1"), f"{name}_1x1"))
    blocks.append(_block([_conv(widths[downs + 1], 1, 1, f"{name}_mu_conv")], f"{name}_mu"))
    return blocks


def latent_channels(size, base):
    """CoVAE32x32's code width (its latent is (1, 1, this))."""
    return _widths(base, _log2(size) - 1)[-1]


def generator_blocks(size, base, channels, name):
    """CoVAE32x32's decoder: log2(size) blocks, tanh output (module docstring)."""
    ups = _log2(size) - 2
    top = latent_channels(size, base)
    blocks = [_block([_conv(top, 4, 2, f"{name}_to4x4", transpose=True, bias=False)] + _bn_lrelu(f"{name}_4x4"),
                          f"{name}_4x4")]
    for i, w in enumerate(reversed(_widths(base, ups))):
        blocks.append(_block([_conv(w, 4, 2, f"{name}_deconv{i + 1}", transpose=True, padding="same",
                                         bias=False)] + _bn_lrelu(f"{name}_deconv{i + 1}"), f"{name}_up{i + 1}"))
    blocks.append(_block([_conv(channels, 1, 1, f"{name}_out_conv", transpose=True),
                               layers.Activation("tanh", dtype="float32")], f"{name}_out"))
    return blocks


def covae_nets(size, channels, g_width):
    """CoVAE32x32 (cocogan_nets_da.py): (E blocks maker, G blocks maker, latent shape (1, 1, C))."""
    base = max(1, round(GEN_BASE * g_width))
    return (lambda name: encoder_blocks(size, base, name), lambda name: generator_blocks(size, base, channels, name),
            (1, 1, latent_channels(size, base)))


# ---- COCOResGen (version_02 cocogan_nets.py, exps/unit/cat2tiger.yaml and corgi2husky.yaml), 64 px and up
def _instance_norm(name):
    # nn.InstanceNorm2d(affine=False): one group per channel, no gamma/beta, biased variance, eps 1e-5.
    return layers.GroupNormalization(groups=-1, epsilon=EPSILON, center=False, scale=False, name=name)


def res_block(channels, name):
    """INSResBlock: conv 3x3 (zero pad 1) -> IN -> ReLU -> conv 3x3 -> IN, plus the input (no ReLU after the sum)."""
    x = keras.Input((None, None, channels))
    h = _conv(channels, 3, 1, f"{name}_conv1")(layers.ZeroPadding2D(1)(x))
    h = layers.ReLU(name=f"{name}_relu")(_instance_norm(f"{name}_in1")(h))
    h = _instance_norm(f"{name}_in2")(_conv(channels, 3, 1, f"{name}_conv2")(layers.ZeroPadding2D(1)(h)))
    return keras.Model(x, layers.Add(name=f"{name}_add")([x, h]), name=name)


def resgen_encoder_blocks(base, name, front=3, res=3, shared=1):
    """LeakyReLUConv2d 7x7/1 (no norm), (front - 1) x ReLUINSConv2d 3x3/2 doubling, res + shared INSResBlocks:
    the encoder and its shared back end (GaussianNoiseLayer = the trainer's noise on the mean)."""
    blocks = [_block([layers.ZeroPadding2D(3), _conv(base, 7, 1, f"{name}_c7"), layers.LeakyReLU(LEAK)],
                     f"{name}_front")]
    for i in range(1, front):
        blocks.append(_block([layers.ZeroPadding2D(1), _conv(base * 2 ** i, 3, 2, f"{name}_down{i}"),
                              _instance_norm(f"{name}_down{i}_in"), layers.ReLU()], f"{name}_down{i}"))
    top = base * 2 ** (front - 1)
    blocks += [res_block(top, f"{name}_res{i + 1}") for i in range(res)]
    return blocks + [res_block(top, f"{name}_shared{i + 1}") for i in range(shared)]


def resgen_generator_blocks(base, channels, name, front=3, res=3, shared=1):
    """shared + res INSResBlocks, (front - 1) x ReLUINSConvTranspose2d 3x3/2 (padding 1, output_padding 1: a valid
    transposed conv with its first row and column cropped) halving, ConvTranspose2d 1x1 -> tanh."""
    top = base * 2 ** (front - 1)
    blocks = [res_block(top, f"{name}_shared{i + 1}") for i in range(shared)]
    blocks += [res_block(top, f"{name}_res{i + 1}") for i in range(res)]
    for i in range(1, front):
        w = top // 2 ** i
        blocks.append(_block([_conv(w, 3, 2, f"{name}_up{i}", transpose=True), layers.Cropping2D(((1, 0), (1, 0))),
                              _instance_norm(f"{name}_up{i}_in"), layers.ReLU()], f"{name}_up{i}"))
    return blocks + [_block([_conv(channels, 1, 1, f"{name}_out_conv", transpose=True),
                             layers.Activation("tanh", dtype="float32")], f"{name}_out")]


def resgen_nets(size, channels, g_width):
    """COCOResGen with cat2tiger.yaml's ch 64 (times --g_width) and 3/3/1/1/3/3 blocks: latent (S/4, S/4, 4 ch)."""
    base = max(1, round(RES_BASE * g_width))
    return (lambda name: resgen_encoder_blocks(base, name), lambda name: resgen_generator_blocks(base, channels, name),
            (size // 4, size // 4, 4 * base))


NETS = {"CoVAE32x32": covae_nets, "COCOResGen": resgen_nets}  # config.unit_net(size) picks one


def dis_layers(size):
    """COCODis's n_layer: log2(size) - 2, a 4x4 logit map (cat2tiger.yaml's n_layer 6 on its 216 px crops)."""
    return _log2(size) - 2


def discriminator(size, channels, base, name):
    """COCODis: dis_layers(size) x [conv 3x3/2 (PyTorch padding 1) -> LReLU], ch doubling each layer without a cap
    (tch *= 2), a 1x1 conv to logits."""
    seq = [keras.Input((size, size, channels))]
    for i in range(dis_layers(size)):
        seq += [layers.ZeroPadding2D(1), _conv(base * 2 ** i, 3, 2, f"{name}_conv{i + 1}"), layers.LeakyReLU(LEAK)]
    seq.append(_conv(1, 1, 1, f"{name}_logits"))
    return keras.Sequential(seq, name=name)


# ---- CoDis32x32 (version_02 cocogan_nets_da.py, svhn2mnist.yaml dis: CoDis32x32, dis_ch 64), 32 px
CODIS_BASE = 64                        # svhn2mnist.yaml dis_ch
CODIS_DROPOUT = (0.1, 0.3, 0.5, 0.5)   # dropout0 on the front's output, dropout1-3 after conv1-3
CODIS_SHARED = 4                       # conv1, conv2, conv3 and the logit conv: the same objects in D1 and D2


def _xavier():
    # init.xavier_uniform(gain=sqrt(2)) of version_02's xavier_weights_init: limit sqrt(6 * 2 / (fan_in + fan_out))
    return keras.initializers.VarianceScaling(scale=2.0, mode="fan_avg", distribution="uniform")


def _codis_conv(filters, name):
    """_conv2d of CoDis32x32: conv 5x5 stride 1 (zero padding 2) -> ReLU -> max pool 2x2 (the stride)."""
    return [layers.ZeroPadding2D(2), layers.Conv2D(filters, 5, padding="valid", kernel_initializer=_xavier(),
                                                   bias_initializer=keras.initializers.Constant(0.1), name=name),
            layers.ReLU(), layers.MaxPooling2D(2)]


def codis_blocks(base, name, shared=None):
    """CoDis32x32's GAN path (_forward_core_dropout, the output its trainer's GAN loss reads): the domain's own
    conv0, then dropout 0.1, conv1 -> dropout 0.3, conv2 -> dropout 0.5, conv3 -> dropout 0.5, and a 2x2 conv to
    one logit per image (2 x 2 -> 1 x 1 at 32 px). `shared`: another D's blocks whose last CODIS_SHARED are reused
    (the official net has one conv1-conv4 for both domains). One logit with BCE stands for the official two-way
    softmax with cross-entropy (the same family: the softmax of (l0, l1) is the sigmoid of l1 - l0)."""
    front = _block(_codis_conv(base, f"{name}_conv0"), f"{name}_front")
    if shared is not None:
        return [front] + list(shared[-CODIS_SHARED:])
    d0, d1, d2, d3 = CODIS_DROPOUT
    body = [_block([layers.Dropout(d0)] + _codis_conv(base * 2, f"{name}_conv1") + [layers.Dropout(d1)],
                   f"{name}_conv1"),
            _block(_codis_conv(base * 4, f"{name}_conv2") + [layers.Dropout(d2)], f"{name}_conv2"),
            _block(_codis_conv(base * 8, f"{name}_conv3") + [layers.Dropout(d3)], f"{name}_conv3"),
            _block([layers.Conv2D(1, 2, padding="valid", kernel_initializer=_xavier(),
                                  bias_initializer=keras.initializers.Constant(0.1), name=f"{name}_logits")],
                   f"{name}_logits")]
    return [front] + body


def build_nets(cfg, shape):
    """-> dict E1, E2, G1, G2, D1, D2 for images of `shape` (the net config.unit_net picks for the size): E2 holds
    E1's last --shared_layers_e block objects, G2 G1's first --shared_layers_g."""
    size, channels = int(shape[0]), int(shape[-1])
    if 2 ** _log2(size) != size or size < 32:
        raise ConfigError(f"--gan_type unit needs a power-of-two image size of at least 32, not {size}")
    encoder, generator, latent = NETS[unit_net(size)](size, channels, cfg.g_width)
    e1, e2 = (encoder(f"E{d}") for d in (1, 2))
    g1, g2 = (generator(f"G{d}") for d in (1, 2))
    cut = len(e1) - cfg.shared_layers_e
    out = dict(E1=nets.BlockNet(e1, shape, name="E1"), E2=nets.BlockNet(e2[:cut] + e1[cut:], shape, name="E2"),
               G1=nets.BlockNet(g1, latent, name="G1"),
               G2=nets.BlockNet(g1[:cfg.shared_layers_g] + g2[cfg.shared_layers_g:], latent, name="G2"))
    for m in out.values():
        m.build_now()
    out.update(DISCRIMINATORS[unit_net(size)](size, channels, cfg.g_width))
    return out


def cocodis_pair(size, channels, g_width):
    """{D1, D2}: two COCODis, nothing shared (the partner of COCOResGen in cat2tiger.yaml / corgi2husky.yaml)."""
    base = max(1, round(DIS_BASE * g_width))
    return dict(D1=discriminator(size, channels, base, "D1"), D2=discriminator(size, channels, base, "D2"))


def codis_pair(size, channels, g_width):
    """{D1, D2}: CoDis32x32, the partner of CoVAE32x32 in svhn2mnist.yaml: each its own conv0, conv1 to the logit
    conv the same objects (one update with the sum of both domains' gradients: nets.unique_variables)."""
    base = max(1, round(CODIS_BASE * g_width))
    d1 = codis_blocks(base, "D1")
    d2 = codis_blocks(base, "D2", shared=d1)
    shape = (size, size, channels)
    return dict(D1=nets.BlockNet(d1, shape, name="D1").build_now(), D2=nets.BlockNet(d2, shape, name="D2").build_now())


DISCRIMINATORS = {"CoVAE32x32": codis_pair, "COCOResGen": cocodis_pair}  # the official partner of each net


def dry_run_rows(cfg, shape):
    """--dry_run's [(name, parameters, note)] (main._gan_rows asks the trainer)."""
    m = build_nets(cfg, shape)
    size = lambda ws: int(sum(int(np.prod(w.shape)) for w in ws))  # noqa: E731
    n, net, k = num_blocks(int(shape[0])), unit_net(int(shape[0])), dis_layers(int(shape[0]))
    _, h, w, _ = m["D1"](np.zeros((1,) + tuple(shape), np.float32)).shape  # measured from the built net
    if net == "CoVAE32x32":
        d1 = d2 = f"discriminator (CoDis32x32), {h}x{w} logit per image"
        d2 = f"{d1}; shares D1's last {CODIS_SHARED} blocks"
    else:
        d1 = d2 = f"patch discriminator (COCODis, {k} layers), {h}x{w} logits"
    notes = dict(E1=f"encoder ({net}), {n} blocks, latent {m['G1'].input_spec_shape}",
                 E2=f"shares E1's last {cfg.shared_layers_e} blocks", G1=f"generator ({net}), {n} blocks",
                 G2=f"shares G1's first {cfg.shared_layers_g} blocks", D1=d1, D2=d2)
    rows = [(k, size(v.weights), notes[k]) for k, v in m.items()]
    unique = {id(w): w for v in m.values() for w in v.weights}.values()
    return rows + [("together", size(unique), "shared weights counted once")]


def _load(models, models_dir):
    for m in models:
        m.load_weights(str(Path(models_dir) / f"{m.name}.weights.h5"))
    return models


class UNITTrainer(TrainingLoop):
    """UNIT on the shared loop (trainers/loop.py). `datasets` = [domain 1 batches, domain 2 batches] (infinite,
    unpaired), as main.load_data gives them for the coupled GANs (data.load_pair)."""

    domains = 2
    dry_run_rows = staticmethod(dry_run_rows)

    def __init__(self, cfg, info, datasets, run_dir=None, strategy=None):
        # One device: config refuses --strategy / --cpu_replicas / --mixed_precision for unit.
        self.cfg, self.info = cfg, info
        self.run_dir = Path(run_dir) if run_dir else None
        self.weights = parse_unit_weights(cfg.unit_weights)
        keras.utils.set_random_seed(cfg.seed)
        self.nets = build_nets(cfg, tuple(info.shape))
        n = self.nets
        self.e1, self.e2, self.g1, self.g2, self.d1, self.d2 = (n[k] for k in ("E1", "E2", "G1", "G2", "D1", "D2"))
        self.shared_e, self.shared_g = cfg.shared_layers_e, cfg.shared_layers_g
        self.g_vars = nets.unique_variables([self.e1, self.e2, self.g1, self.g2])  # a shared variable once
        self.d_vars = nets.unique_variables([self.d1, self.d2])
        self.g_opt = make_optimizer(cfg.optimizer, cfg.g_lr, cfg.g_beta1, cfg.g_beta2)
        self.d_opt = make_optimizer(cfg.optimizer, cfg.d_lr, cfg.d_beta1, cfg.d_beta2)
        self.g_opt.build(self.g_vars)  # before any restore (keras#19389)
        self.d_opt.build(self.d_vars)
        self.step = tf.Variable(0, dtype=tf.int64, trainable=False, name="step")
        # The latent noise: a tf.random.Generator in the checkpoint, so a resume draws what the run would have.
        self.rng = tf.random.Generator.from_seed(cfg.seed)
        self.skip_nonfinite = cfg.nonfinite == "skip"
        self.iterators = [iter(ds) for ds in datasets]
        k = cfg.sample_rows * cfg.sample_cols
        self.sample_x = [_first(iter(ds), k) for ds in datasets]  # own iterators: the training order is untouched
        latent = self.g1.input_spec_shape
        self.sample_z = np.random.default_rng(cfg.seed + 1).standard_normal((k,) + latent).astype(np.float32)
        self._compiled_step = tf.function(self.train_step, reduce_retracing=True)
        self._init_checkpoints(tf.train.Checkpoint(step=self.step, g_opt=self.g_opt, d_opt=self.d_opt, rng=self.rng,
                                                   it1=self.iterators[0], it2=self.iterators[1],
                                                   **net_variables(self.models())),
                               keep=cfg.keep_checkpoints)

    # ------------------------------------------------------------------ forward passes
    def encode_pair(self, x1, x2, training=True):
        """(mu1, mu2): each encoder's own blocks, then the shared blocks once on both batches (official forward())."""
        cut = len(self.e1.blocks) - self.shared_e
        h1, h2 = _run(self.e1.blocks[:cut], x1, training), _run(self.e2.blocks[:cut], x2, training)
        h = _run(self.e1.blocks[cut:], tf.concat([h1, h2], 0), training)
        return h[:tf.shape(x1)[0]], h[tf.shape(x1)[0]:]

    def decode_pair(self, z1, z2, training=True):
        """(x1->1, x2->1, x1->2, x2->2): the shared blocks once on both codes, then each generator's own blocks on
        both (official forward(): decode_A and decode_B over the concatenated codes)."""
        h = _run(self.g1.blocks[:self.shared_g], tf.concat([z1, z2], 0), training)
        a, b = _run(self.g1.blocks[self.shared_g:], h, training), _run(self.g2.blocks[self.shared_g:], h, training)
        n = tf.shape(z1)[0]
        return a[:n], a[n:], b[:n], b[n:]

    def noise(self, like):
        return self.rng.normal(tf.shape(like))

    def d_objective(self, x1, x2, n1, n2):
        """The official dis_update's loss: translations from fresh codes + noise, held fixed (stop_gradient)."""
        mu1, mu2 = self.encode_pair(x1, x2)
        _, x21, x12, _ = self.decode_pair(mu1 + n1, mu2 + n2)
        x21, x12 = tf.stop_gradient(x21), tf.stop_gradient(x12)
        return discriminator_loss(self.weights, self.d1(x1, training=True), self.d1(x21, training=True),
                                  self.d2(x2, training=True), self.d2(x12, training=True))

    def g_objective(self, x1, x2, n1, n2, n12, n21):
        """generator_terms of one gen_update: n1, n2 perturb the codes of x1, x2; n12, n21 those of x1->2 and x2->1
        re-encoded for the cycles."""
        mu1, mu2 = self.encode_pair(x1, x2)
        x11, x21, x12, x22 = self.decode_pair(mu1 + n1, mu2 + n2)
        mu21, mu12 = self.encode_pair(x21, x12)  # x2->1 by E1, x1->2 by E2
        x121 = self.g1(mu12 + n12, training=True)
        x212 = self.g2(mu21 + n21, training=True)
        s1 = dict(fake_logits=self.d2(x12, training=True), x=x1, mu=mu1, recon=x11, mu_cycle=mu12, cycle=x121)
        s2 = dict(fake_logits=self.d1(x21, training=True), x=x2, mu=mu2, recon=x22, mu_cycle=mu21, cycle=x212)
        return generator_terms(self.weights, s1, s2)

    def latent_like(self, x):
        return tf.zeros((tf.shape(x)[0],) + tuple(self.g1.input_spec_shape))

    # ------------------------------------------------------------------ the step
    def train_step(self, x1, x2):
        """One official iteration: D's update, then E1, E2, G1, G2's on one objective through the updated D."""
        z1, z2 = self.latent_like(x1), self.latent_like(x2)
        n1, n2 = self.noise(z1), self.noise(z2)
        with tf.GradientTape() as tape:
            d_loss = self.d_objective(x1, x2, n1, n2)
        skipped = apply_if_finite(self.d_opt, tape.gradient(d_loss, self.d_vars), self.d_vars, [d_loss],
                                  self.skip_nonfinite)
        n1, n2, n12, n21 = self.noise(z1), self.noise(z2), self.noise(z1), self.noise(z2)
        with tf.GradientTape() as tape:
            terms = self.g_objective(x1, x2, n1, n2, n12, n21)
        skipped += apply_if_finite(self.g_opt, tape.gradient(terms["g_total"], self.g_vars), self.g_vars,
                                   [terms["g_total"]], self.skip_nonfinite)
        self.step.assign_add(1)
        logs = {"d_loss": d_loss, **{k: v for k, v in terms.items() if not k.startswith("total_")}}
        if self.skip_nonfinite:
            logs[SKIPPED_KEY] = skipped
        return logs

    # ------------------------------------------------------------------ outputs
    def save_samples(self, step):
        """samples/step_N.png: per group, rows x1 | x1->2 | x2 | x2->1 | G1(z) | G2(z), inference mode."""
        x1, x2 = self.sample_x
        n = min(len(x1), len(x2))
        cols = min(self.cfg.sample_cols, n)
        rows = min(self.cfg.sample_rows, n // cols)
        k = rows * cols
        x1, x2, z = x1[:k], x2[:k], self.sample_z[:k]
        f12, f21 = _translators(self.e1, self.e2, self.g1, self.g2)
        images = [x1, f12(x1), x2, f21(x2), self.g1(z, training=False), self.g2(z, training=False)]
        grid = run_folder.pair_grid([np.asarray(a) for a in images], rows, cols)
        path = self.run_dir / "samples" / f"step_{step:07d}.png"
        path.parent.mkdir(exist_ok=True)
        run_folder.save_png(path, grid)
        return grid

    def models(self):
        """The networks saved in models/ (E1, E2, G1, G2, D1, D2 .weights.h5; a shared block in both files)."""
        return [self.e1, self.e2, self.g1, self.g2, self.d1, self.d2]

    def learning_rates(self):
        return [(self.g_opt, self.cfg.g_lr), (self.d_opt, self.cfg.d_lr)]

    @staticmethod
    def translators(cfg, shape, models_dir):
        """{(1, 2): x1 -> G2(E1(x1)), (2, 1): x2 -> G1(E2(x2))}, from the means, inference mode, the run's weights
        (issue 20 translation protocol; official test.py decodes the mean)."""
        m = build_nets(cfg, tuple(shape))
        e1, e2, g1, g2 = _load([m[k] for k in ("E1", "E2", "G1", "G2")], models_dir)
        f12, f21 = _translators(e1, e2, g1, g2)
        return {(1, 2): f12, (2, 1): f21}

    @staticmethod
    def joint_generators(cfg, shape, models_dir):
        """(latent_shape, G1, G2): same-z joint samples z ~ N(0, I) -> (G1(z), G2(z)) in inference mode, for the
        LPIPS table of the coupled GANs."""
        m = build_nets(cfg, tuple(shape))
        g1, g2 = _load([m["G1"], m["G2"]], models_dir)
        return tuple(g1.input_spec_shape), g1, g2

    # -------------------------------------------- the loop's hooks (trainers/loop.py; next_inputs, run_step and
    # checked_variables are its defaults: one batch of each of self.iterators, g_vars + d_vars checked)
    def describe(self, first):
        return (f"training unit on {self.cfg.data_name} ({self.info.shape}, weights {self.cfg.unit_weights}) from "
                f"step {first} to {self.cfg.iterations} in {self.run_dir}")


def _run(blocks, x, training):
    for block in blocks:
        x = block(x, training=training)
    return x


def _translators(e1, e2, g1, g2):
    return (lambda x: g2(e1(x, training=False), training=False),
            lambda x: g1(e2(x, training=False), training=False))


def _first(iterator, n):
    """The first `n` images of a stream of batches, float32."""
    out, have = [], 0
    while have < n:
        out.append(np.asarray(next(iterator), np.float32))
        have += len(out[-1])
    return np.concatenate(out)[:n]
