"""`--gan_type pix2pix` (issue 20, item 2): supervised image-to-image translation, Isola et al. 2017, on paired
data (data.load_paired: (x, y) of the same example), as the official code trains it
(junyanz/pytorch-CycleGAN-and-pix2pix, models/pix2pix_model.py):

    fake = G(x)                                                  (U-Net, translation_nets.unet_generator)
    D:   0.5 * (BCE(D(x, y), 1) + BCE(D(x, fake), 0))            backward_D: "(loss_D_fake + loss_D_real) * 0.5"
    G:   BCE(D(x, fake), 1) + lambda_L1 * mean|y - fake|         backward_G, lambda_L1 = --l1_weight (100)

D is the PatchGAN on concat(x, y) (translation_nets.patch_discriminator, --patch_layers), every BCE a mean over
its map of logits; G's objective is evaluated after D's update on the same fake (optimize_parameters: one
forward, D's step, then G's). Adam 2e-4 (0.5, 0.999) for both (the `pix2pix` preset), N(0, 0.02) init.

Samples: x | G(x) | y rows of a fixed batch of held-out pairs (split "test"), G in Keras inference mode (BatchNorm
moving statistics, no dropout). The official test.py runs G in training mode unless `--eval` is given (a
store_true flag, default off: dropout on and batch statistics at test time, the paper's "noise" as dropout);
the samples here are what the official `--eval` gives, deterministic from one step to the next, and so is the
evaluation of translations (`--evaluate`, translation_eval.py, through `Pix2PixTrainer.translators`).
"""
from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

import run_folder
import translation_nets
from config import ConfigError
from optimisers import SKIPPED_KEY, apply_if_finite, make_optimizer
from trainers.checkpoints import net_variables
from trainers.loop import TrainingLoop

UNET_BASE = 64  # the official ngf / ndf: --g_width multiplies the U-Net's


# ---------------------------------------------------------------------------------------------- the objectives
def bce_with_logits(logits, target):
    """Mean binary cross-entropy of sigmoid(logits) against the constant label `target` (PyTorch's
    BCEWithLogitsLoss, the official GANLoss 'vanilla'), over every patch of every image."""
    logits = tf.cast(logits, tf.float32)
    labels = tf.fill(tf.shape(logits), tf.cast(target, tf.float32))
    return tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(labels=labels, logits=logits))


def discriminator_loss(real_logits, fake_logits):
    """0.5 * (BCE(D(x, y), 1) + BCE(D(x, fake), 0)): the official backward_D halves D's loss, "which slows down
    the rate at which D learns relative to G" (Isola et al. 2017, sec. 3.3)."""
    return 0.5 * (bce_with_logits(real_logits, 1.0) + bce_with_logits(fake_logits, 0.0))


def l1_loss(target, fake):
    """mean |y - G(x)| over pixels and channels (PyTorch's L1Loss, the official criterionL1)."""
    return tf.reduce_mean(tf.abs(tf.cast(target, tf.float32) - tf.cast(fake, tf.float32)))


def generator_loss(fake_logits, target, fake, l1_weight):
    """-> {g_gan, g_l1, g_total}: BCE(D(x, fake), 1), mean |y - fake|, and g_gan + l1_weight * g_l1 (the
    objective, Isola et al. 2017 Eq. 4; official backward_G)."""
    gan, l1 = bce_with_logits(fake_logits, 1.0), l1_loss(target, fake)
    return {"g_gan": gan, "g_l1": l1, "g_total": gan + l1_weight * l1}


# ---------------------------------------------------------------------------------------------- the networks
def build_nets(cfg, shape):
    """(G, D) for examples of `shape` (H, W, C): the U-Net of depth log2(H) (base 64 * --g_width) and the
    --patch_layers PatchGAN on 2C channels, both with BatchNorm; an image too small for the PatchGAN (or not a
    power of two) is a ConfigError (one line). The trainer and --dry_run build these."""
    size, channels = int(shape[0]), int(shape[-1])
    try:
        g = translation_nets.unet_generator(size, channels, channels, base=max(1, round(UNET_BASE * cfg.g_width)),
                                            norm="batch", name="G")
        d = translation_nets.patch_discriminator(2 * channels, cfg.patch_layers, norm="batch", size=size, name="D")
    except ValueError as e:
        raise ConfigError(f"--gan_type pix2pix: {e} (--patch_layers {cfg.patch_layers}, --image_size {size})") \
            from None
    return g, d


def dry_run_rows(cfg, shape):
    """--dry_run's [(name, parameters, note)] (main._gan_rows asks the trainer)."""
    g, d = build_nets(cfg, shape)
    size = lambda m: int(sum(int(np.prod(w.shape)) for w in m.weights))  # noqa: E731
    n = cfg.patch_layers
    return [("G", size(g), f"U-Net, depth {translation_nets.unet_depth(int(shape[0]))}"),
            ("D", size(d), f"PatchGAN on concat(x, y), {n} layer{'s' if n != 1 else ''}, "
                           f"{translation_nets.patch_receptive_field(n)} px patches")]


