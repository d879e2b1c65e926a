"""A run's checkpoint files (RUN/checkpoints/ckpt-N.*) and the keys its networks are saved under: what the
training loop (trainers/loop.py) writes and restores, and what `--sample` / `--evaluate` read (sampling.py).

- `net_variables(models)`: each network's variables under `vars_{name}` (the one key convention);
- `checkpoint_files(dir)`: every `ckpt-N.index` on disk, newest first, whatever the state file says;
- `restore_readable(checkpoint, dir)`: the newest readable one, unreadable newer ones skipped and said;
- `write_checkpoint_state(dir, paths)`: the `checkpoint` state file, rewritten atomically.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

import tensorflow as tf

import run_folder

CHECKPOINT_RE = re.compile(r"^ckpt-(\d+)\.index$")
# Errors that mean "these checkpoint files cannot be read" (truncated data: IndexError; truncated or garbled
# index: tf.errors.DataLossError / NotFoundError...), as opposed to a checkpoint of other options (ValueError,
# AssertionError), which no older checkpoint would cure.
UNREADABLE = (IndexError, EOFError, OSError, tf.errors.OpError)
log = run_folder.logger("training").info


def net_key(name) -> str:
    """The checkpoint key of network `name`'s variables (G1 -> vars_G1)."""
    return f"vars_{name}"


def net_variables(models) -> dict:
    """{net_key(name): every variable of that network}, for tf.train.Checkpoint. A Keras 3 model is not in
    tf.train.Checkpoint's object graph (only an optimizer's references to trainable weights would be saved), so
    every variable is tracked explicitly, by position: BatchNorm moving statistics and Dropout seed states
    included, or a resumed run would diverge."""
    return {net_key(m.name): [v.value for v in m.variables] for m in models}


def checkpoint_files(ckpt_dir):
    """[(step, path prefix)] of the checkpoints in `ckpt_dir`, newest first: every `ckpt-N.index` on disk,
    whatever the `checkpoint` state file says (it may be empty, or lag behind a save that was interrupted)."""
    d = Path(ckpt_dir)
    if not d.is_dir():
        return []
    found = [(int(m.group(1)), str(d / f"ckpt-{m.group(1)}")) for m in map(CHECKPOINT_RE.match, os.listdir(d)) if m]
    return sorted(found, reverse=True)


def restore_readable(checkpoint, ckpt_dir, step=None, partial=False):
    """Restore the newest readable checkpoint of `ckpt_dir` (or `step`'s) into `checkpoint`.

    -> (step, path, unreadable) where unreadable lists (path, error) of the newer checkpoints skipped, or None when
    the folder holds none. A fallback is said in one log line; no readable checkpoint at all is an
    run_folder.RunDirError. Errors other than unreadable files (a checkpoint of other options) propagate."""
    found = checkpoint_files(ckpt_dir)
    if not found:
        return None
    if step is not None:
        found = [(n, p) for n, p in found if n == step]
        if not found:
            kept = ", ".join(str(n) for n, _ in checkpoint_files(ckpt_dir))
            raise run_folder.RunDirError(f"no checkpoint for step {step} in {ckpt_dir} (kept: {kept})")
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
    raise run_folder.RunDirError(f"no readable checkpoint in {ckpt_dir}: {_describe(unreadable)}")


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
    run_folder.atomic_write_text(state, "\n".join(lines) + "\n")
