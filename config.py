"""The one typed run configuration: built once from the command line, saved as JSON with every run, reloadable.

Resolution order: dataclass defaults < `--config FILE` (or the run's own config.json with `--resume`) <
options given on the command line < derived values (preset, image size, architecture, sharing, iterations).
The resolved config is what `config.json` holds, so `--config RUN/config.json` repeats a run exactly (in a new
folder: the saved `dir` is ignored unless `--dir` is given or with `--resume`). Every value, whatever its source,
passes check_values (the field's type, the command line's choices).
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import math
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional


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
# - toy: sec. 2.3.2 (line 390): lr 1e-4 for both nets, z of 10, k = 1, Adam, batch 100, 2,000 iterations.
PRESETS = {
    "thesis": dict(loss="wgan", disc_penalty="wgan-gp", disc_iters=5, g_lr=2e-4, d_lr=2e-4,
                   g_beta1=0.5, g_beta2=0.999, d_beta1=0.5, d_beta2=0.999),
    "dcgan": dict(loss="nonsat", disc_penalty="none", disc_iters=1, g_lr=2e-4, d_lr=2e-4,
                  g_beta1=0.5, g_beta2=0.999, d_beta1=0.5, d_beta2=0.999),
    "wgan-gp": dict(loss="wgan", disc_penalty="wgan-gp", disc_iters=5, g_lr=1e-4, d_lr=1e-4,
                    g_beta1=0.0, g_beta2=0.9, d_beta1=0.0, d_beta2=0.9, d_norm="layer"),
    "toy": dict(loss="nonsat", disc_penalty="none", disc_iters=1, g_lr=1e-4, d_lr=1e-4,
                g_beta1=0.9, g_beta2=0.999, d_beta1=0.9, d_beta2=0.999, noise_dim=10, batch_size=100,
                iterations=2000),
}
DEFAULT_NOISE_DIM = 100
# Where the thesis trained a data set with other settings than sec. 5.1's, coupled runs on it default to them
# (any given option wins; the named experiments carry each experiment's own): sec. 5.2 trains MNIST2SVHN for
# 25,000 iterations (line 1048); sec. 5.3 CelebA with N(0, 0.02) weights, WGAN-GP with Gulrajani et al.'s
# settings and 35,000 iterations (line 1103); sec. 5.4 the CycleGAN sets at 128x128 with sec. 5.3's settings
# and 20,000 iterations (line 1160).
DATA_SETTINGS = (
    (("mnist2svhn",), dict(iterations=25000)),
    (("celeba_",), dict(preset="wgan-gp", w_init="normal", iterations=35000)),
    (("apple2orange", "horse2zebra"), dict(preset="wgan-gp", w_init="normal", iterations=20000)),
)


def data_settings(cfg) -> dict:
    """The thesis's settings for cfg's data where they differ from sec. 5.1 (coupled runs only)."""
    name = (cfg.cogan_data or "").strip().lower()
    if cfg.gan_type not in ("cogan", "scogan") or not name:
        return {}
    return next((dict(v) for prefixes, v in DATA_SETTINGS if name.startswith(prefixes)), {})


def default_preset(cfg) -> str:
    """The thesis's setting for what is trained: sec. 5.1 for coupled GANs, sec. 2.3.2 for the toy ring."""
    if cfg.is_toy:
        return "toy"
    demo = (cfg.dataset or cfg.cogan_data or "").startswith("digits")
    # The offline demo keeps the DCGAN setting of the thesis's CoGAN reproductions (ch. 3): 5 critic steps
    # would triple its minutes on a laptop CPU; `--preset thesis` gives sec. 5.1 there too.
    return "thesis" if cfg.gan_type in ("cogan", "scogan") and not demo else "dcgan"


# Offline demo sets are tiny; a default run on them must finish in minutes on a laptop CPU
# (digits: about 8 minutes on 2 cores). Used only where --iterations / --batch_size are not given.
DEMO_ITERATIONS = {"digits": 250}
DEMO_BATCH_SIZE = {"digits": 64}
DEFAULT_ITERATIONS = 20000   # sec. 5.1; the named experiments carry the thesis's other counts
DEFAULT_BATCH_SIZE = 128
# --gan_type classifier (thesis Appendix B): about 10 epochs at batch 128 (the thesis reports ~92 % on MNIST+SVHN
# after 10 epochs): MNIST 60,000 -> 4,700 steps, MNIST+SVHN 133,257 -> 10,400, CelebA train+validation
# 182,637 -> 14,300. The offline digits (1,617 training images) get 200 steps at batch 64 (~8 epochs, seconds).
CLASSIFIER_ITERATIONS = {"digits": 200, "mnist": 4700, "mnist_svhn": 10400, "celeba": 14300, "folder": 2000}
CLASSIFIER_BATCH_SIZE = {"digits": 64}


