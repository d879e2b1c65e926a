"""The toy rings (`--toy_ring authors|metz`, data.TOY_RINGS), the latent distribution (`--noise_type`,
trainers.base.StepNoise) and the toy experiments resolving to the thesis authors' settings (README "The toy
ring": palminde/P10Project, Nov.-Dec. 2019)."""
import json

import numpy as np
import pytest
import tensorflow as tf

import data
import main
from config import Config, ConfigError, parse_config
from metrics.modes import mode_coverage
from trainers.base import StepNoise


def parse(*argv):
    return parse_config(list(argv), lambda cfg: 32)


def batches(ds, n):
    it = iter(ds)
    return [next(it).numpy() for _ in range(n)]


# ------------------------------------------------------------------------------------------------ the rings
def test_the_two_rings_by_hand():
    """authors: createToyDataRing(n_mixtures=10, radius=3, Ntrain=5120, std=0.05) (Data.py, 1899bab); metz:
    radius 2, std 0.02, sampled afresh. Centre i at angle 36 i degrees."""
    a, m = data.toy_ring("authors"), data.toy_ring("metz")
    assert (a.modes, a.radius, a.std, a.size) == (10, 3.0, 0.05, 5120)
    assert (m.modes, m.radius, m.std, m.size) == (10, 2.0, 0.02, None)
    ca, cm = data.ring_modes(a.modes, a.radius), data.ring_modes(m.modes, m.radius)
    np.testing.assert_allclose(ca[[0, 1, 2, 5, 9]], [[3.0, 0.0], [2.427051, 1.763356], [0.927051, 2.853170],
                                                     [-3.0, 0.0], [2.427051, -1.763356]], atol=1e-5)
    np.testing.assert_allclose(cm[[0, 1, 5]], [[2.0, 0.0], [1.618034, 1.175571], [-2.0, 0.0]], atol=1e-5)
    np.testing.assert_array_equal(data.ring_modes(), cm)   # the default centres stay Metz's (old callers)
    with pytest.raises(data.DataError, match="authors, metz"):
        data.toy_ring("unrolled")


def test_the_authors_fixed_set_is_their_mixture_and_a_function_of_the_seed():
    ring = data.toy_ring("authors")
    x = data.ring_set(ring, seed=0)
    assert x.shape == (5120, 2) and x.dtype == np.float32
    centres = data.ring_modes(10, 3.0)
    d = np.linalg.norm(x[:, None] - centres[None], axis=2)
    nearest = d.argmin(axis=1)
    counts = np.bincount(nearest, minlength=10)
    assert counts.sum() == 5120 and counts.min() > 512 - 90 and counts.max() < 512 + 90   # equal weights
    residual = x - centres[nearest]
    assert 0.048 < residual.std() < 0.052 and abs(residual.mean()) < 0.003                 # std 0.05
    assert 2.75 < np.linalg.norm(x, axis=1).min() and np.linalg.norm(x, axis=1).max() < 3.25   # within 5 std
    np.testing.assert_array_equal(data.ring_set(ring, seed=0), x)                           # repeatable
    assert not np.array_equal(data.ring_set(ring, seed=1), x)
    # The mode-coverage measure scores real data of the ring it is given: 10 / 10, ~0.989 high quality.
    r = mode_coverage(x, centres, ring.std)
    assert r["covered"] == 10 and 0.98 < r["high_quality"] < 0.995
    # ... and nothing with the other ring's centres and std.
    assert mode_coverage(x, data.ring_modes(), data.TOY_STD)["covered"] == 0
    with pytest.raises(data.DataError, match="no fixed set"):
        data.ring_set(data.toy_ring("metz"), 0)


