"""CycleGAN's parts (trainers/cyclegan.py; issue 20, item 3) against independent NumPy computations.

- generator_objective: linear "generators" and "discriminators" (1x1 convolutions, i.e. x @ W per pixel), whose
  terms and gradients are worked out by hand in NumPy (float64). The gradient reaching g_ab must include the
  forward cycle |g_ba(g_ab(a)) - a|, which a known Keras example leaves out of g_ab's loss: that variant's
  gradient is computed too and must differ by far more than the tolerance.
- discriminator_objective: the official 0.5, and no gradient into the generator through the pooled fakes.
- ImagePool: against a NumPy re-implementation of the official util/image_pool.py loop fed the same draws;
  compiled equals eager; a checkpointed pool resumes exactly. The draws themselves (ranges, every slot, a swap half
  the time) are checked directly and through the pool's behaviour, within 5 binomial standard deviations.
- LinearDecay: the official lambda_rule (hand values), and what an optimizer actually applies.

Tolerances: float32 sums of ~100 terms of magnitude <= ~10: relative error ~1e-6; 1e-5 (absolute, on values
of order 1-10) is far below what any dropped or re-weighted term changes (checked where it matters).
"""
import numpy as np
import pytest
import tensorflow as tf
import keras

import losses
from trainers import cyclegan

B, H, W, C = 3, 4, 4, 2
N = B * H * W               # pixels per batch
LAM_A, LAM_B, LAM_IDT = 10.0, 3.0, 0.5   # lambda_A != lambda_B: a swapped identity weight shows
TOL = 1e-5


def linear_net(kernel, bias=None, name=None):
    """A 1x1 convolution x @ kernel (+ bias) per pixel, with the given weights."""
    net = keras.Sequential([keras.Input((H, W, kernel.shape[0])),
                            keras.layers.Conv2D(kernel.shape[1], 1, use_bias=bias is not None)], name=name)
    net.layers[-1].set_weights([kernel[None, None].astype(np.float32)] + ([] if bias is None else
                                                                          [np.float32(bias)]))
    return net


@pytest.fixture(scope="module")
def linear():
    rng = np.random.default_rng(3)
    p = dict(Wab=np.eye(C) + rng.normal(0, 0.5, (C, C)), Wba=np.eye(C) + rng.normal(0, 0.5, (C, C)),
             Va=rng.normal(0, 1, (C, 1)), ca=np.array([0.3]), Vb=rng.normal(0, 1, (C, 1)), cb=np.array([-0.2]),
             a=rng.uniform(-1, 1, (B, H, W, C)), b=rng.uniform(-1, 1, (B, H, W, C)))
    p = {k: v.astype(np.float32).astype(np.float64) for k, v in p.items()}  # the values the float32 nets hold
    a, b = p["a"], p["b"]
    for r in (a @ p["Wab"] @ p["Wba"] - a, b @ p["Wba"] @ p["Wab"] - b, a @ p["Wba"] - a, b @ p["Wab"] - b):
        assert np.abs(r).min() > 1e-4  # every |.| has the same sign in float32 as here (its gradient's kink)
    nets = dict(g_ab=linear_net(p["Wab"]), g_ba=linear_net(p["Wba"]), d_a=linear_net(p["Va"], p["ca"]),
                d_b=linear_net(p["Vb"], p["cb"]))
    return p, nets


def numpy_terms(p, lam_a=LAM_A, lam_b=LAM_B, lam_idt=LAM_IDT):
    """Official backward_G with lsgan, by hand: G_A = g_ab, D_A = d_b (the module docstring's mapping)."""
    a, b = p["a"], p["b"]
    fake_b, fake_a = a @ p["Wab"], b @ p["Wba"]
    return dict(gan_ab=np.mean((fake_b @ p["Vb"] + p["cb"] - 1) ** 2),
                gan_ba=np.mean((fake_a @ p["Va"] + p["ca"] - 1) ** 2),
                cycle_a=lam_a * np.mean(np.abs(fake_b @ p["Wba"] - a)),
                cycle_b=lam_b * np.mean(np.abs(fake_a @ p["Wab"] - b)),
                idt_a=lam_a * lam_idt * np.mean(np.abs(a @ p["Wba"] - a)),
                idt_b=lam_b * lam_idt * np.mean(np.abs(b @ p["Wab"] - b)))