@dataclass
class Config:
    # what to train
    gan_type: str = "cogan"
    experiment: Optional[str] = None       # a named experiment of the thesis (experiments.py); its settings
                                           # sit under the options given on the command line
    cogan_data: Optional[str] = None       # default digits2edge (offline) when no folders are given
    dataset: Optional[str] = None          # single GAN; default digits
    domain_a: Optional[str] = None
    domain_b: Optional[str] = None
    data_dir: Optional[str] = None
    download: bool = True
    image_size: Optional[int] = None
    celeba_crop: str = "thesis"            # thesis: central crop of 0.7 (the authors' runs); square: 178x178
    # schedule
    iterations: Optional[int] = None
    batch_size: Optional[int] = None      # 128 (thesis sec. 5.1) except on the offline demo sets
    disc_iters: Optional[int] = None
    seed: int = 0
    deterministic: bool = False
    xla: bool = False
    # nets (thesis sec. 5.1)
    arch: Optional[str] = None
    noise_dim: Optional[int] = None        # 100 (sec. 5.1); the toy preset 10
    shared_layers_g: Optional[int] = None
    shared_layers_d: Optional[int] = None
    w_init: Optional[str] = None           # xavier (sec. 5.1); normal = N(0, 0.02) for CelebA / CycleGAN (5.3, 5.4)
    b_init: str = "constant"               # 0.1, as the CoGAN code and the thesis code
    prelu_init: float = 0.25
    d_norm: Optional[str] = None
    # losses and penalties
    preset: Optional[str] = None           # thesis (cogan/scogan), toy (toy ring), dcgan (other single GANs)
    loss: Optional[str] = None
    disc_penalty: Optional[str] = None
    gp_weight: float = 10.0
    clip_value: float = 0.01
    weight_decay: float = 0.0              # the authors' code applied none (sec. 5.1's text: 0.0005)
    # SCoGAN soft coupling (thesis ch. 4); weights as in the thesis experiments
    feature_regulariser: bool = False
    fr_weight: float = 10.0
    fr_layers: int = 3
    fr_maps: str = "thesis"                # which generator maps FR compares (nets.FR_MAPS)
    fr_norm: str = "sum"                   # sum over the K maps (Listing 6.10) or mean (Eq. 4.1's 1/K)
    semantic_loss: bool = False
    sl_weight: float = 10.0
    sl_form: str = "listing"               # mean over classes (Listing 6.15) or Eq. 4.2's sum over classes / 2
    classifier_path: Optional[str] = None  # None with SL or pruning: trained once and cached (see main.load_data)
    classifier_steps: Optional[int] = None  # steps of that auto-trained classifier (None: CLASSIFIER_ITERATIONS)
    prune_threshold: float = 0.4           # mnist2svhn_prune: drop SVHN images of top softmax <= this (sec. 2.7)
    cycle_consistency: bool = False
    cc_weight: float = 10.0
    cc_norm: str = "l1"
    perceptual_loss: bool = False
    pl_content_weight: float = 0.001
    pl_style_weight: float = 1e-11
    vgg_weights: str = "imagenet"
    pl_form: str = "listing"               # Listings 6.17/6.18 (default) or Eq. 4.5 (regularisers.PL_FORMS)
    log_weight_difference: bool = False
    # optimisers
    optimizer: str = "adam"
    g_lr: Optional[float] = None
    d_lr: Optional[float] = None
    g_beta1: Optional[float] = None
    g_beta2: Optional[float] = None
    d_beta1: Optional[float] = None
    d_beta2: Optional[float] = None
    # outputs
    dir: Optional[str] = None
    log_interval: int = 25
    sample_interval: Optional[int] = None  # 500, demo sets 50
    checkpoint_interval: int = 1000
    sample_rows: int = 4
    sample_cols: int = 8
    keep_checkpoints: int = 3
    # evaluation (metrics at the end of training; `--evaluate RUN` on demand)
    final_eval: bool = True
    eval_pairs: Optional[int] = None       # None: the thesis's count for the data (30,000 / 50,000 / 1,000)
    # not part of what a run *is*: how this invocation treats its folder (never saved)
    resume: bool = field(default=False, metadata={"saved": False})
    overwrite: bool = field(default=False, metadata={"saved": False})

    # ------------------------------------------------------------------ persistence
    def to_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.metadata.get("saved", True)}

    def save(self, path):
        """Atomically (a new file, then rename): a kill never leaves a half-written config.json."""
        path = Path(path)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n")
        os.replace(tmp, path)

    @classmethod
    def from_dict(cls, d: dict) -> "Config":
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - names)
        if unknown:
            raise ConfigError(f"unknown config keys: {', '.join(unknown)}")
        return cls(**d)

    # Options added after runs were saved without them: a config.json that lacks one ran with the old behaviour,
    # so --resume / --evaluate / --config keep it (a missing key never silently changes what a run computes).
    LEGACY = {"fr_maps": "hidden", "fr_norm": "mean", "celeba_crop": "square", "pl_form": "snapshot"}

    @classmethod
    def load(cls, path, gan_types=None) -> "Config":
        """Read a saved or hand-written config; every value is checked (check_values) and errors name the file.
        `gan_types`: the trainer registry (parse_config passes it); without it gan_type is checked as a string."""
        p = Path(path)
        if not p.is_file():
            raise ConfigError(f"config file not found: {p}")
        try:
            d = json.loads(p.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise ConfigError(f"config file {p} is not valid JSON ({e})") from None
        if not isinstance(d, dict):
            raise ConfigError(f"config file {p} must hold a JSON object")
        if "keep_checkpoints" in d:  # a saved run: it holds every field of its day (a partial file gets today's)
            d = {**{k: v for k, v in cls.LEGACY.items() if k not in d}, **d}
        unknown = sorted(set(d) - {f.name for f in dataclasses.fields(cls)})
        if unknown:
            raise ConfigError(f"config file {p}: unknown config keys: {', '.join(unknown)}")
        return cls.from_dict(check_values(d, f"config file {p}", option_choices(gan_types)))

    # ------------------------------------------------------------------ derived values
    @property
    def data_name(self) -> str:
        """What the run trains on, for folder names and logs."""
        if self.gan_type == "gan":
            return self.dataset or "folder"
        if self.gan_type == "classifier":
            return self.dataset or self.cogan_data or "folder"
        return self.cogan_data or "folders"

    @property
    def is_toy(self) -> bool:
        return self.gan_type == "gan" and self.dataset == "toy"


def _one_line_parser(**kw):
    class P(argparse.ArgumentParser):
        def error(self, message):  # one clear line and exit code 2, not a usage dump
            self.exit(2, f"error: {message} (see --help)\n")
    return P(**kw)


def build_parser(gan_types) -> argparse.ArgumentParser:
    """Every option defaults to SUPPRESS so that only what the user typed overrides a loaded config."""
    p = _one_line_parser(prog="main.py", description="Train coupled GANs (CoGAN, SCoGAN) and single GANs.",
                         argument_default=argparse.SUPPRESS)
    d = Config()
    a = p.add_argument
    g = p.add_argument_group("what to train")
    g.add_argument("--experiment", help="a named experiment of the thesis with all its settings (any of them "
                   "overridable by a flag); list them with --list_experiments")
    g.add_argument("--list_experiments", action="store_true", help="print every named experiment with the table or "
                   "figure it reproduces, and exit")
    g.add_argument("--report", nargs="+", metavar="RUN", help="compare the evaluations of runs in one table like "
                   "Table 5.2 (with --out FILE: Markdown + CSV); see README 'Comparing runs'")
    g.add_argument("--gan_type", choices=sorted(gan_types), help=f"model (default {d.gan_type})")
    g.add_argument("--cogan_data", help="pair of domains, e.g. mnist2edge, mnist2svhn, celeba_Smiling, "
                   "apple2orange (default digits2edge: offline)")
    g.add_argument("--dataset", help="single-GAN data: toy, digits, mnist, svhn, celeba, ... (default digits); "
                   "classifier data: digits, mnist, mnist_svhn, celeba")
    g.add_argument("--domain_a", help="local image folder for domain 1 (or the single GAN; for --gan_type "
                   "classifier a folder with one subfolder of images per class)")
    g.add_argument("--domain_b", help="local image folder for domain 2")
    g.add_argument("--data_dir", help="tensorflow-datasets data_dir / folder holding prepared data")
    g.add_argument("--no_download", dest="download", action="store_false",
                   help="never download; fail with a hint to run `tfds build` on a login node")
    g.add_argument("--image_size", type=int, help="32, 64, 128 or 256 (default from the data)")
    g.add_argument("--celeba_crop", choices=["thesis", "square"], help="CelebA: thesis = central crop of 0.7 of "
                   "the aligned face, as the authors' runs (default); square = the largest central square")
    g = p.add_argument_group("schedule")
    g.add_argument("--iterations", type=int, help=f"generator steps (default {DEFAULT_ITERATIONS}; offline "
                   f"demo sets {DEMO_ITERATIONS['digits']}, toy preset {PRESETS['toy']['iterations']})")
    g.add_argument("--batch_size", type=int, help=f"default {DEFAULT_BATCH_SIZE} (demo sets "
                   f"{DEMO_BATCH_SIZE['digits']}, toy preset {PRESETS['toy']['batch_size']})")
    g.add_argument("--disc_iters", type=int, help="critic steps per generator step (default from --preset: 5 for "
                   "thesis and wgan-gp, 1 for dcgan and toy)")
    g.add_argument("--seed", type=int, help=f"default {d.seed}")
    g.add_argument("--deterministic", action="store_true", help="enable TF op determinism")
    g.add_argument("--xla", action="store_true", help="compile the step with XLA (jit_compile)")
    g = p.add_argument_group("networks")
    g.add_argument("--arch", help="cogan32, cogan128, cogan256, dcgan64, toy (default from image size)")
    g.add_argument("--noise_dim", type=int, help=f"default {DEFAULT_NOISE_DIM} (toy preset 10)")
    g.add_argument("--shared_layers_g", type=int, help="generator layers shared from the input side (0: none)")
    g.add_argument("--shared_layers_d", type=int, help="discriminator layers shared from the output side")
    g.add_argument("--w_init", choices=["xavier", "xavier_normal", "he", "normal"], help="xavier (default, sec. "
                   "5.1) or normal = N(0, 0.02) (default for CelebA and the CycleGAN sets, secs. 5.3/5.4)")
    g.add_argument("--b_init", choices=["zeros", "constant"], help="constant = 0.1 (default, as the CoGAN and "
                   "thesis code) or zeros")
    g.add_argument("--prelu_init", type=float, help="default 0.25")
    g.add_argument("--d_norm", choices=["batch", "layer", "none"], help="discriminator normalisation")
    g = p.add_argument_group("losses and penalties")
    g.add_argument("--preset", choices=sorted(PRESETS), help="thesis (default for cogan/scogan: sec. 5.1, WGAN-GP "
                   "lambda 10, 5 critic steps, Adam 2e-4 (0.5, 0.999)); dcgan (non-saturating, 1 critic step); "
                   "wgan-gp (Gulrajani: Adam 1e-4 (0, 0.9)); toy (sec. 2.3.2, default for --dataset toy)")
    g.add_argument("--loss", choices=["minimax", "nonsat", "wgan"])
    g.add_argument("--disc_penalty", choices=["none", "wgan-gp", "clip"])
    g.add_argument("--gp_weight", type=float, help="WGAN-GP lambda (default 10)")
    g.add_argument("--clip_value", type=float, help="weight clipping bound (default 0.01)")
    g.add_argument("--weight_decay", type=float, help="L2 weight decay rate r: every kernel's gradient gains r*w, "
                   "as Caffe/PyTorch (default 0: the authors' code applied none; the thesis text says 0.0005)")
    g = p.add_argument_group("SCoGAN soft coupling (--gan_type scogan; any combination)")
    g.add_argument("--feature_regulariser", action="store_true", help="FR, Eq. 4.1")
    g.add_argument("--fr_weight", type=float, help=f"alpha_FR (default {d.fr_weight}; the thesis also used 100)")
    g.add_argument("--fr_layers", type=int, help=f"K: the first K maps of --fr_maps compared (default {d.fr_layers})")
    g.add_argument("--fr_norm", choices=["sum", "mean"], help="sum over the K maps (default, Listing 6.10, for "
                   "which alpha_FR was tuned) or mean (Eq. 4.1's 1/K)")
    g.add_argument("--fr_maps", choices=["thesis", "hidden"], help="FR's maps: thesis = the authors' multi-output "
                   "generator (32x32: the 8x8 and 16x16 maps, then the image; default); hidden = every hidden "
                   "block from the first (the 4x4 dense output first)")
    g.add_argument("--semantic_loss", action="store_true", help="SL, Eq. 4.2 (without --classifier_path, "
                   "trains the classifier of the data once and caches it)")
    g.add_argument("--sl_weight", type=float, help=f"alpha_SL (default {d.sl_weight})")
    g.add_argument("--sl_form", choices=["listing", "equation"], help="listing (default, Listing 6.15: mean over "
                   "batch and classes, for which alpha_SL was tuned) or equation (Eq. 4.2: sum over classes / 2)")
    g.add_argument("--classifier_path", help="classifier.keras saved by --gan_type classifier (for SL and pruning; "
                   "default: trained once per data and cached in $COUPLED_GAN_CACHE/classifiers, "
                   "~/.cache/coupled_gan/classifiers)")
    g.add_argument("--classifier_steps", type=int, help="training steps of that auto-trained classifier "
                   f"(default: as --gan_type classifier, e.g. MNIST {CLASSIFIER_ITERATIONS['mnist']})")
    g.add_argument("--prune_threshold", type=float, help=f"--cogan_data mnist2svhn_prune drops SVHN images whose "
                   f"top softmax is <= this (thesis sec. 2.7; default {d.prune_threshold})")
    g.add_argument("--cycle_consistency", action="store_true", help="CC, Eq. 4.3 (trains an encoder)")
    g.add_argument("--cc_weight", type=float, help=f"default {d.cc_weight}")
    g.add_argument("--cc_norm", choices=["l1", "l2"], help="l1: mean absolute error (default, Listing 6.16); "
                   "l2: Eq. 4.3's squared L2 norm, summed over the latent dimensions, averaged over the batch")
    g.add_argument("--perceptual_loss", action="store_true", help="PL, Eq. 4.5 (VGG19)")
    g.add_argument("--pl_content_weight", type=float, help=f"alpha_PL (default {d.pl_content_weight})")
    g.add_argument("--pl_style_weight", type=float, help=f"beta_PL (default {d.pl_style_weight})")
    g.add_argument("--pl_form", choices=["listing", "equation"], help="listing (default, Listings 6.17/6.18: "
                   "Gram / (H*W), style = mean squared Gram difference) or equation (Eq. 4.5: Gram / (H*W*C), "
                   "squared Frobenius norm per image)")
    g.add_argument("--vgg_weights", help="imagenet (default; keras.applications), none, or a local .h5 file")
    g.add_argument("--log_weight_difference", action="store_true", help="log G1/G2 weight drift (Fig. 4.1)")
    g = p.add_argument_group("optimisers")
    g.add_argument("--optimizer", choices=["adam", "rmsprop"])
    for who in ("g", "d"):
        g.add_argument(f"--{who}_lr", type=float)
        g.add_argument(f"--{who}_beta1", type=float)
        g.add_argument(f"--{who}_beta2", type=float)
    g = p.add_argument_group("outputs")
    g.add_argument("--dir", help="run folder (default runs/<gan_type>_<data>_<time>)")
    g.add_argument("--resume", action="store_true", help="continue the run in --dir from its last checkpoint")
    g.add_argument("--overwrite", action="store_true", help="replace the run already in --dir")
    g.add_argument("--config", help="JSON config of an earlier run to repeat in a new folder (options given here override it; "
                   "its saved dir is used only with --resume)")
    g.add_argument("--log_interval", type=int)
    g.add_argument("--sample_interval", type=int)
    g.add_argument("--checkpoint_interval", type=int)
    g.add_argument("--sample_rows", type=int)
    g.add_argument("--sample_cols", type=int)
    g.add_argument("--keep_checkpoints", type=int)
    g = p.add_argument_group("evaluation")
    g.add_argument("--no_final_eval", dest="final_eval", action="store_false",
                   help="skip the LPIPS table written at the end of training")
    g.add_argument("--eval_pairs", type=int, help="pairs for the LPIPS tables (default: the thesis's count)")
    del a
    return p


def option_choices(gan_types=None) -> dict:
    """{Config field: allowed values} for every option with `choices` on the command line (build_parser is the one
    list). Without `gan_types` (the trainer registry) gan_type is left out."""
    p = build_parser(gan_types or ())
    choices = {a.dest: list(a.choices) for a in p._actions if a.choices is not None}
    if gan_types is None:
        choices.pop("gan_type", None)
    return choices


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


def check_values(values: dict, where: str, choices: dict) -> dict:
    """The one check of config values, whatever their source (command line, --config FILE, a run's config.json,
    a named experiment): each value's type against the Config field's type, and every option with `choices` on
    the command line against those choices. -> the values as the fields hold them; ConfigError names key and
    source. Values of Config.LEGACY pass: resolve() decides what an old run may still do."""
    hints = typing.get_type_hints(Config)
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
        out[key] = typed
    return out


def parse_config(argv, gan_types, data_defaults) -> Config:
    """argv -> resolved, validated Config. `data_defaults(cfg)` gives (image_size) for the chosen data."""
    args = vars(build_parser(gan_types).parse_args(argv))
    for mode in ("list_experiments", "report"):  # main.main dispatches these by their full spelling
        if mode in args:
            raise ConfigError(f"spell --{mode} out in full: it is a mode of its own")
    choices = option_choices(gan_types)
    repeat = args.pop("config", None)
    config_file = repeat
    if args.get("resume") and not config_file and args.get("dir"):
        saved = Path(args["dir"]) / "config.json"
        if saved.is_file():
            config_file = saved
    cfg = Config.load(config_file, gan_types) if config_file else Config()
    if repeat and not args.get("resume") and "dir" not in args:
        # Repeating a run starts a new folder (main.run names it as for a fresh run): the saved `dir` is the run
        # being repeated, which must never be refused as "already holds a run" nor deleted by --overwrite.
        cfg.dir = None
    if args.get("experiment"):
        import experiments
        try:
            settings = experiments.get(args["experiment"]).settings
        except experiments.ExperimentError as e:
            raise ConfigError(str(e)) from None
        for k, v in check_values(settings, f"experiment {args['experiment']}", choices).items():
            setattr(cfg, k, v)
    for k, v in check_values(args, "command line", choices).items():
        setattr(cfg, k, v)
    if cfg.resume and cfg.overwrite:
        raise ConfigError("--resume and --overwrite contradict each other: choose one")
    if cfg.resume and not cfg.dir:
        raise ConfigError("--resume continues the run in a folder: give --dir RUN")
    return resolve(cfg, data_defaults)


def classifier_family(name) -> str:
    """Which CLASSIFIER_ITERATIONS / CLASSIFIER_BATCH_SIZE entry a labelled set (or pair) falls under."""
    low = (name or "").lower()
    if not low:
        return "folder"
    if low.startswith("digits"):
        return "digits"
    if low in ("mnist_svhn", "mnist2svhn", "mnist2svhn_prune"):
        return "mnist_svhn"
    if low.startswith("mnist"):
        return "mnist"
    return "celeba" if low.startswith("celeba") else "folder"


def classifier_defaults(name):
    """-> (steps, batch size) for training the classifier of labelled set `name` (Appendix B)."""
    family = classifier_family(name)
    return CLASSIFIER_ITERATIONS[family], CLASSIFIER_BATCH_SIZE.get(family, DEFAULT_BATCH_SIZE)


def _check_classifier_options(cfg):
    """What SL and pruning need of --classifier_path / the auto-trained classifier (all gan_types)."""
    used = cfg.semantic_loss or (cfg.cogan_data or "").strip().lower() == "mnist2svhn_prune"
    if cfg.classifier_path and used and cfg.gan_type != "classifier":
        path = cfg.classifier_path if cfg.classifier_path.endswith(".keras") else cfg.classifier_path + ".keras"
        if not Path(path).expanduser().is_file():
            raise ConfigError(f"--classifier_path {cfg.classifier_path}: no such file (train one with "
                              f"--gan_type classifier, or leave the option out to train one)")
    if cfg.classifier_steps is not None and cfg.classifier_steps < 1:
        raise ConfigError(f"--classifier_steps must be at least 1 (got {cfg.classifier_steps})")
    if not 0.0 <= cfg.prune_threshold < 1.0:
        raise ConfigError(f"--prune_threshold must lie in [0, 1): it bounds a softmax probability "
                          f"(got {cfg.prune_threshold})")


def _resolve_classifier(cfg: Config, data_defaults) -> Config:
    """--gan_type classifier (thesis Appendix B): one labelled source, no GAN options."""
    sources = [f"--{k}" for k in ("dataset", "cogan_data", "domain_a") if getattr(cfg, k)]
    if len(sources) > 1:
        raise ConfigError(f"--gan_type classifier trains on one labelled source: give only one of {', '.join(sources)}")
    if cfg.domain_b:
        raise ConfigError("--gan_type classifier takes one labelled folder: --domain_a DIR (one subfolder per class)")
    if not sources:
        cfg.dataset = "digits"
    given = [f for f in ("feature_regulariser", "semantic_loss", "cycle_consistency", "perceptual_loss")
             if getattr(cfg, f)]
    given += [k for k in ("arch", "shared_layers_g", "shared_layers_d") if getattr(cfg, k) is not None]
    if given:
        raise ConfigError(f"--{given[0]} is a GAN option: --gan_type classifier trains an Appendix B classifier")
    _check_classifier_options(cfg)
    name = cfg.dataset or cfg.cogan_data
    if cfg.image_size is None:
        # main's data_defaults reads .dataset for single-domain runs.
        cfg.image_size = data_defaults(dataclasses.replace(cfg, gan_type="gan", dataset=name, cogan_data=None))
    if cfg.image_size not in (32, 64, 128, 256):
        raise ConfigError(f"--image_size {cfg.image_size} is not supported: choose 32, 64, 128 or 256")
    steps, batch = classifier_defaults(None if cfg.domain_a else name)
    cfg.iterations = steps if cfg.iterations is None else cfg.iterations
    cfg.batch_size = batch if cfg.batch_size is None else cfg.batch_size
    for k in ("iterations", "batch_size", "log_interval", "checkpoint_interval", "keep_checkpoints"):
        if getattr(cfg, k) < 1:
            raise ConfigError(f"--{k} must be at least 1 (got {getattr(cfg, k)})")
    return cfg


def resolve(cfg: Config, data_defaults) -> Config:
    """Fill derived values and check that the options fit together."""
    import nets  # local: keeps `python main.py --help` fast

    if cfg.gan_type == "classifier":
        return _resolve_classifier(cfg, data_defaults)
    if cfg.gan_type == "gan":
        if cfg.cogan_data or cfg.domain_b:
            raise ConfigError("--gan_type gan trains one domain: use --dataset NAME or --domain_a DIR")
        if not cfg.dataset and not cfg.domain_a:
            cfg.dataset = "digits"
    else:
        if cfg.dataset:
            raise ConfigError(f"--dataset is for --gan_type gan; use --cogan_data with --gan_type {cfg.gan_type}")
        if bool(cfg.domain_a) != bool(cfg.domain_b):
            raise ConfigError("give both --domain_a and --domain_b (two image folders)")
        if cfg.domain_a and cfg.cogan_data:
            raise ConfigError("give either --cogan_data or --domain_a/--domain_b, not both")
        if not cfg.cogan_data and not cfg.domain_a:
            cfg.cogan_data = "digits2edge"

    for k, v in data_settings(cfg).items():
        if getattr(cfg, k) is None:
            setattr(cfg, k, v)
    cfg.preset = cfg.preset or default_preset(cfg)
    cfg.w_init = cfg.w_init or "xavier"
    if cfg.preset not in PRESETS:
        raise ConfigError(f"unknown --preset '{cfg.preset}' (choose from {', '.join(sorted(PRESETS))})")
    for k, v in PRESETS[cfg.preset].items():
        if getattr(cfg, k) is None:
            setattr(cfg, k, v)
    if cfg.noise_dim is None:
        cfg.noise_dim = DEFAULT_NOISE_DIM
    if cfg.d_norm is None:
        cfg.d_norm = "layer" if cfg.disc_penalty == "wgan-gp" else "batch"
    if cfg.disc_penalty == "wgan-gp" and cfg.d_norm == "batch":
        raise ConfigError("WGAN-GP penalises per-sample gradients, which BatchNorm couples: use --d_norm layer or none")

    if cfg.is_toy:
        cfg.arch = cfg.arch or "toy"
        cfg.image_size = None
        if cfg.arch != "toy":
            raise ConfigError("the toy ring data needs --arch toy")
    else:
        if cfg.arch == "toy":
            raise ConfigError("--arch toy is for the 2-D ring data (--gan_type gan --dataset toy)")
        if cfg.image_size is None:
            cfg.image_size = data_defaults(cfg)
        if cfg.image_size not in (32, 64, 128, 256):
            raise ConfigError(f"--image_size {cfg.image_size} is not supported: choose 32, 64, 128 or 256")
        cfg.arch = cfg.arch or nets.default_arch(cfg.image_size)
        sizes = {"cogan32": 32, "dcgan64": 64, "cogan128": 128, "cogan256": 256}
        if cfg.arch not in sizes:
            raise ConfigError(f"unknown --arch '{cfg.arch}' (choose from {', '.join(nets.ARCHS)})")
        if sizes[cfg.arch] != cfg.image_size:
            raise ConfigError(f"--arch {cfg.arch} makes {sizes[cfg.arch]}x{sizes[cfg.arch]} images, "
                              f"not {cfg.image_size}x{cfg.image_size}")

    coupling = [f for f in ("feature_regulariser", "semantic_loss", "cycle_consistency", "perceptual_loss")
                if getattr(cfg, f)]
    if coupling and cfg.gan_type != "scogan":
        raise ConfigError(f"--{coupling[0]} couples two generators softly: use it with --gan_type scogan")
    _check_classifier_options(cfg)
    if cfg.semantic_loss and not cfg.classifier_path:
        import data
        try:  # fails early for pairs no classifier can be trained for (main.load_data trains the others)
            data.classifier_data_for(cfg.cogan_data)
        except data.DataError as e:
            raise ConfigError(f"--semantic_loss without --classifier_path: {e}") from None
    if cfg.perceptual_loss and cfg.pl_form not in ("listing", "equation"):
        raise ConfigError(f"this run's perceptual loss used the normalisation of a later snapshot of the authors' code "
                          f"(--pl_form {cfg.pl_form}: Gram / (H*W*C), content / layer size), which is no longer "
                          f"computed; continue with --pl_form listing (the thesis's listings) or equation")
    if cfg.perceptual_loss and (cfg.image_size or 0) < 32:
        raise ConfigError("--perceptual_loss needs images of at least 32x32 (VGG19)")
    n_g, n_d = nets.num_blocks(cfg.arch)
    if cfg.fr_maps not in nets.FR_MAPS:
        raise ConfigError(f"unknown --fr_maps '{cfg.fr_maps}' (choose from {', '.join(nets.FR_MAPS)})")
    n_maps = len(nets.fr_map_indices(n_g, cfg.fr_maps))
    if cfg.feature_regulariser and not 1 <= cfg.fr_layers <= n_maps:
        raise ConfigError(f"--fr_layers {cfg.fr_layers} is out of range: --fr_maps {cfg.fr_maps} gives the "
                          f"{cfg.arch} generator {n_maps} maps to compare")
    coupled_by_sharing = cfg.gan_type == "cogan"
    dg, dd = nets.DEFAULT_SHARED[cfg.arch] if coupled_by_sharing else (0, 0)
    cfg.shared_layers_g = dg if cfg.shared_layers_g is None else cfg.shared_layers_g
    cfg.shared_layers_d = dd if cfg.shared_layers_d is None else cfg.shared_layers_d
    for what, n, total in (("g", cfg.shared_layers_g, n_g), ("d", cfg.shared_layers_d, n_d)):
        if not 0 <= n < total:
            raise ConfigError(f"--shared_layers_{what} {n} is out of range: the {cfg.arch} "
                              f"{'generator' if what == 'g' else 'discriminator'} has {total} layers, "
                              f"so 0..{total - 1} can be shared")
    if cfg.log_weight_difference and cfg.gan_type not in ("cogan", "scogan"):
        raise ConfigError("--log_weight_difference compares two generators' weights (Fig. 4.1): use it with "
                          "--gan_type cogan or scogan")
    if cfg.gan_type == "gan" and (cfg.shared_layers_g or cfg.shared_layers_d):
        raise ConfigError("--shared_layers_g/_d need two domains (--gan_type cogan)")

    demo = "digits" if (cfg.dataset or cfg.cogan_data or "").startswith("digits") else None
    if cfg.iterations is None:
        cfg.iterations = DEMO_ITERATIONS.get(demo, DEFAULT_ITERATIONS)
    if cfg.batch_size is None:
        cfg.batch_size = DEMO_BATCH_SIZE.get(demo, DEFAULT_BATCH_SIZE)
    if cfg.sample_interval is None:
        cfg.sample_interval = 50 if demo or cfg.is_toy else 500
    for name in ("iterations", "batch_size", "disc_iters", "noise_dim", "log_interval", "sample_interval",
                 "checkpoint_interval", "sample_rows", "sample_cols", "keep_checkpoints"):
        if getattr(cfg, name) < 1:
            raise ConfigError(f"--{name} must be at least 1 (got {getattr(cfg, name)})")
    for name in ("g_lr", "d_lr", "gp_weight", "clip_value"):
        if getattr(cfg, name) <= 0:
            raise ConfigError(f"--{name} must be positive (got {getattr(cfg, name)})")
    if cfg.weight_decay < 0:
        raise ConfigError(f"--weight_decay must be >= 0 (got {cfg.weight_decay})")
    return cfg