def test_the_authors_ring_pipeline_reshuffles_the_fixed_set_each_epoch_and_resumes(tmp_path):
    ds, info = data.load_single("toy", batch_size=100, seed=3)   # the default ring: the authors'
    assert (info.name, info.shape, info.sizes) == ("toy", (2,), (5120,))
    points = data.ring_set(data.toy_ring("authors"), 3)
    got = np.concatenate(batches(ds, 103))                      # two epochs and a bit
    assert got.shape == (10300, 2)
    index = {tuple(p): i for i, p in enumerate(points)}
    ids = np.array([index[tuple(p)] for p in got])              # every point is one of the fixed set
    assert sorted(ids[:5120]) == list(range(5120))              # epoch 1: a permutation of the set
    assert sorted(ids[5120:10240]) == list(range(5120))         # epoch 2: another one
    assert not np.array_equal(ids[:5120], ids[5120:10240])
    again, _ = data.load_single("toy", batch_size=100, seed=3, toy_ring="authors")
    np.testing.assert_array_equal(batches(again, 2)[1], got[100:200])
    # A checkpoint holds the position: a restored pipeline continues where the saved one was.
    it = iter(again)
    for _ in range(60):
        next(it)
    ckpt = tf.train.Checkpoint(it=it)
    path = ckpt.write(str(tmp_path / "it"))
    want = [next(it).numpy() for _ in range(3)]
    fresh, _ = data.load_single("toy", batch_size=100, seed=3)
    it2 = iter(fresh)
    tf.train.Checkpoint(it=it2).read(path).assert_consumed()
    for w in want:
        np.testing.assert_array_equal(next(it2).numpy(), w)


# ------------------------------------------------------------------------------------------------ the noise
def test_step_noise_uniform_is_unchanged_and_normal_draws_only_z_from_n01():
    assert StepNoise.with_latent("uniform") is StepNoise
    normal = StepNoise.with_latent("normal")
    assert normal.latent == "normal" and issubclass(normal, StepNoise)
    with pytest.raises(ValueError, match="uniform or normal"):
        StepNoise.with_latent("gaussian")
    u = StepNoise(7, 5)
    z = u.uniform([4000, 10], -1.0, 1.0).numpy()
    want = tf.random.stateless_uniform([4000, 10], tf.constant([7, 5 * 1024], tf.int64), -1.0, 1.0).numpy()
    np.testing.assert_array_equal(z, want)   # the draws of runs recorded before --noise_type
    n = normal(7, 5)
    np.testing.assert_array_equal(StepNoise(7, 5).z([4000, 10]).numpy(), want)   # uniform z: the same draw
    zn = n.z([4000, 10]).numpy()   # the trainer's z draw
    assert abs(zn.mean()) < 0.02 and 0.98 < zn.std() < 1.02 and np.abs(zn).max() > 2.5
    alpha = n.uniform([4000, 1], 0.0, 1.0).numpy()  # WGAN-GP's alpha stays uniform
    assert alpha.min() >= 0.0 and alpha.max() < 1.0 and 0.45 < alpha.mean() < 0.55
    assert n.draws == 2 and not np.array_equal(normal(7, 5).z([4000, 10]).numpy(), normal(7, 6).z([4000, 10]))
    np.testing.assert_array_equal(normal(7, 5).z([4000, 10]).numpy(), zn)   # stateless: (seed, step, draw)


def test_normal_noise_is_refused_for_coupled_runs():
    with pytest.raises(ConfigError, match="single GANs"):
        parse("--gan_type", "cogan", "--noise_type", "normal")
    assert parse("--gan_type", "cogan").noise_type == "uniform"
    assert parse("--gan_type", "gan", "--dataset", "digits").noise_type == "uniform"