def numpy_grad_wab(p):
    """d total / d Wab by hand, split into the forward cycle's part and the rest (pixels as rows)."""
    A, Bm = p["a"].reshape(N, C), p["b"].reshape(N, C)
    Wab, Wba, Vb, cb = p["Wab"], p["Wba"], p["Vb"], p["cb"]
    gan_ab = 2 / N * A.T @ ((A @ Wab @ Vb + cb - 1) @ Vb.T)
    forward_cycle = LAM_A / (N * C) * A.T @ (np.sign(A @ Wab @ Wba - A) @ Wba.T)
    backward_cycle = LAM_B / (N * C) * (Bm @ Wba).T @ np.sign(Bm @ Wba @ Wab - Bm)
    identity_b = LAM_B * LAM_IDT / (N * C) * Bm.T @ np.sign(Bm @ Wab - Bm)
    return forward_cycle, gan_ab + backward_cycle + identity_b


def numpy_grad_wba(p):
    A, Bm = p["a"].reshape(N, C), p["b"].reshape(N, C)
    Wab, Wba, Va, ca = p["Wab"], p["Wba"], p["Va"], p["ca"]
    return (2 / N * Bm.T @ ((Bm @ Wba @ Va + ca - 1) @ Va.T)
            + LAM_B / (N * C) * Bm.T @ (np.sign(Bm @ Wba @ Wab - Bm) @ Wab.T)
            + LAM_A / (N * C) * (A @ Wab).T @ np.sign(A @ Wab @ Wba - A)
            + LAM_A * LAM_IDT / (N * C) * A.T @ np.sign(A @ Wba - A))


def objective(nets, p, **kw):
    kw = dict(lambda_cycle=LAM_A, lambda_cycle_b=LAM_B, lambda_identity=LAM_IDT) | kw
    return cyclegan.generator_objective(nets["g_ab"], nets["g_ba"], nets["d_a"], nets["d_b"],
                                        tf.constant(p["a"], tf.float32), tf.constant(p["b"], tf.float32),
                                        losses.get_loss("lsgan"), **kw)


# ------------------------------------------------------------------------------------------ generator objective
def test_generator_terms_are_official_backward_g(linear):
    p, nets = linear
    terms = {k: float(v) for k, v in objective(nets, p).items()}
    expected = numpy_terms(p)
    assert set(terms) == set(expected) | {"total"}
    for k, v in expected.items():
        assert terms[k] == pytest.approx(v, abs=TOL), k
    assert terms["total"] == pytest.approx(sum(expected.values()), abs=TOL)
    # the identity weights are lambda_idt times the weight of their images' domain (a swap moves them by > 1)
    assert abs(expected["idt_b"] / LAM_B - expected["idt_a"] / LAM_A) * abs(LAM_A - LAM_B) > 100 * TOL


def test_default_weights_and_no_identity(linear):
    p, nets = linear
    kw = dict(lambda_cycle=10.0, lambda_cycle_b=None)
    terms = {k: float(v) for k, v in objective(nets, p, lambda_identity=0.0, **kw).items()}
    expected = numpy_terms(p, 10.0, 10.0, 0.0)
    assert (terms["idt_a"], terms["idt_b"]) == (0.0, 0.0)
    assert terms["total"] == pytest.approx(sum(expected.values()), abs=TOL)
    defaults = {k: float(v) for k, v in cyclegan.generator_objective(
        nets["g_ab"], nets["g_ba"], nets["d_a"], nets["d_b"], tf.constant(p["a"], tf.float32),
        tf.constant(p["b"], tf.float32), losses.get_loss("lsgan")).items()}
    for k, v in numpy_terms(p, 10.0, 10.0, 0.5).items():  # the official defaults: 10, 10, 0.5
        assert defaults[k] == pytest.approx(v, abs=TOL), k


