"""CycleGAN's training parts (Zhu et al. 2017; issue 20, item 3): the generator and discriminator objectives, the
image pool of past fakes and the linear learning-rate decay. The trainer class builds on these.

The reference is the official PyTorch code (junyanz/pytorch-CycleGAN-and-pix2pix): models/cycle_gan_model.py
(backward_G, backward_D_basic), util/image_pool.py (ImagePool) and models/networks.py (get_scheduler 'linear').

Names here follow the domains: g_ab maps A to B, g_ba maps B to A, d_a judges domain A images (real A vs
g_ba(b)), d_b domain B images; a term's suffix names the domain of the images it compares. The official code
names by network instead: G_A = g_ab, G_B = g_ba, D_A = d_b, D_B = d_a, loss_G_A = gan_ab, loss_G_B = gan_ba,
loss_cycle_A = cycle_a, loss_cycle_B = cycle_b, loss_idt_A (G_A on real_B) = idt_b, loss_idt_B = idt_a.
"""
from __future__ import annotations

import keras
import tensorflow as tf

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

    Epochs to iterations: the optimizer calls the schedule with its count of updates applied so far, t, and the
    epoch is t // iterations_per_epoch: the scheduler steps once after each epoch, as update_learning_rate() at the
    end of an epoch in the official train.py of 2018 (a version that steps at an epoch's start is epoch_count + 1).
    With epoch_count 1 the factor is 1 for the first n_epochs epochs, then 1 - k / (n_epochs_decay + 1) in the
    k-th epoch after them, the last of the n_epochs + n_epochs_decay epochs at 1 / (n_epochs_decay + 1)."""

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
