"""The shared loop: steps, critic iterations, sharing under training, the coupling seam, and resume."""
import csv
import dataclasses

import numpy as np
import pytest
import tensorflow as tf
import keras

import main
from config import Config, ConfigError, resolve
from data_sources.base import DataInfo
from trainers import get_trainer
from trainers.cogan import CoGANTrainer


def make(gan_type="cogan", run_dir=None, shape=(32, 32, 3), strategy=None, unchecked=None, **kw):
    kw.setdefault("iterations", 4)
    kw.setdefault("batch_size", 2)
    kw.setdefault("log_interval", 1)
    kw.setdefault("sample_rows", 1)
    kw.setdefault("sample_cols", 2)
    data_key = "dataset" if gan_type == "gan" else "cogan_data"
    kw.setdefault(data_key, "synthetic")
    cfg = resolve(Config(gan_type=gan_type, **kw), lambda c: shape[0])
    if unchecked:  # settings resolve refuses (--xla on TF 2.21), set after it to measure what they compute
        cfg = dataclasses.replace(cfg, **unchecked)
    domains = get_trainer(gan_type).domains
    keras.utils.set_random_seed(cfg.seed)  # as main.run does before building the data pipelines
    datasets = [tf.data.Dataset.from_tensor_slices(
        np.random.RandomState(i).uniform(-1, 1, (16,) + shape).astype("float32"))
        .shuffle(16, seed=cfg.seed + i).repeat().batch(cfg.batch_size, drop_remainder=True) for i in range(domains)]
    info = DataInfo("synthetic", shape, (16,) * domains)
    return get_trainer(gan_type)(cfg, info, datasets, run_dir, strategy=strategy)


def _softplus(x):
    return float(np.log1p(np.exp(x)))


def test_step_logs_hand_values_for_critics_of_known_output():
    """--preset dcgan (non-saturating loss, one critic step): the critics' shared output layer set to the constant
    logit c (zero kernel, bias c) and their learning rate to 0, so they give c before and after their update.
    Every logged term is then a hand value (Goodfellow et al. 2014, Eq. 1 with D = sigmoid(c)): d_loss_i =
    softplus(-c) + softplus(c), g_loss_i = softplus(-c) (the non-saturating -log D; the saturating game would log
    -softplus(c)), d_total and g_total their sums; one update per network on each side's optimizer (listing)."""
    c = 0.5
    t = make(preset="dcgan", weight_decay=0.0)
    out = t.discriminators[0].blocks[-1]
    assert out is t.discriminators[1].blocks[-1]  # Table 3.2: the output layer is shared
    kernel, bias = out.trainable_variables
    kernel.assign(tf.zeros_like(kernel))
    bias.assign(tf.fill(bias.shape, c))
    t.d_opt.learning_rate = 0.0
    logs = {k: float(v) for k, v in t._compiled_step([next(it) for it in t.iterators]).items()}
    d_loss, g_loss = _softplus(-c) + _softplus(c), _softplus(-c)
    expected = {"d_loss_1": d_loss, "d_loss_2": d_loss, "d_total": 2 * d_loss,
                "g_loss_1": g_loss, "g_loss_2": g_loss, "g_total": 2 * g_loss}
    assert logs.keys() == expected.keys()
    for k, v in expected.items():  # float32 softplus of an exact logit: a few roundings of values ~1
        assert logs[k] == pytest.approx(v, rel=1e-6), k
    assert int(t.step.numpy()) == 1
    assert (int(t.d_opt.iterations), int(t.g_opt.iterations)) == (2, 2)


@pytest.mark.parametrize("gan_type,mode,updates", [
    ("gan", "listing", (3, 1)),      # one network per side: K critic updates, one generator update
    ("cogan", "listing", (6, 2)),    # Listings 6.12/6.13: one update per network, K times for the critics
    ("cogan", "summed", (3, 1)),     # the Caffe code: one update of the summed objective per step
])
def test_critic_step_k_takes_real_batch_k_and_each_update_counts_once(gan_type, mode, updates, monkeypatch):
    """One iteration with K = 3 critic steps: critic step k is given the k-th real batch of every domain (not one
    batch reused), the generator step the last; the optimizers' iteration counts (Adam's bias correction) advance
    once per update (README "Weight sharing")."""
    t = make(gan_type=gan_type, preset="dcgan", disc_iters=3, shared_update=mode)
    seen = {"d": [], "g": []}
    for side, name in (("d", "discriminator_step"), ("g", "generator_step")):
        step = getattr(t, name)
        monkeypatch.setattr(t, name, lambda reals, noise=None, step=step, side=side: (
            seen[side].append([r.numpy() for r in reals]), step(reals, noise))[1])
    reals = [next(it) for it in t.iterators]
    assert all(r.shape == (3, 2, 32, 32, 3) for r in reals)
    t.train_step(reals)
    assert len(seen["d"]) == 3 and len(seen["g"]) == 1
    for k, given in enumerate(seen["d"] + seen["g"]):
        k = min(k, 2)
        for r, x in zip(reals, given):
            np.testing.assert_array_equal(x, r[k].numpy())
    for r in reals:  # three different batches, so a reused one would show
        assert not any(np.array_equal(r[i].numpy(), r[j].numpy()) for i, j in ((0, 1), (0, 2), (1, 2)))
    assert (int(t.d_opt.iterations), int(t.g_opt.iterations)) == updates


