"""The thesis's experiments by name: `python main.py --experiment NAME` (any setting overridable by a flag).

Each entry holds the settings of one experiment of Juul-Nyholm & Alminde (2020) as Config field values, the
table or figure it reproduces, and the LPIPS numbers the thesis published for it (facts copied from the
thesis, cited by table and column). `--list_experiments` prints the names. Importing this module must not
import TensorFlow (it is read while parsing the command line).

Published numbers use the row keys of evaluation.LPIPS_ROWS: gen1_vs_gen2, gen1_vs_real1, gen2_vs_real2,
real1_vs_real2 (the baseline the text gives per data set) and, for the 2x2 Tables 3.3-3.8, gen1_vs_real2 and
gen2_vs_real1.

Length: about 700 lines because it is a table of 48 thesis experiments with their published numbers and 11
baselines (issue 20 item 8); the logic is the first hundred lines.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Optional

import archs  # no TensorFlow: UNIT's net by image size (archs.unit_net)


class ExperimentError(ValueError):
    """Unknown experiment name (the CLI prints one line and exits 2)."""


@dataclass(frozen=True)
class Experiment:
    name: str
    description: str                  # one line for --list_experiments
    reproduces: str                   # "Table 5.1, column SL" / "Fig. 3.8a"
    settings: dict                    # Config field -> value, applied under the command line's options
    published: Optional[dict] = None  # LPIPS row key -> the thesis's number (None: the thesis gives none)
    source: str = ""                  # where `published` comes from, e.g. "Table 5.2, column SLFR"
    notes: str = ""                   # deviations / ambiguities worth a line in EXPERIMENTS.md
    pairs: Optional[int] = None       # LPIPS pairs the thesis measured the numbers on (None: evaluation default)
    published_modes: Optional[int] = None   # toy ring: the modes of 10 the thesis reports covered (read off its plot)


EXPERIMENTS: dict = {}


def _add(*exps):
    for e in exps:
        if e.name in EXPERIMENTS:
            raise ValueError(f"duplicate experiment {e.name}")
        EXPERIMENTS[e.name] = e


# ---------------------------------------------------------------------------------------------- registry
# Line numbers are those of the thesis's text (../shared/reference/scogan-thesis-2020.txt beside the checkout).
#
# - `settings` holds what defines an experiment (model, data, coupling terms and their weights, iterations,
#   preset) and every value that differs from the Config defaults. Architecture and sharing are spelled out
#   although most equal the defaults, so that an entry reads as the thesis's setup (sharing: the "Shared"
#   columns of Tables 3.1/3.2, A.1/A.2, A.3/A.4 -> 4/3, 5/7, 6/7 blocks).
# - Presets (config.PRESETS): "dcgan" = DCGAN settings, non-saturating loss, 1 critic step (ch. 3, sec. 4.1);
#   "thesis" = WGAN-GP lambda 10 with 5 critic steps (sec. 4.1, line 886) and the DCGAN optimiser (sec. 5.1,
#   line 996); "wgan-gp" = Gulrajani et al.'s settings of sec. 2.5 (line 486): Adam 1e-4 (0, 0.9), LayerNorm in
#   the critic; "toy" = sec. 2.3.2 (line 390).
# - Weight decay is never set: the text states it for secs. 5.1-5.4 and for the CoGAN CelebA runs, but the
#   authors' code applied none (config.Config.weight_decay); those entries' notes name the flag that follows
#   the text.
# - `published`: domain 1 is the first name of a pair (MNIST, horses, apples); for CelebA it is the faces WITH
#   the attribute (data.py, evaluation.domain_names), so Table 5.3's "Smile" rows are our domain 1 and its
#   "No-smile" rows our domain 2. real1_vs_real2 is the baseline the text gives for the data set.
# - MNIST2SVHN runs use `mnist2svhn_prune`: the thesis trained on SVHN pruned of the images its MNIST+SVHN
#   classifier scores <= 40 % (sec. 2.7, line 546).

def _wd(rate, where):
    """A note's weight-decay sentence; the rule (README, 'Weight decay') in short: `--weight_decay r` adds r * w to
    each kernel's gradient, the text's decay rates are such solver rates, its term c * sum(w^2) (line 701) is 2c."""
    return (f"Weight decay: none is set, as the authors' code applied none. The text's decay rate {rate} ({where}) "
            f"is `--weight_decay {rate}`; its term c * sum(w^2) (line 701) read literally, with c = {rate}, is "
            f"`--weight_decay {2 * rate:g}`.")


_WD_51 = _wd(0.0005, "sec. 5.1, line 996")
_WD_52 = _wd(0.0005, "sec. 5.2 takes sec. 5.1's settings, lines 1048 and 996")
_WD_CH3_CELEBA = _wd(0.0001, "the CoGAN Caffe code's, sec. 3.3, line 708")
_WD_53 = _wd(0.0001, "sec. 5.3, line 1103")
_WD_54 = _wd(0.0001, "sec. 5.4 takes sec. 5.3's settings, lines 1160 and 1103")
_PRUNE = ("Data: mnist2svhn_prune, SVHN pruned as in sec. 2.7 (line 546: images whose top MNIST+SVHN softmax "
          "is <= 0.4 dropped, 73,257 -> 70,262; the classifier is trained once and cached); `--cogan_data "
          "mnist2svhn` trains on all of SVHN.")
_NORMAL = ("w_init normal = N(0, 0.02) with 0.02 the standard deviation, as DCGAN and the CoGAN code; sec. 5.3 "
           "(line 1103) writes 'variance 0.02'.")
_PL = ("PL weights alpha 0.001, beta 1e-11 as secs. 5.2 and 5.3 state them (lines 1092, 1147); the chapter 5 "
       "introduction (line 988) writes beta 1e-13 and sec. 7.4.1 (line 1749) 1e-12.")
_CELEBA_DOMAINS = ("Domain 1 = faces with the attribute, domain 2 = without (data.py); the thesis's figures show "
                   "the no-attribute domain first (lines 710, 1121), so its 'Smile' rows are our domain 1.")
_CH5_COGAN = ("CoGAN column: trained with the section's settings and the table's hard sharing. The numbers differ "
              "from chapter 3's CoGAN runs, so the column is read as a new run under chapter 5's settings.")


def _toy_steps(epochs, k, points=5120, batch=100):
    """Generator steps of `epochs` of the authors' toy loop: each epoch ran (points // batch) // k generator steps,
    k critic steps each (palminde/P10Project Train.py, 1899bab to 6bdb9e7: `n_steps = batches_pr_epoch //
    args.disc_iters  # Steps per epoch (Generator iterations)`). The thesis's toy "iterations" count these epochs
    (README "The toy ring")."""
    return epochs * (points // batch // k)


_TOY = ("As the authors' code ran it (palminde/P10Project, Nov.-Dec. 2019; README 'The toy ring'): their ring "
        "(10 modes, radius 3, std 0.05, a fixed set of 5,120 points reshuffled every epoch; Data.py "
        "createToyDataRing from 1899bab), z ~ N(0, 1) (Train.py tf.random.normal), Keras' default initialisation "
        "(Glorot uniform, zero biases), and the text's iterations read as that code's epochs of 51 // k generator "
        "steps (Train.py n_steps until 6bdb9e7; the loop of one generator step per iteration came in March 2020, "
        "43d9d18), sample plots every 50 epochs (Main.py --images_while_training 50).")
# Secs. 3.3.1/3.3.2 name "DCGAN hyperparameters" and no initialiser; sec. 2.6 lists DCGAN's, and the nets are the
# CoGAN code's CelebA nets, whose initialiser sec. 5.3 copies. Set explicitly, not left to the data's defaults.
_CH3_INIT = ("Initialisation N(0, 0.02): the 'DCGAN hyperparameters' are sec. 2.6's list, which includes a normal "
             "initialisation with mean 0 (line 511, where the text writes standard deviation 0.2 for DCGAN's 0.02), "
             "and these are the CoGAN code's CelebA nets, whose N(0, 0.02) sec. 5.3 copies (line 1103).")
_CH3_WGANGP_INIT = ("Initialisation N(0, 0.02), as Tables 3.5/3.6's runs: line 778 changes the loss, the critic's "
                    "normalisation and the optimiser settings, and sec. 2.5's settings (line 486) name no "
                    "initialiser.")

_add(
    # ------------------------------------------------------------------ sec. 2.3.2 / 2.5: mode collapse (toy ring)
    Experiment(
        name="gan_toy_k1",
        description="single GAN on the ring of 10 Gaussians, k = 1 critic step: learns all modes",
        reproduces="Fig. 2.10",
        settings=dict(gan_type="gan", dataset="toy", toy_ring="authors", arch="toy", b_init="zeros", preset="toy",
                      disc_iters=1, noise_dim=10, noise_type="normal", g_beta1=0.5, g_beta2=0.999, d_beta1=0.5,
                      d_beta2=0.999, batch_size=100, iterations=_toy_steps(2000, 1),
                      sample_interval=_toy_steps(50, 1)),
        notes="Sec. 2.3.2 (line 390): gen_lr = disc_lr = 0.0001, z_size 10, k 1, Adam, batch 100, 2000 "
              "iterations; Table 2.1 lists a generator input of 100, the text's z_size 10 is used. " + _TOY),
    Experiment(
        name="gan_toy_k5",
        description="the same GAN with k = 5 critic steps: mode collapse (6 of 10 modes in the thesis)",
        reproduces="Fig. 2.11",
        settings=dict(gan_type="gan", dataset="toy", toy_ring="authors", arch="toy", b_init="zeros", preset="toy",
                      disc_iters=5, noise_dim=10, noise_type="normal", g_beta1=0.5, g_beta2=0.999, d_beta1=0.5,
                      d_beta2=0.999, batch_size=100, iterations=_toy_steps(2000, 5),
                      sample_interval=_toy_steps(50, 5)),
        published_modes=6, source="Fig. 2.11, line 392 (\"only learn 6 out of 10 modes\", read off the plot)",
        notes="Sec. 2.3.2 (line 392): Fig. 2.10's configuration with 5 discriminator iterations. " + _TOY),
    Experiment(
        name="gan_toy_wgangp",
        description="the collapsing k = 5 configuration with WGAN-GP and its recommended settings",
        reproduces="Figs. 2.14, 2.15",
        settings=dict(gan_type="gan", dataset="toy", toy_ring="authors", arch="toy", b_init="zeros",
                      preset="wgan-gp", disc_iters=5, noise_dim=10, noise_type="normal", d_norm="none",
                      g_beta1=0.5, g_beta2=0.9, d_beta1=0.5, d_beta2=0.9, batch_size=100,
                      iterations=_toy_steps(3000, 5), sample_interval=_toy_steps(50, 5)),
        notes="Sec. 2.5 (lines 486-488): WGAN-GP lambda 10, lr 1e-4 on the mode-collapsed configuration (k 5, z "
              "10, batch 100); the shape is learned 'after 3000 iterations', so 3000 of the authors' epochs. Adam "
              "(0.5, 0.9): the authors' Main.py hard-coded beta_1=0.5, beta_2=0.9 from e39305f to 46d7e12 (Dec. 14, "
              "2019), the hours in which the toy generator got its linear output (211a920) while the defaults were "
              "loss wgan-gp, n_critic 5; the text names Gulrajani et al.'s (0, 0.9) (line 486): add `--g_beta1 0 "
              "--d_beta1 0`. "
              "No critic normalisation: Table 2.1's critic has none. " + _TOY),

    # ------------------------------------------------------------------ sec. 3.3: CoGAN on the MNIST variants
    Experiment(
        name="cogan_mnist2edge",
        description="CoGAN, MNIST and its edge images, DCGAN settings, 25k iterations",
        reproduces="Fig. 3.2",
        settings=dict(gan_type="cogan", cogan_data="mnist2edge", arch="cogan32", shared_layers_g=4,
                      shared_layers_d=3, preset="dcgan", iterations=25000),
        notes="Sec. 3.3 (line 665): Tables 3.1/3.2, Adam with DCGAN settings, 25000 iterations."),
    Experiment(
        name="cogan_mnist2negative",
        description="CoGAN, MNIST and its negatives, DCGAN settings, 25k iterations",
        reproduces="Fig. 3.2",
        settings=dict(gan_type="cogan", cogan_data="mnist2negative", arch="cogan32", shared_layers_g=4,
                      shared_layers_d=3, preset="dcgan", iterations=25000),
        notes="Sec. 3.3 (line 665): Tables 3.1/3.2, Adam with DCGAN settings, 25000 iterations."),
    Experiment(
        name="cogan_mnist2rotate",
        description="CoGAN, MNIST and MNIST rotated by 90 degrees, DCGAN settings, 25k iterations",
        reproduces="Fig. 3.2",
        settings=dict(gan_type="cogan", cogan_data="mnist2rotate", arch="cogan32", shared_layers_g=4,
                      shared_layers_d=3, preset="dcgan", iterations=25000),
        notes="Sec. 3.3 (line 665): Tables 3.1/3.2, Adam with DCGAN settings, 25000 iterations."),

    # ------------------------------------------------------------------ sec. 3.3: CoGAN on CelebA, 128x128
    Experiment(
        name="cogan_celeba_eyeglasses",
        description="CoGAN, faces with / without eyeglasses, 128x128 (Caffe-code nets), 35k iterations",
        reproduces="Fig. 3.3b",
        settings=dict(gan_type="cogan", cogan_data="celeba_Eyeglasses", arch="cogan128", shared_layers_g=5,
                      shared_layers_d=7, w_init="normal", preset="dcgan", iterations=35000),
        notes="Sec. 3.3 (lines 701-722): Tables A.1/A.2 (the Caffe code's nets), DCGAN settings (line 665), "
              "samples after 35k iterations. Fig. 3.3a (the CoGAN paper's nets) is not an experiment here. "
              + _NORMAL + " " + _WD_CH3_CELEBA),
    Experiment(
        name="cogan_celeba_smiling",
        description="CoGAN, smiling / not smiling faces, 128x128, 35k iterations",
        reproduces="Fig. 3.4",
        settings=dict(gan_type="cogan", cogan_data="celeba_Smiling", arch="cogan128", shared_layers_g=5,
                      shared_layers_d=7, w_init="normal", preset="dcgan", iterations=35000),
        notes="Sec. 3.3 (line 710): as Fig. 3.3b on CelebSmiling; the 35k iterations of Fig. 3.3 (line 722) are "
              "assumed. " + _NORMAL + " " + _WD_CH3_CELEBA),
    Experiment(
        name="cogan_celeba_blond",
        description="CoGAN, blond / not blond faces, 128x128, 35k iterations",
        reproduces="Fig. 3.4",
        settings=dict(gan_type="cogan", cogan_data="celeba_Blond_Hair", arch="cogan128", shared_layers_g=5,
                      shared_layers_d=7, w_init="normal", preset="dcgan", iterations=35000),
        notes="Sec. 3.3 (line 710): as Fig. 3.3b on CelebBlond; the 35k iterations of Fig. 3.3 (line 722) are "
              "assumed. " + _NORMAL + " " + _WD_CH3_CELEBA),

    # ------------------------------------------------------------------ sec. 3.3.1: scaling issue, 256x256
    Experiment(
        name="cogan_horse2zebra_256",
        description="CoGAN, horse2zebra at 256x256, DCGAN settings, 35k iterations",
        reproduces="Table 3.3, Fig. 3.5a",
        settings=dict(gan_type="cogan", cogan_data="horse2zebra", image_size=256, arch="cogan256",
                      shared_layers_g=6, shared_layers_d=7, w_init="normal", preset="dcgan", iterations=35000,
                      eval_pairs=1000),
        published=dict(gen1_vs_real1=0.7792, gen1_vs_real2=0.8185, gen2_vs_real1=0.7728, gen2_vs_real2=0.7546),
        source="Table 3.3 (rows Gen. horses / zebras, columns Real horses / zebras)",
        pairs=1000,
        notes="Sec. 3.3.1 (lines 733-735): Tables A.3/A.4, 35k iterations, DCGAN hyperparameters, 1000 samples "
              "per set. The text's baseline (0.7062, sec. 5.4) was measured at 128x128, so none is given here. "
              + _CH3_INIT),
    Experiment(
        name="cogan_apple2orange_256",
        description="CoGAN, apple2orange at 256x256, DCGAN settings, 35k iterations",
        reproduces="Table 3.4, Fig. 3.5b",
        settings=dict(gan_type="cogan", cogan_data="apple2orange", image_size=256, arch="cogan256",
                      shared_layers_g=6, shared_layers_d=7, w_init="normal", preset="dcgan", iterations=35000,
                      eval_pairs=995),
        published=dict(gen1_vs_real1=0.8388, gen1_vs_real2=0.8693, gen2_vs_real1=0.9005, gen2_vs_real2=0.8944),
        source="Table 3.4 (rows Gen. apples / oranges, columns Real apples / oranges)",
        pairs=995,
        notes="Sec. 3.3.1 (lines 733-735). The text gives 1000 samples for horse2zebra and none for "
              "apple2orange, which has only 995 apples: 995, as sec. 5.4 (line 1160). The baseline 0.7013 (sec. "
              "5.4) was measured at 128x128: none here. " + _CH3_INIT),

    # ------------------------------------------------------------------ sec. 3.3.2: domain issue, 128x128
    Experiment(
        name="cogan_horse2zebra_128",
        description="CoGAN, horse2zebra at 128x128 (CelebA nets), DCGAN settings, 35k iterations",
        reproduces="Table 3.5, Fig. 3.6a",
        settings=dict(gan_type="cogan", cogan_data="horse2zebra", image_size=128, arch="cogan128",
                      shared_layers_g=5, shared_layers_d=7, w_init="normal", preset="dcgan", iterations=35000,
                      eval_pairs=1000),
        published=dict(gen1_vs_real1=0.8906, gen1_vs_real2=0.9594, gen2_vs_real1=0.6923, gen2_vs_real2=0.7024,
                       real1_vs_real2=0.7062),
        source="Table 3.5 (rows Gen. horses / zebras, columns Real horses / zebras); baseline sec. 5.4 (line 1160)",
        pairs=1000,
        notes="Sec. 3.3.2 (line 758): Tables A.1/A.2, 35k iterations, DCGAN settings. Pairs: sec. 5.4's 1000 "
              "for horse2zebra (line 1160). " + _CH3_INIT),
    Experiment(
        name="cogan_apple2orange_128",
        description="CoGAN, apple2orange at 128x128 (CelebA nets), DCGAN settings, 35k iterations",
        reproduces="Table 3.6, Fig. 3.7a",
        settings=dict(gan_type="cogan", cogan_data="apple2orange", image_size=128, arch="cogan128",
                      shared_layers_g=5, shared_layers_d=7, w_init="normal", preset="dcgan", iterations=35000,
                      eval_pairs=995),
        published=dict(gen1_vs_real1=0.7345, gen1_vs_real2=0.7756, gen2_vs_real1=0.7402, gen2_vs_real2=0.7169,
                       real1_vs_real2=0.7013),
        source="Table 3.6 (rows Gen. apples / oranges, columns Real apples / oranges); baseline sec. 5.4 (line 1160)",
        pairs=995,
        notes="Sec. 3.3.2 (line 758): Tables A.1/A.2, 35k iterations, DCGAN settings. Pairs: sec. 5.4's 995 "
              "for apple2orange (line 1160). " + _CH3_INIT),
    Experiment(
        name="cogan_horse2zebra_128_wgangp",
        description="CoGAN, horse2zebra at 128x128 with WGAN-GP (Gulrajani settings), 25k iterations",
        reproduces="Table 3.7, Fig. 3.6b",
        settings=dict(gan_type="cogan", cogan_data="horse2zebra", image_size=128, arch="cogan128",
                      shared_layers_g=5, shared_layers_d=7, w_init="normal", preset="wgan-gp", iterations=25000,
                      eval_pairs=1000),
        published=dict(gen1_vs_real1=0.6676, gen1_vs_real2=0.7472, gen2_vs_real1=0.7101, gen2_vs_real2=0.6824,
                       real1_vs_real2=0.7062),
        source="Table 3.7 (rows Gen. horses / zebras, columns Real horses / zebras); baseline sec. 5.4 (line 1160)",
        pairs=1000,
        notes="Sec. 3.3.2 (line 778): WGAN-GP with LayerNorm in the discriminator and the settings of sec. 2.5, "
              "25k iterations. Pairs: sec. 5.4's 1000 for horse2zebra (line 1160). " + _CH3_WGANGP_INIT),
    Experiment(
        name="cogan_apple2orange_128_wgangp",
        description="CoGAN, apple2orange at 128x128 with WGAN-GP (Gulrajani settings), 25k iterations",
        reproduces="Table 3.8, Fig. 3.7b",
        settings=dict(gan_type="cogan", cogan_data="apple2orange", image_size=128, arch="cogan128",
                      shared_layers_g=5, shared_layers_d=7, w_init="normal", preset="wgan-gp", iterations=25000,
                      eval_pairs=995),
        published=dict(gen1_vs_real1=0.6931, gen1_vs_real2=0.7414, gen2_vs_real1=0.7069, gen2_vs_real2=0.6968,
                       real1_vs_real2=0.7013),
        source="Table 3.8 (rows Gen. apples / oranges, columns Real apples / oranges); baseline sec. 5.4 (line 1160)",
        pairs=995,
        notes="Sec. 3.3.2 (line 778): WGAN-GP with LayerNorm in the discriminator and the settings of sec. 2.5, "
              "25k iterations. Pairs: sec. 5.4's 995 for apple2orange (line 1160). " + _CH3_WGANGP_INIT),
)

# ---------------------------------------------------------------------- sec. 3.3.2: MNIST2SVHN, 4..1 shared layers
_FIG38 = {4: ("a", dict(gen1_vs_gen2=0.3541, real1_vs_real2=0.3304)), 3: ("b", None), 2: ("c", None),
          1: ("d", dict(gen1_vs_gen2=0.3423, real1_vs_real2=0.3304))}
for _n, (_panel, _published) in _FIG38.items():
    _add(Experiment(
        name=f"cogan_mnist2svhn_shared{_n}",
        description=f"CoGAN, MNIST2SVHN, {_n} shared generator layer{'s' if _n > 1 else ''}, DCGAN, 25k iterations",
        reproduces=f"Fig. 3.8{_panel}",
        settings=dict(gan_type="cogan", cogan_data="mnist2svhn_prune", arch="cogan32", shared_layers_g=_n,
                      shared_layers_d=3, preset="dcgan", iterations=25000, eval_pairs=50000),
        published=_published,
        source=(f"sec. 3.3.2 text (line 818): gen-vs-gen for {_n} shared layer{'s' if _n > 1 else ''}; "
                f"baseline sec. 5.2 (line 1050)") if _published else "",
        pairs=50000 if _published else None,
        notes="Sec. 3.3.2 (line 784): Tables 3.1/3.2, DCGAN settings, 25k iterations, 4, 3, 2, 1 shared "
              "generator layers (figure a to d, line 804); the discriminators keep Table 3.2's 3 shared layers "
              "(the text varies the generators only). The text gives LPIPS only for 4 and 1 shared layers, on "
              "50,000 pairs. " + _PRUNE))
del _n, _panel, _published

_add(
    # ------------------------------------------------------------------ sec. 4.1: weight difference, FR on MNIST2edge
    Experiment(
        name="scogan_mnist2edge_fr_4k",
        description="SCoGAN-FR (alpha 10, K 3), MNIST2edge, DCGAN non-saturating, 4k iterations, weight drift",
        reproduces="Fig. 4.1 (SCoGAN-FR curve), Fig. 4.2b",
        settings=dict(gan_type="scogan", cogan_data="mnist2edge", arch="cogan32", shared_layers_g=0,
                      shared_layers_d=0, preset="dcgan", loss="nonsat", feature_regulariser=True, fr_weight=10.0,
                      fr_layers=3, iterations=4000, log_weight_difference=True),
        notes="Sec. 4.1 (lines 871-875): Tables 3.1/3.2 without shared layers, DCGAN settings, alpha 10, "
              "non-saturating loss, K 3, 4000 iterations; the same run gives Fig. 4.2b's samples."),
    Experiment(
        name="cogan_mnist2edge_4k",
        description="CoGAN, MNIST2edge, DCGAN non-saturating, 4k iterations, weight drift (Fig. 4.1's reference)",
        reproduces="Fig. 4.1 (CoGAN curve)",
        settings=dict(gan_type="cogan", cogan_data="mnist2edge", arch="cogan32", shared_layers_g=4,
                      shared_layers_d=3, preset="dcgan", loss="nonsat", iterations=4000,
                      log_weight_difference=True),
        notes="Sec. 4.1 (line 871): the CoGAN compared with SCoGAN-FR, same settings and 4000 iterations; its "
              "shared layers contribute no drift."),
    Experiment(
        name="scogan_mnist2edge_noterms_4k",
        description="SCoGAN without coupling terms (two independent GANs on one z), MNIST2edge, 4k iterations",
        reproduces="Fig. 4.2a",
        settings=dict(gan_type="scogan", cogan_data="mnist2edge", arch="cogan32", shared_layers_g=0,
                      shared_layers_d=0, preset="dcgan", loss="nonsat", iterations=4000),
        notes="Sec. 4.1 (lines 873-875): the baseline SCoGAN with no regularising term, same configuration as the "
              "weight-difference experiment; it should learn only the marginals."),

    # ------------------------------------------------------------------ sec. 4.1: FR on MNIST2SVHN
    Experiment(
        name="scogan_mnist2svhn_fr_a10_nonsat",
        description="SCoGAN-FR alpha 10, K 3, MNIST2SVHN, non-saturating loss, 20k iterations (fails)",
        reproduces="Fig. 4.3a",
        settings=dict(gan_type="scogan", cogan_data="mnist2svhn_prune", arch="cogan32", shared_layers_g=0,
                      shared_layers_d=0, preset="dcgan", loss="nonsat", feature_regulariser=True, fr_weight=10.0,
                      fr_layers=3, iterations=20000),
        notes="Sec. 4.1 (line 882): the MNIST2edge configuration (DCGAN settings, non-saturating loss, K 3) for "
              "20000 iterations. " + _PRUNE),
    Experiment(
        name="scogan_mnist2svhn_fr_a100_nonsat",
        description="SCoGAN-FR alpha 100, K 3, MNIST2SVHN, non-saturating loss, 20k iterations (unstable D)",
        reproduces="Fig. 4.3b",
        settings=dict(gan_type="scogan", cogan_data="mnist2svhn_prune", arch="cogan32", shared_layers_g=0,
                      shared_layers_d=0, preset="dcgan", loss="nonsat", feature_regulariser=True, fr_weight=100.0,
                      fr_layers=3, iterations=20000),
        notes="Sec. 4.1 (lines 882-884): as Fig. 4.3a with alpha 100. " + _PRUNE),
    Experiment(
        name="scogan_mnist2svhn_fr_a100_wgangp",
        description="SCoGAN-FR alpha 100, K 3, MNIST2SVHN, WGAN-GP (lambda 10, 5 critic steps), 20k iterations",
        reproduces="Fig. 4.4a",
        settings=dict(gan_type="scogan", cogan_data="mnist2svhn_prune", arch="cogan32", shared_layers_g=0,
                      shared_layers_d=0, preset="thesis", feature_regulariser=True, fr_weight=100.0, fr_layers=3,
                      iterations=20000),
        notes="Sec. 4.1 (lines 886-896): WGAN loss with gradient penalty lambda 10 and 5 discriminator updates, "
              "'the same architecture and hyperparameter configuration as previously'; alpha is read as the 100 "
              "of Fig. 4.3b (the text then wants to 'increase the weight even further'). " + _PRUNE),
    Experiment(
        name="scogan_mnist2svhn_fr_a100_k2_wgangp",
        description="SCoGAN-FR alpha 100, K 2, MNIST2SVHN, WGAN-GP, 20k iterations (no correlation)",
        reproduces="Fig. 4.4b",
        settings=dict(gan_type="scogan", cogan_data="mnist2svhn_prune", arch="cogan32", shared_layers_g=0,
                      shared_layers_d=0, preset="thesis", feature_regulariser=True, fr_weight=100.0, fr_layers=2,
                      iterations=20000),
        notes="Sec. 4.1 (line 896): Fig. 4.4a with K reduced from 3 to 2 (with fr_maps thesis: the 8x8 and 16x16 "
              "maps). " + _PRUNE),

    # ------------------------------------------------------------------ sec. 5.1: MNIST2edge, Table 5.1
    Experiment(
        name="cogan_mnist2edge_table51",
        description="CoGAN with sec. 5.1's settings (WGAN-GP), MNIST2edge, 20k iterations",
        reproduces="Table 5.1, column CoGAN; Fig. 5.1",
        settings=dict(gan_type="cogan", cogan_data="mnist2edge", arch="cogan32", shared_layers_g=4,
                      shared_layers_d=3, preset="thesis", iterations=20000, eval_pairs=30000),
        published=dict(gen1_vs_gen2=0.1026, gen1_vs_real1=0.1157, gen2_vs_real2=0.1157, real1_vs_real2=0.1627),
        source="Table 5.1, column CoGAN; baseline sec. 5.1 (line 998)",
        pairs=30000,
        notes="Sec. 5.1 (lines 996-998): Xavier init, z of 100 uniform in [-1, 1], WGAN-GP lambda 10, 20000 "
              "iterations, 30,000 pairs. " + _CH5_COGAN + " " + _WD_51),
    Experiment(
        name="scogan_mnist2edge_fr",
        description="SCoGAN-FR (alpha 10, K 3), MNIST2edge, sec. 5.1 settings (WGAN-GP), 20k iterations",
        reproduces="Table 5.1, column FR",
        settings=dict(gan_type="scogan", cogan_data="mnist2edge", arch="cogan32", shared_layers_g=0,
                      shared_layers_d=0, preset="thesis", feature_regulariser=True, fr_weight=10.0, fr_layers=3,
                      iterations=20000, eval_pairs=30000),
        published=dict(gen1_vs_gen2=0.1227, gen1_vs_real1=0.1217, gen2_vs_real2=0.1429, real1_vs_real2=0.1627),
        source="Table 5.1, column FR; baseline sec. 5.1 (line 998)",
        pairs=30000,
        notes="Sec. 5.1 has no FR subsection: it points to chapter 4 (line 994), whose MNIST2edge FR ran 4000 "
              "non-saturating iterations (scogan_mnist2edge_fr_4k). The column is read as trained with the "
              "section's settings ('all models ... WGAN-GP ... 20.000 iterations', line 996) and chapter 4's "
              "only MNIST2edge weights, alpha 10, K 3. Its edge row (0.1429) is the table's worst, although the "
              "summary says all approaches reach similarly low gen-vs-real scores. " + _WD_51),
    Experiment(
        name="scogan_mnist2edge_sl",
        description="SCoGAN-SL (alpha 10, MNIST classifier), MNIST2edge, sec. 5.1 settings, 20k iterations",
        reproduces="Table 5.1, column SL; Fig. 5.2a",
        settings=dict(gan_type="scogan", cogan_data="mnist2edge", arch="cogan32", shared_layers_g=0,
                      shared_layers_d=0, preset="thesis", semantic_loss=True, sl_weight=10.0, iterations=20000,
                      eval_pairs=30000),
        published=dict(gen1_vs_gen2=0.1039, gen1_vs_real1=0.1141, gen2_vs_real2=0.1100, real1_vs_real2=0.1627),
        source="Table 5.1, column SL; baseline sec. 5.1 (line 998)",
        pairs=30000,
        notes="Sec. 5.1 (line 1020): Table B.1 classifier trained on standard MNIST (as the thesis, ~98 %; "
              "auto-trained and cached without --classifier_path), alpha_SL 10. " + _WD_51),
    Experiment(
        name="scogan_mnist2edge_cc",
        description="SCoGAN-CC (alpha 10), MNIST2edge, sec. 5.1 settings, 20k iterations",
        reproduces="Table 5.1, column CC; Fig. 5.2b",
        settings=dict(gan_type="scogan", cogan_data="mnist2edge", arch="cogan32", shared_layers_g=0,
                      shared_layers_d=0, preset="thesis", cycle_consistency=True, cc_weight=10.0,
                      iterations=20000, eval_pairs=30000),
        published=dict(gen1_vs_gen2=0.1092, gen1_vs_real1=0.1148, gen2_vs_real2=0.1092, real1_vs_real2=0.1627),
        source="Table 5.1, column CC; baseline sec. 5.1 (line 998)",
        pairs=30000,
        notes="Sec. 5.1 (line 1024): only cycle consistency, weight 10. " + _WD_51),
    Experiment(
        name="scogan_mnist2edge_pl",
        description="SCoGAN-PL (VGG19, alpha 0.001, beta 1e-11), MNIST2edge, sec. 5.1 settings, 20k iterations",
        reproduces="Table 5.1, column PL; Fig. 5.2c",
        settings=dict(gan_type="scogan", cogan_data="mnist2edge", arch="cogan32", shared_layers_g=0,
                      shared_layers_d=0, preset="thesis", perceptual_loss=True, pl_content_weight=0.001,
                      pl_style_weight=1e-11, iterations=20000, eval_pairs=30000),
        published=dict(gen1_vs_gen2=0.1019, gen1_vs_real1=0.1110, gen2_vs_real2=0.1064, real1_vs_real2=0.1627),
        source="Table 5.1, column PL; baseline sec. 5.1 (line 998)",
        pairs=30000,
        notes="Sec. 5.1 (line 1036) gives no PL weights: chapter 5's. " + _PL + " " + _WD_51),

    # ------------------------------------------------------------------ sec. 5.2: MNIST2SVHN, Table 5.2 (+ Table 7.1)
    Experiment(
        name="cogan_mnist2svhn_table52",
        description="CoGAN with sec. 5.1's settings (WGAN-GP), MNIST2SVHN, 25k iterations",
        reproduces="Table 5.2, column CoGAN",
        settings=dict(gan_type="cogan", cogan_data="mnist2svhn_prune", arch="cogan32", shared_layers_g=4,
                      shared_layers_d=3, preset="thesis", iterations=25000, eval_pairs=50000),
        published=dict(gen1_vs_gen2=0.3400, gen1_vs_real1=0.1126, gen2_vs_real2=0.2151, real1_vs_real2=0.3304),
        source="Table 5.2, column CoGAN; baseline sec. 5.2 (line 1050)",
        pairs=50000,
        notes="Sec. 5.2 (line 1048): sec. 5.1's architecture, loss and settings, 25000 iterations, 50,000 pairs. "
              + _CH5_COGAN + " (gen-vs-gen 0.3400 vs chapter 3's 0.3541 / 0.3423, line 818). " + _PRUNE + " "
              + _WD_52),
    Experiment(
        name="scogan_mnist2svhn_fr",
        description="SCoGAN-FR (alpha 100, K 3), MNIST2SVHN, WGAN-GP, 25k iterations",
        reproduces="Table 5.2, column FR",
        settings=dict(gan_type="scogan", cogan_data="mnist2svhn_prune", arch="cogan32", shared_layers_g=0,
                      shared_layers_d=0, preset="thesis", feature_regulariser=True, fr_weight=100.0, fr_layers=3,
                      iterations=25000, eval_pairs=50000),
        published=dict(gen1_vs_gen2=0.2434, gen1_vs_real1=0.1194, gen2_vs_real2=0.1941, real1_vs_real2=0.3304),
        source="Table 5.2, column FR; baseline sec. 5.2 (line 1050)",
        pairs=50000,
        notes="Sec. 5.2 trains no FR model of its own; it describes its FR as producing 'MNIST images with SVHN "
              "styling' (line 1050), which is Fig. 4.4a's model (line 896). The column is read as that "
              "configuration (WGAN-GP, alpha 100, K 3) under sec. 5.2's 25000 iterations; "
              "scogan_mnist2svhn_fr_a100_wgangp is the same model at chapter 4's 20000. " + _PRUNE + " "
              + _WD_52),
    Experiment(
        name="scogan_mnist2svhn_sl",
        description="SCoGAN-SL (alpha 10, MNIST+SVHN classifier), MNIST2SVHN, WGAN-GP, 25k iterations",
        reproduces="Table 7.1, column SL; Fig. 7.2",
        settings=dict(gan_type="scogan", cogan_data="mnist2svhn_prune", arch="cogan32", shared_layers_g=0,
                      shared_layers_d=0, preset="thesis", semantic_loss=True, sl_weight=10.0, iterations=25000,
                      eval_pairs=50000),
        published=dict(gen1_vs_gen2=0.3018, gen1_vs_real1=0.1140, gen2_vs_real2=0.2053, real1_vs_real2=0.3304),
        source="Table 7.1, column SL; baseline sec. 5.2 (line 1050)",
        pairs=50000,
        notes="Sec. 7.5 (line 1769): sec. 5.2's configuration with alpha_SL 10. " + _PRUNE + " " + _WD_52),
    Experiment(
        name="scogan_mnist2svhn_slfr",
        description="SCoGAN-SLFR (SL 10, FR 100, K 3), MNIST2SVHN, WGAN-GP, 25k iterations",
        reproduces="Table 5.2, column SLFR; Figs. 5.3, 5.4a",
        settings=dict(gan_type="scogan", cogan_data="mnist2svhn_prune", arch="cogan32", shared_layers_g=0,
                      shared_layers_d=0, preset="thesis", semantic_loss=True, sl_weight=10.0,
                      feature_regulariser=True, fr_weight=100.0, fr_layers=3, iterations=25000, eval_pairs=50000),
        published=dict(gen1_vs_gen2=0.3016, gen1_vs_real1=0.1162, gen2_vs_real2=0.2046, real1_vs_real2=0.3304),
        source="Table 5.2, column SLFR; baseline sec. 5.2 (line 1050)",
        pairs=50000,
        notes="Sec. 5.2 (line 1069): alpha_SL 10, alpha_FR 100, MNIST+SVHN classifier (Table B.1, ~92 %); K is "
              "not stated: sec. 4.1's 3. " + _PRUNE + " " + _WD_52),
    Experiment(
        name="scogan_mnist2svhn_slcc",
        description="SCoGAN-SLCC (SL 10, CC 10), MNIST2SVHN, WGAN-GP, 25k iterations",
        reproduces="Table 5.2, column SLCC; Fig. 5.4b",
        settings=dict(gan_type="scogan", cogan_data="mnist2svhn_prune", arch="cogan32", shared_layers_g=0,
                      shared_layers_d=0, preset="thesis", semantic_loss=True, sl_weight=10.0,
                      cycle_consistency=True, cc_weight=10.0, iterations=25000, eval_pairs=50000),
        published=dict(gen1_vs_gen2=0.3093, gen1_vs_real1=0.1153, gen2_vs_real2=0.2083, real1_vs_real2=0.3304),
        source="Table 5.2, column SLCC; baseline sec. 5.2 (line 1050)",
        pairs=50000,
        notes="Sec. 5.2 (line 1082): alpha_CC 10, alpha_SL 10. " + _PRUNE + " " + _WD_52),
    Experiment(
        name="scogan_mnist2svhn_frcc",
        description="SCoGAN-FRCC (FR 100, K 3, CC 10), MNIST2SVHN, WGAN-GP, 25k iterations",
        reproduces="Table 5.2, column FRCC; Fig. 5.5a",
        settings=dict(gan_type="scogan", cogan_data="mnist2svhn_prune", arch="cogan32", shared_layers_g=0,
                      shared_layers_d=0, preset="thesis", feature_regulariser=True, fr_weight=100.0, fr_layers=3,
                      cycle_consistency=True, cc_weight=10.0, iterations=25000, eval_pairs=50000),
        published=dict(gen1_vs_gen2=0.3022, gen1_vs_real1=0.1146, gen2_vs_real2=0.2094, real1_vs_real2=0.3304),
        source="Table 5.2, column FRCC; baseline sec. 5.2 (line 1050)",
        pairs=50000,
        notes="Sec. 5.2 (line 1086): alpha_FR 100, alpha_CC 10; K not stated: 3. Its LPIPS looks as good as the "
              "others but the samples show no joint distribution (the text's own caution). " + _PRUNE + " "
              + _WD_52),
    Experiment(
        name="scogan_mnist2svhn_pl",
        description="SCoGAN-PL (VGG19, alpha 0.001, beta 1e-11), MNIST2SVHN, WGAN-GP, 25k iterations",
        reproduces="Table 5.2, column PL; Fig. 5.5b",
        settings=dict(gan_type="scogan", cogan_data="mnist2svhn_prune", arch="cogan32", shared_layers_g=0,
                      shared_layers_d=0, preset="thesis", perceptual_loss=True, pl_content_weight=0.001,
                      pl_style_weight=1e-11, iterations=25000, eval_pairs=50000),
        published=dict(gen1_vs_gen2=0.2948, gen1_vs_real1=0.1120, gen2_vs_real2=0.2117, real1_vs_real2=0.3304),
        source="Table 5.2, column PL; baseline sec. 5.2 (line 1050)",
        pairs=50000,
        notes="Sec. 5.2 (line 1092). " + _PL + " " + _PRUNE + " " + _WD_52),

    # ------------------------------------------------------------------ sec. 5.3: CelebA, Table 5.3
    Experiment(
        name="cogan_celeba_smiling_table53",
        description="CoGAN with sec. 5.3's settings (WGAN-GP Gulrajani, N(0,0.02)), CelebSmiling, 35k iterations",
        reproduces="Table 5.3, column CoGAN",
        settings=dict(gan_type="cogan", cogan_data="celeba_Smiling", arch="cogan128", shared_layers_g=5,
                      shared_layers_d=7, w_init="normal", preset="wgan-gp", iterations=35000, eval_pairs=50000),
        published=dict(gen1_vs_gen2=0.0433, gen1_vs_real1=0.3877, gen2_vs_real2=0.3923, real1_vs_real2=0.3955),
        source="Table 5.3, column CoGAN (Smile = our domain 1, No-smile = domain 2); baseline sec. 5.3 (line 1109)",
        pairs=50000,
        notes="Sec. 5.3 (lines 1103-1109). " + _CH5_COGAN + " The alternative reading is Fig. 3.4's DCGAN run "
              "(cogan_celeba_smiling). " + _CELEBA_DOMAINS + " " + _NORMAL + " " + _WD_53),
    Experiment(
        name="scogan_celeba_smiling_slfr",
        description="SCoGAN-SLFR (SL 10, FR 100, K 3), CelebSmiling 128x128, WGAN-GP Gulrajani, 35k iterations",
        reproduces="Table 5.3, column SLFR; Figs. 5.6, 5.7a",
        settings=dict(gan_type="scogan", cogan_data="celeba_Smiling", arch="cogan128", shared_layers_g=0,
                      shared_layers_d=0, w_init="normal", preset="wgan-gp", semantic_loss=True, sl_weight=10.0,
                      feature_regulariser=True, fr_weight=100.0, fr_layers=3, iterations=35000, eval_pairs=50000),
        published=dict(gen1_vs_gen2=0.1294, gen1_vs_real1=0.3921, gen2_vs_real2=0.3875, real1_vs_real2=0.3955),
        source="Table 5.3, column SLFR (Smile = our domain 1, No-smile = domain 2); baseline sec. 5.3 (line 1109)",
        pairs=50000,
        notes="Sec. 5.3 (lines 1103, 1132): Tables A.1/A.2 unshared, 13-attribute classifier (Table B.2), "
              "alpha_SL 10, alpha_FR 100; K not stated: 3. " + _CELEBA_DOMAINS + " " + _NORMAL + " " + _WD_53),
    Experiment(
        name="scogan_celeba_smiling_slcc",
        description="SCoGAN-SLCC (SL 10, CC 10), CelebSmiling 128x128, WGAN-GP Gulrajani, 35k iterations",
        reproduces="Table 5.3, column SLCC; Fig. 5.7b",
        settings=dict(gan_type="scogan", cogan_data="celeba_Smiling", arch="cogan128", shared_layers_g=0,
                      shared_layers_d=0, w_init="normal", preset="wgan-gp", semantic_loss=True, sl_weight=10.0,
                      cycle_consistency=True, cc_weight=10.0, iterations=35000, eval_pairs=50000),
        published=dict(gen1_vs_gen2=0.1708, gen1_vs_real1=0.3881, gen2_vs_real2=0.3879, real1_vs_real2=0.3955),
        source="Table 5.3, column SLCC (Smile = our domain 1, No-smile = domain 2); baseline sec. 5.3 (line 1109)",
        pairs=50000,
        notes="Sec. 5.3 (line 1143): alpha_SL 10, alpha_CC 10. " + _CELEBA_DOMAINS + " " + _NORMAL + " " + _WD_53),
    Experiment(
        name="scogan_celeba_smiling_pl",
        description="SCoGAN-PL (alpha 0.001, beta 1e-11), CelebSmiling 128x128, WGAN-GP Gulrajani, 35k iterations",
        reproduces="Table 5.3, column PL; Fig. 5.8a",
        settings=dict(gan_type="scogan", cogan_data="celeba_Smiling", arch="cogan128", shared_layers_g=0,
                      shared_layers_d=0, w_init="normal", preset="wgan-gp", perceptual_loss=True,
                      pl_content_weight=0.001, pl_style_weight=1e-11, iterations=35000, eval_pairs=50000),
        published=dict(gen1_vs_gen2=0.0857, gen1_vs_real1=0.3962, gen2_vs_real2=0.3907, real1_vs_real2=0.3955),
        source="Table 5.3, column PL (Smile = our domain 1, No-smile = domain 2); baseline sec. 5.3 (line 1109)",
        pairs=50000,
        notes="Sec. 5.3 (line 1147). " + _PL + " " + _CELEBA_DOMAINS + " " + _NORMAL + " " + _WD_53),
    Experiment(
        name="scogan_celeba_blond_pl",
        description="SCoGAN-PL, CelebBlond 128x128, WGAN-GP Gulrajani, 35k iterations (samples only)",
        reproduces="Fig. 5.8b",
        settings=dict(gan_type="scogan", cogan_data="celeba_Blond_Hair", arch="cogan128", shared_layers_g=0,
                      shared_layers_d=0, w_init="normal", preset="wgan-gp", perceptual_loss=True,
                      pl_content_weight=0.001, pl_style_weight=1e-11, iterations=35000),
        notes="Sec. 5.3 (lines 1147-1149): PL on all three CelebA variants; LPIPS is reported for CelebSmiling "
              "only. " + _PL + " " + _NORMAL + " " + _WD_53),
    Experiment(
        name="scogan_celeba_eyeglasses_pl",
        description="SCoGAN-PL, CelebEyeglasses 128x128, WGAN-GP Gulrajani, 35k iterations (samples only)",
        reproduces="Fig. 5.8c",
        settings=dict(gan_type="scogan", cogan_data="celeba_Eyeglasses", arch="cogan128", shared_layers_g=0,
                      shared_layers_d=0, w_init="normal", preset="wgan-gp", perceptual_loss=True,
                      pl_content_weight=0.001, pl_style_weight=1e-11, iterations=35000),
        notes="Sec. 5.3 (lines 1147-1149): PL on all three CelebA variants; LPIPS is reported for CelebSmiling "
              "only. " + _PL + " " + _NORMAL + " " + _WD_53),

    # ------------------------------------------------------------------ sec. 5.4: CycleGAN sets at 128, Table 5.4
    Experiment(
        name="cogan_apple2orange_table54",
        description="CoGAN with sec. 5.4's settings (WGAN-GP Gulrajani), apple2orange 128x128, 20k iterations",
        reproduces="Table 5.4, column CoGAN(a2o)",
        settings=dict(gan_type="cogan", cogan_data="apple2orange", image_size=128, arch="cogan128",
                      shared_layers_g=5, shared_layers_d=7, w_init="normal", preset="wgan-gp", iterations=20000,
                      eval_pairs=995),
        published=dict(gen1_vs_gen2=0.6081, gen1_vs_real1=0.6939, gen2_vs_real2=0.7021, real1_vs_real2=0.7013),
        source="Table 5.4, column CoGAN(a2o) (Domain1 = apples); baseline sec. 5.4 (line 1160)",
        pairs=995,
        notes="Sec. 5.4 (line 1160): resized to 128x128, sec. 5.3's architecture and settings, 20000 iterations, "
              "995 pairs. " + _CH5_COGAN + " " + _NORMAL + " " + _WD_54),
    Experiment(
        name="scogan_apple2orange_pl",
        description="SCoGAN-PL, apple2orange 128x128, WGAN-GP Gulrajani, 20k iterations",
        reproduces="Table 5.4, column PL(a2o); Figs. 5.9b, 5.11",
        settings=dict(gan_type="scogan", cogan_data="apple2orange", image_size=128, arch="cogan128",
                      shared_layers_g=0, shared_layers_d=0, w_init="normal", preset="wgan-gp", perceptual_loss=True,
                      pl_content_weight=0.001, pl_style_weight=1e-11, iterations=20000, eval_pairs=995),
        published=dict(gen1_vs_gen2=0.5774, gen1_vs_real1=0.7361, gen2_vs_real2=0.7339, real1_vs_real2=0.7013),
        source="Table 5.4, column PL(a2o) (Domain1 = apples); baseline sec. 5.4 (line 1160)",
        pairs=995,
        notes="Sec. 5.4 (line 1160). " + _PL + " " + _NORMAL + " " + _WD_54),
    Experiment(
        name="cogan_horse2zebra_table54",
        description="CoGAN with sec. 5.4's settings (WGAN-GP Gulrajani), horse2zebra 128x128, 20k iterations",
        reproduces="Table 5.4, column CoGAN(h2z)",
        settings=dict(gan_type="cogan", cogan_data="horse2zebra", image_size=128, arch="cogan128",
                      shared_layers_g=5, shared_layers_d=7, w_init="normal", preset="wgan-gp", iterations=20000,
                      eval_pairs=1000),
        published=dict(gen1_vs_gen2=0.6238, gen1_vs_real1=0.6691, gen2_vs_real2=0.6844, real1_vs_real2=0.7062),
        source="Table 5.4, column CoGAN(h2z) (Domain1 = horses); baseline sec. 5.4 (line 1160)",
        pairs=1000,
        notes="Sec. 5.4 (line 1160): resized to 128x128, sec. 5.3's architecture and settings, 20000 iterations, "
              "1000 pairs. " + _CH5_COGAN + " " + _NORMAL + " " + _WD_54),
    Experiment(
        name="scogan_horse2zebra_pl",
        description="SCoGAN-PL, horse2zebra 128x128, WGAN-GP Gulrajani, 20k iterations",
        reproduces="Table 5.4, column PL(h2z); Figs. 5.9a, 5.10",
        settings=dict(gan_type="scogan", cogan_data="horse2zebra", image_size=128, arch="cogan128",
                      shared_layers_g=0, shared_layers_d=0, w_init="normal", preset="wgan-gp", perceptual_loss=True,
                      pl_content_weight=0.001, pl_style_weight=1e-11, iterations=20000, eval_pairs=1000),
        published=dict(gen1_vs_gen2=0.6163, gen1_vs_real1=0.6715, gen2_vs_real2=0.6900, real1_vs_real2=0.7062),
        source="Table 5.4, column PL(h2z) (Domain1 = horses); baseline sec. 5.4 (line 1160)",
        pairs=1000,
        notes="Sec. 5.4 (line 1160). " + _PL + " " + _NORMAL + " " + _WD_54),
)



# ---------------------------------------------------------------------------------------------- baselines
# The translation models the thesis's models are compared with (issue 20 item 8, decided there): one experiment per
# baseline and data family of the thesis (MNIST2edge, MNIST2SVHN, CelebA Smiling, apple2orange, horse2zebra at
# Table 5.4's 128 px). pix2pix needs pairs, so it has MNIST2edge only. Length: CycleGAN on its own sets follows
# the official schedule; everything else (no official schedule for that data) takes the thesis's iteration count
# for the family. No published numbers and no eval_pairs: --evaluate of a translation run scores the held-out
# split (README, Evaluation, "Translation runs").
BASELINE_TYPES = ("pix2pix", "cyclegan", "unit")
# The official schedule (junyanz/pytorch-CycleGAN-and-pix2pix options: --n_epochs 100 --n_epochs_decay 100, batch
# 1; data/unaligned_dataset.py: an epoch is max(|A|, |B|) images).
CYCLEGAN_EPOCHS = (100, 100)
# (trainA, trainB) training images of tfds cycle_gan 4.9's sets (data_sources.specs loads these splits);
# togheppi/CycleGAN's README lists the same counts (1,067 / 1,334 and 995 / 1,019, its A and B named the other way).
CYCLEGAN_TRAIN_IMAGES = {"horse2zebra": (1067, 1334), "apple2orange": (995, 1019)}
# The thesis's iteration count per family: sec. 5.1 (line 996), sec. 5.2 (line 1048), sec. 5.3 (Fig. 3.3's 35k,
# line 722, as cogan_celeba_smiling_table53), sec. 5.4 (line 1160).
THESIS_ITERATIONS = {"mnist2edge": 20000, "mnist2svhn_prune": 25000, "celeba_Smiling": 35000,
                     "apple2orange": 20000, "horse2zebra": 20000}
# data -> (experiment suffix, the table the baseline stands beside, image size, the family's sentence).
_FAMILIES = {
    "mnist2edge": ("mnist2edge", "Table 5.1", 32, "MNIST2edge at 32 px; the thesis's count for the family is 20,000 "
                   "iterations (sec. 5.1, line 996, as Table 5.1's runs)."),
    "mnist2svhn_prune": ("mnist2svhn", "Table 5.2", 32, "MNIST2SVHN at 32 px; the thesis's count for the family is "
                         "25,000 iterations (sec. 5.2, line 1048, as Table 5.2's runs)."),
    "celeba_Smiling": ("celeba_smiling", "Table 5.3", 128, "CelebA Smiling at 128 px; the thesis's count for the "
                       "family is 35,000 iterations (sec. 5.3, as Table 5.3's runs). " + _CELEBA_DOMAINS),
    "apple2orange": ("apple2orange", "Table 5.4", 128, "apple2orange resized to 128 px as Table 5.4 (sec. 5.4, "
                     "line 1160); domain 1 = apples."),
    "horse2zebra": ("horse2zebra", "Table 5.4", 128, "horse2zebra resized to 128 px as Table 5.4 (sec. 5.4, line "
                    "1160); domain 1 = horses."),
}
_BUDGET = "The budget is in iterations at {batch}, not in the thesis's images seen."
_UNPAIRED = ("pix2pix has no experiment on mnist2svhn, CelebA or the CycleGAN sets: their two domains hold "
             "different images, so there are no pairs.")


def _data(data):
    """The note's data sentence: the set's name (mnist2svhn_prune: how it is pruned)."""
    return _PRUNE if data == "mnist2svhn_prune" else f"Data: {data}."


def cyclegan_official_iterations(data):
    """CycleGAN's official length on its own set in iterations at batch 1: (100 + 100) epochs of max(|A|, |B|)."""
    return sum(CYCLEGAN_EPOCHS) * max(CYCLEGAN_TRAIN_IMAGES[data])


