"""The one training loop every trainer runs (the GANs and the Appendix B classifier), and when it checkpoints
(the checkpoint files themselves: trainers/checkpoints.py).

A trainer provides `self.cfg`, `self.run_dir`, `self.step` (a tf.Variable), `self.checkpoint` and the hooks of
`TrainingLoop`; the loop owns iterations, logging, checkpoint and sample steps, signals, non-finite values
and failed writes (README, Reproducibility):
- the logged rows up to a checkpoint are on disk before the checkpoint is;
- SIGTERM / SIGINT / SIGUSR1 checkpoint the current step, print how to resume and exit 143 / 130;
- an unreadable latest checkpoint falls back to the newest readable one; leftovers of killed saves go;
- a non-finite loss stops the run naming the term and the step (`--nonfinite skip`: such updates are
  skipped in the compiled step and counted); a checkpoint is never written from non-finite weights;
- a failed checkpoint / losses.csv / model write is one line naming the file and the cause, the last good
  checkpoint kept; a failed sample or plot is a warning and training goes on.
"""
from __future__ import annotations

import math
import os
import shutil
import signal
import sys
import threading
import time
from pathlib import Path

import tensorflow as tf

import run_folder
from optimisers import SKIPPED_KEY
from trainers.checkpoints import checkpoint_files, restore_readable, write_checkpoint_state

# What a stop by signal exits with (README, Reproducibility): 128 + the signal number, as a shell reports a
# process killed by it; SIGUSR1 (SLURM's --signal=B:USR1@T before the time limit) exits like SIGTERM.
STOP_SIGNALS = ("SIGTERM", "SIGINT", "SIGUSR1")
EXIT_STATUS = {"SIGINT": 130, "SIGTERM": 143, "SIGUSR1": 143}
# --nonfinite skip: this many consecutive iterations with a skipped update stop the run all the same.
SKIP_PATIENCE = 100
log = run_folder.logger("training").info


class TrainingInterrupted(KeyboardInterrupt):
    """fit stopped on SIGTERM / SIGINT / SIGUSR1 after checkpointing the current step. A KeyboardInterrupt, so
    main.main reports it as an interruption; `exit_status` is the status the process should exit with."""

    def __init__(self, message, signal_name, step):
        super().__init__(message)
        self.signal_name, self.step = signal_name, step
        self.exit_status = EXIT_STATUS.get(signal_name, 130)


class NonFiniteLoss(run_folder.RunDirError):
    """A logged term or the weights became NaN/inf: training stops (one line, exit 2), no checkpoint of it kept."""


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
            # Said, as the first stop's line is: a second signal must not end the process in silence (issue 22).
            log(f"stopped by a second {name} before this step's checkpoint was written: continue with --resume "
                f"from the last checkpoint")
            sys.stdout.flush()
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


def _summary_image(tb, grid, step):
    with tb.as_default():
        tf.summary.image("samples", grid[None], step=step, max_outputs=1)


