"""CoGAN (Liu & Tuzel 2016): two GANs whose generators share their first `--shared_layers_g` layers and
whose discriminators share their last `--shared_layers_d` layers; the same z feeds both generators.
With 0 and 0 it trains two independent GANs on the same noise (the uncoupled baseline)."""
import nets
from trainers.base import AdversarialTrainer


class CoGANTrainer(AdversarialTrainer):
    domains = 2

    def build_nets(self, net_options, input_shape):
        g = nets.build_generators(self.cfg.arch, net_options, domains=2, shared=self.cfg.shared_layers_g)
        d = nets.build_discriminators(self.cfg.arch, net_options, input_shape, domains=2,
                                      shared=self.cfg.shared_layers_d)
        return g, d
