"""A single GAN (`--gan_type gan`): DCGAN-style nets, or the 2-D MLPs of thesis Table 2.1 on the ring of
Gaussians (sec. 2.3.2), for the mode-collapse experiment (k = 1 vs k = 5 critic steps, then WGAN-GP).

z follows `--noise_type` (uniform in [-1, 1], or N(0, 1) as the authors' toy code: trainers.base.StepNoise);
a toy run's sample plots show its own ring (`--toy_ring`, data.TOY_RINGS)."""
import tensorflow as tf

import nets
import run_folder
from trainers.base import AdversarialTrainer, StepNoise


def latent_batch(noise_type, shape, seed):
    """z of shape `shape` for plots, drawn statelessly from `seed` (a pair of ints) with the run's distribution."""
    if noise_type == "normal":
        return tf.random.stateless_normal(shape, seed)
    return tf.random.stateless_uniform(shape, seed, -1.0, 1.0)


class GANTrainer(AdversarialTrainer):
    domains = 1

    def __init__(self, cfg, *args, **kwargs):
        self.noise_source = StepNoise.with_latent(cfg.noise_type)
        super().__init__(cfg, *args, **kwargs)
        if cfg.noise_type == "normal":   # the sample grid of an image run, from the training distribution
            n = cfg.sample_rows * cfg.sample_cols
            self.sample_z = tf.random.Generator.from_seed(cfg.seed + 1).normal([n, cfg.noise_dim])

    def build_nets(self, net_options, input_shape):
        g = nets.build_generators(self.cfg.arch, net_options, domains=1)
        d = nets.build_discriminators(self.cfg.arch, net_options, input_shape, domains=1)
        return g, d

    def save_samples(self, step):
        """A toy run: 1,000 generated points over the centres of the ring it trains on (samples/step_N.png)."""
        if not self.cfg.is_toy:
            return super().save_samples(step)
        import data
        z = latent_batch(self.cfg.noise_type, [1000, self.cfg.noise_dim], [self.cfg.seed + 2, step])
        points = self.generate(z)[0].numpy()
        path = self.run_dir / "samples" / f"step_{step:07d}.png"
        path.parent.mkdir(exist_ok=True)
        ring = data.toy_ring(self.cfg.toy_ring)
        run_folder.save_scatter(path, points, data.ring_modes(ring.modes, ring.radius))
        return None
