"""Generating from a trained run: N pairs from the same z, and slerp latent walks (thesis prototype figures).

    python main.py --sample RUN_DIR --num 1000 --out pairs.npz [--step S] [--latent_walk]

`pairs.npz` holds `a` and `b` (N, H, W, C) float32 in [-1, 1] (pair i generated from the same z) and `z`.
A UNIT run (issue 20 item 4; a trainer class with `joint_generators`) samples G1(z), G2(z) from its models/ weights
(the final ones, what --evaluate scores), z ~ N(0, I) of its latent shape (N, 1, 1, C).
"""
from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import numpy as np
import tensorflow as tf

import nets
import run_folder
from config import Config, ConfigError
from trainers import get_trainer
from trainers.base import net_options
from trainers.checkpoints import checkpoint_files, net_variables, restore_readable


@dataclass
class LoadedRun:
    cfg: Config
    generators: list
    step: int
    latent_shape: Optional[tuple] = None   # a joint_generators run's z shape (None: (cfg.noise_dim,))
    noise_type: Optional[str] = None       # its z distribution (None: cfg.noise_type)


def load_run_config(run_dir) -> Config:
    """The Config a run folder holds (its config.json, validated by Config.load); a folder without one is refused
    (ConfigError, one line). report.py reads config.json without TensorFlow and without validation, on purpose."""
    path = Path(run_dir) / "config.json"
    if not path.is_file():
        raise ConfigError(f"{run_dir} holds no run (config.json missing)")
    return Config.load(path)


def domain_count(cfg) -> int:
    """How many generators a run of `cfg` trains: its trainer's `domains` (trainers/)."""
    return get_trainer(cfg.gan_type).domains


def example_shape(cfg) -> tuple:
    """The shape of one training example, from the run's options (data.py: RGB at --image_size; the toy ring: 2-D
    points); main._example_shape says the same for --dry_run before TensorFlow is imported."""
    return (2,) if cfg.is_toy else (cfg.image_size, cfg.image_size, 3)


def models_step(run_dir, cfg) -> tuple:
    """(step, note or None) of the weights in models/: the newest checkpoint's step (models/ is written from it at
    the end of training), else the configured iterations (None for a hand-written config without them)."""
    found = checkpoint_files(Path(run_dir) / "checkpoints")
    if found:
        return found[0][0], None
    if cfg.iterations is None:
        return None, "no checkpoint found and no iterations in the config: the step is unknown"
    return int(cfg.iterations), f"no checkpoint found: step taken as the run's --iterations ({cfg.iterations:,})"


def load_run(run_dir, step=None) -> LoadedRun:
    """Rebuild a run's generators from its config, as its trainer built them (trainers.base.net_options), and
    restore them from its latest readable (or `step`'s) checkpoint."""
    run_dir = Path(run_dir)
    cfg = load_run_config(run_dir)
    if cfg.gan_type == "classifier":
        raise ConfigError(f"{run_dir} holds a classifier run: it has no generators to sample "
                          f"(load its classifier.keras with classifiers.load_classifier)")
    if hasattr(get_trainer(cfg.gan_type), "joint_generators"):
        return _load_joint(run_dir, cfg, step)
    gens = nets.build_generators(cfg.arch, net_options(cfg, example_shape(cfg)[-1]), domains=domain_count(cfg),
                                 shared=cfg.shared_layers_g)
    counter = tf.Variable(0, dtype=tf.int64)
    ckpt = _Strict(step=counter, **net_variables(gens))
    # The newest readable checkpoint (a truncated latest one falls back, said in one line), whatever the
    # `checkpoint` state file says.
    try:
        found = restore_readable(ckpt, run_dir / "checkpoints", step=step)
    except run_folder.RunDirError:  # already one line (no checkpoint of that step, none readable)
        raise
    except (AssertionError, ValueError) as e:  # a generator variable missing from the checkpoint, or reshaped
        raise ConfigError(f"the checkpoint in {run_dir} does not hold this run's generators "
                          f"({' '.join(str(e).split())[:300]})") from None
    if found is None:
        raise ConfigError(f"{run_dir} has no checkpoint yet")
    return LoadedRun(cfg, gens, int(counter.numpy()))


