"""`--gan_type cyclegan` (Zhu et al. 2017; issue 20, item 3): the generator and discriminator objectives, the
image pool of past fakes, the linear learning-rate decay, and the trainer (CycleGANTrainer) that runs them on the
shared loop (trainers/loop.py) with unpaired data (data.load_pair).

The reference is the official PyTorch code (junyanz/pytorch-CycleGAN-and-pix2pix): models/cycle_gan_model.py
(backward_G, backward_D_basic), util/image_pool.py (ImagePool) and models/networks.py (get_scheduler 'linear').

Names here follow the domains: g_ab maps A to B, g_ba maps B to A, d_a judges domain A images (real A vs
g_ba(b)), d_b domain B images; a term's suffix names the domain of the images it compares. The official code
names by network instead: G_A = g_ab, G_B = g_ba, D_A = d_b, D_B = d_a, loss_G_A = gan_ab, loss_G_B = gan_ba,
loss_cycle_A = cycle_a, loss_cycle_B = cycle_b, loss_idt_A (G_A on real_B) = idt_b, loss_idt_B = idt_a.
"""
from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

import losses
import run_folder
import translation_nets
from config import ConfigError
from optimisers import SKIPPED_KEY, apply_if_finite, make_optimizer
from trainers.checkpoints import net_variables
from trainers.loop import TrainingLoop

POOL_SIZE = 50           # official --pool_size (sec. 4 of the paper: "a history of the 50 previously generated images")
LAMBDA_CYCLE = 10.0      # official --lambda_A / --lambda_B
LAMBDA_IDENTITY = 0.5    # official --lambda_identity: the identity weight relative to the cycle weight
DISCRIMINATOR_HALF = 0.5  # official backward_D_basic: (loss_D_real + loss_D_fake) * 0.5


def _l1(x, y):
    """Mean absolute error over every element (torch.nn.L1Loss, reduction 'mean'), in float32."""
    return tf.reduce_mean(tf.abs(tf.cast(x, tf.float32) - tf.cast(y, tf.float32)))


# ------------------------------------------------------------------------------------------ objectives
def cycle_images(g_ab, g_ba, real_a, real_b, identity=True, training=True):
    """The generators' images of one step (official forward(), plus backward_G's identity images):
    fake_b = g_ab(a), rec_a = g_ba(fake_b), fake_a = g_ba(b), rec_b = g_ab(fake_a), and if `identity`
    same_b = g_ab(b), same_a = g_ba(a). The trainer keeps fake_a / fake_b for the pools and the critics' step."""
    fake_b = g_ab(real_a, training=training)
    fake_a = g_ba(real_b, training=training)
    images = dict(fake_b=fake_b, rec_a=g_ba(fake_b, training=training),
                  fake_a=fake_a, rec_b=g_ab(fake_a, training=training))
    if identity:
        images.update(same_b=g_ab(real_b, training=training), same_a=g_ba(real_a, training=training))
    return images


def generator_terms(images, d_a, d_b, real_a, real_b, loss, lambda_cycle=LAMBDA_CYCLE,
                    lambda_identity=LAMBDA_IDENTITY, lambda_cycle_b=None, training=True):
    """The terms of official backward_G on `images` (cycle_images) and their one sum `total`, over both
    directions: both generators descend the same total, so the forward cycle ||g_ba(g_ab(a)) - a||_1 reaches
    g_ab as well as g_ba (Zhu et al. 2017, Eq. 3 with Eq. 2). `lambda_cycle` is lambda_A, `lambda_cycle_b` lambda_B
    (default: the same). As the official code, each identity term is weighted by the cycle weight of the domain
    its images come from times `lambda_identity`: idt_b = lambda_B * lambda_idt * |g_ab(b) - b|, and the terms
    are 0 (no net call) when lambda_identity is 0. `loss`: a losses.GanLoss (the official CycleGAN uses lsgan)."""
    lam_a = float(lambda_cycle)
    lam_b = lam_a if lambda_cycle_b is None else float(lambda_cycle_b)
    terms = dict(gan_ab=loss.generator(d_b(images["fake_b"], training=training)),
                 gan_ba=loss.generator(d_a(images["fake_a"], training=training)),
                 cycle_a=lam_a * _l1(images["rec_a"], real_a),
                 cycle_b=lam_b * _l1(images["rec_b"], real_b))
    if lambda_identity > 0:
        terms.update(idt_a=lam_a * lambda_identity * _l1(images["same_a"], real_a),
                     idt_b=lam_b * lambda_identity * _l1(images["same_b"], real_b))
    else:
        terms.update(idt_a=tf.constant(0.0), idt_b=tf.constant(0.0))
    terms["total"] = tf.add_n(list(terms.values()))
    return terms


