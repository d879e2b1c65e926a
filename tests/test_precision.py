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


def _losses(mixed_precision, steps=2, disc_iters=5):
    t = without_dropout(make("scogan", mixed_precision=mixed_precision, batch_size=8, feature_regulariser=True,
                             cycle_consistency=True, disc_iters=disc_iters))
    rows = []
    for _ in range(steps):
        logs = t._compiled_step([next(it) for it in t.iterators])
        rows.append({k: float(v) for k, v in logs.items()})
    return t, rows


TERMS = ("d_loss_1", "d_loss_2", "d_gp_1", "g_loss_1", "g_loss_2", "fr", "cc", "g_total")


@pytest.fixture(scope="module")
def float32_run():
    return _losses("none")[1]


@pytest.fixture(scope="module")
def float32_one_critic_step():
    # CPUs have no float16 convolution kernels (emulated, slow): the fp16 run takes 1 critic step.
    return _losses("none", disc_iters=1)[1]


def _assert_track(rows, reference, rel=0.05):
    assert rows[0].keys() == reference[0].keys()
    for step, (a, b) in enumerate(zip(rows, reference)):
        for k in TERMS:
            scale = max(abs(b[k]), 0.1 * max(abs(b["d_loss_1"]), 1.0))
            assert abs(a[k] - b[k]) <= rel * scale, (step, k, a[k], b[k])


def test_short_bf16_run_tracks_float32(float32_run):
    """SCoGAN 32x32, thesis preset (WGAN-GP, 5 critic steps) with FR and CC, the trainer's Adam, same seeds and
    noise, dropout off: two iterations (10 critic and 2 generator updates), every term within 5% of float32
    (measured: up to 3.8%, the gradient penalty; bf16 keeps 8 bits of mantissa). Longer runs drift apart as any
    two float orders do: Adam's first updates are about lr * sign(gradient)."""
    _assert_track(_losses("bf16")[1], float32_run)


def test_fp16_tracks_float32_skips_overflowing_updates_and_checkpoints_its_loss_scale(float32_one_critic_step,
                                                                                        tmp_path, monkeypatch):
    """fp16 with an initial loss scale that does not overflow (256): two iterations track float32 within 5%, the
    gradient penalty's inner gradient scaled as well (one critic step per iteration, WGAN-GP still: float16
    convolutions are emulated on CPUs). Then a scale of 2^40 makes every float16 gradient overflow: that
    iteration changes no weight and halves each optimizer's scale; the scales are checkpointed
    (a resumed run keeps them)."""
    monkeypatch.setattr(precision, "wrap_optimizer", lambda opt, name: keras.optimizers.LossScaleOptimizer(
        opt, initial_scale=256.0) if name == "fp16" else opt)
    t, rows = _losses("fp16", disc_iters=1)
    opts = (t.d_opt, t.g_opt, t.enc_opt)
    assert all(isinstance(o, keras.optimizers.LossScaleOptimizer) for o in opts)
    assert [float(o.dynamic_scale.numpy()) for o in opts] == [256.0] * 3  # no overflow: no update skipped
    _assert_track(rows, float32_one_critic_step)

    for o in opts:
        o.dynamic_scale.assign(2.0 ** 40)
    variables = [v for m in t.models() for v in m.trainable_variables]
    before = [v.numpy().copy() for v in variables]
    t._compiled_step([next(it) for it in t.iterators])
    assert [v.path for v, b in zip(variables, before) if not np.array_equal(v.numpy(), b)] == []
    assert [float(o.dynamic_scale.numpy()) for o in opts] == [2.0 ** 39] * 3
    names = [n for n, _ in tf.train.list_variables(t.checkpoint.write(str(tmp_path / "ckpt")))]
    assert sum("dynamic_scale" in n for n in names) >= 3


def test_classifier_refuses_mixed_precision():
    from config import Config, resolve
    with pytest.raises(ConfigError, match="mixed_precision"):
        resolve(Config(gan_type="classifier", mixed_precision="bf16"), lambda c: 32)
