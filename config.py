"""The one typed run configuration: built once from the command line, saved as JSON with every run, reloadable.

Resolution order: dataclass defaults < `--config FILE` (or the run's own config.json with `--resume`) <
options given on the command line < derived values (preset, image size, architecture, sharing, iterations).
The resolved config is what `config.json` holds, so `--config RUN/config.json` repeats a run exactly (in a new
folder: the saved `dir` is ignored unless `--dir` is given or with `--resume`). Every value, whatever its source,
passes check_values (the field's type, the command line's choices, the declared range). A resume changes only what
each option's declared on_resume policy lets it (check_resume; main.run records the change in config.json).

Length: about 1,000 lines because every option is declared here once (field, help, choices, range, resume policy:
~250 lines that generate the parser) and resolve()'s steps, one per concern, check the options against each other
beside those declarations.
"""
from __future__ import annotations

import argparse
import dataclasses
import functools
import json
import math
import operator
import os
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import archs  # the architectures' tables: no TensorFlow
from archs import UNIT_NETS, unit_blocks, unit_net  # noqa: F401 (trainers/unit.py imports them from here)
from data_sources import specs  # the data registry: no TensorFlow
from data_sources.base import DataError


class ConfigError(ValueError):
    """Bad or incompatible options: the CLI prints it as one line and exits 2."""