def generator_objective(g_ab, g_ba, d_a, d_b, real_a, real_b, loss, lambda_cycle=LAMBDA_CYCLE,
                        lambda_identity=LAMBDA_IDENTITY, lambda_cycle_b=None, training=True):
    """-> {gan_ab, gan_ba, cycle_a, cycle_b, idt_a, idt_b, total}: official backward_G's loss_G and its terms,
    for one update of both generators together (generator_terms on cycle_images)."""
    images = cycle_images(g_ab, g_ba, real_a, real_b, identity=lambda_identity > 0, training=training)
    return generator_terms(images, d_a, d_b, real_a, real_b, loss, lambda_cycle, lambda_identity, lambda_cycle_b,
                           training)


def discriminator_objective(d, real, fake_from_pool, loss, training=True):
    """0.5 * loss.discriminator(d(real), d(fake)): official backward_D_basic (the 0.5 slows D relative to G; with
    lsgan it is Mao et al.'s Eq. 2 exactly). The fakes come from the image pool and carry no gradient to G."""
    fake = tf.stop_gradient(fake_from_pool)
    return DISCRIMINATOR_HALF * loss.discriminator(d(real, training=training), d(fake, training=training))


# ------------------------------------------------------------------------------------------ image pool
def pool_query(stored, count, images, uniform, index):
    """One ImagePool.query (official util/image_pool.py) as a pure function: -> (returned, stored, count).

    Image by image, in batch order: while fewer than `size` are stored, the image goes to the next free slot
    and is returned; once full, if uniform[i] > 0.5 the stored image at index[i] is returned and replaced by the
    new one, else the new image is returned and nothing stored. An image a batch stored earlier can be returned
    to a later image of the same batch, as in the official loop. size 0: the images pass through."""
    stored, count = tf.convert_to_tensor(stored), tf.convert_to_tensor(count)  # values, if given the variables
    size = tf.shape(stored)[0]
    n = tf.shape(images)[0]
    images = tf.cast(images, stored.dtype)

    def body(i, stored, count, out):
        image = images[i]
        filling = count < size
        swap = tf.logical_and(tf.logical_not(filling), uniform[i] > 0.5)
        slot = tf.where(filling, count, index[i])
        old = stored[slot]
        returned = tf.where(swap, old, image)
        kept = tf.where(tf.logical_or(filling, swap), image, old)  # writing `old` back leaves the slot as it was
        stored = tf.tensor_scatter_nd_update(stored, [[slot]], kept[None])
        return i + 1, stored, count + tf.cast(filling, count.dtype), out.write(i, returned)

    if stored.shape[0] == 0:
        return images, stored, count
    out = tf.TensorArray(stored.dtype, size=n, element_shape=stored.shape[1:])
    _, stored, count, out = tf.while_loop(lambda i, *_: i < n, body, (tf.constant(0), stored, count, out))
    return out.stack(), stored, count