def test_forward_cycle_reaches_g_ab(linear):
    """One total over both directions: g_ab's gradient holds the forward cycle |g_ba(g_ab(a)) - a|."""
    p, nets = linear
    g_ab, g_ba = nets["g_ab"], nets["g_ba"]
    with tf.GradientTape(persistent=True) as tape:
        terms = objective(nets, p)
        # the Keras example's g_ab loss: its adversarial, backward cycle and identity terms, no forward cycle
        keras_example = terms["gan_ab"] + terms["cycle_b"] + terms["idt_b"]
    grad_ab = tape.gradient(terms["total"], g_ab.trainable_variables)[0].numpy()[0, 0]
    grad_ba = tape.gradient(terms["total"], g_ba.trainable_variables)[0].numpy()[0, 0]
    variant = tape.gradient(keras_example, g_ab.trainable_variables)[0].numpy()[0, 0]
    forward_cycle, rest = numpy_grad_wab(p)
    np.testing.assert_allclose(grad_ab, forward_cycle + rest, rtol=0, atol=TOL)
    np.testing.assert_allclose(grad_ba, numpy_grad_wba(p), rtol=0, atol=TOL)
    # the variant misses exactly the forward cycle's gradient, far more than the tolerance
    np.testing.assert_allclose(variant, rest, rtol=0, atol=TOL)
    assert np.abs(grad_ab - variant).max() > 1000 * TOL


# ------------------------------------------------------------------------------------------ discriminator
def test_discriminator_objective_halves_lsgan_and_stops_the_generator_gradient(linear):
    p, nets = linear
    d, g = nets["d_b"], nets["g_ab"]
    real = tf.constant(p["b"], tf.float32)
    with tf.GradientTape() as tape:
        fake = g(tf.constant(p["a"], tf.float32))
        value = cyclegan.discriminator_objective(d, real, fake, losses.get_loss("lsgan"))
    r = p["b"] @ p["Vb"] + p["cb"]
    f = p["a"] @ p["Wab"] @ p["Vb"] + p["cb"]
    assert float(value) == pytest.approx(0.5 * (np.mean((r - 1) ** 2) + np.mean(f ** 2)), abs=TOL)
    assert tape.gradient(value, g.trainable_variables) == [None]


# ------------------------------------------------------------------------------------------ image pool
class NumpyPool:
    """util/image_pool.py's ImagePool.query, with the random numbers given instead of drawn."""

    def __init__(self, size):
        self.size, self.images = size, []

    def query(self, images, uniform, index):
        out, events = [], set()
        stored_now = set()  # slots this batch wrote
        for image, u, i in zip(images, uniform, index):
            if len(self.images) < self.size:
                stored_now.add(len(self.images))
                self.images.append(image)
                out.append(image)
                events.add("fill")
            elif u > 0.5:
                out.append(self.images[i].copy())
                events.add("swap-own-batch" if i in stored_now else "swap")
                stored_now.add(i)
                self.images[i] = image
            else:
                out.append(image)
                events.add("pass")
        if "fill" in events and len(events) > 1:
            events.add("fills-then-full")
        return np.stack(out), events


def batches(steps, n):
    """Distinct images: image j of step t is filled with 100 t + j."""
    shape = (2, 2, 1)
    return [np.stack([np.full(shape, 100 * t + j, np.float32) for j in range(n)]) for t in range(steps)]


