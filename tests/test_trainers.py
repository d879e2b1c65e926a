"""The shared loop: steps, critic iterations, sharing under training, the coupling seam, and resume."""
import csv
from dataclasses import dataclass

import numpy as np
import pytest
import tensorflow as tf
import keras

from config import Config, ConfigError, resolve
from trainers import get_trainer
from trainers.cogan import CoGANTrainer


@dataclass(frozen=True)
class Info:
    name: str
    shape: tuple
    sizes: tuple
    skipped: int = 0


def make(gan_type="cogan", run_dir=None, shape=(32, 32, 3), strategy=None, **kw):
    kw.setdefault("iterations", 4)
    kw.setdefault("batch_size", 2)
    kw.setdefault("log_interval", 1)
    kw.setdefault("sample_rows", 1)
    kw.setdefault("sample_cols", 2)
    data_key = "dataset" if gan_type == "gan" else "cogan_data"
    kw.setdefault(data_key, "synthetic")
    cfg = resolve(Config(gan_type=gan_type, **kw), lambda c: shape[0])
    domains = 1 if gan_type == "gan" else 2
    keras.utils.set_random_seed(cfg.seed)  # as main.run does before building the data pipelines
    datasets = [tf.data.Dataset.from_tensor_slices(
        np.random.RandomState(i).uniform(-1, 1, (16,) + shape).astype("float32"))
        .shuffle(16, seed=cfg.seed + i).repeat().batch(cfg.batch_size, drop_remainder=True) for i in range(domains)]
    return get_trainer(gan_type)(cfg, Info("synthetic", shape, (16,) * domains), datasets, run_dir, strategy=strategy)


def test_step_returns_named_scalars_and_advances():
    t = make()
    logs = t._compiled_step([next(it) for it in t.iterators])
    assert {"d_loss_1", "d_loss_2", "g_loss_1", "g_loss_2", "d_total", "g_total"} <= set(logs)
    assert all(np.isfinite(float(v)) for v in logs.values())
    assert int(t.step.numpy()) == 1


def test_critic_steps_use_fresh_real_batches():
    t = make(gan_type="gan", disc_iters=3)
    batch = next(t.iterators[0])
    assert batch.shape == (3, 2, 32, 32, 3)
    assert not np.allclose(batch[0].numpy(), batch[1].numpy())


def test_shared_layers_identical_and_unshared_differ_after_steps():
    t = make(shared_layers_g=2, shared_layers_d=2)
    for _ in range(2):
        t._compiled_step([next(it) for it in t.iterators])
    g1, g2 = t.generators
    for i in range(2):
        assert g1.blocks[i] is g2.blocks[i]
    assert not np.allclose(g1.blocks[3].get_weights()[0], g2.blocks[3].get_weights()[0])
    assert len({id(v) for v in t.g_vars}) == len(t.g_vars)
    assert t.g_opt is not t.d_opt


def test_wgan_gp_preset_step():
    t = make(preset="wgan-gp", gan_type="gan")
    assert t.cfg.disc_iters == 5 and t.cfg.d_norm == "layer" and t.cfg.g_beta1 == 0.0
    logs = t._compiled_step([next(it) for it in t.iterators])
    assert "d_gp" in logs and float(logs["d_gp"]) > 0


def test_clip_keeps_discriminator_in_bounds():
    t = make(gan_type="gan", loss="wgan", disc_penalty="clip", clip_value=0.01)
    t._compiled_step([next(it) for it in t.iterators])
    assert max(float(tf.reduce_max(tf.abs(v))) for v in t.d_vars) <= 0.01 + 1e-7


class Coupled(CoGANTrainer):
    """A stand-in coupling term R = mean((G1(z) - G2(z))^2) with weight a, added once."""
    weight = 3.0

    def coupling_terms(self, z, fakes, features, reals):
        return {"pair_distance": self.weight * tf.reduce_mean(tf.square(fakes[0] - fakes[1]))}