class ImagePool(tf.Module):
    """A history of generated images for one discriminator (Shrivastava et al. 2017; CycleGAN sec. 4), the
    official ImagePool: its images and count are tf.Variables, so that a tf.train.Checkpoint holding the pool
    resumes it and a compiled step can query it. The random numbers of step t are drawn statelessly from
    (seed, t), so a resumed run draws what an uninterrupted one draws (unlike the official `random` module).

    One pool per device: under a distribution strategy the trainer must give each replica its own pool or gather
    the fakes first (a mirrored variable cannot be assigned different values per replica)."""

    def __init__(self, image_shape, size=POOL_SIZE, seed=0, name=None):
        super().__init__(name=name)
        self.size, self.seed = int(size), int(seed)
        self.images = tf.Variable(tf.zeros([self.size, *image_shape], tf.float32), trainable=False, name="images")
        self.count = tf.Variable(0, dtype=tf.int32, trainable=False, name="count")

    def draws(self, step, n):
        """-> (uniform [n] in [0, 1), index [n] in [0, size)): step `step`'s random numbers, independent streams
        split from the seed pair (seed, step)."""
        pair = tf.stack([tf.constant(self.seed, tf.int64), tf.cast(step, tf.int64)])
        u_seed, i_seed = tf.unstack(tf.random.experimental.stateless_split(pair, 2))
        uniform = tf.random.stateless_uniform([n], u_seed)
        index = tf.random.stateless_uniform([n], i_seed, 0, max(self.size, 1), dtype=tf.int32)
        return uniform, index

    def query(self, images, step):
        """The images the discriminator sees at step `step` (official query); updates the pool."""
        uniform, index = self.draws(step, tf.shape(images)[0])
        returned, stored, count = pool_query(self.images, self.count, images, uniform, index)
        if self.size:
            self.images.assign(stored)
            self.count.assign(count)
        return returned


# ------------------------------------------------------------------------------------------ learning rate
def linear_decay_factor(epoch, n_epochs, n_epochs_decay, epoch_count=1):
    """The official get_scheduler('linear') lambda_rule: 1 - max(0, epoch + epoch_count - n_epochs) /
    (n_epochs_decay + 1), `epoch` the scheduler's count of steps (0 for the first epoch trained). Clipped at 0:
    past n_epochs + n_epochs_decay epochs, which the official loop never trains, it would turn negative."""
    return max(0.0, 1.0 - max(0, epoch + epoch_count - n_epochs) / float(n_epochs_decay + 1))


@keras.saving.register_keras_serializable(package="coupled_gan")
class LinearDecay(keras.optimizers.schedules.LearningRateSchedule):
    """initial_lr * linear_decay_factor(epoch) over iterations: constant for n_epochs, then linear towards 0
    over n_epochs_decay (official defaults 100 + 100, lr 2e-4).

    Epochs to iterations: the schedule is called with the count of updates applied so far, t, and the epoch is
    t // iterations_per_epoch: the scheduler steps once after each epoch, as in the official versions whose
    train.py calls update_learning_rate() at the end of an epoch with lambda_rule 1 - max(0, epoch + epoch_count -
    niter) / (niter_decay + 1) (the niter / niter_decay options; review 10 B5). With epoch_count 1 the factor is 1
    for the first n_epochs epochs, then 1 - k / (n_epochs_decay + 1) in the k-th epoch after them, the last of the
    n_epochs + n_epochs_decay epochs at 1 / (n_epochs_decay + 1). Current master keeps that rule (named n_epochs)
    but steps at an epoch's start, and the earliest 'lambda' policy stepped at the end with epoch + 1: both start
    decaying one epoch earlier and train the last epoch at rate 0 (epoch_count + 1 here). The trainer's epoch is
    one iteration, so the difference is one iteration."""

    def __init__(self, initial_lr, n_epochs, n_epochs_decay, iterations_per_epoch, epoch_count=1):
        if min(n_epochs, n_epochs_decay) < 0 or iterations_per_epoch < 1:
            raise ValueError("LinearDecay needs n_epochs >= 0, n_epochs_decay >= 0 and iterations_per_epoch >= 1")
        self.initial_lr, self.n_epochs, self.n_epochs_decay = float(initial_lr), int(n_epochs), int(n_epochs_decay)
        self.iterations_per_epoch, self.epoch_count = int(iterations_per_epoch), int(epoch_count)

    def __call__(self, step):
        epoch = tf.math.floordiv(tf.cast(step, tf.int64), self.iterations_per_epoch)
        beyond = tf.maximum(tf.constant(0, tf.int64), epoch + self.epoch_count - self.n_epochs)
        factor = 1.0 - tf.cast(beyond, tf.float32) / float(self.n_epochs_decay + 1)
        return self.initial_lr * tf.maximum(0.0, factor)

    def get_config(self):
        return dict(initial_lr=self.initial_lr, n_epochs=self.n_epochs, n_epochs_decay=self.n_epochs_decay,
                    iterations_per_epoch=self.iterations_per_epoch, epoch_count=self.epoch_count)


