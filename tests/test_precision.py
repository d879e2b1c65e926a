"""--mixed_precision: what computes in reduced precision and what stays float32; fp16 loss scaling around the
gradient penalty's inner gradient; a short bf16 / fp16 run tracks the float32 run."""
import numpy as np
import pytest
import tensorflow as tf
import keras

import nets
import penalties
import precision
from config import ConfigError
from test_trainers import make


def test_policy_builds_reduced_precision_nets_with_float32_ends_and_restores_the_global_policy():
    with precision.policy("bf16"):
        g = nets.build_generators("cogan32", nets.NetOptions(), domains=1)[0]
        d = nets.build_discriminators("cogan32", nets.NetOptions(), (32, 32, 3), domains=1)[0]
    assert keras.config.dtype_policy().name == "float32"
    assert {v.dtype for v in g.trainable_variables + d.trainable_variables} == {"float32"}
    hidden = g.blocks[1](g.blocks[0](tf.zeros((2, 100))))
    assert hidden.dtype == tf.bfloat16
    image = g(tf.zeros((2, 100)))
    assert image.dtype == tf.float32                    # tanh output declared float32
    assert d(image).dtype == tf.float32                 # the critic's logit layer too
    with pytest.raises(ValueError, match="unknown --mixed_precision"):
        with precision.policy("int8"):
            pass


class _TinyCritic(keras.Model):
    """A float16 linear critic C(x) = sum(x * w) * 1e-4 * 1e-4: in its float16 backward pass the upstream gradient
    1e-8 lies below float16's smallest subnormal (6e-8) and flushes to zero, although the input gradient
    w * 1e-8 (~1e-5) would be representable: what loss scaling is for."""

    def __init__(self, w):
        super().__init__(dtype="mixed_float16")
        self.w = tf.constant(w, tf.float16)

    def call(self, x, training=False):
        small = tf.constant(1e-4, tf.float16)
        return tf.cast(tf.reduce_sum(tf.cast(x, tf.float16) * self.w, axis=[1, 2, 3]) * small * small, tf.float32)


def test_gradient_penalty_scales_its_inner_gradient_under_fp16():
    rng = np.random.RandomState(0)
    w = rng.uniform(0.5, 1.5, (1, 4, 4, 1)).astype("float32") * 1e3
    real = tf.constant(rng.uniform(-1, 1, (3, 4, 4, 1)), tf.float32)
    fake = tf.constant(rng.uniform(-1, 1, (3, 4, 4, 1)), tf.float32)
    alpha = tf.constant(rng.uniform(0, 1, (3, 1, 1, 1)), tf.float32)
    # By hand: the critic is linear, grad = w * 1e-8 for every sample, so the norm is ||w|| * 1e-8 (with the
    # penalty's 1e-12 inside the sqrt) and GP = (norm - 1)^2.
    expected_norm = np.sqrt(np.sum((w.astype("float64") * 1e-8) ** 2) + 1e-12)
    critic = _TinyCritic(w)
    scaled = float(penalties.gradient_penalty(critic, real, fake, alpha, scale=tf.constant(2.0 ** 15)))
    plain = float(penalties.gradient_penalty(critic, real, fake, alpha))
    norm = lambda gp: 1.0 - np.sqrt(gp)  # noqa: E731
    assert norm(scaled) == pytest.approx(expected_norm, rel=1e-2)
    assert norm(plain) == pytest.approx(1e-6, rel=0.1)  # unscaled: a zero gradient (only the epsilon is left)


def without_dropout(trainer):
    """Dropout off in every net (masks are drawn in the compute dtype, so they differ between precisions)."""
    for m in trainer.models():
        for layer in m._flatten_layers():
            if isinstance(layer, keras.layers.Dropout):
                layer.rate = 0.0
    return trainer