# Training settings by name (`--preset`); a preset fills only what the user did not set.
# - thesis: sec. 5.1 (line 996), the default of cogan/scogan: "If not otherwise specified, all models are trained
#   with the WGAN-GP loss with weight lambda = 10", with the DCGAN optimiser settings (Adam 2e-4, beta1 0.5,
#   beta2 0.999) and 5 critic updates per generator update (sec. 4.1, where WGAN-GP was introduced).
# - dcgan: the DCGAN settings of sec. 2.6 with the non-saturating loss and one critic step (the CoGAN runs of
#   ch. 3 and sec. 4.1); the default of single GANs on images.
# - wgan-gp: Gulrajani et al. (2017) as in sec. 2.5: Adam 1e-4 (0, 0.9), 5 critic steps, LayerNorm in the
#   critic (secs. 3.3.2, 5.3, 5.4).
# - toy: sec. 2.3.2 (line 390): lr 1e-4 for both nets, z of 10, k = 1, Adam, batch 100, 2,000 iterations, as the
#   authors' code ran it (palminde/P10Project Main.py/Train.py, Nov.-Dec. 2019; README "The toy ring"): Adam
#   beta1 0.5 (beta2 0.999) for both nets (Main.py from a5b2b96 to c3093cc), z ~ N(0, 1) (Train.py:
#   tf.random.normal), and the thesis's "iterations" are that code's epochs of 5120 // 100 // k generator steps
#   (Train.py `n_steps = batches_pr_epoch // args.disc_iters  # Steps per epoch (Generator iterations)`, 1899bab
#   to 6bdb9e7): 2,000 x 51 = 102,000 generator steps at k = 1.
PRESETS = {
    "thesis": dict(loss="wgan", disc_penalty="wgan-gp", disc_iters=5, g_lr=2e-4, d_lr=2e-4,
                   g_beta1=0.5, g_beta2=0.999, d_beta1=0.5, d_beta2=0.999),
    "dcgan": dict(loss="nonsat", disc_penalty="none", disc_iters=1, g_lr=2e-4, d_lr=2e-4,
                  g_beta1=0.5, g_beta2=0.999, d_beta1=0.5, d_beta2=0.999),
    "wgan-gp": dict(loss="wgan", disc_penalty="wgan-gp", disc_iters=5, g_lr=1e-4, d_lr=1e-4,
                    g_beta1=0.0, g_beta2=0.9, d_beta1=0.0, d_beta2=0.9, d_norm="layer"),
    # wgan: Arjovsky et al. 2017, Algorithm 1 (clipping c = 0.01, RMSProp lr 5e-5, n_critic 5, batch 64), as their
    # code ran it (martinarjovsky/WassersteinGAN main.py: `optim.RMSprop(params, lr=opt.lrD)`, i.e. PyTorch's
    # alpha 0.99, eps 1e-8: optimisers.OPTIMIZERS["rmsprop"]). The betas are Adam's and unused here. Not (yet) as
    # that code: its 100 critic steps for the first 25 generator steps and every 500th, its z ~ N(0, 1) (single GANs
    # have --noise_type normal), and its clamp before each critic step (here after each update, as Algorithm 1).
    "wgan": dict(loss="wgan", disc_penalty="clip", optimizer="rmsprop", disc_iters=5,  # --clip_value: 0.01
                 g_lr=5e-5, d_lr=5e-5, batch_size=64),
    # pix2pix: Isola et al. 2017 sec. 3.3 and the official code's defaults (junyanz/pytorch-CycleGAN-and-pix2pix
    # train_options: lr 0.0002, beta1 0.5, batch_size 1; gan_mode vanilla: BCE with logits, one D step), the
    # default and only setting of --gan_type pix2pix (TRANSLATION_MODELS).
    "pix2pix": dict(loss="nonsat", disc_penalty="none", disc_iters=1, optimizer="adam", g_lr=2e-4, d_lr=2e-4,
                    g_beta1=0.5, g_beta2=0.999, d_beta1=0.5, d_beta2=0.999, batch_size=1),
    # cyclegan: Zhu et al. 2017 sec. 4 and the official defaults (train_options / cycle_gan_model: gan_mode lsgan,
    # lr 0.0002, beta1 0.5, batch_size 1, init_type normal with gain 0.02), the only setting of --gan_type cyclegan.
    "cyclegan": dict(loss="lsgan", disc_penalty="none", disc_iters=1, optimizer="adam", g_lr=2e-4, d_lr=2e-4,
                     g_beta1=0.5, g_beta2=0.999, d_beta1=0.5, d_beta2=0.999, batch_size=1),
    # unit: Liu et al. 2017 sec. 4 and the official code (mingyuliutw/UNIT version_02 COCOGANTrainer, master's
    # configs/unit_*.yaml): Adam lr 0.0001, betas (0.5, 0.999), one D step per step; the only setting of --gan_type
    # unit (TRANSLATION_MODELS; its loss: BCE with logits, non-saturating for G, as the official code).
    "unit": dict(loss="nonsat", disc_penalty="none", disc_iters=1, optimizer="adam", g_lr=1e-4, d_lr=1e-4,
                 g_beta1=0.5, g_beta2=0.999, d_beta1=0.5, d_beta2=0.999),
    "toy": dict(loss="nonsat", disc_penalty="none", disc_iters=1, g_lr=1e-4, d_lr=1e-4,
                g_beta1=0.5, g_beta2=0.999, d_beta1=0.5, d_beta2=0.999, noise_dim=10, noise_type="normal",
                batch_size=100, iterations=2000 * (5120 // 100)),
}
DEFAULT_NOISE_DIM = 100
def data_settings(cfg) -> dict:
    """The thesis's settings for cfg's data where they differ from sec. 5.1 (coupled runs only; the data's
    entry in data_sources.specs, e.g. sec. 5.3's WGAN-GP and 35,000 iterations for CelebA)."""
    return specs.data_settings(cfg.cogan_data) if cfg.gan_type in ("cogan", "scogan") else {}


def default_preset(cfg) -> str:
    """The thesis's setting for what is trained: sec. 5.1 for coupled GANs, sec. 2.3.2 for the toy ring."""
    if cfg.is_toy:
        return "toy"
    if cfg.gan_type == "pix2pix":
        return "pix2pix"
    demo = specs.is_demo(cfg.dataset or cfg.cogan_data)
    # The offline demo keeps the DCGAN setting of the thesis's CoGAN reproductions (ch. 3): 5 critic steps
    # would triple its minutes on a laptop CPU; `--preset thesis` gives sec. 5.1 there too.
    return "thesis" if cfg.gan_type in ("cogan", "scogan") and not demo else "dcgan"


# Offline demo sets are tiny; a default run on them must show recognisable pairs within minutes on a laptop CPU
# (digits: 7.5 minutes on 2 cores, README "The offline demo"; Table 3.1's full generator gave blurry shapes in
# that time). Used only where --iterations / --batch_size / --g_width are not given.
DEMO_ITERATIONS = {"digits": 3000}
DEMO_BATCH_SIZE = {"digits": 32}
DEMO_G_WIDTH = {"digits": 0.25}
DEFAULT_ITERATIONS = 20000   # sec. 5.1; the named experiments carry the thesis's other counts
DEFAULT_BATCH_SIZE = 128
# --gan_type classifier (thesis Appendix B): steps and batch by the data's classifier family (data_sources.specs).
CLASSIFIER_ITERATIONS = specs.CLASSIFIER_ITERATIONS


# What a resume may do with an option (issue 22, item 2): "free" may change (how long, how often, the learning rates);
# "fixed" never changes (what is trained: model, data, loss, sharing, batch, precision, seed, and what the checkpoint
# or losses.csv's columns depend on); "allow" changes only with --allow_change (a moved folder, a retuned weight).
FREE, FIXED, ALLOW = RESUME_POLICIES = ("free", "fixed", "allow")


@dataclass(frozen=True)
class Range:
    """A numeric option's meaningful values (issue 22, item 5): low <= x (low < x if low_open), x <= high (x < high
    if high_open); None: unbounded."""
    low: Optional[float] = None
    high: Optional[float] = None
    low_open: bool = False
    high_open: bool = False

    def __contains__(self, x) -> bool:
        return not ((self.low is not None and (x <= self.low if self.low_open else x < self.low))
                    or (self.high is not None and (x >= self.high if self.high_open else x > self.high)))

    def __str__(self) -> str:  # as --help shows it
        if self.high is None:
            return f"{'>' if self.low_open else '>='} {self.low}"
        return f"{'(' if self.low_open else '['}{self.low}, {self.high}{')' if self.high_open else ']'}"

    def requirement(self) -> str:
        if self.high is not None:
            return f"must lie in {self}"
        if self.low_open:
            return "must be positive" if self.low == 0 else f"must be greater than {self.low}"
        return f"must be at least {self.low}"


AT_LEAST_1, NON_NEGATIVE, POSITIVE = Range(1), Range(0), Range(0, low_open=True)
UNIT_OPEN = Range(0, 1, high_open=True)   # Adam's betas (1 never forgets: the averages stop moving), probabilities
SEEDS = Range(0, 2 ** 32 - 1)             # what NumPy's seed (keras.utils.set_random_seed) accepts


def _option(group, default, help=None, *, choices=None, flag=None, metavar=None, saved=True, cli=True,
            on_resume=None, limits=None, coupling=False):
    """A Config field and its command-line option in one declaration: build_parser generates `--<name>` (or
    `flag`) from the field's type, `help`, `choices` and `limits` (a Range, checked for every source by
    check_values); a bool field is a switch (`flag` for one that turns a default True off). `saved=False`: how this
    invocation treats its folder, never written to config.json. Every saved option declares `on_resume`, one of
    RESUME_POLICIES (check_resume). `coupling=True`: the switch of a soft-coupling term (trainers.scogan.COUPLINGS),
    refused with any other --gan_type than scogan (COUPLING_SWITCHES)."""
    if saved and on_resume not in RESUME_POLICIES:
        raise TypeError(f"a saved option declares on_resume, one of {RESUME_POLICIES} (got {on_resume!r})")
    return field(default=default, metadata=dict(group=group, help=help, choices=choices, flag=flag,
                                                metavar=metavar, saved=saved, cli=cli, on_resume=on_resume,
                                                limits=limits, coupling=coupling))


def _group(title):
    return lambda default, help=None, **kw: _option(title, default, help, **kw)


WHAT, DATA, SCHEDULE, DEVICES, NETS, LOSSES, COUPLING, OPTIMISERS, OUTPUTS, EVALUATION = (
    "what to train", "data", "schedule", "devices and precision", "networks", "losses and penalties",
    "SCoGAN soft coupling (--gan_type scogan; any combination)", "optimisers", "outputs", "evaluation")
_what, _data, _schedule, _devices, _nets, _losses, _coupling, _optimisers, _outputs, _evaluation = map(
    _group, (WHAT, DATA, SCHEDULE, DEVICES, NETS, LOSSES, COUPLING, OPTIMISERS, OUTPUTS, EVALUATION))
MIXED_PRECISION = ("none", "bf16", "fp16")  # precision.POLICIES (not imported here: it imports Keras)
STRATEGIES = ("default", "mirrored", "multiworker")  # devices.STRATEGIES (it imports TensorFlow)
# The models (trainers.TRAINERS, imported lazily: the parser answers before TensorFlow is imported).
GAN_TYPES = ("gan", "cogan", "scogan", "classifier", "pix2pix", "cyclegan", "unit")
PIX2PIX_FOLDER_SIZE = 256  # --gan_type pix2pix on a folder of pairs: the official crop_size
IMAGE_SIZES = tuple(sorted(archs.IMAGE_SIZE.values()))  # 32, 64, 128, 256: what an architecture makes


@dataclass(frozen=True)
class Config:
    """Every option of a run, declared once: the field (type, default), its help and its choices. Frozen: built
    by parse_config / resolve, never written afterwards (derive a new one with dataclasses.replace)."""
    # what to train
    gan_type: str = _what("cogan", "model (default cogan); pix2pix: supervised translation on paired data (Isola "
                          "et al. 2017; README 'pix2pix'); cyclegan: unpaired translation (Zhu et al. 2017; "
                          "README 'CycleGAN'); unit: unpaired translation through a shared latent space (Liu et al. "
                          "2017; README 'UNIT')",
                          choices=GAN_TYPES, on_resume=FIXED)
    experiment: Optional[str] = _what(None, "a named experiment of the thesis with all its settings (any of "
                                      "them overridable by a flag); list them with --list_experiments", on_resume=FIXED)
    # data
    cogan_data: Optional[str] = _data(None, "pair of domains, e.g. mnist2edge, mnist2svhn, celeba_Smiling, "
                                      "apple2orange (default digits2edge: offline)", on_resume=FIXED)
    dataset: Optional[str] = _data(None, "single-GAN data: toy, digits, mnist, svhn, celeba, ... (default digits); "
                                   "classifier data: digits, mnist, mnist_svhn, celeba", on_resume=FIXED)
    domain_a: Optional[str] = _data(None, "local image folder for domain 1 (or the single GAN; for --gan_type "
                                    "classifier a folder with one subfolder of images per class)", on_resume=ALLOW)
    domain_b: Optional[str] = _data(None, "local image folder for domain 2", on_resume=ALLOW)
    paired_dir: Optional[str] = _data(None, "--gan_type pix2pix: a folder of paired images, A and B side by side "
                                      "(pix2pix's layout; train/ and test/ or val/ subfolders, else 10%% held out; "
                                      f"default size {PIX2PIX_FOLDER_SIZE}), instead of --cogan_data digits2edge etc.",
                                      on_resume=ALLOW)
    direction: Optional[str] = _data(None, "--gan_type pix2pix: AtoB (default: the pair's first domain, or the left "
                                     "half, is the input) or BtoA", choices=("AtoB", "BtoA"), on_resume=FIXED)
    data_dir: Optional[str] = _data(None, "tensorflow-datasets data_dir / folder holding prepared data",
                                    on_resume=ALLOW)
    download: bool = _data(True, "never download; fail with a hint to run `tfds build` on a login node",
                           flag="--no_download", on_resume=FREE)
    image_size: Optional[int] = _data(None, "image side in pixels, a size an architecture makes (default from the "
                                      "data)", choices=IMAGE_SIZES, on_resume=FIXED)
    celeba_crop: str = _data("thesis", "CelebA: thesis = central crop of 0.7 of the aligned face, as the "
                             "authors' runs (default); square = the largest central square",
                             choices=("thesis", "square"), on_resume=FIXED)
    toy_ring: str = _data("authors", "--dataset toy: authors = the thesis authors' ring (10 modes, radius 3, std "
                          "0.05, a fixed set of 5,120 points reshuffled every epoch; default); metz = Metz et al.'s "
                          "(radius 2, std 0.02, sampled afresh)", choices=("authors", "metz"), on_resume=FIXED)
    classes: Optional[str] = _data(None, "--gan_type gan: train on these classes only (default all), ids or names, "
                                   "comma-separated, e.g. 8, bag, 0,8, sneaker,bag. digits, mnist: 0-9; fashion_mnist: "
                                   "0-9 or T-shirt/top (also tshirt, top), Trouser, Pullover, Dress, Coat, Sandal, "
                                   "Shirt, Sneaker, Bag, Ankle boot; case, spaces and punctuation ignored (ankle_boot)",
                                   on_resume=FIXED)
    # schedule
    iterations: Optional[int] = _schedule(None, f"generator steps (default {DEFAULT_ITERATIONS}; offline demo "
                                          f"sets {DEMO_ITERATIONS['digits']}, toy preset "
                                          f"{PRESETS['toy']['iterations']})", on_resume=FREE, limits=AT_LEAST_1)
    batch_size: Optional[int] = _schedule(None, f"default {DEFAULT_BATCH_SIZE} (thesis sec. 5.1; demo sets "
                                          f"{DEMO_BATCH_SIZE['digits']}, toy preset {PRESETS['toy']['batch_size']}; "
                                          f"pix2pix {PRESETS['pix2pix']['batch_size']}, the official default)",
                                          on_resume=FIXED, limits=AT_LEAST_1)
    disc_iters: Optional[int] = _schedule(None, "critic steps per generator step (default from --preset: 5 for "
                                          "thesis and wgan-gp, 1 for dcgan and toy)",
                                          on_resume=FIXED, limits=AT_LEAST_1)
    seed: int = _schedule(0, "seeds weights, data order and noise (default 0)", on_resume=FIXED, limits=SEEDS)
    deterministic: bool = _schedule(False, "enable TF op determinism", on_resume=FREE)
    nonfinite: str = _schedule("stop", "a NaN/inf loss: stop the run, keeping the last good checkpoint (default), "
                               "or skip that update (weights and optimizer state unchanged; the column "
                               "skipped_updates counts them; 100 iterations in a row with one stop the run)",
                               choices=("stop", "skip"), on_resume=FIXED)
    # devices and precision
    xla: bool = _devices(False, "compile the step with XLA (jit_compile)", on_resume=FREE)
    mixed_precision: str = _devices("none", "compute the GANs in bfloat16 or float16 with float32 weights, last "
                                    "layers, losses, penalties and regularisers; fp16 with dynamic loss scaling "
                                    "(default none: float32)", choices=MIXED_PRECISION, on_resume=FIXED)
    strategy: str = _devices("default", "default: one device; mirrored: every local GPU (or the --cpu_replicas "
                             "logical CPUs); multiworker: one process per node, the cluster from TF_CONFIG or "
                             "SLURM. --batch_size is the global batch", choices=STRATEGIES, on_resume=ALLOW)
    cpu_replicas: int = _devices(1, "split the CPU into N logical devices (debug the mirrored path on a laptop)",
                                 on_resume=ALLOW, limits=AT_LEAST_1)
    # networks (thesis sec. 5.1)
    arch: Optional[str] = _nets(None, "cogan32, cogan128, cogan256, dcgan64, toy (default from image size)",
                                on_resume=FIXED)
    noise_dim: Optional[int] = _nets(None, f"default {DEFAULT_NOISE_DIM} (sec. 5.1; toy preset 10)",
                                     on_resume=FIXED, limits=AT_LEAST_1)
    noise_type: Optional[str] = _nets(None, "distribution of z: uniform in [-1, 1] (default, sec. 5.1) or normal "
                                      "N(0, 1) (toy preset: the authors' toy code; single GANs only)",
                                      choices=("uniform", "normal"), on_resume=FIXED)
    shared_layers_g: Optional[int] = _nets(None, "generator layers shared from the input side (0: none)",
                                           on_resume=FIXED, limits=NON_NEGATIVE)
    shared_layers_e: Optional[int] = _nets(None, "--gan_type unit: encoder layers shared from the output side "
                                           "(default: the official net's, 4 of 5 at 32 px, 1 of 7 from 64 px; "
                                           "--shared_layers_g: the generators' from the input side, default 3 of 5 "
                                           "at 32 px, 1 of 7 from 64 px)", on_resume=FIXED,
                                           limits=NON_NEGATIVE)
    shared_layers_d: Optional[int] = _nets(None, "discriminator layers shared from the output side",
                                           on_resume=FIXED, limits=NON_NEGATIVE)
    w_init: Optional[str] = _nets(None, "xavier (default, sec. 5.1) or normal = N(0, 0.02) (default for CelebA "
                                  "and the CycleGAN sets, secs. 5.3/5.4)",
                                  choices=("xavier", "xavier_normal", "he", "normal"), on_resume=FIXED)
    b_init: str = _nets("constant", "constant = 0.1 (default, as the CoGAN and thesis code) or zeros",
                        choices=("zeros", "constant"), on_resume=FIXED)
    prelu_init: float = _nets(0.25, "default 0.25", on_resume=FIXED)
    d_norm: Optional[str] = _nets(None, "discriminator normalisation (default layer with WGAN-GP, else batch)",
                                  choices=("batch", "layer", "none"), on_resume=FIXED)
    g_width: Optional[float] = _nets(None, "multiply the generators' hidden channels (default 1: the thesis "
                                     f"tables; the offline demo {DEMO_G_WIDTH['digits']}; pix2pix: of the U-Net's "
                                     "64 base channels, default 1; unit: its discriminators' 64 too)",
                                     on_resume=FIXED, limits=POSITIVE)
    patch_layers: Optional[int] = _nets(None, "--gan_type pix2pix: stride-2 layers of the PatchGAN (default 3: 70x70 "
                                        "patches; 1: 16x16, 2: 34x34)", on_resume=FIXED, limits=Range(1, 6))
    resnet_blocks: Optional[int] = _nets(None, "--gan_type cyclegan: residual blocks of each ResNet generator "
                                         "(default 6 up to 128 px, 9 at 256: the official choice)",
                                         on_resume=FIXED, limits=AT_LEAST_1)
    # losses and penalties
    preset: Optional[str] = _losses(None, "thesis (default for cogan/scogan: sec. 5.1, WGAN-GP lambda 10, 5 critic "
                                    "steps, Adam 2e-4 (0.5, 0.999)); dcgan (non-saturating, 1 critic step); "
                                    "wgan-gp (Gulrajani: Adam 1e-4 (0, 0.9)); wgan (Arjovsky: clipping 0.01, RMSprop 5e-5, "
                                    "5 critic steps, batch 64); toy (sec. 2.3.2, default for "
                                    "--dataset toy); pix2pix (Adam 2e-4 (0.5, 0.999), batch 1: the only setting of "
                                    "--gan_type pix2pix); cyclegan (least squares, Adam 2e-4 (0.5, 0.999), batch 1: "
                                    "the only setting of --gan_type cyclegan)", choices=tuple(sorted(PRESETS)),
                                    on_resume=FIXED)
    loss: Optional[str] = _losses(None, "adversarial loss (default from --preset)",
                                  choices=("minimax", "nonsat", "wgan", "lsgan"), on_resume=FIXED)
    disc_penalty: Optional[str] = _losses(None, "critic penalty (default from --preset)",
                                          choices=("none", "wgan-gp", "clip"), on_resume=FIXED)
    gp_weight: float = _losses(10.0, "WGAN-GP lambda (default 10)", on_resume=ALLOW, limits=POSITIVE)
    clip_value: float = _losses(0.01, "weight clipping bound (default 0.01)", on_resume=ALLOW, limits=POSITIVE)
    l1_weight: Optional[float] = _losses(None, "--gan_type pix2pix: lambda of the L1 term (default 100: the official "
                                         "lambda_L1 of Isola et al. 2017)", on_resume=ALLOW, limits=POSITIVE)
    lambda_cycle: Optional[float] = _losses(None, "--gan_type cyclegan: weight of each cycle term (default 10: the "
                                            "official lambda_A = lambda_B)", on_resume=ALLOW, limits=NON_NEGATIVE)
    lambda_identity: Optional[float] = _losses(None, "--gan_type cyclegan: identity weight relative to the cycle "
                                               "weight (default 0.5, official; 0: no identity term)",
                                               on_resume=ALLOW, limits=NON_NEGATIVE)
    pool_size: Optional[int] = _losses(None, "--gan_type cyclegan: past fakes each discriminator's image pool keeps "
                                       "(default 50, official; 0: no pool)", on_resume=FIXED, limits=NON_NEGATIVE)
    unit_weights: Optional[str] = _losses(None, "--gan_type unit: lambda0..lambda4 of Liu et al. 2017 (GAN, KL, "
                                          "reconstruction, cycle KL, cycle reconstruction), comma-separated "
                                          "(default 10,0.1,100,0.1,100: the paper's; README 'UNIT')", on_resume=ALLOW)
    weight_decay: float = _losses(0.0, "L2 weight decay rate r: adds (r/2)*sum(w^2) over the kernels to each net's "
                                  "loss, i.e. r*w to each kernel's gradient, as Caffe's and PyTorch's weight_decay. "
                                  "Default 0: the authors' code applied none. The text's decay rates are such "
                                  "rates (0.0005, sec. 5.1; 0.0001, CelebA, sec. 5.3); its term c*sum(w^2) "
                                  "(line 701) read literally is 2c", on_resume=FIXED, limits=NON_NEGATIVE)
    # SCoGAN soft coupling (thesis ch. 4); weights as in the thesis experiments
    feature_regulariser: bool = _coupling(False, "FR, Eq. 4.1", on_resume=FIXED,
                                          coupling=True)
    fr_weight: float = _coupling(10.0, "alpha_FR (default 10.0; the thesis also used 100)",
                                 on_resume=ALLOW, limits=NON_NEGATIVE)
    fr_layers: int = _coupling(3, "K: the first K maps of --fr_maps compared (default 3)",
                               on_resume=FIXED, limits=AT_LEAST_1)
    fr_maps: str = _coupling("thesis", "FR's maps: thesis = the authors' multi-output generator (32x32: the 8x8 "
                             "and 16x16 maps, then the image; default); hidden = every hidden block from the first "
                             "(the 4x4 dense output first)", choices=("thesis", "hidden"), on_resume=FIXED)
    fr_norm: str = _coupling("sum", "sum over the K maps (default, Listing 6.10, for which alpha_FR was tuned) or "
                             "mean (Eq. 4.1's 1/K)", choices=("sum", "mean"), on_resume=FIXED)
    semantic_loss: bool = _coupling(False, "SL, Eq. 4.2 (without --classifier_path, trains the classifier of the "
                                    "data once and caches it)", on_resume=FIXED,
                                    coupling=True)
    sl_weight: float = _coupling(10.0, "alpha_SL (default 10.0)", on_resume=ALLOW, limits=NON_NEGATIVE)
    sl_form: str = _coupling("listing", "listing (default, Listing 6.15: mean over batch and classes, for which "
                             "alpha_SL was tuned) or equation (Eq. 4.2: sum over classes / 2)",
                             choices=("listing", "equation"), on_resume=FIXED)
    classifier_path: Optional[str] = _coupling(
        None, "classifier.keras saved by --gan_type classifier (for SL and pruning; default: trained once per data "
        "and cached in $COUPLED_GAN_CACHE/classifiers, ~/.cache/coupled_gan/classifiers)", on_resume=ALLOW)
    classifier_steps: Optional[int] = _coupling(None, "training steps of that auto-trained classifier (default: as "
                                                f"--gan_type classifier, e.g. MNIST {CLASSIFIER_ITERATIONS['mnist']})",
                                                on_resume=FIXED, limits=AT_LEAST_1)
    prune_threshold: float = _coupling(0.4, "--cogan_data mnist2svhn_prune drops SVHN images whose top softmax is "
                                       "<= this (thesis sec. 2.7; default 0.4)", on_resume=FIXED, limits=UNIT_OPEN)
    cycle_consistency: bool = _coupling(False, "CC, Eq. 4.3 (trains an encoder)", on_resume=FIXED,
                                        coupling=True)
    cc_weight: float = _coupling(10.0, "default 10.0", on_resume=ALLOW, limits=NON_NEGATIVE)
    cc_norm: str = _coupling("l1", "l1: mean absolute error (default, Listing 6.16); l2: Eq. 4.3's squared L2 "
                             "norm, summed over the latent dimensions, averaged over the batch", choices=("l1", "l2"),
                             on_resume=FIXED)
    perceptual_loss: bool = _coupling(False, "PL, Eq. 4.5 (VGG19)", on_resume=FIXED,
                                      coupling=True)
    pl_content_weight: float = _coupling(0.001, "alpha_PL (default 0.001)", on_resume=ALLOW, limits=NON_NEGATIVE)
    pl_style_weight: float = _coupling(1e-11, "beta_PL (default 1e-11)", on_resume=ALLOW, limits=NON_NEGATIVE)
    vgg_weights: str = _coupling("imagenet", "imagenet (default; keras.applications), none, or a local .h5 file",
                                 on_resume=ALLOW)
    pl_form: str = _coupling("listing", "listing (default, Listings 6.17/6.18: Gram / (H*W), style = mean squared "
                             "Gram difference) or equation (Eq. 4.5: Gram / (H*W*C), squared Frobenius norm per "
                             "image)", choices=("listing", "equation"), on_resume=FIXED)
    log_weight_difference: bool = _coupling(False, "log G1/G2 weight drift (Fig. 4.1)", on_resume=FIXED)
    # optimisers
    optimizer: Optional[str] = _optimisers(None, "default from --preset (adam; wgan: rmsprop as the WGAN code); sgd: "
                                           "plain gradient steps (the prototype's --optim_d sgd)",
                                 choices=("adam", "rmsprop", "sgd"), on_resume=FIXED)
    shared_update: str = _optimisers("listing", "listing: one update per network on its side's optimizer, one after "
                                     "the other, as the thesis's code (Listings 6.12/6.13; a CoGAN shared layer "
                                     "steps once per GAN; default); summed: one update of the summed objective, a "
                                     "shared layer stepping once with both GANs' gradients (the CoGAN Caffe code)",
                                     choices=("listing", "summed"), on_resume=FIXED)
    g_lr: Optional[float] = _optimisers(None, "generator learning rate (default from --preset)",
                                        on_resume=FREE, limits=POSITIVE)
    d_lr: Optional[float] = _optimisers(None, "critic learning rate (default from --preset)",
                                        on_resume=FREE, limits=POSITIVE)
    g_beta1: Optional[float] = _optimisers(None, "generator Adam beta1 (default from --preset)",
                                           on_resume=ALLOW, limits=UNIT_OPEN)
    g_beta2: Optional[float] = _optimisers(None, "generator Adam beta2 (default from --preset)",
                                           on_resume=ALLOW, limits=UNIT_OPEN)
    d_beta1: Optional[float] = _optimisers(None, "critic Adam beta1 (default from --preset)",
                                           on_resume=ALLOW, limits=UNIT_OPEN)
    d_beta2: Optional[float] = _optimisers(None, "critic Adam beta2 (default from --preset)",
                                           on_resume=ALLOW, limits=UNIT_OPEN)
    # outputs
    dir: Optional[str] = _outputs(None, "run folder (default runs/<gan_type>_<data>_<time>)", on_resume=FREE)
    log_interval: int = _outputs(25, "iterations between log lines and losses.csv writes (default 25)",
                                 on_resume=FREE, limits=AT_LEAST_1)
    sample_interval: Optional[int] = _outputs(None, "iterations between sample grids (default 500, demo sets 250; "
                                              "toy: 50 of the authors' epochs, 2550 at k 1)",
                                              on_resume=FREE, limits=AT_LEAST_1)
    checkpoint_interval: int = _outputs(1000, "iterations between checkpoints (default 1000)",
                                        on_resume=FREE, limits=AT_LEAST_1)
    sample_rows: int = _outputs(4, "rows of pairs in a sample grid (default 4)", on_resume=FREE, limits=AT_LEAST_1)
    sample_cols: int = _outputs(8, "columns of a sample grid (default 8)", on_resume=FREE, limits=AT_LEAST_1)
    keep_checkpoints: int = _outputs(3, "checkpoints kept (default 3)", on_resume=FREE, limits=AT_LEAST_1)
    # evaluation (metrics at the end of training; `--evaluate RUN` on demand)
    final_eval: bool = _evaluation(True, "skip the LPIPS table written at the end of training",
                                   flag="--no_final_eval", on_resume=FREE)
    eval_pairs: Optional[int] = _evaluation(None, "pairs for the LPIPS tables (default: the thesis's count)",
                                            on_resume=FREE, limits=AT_LEAST_1)
    # not part of what a run *is*: how this invocation treats its folder (never saved)
    resume: bool = _outputs(False, "continue the run in --dir from its last checkpoint (a folder with no run yet: "
                            "start it there)", saved=False)
    overwrite: bool = _outputs(False, "replace the run already in --dir", saved=False)
    allow_change: bool = _outputs(False, "with --resume: let the options marked 'allow' on resume change (a moved "
                                  "folder, a retuned weight or beta); the change is recorded in the run's config.json "
                                  "(README 'Resuming a run')", saved=False)
    dry_run: bool = _outputs(False, "resolve the options, build the networks and print the configuration, each "
                             "network's parameter count and the run folder it would write; train, download and "
                             "write nothing", saved=False)

    # ------------------------------------------------------------------ persistence
    def to_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.metadata.get("saved", True)}

    def save(self, path, history=()):
        """Atomically (a new file, then rename): a kill never leaves a half-written config.json. `history`: what
        each resume changed, at which step (main.run; read back by resume_history), after the options."""
        import run_folder
        saved = self.to_dict()
        if history:
            saved[HISTORY] = list(history)
        with run_folder.writing(path):
            # In declaration order: the keys of a group (data, schedule, networks, ...) stand together.
            run_folder.atomic_write_text(path, json.dumps(saved, indent=2) + "\n")

    @classmethod
    def from_dict(cls, d: dict) -> "Config":
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - names)
        if unknown:
            raise ConfigError(f"unknown config keys: {', '.join(unknown)}")
        return cls(**d)

    # Options added after runs were saved without them: a config.json that lacks one ran with the old behaviour,
    # so --resume / --evaluate / --config keep it (a missing key never silently changes what a run computes).
    LEGACY = {"g_width": 1.0, "fr_maps": "hidden", "fr_norm": "mean", "celeba_crop": "square",
              "pl_form": "snapshot", "shared_update": "summed", "toy_ring": "metz", "noise_type": "uniform"}

    @classmethod
    def load(cls, path) -> "Config":
        """Read a saved or hand-written config; every value is checked (check_values) and errors name the file."""
        p = Path(path)
        d = _read_json_object(p)
        d.pop(HISTORY, None)  # checked by _read_json_object; not an option
        if "keep_checkpoints" in d:  # a saved run: it holds every field of its day (a partial file gets today's)
            d = {**{k: v for k, v in cls.LEGACY.items() if k not in d}, **d}
        unknown = sorted(set(d) - {f.name for f in dataclasses.fields(cls)})
        if unknown:
            raise ConfigError(f"config file {p}: unknown config keys: {', '.join(unknown)}")
        return cls.from_dict(check_values(d, f"config file {p}", option_choices()))

    # ------------------------------------------------------------------ derived values
    @property
    def data_name(self) -> str:
        """What the run trains on, for folder names and logs."""
        return _data_name(self)

    @property
    def is_toy(self) -> bool:
        return _is_toy(self)


