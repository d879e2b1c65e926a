"""`--gan_type unit` (issue 20, item 4; Liu, Breuel & Kautz 2017): the KL, reconstruction and GAN terms against
NumPy, the weighted objective against a hand sum, the weight sharing (the same block objects, one update with the
summed gradient, through the trainer's own step), the CLI run (losses, samples from the saved nets in inference
mode, models, dry-run counts, exact resume), `--evaluate` (translations and the same-z joint section against NumPy),
`--report` beside a CoGAN run, `--sample`, and the refusals (one line, exit 2)."""
import contextlib
import io
import json
import re
import shutil

import h5py
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

import config
import data
import evaluation
import main
import metrics
import nets
import run_folder
from test_translation_eval import SquaredDifferenceLPIPS, fake_coupled_run
from trainers import unit
from trainers.unit import UNITTrainer

TINY = ["--gan_type", "unit", "--cogan_data", "digits2edge", "--g_width", "0.125", "--batch_size", "4"]
PAPER = (10.0, 0.1, 100.0, 0.1, 100.0)


def run(argv, capsys):
    try:
        rc = main.main([str(a) for a in argv])
    except SystemExit as e:  # argparse's own errors: one line, exit 2
        rc = e.code
    out = capsys.readouterr()
    return rc, out.out, out.err


def h5_arrays(path):
    found = {}
    with h5py.File(path, "r") as f:
        f.visititems(lambda name, o: found.__setitem__(name, o[()]) if isinstance(o, h5py.Dataset) else None)
    return found


def np_bce(logits, target):
    logits = np.asarray(logits, np.float64)
    return float(np.mean(np.maximum(logits, 0) - logits * target + np.log1p(np.exp(-np.abs(logits)))))


# ---------------------------------------------------------------------------------------------- the objectives
def test_kl_is_the_official_mean_of_squared_means():
    """The official _compute_kl: mean(mu ** 2) over every element (not 0.5 * sum, not over the batch only)."""
    mu = np.array([[[[1.0, 2.0]]], [[[3.0, -1.0]]]], np.float32)  # (2, 1, 1, 2)
    assert float(unit.kl_term(mu)) == pytest.approx((1 + 4 + 9 + 1) / 4, abs=1e-6)  # 3.75 by hand
    r = np.random.default_rng(0).normal(size=(3, 1, 1, 5)).astype(np.float32)
    assert float(unit.kl_term(r)) == pytest.approx(float(np.mean(r.astype(np.float64) ** 2)), abs=1e-6)


def test_reconstruction_is_the_mean_absolute_error():
    x = np.array([[0.5, -1.0], [1.0, 0.0]], np.float32)
    y = np.array([[0.25, -0.5], [0.0, 0.0]], np.float32)
    assert float(unit.l1(x, y)) == pytest.approx((0.25 + 0.5 + 1.0) / 4, abs=1e-7)


def _stream(rng, fake_shape=(2, 4, 4, 1)):
    f = lambda *s: rng.normal(size=s).astype(np.float32)  # noqa: E731
    return dict(fake_logits=f(*fake_shape), x=np.tanh(f(2, 8, 8, 3)), mu=f(2, 1, 1, 6), recon=np.tanh(f(2, 8, 8, 3)),
                mu_cycle=f(2, 1, 1, 6), cycle=np.tanh(f(2, 8, 8, 3)))


def _np_stream(w, s):
    t = dict(gan=np_bce(s["fake_logits"], 1.0), kl=float(np.mean(s["mu"].astype(np.float64) ** 2)),
             recon=float(np.mean(np.abs(s["recon"] - s["x"]))), kl_cyc=float(np.mean(s["mu_cycle"] ** 2.0)),
             cyc=float(np.mean(np.abs(s["cycle"] - s["x"]))))
    t["total"] = w[0] * t["gan"] + w[1] * t["kl"] + w[2] * t["recon"] + w[3] * t["kl_cyc"] + w[4] * t["cyc"]
    return t