# ------------------------------------------------------------------------------------------ the trainer
RESNET_BASE = 64    # official ngf: --g_width multiplies the ResNet generators' widths (the PatchGANs keep ndf 64)
PATCH_LAYERS = 3    # official n_layers_D: the 70x70 PatchGAN
NET_NAMES = ("G_AB", "G_BA", "D_A", "D_B")   # G_AB = official G_A, G_BA = G_B, D_A = official D_B, D_B = D_A


def build_nets(cfg, shape):
    """{G_AB, G_BA, D_A, D_B} for images of `shape` (H, W, C): two ResNet generators (--resnet_blocks blocks, base
    64 * --g_width; reflection padding, instance norm without affine) and two 70x70 PatchGANs with instance norm
    (official define_G 'resnet_9blocks' / 'resnet_6blocks', define_D 'basic', norm 'instance', N(0, 0.02) init).
    An image the PatchGAN cannot see is a ConfigError (one line). The trainer, --dry_run and translators build these."""
    size, channels = int(shape[0]), int(shape[-1])
    base = max(1, round(RESNET_BASE * cfg.g_width))
    try:
        g = [translation_nets.resnet_generator(size, channels, channels, base=base, n_blocks=cfg.resnet_blocks,
                                               norm="instance", name=name) for name in NET_NAMES[:2]]
        d = [translation_nets.patch_discriminator(channels, PATCH_LAYERS, norm="instance", size=size, name=name)
             for name in NET_NAMES[2:]]
    except ValueError as e:
        raise ConfigError(f"--gan_type cyclegan: {e} (--image_size {size})") from None
    return dict(zip(NET_NAMES, g + d))


def dry_run_rows(cfg, shape):
    """--dry_run's [(name, parameters, note)] (main._gan_rows asks the trainer)."""
    nets = build_nets(cfg, shape)
    size = lambda m: int(sum(int(np.prod(w.shape)) for w in m.weights))  # noqa: E731
    patch = (f"PatchGAN, {PATCH_LAYERS} layers, {translation_nets.patch_receptive_field(PATCH_LAYERS)} px patches, "
             f"on domain")
    notes = dict(G_AB=f"ResNet generator A -> B, {cfg.resnet_blocks} blocks",
                 G_BA=f"ResNet generator B -> A, {cfg.resnet_blocks} blocks",
                 D_A=f"{patch} A images", D_B=f"{patch} B images")
    return [(name, size(nets[name]), notes[name]) for name in NET_NAMES]


def decay_halves(iterations):
    """(n_epochs, n_epochs_decay) of the official linear policy in iterations (one iteration an "epoch"): the rate
    is constant over the first half of --iterations (the odd one there) and falls linearly over the second."""
    return (iterations + 1) // 2, iterations // 2


def pool_seeds(seed):
    """The two image pools' seeds (fake A images, fake B images): distinct from each other and across --seed."""
    return 2 * int(seed), 2 * int(seed) + 1