# Unit roundoff, the largest relative error of one rounding: 2^-(mantissa bits + 1).
UNIT_ROUNDOFF = {"none": 2.0 ** -24, "bf16": 2.0 ** -8, "fp16": 2.0 ** -11}
LOW_DTYPE = {"bf16": "bfloat16", "fp16": "float16"}
SGD_LR = 1e-3
TERMS = ("d_loss_1", "d_loss_2", "d_gp_1", "d_gp_2", "g_loss_1", "g_loss_2", "fr", "cc", "g_total")


class _RecordedLoss:
    """The trainer's adversarial loss, recording beside each call the size of what it averages, mean |logit| over
    the real and the fake batch (critic) or the fake batch (generator), per domain, in variables that the
    compiled step assigns (the trainer evaluates domain 1, then domain 2, in trace order)."""

    def __init__(self, loss):
        self.loss = loss
        self.sizes = {f"{side}_{i}": tf.Variable(0.0, trainable=False) for side in "dg" for i in (1, 2)}
        self.calls = {"d": 0, "g": 0}

    def _record(self, side, *logits):
        i = self.calls[side] % 2 + 1
        self.calls[side] += 1
        self.sizes[f"{side}_{i}"].assign(tf.add_n([tf.reduce_mean(tf.abs(tf.cast(x, tf.float32))) for x in logits]))

    def discriminator(self, real, fake):
        self._record("d", real, fake)
        return self.loss.discriminator(real, fake)

    def generator(self, fake):
        self._record("g", fake)
        return self.loss.generator(fake)


def _sgd(monkeypatch):
    """Plain SGD in place of the trainer's Adam, behind fp16's loss scale as make_optimizer puts it (initial scale
    256: no overflow in these steps). Adam's first updates are lr * sign(gradient), so one rounding that flips the
    sign of a near-zero gradient component moves that weight by 2 lr: no bound proportional to the precision
    exists for it (Adam runs differed from float32 by up to 100 e times the magnitudes within two iterations, more
    where a CPU emulates float16 otherwise, and the gap grows). SGD's update is linear in the gradient, so its
    rounding errors stay proportional, and a gradient left scaled by the loss scale moves the weights 256 times too
    far (Adam would normalise that away). lr 1e-3: the terms move by 5-10% per iteration."""
    import trainers.base
    import trainers.scogan

    def make_optimizer(name, lr, beta1, beta2, mixed_precision="none"):
        sgd = keras.optimizers.SGD(learning_rate=SGD_LR)
        return keras.optimizers.LossScaleOptimizer(sgd, initial_scale=256.0) if mixed_precision == "fp16" else sgd
    for module in (trainers.base, trainers.scogan):
        monkeypatch.setattr(module, "make_optimizer", make_optimizer)


def _run(mixed_precision, disc_iters, batch_size=8, steps=2):
    """SCoGAN 32x32, thesis preset (WGAN-GP), FR and CC, same seeds and noise, dropout off, SGD (see _sgd):
    the trainer and each iteration's logged terms plus the logit sizes."""
    t = without_dropout(make("scogan", mixed_precision=mixed_precision, batch_size=batch_size,
                             feature_regulariser=True, cycle_consistency=True, disc_iters=disc_iters))
    recorded = t.loss = _RecordedLoss(t.loss)
    rows = []
    for _ in range(steps):
        logs = t._compiled_step([next(it) for it in t.iterators])
        rows.append({**{k: float(v) for k, v in logs.items()},
                     **{f"size_{k}": float(v.numpy()) for k, v in recorded.sizes.items()}})
    for row in rows:  # the sizes belong to the domains they are filed under: |mean| <= mean |.|
        assert all(abs(row[f"{s}_loss_{i}"]) <= row[f"size_{s}_{i}"] * (1 + 1e-6) for s in "dg" for i in (1, 2))
    return t, rows