@pytest.mark.parametrize("weights", [PAPER, (1.0, 0.01, 10.0, 0.01, 10.0), (2.0, 0.0, 3.0, 5.0, 0.0)])
def test_generator_objective_is_the_weighted_hand_sum_of_both_streams(weights):
    """Each term against NumPy and g_total = sum over both streams of lambda0 GAN + lambda1 KL + lambda2 L1 +
    lambda3 cycle KL + lambda4 cycle L1: a swapped or missing weight changes the total by far more than float32
    rounding (totals ~100, tolerance 1e-3)."""
    rng = np.random.default_rng(1)
    s1, s2 = _stream(rng), _stream(rng)
    got = unit.generator_terms(weights, s1, s2)
    for d, s in (("1", s1), ("2", s2)):
        for k, v in _np_stream(weights, s).items():
            assert float(got[f"{k}_{d}"]) == pytest.approx(v, abs=1e-4 * max(1.0, abs(v))), (k, d)
    want = _np_stream(weights, s1)["total"] + _np_stream(weights, s2)["total"]
    assert float(got["g_total"]) == pytest.approx(want, abs=1e-3)


def test_discriminator_loss_is_lambda0_times_both_domains_bce_unhalved():
    rng = np.random.default_rng(2)
    logits = [rng.normal(size=(3, 4, 4, 1)).astype(np.float32) for _ in range(4)]
    want = 10 * (np_bce(logits[0], 1) + np_bce(logits[1], 0) + np_bce(logits[2], 1) + np_bce(logits[3], 0))
    assert float(unit.discriminator_loss(PAPER, *logits)) == pytest.approx(want, abs=1e-4)
    # By hand: every logit 0 gives 10 * 4 ln 2 (a halved loss would give half of it).
    zeros = [np.zeros((1, 4, 4, 1), np.float32)] * 4
    assert float(unit.discriminator_loss(PAPER, *zeros)) == pytest.approx(40 * np.log(2), abs=1e-5)


def test_unit_weights_default_to_the_paper_and_parse_in_order():
    cfg = config.parse_config(TINY + ["--dry_run"], main._data_defaults)
    assert cfg.unit_weights == "10,0.1,100,0.1,100" and config.parse_unit_weights(cfg.unit_weights) == PAPER
    assert config.parse_unit_weights("1,0.01,10,0.02,20") == (1.0, 0.01, 10.0, 0.02, 20.0)


# ---------------------------------------------------------------------------------------------- the sharing
@pytest.fixture(scope="module")
def tiny_data():
    cfg = config.parse_config(TINY + ["--optimizer", "sgd", "--g_lr", "0.5", "--d_lr", "0.5"], main._data_defaults)
    datasets, info = main.load_data(cfg)
    return cfg, info, datasets


def test_shared_blocks_are_the_same_objects_and_their_variables_listed_once(tiny_data):
    cfg, info, datasets = tiny_data
    t = UNITTrainer(cfg, info, datasets)
    n = config.unit_blocks(32)
    assert n == unit.num_blocks(32) == len(t.e1.blocks) == len(t.g1.blocks) == 5
    assert (cfg.shared_layers_e, cfg.shared_layers_g) == (4, 3)   # CoVAE32x32: all encoder blocks but the first,
    for i in range(n):                                            # the generators' de_conv0-2
        assert (t.e1.blocks[i] is t.e2.blocks[i]) == (i >= n - 4)
        assert (t.g1.blocks[i] is t.g2.blocks[i]) == (i < 3)
    ids = [id(v) for v in t.g_vars]
    assert len(ids) == len(set(ids))
    own = {id(v) for m in (t.e1, t.e2, t.g1, t.g2) for v in m.trainable_variables}
    assert set(ids) == own and len(own) < sum(len(m.trainable_variables) for m in (t.e1, t.e2, t.g1, t.g2))