def test_pool_follows_the_official_loop():
    size, n, steps = 5, 4, 12
    pool, ref = cyclegan.ImagePool((2, 2, 1), size=size, seed=7), NumpyPool(size)
    seen = set()
    for t, x in enumerate(batches(steps, n)):
        uniform, index = (v.numpy() for v in pool.draws(t, n))
        expected, events = ref.query(list(x), uniform, index)
        seen |= events
        np.testing.assert_array_equal(pool.query(tf.constant(x), t).numpy(), expected, err_msg=f"step {t}")
        assert int(pool.count.numpy()) == len(ref.images)
    np.testing.assert_array_equal(pool.images.numpy(), np.stack(ref.images))
    # the cases a simpler implementation gets wrong all occurred: a batch that fills the pool and goes on, an
    # image returned to a later image of the batch that stored it, plain swaps and pass-throughs
    assert {"fills-then-full", "swap-own-batch", "swap", "pass"} <= seen, seen


def test_pool_compiled_equals_eager_and_default_size():
    eager, compiled = (cyclegan.ImagePool((2, 2, 1), seed=1) for _ in range(2))
    assert eager.size == 50 and eager.images.shape == (50, 2, 2, 1)
    step_fn = tf.function(lambda x, t: compiled.query(x, t))
    for t, x in enumerate(batches(30, 2)):  # 60 images: fills the 50 and swaps
        np.testing.assert_array_equal(step_fn(tf.constant(x), tf.constant(t, tf.int64)).numpy(),
                                      eager.query(tf.constant(x), t).numpy())
    np.testing.assert_array_equal(compiled.images.numpy(), eager.images.numpy())
    assert int(compiled.count.numpy()) == 50


def test_pool_of_size_zero_passes_images_through():
    pool = cyclegan.ImagePool((2, 2, 1), size=0)
    x = batches(1, 3)[0]
    np.testing.assert_array_equal(pool.query(tf.constant(x), 0).numpy(), x)


def test_pool_resumes_exactly_from_a_checkpoint(tmp_path):
    size, n, steps, cut = 4, 3, 8, 4
    data = batches(steps, n)
    whole = cyclegan.ImagePool((2, 2, 1), size=size, seed=5)
    expected = [whole.query(tf.constant(x), t).numpy() for t, x in enumerate(data)]

    first = cyclegan.ImagePool((2, 2, 1), size=size, seed=5)
    for t in range(cut):
        first.query(tf.constant(data[t]), t)
    path = tf.train.Checkpoint(pool=first).save(str(tmp_path / "ckpt"))

    resumed = cyclegan.ImagePool((2, 2, 1), size=size, seed=5)
    tf.train.Checkpoint(pool=resumed).restore(path).assert_consumed()
    fresh = cyclegan.ImagePool((2, 2, 1), size=size, seed=5)  # what a checkpoint without the pool would resume
    for t in range(cut, steps):
        np.testing.assert_array_equal(resumed.query(tf.constant(data[t]), t).numpy(), expected[t])
        fresh.query(tf.constant(data[t]), t)
    np.testing.assert_array_equal(resumed.images.numpy(), whole.images.numpy())
    assert not np.array_equal(fresh.images.numpy(), whole.images.numpy())


# ------------------------------------------------------------------------------------------ learning rate
def official_lambda_rule(epoch, n_epochs, n_epochs_decay, epoch_count):
    return 1.0 - max(0, epoch + epoch_count - n_epochs) / float(n_epochs_decay + 1)


def test_linear_decay_factor_hand_values():
    f = cyclegan.linear_decay_factor
    # the official defaults 100 + 100: the 100th epoch (index 99) at full rate, then 100/101 ... 1/101
    assert f(99, 100, 100) == 1.0
    assert f(100, 100, 100) == pytest.approx(100 / 101)
    assert f(199, 100, 100) == pytest.approx(1 / 101)
    assert f(200, 100, 100) == 0.0 and f(250, 100, 100) == 0.0  # past the schedule: 0, not negative
    assert f(0, 100, 100, epoch_count=151) == pytest.approx(1 - 51 / 101)  # resumed at epoch 151


