"""A single GAN (`--gan_type gan`): DCGAN-style nets, or the 2-D MLPs of thesis Table 2.1 on the ring of
Gaussians (sec. 2.3.2), for the mode-collapse experiment (k = 1 vs k = 5 critic steps, then WGAN-GP)."""
import nets
from trainers.base import AdversarialTrainer


class GANTrainer(AdversarialTrainer):
    domains = 1

    def build_nets(self, net_options, input_shape):
        g = nets.build_generators(self.cfg.arch, net_options, domains=1)
        d = nets.build_discriminators(self.cfg.arch, net_options, input_shape, domains=1)
        return g, d