# ------------------------------------------------------------------------------------------------ experiments
def test_the_toy_experiments_resolve_to_the_authors_settings():
    k1 = parse("--experiment", "gan_toy_k1")
    assert (k1.toy_ring, k1.noise_type, k1.noise_dim, k1.batch_size, k1.disc_iters) == ("authors", "normal", 10,
                                                                                          100, 1)
    assert (k1.loss, k1.disc_penalty, k1.g_lr, k1.d_lr, k1.optimizer) == ("nonsat", "none", 1e-4, 1e-4, "adam")
    assert (k1.g_beta1, k1.g_beta2, k1.d_beta1, k1.d_beta2) == (0.5, 0.999, 0.5, 0.999)
    assert (k1.arch, k1.w_init, k1.b_init) == ("toy", "xavier", "zeros")   # Keras' Dense defaults
    # 2000 of the authors' epochs: 5120 // 100 // k generator steps each; a sample plot every 50 epochs.
    assert (k1.iterations, k1.sample_interval) == (2000 * 51, 50 * 51)
    k5 = parse("--experiment", "gan_toy_k5")
    assert (k5.disc_iters, k5.iterations, k5.sample_interval, k5.loss, k5.toy_ring, k5.noise_type) == (
        5, 2000 * 10, 50 * 10, "nonsat", "authors", "normal")
    assert (k5.g_beta1, k5.d_beta1, k5.g_lr, k5.d_lr) == (0.5, 0.5, 1e-4, 1e-4)
    w = parse("--experiment", "gan_toy_wgangp")
    assert (w.loss, w.disc_penalty, w.gp_weight, w.disc_iters, w.iterations) == ("wgan", "wgan-gp", 10.0, 5,
                                                                                 3000 * 10)
    assert (w.g_lr, w.d_lr, w.g_beta1, w.g_beta2, w.d_beta1, w.d_beta2) == (1e-4, 1e-4, 0.5, 0.9, 0.5, 0.9)
    assert (w.d_norm, w.b_init, w.toy_ring, w.noise_type, w.noise_dim) == ("none", "zeros", "authors", "normal", 10)
    # Today's ring and noise stay one flag away.
    old = parse("--experiment", "gan_toy_k1", "--toy_ring", "metz", "--noise_type", "uniform")
    assert (old.toy_ring, old.noise_type) == ("metz", "uniform")


def test_a_run_saved_without_the_keys_keeps_the_metz_ring_and_uniform_noise(tmp_path):
    saved = parse("--gan_type", "gan", "--dataset", "toy", "--dir", str(tmp_path)).to_dict()
    saved.pop("toy_ring")
    saved.pop("noise_type")
    (tmp_path / "config.json").write_text(json.dumps(saved))
    old = Config.load(tmp_path / "config.json")
    assert (old.toy_ring, old.noise_type) == ("metz", "uniform")
    resumed = parse("--dir", str(tmp_path), "--resume")
    assert (resumed.toy_ring, resumed.noise_type) == ("metz", "uniform")
    # A hand-written partial config is no saved run: it gets today's defaults.
    (tmp_path / "partial.json").write_text(json.dumps({"gan_type": "gan", "dataset": "toy"}))
    assert Config.load(tmp_path / "partial.json").toy_ring == "authors"


def test_a_toy_run_is_scored_on_its_own_ring(tmp_path):
    """The end-of-training evaluation and the sample plots use the run's ring; `--toy_ring metz` still trains."""
    fast = ["--iterations", "2", "--log_interval", "1", "--sample_interval", "2", "--checkpoint_interval", "2"]
    for ring, radius, std in (("metz", 2.0, 0.02), ("authors", 3.0, 0.05)):
        run = tmp_path / ring
        assert main.main(["--experiment", "gan_toy_k5", "--toy_ring", ring, "--dir", str(run), *fast]) == 0
        m = json.loads((run / "metrics.json").read_text())
        assert (m["ring"]["name"], m["ring"]["radius"], m["ring"]["std"], m["modes"]["std"]) == (ring, radius, std,
                                                                                                 std)
        assert m["modes"]["radius"] == pytest.approx(3 * std) and m["noise"] == "normal"
        assert (run / "modes.png").is_file() and (run / "samples" / "step_0000002.png").is_file()