@pytest.mark.parametrize("epoch_count", [1, 3])
def test_linear_decay_schedule_over_iterations(epoch_count):
    lr, n_epochs, n_decay, per_epoch = 2e-4, 3, 4, 5
    schedule = cyclegan.LinearDecay(lr, n_epochs, n_decay, per_epoch, epoch_count=epoch_count)
    for t in range(0, (n_epochs + n_decay + 2) * per_epoch):
        expected = lr * max(0.0, official_lambda_rule(t // per_epoch, n_epochs, n_decay, epoch_count))
        assert float(schedule(t)) == pytest.approx(expected, rel=1e-6, abs=1e-12), t
    again = cyclegan.LinearDecay.from_config(schedule.get_config())
    assert float(again(17)) == float(schedule(17))
    with pytest.raises(ValueError, match="iterations_per_epoch >= 1"):
        cyclegan.LinearDecay(lr, n_epochs, n_decay, 0)


def test_optimizer_applies_the_decayed_rate():
    """SGD on w with gradient 1: each update moves w by exactly the rate of that iteration."""
    lr = 0.25  # a power of 2: the moves below are exact in float32
    opt = keras.optimizers.SGD(learning_rate=cyclegan.LinearDecay(lr, n_epochs=2, n_epochs_decay=2,
                                                                  iterations_per_epoch=2))
    w = tf.Variable(0.0)
    moves = []
    for _ in range(10):
        before = float(w.numpy())
        opt.apply_gradients([(tf.constant(1.0), w)])
        moves.append(before - float(w.numpy()))
    # epochs 0, 1: full rate; epoch 2: 1 - 1/3; epoch 3: 1 - 2/3; epoch 4 (beyond 2 + 2): 0
    expected = lr * np.array([1, 1, 1, 1, 2 / 3, 2 / 3, 1 / 3, 1 / 3, 0, 0])
    np.testing.assert_allclose(moves, expected, rtol=1e-6, atol=1e-9)


# ------------------------------------------------------------------------------------------ with the real nets
def test_one_compiled_step_with_the_translation_nets():
    """The parts on CycleGAN's own nets (tiny: 16 px, width 4, one residual block, 1-layer PatchGAN), compiled:
    the terms equal the eager ones, every kernel of both generators gets a gradient from the one total, the
    pooled fakes feed each critic's halved loss and carry no gradient back."""
    import translation_nets as tn
    keras.utils.set_random_seed(0)
    g_ab, g_ba = (tn.resnet_generator(16, base=4, n_blocks=1, name=n) for n in ("g_ab", "g_ba"))
    d_a, d_b = (tn.patch_discriminator(3, n_layers=1, base=4, norm="instance", size=16, name=n)
                for n in ("d_a", "d_b"))
    pools = [cyclegan.ImagePool((16, 16, 3), size=3, seed=s) for s in (1, 2)]
    rng = np.random.default_rng(0)
    a, b = (tf.constant(rng.uniform(-1, 1, (2, 16, 16, 3)), tf.float32) for _ in range(2))
    lsgan = losses.get_loss("lsgan")
    g_vars = g_ab.trainable_variables + g_ba.trainable_variables

    def step(t):
        with tf.GradientTape() as tape:
            images = cyclegan.cycle_images(g_ab, g_ba, a, b)
            terms = cyclegan.generator_terms(images, d_a, d_b, a, b, lsgan)
        grads = tape.gradient(terms["total"], g_vars)
        with tf.GradientTape() as tape:
            d_losses = [cyclegan.discriminator_objective(d, real, pool.query(fake, t), lsgan)
                        for d, real, pool, fake in ((d_a, a, pools[0], images["fake_a"]),
                                                    (d_b, b, pools[1], images["fake_b"]))]
        return terms, grads, d_losses, tape.gradient(d_losses, g_vars)

    compiled = tf.function(step)(tf.constant(0, tf.int64))
    eager = step(0)
    for k in eager[0]:
        assert float(compiled[0][k]) == pytest.approx(float(eager[0][k]), abs=TOL), k
    kernels = [(v.path, g) for v, g in zip(g_vars, compiled[1]) if v.name == "kernel"]  # biases before a norm: 0
    assert len(kernels) == 2 * 8  # c7, d1, d2, the block's two, u1, u2, out: in both generators
    for path, g in kernels:
        assert g is not None and np.abs(g.numpy()).max() > 0, path
    assert all(g is None for g in compiled[3])
    assert all(np.isfinite(float(x)) for x in compiled[2])
    assert [int(p.count.numpy()) for p in pools] == [3, 3]  # 2 images each call, 2 calls, pools of 3


def within_binomial(k, n, p, sds=5):
    """k successes of n draws with probability p, within `sds` standard deviations sqrt(n p (1 - p))."""
    return abs(k - n * p) <= sds * np.sqrt(n * p * (1 - p))


def test_pool_draws_have_the_official_ranges():
    """official query: random.uniform(0, 1) > 0.5 decides a swap, random.randint(0, pool_size - 1) the slot.
    The NumPy twin above is fed the pool's own draws, so the draws are checked here: 4000 over 250 steps, uniform
    in [0, 1) above 0.5 half the time, index in [0, size) with every slot drawn, and drawn evenly among the
    swaps (an index derived from the same uniform, e.g. floor(u * size), would leave the low slots unswapped);
    5 binomial standard deviations each. A range [0, size - 1) or [0, 2) fails."""
    size, n, steps = 7, 16, 250
    pool = cyclegan.ImagePool((1, 1, 1), size=size, seed=11)
    draws = [pool.draws(t, n) for t in range(steps)]
    uniform = np.stack([u.numpy() for u, _ in draws])
    index = np.stack([i.numpy() for _, i in draws])
    assert uniform.shape == index.shape == (steps, n) and index.dtype.kind == "i"
    assert uniform.min() >= 0 and uniform.max() < 1 and index.min() >= 0 and index.max() < size
    swap = uniform > 0.5
    assert within_binomial(swap.sum(), swap.size, 0.5), swap.mean()
    assert within_binomial((uniform < 0.25).sum(), uniform.size, 0.25)  # uniform over [0, 1), not just its median
    counts = np.bincount(index[swap], minlength=size)
    assert counts.min() > 0 and all(within_binomial(c, swap.sum(), 1 / size) for c in counts), counts
    assert all(within_binomial(c, index.size, 1 / size) for c in np.bincount(index.ravel(), minlength=size))
    # fresh numbers at every step and for every image of a batch, not one draw repeated
    assert len({row.tobytes() for row in index}) == steps and all(len(set(row)) > 1 for row in index)
    np.testing.assert_array_equal(pool.draws(3, n)[1].numpy(), index[3])  # (seed, step) decides: resumable


def test_full_pool_returns_a_stored_image_half_the_time_from_every_slot():
    """Through behaviour only: one new image per step (value = its number), a pool of 5. Once full, a step either
    returns the new image and leaves the pool as it was, or returns the one image it replaces; over 995 such
    steps the swaps are 1/2 of them and each slot gets 1/5 of the swaps, within 5 binomial standard deviations."""
    size, steps = 5, 1000
    pool = cyclegan.ImagePool((1, 1, 1), size=size, seed=13)
    query = tf.function(lambda x, t: pool.query(x, t))
    swaps, per_slot = 0, np.zeros(size, int)
    for t in range(steps):
        before = pool.images.numpy().ravel().copy()
        full = int(pool.count.numpy()) == size
        new = np.float32(t + 1)
        out = float(query(tf.fill([1, 1, 1, 1], new), tf.constant(t, tf.int64)).numpy().ravel()[0])
        after = pool.images.numpy().ravel()
        changed = np.flatnonzero(after != before)
        if not full:
            assert out == new and list(changed) == [t]
        elif out == new:
            assert changed.size == 0, t
        else:
            assert list(changed) == [np.flatnonzero(before == out)[0]] and after[changed[0]] == new, t
            swaps += 1
            per_slot[changed[0]] += 1
    draws = steps - size
    assert within_binomial(swaps, draws, 0.5), swaps / draws
    assert per_slot.min() > 0 and all(within_binomial(c, swaps, 1 / size) for c in per_slot), per_slot
