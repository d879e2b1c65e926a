"""The one training loop shared by every adversarial model.

A model subclass says only what differs: how its nets are built (`build_nets`) and what it adds to the
generator objective (`coupling_terms`). The step below is the algorithm box of the thesis: K critic updates,
then one generator update, each with its own optimizer; the whole iteration is one `tf.function`.
"""
from __future__ import annotations

import math
import os
import re
import shutil
import signal
import sys
import threading
import time
from pathlib import Path

import numpy as np
import tensorflow as tf
import keras

import losses
import nets
import outputs
import penalties


# What a stop by signal exits with (README, Reproducibility): 128 + the signal number, as a shell reports a
# process killed by it; SIGUSR1 (SLURM's --signal=B:USR1@T before the time limit) exits like SIGTERM.
STOP_SIGNALS = ("SIGTERM", "SIGINT", "SIGUSR1")
EXIT_STATUS = {"SIGINT": 130, "SIGTERM": 143, "SIGUSR1": 143}
CHECKPOINT_RE = re.compile(r"^ckpt-(\d+)\.index$")
# Errors that mean "these checkpoint files cannot be read" (truncated data: IndexError; truncated or garbled
# index: tf.errors.DataLossError / NotFoundError...), as opposed to a checkpoint of other options (ValueError,
# AssertionError), which no older checkpoint would cure.
UNREADABLE = (IndexError, EOFError, OSError, tf.errors.OpError)


class TrainingInterrupted(KeyboardInterrupt):
    """fit stopped on SIGTERM / SIGINT / SIGUSR1 after checkpointing the current step. A KeyboardInterrupt, so
    main.main reports it as an interruption; `exit_status` is the status the process should exit with."""

    def __init__(self, message, signal_name, step):
        super().__init__(message)
        self.signal_name, self.step = signal_name, step
        self.exit_status = EXIT_STATUS.get(signal_name, 130)


class NonFiniteLoss(outputs.RunDirError):
    """A logged term became NaN/inf: training stops (one line, exit 2) and no checkpoint of that state is kept."""


def checkpoint_files(ckpt_dir):
    """[(step, path prefix)] of the checkpoints in `ckpt_dir`, newest first: every `ckpt-N.index` on disk,
    whatever the `checkpoint` state file says (it may be empty, or lag behind a save that was interrupted)."""
    d = Path(ckpt_dir)
    if not d.is_dir():
        return []
    found = [(int(m.group(1)), str(d / f"ckpt-{m.group(1)}")) for m in map(CHECKPOINT_RE.match, os.listdir(d)) if m]
    return sorted(found, reverse=True)


def restore_readable(checkpoint, ckpt_dir, step=None, partial=False, log=print):
    """Restore the newest readable checkpoint of `ckpt_dir` (or `step`'s) into `checkpoint`.

    -> (step, path, unreadable) where unreadable lists (path, error) of the newer checkpoints skipped, or None when
    the folder holds none. A fallback is said in one log line; no readable checkpoint at all is an
    outputs.RunDirError. Errors other than unreadable files (a checkpoint of other options) propagate."""
    found = checkpoint_files(ckpt_dir)
    if not found:
        return None
    if step is not None:
        found = [(n, p) for n, p in found if n == step]
        if not found:
            raise ValueError(f"no checkpoint for step {step} in {ckpt_dir}")
    unreadable = []
    for n, path in found:
        try:
            status = checkpoint.restore(path)
            status.expect_partial() if partial else status.assert_existing_objects_matched()
        except UNREADABLE as e:
            unreadable.append((path, e))
            continue
        if unreadable:
            log(f"checkpoint {_describe(unreadable)} unreadable: restored {Path(path).name} (step {n}) instead")
        return n, path, unreadable
    raise outputs.RunDirError(f"no readable checkpoint in {ckpt_dir}: {_describe(unreadable)}")


def _describe(unreadable):
    return "; ".join(f"{Path(p).name} ({type(e).__name__}: {' '.join(str(e).split())[:120]})" for p, e in unreadable)