def _data_name(c) -> str:
    if c.gan_type == "pix2pix":
        return c.cogan_data or "paired_folder"
    if c.gan_type == "gan":
        return c.dataset or "folder"
    if c.gan_type == "classifier":
        return c.dataset or c.cogan_data or "folder"
    return c.cogan_data or "folders"


def _is_toy(c) -> bool:
    return c.gan_type == "gan" and c.dataset == "toy"


# The soft-coupling switches, from their declarations: a new term's switch is refused outside scogan with no
# further line here (README "Extending").
COUPLING_SWITCHES = tuple(f.name for f in dataclasses.fields(Config) if f.metadata.get("coupling"))

HISTORY = "resume_history"  # config.json's record of the changes resumes made (issue 22, item 2)


def _read_json_object(p: Path) -> dict:
    """A config file's JSON object; a file that cannot be read or parsed, or whose resume history is not a list of
    objects, is a ConfigError naming the file (and the key, where one is to blame)."""
    if not p.is_file():
        raise ConfigError(f"config file not found: {p}")
    try:
        text = p.read_text()
    except OSError as e:
        raise ConfigError(f"config file {p} cannot be read ({e.strerror or e})") from None
    except UnicodeDecodeError as e:
        raise ConfigError(f"config file {p} is not valid JSON ({e})") from None
    try:
        d = json.loads(text)
    except RecursionError:  # deeper than Python's recursion limit: a config's values are never nested
        key = _nested_key(text)
        where = f'"{key}" is' if key else "it is"
        raise ConfigError(f"config file {p}: {where} nested too deeply to read (a config holds one value per "
                          f"option)") from None
    except ValueError as e:  # not JSON, or an integer of more digits than Python converts
        raise ConfigError(f"config file {p} is not valid JSON ({e})") from None
    if not isinstance(d, dict):
        raise ConfigError(f"config file {p} must hold a JSON object")
    history = d.get(HISTORY, [])
    if not isinstance(history, list) or not all(isinstance(h, dict) for h in history):
        raise ConfigError(f'config file {p}: "{HISTORY}" must be a list of objects (what each resume changed)')
    return d


