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
import precision
from optimisers import make_optimizer, weight_decay


from trainers.loop import SKIPPED_KEY, TrainingLoop, apply_if_finite


class StepNoise:
    """The random numbers of one iteration: z uniform in [-1, 1] (thesis sec. 5.1) and WGAN-GP's alpha, drawn
    statelessly from (seed, step, draw number). Every replica draws the global batch's numbers and keeps its
    share, so N replicas use exactly the noise one device uses on the global batch (keras' SeedGenerator is
    broken under MirroredStrategy, keras#20611), and a resumed run draws what an uninterrupted one draws."""

    def __init__(self, seed, step):
        self.seed, self.step, self.draws = int(seed), tf.cast(step, tf.int64), 0
        ctx = tf.distribute.get_replica_context()
        self.replica = ctx.replica_id_in_sync_group if ctx is not None else 0
        self.replicas = ctx.num_replicas_in_sync if ctx is not None else 1

    def uniform(self, shape, minval, maxval):
        """This replica's rows of a (replicas * shape[0], ...) draw (the draw itself on one device)."""
        n = shape[0]
        seed = tf.stack([tf.constant(self.seed, tf.int64), self.step * 1024 + self.draws])
        self.draws += 1  # a Python count: fixed per call site when the step is traced
        x = tf.random.stateless_uniform([n * self.replicas] + list(shape[1:]), seed, minval, maxval)
        return x if self.replicas == 1 else x[self.replica * n:(self.replica + 1) * n]


