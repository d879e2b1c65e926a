"""The adversarial step shared by every GAN model (the loop around it: trainers/loop.py).

A model subclass says only what differs: how its nets are built (`build_nets`) and what it adds to the
generator objective (`coupling_terms`). The step below is the algorithm box of the thesis: K critic updates,
then one generator update, each with its own optimizer; the whole iteration is one `tf.function`.
"""
from __future__ import annotations

from pathlib import Path

import tensorflow as tf
import keras

import losses
import nets
import run_folder
import penalties
from optimisers import make_optimizer, weight_decay


from trainers.loop import SKIPPED_KEY, TrainingLoop, apply_if_finite


class AdversarialTrainer(TrainingLoop):
    """Trains `domains` GANs side by side on the summed objective.

    Summing the per-domain losses and differentiating w.r.t. the de-duplicated union of variables gives a
    shared variable the sum of both GANs' gradients and one optimizer update per step, as in the original
    CoGAN Caffe code (the thesis prototype applied one update per generator, so shared layers moved twice).
    Coupling terms are added once to the summed objective, so a term of weight a acts on each generator with
    gradient a * dR/dG_i (thesis sec. 6.6).
    """

    domains = 2

    def __init__(self, cfg, info, datasets, run_dir=None):
        self.cfg = cfg
        self.info = info
        self.run_dir = Path(run_dir) if run_dir else None
        self.options = nets.NetOptions(channels=info.shape[-1], noise_dim=cfg.noise_dim, w_init=cfg.w_init,
                                       b_init=cfg.b_init, prelu_init=cfg.prelu_init, d_norm=cfg.d_norm)
        keras.utils.set_random_seed(cfg.seed)
        self.generators, self.discriminators = self.build_nets(self.options, tuple(info.shape))
        # CoGAN: the shared generator blocks run once per forward pass (nets.forward_coupled).
        self.shared_g = nets.shared_prefix(self.generators)
        self.g_vars = nets.unique_variables(self.generators)
        self.d_vars = nets.unique_variables(self.discriminators)
        self.g_opt = make_optimizer(cfg.optimizer, cfg.g_lr, cfg.g_beta1, cfg.g_beta2)
        self.d_opt = make_optimizer(cfg.optimizer, cfg.d_lr, cfg.d_beta1, cfg.d_beta2)
        # Built before any restore, or their slots would not be restored (keras#19389).
        self.g_opt.build(self.g_vars)
        self.d_opt.build(self.d_vars)
        self.loss = losses.get_loss(cfg.loss)
        self.penalty = penalties.get_penalty(cfg.disc_penalty, gp_weight=cfg.gp_weight, clip_value=cfg.clip_value)
        self.rng = tf.random.Generator.from_seed(cfg.seed)
        self.skip_nonfinite = cfg.nonfinite == "skip"
        self.step = tf.Variable(0, dtype=tf.int64, trainable=False, name="step")
        n = cfg.sample_rows * cfg.sample_cols
        self.sample_z = tf.random.Generator.from_seed(cfg.seed + 1).uniform([n, cfg.noise_dim], -1.0, 1.0)
        # K real batches per iteration, one per critic step.
        self.iterators = [iter(ds.batch(cfg.disc_iters, drop_remainder=True)) for ds in datasets]
        self._compiled_step = tf.function(self.train_step, jit_compile=cfg.xla, reduce_retracing=True)
        self._init_checkpoints(tf.train.Checkpoint(step=self.step, rng=self.rng, g_opt=self.g_opt,
                                                   d_opt=self.d_opt, **self.trackables()),
                               keep=cfg.keep_checkpoints)

    # ------------------------------------------------------------------ what a model defines
    def build_nets(self, net_options, input_shape):
        """-> (generators, discriminators), one per domain."""
        raise NotImplementedError

    def coupling_terms(self, z, fakes, features, reals):
        """Weighted terms added once to the summed generator objective: {name: scalar}. None by default."""
        return {}

    def auxiliary_objectives(self):
        """[(log key, optimizer, variables)]: extra nets trained in the generator step on one logged term
        (the CC encoder). None by default."""
        return []

    def step_metrics(self):
        """Scalars logged after the generator update without entering any objective: the generators' weight
        difference of Fig. 4.1 with --log_weight_difference (two domains only)."""
        if self.cfg.log_weight_difference and len(self.generators) == 2:
            import regularisers
            return {"weight_difference": regularisers.weight_difference(*self.generators)}
        return {}

    def trackables(self):
        """Everything a checkpoint must hold besides step, RNG and the two optimizers."""
        t = {f"it{i + 1}": it for i, it in enumerate(self.iterators)}
        # A Keras 3 model is not in tf.train.Checkpoint's object graph: only the optimizer's references to
        # trainable weights would be saved. Track every variable explicitly (BatchNorm moving statistics and
        # Dropout seed states included), by position, or a resumed run would diverge.
        for m in self.generators + self.discriminators:
            t[f"vars_{m.name}"] = [v.value for v in m.variables]
        return t

    # ------------------------------------------------------------------ the step
    def _suffix(self, i):
        return f"_{i + 1}" if self.domains > 1 else ""

    def noise(self, n):
        """Uniform noise in [-1, 1]^noise_dim (thesis sec. 5.1), drawn inside the compiled step."""
        return self.rng.uniform([n, self.cfg.noise_dim], -1.0, 1.0)

    def discriminator_step(self, reals):
        logs = {}
        z = self.noise(tf.shape(reals[0])[0])
        with tf.GradientTape() as tape:
            total = 0.0
            fakes = [x for x, _ in nets.forward_coupled(self.generators, z, training=True, shared=self.shared_g)]
            for i, (fake, d, real) in enumerate(zip(fakes, self.discriminators, reals)):
                adv = self.loss.discriminator(d(real, training=True), d(fake, training=True))
                logs[f"d_loss{self._suffix(i)}"] = adv
                total += adv
                for name, term in self.penalty.terms(d, real, fake, self.rng, training=True).items():
                    logs[f"{name}{self._suffix(i)}"] = term
                    total += term
            if self.cfg.weight_decay:
                logs["d_weight_decay"] = weight_decay(self.d_vars, self.cfg.weight_decay)
                total += logs["d_weight_decay"]
        grads = tape.gradient(total, self.d_vars)
        logs[SKIPPED_KEY] = apply_if_finite(self.d_opt, grads, self.d_vars, [total], self.skip_nonfinite)
        self.penalty.constrain(self.d_vars)
        logs["d_total"] = total
        return logs

    def generator_step(self, reals):
        logs = {}
        z = self.noise(tf.shape(reals[0])[0])
        aux = self.auxiliary_objectives()
        with tf.GradientTape(persistent=bool(aux)) as tape:
            total = 0.0
            fakes, features = [], []
            coupled = nets.forward_coupled(self.generators, z, training=True, shared=self.shared_g)
            for i, ((fake, feats), d) in enumerate(zip(coupled, self.discriminators)):
                fakes.append(fake)
                features.append(feats)
                adv = self.loss.generator(d(fake, training=True))
                logs[f"g_loss{self._suffix(i)}"] = adv
                total += adv
            for name, term in self.coupling_terms(z, fakes, features, reals).items():
                logs[name] = term
                total += term
            if self.cfg.weight_decay:
                logs["g_weight_decay"] = weight_decay(self.g_vars, self.cfg.weight_decay)
                total += logs["g_weight_decay"]
        grads = tape.gradient(total, self.g_vars)
        skipped = apply_if_finite(self.g_opt, grads, self.g_vars, [total], self.skip_nonfinite)
        for key, opt, variables in aux:
            skipped += apply_if_finite(opt, tape.gradient(logs[key], variables), variables, [logs[key]],
                                       self.skip_nonfinite)
        if self.skip_nonfinite:
            logs[SKIPPED_KEY] = skipped
        logs["g_total"] = total
        logs.update(self.step_metrics())
        return logs

    def train_step(self, reals):
        """One iteration: `disc_iters` critic updates on fresh real batches, then one generator update.
        `reals` holds, per domain, a tensor (K, B, ...)."""
        logs, skipped = {}, 0.0
        for k in range(self.cfg.disc_iters):
            logs = self.discriminator_step([r[k] for r in reals])
            skipped += logs.pop(SKIPPED_KEY)
        logs.update(self.generator_step([r[-1] for r in reals]))
        if self.skip_nonfinite:  # the column exists only when skipping is on: losses.csv is unchanged otherwise
            logs[SKIPPED_KEY] = logs[SKIPPED_KEY] + skipped
        self.step.assign_add(1)
        return {k: tf.cast(v, tf.float32) for k, v in logs.items()}

    # ------------------------------------------------------------------ sampling
    def generate(self, z):
        """Images of every domain for the same z (inference mode), the shared blocks run once."""
        return [x for x, _ in nets.forward_coupled(self.generators, z, training=False, shared=self.shared_g)]

    def save_samples(self, step):
        imgs = [x.numpy() for x in self.generate(self.sample_z)]
        path = self.run_dir / "samples" / f"step_{step:07d}.png"
        path.parent.mkdir(exist_ok=True)
        if self.cfg.is_toy:
            import data
            points = self.generate(self.noise(1000))[0].numpy()
            run_folder.save_scatter(path, points, data.ring_modes())
            return None
        grid = run_folder.pair_grid(imgs, self.cfg.sample_rows, self.cfg.sample_cols)
        run_folder.save_png(path, grid)
        return grid

    def models(self):
        """Every network the final `models/` folder holds (a model adds its auxiliary nets)."""
        return self.generators + self.discriminators

    def save_models(self):
        d = self.run_dir / "models"
        d.mkdir(exist_ok=True)
        for m in self.models():
            m.save_weights(str(d / f"{m.name}.weights.h5"))

    # ------------------------------------------------------------------ the loop's hooks (trainers/loop.py)
    def describe(self, first):
        return (f"training {self.cfg.gan_type} on {self.cfg.data_name} ({self.cfg.arch}, {self.info.shape}) "
                f"from step {first} to {self.cfg.iterations} in {self.run_dir}")

    def next_inputs(self):
        return [next(it) for it in self.iterators]

    def run_step(self, reals):
        return self._compiled_step(reals)

    def checked_variables(self):
        return self.g_vars + self.d_vars + [v for _, opt, variables in self.auxiliary_objectives() for v in variables]

    def finish(self, step, trained):
        if trained:
            with run_folder.writing(self.run_dir / "models"):
                self.save_models()