def test_coupling_term_enters_generator_objective_once():
    base = make(shared_layers_g=0, shared_layers_d=0, weight_decay=0.0)
    t = Coupled(base.cfg, base.info, [tf.data.Dataset.from_tensors(tf.zeros((2, 32, 32, 3))).repeat()] * 2)
    logs = t.generator_step([tf.zeros((2, 32, 32, 3))] * 2)
    total = float(logs["g_loss_1"]) + float(logs["g_loss_2"]) + float(logs["pair_distance"])
    assert float(logs["g_total"]) == pytest.approx(total, rel=1e-5)
    # d(a R)/dG1 = a dR/dG1: the weight acts once on each generator (thesis sec. 6.6).
    z = tf.random.uniform((2, 100), -1, 1)
    g1_vars = t.generators[0].trainable_variables
    with tf.GradientTape(persistent=True) as tape:
        fakes = [g(z, training=False) for g in t.generators]
        weighted = t.coupling_terms(z, fakes, None, None)["pair_distance"]
        r = tf.reduce_mean(tf.square(fakes[0] - fakes[1]))
    for gw, gr in zip(tape.gradient(weighted, g1_vars), tape.gradient(r, g1_vars)):
        if gw is not None:
            np.testing.assert_allclose(gw.numpy(), 3.0 * gr.numpy(), rtol=1e-4, atol=1e-8)


def _weights(t):
    return [w for m in t.generators + t.discriminators for w in m.get_weights()]


def _rows(path):
    with open(path) as f:
        return list(csv.reader(f))


def test_checkpoint_restores_every_variable_exactly(tmp_path):
    t = make(run_dir=tmp_path, iterations=2, checkpoint_interval=2)
    t.fit()
    r = make(run_dir=tmp_path, iterations=2, resume=True)
    assert r.restore() == 2
    pairs = [(a, b) for ma, mb in zip(t.generators + t.discriminators, r.generators + r.discriminators)
             for a, b in zip(ma.variables, mb.variables)]
    assert any("moving_mean" in a.path for a, _ in pairs) and any("seed_generator" in a.path for a, _ in pairs)
    pairs += list(zip(t.g_opt.variables, r.g_opt.variables)) + list(zip(t.d_opt.variables, r.d_opt.variables))
    for a, b in pairs:
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=a.path)
    assert int(r.step.numpy()) == 2  # the noise is drawn from (seed, step): trainers.base.StepNoise
    np.testing.assert_array_equal(next(t.iterators[0]).numpy(), next(r.iterators[0]).numpy())


def test_resume_equals_uninterrupted_run_exactly_under_deterministic(tmp_path):
    """--deterministic (TF op determinism): 2 + 2 iterations with a resume in between give bit-identical weights
    of every network and the same losses.csv as 4 uninterrupted ones. Subprocesses, because op determinism is
    process-wide."""
    import subprocess
    import sys
    from pathlib import Path

    import h5py

    repo = Path(__file__).resolve().parents[1]
    flags = ["--batch_size", "4", "--log_interval", "1", "--sample_interval", "2", "--checkpoint_interval", "2",
             "--sample_rows", "1", "--sample_cols", "2", "--no_final_eval", "--deterministic", "--preset", "thesis"]

    def run(*argv):
        subprocess.run([sys.executable, str(repo / "main.py"), *map(str, argv)], check=True, cwd=tmp_path,
                       capture_output=True)

    run("--dir", tmp_path / "full", "--iterations", "4", *flags)
    run("--dir", tmp_path / "part", "--iterations", "2", *flags)
    run("--dir", tmp_path / "part", "--resume", "--iterations", "4")

    def leaves(path):
        out = {}
        with h5py.File(path) as f:
            f.visititems(lambda n, o: out.__setitem__(n, o[()]) if isinstance(o, h5py.Dataset) else None)
        return out

    for name in ("G1", "G2", "D1", "D2"):
        a, b = (leaves(tmp_path / r / "models" / f"{name}.weights.h5") for r in ("full", "part"))
        assert a.keys() == b.keys() and a
        for k in a:
            np.testing.assert_array_equal(a[k], b[k], err_msg=f"{name}/{k}")
    full_rows, part_rows = _rows(tmp_path / "full" / "losses.csv"), _rows(tmp_path / "part" / "losses.csv")
    assert [r[0] for r in part_rows] == ["step", "1", "2", "3", "4"]
    assert full_rows == part_rows
    assert sorted(p.name for p in (tmp_path / "part" / "samples").iterdir()) == ["step_0000002.png",
                                                                                 "step_0000004.png"]


def test_one_trace_for_the_whole_loop(tmp_path):
    full = make(run_dir=tmp_path / "full", checkpoint_interval=2, sample_interval=2)
    full.fit()
    assert full._compiled_step.experimental_get_tracing_count() == 1
    assert (tmp_path / "full" / "models" / "G1.weights.h5").is_file()