class AdversarialTrainer(TrainingLoop):
    """Trains `domains` GANs side by side on the summed objective.

    Summing the per-domain losses and differentiating w.r.t. the de-duplicated union of variables gives a
    shared variable the sum of both GANs' gradients and one optimizer update per step, as in the original
    CoGAN Caffe code (the thesis prototype applied one update per generator, so shared layers moved twice).
    Coupling terms are added once to the summed objective, so a term of weight a acts on each generator with
    gradient a * dR/dG_i (thesis sec. 6.6).
    """

    domains = 2
    noise_source = StepNoise  # (seed, step) -> the iteration's random numbers

    def __init__(self, cfg, info, datasets, run_dir=None, strategy=None):
        self.cfg = cfg
        self.info = info
        self.run_dir = Path(run_dir) if run_dir else None
        # tf.distribute (devices.py): the default strategy is one device; N replicas each take 1/N of the batch.
        self.strategy = strategy or tf.distribute.get_strategy()
        self.replicas = int(self.strategy.num_replicas_in_sync)
        self.workers = int(getattr(self.strategy.extended, "_num_workers", 1))
        self.options = nets.NetOptions(channels=info.shape[-1], noise_dim=cfg.noise_dim, w_init=cfg.w_init,
                                       b_init=cfg.b_init, prelu_init=cfg.prelu_init, d_norm=cfg.d_norm,
                                       g_width=cfg.g_width, sync_batchnorm=self.replicas > 1)
        keras.utils.set_random_seed(cfg.seed)
        with self.strategy.scope():  # every variable (nets, optimizer slots, step) mirrored on the replicas
            with precision.policy(cfg.mixed_precision):  # the nets of the model and of its couplings
                self.generators, self.discriminators = self.build_nets(self.options, tuple(info.shape))
            # CoGAN: the shared generator blocks run once per forward pass (nets.forward_coupled).
            self.shared_g = nets.shared_prefix(self.generators)
            self.g_vars = nets.unique_variables(self.generators)
            self.d_vars = nets.unique_variables(self.discriminators)
            self.g_opt = make_optimizer(cfg.optimizer, cfg.g_lr, cfg.g_beta1, cfg.g_beta2, cfg.mixed_precision)
            self.d_opt = make_optimizer(cfg.optimizer, cfg.d_lr, cfg.d_beta1, cfg.d_beta2, cfg.mixed_precision)
            # Built before any restore, or their slots would not be restored (keras#19389).
            self.g_opt.build(self.g_vars)
            self.d_opt.build(self.d_vars)
            self.step = tf.Variable(0, dtype=tf.int64, trainable=False, name="step",
                                    aggregation=tf.VariableAggregation.ONLY_FIRST_REPLICA)
        self.loss = losses.get_loss(cfg.loss)
        self.penalty = penalties.get_penalty(cfg.disc_penalty, gp_weight=cfg.gp_weight, clip_value=cfg.clip_value)
        self.skip_nonfinite = cfg.nonfinite == "skip"
        n = cfg.sample_rows * cfg.sample_cols
        self.sample_z = tf.random.Generator.from_seed(cfg.seed + 1).uniform([n, cfg.noise_dim], -1.0, 1.0)
        # K real batches per iteration, one per critic step.
        self.iterators = [iter(ds.batch(cfg.disc_iters, drop_remainder=True)) for ds in datasets]
        step = self.train_step if self.replicas == 1 else self.replicated_step
        self._compiled_step = tf.function(step, jit_compile=cfg.xla, reduce_retracing=True)
        self._init_checkpoints(tf.train.Checkpoint(step=self.step, g_opt=self.g_opt, d_opt=self.d_opt,
                                                   **self.trackables()),
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

    def discriminator_step(self, reals, noise=None):
        logs = {}
        noise = noise or self.noise_source(self.cfg.seed, self.step)
        z = noise.uniform([tf.shape(reals[0])[0], self.cfg.noise_dim], -1.0, 1.0)
        with tf.GradientTape() as tape:
            total = 0.0
            fakes = [x for x, _ in nets.forward_coupled(self.generators, z, training=True, shared=self.shared_g)]
            for i, (fake, d, real) in enumerate(zip(fakes, self.discriminators, reals)):
                adv = self.loss.discriminator(d(real, training=True), d(fake, training=True))
                logs[f"d_loss{self._suffix(i)}"] = adv
                total += adv
                for name, term in self.penalty.terms(d, real, fake, noise, training=True,
                                                     scale=precision.loss_scale(self.d_opt)).items():
                    logs[f"{name}{self._suffix(i)}"] = term
                    total += term
            if self.cfg.weight_decay:
                logs["d_weight_decay"] = weight_decay(self.d_vars, self.cfg.weight_decay)
                total += logs["d_weight_decay"]
            # Replicas' gradients are summed: each replica's batch mean / N sums to the global batch mean. The
            # loss scale is 1 unless fp16 (precision.py).
            scaled = self.d_opt.scale_loss(total / self.replicas)
        grads = tape.gradient(scaled, self.d_vars)
        logs[SKIPPED_KEY] = apply_if_finite(self.d_opt, grads, self.d_vars, [total], self.skip_nonfinite)
        self.penalty.constrain(self.d_vars)
        logs["d_total"] = total
        return logs

    def generator_step(self, reals, noise=None):
        logs = {}
        noise = noise or self.noise_source(self.cfg.seed, self.step)
        z = noise.uniform([tf.shape(reals[0])[0], self.cfg.noise_dim], -1.0, 1.0)
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
            scaled = self.g_opt.scale_loss(total / self.replicas)
            aux_scaled = [opt.scale_loss(logs[key] / self.replicas) for key, opt, _ in aux]
        grads = tape.gradient(scaled, self.g_vars)
        skipped = apply_if_finite(self.g_opt, grads, self.g_vars, [total], self.skip_nonfinite)
        for (key, opt, variables), objective in zip(aux, aux_scaled):
            skipped += apply_if_finite(opt, tape.gradient(objective, variables), variables, [logs[key]],
                                       self.skip_nonfinite)
        if self.skip_nonfinite:
            logs[SKIPPED_KEY] = skipped
        logs["g_total"] = total
        logs.update(self.step_metrics())
        return logs

    def train_step(self, reals):
        """One iteration: `disc_iters` critic updates on fresh real batches, then one generator update.
        `reals` holds, per domain, a tensor (K, B, ...) (under N replicas, this replica's B/N columns of it)."""
        logs, skipped = {}, 0.0
        noise = self.noise_source(self.cfg.seed, self.step)
        for k in range(self.cfg.disc_iters):
            logs = self.discriminator_step([r[k] for r in reals], noise)
            skipped += logs.pop(SKIPPED_KEY)
        logs.update(self.generator_step([r[-1] for r in reals], noise))
        if self.skip_nonfinite:  # the column exists only when skipping is on: losses.csv is unchanged otherwise
            logs[SKIPPED_KEY] = logs[SKIPPED_KEY] + skipped
        self.step.assign_add(1)
        return {k: tf.cast(v, tf.float32) for k, v in logs.items()}

    def replicated_step(self, reals):
        """train_step on every replica (its share of the batch), the logs averaged over the replicas: every logged
        term is a batch mean, so the mean of the replicas' means is the global batch's."""
        logs = self.strategy.run(self.train_step, args=(reals,))
        return {k: self.strategy.reduce(tf.distribute.ReduceOp.MEAN, v, axis=None) for k, v in logs.items()}

    def agree_on_stop(self, requested):
        """One all-reduce (sum) of "this worker received a stop signal" over every replica of every worker, each
        step of a multi-worker run: a worker that got none stops with the others, as if by SIGTERM (exit 143)."""
        if not hasattr(self, "_any_stop"):
            self._any_stop = tf.function(lambda flag: self.strategy.reduce(
                tf.distribute.ReduceOp.SUM, self.strategy.run(tf.identity, args=(flag,)), axis=None))
        if float(self._any_stop(tf.constant(0.0 if requested is None else 1.0))) > 0:
            return requested or "SIGTERM"
        return None

    def split_batch(self, reals):
        """The host's global batches (K, B, ...) -> per-replica values, replica i taking columns [i*B/N, (i+1)*B/N)
        of every critic batch: the K batches are split along the batch axis, not along K (PITFALLS)."""
        def share(ctx):
            i, b = ctx.replica_id_in_sync_group, reals[0].shape[1] // self.replicas
            return [r[:, i * b:(i + 1) * b] for r in reals]
        return self.strategy.experimental_distribute_values_from_function(share)

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
            z = tf.random.stateless_uniform([1000, self.cfg.noise_dim], [self.cfg.seed + 2, step], -1.0, 1.0)
            points = self.generate(z)[0].numpy()
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
        reals = [next(it) for it in self.iterators]
        return reals if self.replicas == 1 else self.split_batch(reals)

    def run_step(self, reals):
        return self._compiled_step(reals)

    def checked_variables(self):
        return self.g_vars + self.d_vars + [v for _, opt, variables in self.auxiliary_objectives() for v in variables]

    def finish(self, step, trained):
        if trained:
            with run_folder.writing(self.run_dir / "models"):
                self.save_models()