class Pix2PixTrainer(TrainingLoop):
    """pix2pix on the shared loop (trainers/loop.py). `datasets` = [training pairs (infinite), held-out pairs
    (one pass)], as main.load_data gives them for a trainer whose data_kind is "paired"."""

    data_kind = "paired"   # main.load_data's table: data.load_paired
    domains = 1            # one generator (sampling.domain_count)
    dry_run_rows = staticmethod(dry_run_rows)

    def __init__(self, cfg, info, datasets, run_dir=None, strategy=None):
        # One device: config refuses --strategy / --cpu_replicas / --mixed_precision for pix2pix.
        self.cfg, self.info = cfg, info
        self.run_dir = Path(run_dir) if run_dir else None
        keras.utils.set_random_seed(cfg.seed)
        self.generator, self.discriminator = build_nets(cfg, tuple(info.shape))
        self.g_vars = list(self.generator.trainable_variables)
        self.d_vars = list(self.discriminator.trainable_variables)
        self.g_opt = make_optimizer(cfg.optimizer, cfg.g_lr, cfg.g_beta1, cfg.g_beta2)
        self.d_opt = make_optimizer(cfg.optimizer, cfg.d_lr, cfg.d_beta1, cfg.d_beta2)
        self.g_opt.build(self.g_vars)  # before any restore, or the slots would not be restored (keras#19389)
        self.d_opt.build(self.d_vars)
        self.step = tf.Variable(0, dtype=tf.int64, trainable=False, name="step")
        self.skip_nonfinite = cfg.nonfinite == "skip"
        train, test = datasets
        self.iterator = iter(train)
        self.sample_x, self.sample_y = _held_out_batch(test, cfg.sample_rows * cfg.sample_cols)
        self._compiled_step = tf.function(self.train_step, reduce_retracing=True)
        self._init_checkpoints(tf.train.Checkpoint(step=self.step, g_opt=self.g_opt, d_opt=self.d_opt,
                                                   it=self.iterator,
                                                   **net_variables([self.generator, self.discriminator])),
                               keep=cfg.keep_checkpoints)

    @staticmethod
    def translators(cfg, shape, models_dir) -> dict:
        """{(1, 2): G} (the translation protocol, issue 20 item 5; domain 1 is the input side of --direction): G
        rebuilt by build_nets from the run's config, its final weights loaded from models_dir/G.weights.h5, run in
        inference mode (as save_samples: the official test.py with --eval)."""
        g, _ = build_nets(cfg, tuple(shape))
        path = Path(models_dir) / f"{g.name}.weights.h5"
        if not path.is_file():
            raise ConfigError(f"{path} not found: the run has no final weights yet (they are written when training "
                              f"ends; finish it with --resume)")
        g.load_weights(str(path))
        return {(1, 2): tf.function(lambda x: g(x, training=False), reduce_retracing=True)}

    # ------------------------------------------------------------------ the step
    def _d(self, x, y):
        return self.discriminator(tf.concat([x, y], axis=-1), training=True)

    def train_step(self, x, y):
        """One iteration of the official optimize_parameters: fake = G(x) once (dropout and BatchNorm in training
        mode); D's update on discriminator_loss with the fake held fixed; then G's on generator_loss through the
        updated D and the same fake."""
        with tf.GradientTape() as g_tape:
            fake = self.generator(x, training=True)
        with tf.GradientTape() as d_tape:
            d_loss = discriminator_loss(self._d(x, y), self._d(x, tf.stop_gradient(fake)))
        skipped = apply_if_finite(self.d_opt, d_tape.gradient(d_loss, self.d_vars), self.d_vars, [d_loss],
                                  self.skip_nonfinite)
        with g_tape:  # G's tape goes on recording: its objective through the updated D
            logs = generator_loss(self._d(x, fake), y, fake, self.cfg.l1_weight)
        skipped += apply_if_finite(self.g_opt, g_tape.gradient(logs["g_total"], self.g_vars), self.g_vars,
                                   [logs["g_total"]], self.skip_nonfinite)
        self.step.assign_add(1)
        logs = {"d_loss": d_loss, **logs}
        if self.skip_nonfinite:  # the column exists only when skipping is on, as for the GANs
            logs[SKIPPED_KEY] = skipped
        return logs

    # ------------------------------------------------------------------ outputs
    def translate(self, x):
        """G(x) in inference mode (BatchNorm moving statistics, no dropout: the official test.py with --eval)."""
        return self.generator(x, training=False)

    def save_samples(self, step):
        """samples/step_N.png: for each group, a row of inputs x, their translations G(x) and the targets y."""
        n = len(self.sample_x)
        cols = min(self.cfg.sample_cols, n)
        rows = min(self.cfg.sample_rows, n // cols)
        fake = self.translate(self.sample_x).numpy()
        grid = run_folder.pair_grid([a[:rows * cols] for a in (self.sample_x, fake, self.sample_y)], rows, cols)
        path = self.run_dir / "samples" / f"step_{step:07d}.png"
        path.parent.mkdir(exist_ok=True)
        run_folder.save_png(path, grid)
        return grid

    def models(self):
        """The networks saved in models/ (G.weights.h5, D.weights.h5; TrainingLoop.finish)."""
        return [self.generator, self.discriminator]

    def learning_rates(self):
        """Set again after a restore (TrainingLoop.restore): --g_lr / --d_lr are free on resume."""
        return [(self.g_opt, self.cfg.g_lr), (self.d_opt, self.cfg.d_lr)]

    # ------------------------------------------------------------------ the loop's hooks (trainers/loop.py)
    def describe(self, first):
        return (f"training pix2pix on {self.cfg.data_name} ({self.cfg.direction}, {self.info.sizes[0]} training "
                f"pairs, {self.info.shape}) from step {first} to {self.cfg.iterations} in {self.run_dir}")

    def next_inputs(self):
        """(x, y): one batch of the one paired stream (run_step and checked_variables: TrainingLoop's defaults)."""
        return next(self.iterator)


def _held_out_batch(test, n):
    """The first `n` held-out pairs (fewer if the split holds fewer) -> (x, y) float32 arrays."""
    xs, ys, have = [], [], 0
    for x, y in test:
        xs.append(x.numpy())
        ys.append(y.numpy())
        have += len(xs[-1])
        if have >= n:
            break
    return np.concatenate(xs)[:n], np.concatenate(ys)[:n]