def _pix2pix(data):
    suffix, table, size, family = _FAMILIES[data]
    return Experiment(
        name=f"pix2pix_{suffix}",
        description=f"pix2pix baseline (paired, U-Net + PatchGAN), {suffix} {size} px, "
                    f"{THESIS_ITERATIONS[data]:,} iterations at batch 1",
        reproduces=f"baseline for {table} (issue 20)",
        settings=dict(gan_type="pix2pix", cogan_data=data, image_size=size, direction="AtoB", preset="pix2pix",
                      iterations=THESIS_ITERATIONS[data]),
        notes="Baseline decided in issue 20 (item 8): pix2pix (Isola et al. 2017) on the pairs (x, edge(x)) of one "
              "MNIST image, held-out split of data.load_paired, direction AtoB (MNIST to edges); U-Net of depth "
              f"{size.bit_length() - 1}, 70x70 PatchGAN on concat(x, y), L1 weight 100, Adam 2e-4 (0.5, 0.999), "
              "batch 1 (the pix2pix preset, the official defaults). " + _data(data) + " " + family + " "
              # as CycleGAN's note says (review 10 B4): what the data does not take from the official training
              + "Not as the official training: no jitter (load at 286, random crop to 256) and no horizontal flip "
              "of the pairs. " + _BUDGET.format(batch="batch 1") + " " + _UNPAIRED)


