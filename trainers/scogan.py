"""SCoGAN (thesis ch. 4): two GANs without shared generator layers, coupled softly by regularisers that are
added once to the summed generator objective (so each generator feels weight * dR/dG_i, sec. 6.6):

- FR, feature regulariser (Eq. 4.1)      --feature_regulariser  --fr_weight  --fr_layers
- SL, semantic loss (Eq. 4.2)            --semantic_loss        --sl_weight  --classifier_path (optional: without
  it, main.load_data trains the pair's Appendix B classifier once and caches it, trainers/classifier.py)
- CC, latent cycle consistency (Eq. 4.3) --cycle_consistency    --cc_weight  --cc_norm
- PL, perceptual loss (Eq. 4.5)          --perceptual_loss      --pl_content_weight --pl_style_weight --vgg_weights

Every active term is logged weighted (as it enters the objective) in its own losses.csv column.
"""
import classifiers
from config import ConfigError
import nets
import regularisers
from trainers.base import AdversarialTrainer, make_optimizer


class SCoGANTrainer(AdversarialTrainer):
    domains = 2

    def build_nets(self, o, input_shape):
        cfg = self.cfg
        g = nets.build_generators(cfg.arch, o, domains=2, shared=cfg.shared_layers_g)
        d = nets.build_discriminators(cfg.arch, o, input_shape, domains=2, shared=cfg.shared_layers_d)
        self.classifier = self.multilabel = None
        if cfg.semantic_loss:
            try:
                self.classifier, meta = classifiers.load_classifier(cfg.classifier_path)
            except ValueError as e:  # a user's path: one line, exit 2
                raise ConfigError(str(e)) from None
            self.multilabel = bool(meta["multilabel"])
        self.encoder = self.enc_opt = None
        if cfg.cycle_consistency:
            self.encoder = classifiers.latent_encoder(input_shape, cfg.noise_dim, name="F")
            # The encoder has its own optimizer state (generator settings).
            self.enc_opt = make_optimizer(cfg.optimizer, cfg.g_lr, cfg.g_beta1, cfg.g_beta2)
            self.enc_opt.build(self.encoder.trainable_variables)
        self.vgg = None
        if cfg.perceptual_loss:
            try:
                self.vgg = regularisers.build_vgg19_features(cfg.vgg_weights)
            except ValueError as e:
                raise ConfigError(str(e)) from None
        return g, d

    def trackables(self):
        t = super().trackables()
        if self.encoder is not None:
            t["vars_F"] = [v.value for v in self.encoder.variables]
            t["enc_opt"] = self.enc_opt
        return t

    def models(self):
        return super().models() + ([self.encoder] if self.encoder is not None else [])

    def auxiliary_objectives(self):
        # F minimises the reconstruction error (the weighted term: Adam ignores the constant factor).
        return [("cc", self.enc_opt, self.encoder.trainable_variables)] if self.encoder is not None else []

    def coupling_terms(self, z, fakes, features, reals):
        cfg = self.cfg
        terms = {}
        if cfg.feature_regulariser:
            # The maps of the authors' multi-output generators by default (nets.FR_MAPS), the first K of them.
            idx = nets.fr_map_indices(len(features[0]), cfg.fr_maps)[:cfg.fr_layers]
            terms["fr"] = cfg.fr_weight * regularisers.feature_regulariser(
                [features[0][i] for i in idx], [features[1][i] for i in idx], len(idx), reduce=cfg.fr_norm)
        if cfg.semantic_loss:
            probs = [regularisers.classifier_probabilities(self.classifier(x, training=False), self.multilabel)
                     for x in fakes]
            terms["sl"] = cfg.sl_weight * regularisers.semantic_loss(probs[0], probs[1], form=cfg.sl_form)
        if cfg.cycle_consistency:
            # Inference mode, as the thesis code called F: its dropout was never active there.
            z_rec = [self.encoder(x, training=False) for x in fakes]
            terms["cc"] = cfg.cc_weight * regularisers.cycle_consistency(z, z_rec[0], z_rec[1], norm=cfg.cc_norm)
        if cfg.perceptual_loss:
            terms.update(regularisers.perceptual_terms(self.vgg, fakes, reals, cfg.pl_content_weight,
                                                       cfg.pl_style_weight, form=cfg.pl_form))
        return terms