def test_a_shared_kernel_takes_one_update_with_both_streams_gradients(tiny_data):
    """Through the trainer's compiled step with SGD (lr 0.5): a shared kernel (the encoders' mean conv, the
    generators' first deconv) moves by -lr * (g_1 + g_2), the gradients of the two domains' streams computed
    separately here on a twin trainer (same seed: same weights, data and noise) after the same D update. Listing
    the shared variable twice doubles the move; one stream's gradient alone misses the other's, which is checked
    to be far larger than the tolerance."""
    cfg, info, datasets = tiny_data
    a, b = UNITTrainer(cfg, info, datasets), UNITTrainer(cfg, info, datasets)
    x1, x2 = a.next_inputs()
    kernels = lambda t: [t.e1.blocks[-1].layers[0].kernel, t.g1.blocks[0].layers[0].kernel]  # noqa: E731
    assert a.e2.blocks[-1] is a.e1.blocks[-1] and a.g2.blocks[0] is a.g1.blocks[0]  # the kernels are shared
    before = [k.numpy().copy() for k in kernels(a)]
    for ka, kb in zip(kernels(a), kernels(b)):
        np.testing.assert_array_equal(ka.numpy(), kb.numpy())
    a.run_step((x1, x2))
    moved = [k.numpy() - w for k, w in zip(kernels(a), before)]

    # The twin: the same noise draws in the same order, D's SGD step, then both streams' gradients.
    z1, z2 = b.latent_like(x1), b.latent_like(x2)
    n1, n2 = b.noise(z1), b.noise(z2)
    with tf.GradientTape() as tape:
        d_loss = b.d_objective(x1, x2, n1, n2)
    b.d_opt.apply_gradients(zip(tape.gradient(d_loss, b.d_vars), b.d_vars))
    noise = b.noise(z1), b.noise(z2), b.noise(z1), b.noise(z2)
    with tf.GradientTape(persistent=True) as tape:
        terms = b.g_objective(x1, x2, *noise)
    for i, k in enumerate(kernels(b)):
        g1, g2 = (tape.gradient(terms[f"total_{d}"], k).numpy() for d in (1, 2))
        want = -0.5 * (g1 + g2)
        scale = np.abs(want).max()
        tol = 1e-3 * scale  # compiled vs eager float32 summation order
        np.testing.assert_allclose(moved[i], want, rtol=0, atol=tol)
        assert np.abs(0.5 * g1).max() > 100 * tol and np.abs(0.5 * g2).max() > 100 * tol  # neither stream negligible


def test_pair_passes_are_the_networks_themselves(tiny_data):
    """encode_pair / decode_pair (shared blocks once on both batches) in inference mode equal E1(x1), E2(x2) and
    (G1(z1), G1(z2), G2(z1), G2(z2)), in that order: the private blocks tell the domains apart."""
    cfg, info, datasets = tiny_data
    t = UNITTrainer(cfg, info, datasets)
    x1, x2 = t.next_inputs()
    mu1, mu2 = t.encode_pair(x1, x2, training=False)
    # Untrained nets in inference mode give small values (N(0, 0.02) kernels): tolerances relative to their scale.
    close = lambda got, w: np.testing.assert_allclose(got, w, rtol=0, atol=1e-4 * np.abs(w).max())  # noqa: E731
    close(mu1, t.e1(x1, training=False))
    close(mu2, t.e2(x2, training=False))
    z1, z2 = (np.random.default_rng(s).normal(size=(3, 1, 1, mu1.shape[-1])).astype(np.float32) for s in (3, 4))
    want = [np.asarray(g(z, training=False)) for g, z in ((t.g1, z1), (t.g1, z2), (t.g2, z1), (t.g2, z2))]
    for got, w in zip(t.decode_pair(z1, z2, training=False), want):
        close(got, w)
    assert np.abs(want[0] - want[2]).max() > 0.1 * np.abs(want[0]).max()  # G1 and G2 differ: the order matters
    assert np.abs(mu1 - t.e2(x1, training=False)).max() > 0.1 * np.abs(mu1).max()


