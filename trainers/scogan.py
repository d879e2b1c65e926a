"""SCoGAN (thesis ch. 4): two GANs without shared generator layers, coupled softly by regularisers that are
added once to the summed generator objective (so each generator feels weight * dR/dG_i, sec. 6.6):

- FR, feature regulariser (Eq. 4.1)      --feature_regulariser  --fr_weight  --fr_layers
- SL, semantic loss (Eq. 4.2)            --semantic_loss        --sl_weight  --classifier_path (optional: without
  it, main.with_classifier trains the pair's Appendix B classifier once and caches it, trainers/classifier.py)
- CC, latent cycle consistency (Eq. 4.3) --cycle_consistency    --cc_weight  --cc_norm
- PL, perceptual loss (Eq. 4.5)          --perceptual_loss      --pl_content_weight --pl_style_weight --vgg_weights

Every active term is logged weighted (as it enters the objective) in its own losses.csv column. Each regulariser
is one entry of COUPLINGS below.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional

import classifiers
from config import ConfigError
import nets
import regularisers
from optimisers import make_optimizer
from trainers.base import AdversarialTrainer
from trainers.checkpoints import net_variables


@dataclass(frozen=True)
class Coupling:
    """One soft-coupling regulariser: when `enabled(cfg)`, `build(trainer)` makes the nets it needs (once, with
    the GANs) and `terms(trainer, z, fakes, features, reals)` returns its weighted terms {losses.csv column:
    scalar}, added once to the summed generator objective. `trackables(trainer)` / `models(trainer)`: what it
    adds to checkpoints and to models/; `auxiliary(trainer)`: nets it trains on one of its terms (key, optimizer,
    variables)."""
    enabled: Callable
    terms: Callable
    build: Optional[Callable] = None
    trackables: Optional[Callable] = None
    models: Optional[Callable] = None
    auxiliary: Optional[Callable] = None


def _build_sl(t):
    try:
        t.classifier, meta = classifiers.load_classifier(t.cfg.classifier_path)
    except ValueError as e:  # a user's path: one line, exit 2
        raise ConfigError(str(e)) from None
    t.multilabel = bool(meta["multilabel"])


def _build_cc(t):
    t.encoder = classifiers.latent_encoder(t.input_shape, t.cfg.noise_dim, name="F")
    # The encoder has its own optimizer state (generator settings).
    t.enc_opt = make_optimizer(t.cfg.optimizer, t.cfg.g_lr, t.cfg.g_beta1, t.cfg.g_beta2, t.cfg.mixed_precision)
    t.enc_opt.build(t.encoder.trainable_variables)


def _build_pl(t):
    try:
        t.vgg = regularisers.build_vgg19_features(t.cfg.vgg_weights)
    except ValueError as e:
        raise ConfigError(str(e)) from None


def _fr(t, z, fakes, features, reals):
    cfg = t.cfg
    # The maps of the authors' multi-output generators by default (nets.FR_MAPS), the first K of them.
    idx = nets.fr_map_indices(len(features[0]), cfg.fr_maps)[:cfg.fr_layers]
    return {"fr": cfg.fr_weight * regularisers.feature_regulariser(
        [features[0][i] for i in idx], [features[1][i] for i in idx], len(idx), reduce=cfg.fr_norm)}


def _sl(t, z, fakes, features, reals):
    probs = [regularisers.classifier_probabilities(t.classifier(x, training=False), t.multilabel) for x in fakes]
    return {"sl": t.cfg.sl_weight * regularisers.semantic_loss(probs[0], probs[1], form=t.cfg.sl_form)}


def _cc(t, z, fakes, features, reals):
    # Inference mode, as the thesis code called F: its dropout was never active there.
    z_rec = [t.encoder(x, training=False) for x in fakes]
    return {"cc": t.cfg.cc_weight * regularisers.cycle_consistency(z, z_rec[0], z_rec[1], norm=t.cfg.cc_norm)}


def _pl(t, z, fakes, features, reals):
    cfg = t.cfg
    return regularisers.perceptual_terms(t.vgg, fakes, reals, cfg.pl_content_weight, cfg.pl_style_weight,
                                         form=cfg.pl_form)


# The regularisers by name, in the order their columns appear in losses.csv. A new one is an entry here, its
# function in regularisers.py and its options (a switch and a weight) declared in config.Config.
COUPLINGS = {
    "fr": Coupling(enabled=lambda cfg: cfg.feature_regulariser, terms=_fr),                     # Eq. 4.1
    "sl": Coupling(enabled=lambda cfg: cfg.semantic_loss, terms=_sl, build=_build_sl),         # Eq. 4.2
    "cc": Coupling(enabled=lambda cfg: cfg.cycle_consistency, terms=_cc, build=_build_cc,      # Eq. 4.3
                   trackables=lambda t: {**net_variables([t.encoder]), "enc_opt": t.enc_opt},
                   models=lambda t: [t.encoder],
                   # F minimises the reconstruction error (the weighted term: Adam ignores the constant factor).
                   auxiliary=lambda t: [("cc", t.enc_opt, t.encoder.trainable_variables)]),
    "pl": Coupling(enabled=lambda cfg: cfg.perceptual_loss, terms=_pl, build=_build_pl),       # Eq. 4.5
}


class SCoGANTrainer(AdversarialTrainer):
    domains = 2

    def build_nets(self, net_options, input_shape):
        cfg = self.cfg
        g = nets.build_generators(cfg.arch, net_options, domains=2, shared=cfg.shared_layers_g)
        d = nets.build_discriminators(cfg.arch, net_options, input_shape, domains=2, shared=cfg.shared_layers_d)
        self.input_shape = input_shape
        self.couplings = [c for c in COUPLINGS.values() if c.enabled(cfg)]
        for c in self.couplings:
            if c.build is not None:
                c.build(self)
        return g, d

    def trackables(self):
        t = super().trackables()
        for c in self.couplings:
            if c.trackables is not None:
                t.update(c.trackables(self))
        return t

    def models(self):
        return super().models() + [m for c in self.couplings if c.models is not None for m in c.models(self)]

    def auxiliary_objectives(self):
        return [a for c in self.couplings if c.auxiliary is not None for a in c.auxiliary(self)]

    def coupling_terms(self, z, fakes, features, reals):
        terms = {}
        for c in self.couplings:
            terms.update(c.terms(self, z, fakes, features, reals))
        return terms