def _nested_key(text: str) -> Optional[str]:
    """The top-level key of a JSON object whose value opens a nested list or object (None if there is none)."""
    depth, last, key, i = 0, None, None, 0
    while i < len(text):
        c = text[i]
        if c == '"':
            j = i + 1
            while j < len(text) and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            last, i = text[i:j + 1], j + 1
            continue
        if c == ":" and depth == 1:
            key = last
        elif c in "[{":
            if depth == 1 and key:
                try:
                    return str(json.loads(key))
                except ValueError:
                    return None
            depth += 1
        elif c in "]}":
            depth -= 1
        i += 1
    return None


def resume_history(path) -> list:
    """The run's record of what its resumes changed: [{"step", "time", "changes": {option: [run's, new]}}]."""
    return list(_read_json_object(Path(path)).get(HISTORY, []))


class _Draft:
    """The mutable values resolve() fills in, before they become a frozen Config."""

    def __init__(self, values: dict):
        self.__dict__.update(values)

    @classmethod
    def of(cls, cfg):
        return cls({f.name: getattr(cfg, f.name) for f in dataclasses.fields(Config)})

    def replace(self, **changes):
        return _Draft({**self.__dict__, **changes})

    def freeze(self) -> Config:
        return Config(**self.__dict__)

    data_name = property(_data_name)
    is_toy = property(_is_toy)


