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
from optimisers import SKIPPED_KEY, apply_if_finite, make_optimizer, weight_decay
from trainers.checkpoints import net_variables
from trainers.loop import TrainingLoop


def net_options(cfg, channels, replicas=1) -> nets.NetOptions:
    """The nets' options from a run's Config: the trainer, `--sample` (sampling.load_run) and `--dry_run` build the
    same nets. `channels`: of one example (the data's shape[-1]); under N > 1 replicas BatchNorm syncs its batch
    statistics (nets.NetOptions.sync_batchnorm), which changes no variable."""
    return nets.NetOptions(channels=channels, noise_dim=cfg.noise_dim, w_init=cfg.w_init, b_init=cfg.b_init,
                           prelu_init=cfg.prelu_init, d_norm=cfg.d_norm, g_width=cfg.g_width,
                           sync_batchnorm=replicas > 1)


class StepNoise:
    """The random numbers of one iteration: z and WGAN-GP's alpha, drawn statelessly from (seed, step, draw
    number). Every replica draws the global batch's numbers and keeps its share, so N replicas use exactly the
    noise one device uses on the global batch (keras' SeedGenerator is broken under MirroredStrategy,
    keras#20611), and a resumed run draws what an uninterrupted one draws.

    z (`z`) is uniform in [-1, 1] (thesis sec. 5.1), or N(0, 1) in the class `with_latent("normal")` gives
    (`--noise_type normal`): the thesis authors' toy-ring code drew `tf.random.normal([batch_size, noise_dim])`
    for every critic and generator step (palminde/P10Project Train.py, 1899bab to 6bdb9e7, Nov. 2019 - Jan.
    2020). Every other draw (WGAN-GP's alpha: `uniform`) is uniform. The uniform class draws exactly what it drew
    before the option existed."""

    latent = "uniform"            # the distribution of z: "uniform" or "normal" (Config.noise_type)
    LATENT_RANGE = (-1.0, 1.0)    # uniform z's bounds (sec. 5.1)

    def __init__(self, seed, step):
        self.seed, self.step, self.draws = int(seed), tf.cast(step, tf.int64), 0
        ctx = tf.distribute.get_replica_context()
        self.replica = ctx.replica_id_in_sync_group if ctx is not None else 0
        self.replicas = ctx.num_replicas_in_sync if ctx is not None else 1

    @classmethod
    def with_latent(cls, latent):
        """-> the StepNoise class whose z follows `latent` ("uniform": this class; "normal": N(0, 1))."""
        if latent == cls.latent:
            return cls
        if latent not in ("uniform", "normal"):
            raise ValueError(f"unknown latent distribution '{latent}' (choose uniform or normal)")
        return type(f"{cls.__name__}_{latent}", (cls,), {"latent": latent})

    def _draw(self, sample, shape):
        """This replica's rows of a (replicas * shape[0], ...) draw sample(shape, seed) (the draw on one device)."""
        n = shape[0]
        seed = tf.stack([tf.constant(self.seed, tf.int64), self.step * 1024 + self.draws])
        self.draws += 1  # a Python count: fixed per call site when the step is traced
        x = sample([n * self.replicas] + list(shape[1:]), seed)
        return x if self.replicas == 1 else x[self.replica * n:(self.replica + 1) * n]

    def uniform(self, shape, minval, maxval):
        """Uniform in [minval, maxval), this replica's rows."""
        return self._draw(lambda s, seed: tf.random.stateless_uniform(s, seed, minval, maxval), shape)

    def z(self, shape):
        """A batch of latent vectors of the class's distribution, this replica's rows."""
        if self.latent == "normal":
            return self._draw(lambda s, seed: tf.random.stateless_normal(s, seed), shape)
        return self._draw(lambda s, seed: tf.random.stateless_uniform(s, seed, *self.LATENT_RANGE), shape)