def write_checkpoint_state(ckpt_dir, paths):
    """Rewrite `checkpoints/checkpoint` (atomically) to list `paths` (oldest first), the last the latest."""
    state = Path(ckpt_dir) / "checkpoint"
    if not paths:  # no checkpoint left to list: no state file, as in a folder never saved to
        state.unlink(missing_ok=True)
        return
    names = [Path(p).name for p in paths]
    stamps = [os.path.getmtime(f"{p}.index") for p in paths]
    lines = [f'model_checkpoint_path: "{names[-1]}"']
    lines += [f'all_model_checkpoint_paths: "{n}"' for n in names]
    lines += [f"all_model_checkpoint_timestamps: {t!r}" for t in stamps]
    lines.append(f"last_preserved_timestamp: {min(stamps) - 1.0!r}")
    outputs.atomic_write_text(state, "\n".join(lines) + "\n")


class _StopOnSignal:
    """While active, SIGTERM / SIGINT / SIGUSR1 only record their name; the loop checks `requested` once per
    step (no host sync). A second signal stops at once. The previous handlers are put back on exit."""

    def __init__(self):
        self.requested = None
        self._previous = {}

    def _handle(self, signum, frame):
        name = signal.Signals(signum).name
        if self.requested is not None:
            self.__exit__()
            raise TrainingInterrupted(f"stopped by a second {name} before the checkpoint was written", name, None)
        self.requested = name

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            for name in STOP_SIGNALS:
                sig = getattr(signal, name, None)
                if sig is not None:
                    self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc):
        while self._previous:
            sig, previous = self._previous.popitem()
            signal.signal(sig, previous)
        return False


def make_optimizer(name, lr, beta1, beta2):
    if name == "adam":
        return keras.optimizers.Adam(learning_rate=lr, beta_1=beta1, beta_2=beta2)
    if name == "rmsprop":
        return keras.optimizers.RMSprop(learning_rate=lr)
    raise ValueError(f"unknown optimizer '{name}'")