def _cyclegan(data):
    suffix, table, size, family = _FAMILIES[data]
    official = data in CYCLEGAN_TRAIN_IMAGES
    iterations = cyclegan_official_iterations(data) if official else THESIS_ITERATIONS[data]
    if official:
        a, b = CYCLEGAN_TRAIN_IMAGES[data]
        length = (f"Length: CycleGAN's official schedule on its own set, 200 epochs (100 at a constant rate, 100 "
                  f"decaying: here the second half of the iterations) of max({a:,}, {b:,}) = {max(a, b):,} images at "
                  f"batch 1, i.e. {iterations:,} iterations (Table 5.4's 20,000 are the thesis's own budget, not "
                  f"CycleGAN's).")
    else:
        length = ("Length: no official CycleGAN schedule exists for this data, so the family's count of the thesis "
                  "at batch 1, the rate decaying over the second half.")
    # Review 10 B4: what the data and the schedule do not take from the official training (README, CycleGAN).
    unlike = ("Not as the official training: no jitter (load at 286, random crop to 256) and no horizontal flip"
              + (f", images at {size} px instead of 256 (the size of {table})" if official else "")
              + "; the rate decays at every iteration (a ramp), not once per epoch (a staircase).")
    return Experiment(
        name=f"cyclegan_{suffix}",
        description=f"CycleGAN baseline (unpaired, ResNet + PatchGAN, cycle loss), {suffix} {size} px, "
                    f"{iterations:,} iterations at batch 1",
        reproduces=f"baseline for {table} (issue 20)",
        settings=dict(gan_type="cyclegan", cogan_data=data, image_size=size, preset="cyclegan",
                      iterations=iterations),
        notes="Baseline decided in issue 20 (item 8): CycleGAN (Zhu et al. 2017) with the official hyperparameters "
              "(the cyclegan preset: least squares, Adam 2e-4 (0.5, 0.999), batch 1, cycle weight 10, identity weight "
              f"0.5, pool of 50, 6 ResNet blocks at {size} px). {_data(data)} {family} {length} {unlike} "
              + _BUDGET.format(batch="batch 1"))