def test_one_step_descends_the_hand_written_objectives(tiny_data):
    """Plain SGD (lr 0.5) makes each update the objective's gradient. D's: l0 * (BCE(D1(x1), 1) + BCE(D1(x2->1), 0)
    + BCE(D2(x2), 1) + BCE(D2(x1->2), 0)), each D judging its own domain's translations; then E's and G's: per domain
    l0 * BCE(D(translation), 1) through the updated D + l1 mean(mu ** 2) + l2 |recon - x| + l3 mean(mu_cyc ** 2) +
    l4 |cycle - x|, the cycle x1->2 re-encoded by E2 and decoded by G1. Written here with softplus on a twin trainer
    (same weights, data and noise; the pair passes as the step runs them, for the same BatchNorm statistics). The
    weights (1000, 10, 1, 10, 1) give the GAN and KL terms' gradients weight beside the L1 terms' (at the paper's,
    the untrained D's tiny gradient is lost in the tolerance): a swapped D, a halved or unweighted D loss, a cycle
    through the wrong generator each change an update by far more than the tolerance (checked below)."""
    _, info, datasets = tiny_data
    l0, l1, l2, l3, l4 = w = (1000.0, 10.0, 1.0, 10.0, 1.0)
    cfg = config.parse_config(TINY + ["--optimizer", "sgd", "--g_lr", "0.5", "--d_lr", "0.5", "--unit_weights",
                                      ",".join(map(str, w))], main._data_defaults)
    a, b = UNITTrainer(cfg, info, datasets), UNITTrainer(cfg, info, datasets)
    x1, x2 = a.next_inputs()
    d_before, g_before = [v.numpy().copy() for v in a.d_vars], [v.numpy().copy() for v in a.g_vars]
    logs = a.run_step((x1, x2))
    sp, mean = tf.math.softplus, tf.reduce_mean  # BCE(l, 1) = softplus(-l), BCE(l, 0) = softplus(l)

    z1, z2 = b.latent_like(x1), b.latent_like(x2)
    n1, n2 = b.noise(z1), b.noise(z2)
    with tf.GradientTape() as tape:
        mu1, mu2 = b.encode_pair(x1, x2)
        _, x21, x12, _ = b.decode_pair(mu1 + n1, mu2 + n2)
        d_obj = l0 * (mean(sp(-b.d1(x1, training=True))) + mean(sp(b.d1(x21, training=True)))
                      + mean(sp(-b.d2(x2, training=True))) + mean(sp(b.d2(x12, training=True))))
    d_grad = tape.gradient(d_obj, b.d_vars)
    for v, g in zip(b.d_vars, d_grad):  # D's SGD step, by hand
        v.assign_sub(0.5 * g)
    n1, n2, n12, n21 = b.noise(z1), b.noise(z2), b.noise(z1), b.noise(z2)
    with tf.GradientTape(persistent=True) as tape:
        mu1, mu2 = b.encode_pair(x1, x2)
        x11, x21, x12, x22 = b.decode_pair(mu1 + n1, mu2 + n2)
        mu21, mu12 = b.encode_pair(x21, x12)  # x2->1 by E1, x1->2 by E2 (the pair pass checked above)
        x121, x212 = b.g1(mu12 + n12, training=True), b.g2(mu21 + n21, training=True)
        sq, ab = (lambda m: mean(tf.square(m))), (lambda u, v: mean(tf.abs(u - v)))  # noqa: E731
        gan = l0 * mean(sp(-b.d2(x12, training=True))) + l0 * mean(sp(-b.d1(x21, training=True)))
        kl = l1 * (sq(mu1) + sq(mu2)) + l3 * (sq(mu12) + sq(mu21))
        cyc = l4 * (ab(x121, x1) + ab(x212, x2))
        g_obj = gan + kl + l2 * (ab(x11, x1) + ab(x22, x2)) + cyc
    g_grad = tape.gradient(g_obj, b.g_vars)
    parts = [np.concatenate([(-0.5 * g.numpy()).ravel() for g in tape.gradient(t, b.g_vars) if g is not None])
             for t in (gan, kl, cyc)]

    assert float(logs["d_loss"]) == pytest.approx(float(d_obj), abs=1e-4)
    for before, net_vars, grad in ((d_before, a.d_vars, d_grad), (g_before, a.g_vars, g_grad)):
        moved = np.concatenate([(v.numpy() - w).ravel() for v, w in zip(net_vars, before)])
        want = np.concatenate([(-0.5 * g.numpy()).ravel() for g in grad])
        scale = np.abs(want).max()
        assert scale > 1e-4
        np.testing.assert_allclose(moved, want, rtol=0, atol=1e-3 * scale)
    for part in parts:  # each group of terms moves some weight by far more than the tolerance
        assert np.abs(part).max() > 30 * 1e-3 * scale


# ---------------------------------------------------------------------------------------------- the CLI
@pytest.fixture(scope="module")
def cli_run(tmp_path_factory):
    d = tmp_path_factory.mktemp("unit") / "run"
    argv = TINY + ["--iterations", 2, "--log_interval", 1, "--sample_rows", 2, "--sample_cols", 3, "--dir", d]
    assert main.main([str(a) for a in argv]) == 0
    return d


def test_cli_run_writes_losses_samples_models_and_config(cli_run):
    rows = (cli_run / "losses.csv").read_text().splitlines()
    terms = ["gan", "kl", "recon", "kl_cyc", "cyc"]
    assert rows[0].split(",") == ["step", "d_loss"] + [f"{t}_{d}" for d in (1, 2) for t in terms] + ["g_total"]
    assert [r.split(",")[0] for r in rows[1:]] == ["1", "2"]
    for r in rows[1:]:
        v = list(map(float, r.split(",")[2:]))
        hand = sum(w * x for w, x in zip(PAPER * 2, v[:10]))
        assert v[10] == pytest.approx(hand, abs=1e-2)  # the logged terms, rounded to 6 digits, add up
    saved = json.loads((cli_run / "config.json").read_text())
    assert (saved["gan_type"], saved["preset"], saved["unit_weights"], saved["g_lr"], saved["d_lr"], saved["g_beta1"],
            saved["shared_layers_e"], saved["shared_layers_g"]) == ("unit", "unit", "10,0.1,100,0.1,100", 1e-4,
                                                                    1e-4, 0.5, 4, 3)
    assert sorted(p.name for p in (cli_run / "models").iterdir()) == [
        f"{n}.weights.h5" for n in ("D1", "D2", "E1", "E2", "G1", "G2")]
    assert (cli_run / "checkpoints" / "ckpt-2.index").is_file()