def _load_joint(run_dir, cfg, step) -> LoadedRun:
    """A translation run with same-z pairs (UNIT): G1, G2 from models/ (its trainer's joint_generators), whose step
    is the newest checkpoint's; another --step is refused (only the final weights are in models/)."""
    at, _ = models_step(run_dir, cfg)
    if step is not None and int(step) != at:
        raise ConfigError(f"--step {step}: a {cfg.gan_type} run is sampled from its final weights in "
                          f"{run_dir / 'models'} (step {at}); leave --step out")
    if not (run_dir / "models" / "G1.weights.h5").is_file():
        raise ConfigError(f"{run_dir / 'models'} holds no G1.weights.h5: the run has not finished")
    latent, g1, g2 = get_trainer(cfg.gan_type).joint_generators(cfg, example_shape(cfg), run_dir / "models")
    return LoadedRun(cfg, [g1, g2], at, latent_shape=tuple(latent), noise_type="normal")


class _Strict:
    """A checkpoint of the step and the generators whose restore fails (AssertionError) unless the file holds
    every one of their variables (issue 19, review A16): a renamed key must never leave freshly initialised nets
    to sample from. What else the trainer saved (optimizers, discriminators, iterators) is not read."""

    def __init__(self, **objects):
        self.keys = sorted(objects)
        self.checkpoint = tf.train.Checkpoint(**objects)

    def restore(self, path):
        saved = {name.split("/")[0] for name, _ in tf.train.list_variables(path)}
        missing = [k for k in self.keys if k not in saved]
        if missing:
            raise AssertionError(f"{Path(path).name} has no {', '.join(missing)}; it holds {', '.join(sorted(saved))}")
        status = self.checkpoint.restore(path)
        status.expect_partial()  # silences TensorFlow's warning about the trainer's objects left unread
        status.assert_existing_objects_matched()  # e.g. fewer variables saved under a key than the net has
        return status


def sample_pairs(generators, num, seed=0, batch_size=256, noise_type="uniform", latent_shape=None):
    """{'z': (N, *latent_shape), 'a': G1(z), 'b': G2(z)} in inference mode; the same z feeds every generator (the
    shared blocks of a CoGAN run once, nets.forward_coupled). z as the run trained (Config.noise_type): uniform in
    [-1, 1] or N(0, 1); latent_shape default (noise_dim,)."""
    shape = [num, *(latent_shape or generators[0].input_spec_shape[:1])]
    zgen = tf.random.Generator.from_seed(seed)
    z = zgen.normal(shape) if noise_type == "normal" else zgen.uniform(shape, -1.0, 1.0)
    outs = [[] for _ in generators]
    generate = tf.function(lambda z: [x for x, _ in nets.forward_coupled(generators, z)], reduce_retracing=True)
    for i in range(0, num, batch_size):
        for k, x in enumerate(generate(z[i:i + batch_size])):
            outs[k].append(x.numpy())
    result = {"z": z.numpy()}
    for name, chunks in zip("ab", outs):
        result[name] = np.concatenate(chunks).astype(np.float32)
    return result


def slerp(z0, z1, t):
    """Spherical interpolation between two latent vectors (White 2016), falling back to lerp when parallel."""
    z0, z1 = np.asarray(z0, np.float64), np.asarray(z1, np.float64)
    cos = np.dot(z0, z1) / (np.linalg.norm(z0) * np.linalg.norm(z1))
    omega = np.arccos(np.clip(cos, -1.0, 1.0))
    if np.sin(omega) < 1e-8:
        return (1 - t) * z0 + t * z1
    return (np.sin((1 - t) * omega) * z0 + np.sin(t * omega) * z1) / np.sin(omega)