class CycleGANTrainer(TrainingLoop):
    """CycleGAN on the shared loop (trainers/loop.py), as the official optimize_parameters trains it
    (models/cycle_gan_model.py), one iteration per batch of one image from each domain (batch 1, the `cyclegan`
    preset):

        forward:  fake_b = G_AB(a), rec_a = G_BA(fake_b), fake_a = G_BA(b), rec_b = G_AB(fake_a)     (cycle_images)
        G step:   ONE optimizer over both generators' variables (official: Adam over itertools.chain(G_A, G_B)),
                  on generator_objective's total: both GAN terms, both cycles, both identity terms
        D step:   ONE optimizer over both critics' variables, on discriminator_objective(D_B, b, pool_b(fake_b))
                  + discriminator_objective(D_A, a, pool_a(fake_a)); the fakes are forward()'s, from before the G
                  step, each passed through its own ImagePool of --pool_size

    Learning rate (official --lr_policy linear, n_epochs = n_epochs_decay = 100 of an epoch each): here an
    "epoch" is one iteration (iterations_per_epoch 1), n_epochs = n_epochs_decay = --iterations / 2
    (decay_halves): the rate of the update at step t (0-based) is lr * linear_decay_factor(t, n_epochs,
    n_epochs_decay), constant for the first half, then down to lr / (n_epochs_decay + 1) at the last step. The
    compiled step assigns it to each optimizer's learning-rate variable before its update, from the trainer's own
    step counter (self.step, in the checkpoint) and this invocation's --g_lr / --d_lr / --iterations: a resume
    applies exactly the rates an uninterrupted run applies (and a changed --iterations or --g_lr on resume, both
    free, takes effect at once), and skipped updates (--nonfinite skip) do not shift the schedule, as the
    optimizer's own iteration count would. learning_rates() is therefore empty: TrainingLoop.restore has no base
    rate to put back.

    The pools' images and counts are in the checkpoint, and their draws are stateless in (pool seed, step): a
    resumed run draws what an uninterrupted one does. `datasets` = [domain A batches, domain B batches]
    (main.load_data: data.load_pair, unpaired)."""

    domains = 2
    dry_run_rows = staticmethod(dry_run_rows)

    def __init__(self, cfg, info, datasets, run_dir=None, strategy=None):
        # One device: config refuses --strategy / --cpu_replicas / --mixed_precision for cyclegan (the pools
        # are one per device, ImagePool's docstring).
        self.cfg, self.info = cfg, info
        self.run_dir = Path(run_dir) if run_dir else None
        keras.utils.set_random_seed(cfg.seed)
        shape = tuple(info.shape)
        self.nets = build_nets(cfg, shape)
        self.g_ab, self.g_ba, self.d_a, self.d_b = (self.nets[n] for n in NET_NAMES)
        self.loss = losses.get_loss(cfg.loss)
        self.g_vars = list(self.g_ab.trainable_variables) + list(self.g_ba.trainable_variables)
        self.d_vars = list(self.d_a.trainable_variables) + list(self.d_b.trainable_variables)
        self.g_opt = make_optimizer(cfg.optimizer, cfg.g_lr, cfg.g_beta1, cfg.g_beta2)
        self.d_opt = make_optimizer(cfg.optimizer, cfg.d_lr, cfg.d_beta1, cfg.d_beta2)
        self.g_opt.build(self.g_vars)  # before any restore, or the slots would not be restored (keras#19389)
        self.d_opt.build(self.d_vars)
        halves = decay_halves(cfg.iterations)
        self.g_rate = LinearDecay(cfg.g_lr, *halves, iterations_per_epoch=1)
        self.d_rate = LinearDecay(cfg.d_lr, *halves, iterations_per_epoch=1)
        seed_a, seed_b = pool_seeds(cfg.seed)
        self.pool_a = ImagePool(shape, cfg.pool_size, seed=seed_a, name="pool_a")   # fake A images, for D_A
        self.pool_b = ImagePool(shape, cfg.pool_size, seed=seed_b, name="pool_b")   # fake B images, for D_B
        self.step = tf.Variable(0, dtype=tf.int64, trainable=False, name="step")
        self.skip_nonfinite = cfg.nonfinite == "skip"
        train_a, train_b = datasets
        self.iterators = [iter(train_a), iter(train_b)]
        n = cfg.sample_rows * cfg.sample_cols
        self.sample_a, self.sample_b = _first_images(train_a, n), _first_images(train_b, n)
        self._compiled_step = tf.function(self.train_step, reduce_retracing=True)
        self._init_checkpoints(tf.train.Checkpoint(step=self.step, g_opt=self.g_opt, d_opt=self.d_opt,
                                                   it_a=self.iterators[0], it_b=self.iterators[1],
                                                   pool_a=self.pool_a, pool_b=self.pool_b,
                                                   **net_variables([self.nets[n] for n in NET_NAMES])),
                               keep=cfg.keep_checkpoints)

    # ------------------------------------------------------------------ the step
    def train_step(self, a, b):
        """One iteration of the official optimize_parameters (the class docstring). -> the logged terms."""
        cfg = self.cfg
        self.g_opt.learning_rate.assign(self.g_rate(self.step))
        self.d_opt.learning_rate.assign(self.d_rate(self.step))
        with tf.GradientTape() as g_tape:
            images = cycle_images(self.g_ab, self.g_ba, a, b, identity=cfg.lambda_identity > 0)
            terms = generator_terms(images, self.d_a, self.d_b, a, b, self.loss, cfg.lambda_cycle,
                                    cfg.lambda_identity)
        skipped = apply_if_finite(self.g_opt, g_tape.gradient(terms["total"], self.g_vars), self.g_vars,
                                  [terms["total"]], self.skip_nonfinite)
        fake_b = self.pool_b.query(images["fake_b"], self.step)   # official backward_D_A: D_A judges B images
        fake_a = self.pool_a.query(images["fake_a"], self.step)
        with tf.GradientTape() as d_tape:
            d_b = discriminator_objective(self.d_b, b, fake_b, self.loss)
            d_a = discriminator_objective(self.d_a, a, fake_a, self.loss)
            d_total = d_a + d_b   # disjoint variables: each critic gets its own term's gradient, one optimizer step
        skipped += apply_if_finite(self.d_opt, d_tape.gradient(d_total, self.d_vars), self.d_vars, [d_total],
                                   self.skip_nonfinite)
        self.step.assign_add(1)
        logs = {"d_a": d_a, "d_b": d_b, **{k: v for k, v in terms.items() if k != "total"},
                "g_total": terms["total"]}
        if self.skip_nonfinite:  # the column exists only when skipping is on, as for the GANs
            logs[SKIPPED_KEY] = skipped
        return logs

    # ------------------------------------------------------------------ outputs
    def save_samples(self, step):
        """samples/step_N.png: for each group, six rows: a | G_AB(a) | G_BA(G_AB(a)) | b | G_BA(b) | G_AB(G_BA(b)) of
        a fixed batch (the first images of each domain's stream: load_pair has no held-out split), inference mode."""
        n = min(len(self.sample_a), len(self.sample_b))
        cols = min(self.cfg.sample_cols, n)
        rows = min(self.cfg.sample_rows, n // cols)
        a, b = self.sample_a[:rows * cols], self.sample_b[:rows * cols]
        ab, ba = self.g_ab(a, training=False), self.g_ba(b, training=False)
        aba, bab = self.g_ba(ab, training=False), self.g_ab(ba, training=False)
        grid = run_folder.pair_grid([np.asarray(x) for x in (a, ab, aba, b, ba, bab)], rows, cols)
        path = self.run_dir / "samples" / f"step_{step:07d}.png"
        path.parent.mkdir(exist_ok=True)
        run_folder.save_png(path, grid)
        return grid

    def models(self):
        """The networks saved in models/ (G_AB, G_BA, D_A, D_B .weights.h5; TrainingLoop.finish)."""
        return [self.nets[n] for n in NET_NAMES]

    def learning_rates(self):
        """None to set after a restore: the compiled step sets both rates from the step (the class docstring)."""
        return []

    @staticmethod
    def translators(cfg, shape, models_dir):
        """{(1, 2): x -> G_AB(x), (2, 1): y -> G_BA(y)} (issue 20 protocol, item 5): float32 batches in [-1, 1] of
        shape (N, *shape) to NumPy float32 batches, in inference mode, the generators rebuilt from `cfg`
        (build_nets) with the weights of models_dir/G_AB.weights.h5 and G_BA.weights.h5. Domain 1 is load_pair's A."""
        nets = build_nets(cfg, tuple(shape))
        for name in NET_NAMES[:2]:
            nets[name].load_weights(str(Path(models_dir) / f"{name}.weights.h5"))

        def translate(g):
            return lambda x: np.asarray(g(tf.convert_to_tensor(x, tf.float32), training=False), np.float32)
        return {(1, 2): translate(nets["G_AB"]), (2, 1): translate(nets["G_BA"])}

    # -------------------------------------------- the loop's hooks (trainers/loop.py; next_inputs, run_step and
    # checked_variables are its defaults: one batch of each of self.iterators, g_vars + d_vars checked)
    def describe(self, first):
        sizes = " + ".join(map(str, self.info.sizes))
        return (f"training CycleGAN on {self.cfg.data_name} ({sizes} unpaired images, {self.info.shape}) from step "
                f"{first} to {self.cfg.iterations} in {self.run_dir}")


def _first_images(dataset, n):
    """The first `n` images of a stream of batches (a fresh iterator: the training one is not advanced)."""
    got, have = [], 0
    for batch in dataset:
        got.append(np.asarray(batch))
        have += len(got[-1])
        if have >= n:
            break
    return np.concatenate(got)[:n]