def test_trainer_shares_the_blocks_its_options_name():
    """--shared_layers_g 2 --shared_layers_d 2 (not CoGAN32's default 4 / 3): the first two generator blocks and
    the last two discriminator blocks are the same objects, the others not; each side's variables are listed once,
    each side has its own optimizer. What sharing does to the update (each network's gradient, one optimizer
    object, the iteration counts) is checked against NumPy SGD and Adam replays in tests/test_shared_update.py."""
    t = make(shared_layers_g=2, shared_layers_d=2)
    g1, g2 = t.generators
    d1, d2 = t.discriminators
    assert [a is b for a, b in zip(g1.blocks, g2.blocks)] == [True, True, False, False, False]
    assert [a is b for a, b in zip(d1.blocks, d2.blocks)] == [False, False, True, True]
    for variables, nets_ in ((t.g_vars, t.generators), (t.d_vars, t.discriminators)):
        assert len({id(v) for v in variables}) == len(variables)
        assert {id(v) for v in variables} == {id(v) for m in nets_ for v in m.trainable_variables}
    assert t.g_opt is not t.d_opt


def _dropout_off(t):
    for d in t.discriminators:
        for layer in d._flatten_layers():
            if isinstance(layer, keras.layers.Dropout):
                layer.rate = 0.0
    return t


def test_wgan_gp_term_is_lambda_times_the_penalty_at_the_steps_own_interpolates():
    """The critic step's d_gp equals lambda * mean((||grad_x D(x_hat)||_2 - 1)^2) recomputed here (Gulrajani et al.
    2017, Eq. 3) at x_hat = alpha * real + (1 - alpha) * G(z), with the z and the per-sample alpha that step draws
    (trainers.base.StepNoise: z first, then alpha) and the real batch it is given; the penalty at x_hat = real or at
    the other mixture differs by far more than the tolerance. Dropout off, so that D is the same function here."""
    t = _dropout_off(make(preset="wgan-gp", gan_type="gan"))
    assert t.cfg.disc_iters == 5 and t.cfg.d_norm == "layer" and t.cfg.g_beta1 == 0.0
    lam, d, real = t.cfg.gp_weight, t.discriminators[0], next(t.iterators[0])[0]
    noise = t.noise_source(t.cfg.seed, t.step)
    z = noise.z([real.shape[0], t.cfg.noise_dim])
    alpha = noise.uniform([real.shape[0], 1, 1, 1], 0.0, 1.0).numpy()
    assert len(set(alpha.ravel())) == real.shape[0]  # one alpha per sample
    fake = t.generators[0](z, training=True).numpy()

    def norms(x_hat):
        x = tf.constant(x_hat.astype(np.float32))
        with tf.GradientTape() as tape:
            tape.watch(x)
            out = d(x, training=True)
        g = tape.gradient(out, x).numpy().astype(np.float64)
        return np.sqrt((g ** 2).sum(axis=(1, 2, 3)))

    n = norms(alpha * real.numpy() + (1 - alpha) * fake)
    expected = lam * np.mean((n - 1) ** 2)
    # Each norm is a float32 sum of ~3,000 squared gradient entries: relative error well under 1e-5.
    tol = lam * np.mean(2 * np.abs(n - 1) * 1e-5 * n + (1e-5 * n) ** 2)
    logs = t.discriminator_step([real])
    assert float(logs["d_gp"]) == pytest.approx(expected, abs=tol)
    for wrong in (real.numpy(), (1 - alpha) * real.numpy() + alpha * fake):
        assert abs(lam * np.mean((norms(wrong) - 1) ** 2) - expected) > 100 * tol