class AdversarialTrainer(TrainingLoop):
    """Trains `domains` GANs side by side, the same z feeding every generator.

    `--shared_update` says how the networks of one side are updated (update_groups): `listing` (default) as the
    thesis's prototype, one update per network on that side's optimizer (Listings 6.12, 6.13), so a CoGAN shared
    variable moves twice per step; `summed` as the original CoGAN Caffe code, one update of the summed objective,
    a shared variable taking the sum of both GANs' gradients once. Coupling terms (SCoGAN) enter each generator's
    objective, so a term of weight a acts on each generator with gradient a * dR/dG_i (thesis sec. 6.6).
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
        self.options = net_options(cfg, info.shape[-1], self.replicas)
        keras.utils.set_random_seed(cfg.seed)
        with self.strategy.scope():  # every variable (nets, optimizer slots, step) mirrored on the replicas
            with precision.policy(cfg.mixed_precision):  # the nets of the model and of its couplings
                self.generators, self.discriminators = self.build_nets(self.options, tuple(info.shape))
            # CoGAN: the shared generator blocks run once per forward pass (nets.forward_coupled).
            self.shared_g = nets.shared_prefix(self.generators)
            self.g_vars = nets.unique_variables(self.generators)
            self.d_vars = nets.unique_variables(self.discriminators)
            self.g_groups = self.update_groups(self.generators)
            self.d_groups = self.update_groups(self.discriminators)
            self.g_opt = make_optimizer(cfg.optimizer, cfg.g_lr, cfg.g_beta1, cfg.g_beta2, cfg.mixed_precision)
            self.d_opt = make_optimizer(cfg.optimizer, cfg.d_lr, cfg.d_beta1, cfg.d_beta2, cfg.mixed_precision)
            # Built before any restore, or their slots would not be restored (keras#19389).
            self.g_opt.build(self.g_vars)
            self.d_opt.build(self.d_vars)
            self.step = tf.Variable(0, dtype=tf.int64, trainable=False, name="step",
                                    aggregation=tf.VariableAggregation.ONLY_FIRST_REPLICA)
        self.loss = losses.get_loss(cfg.loss)
        self.penalty = penalties.get_penalty(cfg.disc_penalty, **{
            key: getattr(cfg, key) for key in penalties.PENALTIES[cfg.disc_penalty].options.values()})
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
        """Everything a checkpoint must hold besides the step and the two optimizers."""
        t = {f"it{i + 1}": it for i, it in enumerate(self.iterators)}
        t.update(net_variables(self.generators + self.discriminators))  # every variable, by position
        return t

    def learning_rates(self):
        """This invocation's rates, set again after a restore (TrainingLoop.restore): both sides', and --g_lr for
        the auxiliary nets (the CC encoder)."""
        return ([(self.g_opt, self.cfg.g_lr), (self.d_opt, self.cfg.d_lr)]
                + [(opt, self.cfg.g_lr) for _, opt, _ in self.auxiliary_objectives()])

    # ------------------------------------------------------------------ the step
    def _suffix(self, i):
        return f"_{i + 1}" if self.domains > 1 else ""

    def update_groups(self, networks):
        """[(domain indices, variables)], the updates of one critic or generator step, applied one after the other.

        `--shared_update listing` (default): one update per network with its own objective, in domain order, as the
        thesis's prototype (Listings 6.12, 6.13: one `apply_gradients` per discriminator / generator on the same
        optimizer object of that side), so a shared variable takes one step per network and the side's iteration
        count (Adam's bias correction) advances once per network. `summed`: one update of the summed objective over
        the union of the variables, as the CoGAN Caffe code, a shared variable taking one step with the sum of both
        GANs' gradients. One network: the two coincide."""
        if self.cfg.shared_update == "summed" or len(networks) == 1:
            return [(tuple(range(len(networks))), nets.unique_variables(networks))]
        return [((i,), list(n.trainable_variables)) for i, n in enumerate(networks)]

    def _with_weight_decay(self, objective, variables, logs, key):
        """`objective` plus the L2 decay of `variables`' kernels under --weight_decay (optimisers.weight_decay; no
        term at rate 0), the decay also summed into logs[key] over a side's update groups."""
        if not self.cfg.weight_decay:
            return objective
        decay = weight_decay(variables, self.cfg.weight_decay)
        logs[key] = logs.get(key, 0.0) + decay
        return objective + decay

    def _descend(self, tape, updates):
        """`opt.apply_gradients(zip(tape.gradient(objective, variables), variables))` of Listings 6.12, 6.13 for each
        (opt, objective, variables) of `updates`, in order, every gradient taken before the first update. What the
        listings leave out happens here: each objective is divided by the replica count (the replicas' gradients
        are summed, so each replica's batch mean / N sums to the global batch mean) and multiplied by the loss
        scale (1 unless fp16, precision.py), both recorded on `tape`; an update with a non-finite gradient or
        objective is skipped under --nonfinite skip (optimisers.apply_if_finite). -> the number skipped."""
        with tape:  # the scaling joins the objectives' forward pass on the step's tape
            scaled = [opt.scale_loss(objective / self.replicas) for opt, objective, _ in updates]
        grads = [tape.gradient(loss, variables) for loss, (_, _, variables) in zip(scaled, updates)]
        skipped = 0.0
        for g, (opt, objective, variables) in zip(grads, updates):
            skipped += apply_if_finite(opt, g, variables, [objective], self.skip_nonfinite)
        return skipped

    def discriminator_step(self, reals, noise=None):
        """One critic update per group of update_groups. Listing 6.12: D2's objective is evaluated after D1's update
        (its shared layers have moved); both see the same z and fakes (the generators do not change in between)."""
        logs, total, skipped = {}, 0.0, 0.0
        noise = noise or self.noise_source(self.cfg.seed, self.step)
        z = noise.z([tf.shape(reals[0])[0], self.cfg.noise_dim])
        fakes = [x for x, _ in nets.forward_coupled(self.generators, z, training=True, shared=self.shared_g)]
        for domains, variables in self.d_groups:
            with tf.GradientTape() as tape:
                objective = 0.0
                for i in domains:
                    d, real = self.discriminators[i], reals[i]
                    adv = self.loss.discriminator(d(real, training=True), d(fakes[i], training=True))
                    logs[f"d_loss{self._suffix(i)}"] = adv
                    objective += adv
                    for name, term in self.penalty.terms(d, real, fakes[i], noise, training=True,
                                                         scale=precision.loss_scale(self.d_opt)).items():
                        logs[f"{name}{self._suffix(i)}"] = term
                        objective += term
                objective = self._with_weight_decay(objective, variables, logs, "d_weight_decay")
            skipped += self._descend(tape, [(self.d_opt, objective, variables)])
            total += objective
        self.penalty.constrain(self.d_vars)
        logs[SKIPPED_KEY] = skipped
        logs["d_total"] = total
        return logs

    def generator_step(self, reals, noise=None):
        """One generator update per group of update_groups, every group's gradient taken at the same weights before
        the first update (Listing 6.13: both tapes record one forward pass). Each group's objective holds its
        networks' adversarial terms and every coupling term (the prototype adds each term to both generators'
        losses); `g_total` logs the adversarial terms and each coupling term once, whatever the grouping. The
        auxiliary nets (the CC encoder) descend their logged term in the same pass. (fp16: an overflow that lowers
        the loss scale in the first update leaves the second group's gradient scaled by the old factor for that
        step.)"""
        logs = {}
        noise = noise or self.noise_source(self.cfg.seed, self.step)
        z = noise.z([tf.shape(reals[0])[0], self.cfg.noise_dim])
        aux = self.auxiliary_objectives()
        with tf.GradientTape(persistent=bool(aux) or len(self.g_groups) > 1) as tape:
            fakes, features, advs = [], [], []
            coupled = nets.forward_coupled(self.generators, z, training=True, shared=self.shared_g)
            for i, ((fake, feats), d) in enumerate(zip(coupled, self.discriminators)):
                fakes.append(fake)
                features.append(feats)
                advs.append(self.loss.generator(d(fake, training=True)))
                logs[f"g_loss{self._suffix(i)}"] = advs[-1]
            coupling = 0.0
            for name, term in self.coupling_terms(z, fakes, features, reals).items():
                logs[name] = term
                coupling += term
            updates = []
            for domains, variables in self.g_groups:
                objective = self._with_weight_decay(tf.add_n([advs[i] for i in domains]) + coupling, variables, logs,
                                                    "g_weight_decay")
                updates.append((self.g_opt, objective, variables))
        skipped = self._descend(tape, updates + [(opt, logs[key], variables) for key, opt, variables in aux])
        if self.skip_nonfinite:
            logs[SKIPPED_KEY] = skipped
        logs["g_total"] = tf.add_n(advs) + coupling + logs.get("g_weight_decay", 0.0)
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
        """A grid of sample pairs (samples/step_N.png; a toy run's scatter plot: trainers/gan.py)."""
        imgs = [x.numpy() for x in self.generate(self.sample_z)]
        path = self.run_dir / "samples" / f"step_{step:07d}.png"
        path.parent.mkdir(exist_ok=True)
        grid = run_folder.pair_grid(imgs, self.cfg.sample_rows, self.cfg.sample_cols)
        run_folder.save_png(path, grid)
        return grid

    def models(self):
        """Every network the final `models/` folder holds (a model adds its auxiliary nets)."""
        return self.generators + self.discriminators

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