# UNIT's net by image size (archs.unit_net; trainers/unit.py): the sentence naming it, its sharing and its batch.
_UNIT_NETS = {
    "CoVAE32x32": ("version_02's digit net CoVAE32x32 (cocogan_nets_da.py, its domain-adaptation net, trained "
                   "there with other losses), latent 1x1; encoders sharing all but their first block and generators "
                   "all but their last two (as CoVAE32x32), and its partner CoDis32x32 (conv1 to the logit conv "
                   "shared by D1 and D2)"),
    "COCOResGen": ("version_02's translation net COCOResGen (cocogan_nets.py, cat2tiger.yaml: ch 64, three front, "
                   "three residual and one shared block each side, instance norm), a spatial latent of a quarter of "
                   "the image side with 256 channels, and COCODis"),
}


def _unit_batch(size):
    """(settings, note) of the batch: COCOResGen's official batch_size 1 (cat2tiger.yaml, corgi2husky.yaml); the
    digit net keeps the default (no official batch for translation with it)."""
    if archs.unit_net(size) == "COCOResGen":
        return dict(batch_size=1), "batch 1, the official batch_size of cat2tiger.yaml and corgi2husky.yaml"
    return {}, "batch 128, the default batch, as the unit preset sets none"


# Where version_02 has its own setting for a family's data, not built here (review 11, M3): the sentence saying so.
_UNIT_NOT_OFFICIAL = {
    "celeba_Smiling": (" Not version_02's face setting: its CelebA experiment (exps/unit/blondhair.yaml) trains "
                       "COCOResGen2 (its stride-2 convs and transposed convs LeakyReLU without instance norm) with "
                       "COCOSharedDis (two layers per domain, then four layers and the logit conv shared by D1 and "
                       "D2, 2x2 logits); neither is built, so this run uses the cat2tiger nets of every 128 px set."),
}