def test_clip_keeps_discriminator_in_bounds():
    t = make(gan_type="gan", loss="wgan", disc_penalty="clip", clip_value=0.01)
    t._compiled_step([next(it) for it in t.iterators])
    assert max(float(tf.reduce_max(tf.abs(v))) for v in t.d_vars) <= 0.01 + 1e-7


class Coupled(CoGANTrainer):
    """A stand-in coupling term R = mean((G1(z) - G2(z))^2) with weight a, added once."""
    weight = 3.0

    def coupling_terms(self, z, fakes, features, reals):
        return {"pair_distance": self.weight * tf.reduce_mean(tf.square(fakes[0] - fakes[1]))}


@pytest.mark.parametrize("mode", ["listing", "summed"])
def test_coupling_term_changes_each_generators_update_by_weight_times_its_gradient(mode):
    """Through the trainer's own generator step with plain SGD (the change is -lr * gradient): the update with the
    term a * R minus the update without it, from the same weights and z, equals -lr * a * dR/dtheta for every
    variable of both generators, R recomputed here on the z the step draws (trainers.base.StepNoise). So the weight
    acts once on each generator (thesis sec. 6.6), whether each generator is updated on its own objective
    (listing) or once on the sum (summed). Beside it, g_total is the logged terms' sum."""
    lr, a = 0.5, Coupled.weight
    base = make(shared_layers_g=0, shared_layers_d=0, weight_decay=0.0, shared_update=mode)
    reals = [tf.zeros((2, 32, 32, 3))] * 2
    on, off = Coupled(base.cfg, base.info, [tf.data.Dataset.from_tensors(reals[0]).repeat()] * 2), base
    for u, v in zip(on.g_vars + on.d_vars, off.g_vars + off.d_vars):
        np.testing.assert_array_equal(u.numpy(), v.numpy())
    z = on.noise_source(on.cfg.seed, on.step).z([2, on.cfg.noise_dim])  # the generator step's first draw
    with tf.GradientTape() as tape:
        fakes = [g(z, training=True) for g in on.generators]
        r = tf.reduce_mean(tf.square(fakes[0] - fakes[1]))
    expected = [-lr * a * g.numpy() for g in tape.gradient(r, on.g_vars)]

    (logs, d_on), (_, d_off) = sgd_generator_step(on, lr, reals), sgd_generator_step(off, lr, reals)
    assert float(logs["pair_distance"]) == pytest.approx(a * float(r), rel=1e-5)
    total = float(logs["g_loss_1"]) + float(logs["g_loss_2"]) + float(logs["pair_distance"])
    assert float(logs["g_total"]) == pytest.approx(total, rel=1e-5)
    assert_update_difference(on.g_vars, d_on, d_off, expected)


def sgd_generator_step(t, lr, reals):
    """One generator update of the trainer's own objective with plain SGD (the change is -lr * gradient):
    -> (its logs, the change of every variable of t.g_vars)."""
    t.g_opt = keras.optimizers.SGD(lr)
    t.g_opt.build(t.g_vars)
    before = [v.numpy().copy() for v in t.g_vars]
    logs = t.generator_step(reals)
    return logs, [v.numpy() - b for v, b in zip(t.g_vars, before)]


def before_batchnorm(path):
    """A transposed convolution's bias right before BatchNorm (the generators' up blocks): BatchNorm subtracts it, so
    its gradient is zero and its change only the rounding noise of the terms summed into it."""
    return "_up" in path and "conv2d_transpose" in path and path.endswith("bias")


def assert_update_difference(variables, d_on, d_off, expected):
    """d_on - d_off (SGD changes with and without a term) equals `expected` (-lr * weight * the term's gradient,
    computed independently) in every variable: to 1e-3 of the expected entry plus 3e-5 of the variable's largest
    change (float32 gradients of sums over thousands of terms and the update's rounding: measured up to 8e-6 of
    it). A variable with a zero gradient by construction only has to change by less than that of the largest
    step; every kernel must move by far more than the tolerance (the check is not vacuous)."""
    largest = max(float(np.abs(x).max()) for x in d_on + d_off)
    for v, e, x, y in zip(variables, expected, d_on, d_off):
        scale = float(max(np.abs(x).max(), np.abs(y).max()))
        if before_batchnorm(v.path):
            assert np.abs(x - y).max() <= 3e-5 * largest and np.abs(e).max() <= 3e-5 * largest, v.path
            continue
        np.testing.assert_allclose(x - y, e, rtol=1e-3, atol=3e-5 * scale, err_msg=v.path)
        if "kernel" in v.path:
            assert np.abs(e).max() > 100 * 3e-5 * scale, v.path


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