def _one_line_parser(**kw):
    class P(argparse.ArgumentParser):
        def error(self, message):  # one clear line and exit code 2, not a usage dump
            self.exit(2, f"error: {message} (see --help)\n")
    return P(**kw)


# Modes of main.py besides training (main._dispatch picks them by their full spelling; each has its own parser
# for its further options): listed in --help so that users find them.
MODES = (
    ("--sample", "RUN", "generate pairs from a trained run: --sample RUN --num N --out pairs.npz [--step S] "
                        "[--latent_walk] (sampling.py)"),
    ("--evaluate", "RUN", "score a run: LPIPS tables, pixel and class agreement, FID; writes RUN/metrics.json and "
                          ".md (evaluation.py; --evaluate RUN --help for its options)"),
    ("--report", "RUN", "compare the evaluations of runs in one table like Table 5.2 (with --out FILE: Markdown + "
                        "CSV); see README 'Comparing runs'"),
    ("--list_experiments", None, "print every named experiment with the table or figure it reproduces, and exit"),
)


def _option_flag(f) -> str:
    return f.metadata.get("flag") or f"--{f.name}"


@functools.lru_cache(maxsize=None)
def _type_hints() -> dict:
    """{Config field: its type}, evaluated once: get_type_hints evaluates every (string) annotation anew on each
    call, and build_parser asks once per option (evaluated per option, it was over 99% of a parse)."""
    return typing.get_type_hints(Config)


def _field_type(f):
    tp = _type_hints()[f.name]
    if typing.get_origin(tp) is typing.Union:
        (tp,) = [a for a in typing.get_args(tp) if a is not type(None)]
    return tp


def build_parser() -> argparse.ArgumentParser:
    """The command line, generated from Config's declarations (one option per field, in its group), plus
    --config and the modes. Every option defaults to SUPPRESS so that only what the user typed overrides a
    loaded config."""
    p = _one_line_parser(prog="main.py", description="Train coupled GANs (CoGAN, SCoGAN), single GANs and pix2pix.",
                         argument_default=argparse.SUPPRESS)
    modes = p.add_argument_group("modes (instead of training)")
    for flag, metavar, text in MODES:
        if metavar is None:
            modes.add_argument(flag, action="store_true", help=text)
        else:
            modes.add_argument(flag, nargs="+" if flag == "--report" else None, metavar=metavar, help=text)
    groups = {}
    for f in dataclasses.fields(Config):
        m = f.metadata
        if not m.get("cli", True):
            continue
        g = groups.get(m["group"]) or groups.setdefault(m["group"], p.add_argument_group(m["group"]))
        tp = _field_type(f)
        if tp is bool:
            g.add_argument(_option_flag(f), dest=f.name, action="store_false" if f.default else "store_true",
                           help=option_help(f))
        else:
            g.add_argument(_option_flag(f), dest=f.name, type=tp, choices=m["choices"], metavar=m["metavar"],
                           help=option_help(f))
        if f.name == "dir":
            g.add_argument("--config", metavar="FILE", help="JSON config of an earlier run to repeat in a new folder "
                           "(options given here override it; its saved dir is used only with --resume)")
    return p


def option_help(f) -> str:
    """A field's --help text: its help, then its range and what a resume may do with it, e.g. "[>= 1; on resume:
    free]" (issue 22, items 2 and 5)."""
    m = f.metadata
    notes = ([str(m["limits"])] if m.get("limits") else []) + (
        [f"on resume: {m['on_resume']}"] if m.get("on_resume") else [])
    return f"{m['help']} [{'; '.join(notes)}]" if notes else m["help"]


def option_limits() -> dict:
    """{Config field: Range} for every option declared with limits."""
    return {f.name: f.metadata["limits"] for f in dataclasses.fields(Config) if f.metadata.get("limits")}


def _check_ranges(cfg):
    """Every declared range over a config's (given or derived) values; the sources were checked by check_values."""
    for name, limits in option_limits().items():
        value = getattr(cfg, name)
        if value is not None and value not in limits:
            raise ConfigError(f"--{name} {limits.requirement()} (got {value})")


def option_choices() -> dict:
    """{Config field: allowed values} for every option declared with choices."""
    return {f.name: list(f.metadata["choices"]) for f in dataclasses.fields(Config) if f.metadata.get("choices")}


_TYPE_WORDS = {bool: "true or false", int: "an integer", float: "a number", str: "a string"}


def _typed(value, tp):
    """-> value as a field of type `tp` holds it (ints accepted for floats), or None with ok=False."""
    if typing.get_origin(tp) is typing.Union:
        if value is None:
            return True, None
        (tp,) = [a for a in typing.get_args(tp) if a is not type(None)]
    if tp is float and isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return True, float(value)
    if tp is int and isinstance(value, int) and not isinstance(value, bool):
        return True, value
    if tp in (bool, str) and isinstance(value, tp):
        return True, value
    return False, None


def _describe(tp) -> str:
    if typing.get_origin(tp) is typing.Union:
        (inner,) = [a for a in typing.get_args(tp) if a is not type(None)]
        return f"{_TYPE_WORDS[inner]} or null"
    return _TYPE_WORDS[tp]


COMMAND_LINE = "command line"


def check_values(values: dict, where: str, choices: dict) -> dict:
    """The one check of config values, whatever their source (command line, --config FILE, a run's config.json,
    a named experiment): each value's type against the Config field's type, every option with `choices` on
    the command line against those choices, every option with `limits` against its Range. -> the values as the
    fields hold them; ConfigError names key and source. Values of Config.LEGACY pass: resolve() decides what an
    old run may still do."""
    hints, ranges = _type_hints(), option_limits()
    out = {}
    for key, value in values.items():
        if key not in hints:
            raise ConfigError(f"{where}: unknown config key {key}")
        ok, typed = _typed(value, hints[key])
        shown = json.dumps(value) if not isinstance(value, (dict, list)) else type(value).__name__
        if not ok:
            raise ConfigError(f'{where}: "{key}" must be {_describe(hints[key])} (got {shown[:80]})')
        allowed = choices.get(key)
        if allowed is not None and typed is not None and typed not in allowed and typed != Config.LEGACY.get(key):
            raise ConfigError(f'{where}: "{key}" must be one of {", ".join(map(str, allowed))} (got {shown[:80]})')
        limits = ranges.get(key)
        if limits is not None and typed is not None and typed not in limits:
            named = f"--{key}" if where == COMMAND_LINE else f'{where}: "{key}"'
            raise ConfigError(f"{named} {limits.requirement()} (got {shown[:80]})")
        out[key] = typed
    return out


def parse_config(argv, data_defaults) -> Config:
    """argv -> resolved, validated, frozen Config. `data_defaults(cfg)` gives (image_size) for the chosen data."""
    args = vars(build_parser().parse_args(argv))
    for flag, _, _ in MODES:  # main.main dispatches these by their full spelling
        if flag[2:] in args:
            raise ConfigError(f"spell {flag} out in full: it is a mode of its own")
    choices = option_choices()
    repeat = args.pop("config", None)
    config_file = repeat
    if args.get("resume") and not config_file and args.get("dir"):
        saved = Path(args["dir"]) / "config.json"
        if saved.is_file():
            config_file = saved
    values = Config.load(config_file).to_dict() if config_file else {}
    if repeat and not args.get("resume") and "dir" not in args:
        # Repeating a run starts a new folder (main.run names it as for a fresh run): the saved `dir` is the run
        # being repeated, which must never be refused as "already holds a run" nor deleted by --overwrite.
        values["dir"] = None
    if args.get("experiment"):
        import experiments
        try:
            settings = experiments.get(args["experiment"]).settings
        except experiments.ExperimentError as e:
            raise ConfigError(str(e)) from None
        values.update(check_values(settings, f"experiment {args['experiment']}", choices))
    values.update(check_values(args, COMMAND_LINE, choices))
    cfg = Config(**values)
    if cfg.resume and cfg.overwrite:
        raise ConfigError("--resume and --overwrite contradict each other: choose one")
    if cfg.resume and not cfg.dir:
        raise ConfigError("--resume continues the run in a folder: give --dir RUN")
    if cfg.allow_change and not cfg.resume:
        raise ConfigError("--allow_change lets a resume change options: add --resume")
    run = _run_values(cfg)
    if run is not None:  # what was asked, before anything is derived (or TensorFlow imported)
        check_resume(run, values, cfg.allow_change)
    cfg = resolve(cfg, data_defaults)
    if run is not None:  # and what follows from it
        check_resume(run, cfg.to_dict(), cfg.allow_change)
    return cfg


# ------------------------------------------------------------------ what a resume may change (issue 22, item 2)
def _run_values(cfg) -> Optional[dict]:
    """The saved options of the run that `cfg` resumes, or None (no --resume, or no run in the folder yet)."""
    saved = Path(cfg.dir) / "config.json" if cfg.resume and cfg.dir else None
    return Config.load(saved).to_dict() if saved is not None and saved.is_file() else None


def _same_folder(a, b) -> bool:
    return a == b or None not in (a, b) and os.path.realpath(a) == os.path.realpath(b)


# How two values of an option compare when it is not by equality.
_SAME = {"dir": _same_folder}


@dataclass(frozen=True)
class Change:
    """A saved option that a resume changes: its name, the run's value, the new one, its on_resume policy."""
    name: str
    run: object
    new: object
    policy: str

    def __str__(self) -> str:
        return f"--{self.name} {_shown(self.run)} -> {_shown(self.new)}"


def _shown(value) -> str:
    return "unset" if value is None else str(value)