def _unit(data):
    suffix, table, size, family = _FAMILIES[data]
    net = archs.unit_net(size)
    batch, batch_note = _unit_batch(size)
    at = "at batch 1" if batch else "at the default batch"
    return Experiment(
        name=f"unit_{suffix}",
        description=f"UNIT baseline (unpaired, shared latent, VAE-GAN; {net}), {suffix} {size} px, "
                    f"{THESIS_ITERATIONS[data]:,} iterations {at}",
        reproduces=f"baseline for {table} (issue 20)",
        settings=dict(gan_type="unit", cogan_data=data, image_size=size, preset="unit",
                      iterations=THESIS_ITERATIONS[data], **batch),
        notes="Baseline decided in issue 20 (item 8): UNIT (Liu et al. 2017) with the paper's UNIT weights "
              "10,0.1,100,0.1,100 (lambda0 to lambda4) and the unit preset (Adam 1e-4 (0.5, 0.999)); networks: "
              f"{_UNIT_NETS[net]}; {batch_note}. {_data(data)} {family} Length: the thesis gives a count for this "
              "family, so that count (not the yaml's max_iterations of 500,000, which is for its own data). "
              + _BUDGET.format(batch="the batch above")
              + " Its same-z pairs fill the coupled runs' LPIPS rows (EXPERIMENTS.md, Baselines); UNIT is not "
              "trained as a prior sampler, so they test the shared latent, not its translations."
              + _UNIT_NOT_OFFICIAL.get(data, ""))


_add(*(_pix2pix(d) for d in ("mnist2edge",)),
     *(_cyclegan(d) for d in _FAMILIES),
     *(_unit(d) for d in _FAMILIES))


def get(name: str) -> Experiment:
    try:
        return EXPERIMENTS[name]
    except KeyError:
        close = difflib.get_close_matches(name, EXPERIMENTS, n=3)
        hint = f" (did you mean {', '.join(close)}?)" if close else " (see --list_experiments)"
        raise ExperimentError(f"unknown --experiment '{name}'{hint}") from None


def list_lines() -> list:
    """One line per experiment: name, what it reproduces, description."""
    width = max((len(n) for n in EXPERIMENTS), default=0)
    return [f"{e.name:<{width}}  {e.reproduces}: {e.description}" for e in EXPERIMENTS.values()]