def test_samples_are_inference_mode_translations_and_same_z_pairs_of_the_saved_nets(cli_run):
    """Rows x1 | x1->2 | x2 | x2->1 | G1(z) | G2(z), recomputed from models/ with UNITTrainer.translators and
    joint_generators (the evaluation's entry points): to one grey level, and not the training-mode forward."""
    cfg = config.Config.load(cli_run / "config.json")
    main._seed(cfg)  # as main.run before it loads the data
    datasets, info = main.load_data(cfg)
    t = UNITTrainer(cfg, info, datasets)  # its fixed sample images and z
    x1, x2 = (s[:6] for s in t.sample_x)
    z = t.sample_z[:6]
    f = UNITTrainer.translators(cfg, (32, 32, 3), cli_run / "models")
    assert set(f) == {(1, 2), (2, 1)}
    latent, g1, g2 = UNITTrainer.joint_generators(cfg, (32, 32, 3), cli_run / "models")
    assert latent == z.shape[1:]
    rows = [x1, f[(1, 2)](x1), x2, f[(2, 1)](x2), g1(z, training=False), g2(z, training=False)]
    want = run_folder.pair_grid([np.asarray(r) for r in rows], 2, 3)
    grid = np.asarray(Image.open(cli_run / "samples" / "step_0000002.png"))
    assert grid.shape == want.shape
    assert np.abs(grid.astype(int) - want.astype(int)).max() <= 1
    e1 = t.e1  # untrained twin: its translations differ from the run's
    trained = UNITTrainer.translators(cfg, (32, 32, 3), cli_run / "models")[(1, 2)](x1).numpy()
    assert np.abs(trained - t.g2(e1(x1, training=False), training=False).numpy()).max() > 1e-3
    g2_train = g2(z, training=True).numpy()  # BatchNorm batch statistics: not what the samples show
    assert np.abs(run_folder.to_uint8(g2_train).astype(int) - run_folder.to_uint8(np.asarray(rows[5])).astype(int)
                  ).max() > 1


def test_dry_run_counts_are_the_saved_weights(cli_run, capsys):
    rc, out, err = run(TINY + ["--dry_run"], capsys)
    assert rc == 0, err
    rows = {line.split()[0]: int(line.split()[1].replace(",", "")) for line in out.splitlines()
            if line[:3] in ("  E", "  G", "  D") or line.startswith("  together")}
    for net in ("E1", "E2", "G1", "G2", "D1", "D2"):
        assert rows[net] == sum(a.size for a in h5_arrays(cli_run / "models" / f"{net}.weights.h5").values()), net
    assert rows["together"] < sum(rows[n] for n in ("E1", "E2", "G1", "G2", "D1", "D2"))


# ---------------------------------------------------------------------------------------------- --evaluate, --sample
def saved_generators(run_dir):
    """G1, G2 rebuilt with unit.build_nets and loaded from models/ directly (not through joint_generators)."""
    cfg = config.Config.load(run_dir / "config.json")
    m = unit.build_nets(cfg, (32, 32, 3))
    for k in ("G1", "G2"):
        m[k].load_weights(str(run_dir / "models" / f"{k}.weights.h5"))
    return m["G1"], m["G2"]


@pytest.fixture(scope="module")
def redrawn(cli_run, tmp_path_factory):
    """A copy of the 2-step run whose G1, G2 kernels are re-drawn N(0, (2 / sqrt(fan-in))^2) and saved to models/: after
    2 steps both still put out about 0 for every z (gen1_vs_gen2 ~ 1e-6), which no wrong z or wrong net would move."""
    d = tmp_path_factory.mktemp("unit_redrawn") / "run"
    shutil.copytree(cli_run, d)
    cfg = config.Config.load(d / "config.json")
    m = unit.build_nets(cfg, (32, 32, 3))
    rng = np.random.default_rng(1)
    for v in nets.unique_variables([m["G1"], m["G2"]]):
        if "kernel" in v.path:
            v.assign(rng.normal(0, 2 / np.sqrt(np.prod(v.shape[:-1])), v.shape).astype(np.float32))
    for k in ("G1", "G2"):
        m[k].save_weights(str(d / "models" / f"{k}.weights.h5"))
    return d