class AdversarialTrainer:
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
        self.step = tf.Variable(0, dtype=tf.int64, trainable=False, name="step")
        n = cfg.sample_rows * cfg.sample_cols
        self.sample_z = tf.random.Generator.from_seed(cfg.seed + 1).uniform([n, cfg.noise_dim], -1.0, 1.0)
        # K real batches per iteration, one per critic step.
        self.iterators = [iter(ds.batch(cfg.disc_iters, drop_remainder=True)) for ds in datasets]
        self._compiled_step = tf.function(self.train_step, jit_compile=cfg.xla, reduce_retracing=True)
        self.checkpoint = tf.train.Checkpoint(step=self.step, rng=self.rng, g_opt=self.g_opt, d_opt=self.d_opt,
                                              **self.trackables())
        self.manager = None
        self._saved_step = None
        if self.run_dir is not None:
            self.manager = self._open_manager()

    def _open_manager(self):
        ckpt_dir = self.run_dir / "checkpoints"
        try:
            return tf.train.CheckpointManager(self.checkpoint, str(ckpt_dir), max_to_keep=self.cfg.keep_checkpoints)
        except ValueError:  # an empty or invalid `checkpoint` state file (a save interrupted at the worst time)
            write_checkpoint_state(ckpt_dir, [p for _, p in reversed(checkpoint_files(ckpt_dir))])
            return tf.train.CheckpointManager(self.checkpoint, str(ckpt_dir), max_to_keep=self.cfg.keep_checkpoints)

    # ------------------------------------------------------------------ what a model defines
    def build_nets(self, o, input_shape):
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
            for i, (g, d, real) in enumerate(zip(self.generators, self.discriminators, reals)):
                fake = g(z, training=True)
                adv = self.loss.discriminator(d(real, training=True), d(fake, training=True))
                pen = self.penalty.term(d, real, fake, self.rng, training=True)
                logs[f"d_loss{self._suffix(i)}"] = adv
                if self.penalty.name == "wgan-gp":
                    logs[f"d_gp{self._suffix(i)}"] = pen
                total += adv + pen
            if self.cfg.weight_decay:
                logs["d_weight_decay"] = penalties.weight_decay(self.d_vars, self.cfg.weight_decay)
                total += logs["d_weight_decay"]
        grads = tape.gradient(total, self.d_vars)
        self.d_opt.apply_gradients(zip(grads, self.d_vars))
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
            for i, (g, d) in enumerate(zip(self.generators, self.discriminators)):
                fake, feats = g.call_with_features(z, training=True)
                fakes.append(fake)
                features.append(feats)
                adv = self.loss.generator(d(fake, training=True))
                logs[f"g_loss{self._suffix(i)}"] = adv
                total += adv
            for name, term in self.coupling_terms(z, fakes, features, reals).items():
                logs[name] = term
                total += term
            if self.cfg.weight_decay:
                logs["g_weight_decay"] = penalties.weight_decay(self.g_vars, self.cfg.weight_decay)
                total += logs["g_weight_decay"]
        grads = tape.gradient(total, self.g_vars)
        self.g_opt.apply_gradients(zip(grads, self.g_vars))
        for key, opt, variables in aux:
            opt.apply_gradients(zip(tape.gradient(logs[key], variables), variables))
        logs["g_total"] = total
        logs.update(self.step_metrics())
        return logs

    def train_step(self, reals):
        """One iteration: `disc_iters` critic updates on fresh real batches, then one generator update.
        `reals` holds, per domain, a tensor (K, B, ...)."""
        logs = {}
        for k in range(self.cfg.disc_iters):
            logs = self.discriminator_step([r[k] for r in reals])
        logs.update(self.generator_step([r[-1] for r in reals]))
        self.step.assign_add(1)
        return {k: tf.cast(v, tf.float32) for k, v in logs.items()}

    # ------------------------------------------------------------------ sampling
    def generate(self, z):
        """Images of every domain for the same z (inference mode)."""
        return [g(z, training=False) for g in self.generators]

    def save_samples(self, step):
        imgs = [x.numpy() for x in self.generate(self.sample_z)]
        path = self.run_dir / "samples" / f"step_{step:07d}.png"
        if self.cfg.is_toy:
            import data
            points = self.generate(self.noise(1000))[0].numpy()
            outputs.save_scatter(path, points, data.ring_modes())
        else:
            outputs.save_png(path, outputs.pair_grid(imgs, self.cfg.sample_rows, self.cfg.sample_cols))
        return path

    # ------------------------------------------------------------------ checkpoints
    def restore(self, step=None, log=print):
        """Restore the latest (or a given step's) checkpoint; returns the restored step or None.

        An unreadable latest checkpoint (truncated or garbled files) falls back to the newest readable one, said
        in one log line; the unreadable files are moved to checkpoints/unreadable/ and the state file lists the
        readable ones, so later saves and --sample see a consistent folder."""
        if self.manager is None:
            return None
        ckpt_dir = self.run_dir / "checkpoints"
        found = restore_readable(self.checkpoint, ckpt_dir, step=step, log=log)
        if found is None:
            return None
        n, path, unreadable = found
        if unreadable or step is None and self.manager.latest_checkpoint != path:
            aside = ckpt_dir / "unreadable"
            for bad, _ in unreadable:
                aside.mkdir(exist_ok=True)
                for f in Path(ckpt_dir).glob(Path(bad).name + ".*"):
                    os.replace(f, aside / f.name)
            write_checkpoint_state(ckpt_dir, [p for m, p in reversed(checkpoint_files(ckpt_dir)) if m <= n])
            self.manager = self._open_manager()
        self._saved_step = int(self.step.numpy())
        return self._saved_step

    def remove_partial_saves(self, log=print):
        """Delete the `ckpt-N_temp*` leftovers of saves that were killed before they finished."""
        ckpt_dir = self.run_dir / "checkpoints"
        if not ckpt_dir.is_dir():
            return
        for p in ckpt_dir.glob("ckpt-*_temp*"):
            shutil.rmtree(p, ignore_errors=True) if p.is_dir() else p.unlink(missing_ok=True)
            log(f"removed {p.name}: the leftover of an interrupted checkpoint save")

    def save_checkpoint(self):
        step = int(self.step.numpy())
        self.manager.save(checkpoint_number=step)
        self._saved_step = step

    def models(self):
        """Every network the final `models/` folder holds (a model adds its auxiliary nets)."""
        return self.generators + self.discriminators

    def save_models(self):
        d = self.run_dir / "models"
        d.mkdir(exist_ok=True)
        for m in self.models():
            m.save_weights(str(d / f"{m.name}.weights.h5"))

    # ------------------------------------------------------------------ the loop
    def _flush(self, pending, loss_log, tb, durable=False):
        """Pending (step, tensor logs) -> floats, appended to losses.csv and TensorBoard. A non-finite value
        stops the run: the rows up to it are written, then NonFiniteLoss names the term and the step."""
        rows = [(s, {k: float(v) for k, v in lg.items()}) for s, lg in pending]
        bad = next(((i, s, [k for k, v in values.items() if not math.isfinite(v)])
                    for i, (s, values) in enumerate(rows) if not all(map(math.isfinite, values.values()))), None)
        if bad is not None:
            rows = rows[:bad[0] + 1]
        loss_log.append(rows, durable=durable or bad is not None)
        with tb.as_default():
            for s, values in rows:
                for k, v in values.items():
                    tf.summary.scalar(k, v, step=s)
        if bad is not None:
            _, s, keys = bad
            terms = ", ".join(f"{k}={rows[-1][1][k]}" for k in keys)
            kept = (f"the last checkpoint is step {self._saved_step}" if self._saved_step is not None
                    else "no checkpoint was saved")
            raise NonFiniteLoss(f"non-finite loss at step {s}: {terms}; training stopped, {kept} (continue from it "
                                f"with --dir {self.run_dir} --resume and, e.g., lower learning rates)")
        return rows

    def fit(self, log=print):
        cfg = self.cfg
        (self.run_dir / "samples").mkdir(parents=True, exist_ok=True)
        self.remove_partial_saves(log)
        start = self.restore(log=log) if cfg.resume else None
        if start is None and cfg.resume:
            log(f"no checkpoint in {self.run_dir / 'checkpoints'}: starting from step 0")
        first = start or 0
        loss_log = outputs.LossLog(self.run_dir / "losses.csv", resume_step=first if cfg.resume else None)
        tb = tf.summary.create_file_writer(str(self.run_dir / "tb"))
        if first >= cfg.iterations:
            log(f"nothing to do: the run is at step {first} and --iterations is {cfg.iterations}")
            return first
        log(f"training {cfg.gan_type} on {cfg.data_name} ({cfg.arch}, {self.info.shape}) "
            f"from step {first} to {cfg.iterations} in {self.run_dir}")
        pending, t0, step = [], time.time(), first
        with _StopOnSignal() as stop:
            while step < cfg.iterations:
                reals = [next(it) for it in self.iterators]
                logs = self._compiled_step(reals)
                step += 1
                pending.append((step, logs))  # tensors: no host sync until the next log point or checkpoint
                stopping = stop.requested  # read once: a signal arriving later in this step is seen at the next
                last = step == cfg.iterations
                at_log = step % cfg.log_interval == 0 or last
                at_checkpoint = step % cfg.checkpoint_interval == 0 or last or stopping is not None
                if at_log or at_checkpoint:
                    # The rows up to a checkpoint are on disk (and finite) before the checkpoint is.
                    rows = self._flush(pending, loss_log, tb, durable=at_checkpoint)
                    pending = []
                    if at_log:
                        log(outputs.progress_line(step, cfg.iterations, first, t0, rows[-1][1]))
                if step % cfg.sample_interval == 0 or last:
                    self.save_samples(step)
                if at_checkpoint:
                    tb.flush()
                    self.save_checkpoint()
                    outputs.plot_losses(loss_log, self.run_dir / "losses.png")
                if stopping is not None:
                    log(f"stopped by {stopping} at step {step}, checkpoint saved: continue with "
                        f"python main.py --dir {self.run_dir} --resume")
                    sys.stdout.flush()
                    raise TrainingInterrupted(f"stopped by {stopping} at step {step}", stopping, step)
        tb.flush()
        self.save_models()
        log(f"done: {step} iterations in {outputs.format_duration(time.time() - t0)}; outputs in {self.run_dir}")
        sys.stdout.flush()
        return step