def latent_walk(generators, rows=4, steps=8, seed=0, latent_shape=None, normal=False):
    """One walk per row group between two random z (uniform in [-1, 1], or N(0, I) when `normal`; latent_shape
    default (noise_dim,)); returns the thesis-layout grid (uint8)."""
    shape = tuple(latent_shape or generators[0].input_spec_shape[:1])
    dim = int(np.prod(shape))
    rng = np.random.default_rng(seed)
    zs = []
    for _ in range(rows):
        z0, z1 = rng.standard_normal((2, dim)) if normal else rng.uniform(-1, 1, (2, dim))
        zs.extend(slerp(z0, z1, t) for t in np.linspace(0, 1, steps))
    z = tf.constant(np.array(zs, np.float32).reshape((-1,) + shape))
    return run_folder.pair_grid([g(z, training=False).numpy() for g in generators], rows, steps)


def _inside(path, folder) -> bool:
    """Whether `path` lies in `folder` (links resolved)."""
    return Path(folder).resolve() in Path(path).resolve().parents


def _check_size(run_dir, num):
    """Refuse up front (issue 22, item 7) what the pairs would not fit in: z, and every domain's images twice
    (the batches, then the concatenated array), float32. A run whose config cannot be read is left to load_run."""
    try:
        cfg = load_run_config(run_dir)
        per_pair = cfg.noise_dim + domain_count(cfg) * int(np.prod(example_shape(cfg)))
    except Exception:  # noqa: BLE001  (load_run names what is wrong with the run)
        return
    short = run_folder.memory_shortfall(2 * 4 * float(num) * per_pair, f"--num {num:,}")
    if short:
        raise ConfigError(short)


def sample_main(argv):
    p = argparse.ArgumentParser(prog="main.py --sample", description="Write generated pairs of a trained run.")
    p.error = lambda m: p.exit(2, f"error: {m} (see --help)\n")
    p.add_argument("--sample", required=True, metavar="RUN_DIR")
    p.add_argument("--num", type=int, default=1000)
    p.add_argument("--out", required=True, help="output .npz")
    p.add_argument("--step", type=int, help="checkpoint step (default: the latest)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--latent_walk", action="store_true", help="also write OUT_walk.png (slerp grids)")
    p.add_argument("--overwrite", action="store_true")
    a = p.parse_args(argv)
    if a.num < 1:
        raise ConfigError(f"--num must be at least 1 (got {a.num})")
    if not 0 <= a.seed < 2 ** 32:
        raise ConfigError(f"--seed must be in [0, 2**32) (got {a.seed})")
    out = Path(a.out)
    if out.suffix != ".npz":
        raise ConfigError(f"--out must name a .npz file (got {out})")
    if out.exists() and not a.overwrite:
        raise ConfigError(f"{out} exists: pass --overwrite to replace it")
    _check_size(a.sample, a.num)
    if _inside(out, a.sample):  # writing into the run: one writer at a time (issue 22, item 1)
        run_folder.lock_run_dir(a.sample)
    run = load_run(a.sample, a.step)
    pairs = sample_pairs(run.generators, a.num, seed=a.seed, noise_type=run.noise_type or run.cfg.noise_type,
                         latent_shape=run.latent_shape)
    out.parent.mkdir(parents=True, exist_ok=True)
    with run_folder.atomic_output(out) as tmp:  # a kill or a full disk leaves no truncated .npz (issue 22)
        np.savez(tmp, **pairs)
    print(f"wrote {a.num} pairs from step {run.step} of {a.sample} to {out}")
    if a.latent_walk:
        if run.cfg.is_toy:
            raise ConfigError("--latent_walk draws image grids; this run generates 2-D points")
        walk = out.with_name(out.stem + "_walk.png")
        run_folder.save_png(walk, latent_walk(run.generators, seed=a.seed, latent_shape=run.latent_shape,
                                              normal=run.noise_type == "normal"))
        print(f"wrote latent walks to {walk}")
    return out