@pytest.fixture(scope="module")
def evaluated(redrawn):
    """`--evaluate` through the CLI, LPIPS stubbed by the mean squared pixel difference: (rc, metrics.json, stdout)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(metrics, "LPIPS", SquaredDifferenceLPIPS)
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            rc = main.main(["--evaluate", str(redrawn), "--num", str(N_EVAL), "--batch_size", "8"])
    return rc, json.loads((redrawn / "metrics.json").read_text()), out.getvalue()


N_EVAL = 6   # one batch: z is one draw of N(0, I) (N_EVAL, *LATENT) from EVAL_SEED
LATENT = (1, 1, unit.latent_channels(32, round(unit.GEN_BASE * 0.125)))   # TINY's --g_width 0.125


def test_evaluate_cli_writes_translations_and_the_joint_coupled_table(redrawn, evaluated):
    rc, r, out = evaluated
    assert rc == 0
    g = r["joint"]["lpips"]["rows"]["gen1_vs_gen2"]
    assert "Real digits vs Translated digits edge" in out
    assert re.search(rf"\n +Gen\. digits vs Gen\. digits edge \(same z\) +{g['mean']:.4f} ± {g['se']:.4f}\n", out), out
    assert (r["kind"], r["step"], r["pairs"], r["directions"]) == ("translation", 2, N_EVAL, ["1_to_2", "2_to_1"])
    assert list(r["lpips"]["rows"])[:3] == ["real1_vs_trans2", "trans2_vs_real2", "trans2_vs_truth2"]
    assert "1_2_1" in r["cycle"]["rows"]
    j = r["joint"]
    assert (j["pairs"], j["z"], j["seed"], j["latent_shape"]) == (N_EVAL, "N(0, I)", evaluation.EVAL_SEED, list(LATENT))
    assert list(j["lpips"]["rows"]) == [k for k, _ in evaluation.LPIPS_ROWS + evaluation.CROSS_ROWS]
    assert j["lpips"]["rows"]["gen1_vs_gen2"]["label"] == "Gen. digits vs Gen. digits edge (same z)"
    assert j["pixel_agreement"]["transform"] == "edge"
    md = (redrawn / "metrics.md").read_text()
    assert "## Same-z joint samples" in md and "### LPIPS" in md and "### Pixel agreement" in md
    assert (redrawn / "lpips_lowest.png").is_file()
    line = evaluation.read_history(redrawn)[-1]
    assert line["joint"]["lpips"]["rows"]["gen1_vs_gen2"] == j["lpips"]["rows"]["gen1_vs_gen2"]["mean"]


def test_joint_rows_are_the_saved_generators_on_the_seeded_normal_z(redrawn, evaluated):
    """Every joint LPIPS row and same-z pixel agreement recomputed in NumPy: G1, G2 from models/ in inference mode on
    z = tf.random.Generator.from_seed(EVAL_SEED).normal([N, 1, 1, C]), real images as load_pair draws them with
    EVAL_SEED; the stub LPIPS is the mean squared pixel difference."""
    from metrics import pairing
    _, r, _ = evaluated
    g1, g2 = saved_generators(redrawn)
    assert tuple(g1.input_spec_shape) == LATENT
    z = tf.random.Generator.from_seed(evaluation.EVAL_SEED).normal([N_EVAL, *LATENT])
    im = {"gen1": g1(z, training=False).numpy(), "gen2": g2(z, training=False).numpy()}
    a, b, _ = data.load_pair("digits2edge", batch_size=8, seed=evaluation.EVAL_SEED, image_size=32)
    im["real1"], im["real2"] = (next(iter(ds)).numpy()[:N_EVAL] for ds in (a, b))
    rows = r["joint"]["lpips"]["rows"]
    for key in rows:
        x, _, y = key.split("_")
        v = np.mean((im[x].astype(np.float64) - im[y]) ** 2, axis=(1, 2, 3))
        assert rows[key]["n"] == N_EVAL, key
        # float32 nets, graph vs eager: about 1e-6 relative; training-mode BatchNorm moves these by far more
        assert rows[key]["mean"] == pytest.approx(v.mean(), rel=1e-4), key
        assert rows[key]["se"] == pytest.approx(v.std(ddof=1) / np.sqrt(N_EVAL), rel=1e-3), key
    assert rows["gen1_vs_gen2"]["mean"] > 0.01   # the re-drawn nets' pairs differ: the checks above can fail
    bn = np.mean((g1(z, training=True).numpy() - im["gen2"]) ** 2)   # batch statistics: not what is scored
    assert abs(bn - rows["gen1_vs_gen2"]["mean"]) > 1e-3
    pa = r["joint"]["pixel_agreement"]
    for who, (x, y) in (("generated", ("gen1", "gen2")), ("real_unpaired", ("real1", "real2"))):
        mad, agree = pairing.pixel_agreement(pairing.transform_images(im[x], "edge", 8), im[y])  # digits: 8x8
        assert pa[who]["mean_abs_diff"]["mean"] == pytest.approx(np.mean(mad), rel=1e-4, abs=1e-6), who
        # a pixel within float error of the threshold may flip: allow 3 of the 32 * 32 * N_EVAL
        assert pa[who]["agreement"]["mean"] == pytest.approx(np.mean(agree), abs=3 / (32 * 32 * N_EVAL)), who


def test_report_puts_unit_same_z_pairs_in_the_coupled_row(redrawn, evaluated, tmp_path, monkeypatch, capsys):
    _, u, _ = evaluated
    coupled = fake_coupled_run(tmp_path / "cogan", monkeypatch)
    c = evaluation.evaluate(coupled, num=N_EVAL, batch_size=10, lpips=SquaredDifferenceLPIPS(), fid=False)
    capsys.readouterr()
    assert main.main(["--report", str(coupled), str(redrawn)]) == 0
    out = capsys.readouterr().out
    table = {line.split(" | ")[0][2:]: line.strip(" |").split(" | ")[1:] for line in out.splitlines()
             if line.startswith("| ")}
    fmt = (lambda s: f"{s['mean']:.4f} ± {s['se']:.4f}")  # noqa: E731
    lp_c, lp_j = c["lpips"]["rows"], u["joint"]["lpips"]["rows"]
    for key, label in (("gen1_vs_gen2", "Gen. digits vs Gen. digits edge (same z)"),
                       ("gen1_vs_real1", "Gen. digits vs Real digits")):
        assert table[f"LPIPS {label}"] == [fmt(lp_c[key]), fmt(lp_j[key])], key
    # the baseline row keeps each kind's own (the translation table's for unit)
    assert table["LPIPS Real digits vs Real digits edge (unpaired baseline)"] == [
        fmt(lp_c["real1_vs_real2"]), fmt(u["lpips"]["rows"]["real1_vs_real2"])]
    pa = u["joint"]["pixel_agreement"]["generated"]["agreement"]
    assert table["Pixel agreement: transform(Gen. digits) vs Gen. digits edge (same z)"][1] == fmt(pa)
    assert "(UNIT) fills the coupled runs' Gen. rows" in out.replace("\n", " ")


def test_report_compares_unit_same_z_pair_counts_with_the_coupled_runs(evaluated):
    import report
    _, u, _ = evaluated
    cogan = (lambda pairs: report.Run(None, {}, {"pairs": pairs, "lpips": u["lpips"]}, header="cogan"))  # noqa: E731
    unit_run = report.Run(None, {}, {**u, "pairs": N_EVAL + 5}, header="unit")   # translations: another count
    report.check_comparable([cogan(N_EVAL), unit_run])   # the same-z pairs' count is the coupled runs'
    says = f"different pair counts: cogan \\({N_EVAL + 1}\\), unit \\({N_EVAL}\\)"
    with pytest.raises(config.ConfigError, match=says):
        report.check_comparable([cogan(N_EVAL + 1), unit_run])


def test_sample_cli_writes_same_z_pairs_of_the_saved_generators(redrawn, tmp_path, capsys):
    out = tmp_path / "pairs.npz"
    rc, said, err = run(["--sample", redrawn, "--num", 5, "--out", out, "--seed", 3, "--latent_walk"], capsys)
    assert rc == 0, err
    p = np.load(out)
    z = tf.random.Generator.from_seed(3).normal([5, *LATENT]).numpy()
    np.testing.assert_array_equal(p["z"], z)
    g1, g2 = saved_generators(redrawn)
    for k, g in (("a", g1), ("b", g2)):
        assert p[k].shape == (5, 32, 32, 3)
        np.testing.assert_allclose(p[k], g(z, training=False).numpy(), rtol=0, atol=1e-5)
    assert "from step 2" in said and (tmp_path / "pairs_walk.png").is_file()


@pytest.mark.parametrize("argv,says", [
    (["--sample", "{run}", "--num", "2", "--out", "x.npz", "--step", "1"], "--step 1"),
    (["--evaluate", "{run}", "--step", "1"], "--step 1"),
])
def test_another_step_is_refused_in_one_line(cli_run, argv, says, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(metrics, "LPIPS", SquaredDifferenceLPIPS)
    rc, _, err = run([a.format(run=cli_run) for a in argv], capsys)
    assert rc == 2 and err.startswith("error: ") and err.count("\n") == 1 and says in err, err
    assert not (tmp_path / "x.npz").exists()


def test_resume_equals_the_uninterrupted_run(tmp_path, capsys):
    """2 steps, then --resume to 3 == 3 straight, bit for bit: weights, both optimizers, both data positions, the
    latent noise generator and BatchNorm statistics are in the checkpoint (a lost one changes step 3)."""
    straight, resumed = tmp_path / "straight", tmp_path / "resumed"
    assert run(TINY + ["--iterations", 3, "--dir", straight], capsys)[0] == 0
    assert run(TINY + ["--iterations", 2, "--dir", resumed], capsys)[0] == 0
    rc, out, err = run(["--dir", resumed, "--resume", "--iterations", 3], capsys)
    assert rc == 0, err
    assert "from step 2 to 3" in out
    for net in ("E1", "E2", "G1", "G2", "D1", "D2"):
        a, b = (h5_arrays(r / "models" / f"{net}.weights.h5") for r in (straight, resumed))
        assert a.keys() == b.keys()
        for k in a:
            np.testing.assert_array_equal(b[k], a[k], err_msg=f"{net} {k}")
    last = [(r / "losses.csv").read_text().splitlines()[-1] for r in (straight, resumed)]
    assert last[0] == last[1]


# ---------------------------------------------------------------------------------------------- refusals
@pytest.mark.parametrize("argv,says", [
    (["--unit_weights", "10,0.1,100"], "--unit_weights 10,0.1,100: give five numbers"),
    (["--unit_weights", "0,0.1,100,0.1,100"], "lambda0 (GAN, > 0)"),
    (["--unit_weights", "10,-1,100,0.1,100"], "give five numbers >= 0"),
    (["--unit_weights", "a,b,c,d,e"], "give five numbers"),
    (["--shared_layers_e", "5"], "--shared_layers_e 5 is out of range: a UNIT encoder at 32 px has 5 layers"),
    (["--shared_layers_g", "7"], "--shared_layers_g 7 is out of range"),
    (["--preset", "thesis"], "--preset thesis is not UNIT's setting"),
    (["--loss", "wgan"], "--loss wgan: --gan_type unit trains the objective of Liu et al. 2017"),
    (["--arch", "cogan32"], "--arch has no meaning for UNIT"),
    (["--semantic_loss"], "--semantic_loss has no meaning for UNIT"),
    (["--mixed_precision", "bf16"], "--mixed_precision has no meaning for UNIT"),
    (["--weight_decay", "0.0001"], "--weight_decay has no meaning for UNIT"),
    (["--direction", "BtoA"], "--direction is an option of --gan_type pix2pix"),
])
def test_refused_unit_options_are_one_line_exit_2(argv, says, tmp_path, capsys):
    d = tmp_path / "run"
    rc, _, err = run(TINY + ["--dir", d] + argv, capsys)
    assert rc == 2 and err.startswith("error: ") and err.count("\n") == 1, err
    assert says in err, err
    assert not d.exists()


@pytest.mark.parametrize("argv,says", [
    (["--gan_type", "cogan", "--unit_weights", "1,1,1,1,1"], "--unit_weights is an option of --gan_type unit"),
    (["--gan_type", "pix2pix", "--shared_layers_e", "1"], "--shared_layers_e is an option of --gan_type unit"),
    (["--gan_type", "cogan", "--preset", "unit"], "--preset unit is the setting of --gan_type unit"),
])
def test_unit_options_are_refused_elsewhere(argv, says, capsys):
    rc, _, err = run(argv + ["--dry_run"], capsys)
    assert rc == 2 and err.count("\n") == 1 and says in err, err