def resume_changes(run: dict, new: dict) -> list:
    """[Change] for every saved option whose value in `new` (given or resolved values) differs from the run's, in
    declaration order. A run's value that today's choices no longer hold (a Config.LEGACY value that is no longer
    computed, e.g. pl_form snapshot) may be replaced whatever the option's policy: resolve() asks for that."""
    changes = []
    for f in dataclasses.fields(Config):
        if not f.metadata["saved"] or f.name not in new or f.name not in run:
            continue
        a, b = run[f.name], new[f.name]
        if _SAME.get(f.name, operator.eq)(a, b):
            continue
        retired = f.metadata["choices"] is not None and a not in f.metadata["choices"]
        changes.append(Change(f.name, a, b, FREE if retired else f.metadata["on_resume"]))
    return changes


def history_entry(changes, step) -> dict:
    """config.json's record of one resume that changed options: at which step, when, {option: [run's, new]}."""
    import time
    return {"step": int(step), "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "changes": {c.name: [c.run, c.new] for c in changes}}


def _refused(change: Change, allow: bool) -> bool:
    return change.policy == FIXED or change.policy == ALLOW and not allow


def check_resume(run: dict, new: dict, allow: bool = False) -> list:
    """-> the changes a resume of the run (its saved options `run`) to `new` makes; a change that the option's
    on_resume policy refuses (fixed; allow without --allow_change) is a ConfigError naming the option, the run's
    value and the new one."""
    changes = resume_changes(run, new)
    refused = [c for c in changes if _refused(c, allow)]
    if refused:
        c = refused[0]
        why = ("cannot change on resume (start a new run in another --dir)" if c.policy == FIXED
               else "changes on resume only with --allow_change")
        more = f"; also refused: {', '.join('--' + r.name for r in refused[1:])}" if refused[1:] else ""
        raise ConfigError(f"--{c.name} {why}: the run has {_shown(c.run)}, this resume gives {_shown(c.new)}{more}")
    return changes


def classifier_defaults(name):
    """-> (steps, batch size) for training the classifier of labelled set `name` (Appendix B)."""
    steps, batch = specs.spec_for((name or "").lower()).classifier_defaults
    return steps, batch or DEFAULT_BATCH_SIZE


def _check_classifier_options(cfg):
    """What SL and pruning need of --classifier_path / the auto-trained classifier (all gan_types)."""
    used = cfg.semantic_loss or specs.uses_classifier(cfg.cogan_data)
    if cfg.classifier_path and used and cfg.gan_type != "classifier":
        path = cfg.classifier_path if cfg.classifier_path.endswith(".keras") else cfg.classifier_path + ".keras"
        if not Path(path).expanduser().is_file():
            raise ConfigError(f"--classifier_path {cfg.classifier_path}: no such file (train one with "
                              f"--gan_type classifier, or leave the option out to train one)")


def _resolve_classifier(cfg: _Draft, data_defaults) -> Config:
    """--gan_type classifier (thesis Appendix B): one labelled source, no GAN options."""
    _check_classes(cfg)
    sources = [f"--{k}" for k in ("dataset", "cogan_data", "domain_a") if getattr(cfg, k)]
    if len(sources) > 1:
        raise ConfigError(f"--gan_type classifier trains on one labelled source: give only one of {', '.join(sources)}")
    if cfg.domain_b:
        raise ConfigError("--gan_type classifier takes one labelled folder: --domain_a DIR (one subfolder per class)")
    if not sources:
        cfg.dataset = "digits"
    given = [f for f in COUPLING_SWITCHES if getattr(cfg, f)]
    # Appendix B fixes the classifier's net, loss and optimiser: any GAN net/loss/optimiser option given is refused.
    given += [f.name for f in dataclasses.fields(Config) if f.metadata.get("group") in (NETS, LOSSES, OPTIMISERS)
              and f.default is None and getattr(cfg, f.name) is not None]
    given += ["mixed_precision"] if cfg.mixed_precision != "none" else []
    given += ["strategy"] if cfg.strategy != "default" else []
    given += ["cpu_replicas"] if cfg.cpu_replicas != 1 else []
    if given:
        raise ConfigError(f"--{given[0]} is a GAN option: --gan_type classifier trains an Appendix B classifier")
    _check_classifier_options(cfg)
    name = cfg.dataset or cfg.cogan_data
    # main's data_defaults reads .dataset for single-domain runs.
    _image_size(cfg, lambda: data_defaults(cfg.replace(gan_type="gan", dataset=name, cogan_data=None)))
    steps, batch = classifier_defaults(None if cfg.domain_a else name)
    cfg.iterations = steps if cfg.iterations is None else cfg.iterations
    cfg.batch_size = batch if cfg.batch_size is None else cfg.batch_size
    _check_ranges(cfg)
    return cfg.freeze()


def resolve(cfg: Config, data_defaults) -> Config:
    """Fill derived values and check that the options fit together -> a new, frozen Config. One step per concern
    (issue 19 item 6); the steps run in this order, so the first option at fault is the one reported."""
    cfg = _Draft.of(cfg)
    _check_ranges(cfg)  # before the options are combined: a value out of range is named as given
    _refuse_other_models(cfg)
    model = TRANSLATION_MODELS.get(cfg.gan_type)
    if model is not None:
        return _resolve_translation(model, cfg, data_defaults)
    if cfg.gan_type == "classifier":
        return _resolve_classifier(cfg, data_defaults)
    _resolve_data_source(cfg)
    _check_classes(cfg)
    _apply_presets(cfg)
    _check_gan(cfg)
    _resolve_arch(cfg, data_defaults)
    _check_coupling(cfg)
    _resolve_sharing(cfg)
    _check_two_generators(cfg)
    _apply_schedule_defaults(cfg)
    _check_ranges(cfg)  # the derived values too
    _check_devices(cfg)
    return cfg.freeze()


# The translation models (issue 20 items 2-4): one resolution path (_resolve_translation) over a table of what differs
# (TranslationModel); each trains its paper's objective with its own preset (PRESETS[name], its only setting), on
# one device in float32 with no sharing of the coupled GANs' kind (TRANSLATION_FIXED).
TRANSLATION_FIXED = dict(mixed_precision="none", strategy="default", cpu_replicas=1, shared_update="listing",
                         weight_decay=0.0, xla=False, log_weight_difference=False)
OBJECTIVE = ("loss", "disc_penalty", "disc_iters")  # pinned to the preset's: the paper's objective, one D step


@dataclass(frozen=True)
class TranslationModel:
    """One translation model's resolution (_resolve_translation): its --gan_type `name` (also its preset's), its own
    `options` (refused with any other --gan_type), the options its nets have no use for (`unused`: refused when
    given, as are the soft-coupling switches and any change of TRANSLATION_FIXED; the message says they have no
    meaning for `nets`, or `why[option]`), the wording that refuses another preset (`other_preset`), the `paper`
    whose objective it trains, its data step (`data_source`), its own options' `defaults` and its `finish`: the
    image size and what is really its own."""
    name: str
    options: tuple
    unused: tuple
    nets: str
    other_preset: str
    paper: str
    data_source: typing.Callable
    defaults: typing.Mapping
    finish: typing.Callable
    why: typing.Mapping = field(default_factory=dict)


def _refuse_other_models(cfg: _Draft):
    """Each translation model's own options (and its preset) with another --gan_type: one line, the models in
    TRANSLATION_MODELS' order."""
    for m in TRANSLATION_MODELS.values():
        if m.name == cfg.gan_type:
            continue
        given = [k for k in m.options if getattr(cfg, k) is not None]
        if given:
            raise ConfigError(f"--{given[0]} is an option of --gan_type {m.name}, not of --gan_type {cfg.gan_type}")
        if cfg.preset == m.name:
            raise ConfigError(f"--preset {m.name} is the setting of --gan_type {m.name}, not of --gan_type "
                              f"{cfg.gan_type}")


def _resolve_translation(m: TranslationModel, cfg: _Draft, data_defaults) -> Config:
    """--gan_type pix2pix, cyclegan or unit (`m`): what its nets have no use for refused, its data, its preset's
    optimisers and objective (OBJECTIVE pinned), its own defaults and finish, then the schedule."""
    _check_classes(cfg)
    given = [k for k in m.unused if getattr(cfg, k) is not None]
    given += [f for f in COUPLING_SWITCHES if getattr(cfg, f)]
    given += [k for k, v in TRANSLATION_FIXED.items() if getattr(cfg, k) != v]
    if given:
        k = given[0]
        raise ConfigError(f"--{k} {m.why.get(k, 'has no meaning for ' + m.nets)} (--gan_type {m.name})")
    m.data_source(cfg)
    if cfg.preset not in (None, m.name):
        raise ConfigError(f"--preset {cfg.preset} {m.other_preset}: --gan_type {m.name} trains with its own "
                          f"(--preset {m.name})")
    cfg.preset = m.name
    preset = PRESETS[m.name]
    _fill(cfg, preset)
    for k in OBJECTIVE:
        if getattr(cfg, k) != preset[k]:
            raise ConfigError(f"--{k} {getattr(cfg, k)}: --gan_type {m.name} trains the objective of {m.paper} "
                              f"(--{k} {preset[k]})")
    _fill(cfg, m.defaults)
    m.finish(cfg, data_defaults)
    _apply_schedule_defaults(cfg)
    _check_ranges(cfg)
    return cfg.freeze()


def _unpaired_data(cfg: _Draft):
    """cyclegan's and unit's data: data.load_pair's (--cogan_data, default digits2edge, or --domain_a/--domain_b),
    and mnist2svhn_prune's classifier."""
    _resolve_data_source(cfg)
    _check_classifier_options(cfg)


# --gan_type pix2pix (issue 20 item 2). data_sources.paired.PAIRED's families with pairs (that module imports
# TensorFlow; tests/test_pix2pix.py ties the two): derived pairs, and pix2pix sets under <data_dir>/<name>.
PAIRED_DATA_FAMILIES = ("derived", "unregistered", "cycle_gan")
# What the U-Net / PatchGAN pair has no use for: refused when given (unset, off or at its default otherwise).
NOT_PIX2PIX = ("dataset", "domain_a", "domain_b", "arch", "shared_layers_g", "shared_layers_d", "noise_dim",
               "noise_type", "w_init", "d_norm", "classifier_path")


def _paired_data(cfg: _Draft):
    """pix2pix's data: --cogan_data of a family with pairs (default digits2edge) or --paired_dir, not both."""
    if cfg.cogan_data and cfg.paired_dir:
        raise ConfigError("give either --cogan_data or --paired_dir, not both (--gan_type pix2pix)")
    if not cfg.paired_dir:
        cfg.cogan_data = cfg.cogan_data or "digits2edge"
        if specs.spec_for(cfg.cogan_data.strip().lower()).key not in PAIRED_DATA_FAMILIES:
            derived = [n for n in specs.COGAN_DATASETS if specs.spec_for(n).derived is not None]
            raise ConfigError(f"--cogan_data {cfg.cogan_data} has no paired data (its domains hold different "
                              f"images): --gan_type pix2pix needs pairs, a derived pair ({', '.join(derived)}) "
                              f"or --paired_dir DIR")


def _finish_pix2pix(cfg: _Draft, data_defaults):
    """pix2pix's image size: its own sets (folders) at the official 256 px, derived pairs at theirs."""
    derived = not cfg.paired_dir and specs.derived_transform(cfg.cogan_data) is not None
    _image_size(cfg, lambda: data_defaults(cfg) if derived else PIX2PIX_FOLDER_SIZE)


# --gan_type cyclegan (issue 20 item 3): unpaired data, the official objective and optimisers (PRESETS["cyclegan"]).
# What the ResNet generators and PatchGANs have no use for: refused when given (unset, off or at its default
# otherwise: TRANSLATION_FIXED, the same one-device, float32, no-sharing setting).
NOT_CYCLEGAN = ("arch", "shared_layers_g", "shared_layers_d", "noise_dim", "noise_type", "w_init", "d_norm")


def _finish_cyclegan(cfg: _Draft, data_defaults):
    """CycleGAN's image size (the data's) and ResNet depth (6 blocks up to 128 px, 9 above: the official choice,
    translation_nets.resnet_blocks, not imported here as it imports Keras)."""
    _image_size(cfg, lambda: data_defaults(cfg))
    if cfg.resnet_blocks is None:
        cfg.resnet_blocks = 6 if cfg.image_size <= 128 else 9


# --gan_type unit (issue 20 item 4; trainers/unit.py): unpaired data as cyclegan, the unit preset, the paper's
# weights, its own sharing (--shared_layers_e / _g), one device.
UNIT_WEIGHTS = "10,0.1,100,0.1,100"  # lambda0..lambda4, Liu et al. 2017 sec. 4 (trainers/unit.py cites each)
NOT_UNIT = ("arch", "shared_layers_d", "noise_dim", "noise_type", "w_init", "d_norm")


def parse_unit_weights(text) -> tuple:
    """'l0,l1,l2,l3,l4' -> five floats, each >= 0 and lambda0 (the GAN's) > 0; ConfigError otherwise."""
    try:
        w = tuple(float(t) for t in str(text).split(","))
    except ValueError:
        w = ()
    if len(w) != 5 or not all(math.isfinite(x) and x >= 0 for x in w) or w[0] <= 0:
        raise ConfigError(f"--unit_weights {text}: give five numbers >= 0, lambda0 (GAN, > 0), lambda1 (KL), lambda2 "
                          f"(reconstruction), lambda3 (cycle KL), lambda4 (cycle reconstruction), e.g. {UNIT_WEIGHTS}")
    return w


# UNIT's nets by image size: archs.UNIT_NETS, archs.unit_net, archs.unit_blocks (experiments.py reads them too).
# UNIT's default batch per net where the official code gives one: COCOResGen trains at batch_size 1 (version_02
# cat2tiger.yaml, corgi2husky.yaml); the digit net keeps the data's default.
UNIT_BATCH = {"COCOResGen": 1}


def _finish_unit(cfg: _Draft, data_defaults):
    """UNIT's weights (--unit_weights, normalised), image size (the data's), the official net's sharing on both
    sides of the latent (UNIT_NETS) and its batch (UNIT_BATCH)."""
    weights = parse_unit_weights(cfg.unit_weights)
    cfg.unit_weights = ",".join(f"{x:g}" for x in weights)
    _image_size(cfg, lambda: data_defaults(cfg))
    net = unit_net(cfg.image_size)
    n, shared_e, shared_g = UNIT_NETS[net]
    cfg.shared_layers_e = shared_e if cfg.shared_layers_e is None else cfg.shared_layers_e
    cfg.shared_layers_g = shared_g if cfg.shared_layers_g is None else cfg.shared_layers_g
    for what, k in (("encoder", "e"), ("generator", "g")):
        if not 0 <= getattr(cfg, f"shared_layers_{k}") < n:
            raise ConfigError(f"--shared_layers_{k} {getattr(cfg, f'shared_layers_{k}')} is out of range: a UNIT "
                              f"{what} at {cfg.image_size} px has {n} layers ({net}), so 0..{n - 1} can be shared")
    if cfg.batch_size is None and net in UNIT_BATCH:
        cfg.batch_size = UNIT_BATCH[net]


# {--gan_type: its TranslationModel}, in the order other models' options are refused (_refuse_other_models: the
# first option at fault is the one reported).
TRANSLATION_MODELS = {m.name: m for m in (
    # issue 20 item 3; Zhu et al. 2017: the cyclegan preset's objective and optimisers, the official weights
    # (lambda 10, identity 0.5, pool 50) and ResNet depth, and nothing of the coupled GANs.
    TranslationModel(
        "cyclegan", options=("lambda_cycle", "lambda_identity", "pool_size", "resnet_blocks"), unused=NOT_CYCLEGAN,
        nets="CycleGAN's ResNet generators and PatchGANs", other_preset="is a setting of the coupled GANs",
        paper="Zhu et al. 2017", data_source=_unpaired_data, finish=_finish_cyclegan,
        # the official widths, also on the demo data
        defaults=dict(lambda_cycle=10.0, lambda_identity=0.5, pool_size=50, g_width=1.0)),
    # issue 20 item 4; Liu et al. 2017: the unit preset's optimisers and loss, the paper's weights (--unit_weights),
    # UNIT's sharing on both sides of the latent, and nothing of the other GANs.
    TranslationModel(
        "unit", options=("unit_weights", "shared_layers_e"), unused=NOT_UNIT,
        nets="UNIT's encoders, generators and discriminators", other_preset="is not UNIT's setting",
        paper="Liu et al. 2017", data_source=_unpaired_data, finish=_finish_unit,
        defaults=dict(unit_weights=UNIT_WEIGHTS)),
    # issue 20 item 2; Isola et al. 2017: paired data (--cogan_data of a family with pairs, default digits2edge, or
    # --paired_dir), the pix2pix preset's objective (BCE GAN + L1) and optimisers, and nothing of the unpaired GANs
    # (coupling, sharing, z, their architectures and precision options).
    TranslationModel(
        "pix2pix", options=("paired_dir", "direction", "l1_weight", "patch_layers"), unused=NOT_PIX2PIX,
        nets="the U-Net and PatchGAN (Isola et al. 2017)", other_preset="is a setting of the unpaired GANs",
        paper="Isola et al. 2017", data_source=_paired_data, finish=_finish_pix2pix,
        defaults=dict(direction="AtoB", l1_weight=100.0, patch_layers=3, g_width=1.0),
        why={k: "gives unpaired data: give --cogan_data NAME or --paired_dir DIR"
             for k in ("dataset", "domain_a", "domain_b")}),
)}


def _resolve_data_source(cfg: _Draft):
    """One data source per model: --dataset or --domain_a for a single GAN, --cogan_data or both folders for a
    coupled one; neither given: the offline digits (digits, digits2edge)."""
    if cfg.gan_type == "gan":
        if cfg.cogan_data or cfg.domain_b:
            raise ConfigError("--gan_type gan trains one domain: use --dataset NAME or --domain_a DIR")
        if not cfg.dataset and not cfg.domain_a:
            cfg.dataset = "digits"
        return
    if cfg.dataset:
        raise ConfigError(f"--dataset is for --gan_type gan; use --cogan_data with --gan_type {cfg.gan_type}")
    if bool(cfg.domain_a) != bool(cfg.domain_b):
        raise ConfigError("give both --domain_a and --domain_b (two image folders)")
    if cfg.domain_a and cfg.cogan_data:
        raise ConfigError("give either --cogan_data or --domain_a/--domain_b, not both")
    if not cfg.cogan_data and not cfg.domain_a:
        cfg.cogan_data = "digits2edge"


def _check_classes(cfg: _Draft):
    """--classes (issue 20 item 7): a single GAN's data filter; the data must carry labels and have every class named
    (specs.class_ids, pure: refused before TensorFlow is imported). Kept as given; the loader logs the ids."""
    if cfg.classes is None:
        return
    if cfg.gan_type != "gan":
        raise ConfigError(f"--classes filters the data of a single GAN (--gan_type gan), not of --gan_type "
                          f"{cfg.gan_type}")
    try:
        specs.class_ids(None if cfg.domain_a else cfg.dataset, cfg.classes)
    except DataError as e:
        raise ConfigError(str(e)) from None


def _fill(cfg: _Draft, defaults):
    """What the user left unset, from `defaults`."""
    for k, v in defaults.items():
        if getattr(cfg, k) is None:
            setattr(cfg, k, v)


def _apply_presets(cfg: _Draft):
    """What the user left unset, from the data's thesis settings (data_settings), then the preset (PRESETS; its
    default by default_preset), then sec. 5.1 (Xavier, z of 100 uniform); the critic's norm follows the penalty."""
    _fill(cfg, data_settings(cfg))
    cfg.preset = cfg.preset or default_preset(cfg)
    cfg.w_init = cfg.w_init or "xavier"
    if cfg.preset not in PRESETS:
        raise ConfigError(f"unknown --preset '{cfg.preset}' (choose from {', '.join(sorted(PRESETS))})")
    _fill(cfg, PRESETS[cfg.preset])
    cfg.optimizer = cfg.optimizer or "adam"
    if cfg.optimizer == "adam":  # Adam under a preset without betas (wgan's RMSprop): Kingma & Ba's defaults
        _fill(cfg, dict(g_beta1=0.9, g_beta2=0.999, d_beta1=0.9, d_beta2=0.999))
    if cfg.noise_dim is None:
        cfg.noise_dim = DEFAULT_NOISE_DIM
    cfg.noise_type = cfg.noise_type or "uniform"
    if cfg.d_norm is None:
        cfg.d_norm = "layer" if cfg.disc_penalty == "wgan-gp" else "batch"


def _check_gan(cfg: _Draft):
    """The adversarial game's options against each other: the noise, XLA (wrong gradients on TF 2.21) and the
    WGAN-GP penalty against a BatchNorm critic."""
    if cfg.noise_type != "uniform" and cfg.gan_type != "gan":
        raise ConfigError(f"--noise_type {cfg.noise_type} is implemented for single GANs (--gan_type gan); coupled "
                          f"runs draw z uniform in [-1, 1] (sec. 5.1)")
    if cfg.xla and cfg.disc_penalty == "wgan-gp":
        raise ConfigError("--xla computes wrong WGAN-GP gradients (a gradient of a gradient) on TF 2.21: off by "
                          "up to 12% against finite differences for the cogan32 critic (tests/test_trainers.py); "
                          "leave --xla out")
    if cfg.xla:
        # Without the penalty too: G1's transposed-convolution kernel update 6-12% off the plain compiled step's,
        # which equals the eager one to 1e-6 (tests/test_trainers.py, the xfail XLA tests measure it each run).
        raise ConfigError("--xla computes wrong generator gradients on TF 2.21 (up to 12% off the plain compiled "
                          "step for the cogan32 generators; README, XLA): leave --xla out")
    if cfg.disc_penalty == "wgan-gp" and cfg.d_norm == "batch":
        raise ConfigError("WGAN-GP penalises per-sample gradients, which BatchNorm couples: use --d_norm layer or none")


def _check_image_size(size):
    """One of the sizes an architecture makes (IMAGE_SIZES)."""
    if size not in IMAGE_SIZES:
        raise ConfigError(f"--image_size {size} is not supported: choose "
                          f"{', '.join(map(str, IMAGE_SIZES[:-1]))} or {IMAGE_SIZES[-1]}")


def _image_size(cfg: _Draft, default):
    """The given --image_size, else `default()` (called only then: it may import the data loaders); one an
    architecture makes."""
    cfg.image_size = default() if cfg.image_size is None else cfg.image_size
    _check_image_size(cfg.image_size)


def _resolve_arch(cfg: _Draft, data_defaults):
    """The architecture and the image size it makes (archs.IMAGE_SIZE): the toy MLPs for the ring (no image size),
    else the data's size (`data_defaults`) and the architecture that makes it, unless given."""
    if cfg.is_toy:
        cfg.arch = cfg.arch or "toy"
        cfg.image_size = None
        if cfg.arch != "toy":
            raise ConfigError("the toy ring data needs --arch toy")
        return
    if cfg.arch == "toy":
        raise ConfigError("--arch toy is for the 2-D ring data (--gan_type gan --dataset toy)")
    _image_size(cfg, lambda: data_defaults(cfg))
    cfg.arch = cfg.arch or archs.default_arch(cfg.image_size)
    size = archs.IMAGE_SIZE.get(cfg.arch)
    if size is None:
        raise ConfigError(f"unknown --arch '{cfg.arch}' (choose from {', '.join(archs.ARCHS)})")
    if size != cfg.image_size:
        raise ConfigError(f"--arch {cfg.arch} makes {size}x{size} images, not {cfg.image_size}x{cfg.image_size}")


def _check_coupling(cfg: _Draft):
    """The soft-coupling terms (ch. 4): scogan only; SL's classifier (a given file, or data one can be trained on);
    PL's form and image size (VGG19); FR's maps (K = --fr_layers of those the architecture has)."""
    coupling = [f for f in COUPLING_SWITCHES if getattr(cfg, f)]
    if coupling and cfg.gan_type != "scogan":
        raise ConfigError(f"--{coupling[0]} couples two generators softly: use it with --gan_type scogan")
    _check_classifier_options(cfg)
    if cfg.semantic_loss and not cfg.classifier_path:
        try:  # fails early for pairs no classifier can be trained for (main.load_data trains the others)
            specs.classifier_data_for(cfg.cogan_data)
        except DataError as e:
            raise ConfigError(f"--semantic_loss without --classifier_path: {e}") from None
    if cfg.perceptual_loss and cfg.pl_form not in ("listing", "equation"):
        raise ConfigError(f"this run's perceptual loss used the normalisation of a later snapshot of the authors' code "
                          f"(--pl_form {cfg.pl_form}: Gram / (H*W*C), content / layer size), which is no longer "
                          f"computed; continue with --pl_form listing (the thesis's listings) or equation")
    if cfg.perceptual_loss and (cfg.image_size or 0) < 32:
        raise ConfigError("--perceptual_loss needs images of at least 32x32 (VGG19)")
    if cfg.fr_maps not in archs.FR_MAPS:
        raise ConfigError(f"unknown --fr_maps '{cfg.fr_maps}' (choose from {', '.join(archs.FR_MAPS)})")
    n_maps = len(archs.fr_map_indices(archs.num_blocks(cfg.arch)[0], cfg.fr_maps))
    if cfg.feature_regulariser and not 1 <= cfg.fr_layers <= n_maps:
        raise ConfigError(f"--fr_layers {cfg.fr_layers} is out of range: --fr_maps {cfg.fr_maps} gives the "
                          f"{cfg.arch} generator {n_maps} maps to compare")


def _resolve_sharing(cfg: _Draft):
    """CoGAN's shared blocks (archs.DEFAULT_SHARED, the thesis tables' "Shared" columns; none for the other
    models unless given), each fewer than the network's blocks."""
    n_g, n_d = archs.num_blocks(cfg.arch)
    dg, dd = archs.DEFAULT_SHARED[cfg.arch] if cfg.gan_type == "cogan" else (0, 0)
    cfg.shared_layers_g = dg if cfg.shared_layers_g is None else cfg.shared_layers_g
    cfg.shared_layers_d = dd if cfg.shared_layers_d is None else cfg.shared_layers_d
    for what, n, total in (("g", cfg.shared_layers_g, n_g), ("d", cfg.shared_layers_d, n_d)):
        if not 0 <= n < total:
            raise ConfigError(f"--shared_layers_{what} {n} is out of range: the {cfg.arch} "
                              f"{'generator' if what == 'g' else 'discriminator'} has {total} layers, "
                              f"so 0..{total - 1} can be shared")


def _check_two_generators(cfg: _Draft):
    """Options that need two generators: the weight drift of Fig. 4.1 and sharing."""
    if cfg.log_weight_difference and cfg.gan_type not in ("cogan", "scogan"):
        raise ConfigError("--log_weight_difference compares two generators' weights (Fig. 4.1): use it with "
                          "--gan_type cogan or scogan")
    if cfg.gan_type == "gan" and (cfg.shared_layers_g or cfg.shared_layers_d):
        raise ConfigError("--shared_layers_g/_d need two domains (--gan_type cogan)")


def _apply_schedule_defaults(cfg: _Draft):
    """Iterations, batch, generator width and sample interval left unset: the offline demo's (DEMO_*), else
    sec. 5.1's; the toy ring samples every 50 of the authors' epochs."""
    demo = "digits" if specs.is_demo(cfg.dataset or cfg.cogan_data) else None
    if cfg.iterations is None:
        cfg.iterations = DEMO_ITERATIONS.get(demo, DEFAULT_ITERATIONS)
    if cfg.batch_size is None:
        cfg.batch_size = DEMO_BATCH_SIZE.get(demo, DEFAULT_BATCH_SIZE)
    if cfg.g_width is None:
        cfg.g_width = DEMO_G_WIDTH.get(demo, 1.0)
    if cfg.sample_interval is None:
        # toy: every 50 of the authors' epochs (their --images_while_training 50; an epoch = 5120 // batch // k steps)
        toy_epoch = max(1, 5120 // max(1, cfg.batch_size) // max(1, cfg.disc_iters))
        cfg.sample_interval = 50 * toy_epoch if cfg.is_toy else 250 if demo else 500


def _check_devices(cfg):
    """What tf.distribute can do with these options (the number of replicas is checked by main once it is known)."""
    if cfg.cpu_replicas > 1 and cfg.strategy == "default":
        raise ConfigError("--cpu_replicas splits the CPU for a replicated run: add --strategy mirrored")
    if cfg.strategy == "multiworker" and not cfg.dir:
        raise ConfigError("--strategy multiworker needs --dir RUN: every worker names the same run folder")
    if cfg.strategy != "default":
        if cfg.mixed_precision == "fp16":
            raise ConfigError("--mixed_precision fp16 is not available with --strategy mirrored/multiworker (its loss "
                              "scale skips updates inside the replicated step, untested): use bf16")
        if cfg.nonfinite == "skip":
            raise ConfigError("--nonfinite skip is not available with --strategy mirrored/multiworker (a skipped "
                              "update would need every replica's agreement inside the step): use --nonfinite stop")