class TrainingLoop:
    """Iterations, logs, samples, checkpoints and their failure modes, shared by every trainer.

    Hooks: `describe(first)` (the opening line), `next_inputs()` (host side: the next batches),
    `run_step(inputs)` (the compiled step; it increments self.step and returns {name: scalar tensor}),
    `save_samples(step)` (optional: writes the sample file, returns its image grid (uint8 H x W x 3) for
    TensorBoard, or None), `finish(step, trained)` (after the
    last step, or at once when the run is already done: final weights, evaluation) and `checked_variables()`
    (what must be finite before a checkpoint is written).

    Defaults (what the translation trainers have in common; session 12, duplicate D10): next_inputs takes one
    batch from each of `self.iterators`, run_step calls `self._compiled_step(*inputs)`, checked_variables joins
    the variable lists named in `checked_lists`. The GANs and the classifier override all three."""

    skip_nonfinite = False
    workers = 1  # processes training together (--strategy multiworker): they must agree on when to stop
    checked_lists = ("g_vars", "d_vars")  # attributes, each a list of variables: checked_variables' default

    # ------------------------------------------------------------------ hooks
    def describe(self, first):
        raise NotImplementedError

    def next_inputs(self):
        return tuple(next(it) for it in self.iterators)

    def run_step(self, inputs):
        return self._compiled_step(*inputs)

    def save_samples(self, step):
        return None

    def checked_variables(self):
        return [v for name in self.checked_lists for v in getattr(self, name)]

    def agree_on_stop(self, requested):
        """Multi-worker runs: the stop signal any worker received (its name), else None -- decided together."""
        raise NotImplementedError

    # ------------------------------------------------------------------ checkpoints
    def _init_checkpoints(self, checkpoint, keep):
        self.checkpoint = checkpoint
        self._keep = keep
        self.manager = None
        self._saved_step = None
        self._finite_fn = None
        if self.run_dir is not None:
            self.manager = self._open_manager()

    def _open_manager(self):
        ckpt_dir = self.run_dir / "checkpoints"
        try:
            return tf.train.CheckpointManager(self.checkpoint, str(ckpt_dir), max_to_keep=self._keep)
        except ValueError:  # an empty or invalid `checkpoint` state file (a save interrupted at the worst time)
            write_checkpoint_state(ckpt_dir, [p for _, p in reversed(checkpoint_files(ckpt_dir))])
            return tf.train.CheckpointManager(self.checkpoint, str(ckpt_dir), max_to_keep=self._keep)

    def models(self):
        """The networks whose final weights go to models/ (none by default: the classifier saves its own file)."""
        return []

    def model_files(self):
        """{network: its file in models/}."""
        return {m: self.run_dir / "models" / f"{m.name}.weights.h5" for m in self.models()}

    def save_models(self):
        """Every network's weights, each file written atomically (issue 22, item 6): a kill or a full disk
        leaves no truncated file under its final name, so a missing file is all a resume has to look for."""
        (self.run_dir / "models").mkdir(exist_ok=True)
        for m, path in self.model_files().items():
            with run_folder.atomic_output(path) as tmp:
                try:
                    m.save_weights(str(tmp))
                except (RuntimeError, ValueError) as e:  # h5py's errors on a full disk are not all OSErrors
                    raise OSError(run_folder.write_cause(e)) from None

    def finish(self, step, trained):
        """The final weights after training, or when a finished run lacks them (killed after its last checkpoint,
        before models/ was written: the resume that finds nothing to train writes them from that checkpoint)."""
        missing = not all(p.is_file() for p in self.model_files().values())
        if trained or missing:
            with run_folder.writing(self.run_dir / "models"):
                self.save_models()
            if not trained:
                log(f"wrote the final weights of step {step} to {self.run_dir / 'models'} (the run lacked them)")

    def learning_rates(self):
        """[(optimizer, this invocation's learning rate)], set again after a restore: a checkpoint holds each
        optimizer's learning_rate variable, and --g_lr / --d_lr may change on resume (on_resume free, issue 22)."""
        return []

    def restore(self, step=None):
        """Restore the latest (or a given step's) checkpoint; returns the restored step or None.

        An unreadable latest checkpoint (truncated or garbled files) falls back to the newest readable one, said
        in one log line; the unreadable files are moved to checkpoints/unreadable/ and the state file lists the
        readable ones, so later saves and --sample see a consistent folder."""
        if self.manager is None:
            return None
        ckpt_dir = self.run_dir / "checkpoints"
        found = restore_readable(self.checkpoint, ckpt_dir, step=step)
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
        for opt, lr in self.learning_rates():
            opt.learning_rate.assign(lr)
        return self._saved_step

    def remove_partial_saves(self, quiet=False):
        """Delete the `ckpt-N_temp*` leftovers of saves that were killed (or failed) before they finished."""
        ckpt_dir = self.run_dir / "checkpoints"
        if not ckpt_dir.is_dir():
            return
        for p in ckpt_dir.glob("ckpt-*_temp*"):
            shutil.rmtree(p, ignore_errors=True) if p.is_dir() else p.unlink(missing_ok=True)
            if not quiet:
                log(f"removed {p.name}: the leftover of an interrupted checkpoint save")

    def _kept(self):
        return (f"the last good checkpoint is step {self._saved_step}" if self._saved_step is not None
                else "no checkpoint was saved")

    def _weights_finite(self):
        if self._finite_fn is None:
            variables = [v for v in self.checked_variables() if tf.as_dtype(v.dtype).is_floating]
            self._finite_fn = tf.function(lambda: tf.reduce_all(
                [tf.reduce_all(tf.math.is_finite(v)) for v in variables]))
        return bool(self._finite_fn())

    def save_checkpoint(self):
        """Checkpoint the current step, unless the weights went non-finite (NonFiniteLoss) or the write fails
        (run_folder.WriteFailed, the partial save removed): either way the last good checkpoint stays the latest."""
        step = int(self.step.numpy())
        if not self._weights_finite():
            raise NonFiniteLoss(f"non-finite weights after step {step}: training stopped, {self._kept()} (continue "
                                f"from it with --dir {self.run_dir} --resume and, e.g., lower learning rates)")
        try:
            self.manager.save(checkpoint_number=step)
        except (OSError, tf.errors.OpError) as e:
            self.remove_partial_saves(quiet=True)
            raise run_folder.WriteFailed(f"could not write checkpoint {self.run_dir / 'checkpoints'}/ckpt-{step} "
                                      f"({run_folder.write_cause(e)}): training stopped, {self._kept()}") from None
        self._saved_step = step

    # ------------------------------------------------------------------ logs
    def _flush(self, pending, loss_log, tb, durable=False):
        """Pending (step, tensor logs) -> floats, appended to losses.csv and TensorBoard. A non-finite value
        stops the run (the rows up to it written, then NonFiniteLoss names the term and the step); under
        --nonfinite skip, only SKIP_PATIENCE iterations in a row with a skipped update do."""
        rows = [(s, {k: float(v) for k, v in lg.items()}) for s, lg in pending]
        bad = None
        for i, (s, values) in enumerate(rows):
            if self.skip_nonfinite:
                self._skipping = self._skipping + 1 if values.get(SKIPPED_KEY, 0) > 0 else 0
                if self._skipping >= SKIP_PATIENCE:
                    bad = (i, s, None)
                    break
            elif not all(map(math.isfinite, values.values())):
                bad = (i, s, [k for k, v in values.items() if not math.isfinite(v)])
                break
        if bad is not None:
            rows = rows[:bad[0] + 1]
        loss_log.append(rows, durable=durable or bad is not None)
        try:
            with tb.as_default():
                for s, values in rows:
                    for k, v in values.items():
                        tf.summary.scalar(k, v, step=s)
        except (OSError, tf.errors.OpError) as e:
            self._warn("TensorBoard scalars", self.run_dir / "tb", e)
        if bad is not None:
            _, s, keys = bad
            if keys is None:
                what = f"{SKIP_PATIENCE} iterations in a row up to step {s} had a non-finite update (--nonfinite skip)"
            else:
                what = f"non-finite loss at step {s}: " + ", ".join(f"{k}={rows[-1][1][k]}" for k in keys)
            raise NonFiniteLoss(f"{what}; training stopped, {self._kept()} (continue from it with --dir "
                                f"{self.run_dir} --resume and, e.g., lower learning rates)")
        return rows

    def _warn(self, what, path, error):
        """A write that a resume does not need failed: one warning per kind, and training goes on."""
        if what not in self._warned:
            self._warned.add(what)
            log(f"warning: could not write {what} to {path} ({run_folder.write_cause(error)}); training goes on "
                      f"(checkpoints are what a resume needs)")

    def _optional_write(self, what, write, path):
        try:
            return write()
        except (OSError, ValueError, RuntimeError, tf.errors.OpError) as e:
            self._warn(what, path, e)

    # ------------------------------------------------------------------ the loop
    def fit(self):
        """Train from the run's last checkpoint (cfg.resume) or from step 0 to cfg.iterations; progress goes to the
        "coupled_gan.training" logger. -> the last step."""
        cfg = self.cfg
        self._warned, self._skipping = set(), 0
        self.remove_partial_saves()
        start = self.restore() if cfg.resume else None
        if start is None and cfg.resume:
            log(f"no checkpoint in {self.run_dir / 'checkpoints'}: starting from step 0")
        first = start or 0
        if first >= cfg.iterations:  # before losses.csv and TensorBoard are opened: a no-op resume changes no file
            log(f"nothing to do: the run is at step {first} and --iterations is {cfg.iterations}")
            self.finish(first, trained=False)
            return first
        loss_log = run_folder.LossLog(self.run_dir / "losses.csv", resume_step=first if cfg.resume else None)
        tb = tf.summary.create_file_writer(str(self.run_dir / "tb"))
        log(self.describe(first))
        log("compiling the training step: the first iteration takes longer (tens of seconds on a CPU)")
        pending, t0, step = [], time.time(), first
        with _StopOnSignal() as stop:
            while step < cfg.iterations:
                logs = self.run_step(self.next_inputs())
                step += 1
                pending.append((step, logs))  # tensors: no host sync until the next log point or checkpoint
                stopping = stop.requested  # read once: a signal arriving later in this step is seen at the next
                if self.workers > 1:  # every worker stops at the same step, or the others wait for it forever
                    stopping = self.agree_on_stop(stopping)
                last = step == cfg.iterations
                at_log = step % cfg.log_interval == 0 or last
                at_checkpoint = step % cfg.checkpoint_interval == 0 or last or stopping is not None
                if at_log or at_checkpoint:
                    # The rows up to a checkpoint are on disk (and finite) before the checkpoint is.
                    rows = self._flush(pending, loss_log, tb, durable=at_checkpoint)
                    pending = []
                    if at_log:
                        log(run_folder.progress_line(step, cfg.iterations, first, t0, rows[-1][1]))
                if step % (cfg.sample_interval or cfg.iterations) == 0 or last:
                    grid = self._optional_write("samples", lambda: self.save_samples(step), self.run_dir / "samples")
                    if grid is not None:  # the same grid in TensorBoard's Images tab
                        self._optional_write("TensorBoard images", lambda: _summary_image(tb, grid, step),
                                             self.run_dir / "tb")
                if at_checkpoint:
                    self._optional_write("TensorBoard scalars", tb.flush, self.run_dir / "tb")
                    self.save_checkpoint()
                    self._optional_write("the loss plot", lambda: run_folder.plot_losses(
                        loss_log, self.run_dir / "losses.png"), self.run_dir / "losses.png")
                if stopping is not None:
                    log(f"stopped by {stopping} at step {step}, checkpoint saved: continue with "
                        f"python main.py --dir {self.run_dir} --resume")
                    sys.stdout.flush()
                    raise TrainingInterrupted(f"stopped by {stopping} at step {step}", stopping, step)
        self._optional_write("TensorBoard scalars", tb.flush, self.run_dir / "tb")
        self.finish(step, trained=True)
        log(f"done: {step} iterations in {run_folder.format_duration(time.time() - t0)}; outputs in {self.run_dir}")
        sys.stdout.flush()
        return step