def test_resume_drops_rows_logged_after_the_checkpoint(tmp_path):
    t = make(run_dir=tmp_path, iterations=2, checkpoint_interval=2)
    t.fit()
    rows = _rows(tmp_path / "losses.csv")
    # Pretend the run logged step 3 and died before its checkpoint.
    with open(tmp_path / "losses.csv", "a") as f:
        f.write(",".join(["3"] + ["99"] * (len(rows[0]) - 1)) + "\n")
    r = make(run_dir=tmp_path, iterations=3, checkpoint_interval=2, resume=True)
    r.fit()
    after = _rows(tmp_path / "losses.csv")
    assert [row[0] for row in after] == ["step", "1", "2", "3"]
    assert after[:3] == rows and "99" not in after[3]


def test_tensorboard_gets_the_sample_grids_as_images_and_every_logged_term(tmp_path):
    """The same grid as samples/step_*.png under the tag "samples" (Images tab), and one scalar per column."""
    from PIL import Image
    t = make(run_dir=tmp_path, iterations=2, sample_interval=1, preset="dcgan")
    t.fit()
    images, scalars = {}, set()
    for f in (tmp_path / "tb").iterdir():
        for record in tf.data.TFRecordDataset(str(f)):
            event = tf.compat.v1.Event.FromString(record.numpy())
            for v in event.summary.value:
                if v.tag == "samples":
                    encoded = tf.make_ndarray(v.tensor)[2]  # [width, height, png bytes]
                    images[event.step] = tf.io.decode_png(encoded).numpy()
                else:
                    scalars.add(v.tag)
    assert sorted(images) == [1, 2]
    for step, image in images.items():
        assert np.array_equal(image, np.asarray(Image.open(tmp_path / "samples" / f"step_{step:07d}.png")))
    with open(tmp_path / "losses.csv") as f:
        assert scalars == set(next(csv.reader(f))[1:])


def _same_step_two_ways(build_a, build_b, rel, abs_, of_movement):
    """One compiled iteration of the trainers build_a() and build_b() (the same seed, so the same state): their
    logged terms agree to rel/abs_, and their updated weights to `of_movement` times what the step moved them."""
    results = []
    for build in (build_a, build_b):
        t = build()
        before = [v.numpy() for v in t.g_vars + t.d_vars]
        logs = t._compiled_step([next(it) for it in t.iterators])
        results.append(({k: float(v) for k, v in logs.items()}, [v.numpy() for v in t.g_vars + t.d_vars]))
    (logs_a, w_a), (logs_b, w_b) = results
    assert logs_a.keys() == logs_b.keys()
    for k in logs_a:
        assert logs_b[k] == pytest.approx(logs_a[k], rel=rel, abs=abs_), k
    moved = max(float(np.max(np.abs(a - b))) for a, b in zip(w_a, before))
    differ = max(float(np.max(np.abs(a - b))) for a, b in zip(w_a, w_b))
    assert moved > 1e-4 and differ < of_movement * moved, (moved, differ)


def _separately(generators, z, training=False, shared=None):
    """The reference: every generator run whole on z (the shared blocks twice), as before the trunk ran once."""
    return [g.call_with_features(z, training=training) for g in generators]


def test_cogan_shared_trunk_once_gives_the_same_step_as_two_full_generators(monkeypatch):
    """One training step (2 critic updates, 1 generator update) from the same state, with the shared generator
    blocks run once (nets.forward_coupled) and with both generators run whole: the same losses, and updated
    weights that agree to 1e-3 of what the step moved them. Plain SGD, so that the update is linear in the
    gradient (Adam's normalisation would magnify float noise in near-zero gradients)."""
    import nets
    from trainers import base
    monkeypatch.setattr(base, "make_optimizer", lambda *a: keras.optimizers.SGD(learning_rate=0.01))
    once = nets.forward_coupled

    def build(forward):
        def trainer():
            monkeypatch.setattr(nets, "forward_coupled", forward)  # read when the step is traced
            t = make(preset="thesis", disc_iters=2, d_norm="layer", log_weight_difference=True)
            assert t.shared_g == 4  # CoGAN32's default sharing: 4 of 5 generator blocks
            return t
        return trainer

    _same_step_two_ways(build(_separately), build(once), rel=1e-5, abs_=1e-6, of_movement=1e-3)


def test_forward_coupled_equals_each_generator_run_alone_in_inference():
    import nets
    t = make()
    z = tf.random.uniform((3, t.cfg.noise_dim), -1, 1, seed=1)
    for (x, feats), g in zip(nets.forward_coupled(t.generators, z), t.generators):
        ref, ref_feats = g.call_with_features(z, training=False)
        np.testing.assert_array_equal(x.numpy(), ref.numpy())
        assert len(feats) == len(ref_feats) == len(g.blocks)