def _magnitudes(row, gp_weight):
    """The size of what makes up each logged term (from the float32 run), which one rounding of relative error e
    moves by at most e * size: the WGAN losses average critic outputs (d_loss: real and fake, mean |C| each,
    recorded); GP = w * mean (n - 1)^2 of gradient norms n: an error e * n in n moves it by
    w * mean 2 |n - 1| n e <= 2 w s (1 + s) e, s = sqrt(GP / w) (Cauchy-Schwarz, Minkowski); FR and CC are sums
    of non-negative terms; g_total is the sum of its terms."""
    size = {}
    for i in (1, 2):
        size[f"d_loss_{i}"] = row[f"size_d_{i}"]
        size[f"g_loss_{i}"] = row[f"size_g_{i}"]
        s = np.sqrt(row[f"d_gp_{i}"] / gp_weight)
        size[f"d_gp_{i}"] = row[f"d_gp_{i}"] + 2 * gp_weight * s * (1 + s)
    size["fr"], size["cc"] = abs(row["fr"]), abs(row["cc"])
    size["g_total"] = size["g_loss_1"] + size["g_loss_2"] + size["fr"] + size["cc"]
    return size


def _low_precision_layers(t, dtype):
    """Layers with weights that compute in `dtype`, per net."""
    return {m.name: [layer for layer in m._flatten_layers(include_self=False)
                     if layer.weights and not any(sub.weights for sub in layer._flatten_layers(include_self=False))
                     and layer.dtype_policy.compute_dtype == dtype]
            for m in t.models()}


def _assert_tracks_float32(t, rows, reference, mixed_precision):
    """Every net of the trainer (G1, G2, D1, D2, F) has layers that compute in the low precision, and every logged
    term agrees with float32 within what the precision allows while differing from it by more than float32 rounding.

    Each low-precision layer rounds what crosses it to relative error e (the unit roundoff); one domain's chain,
    generator -> critic with the CC encoder beside it, crosses L such layers (counted on the trainer's nets: 13 + 4
    + 5 = 22), once forward and once backward for the gradient that makes an update, so one iteration moves a
    term by at most 2 L e times its magnitude (_magnitudes, float32 run); the errors of earlier iterations carry
    over and add: (k + 1) 2 L e at iteration k. Float32 rounding gives the same bound with e = 2^-24. (Not checked:
    the weights themselves. A gradient sums per-sample parts that largely cancel (real against fake, the penalty),
    and float16's small gradients lose bits as subnormals: the first weight changes differed from float32 by
    up to 160 e in norm, with no magnitude of the parts at hand to bound it. A gradient left scaled, or not
    applied, shows in the terms after the update.)"""
    low = LOW_DTYPE[mixed_precision]
    layers = _low_precision_layers(t, low)
    assert all(layers.values()), {name: len(found) for name, found in layers.items()}  # every net, G, D and F
    chain = len(layers["G1"]) + len(layers["D1"]) + len(layers["F"])
    e, e32 = UNIT_ROUNDOFF[mixed_precision], UNIT_ROUNDOFF["none"]
    assert rows[0].keys() == reference[0].keys()
    worst = []
    for k, (row, ref) in enumerate(zip(rows, reference)):
        size = _magnitudes(ref, t.cfg.gp_weight)
        for name in TERMS:
            bound = (k + 1) * 2 * chain * e * size[name]
            assert abs(row[name] - ref[name]) <= bound, (k, name, row[name], ref[name], bound)
            worst.append(abs(row[name] - ref[name]) / ((k + 1) * 2 * chain * e32 * size[name]))
    assert max(worst) > 1, "every term equals float32 to float32 rounding: the low precision was not applied"


@pytest.fixture(scope="module")
def sgd_module():
    with pytest.MonkeyPatch.context() as mp:
        _sgd(mp)
        yield


@pytest.fixture(scope="module")
def float32_run(sgd_module):
    return _run("none", disc_iters=5)