def test_checkpoint_layout_is_the_file_format_runs_on_disk_hold(tmp_path):
    """The checkpoint keys are a file format: runs saved earlier are resumed and sampled by them. Each network's
    variables are saved under vars_<name>, one entry per variable in the order of its `variables` (BatchNorm
    statistics and Dropout seeds included), the CC encoder's as vars_F; sampling.load_run, which builds the
    generators from config.json alone, reads them back bit for bit from the trainer's own checkpoint."""
    import sampling

    t = make("scogan", run_dir=tmp_path, iterations=1, checkpoint_interval=1, cycle_consistency=True, g_width=0.25)
    t.fit()
    t.cfg.save(tmp_path / "config.json")
    saved = {}
    for name, shape in tf.train.list_variables(str(tmp_path / "checkpoints" / "ckpt-1")):
        key, *rest = name.split("/")
        if key.startswith("vars_"):
            saved.setdefault(key, {})[int(rest[0])] = tuple(shape)
    nets_by_key = {"vars_G1": t.generators[0], "vars_G2": t.generators[1], "vars_D1": t.discriminators[0],
                   "vars_D2": t.discriminators[1], "vars_F": t.encoder}
    assert saved.keys() == nets_by_key.keys()
    for key, net in nets_by_key.items():
        assert saved[key] == {i: tuple(v.shape) for i, v in enumerate(net.variables)}, key
    run = sampling.load_run(tmp_path)
    assert run.step == 1
    for got, want in zip(run.generators, t.generators, strict=True):
        for u, v in zip(got.variables, want.variables, strict=True):
            np.testing.assert_array_equal(u.numpy(), v.numpy(), err_msg=f"{got.name}: {v.path}")