class _FixedRng:
    """Deterministic stand-in for tf.random.Generator (noise z and WGAN-GP's alpha): XLA draws other random
    streams than the plain graph, so the two steps are compared on the same numbers."""

    def uniform(self, shape, minval, maxval):
        n = tf.reduce_prod(shape)
        frac = (tf.sin(tf.range(n, dtype=tf.float32) * 12.9898) + 1.0) / 2.0
        return minval + (maxval - minval) * tf.reshape(frac, shape)

    def z(self, shape):
        return self.uniform(shape, -1.0, 1.0)


@pytest.fixture
def without_op_determinism():
    """XLA has no deterministic MaxPool gradient: an earlier --deterministic run in this process (main.run enables
    op determinism process-wide) would make it refuse. Off for the test, then as it was."""
    from tensorflow.python.framework import config as tf_config
    was = tf_config.is_op_determinism_enabled()
    tf_config.disable_op_determinism()
    yield
    if was:
        tf_config.enable_op_determinism()


def _no_randomness(t):
    t.noise_source = lambda seed, step: _FixedRng()
    for d in t.discriminators:
        for layer in d._flatten_layers():
            if isinstance(layer, keras.layers.Dropout):
                layer.rate = 0.0
    return t


def test_xla_step_equals_the_plain_compiled_step(monkeypatch, without_op_determinism):
    """--xla (jit_compile) computes the same iteration as the plain compiled step: the same losses and updated
    weights from the same state, within float tolerance, for SCoGAN32 with FR (non-saturating loss; SGD, so the
    update is linear in the gradient; randomness fixed: the same z, dropout off). WGAN-GP is refused with --xla
    (next tests)."""
    from trainers import base
    monkeypatch.setattr(base, "make_optimizer", lambda *a: keras.optimizers.SGD(learning_rate=0.01))

    def build(xla):
        return lambda: _no_randomness(make("scogan", preset="dcgan", d_norm="layer", xla=xla, feature_regulariser=True))

    _same_step_two_ways(build(False), build(True), rel=1e-4, abs_=1e-5, of_movement=1e-2)


def _gp_gradient_check():
    """(compiled gradient, central finite difference) of the WGAN-GP term w.r.t. the cogan32 critic's fc1 kernel
    element where the plain and XLA gradients differ most."""
    t = _no_randomness(make("scogan", preset="thesis", d_norm="layer"))
    real = next(t.iterators[0])[0]
    fake = t.generators[0](_FixedRng().uniform([tf.shape(real)[0], t.cfg.noise_dim], -1.0, 1.0), training=True)
    d = t.discriminators[0]
    var = next(v for v in d.trainable_variables if "fc1" in v.path and "kernel" in v.path)

    def gp():
        return t.penalty.terms(d, real, fake, _FixedRng(), training=True)["d_gp"]

    def grad():
        with tf.GradientTape() as tape:
            value = gp()
        return tape.gradient(value, var)

    plain = tf.function(grad)().numpy()
    jit = tf.function(grad, jit_compile=True)().numpy()
    idx = np.unravel_index(np.argmax(np.abs(plain - jit)), plain.shape)
    w0, eps = var.numpy(), 1e-2

    def at(delta):
        w = w0.copy()
        w[idx] += delta
        var.assign(w)
        return float(gp())

    numeric = (at(eps) - at(-eps)) / (2 * eps)
    var.assign(w0)
    return float(plain[idx]), float(jit[idx]), numeric


def test_wgan_gp_gradient_matches_finite_differences_and_xla_does_not(without_op_determinism):
    """The critic's WGAN-GP gradient (a gradient of a gradient) as our compiled step computes it equals a central
    finite difference; XLA on this CPU (TF 2.21) gets it wrong by far more (measured: 0.0067 against 0.0216),
    which is why --xla is refused with WGAN-GP."""
    plain, jit, numeric = _gp_gradient_check()
    assert plain == pytest.approx(numeric, rel=1e-3, abs=1e-6)
    assert abs(jit - numeric) > 0.1 * abs(numeric)


def test_xla_is_refused_with_wgan_gp_and_with_deterministic():
    with pytest.raises(ConfigError, match="--xla computes wrong WGAN-GP gradients"):
        resolve(Config(gan_type="cogan", cogan_data="synthetic", xla=True, preset="thesis"), lambda c: 32)
    with pytest.raises(ConfigError, match="--xla and --deterministic"):
        resolve(Config(gan_type="cogan", cogan_data="synthetic", xla=True, preset="dcgan", deterministic=True),
                lambda c: 32)
    assert resolve(Config(gan_type="cogan", cogan_data="synthetic", xla=True, preset="dcgan"), lambda c: 32).xla