# CPUs have no float16 convolution kernels (emulated, slow): the fp16 run takes 1 critic step on batches of 2
# (batch 8 took ~300 s of the CI run, most of this file; the bound of _assert_tracks_float32 does not depend on
# the batch size).
FP16_BATCH = 2


@pytest.fixture(scope="module")
def float32_one_critic_step(sgd_module):
    return _run("none", disc_iters=1, batch_size=FP16_BATCH)


def test_short_bf16_run_tracks_float32(float32_run, sgd_module):
    """SCoGAN 32x32, thesis preset (WGAN-GP, 5 critic steps) with FR and CC, same seeds and noise, dropout off, plain
    SGD (_sgd): every net computes in bfloat16 but its last layer, and over two iterations (10 critic and 2
    generator updates) every term stays within the bfloat16 bound of _assert_tracks_float32 (e = 2^-8:
    2 L e = 17% of the magnitudes per iteration) while differing by more than float32 rounding. Measured: at most
    9.4 e (3.7%) at the first iteration and 11.3 e at the second, with this CPU's oneDNN kernels and with TF's own
    (TF_ENABLE_ONEDNN_OPTS=0)."""
    t, rows = _run("bf16", disc_iters=5)
    g = t.generators[0]   # the trainer's own net computes its hidden layers in bfloat16 (not just its policy says so)
    assert g.blocks[1](g.blocks[0](tf.zeros((2, t.cfg.noise_dim)))).dtype == tf.bfloat16
    _assert_tracks_float32(t, rows, float32_run[1], "bf16")


def test_fp16_tracks_float32_skips_overflowing_updates_and_checkpoints_its_loss_scale(float32_one_critic_step,
                                                                                        sgd_module, tmp_path):
    """fp16 with an initial loss scale that does not overflow (256): two iterations (one critic step each, WGAN-GP
    still: float16 convolutions are emulated on CPUs) stay within the float16 bound of _assert_tracks_float32
    (e = 2^-11: 2 L e = 2.1% of the magnitudes per iteration; measured on batches of 2: at most 11.2 e per
    iteration, 0.55%, with this CPU's oneDNN kernels; on batches of 8: 9.1 e, also with TF's own), the gradient
    penalty's inner gradient and the updates unscaled. Then a scale
    of 2^40 makes every float16 gradient overflow: that iteration changes no weight and halves each optimizer's
    scale once per update it skips; the scales are checkpointed (a resumed run keeps them)."""
    t, rows = _run("fp16", disc_iters=1, batch_size=FP16_BATCH)
    opts = (t.d_opt, t.g_opt, t.enc_opt)
    assert all(isinstance(o, keras.optimizers.LossScaleOptimizer) for o in opts)
    assert [float(o.dynamic_scale.numpy()) for o in opts] == [256.0] * 3  # no overflow: no update skipped
    _assert_tracks_float32(t, rows, float32_one_critic_step[1], "fp16")

    for o in opts:
        o.dynamic_scale.assign(2.0 ** 40)
    variables = [v for m in t.models() for v in m.trainable_variables]
    before = [v.numpy().copy() for v in variables]
    t._compiled_step([next(it) for it in t.iterators])
    assert [v.path for v, b in zip(variables, before) if not np.array_equal(v.numpy(), b)] == []
    updates = (t.cfg.disc_iters * len(t.d_groups), len(t.g_groups), 1)  # apply_gradients calls per optimizer
    assert [float(o.dynamic_scale.numpy()) for o in opts] == [2.0 ** (40 - n) for n in updates]
    names = [n for n, _ in tf.train.list_variables(t.checkpoint.write(str(tmp_path / "ckpt")))]
    assert sum("dynamic_scale" in n for n in names) >= 3


def test_classifier_refuses_mixed_precision():
    from config import Config, resolve
    with pytest.raises(ConfigError, match="mixed_precision"):
        resolve(Config(gan_type="classifier", mixed_precision="bf16"), lambda c: 32)