def test_resume_equals_uninterrupted_run_exactly_under_deterministic(tmp_path):
    """--deterministic (TF op determinism): 2 + 2 iterations with a resume in between give bit-identical weights
    of every network and the same losses.csv as 4 uninterrupted ones. Subprocesses, because op determinism is
    process-wide."""
    import subprocess
    import sys
    from pathlib import Path

    from translation_helpers import h5_arrays

    repo = Path(__file__).resolve().parents[1]
    flags = ["--batch_size", "4", "--log_interval", "1", "--sample_interval", "2", "--checkpoint_interval", "2",
             "--sample_rows", "1", "--sample_cols", "2", "--no_final_eval", "--deterministic", "--preset", "thesis"]

    def run(*argv):
        subprocess.run([sys.executable, str(repo / "main.py"), *map(str, argv)], check=True, cwd=tmp_path,
                       capture_output=True)

    run("--dir", tmp_path / "full", "--iterations", "4", *flags)
    run("--dir", tmp_path / "part", "--iterations", "2", *flags)
    run("--dir", tmp_path / "part", "--resume", "--iterations", "4")

    for name in ("G1", "G2", "D1", "D2"):
        a, b = (h5_arrays(tmp_path / r / "models" / f"{name}.weights.h5") for r in ("full", "part"))
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
    logged terms agree to rel/abs_, and every variable's update to `of_movement` times how far that variable moved
    (not the largest move of any variable: a small variable that should move but stayed would show), plus one
    float32 rounding of each result (2 * spacing of the variable's largest entry)."""
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
    paths = [v.path for v in t.g_vars + t.d_vars]
    moved = [float(np.max(np.abs(a - b))) for a, b in zip(w_a, before)]
    assert max(moved) > 1e-4, moved
    for path, a, b, m in zip(paths, w_a, w_b, moved):
        differ = float(np.max(np.abs(a - b)))
        assert differ <= of_movement * m + 2 * np.spacing(np.float32(np.abs(a).max())), (path, m, differ)


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
    """Deterministic stand-in for trainers.base.StepNoise (noise z and WGAN-GP's alpha): the XLA and the plain step
    are compared on the same numbers, whatever the two make of the stateless random ops."""

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
    return _dropout_off(t)


@pytest.mark.xfail(strict=False, reason="XLA on CPU (TF 2.21) computes the first generator's gradient wrongly (the "
                                        "shared trunk's under CoGAN): G1's up3 kernel update 6-12% off the plain "
                                        "step's, its other variables 0.2-1%, while G2 and both critics agree to "
                                        "1e-6; eager and plain graph agree to 1e-6")
def test_xla_step_equals_the_plain_compiled_step(monkeypatch, without_op_determinism):
    """--xla (jit_compile) computes the same iteration as the plain compiled step: the same losses and updated
    weights from the same state, within float tolerance, for SCoGAN32 with FR (non-saturating loss; SGD, so the
    update is linear in the gradient; randomness fixed: the same z, dropout off). WGAN-GP is refused with --xla
    (next tests). Every variable is compared with its own move: the earlier comparison with the largest move of
    any variable hid the G1 difference named in the xfail reason."""
    from trainers import base
    monkeypatch.setattr(base, "make_optimizer", lambda *a: keras.optimizers.SGD(learning_rate=0.01))

    def build(xla):
        return lambda: _no_randomness(make("scogan", preset="dcgan", d_norm="layer", unchecked=dict(xla=xla),
                                           feature_regulariser=True))

    _same_step_two_ways(build(False), build(True), rel=1e-4, abs_=1e-5, of_movement=1e-2)


def _gp_setup():
    """(the WGAN-GP term as a function of nothing, the cogan32 critic's fc1 kernel) for fixed real and fake batches."""
    t = _no_randomness(make("scogan", preset="thesis", d_norm="layer"))
    real = next(t.iterators[0])[0]
    fake = t.generators[0](_FixedRng().uniform([tf.shape(real)[0], t.cfg.noise_dim], -1.0, 1.0), training=True)
    d = t.discriminators[0]
    var = next(v for v in d.trainable_variables if "fc1" in v.path and "kernel" in v.path)
    return (lambda: t.penalty.terms(d, real, fake, _FixedRng(), training=True)["d_gp"]), var


def _gradient(gp, var, jit_compile):
    def grad():
        with tf.GradientTape() as tape:
            value = gp()
        return tape.gradient(value, var)
    return tf.function(grad, jit_compile=jit_compile)().numpy()


def _finite_difference(gp, var, idx, eps=1e-2):
    """Central difference of gp() in the entry idx of var (restored afterwards)."""
    w0 = var.numpy()

    def at(delta):
        w = w0.copy()
        w[idx] += delta
        var.assign(w)
        return float(gp())

    numeric = (at(eps) - at(-eps)) / (2 * eps)
    var.assign(w0)
    return numeric


def test_wgan_gp_gradient_matches_finite_differences(without_op_determinism):
    """The critic's WGAN-GP gradient (a gradient of a gradient) as our compiled step computes it equals a central
    finite difference, in the three fc1 kernel entries of largest gradient."""
    gp, var = _gp_setup()
    plain = _gradient(gp, var, jit_compile=False)
    for flat in np.argsort(np.abs(plain).ravel())[-3:]:
        idx = np.unravel_index(flat, plain.shape)
        assert plain[idx] == pytest.approx(_finite_difference(gp, var, idx), rel=1e-3, abs=1e-6), idx


@pytest.mark.xfail(strict=False, reason="XLA on CPU (TF 2.21) computes a wrong WGAN-GP gradient (measured: 0.0067 "
                                        "against 0.0216), which is why --xla is refused with WGAN-GP; passes "
                                        "once TensorFlow fixes it, and then the refusal can go")
def test_xla_wgan_gp_gradient_matches_finite_differences(without_op_determinism):
    """Where the XLA and plain gradients differ most, XLA's equals the finite difference too."""
    gp, var = _gp_setup()
    plain, jit = _gradient(gp, var, jit_compile=False), _gradient(gp, var, jit_compile=True)
    idx = np.unravel_index(np.argmax(np.abs(plain - jit)), plain.shape)
    assert jit[idx] == pytest.approx(_finite_difference(gp, var, idx), rel=1e-3, abs=1e-6)


def test_xla_is_refused_on_tf_2_21(capsys):
    """Both wrong gradients of the xfail tests above are refused, WGAN-GP's with its own reason, also from the CLI
    (one line, exit 2)."""
    with pytest.raises(ConfigError, match="--xla computes wrong WGAN-GP gradients"):
        resolve(Config(gan_type="cogan", cogan_data="synthetic", xla=True, preset="thesis"), lambda c: 32)
    for options in (dict(preset="dcgan"), dict(preset="dcgan", loss="wasserstein", disc_penalty="clip")):
        with pytest.raises(ConfigError, match="--xla computes wrong generator gradients on TF 2.21"):
            resolve(Config(gan_type="scogan", cogan_data="synthetic", xla=True, **options), lambda c: 32)
    assert not resolve(Config(gan_type="cogan", cogan_data="synthetic", preset="dcgan"), lambda c: 32).xla
    assert main.main(["--xla", "--preset", "dcgan", "--iterations", "1"]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        "error: --xla computes wrong generator gradients on TF 2.21 (up to 12% off the plain compiled step for the "
        "cogan32 generators; README, XLA): leave --xla out"]
