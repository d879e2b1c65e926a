"""`--gan_type cyclegan` end to end (issue 20, item 3; trainers/cyclegan.py's CycleGANTrainer; the objectives, pool
and decay themselves: tests/test_cyclegan_parts.py).

- one compiled step against the objectives written out here (least squares, L1 cycles and identities with the
  official weights; Zhu et al. 2017 Eqs. 1-3 as models/cycle_gan_model.py computes them), with plain SGD so that
  each update is -lr * gradient, at a step where the linear decay already lowers the rate;
- the critics judge what the pools return: with full pools of one known image, at steps whose draws (computed
  here) swap for one pool and not the other, each critic's update is that of the stored or the fresh fake;
- the learning rate of each step against linear_decay_factor and hand-worked values;
- the CLI: a run's losses (the first row against the objectives written out here, with the run's non-default
  weights), samples (rebuilt with the translators of the evaluation protocol), models and config;
  exact resume with the image pools; --dry_run's counts (the official 11,378,179 and 2,764,737 at 256 px); refusals.
"""
import json
import os
import signal

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

import config
import data
import main
import run_folder
import translation_nets
from trainers import cyclegan
from trainers.cyclegan import CycleGANTrainer
from translation_helpers import (assert_refused, assert_same_final_state, dry_run_counts, run, saved_count, tiny,
                                 two_step_run)

# 32 px (the 70x70 PatchGAN's 3 stride layers need at least that), ResNet of width 16 with one block.
TINY = tiny("cyclegan", 0.25, "--resnet_blocks", 1)
GENERATOR_TERMS = ("gan_ab", "gan_ba", "cycle_a", "cycle_b", "idt_a", "idt_b")


def trainer_for(argv):
    cfg = config.parse_config(TINY + argv, main._data_defaults)
    datasets, info = main.load_data(cfg)
    return CycleGANTrainer(cfg, info, datasets)


def _values(variables):
    return [v.numpy().copy() for v in variables]


def _flat(arrays):
    return np.concatenate([np.asarray(a).ravel() for a in arrays])


def _mse(x, target):
    return tf.reduce_mean(tf.square(x - target))


def _l1(x, y):
    return tf.reduce_mean(tf.abs(x - y))


def hand_generator_terms(g_ab, g_ba, d_a, d_b, a, b, lam=10.0, idt=0.5):
    """Zhu et al. 2017 Eqs. 1-3 with least squares, as official backward_G weights them (cycle weight `lam`, each
    identity term lam * idt), written out independently of trainers/cyclegan.py."""
    fake_b, fake_a = g_ab(a), g_ba(b)
    return dict(gan_ab=_mse(d_b(fake_b), 1.0), gan_ba=_mse(d_a(fake_a), 1.0),
                cycle_a=lam * _l1(g_ba(fake_b), a), cycle_b=lam * _l1(g_ab(fake_a), b),
                idt_a=lam * idt * _l1(g_ba(a), a), idt_b=lam * idt * _l1(g_ab(b), b))


def hand_critic_loss(d, real, fake):
    """Official backward_D_basic with least squares: 0.5 * (mean (D(real) - 1)^2 + mean D(fake)^2)."""
    return 0.5 * (_mse(d(real), 1.0) + _mse(d(fake), 0.0))


# ---------------------------------------------------------------------------------------------- one step
def test_one_step_descends_the_hand_written_objectives():
    """SGD with lr 0.5 at step 2 of 4: the decayed rate 0.5 * 2/3 (linear_decay_factor(2, 2, 2) = 1 - 1/3, by hand).
    Both generators move by -rate * the gradient of ONE total (both LSGAN terms, both cycles weighted 10, both
    identities weighted 10 * 0.5); both critics by -rate * the gradient of 0.5 * LSGAN on each, with the fakes of
    the generators BEFORE their update (the pools are empty: they pass the fakes on). A total without the forward
    cycle in G_AB's gradient (a known Keras example), the undecayed rate, a missing 0.5 or fakes from the updated
    generators each change an update by far more than the tolerance (checked for the first two)."""
    trainer = trainer_for(["--optimizer", "sgd", "--g_lr", "0.5", "--d_lr", "0.5", "--iterations", "4"])
    g_ab, g_ba, d_a, d_b = trainer.g_ab, trainer.g_ba, trainer.d_a, trainer.d_b
    a, b = trainer.next_inputs()
    trainer.step.assign(2)
    rate = 0.5 * (1 - 1 / 3)
    assert rate == pytest.approx(0.5 * cyclegan.linear_decay_factor(2, 2, 2), abs=1e-12)
    g_vars, d_vars = trainer.g_vars, trainer.d_vars
    g_before, d_before = _values(g_vars), _values(d_vars)
    logs = trainer.run_step((a, b))
    g_moved = _flat(x.numpy() - y for x, y in zip(g_vars, g_before))
    d_moved = _flat(x.numpy() - y for x, y in zip(d_vars, d_before))

    for v, x in zip(g_vars + d_vars, g_before + d_before):  # back to the step's starting point
        v.assign(x)
    with tf.GradientTape(persistent=True) as tape:
        terms = hand_generator_terms(g_ab, g_ba, d_a, d_b, a, b)
        g_total = tf.add_n(list(terms.values()))
        without_forward_cycle = g_total - terms["cycle_a"]
        fake_b, fake_a = tf.stop_gradient(g_ab(a)), tf.stop_gradient(g_ba(b))
        d_total = hand_critic_loss(d_b, b, fake_b) + hand_critic_loss(d_a, a, fake_a)
    g_want = -rate * _flat(tape.gradient(g_total, g_vars))
    d_want = -rate * _flat(tape.gradient(d_total, d_vars))

    for k, v in terms.items():  # values of order 0.1-10: float32, compiled against eager
        assert float(logs[k]) == pytest.approx(float(v), abs=1e-4), k
    assert float(logs["g_total"]) == pytest.approx(float(g_total), abs=1e-4)
    assert float(logs["d_a"]) + float(logs["d_b"]) == pytest.approx(float(d_total), abs=1e-4)
    for moved, want in ((g_moved, g_want), (d_moved, d_want)):
        scale = np.abs(want).max()
        assert scale > 1e-4  # the updates compared are not all (near) zero
        # Compiled and eager float32 differ in summation order: 1e-3 of the largest update.
        np.testing.assert_allclose(moved, want, rtol=0, atol=1e-3 * scale)
    n_ab = sum(int(np.prod(v.shape)) for v in g_ab.trainable_variables)  # g_vars: G_AB's first
    wrong = -rate * _flat(tape.gradient(without_forward_cycle, g_ab.trainable_variables))
    tolerance = 1e-3 * np.abs(g_want).max()
    assert np.abs(wrong - g_want[:n_ab]).max() > 10 * tolerance
    assert np.abs(g_moved - g_want / (1 - 1 / 3)).max() > 10 * tolerance  # the undecayed rate


def _swap_draw(seed, step):
    """Whether a full pool of `seed` returns its stored image to a batch of one at `step`: official query's
    uniform(0, 1) > 0.5, the uniform drawn as ImagePool.draws documents it (the first of two streams split from the
    seed pair (seed, step)), written out here."""
    u_seed = tf.random.experimental.stateless_split(tf.constant([seed, step], tf.int64), 2)[0]
    return float(tf.random.stateless_uniform([1], u_seed)[0]) > 0.5


def test_critics_judge_what_the_pools_return():
    """Review 10 E2. --pool_size 1, both pools full (count 1) with a known image. At a step whose draws swap for
    pool_b only, D_B's SGD update is -lr * the gradient of 0.5 * LSGAN with the STORED image as its fake and pool_b
    then holds the fresh fake G_AB(a), while D_A's update uses the fresh G_BA(b) and pool_a keeps its image; at a
    step that swaps for pool_a only, the reverse. A trainer that queries the pools but feeds its critics the fresh
    fakes (or the stored ones whatever the draw) moves a critic by more than 10x the tolerance away from the update
    checked (asserted for each case); two pools with the same draws would leave no such step."""
    lr = 0.5   # steps below 500 of 1000: the first half of the schedule, undecayed
    trainer = trainer_for(["--optimizer", "sgd", "--g_lr", str(lr), "--d_lr", str(lr), "--iterations", "1000",
                           "--pool_size", "1"])
    pools, critics = dict(a=trainer.pool_a, b=trainer.pool_b), dict(a=trainer.d_a, b=trainer.d_b)
    swaps = {t: tuple(_swap_draw(pools[p].seed, t) for p in "ab") for t in range(100)}
    steps = [next((t for t, s in swaps.items() if s == case), None) for case in ((False, True), (True, False))]
    assert None not in steps, swaps
    rng = np.random.default_rng(5)
    stored = {p: rng.uniform(-1, 1, (1, 32, 32, 3)).astype(np.float32) for p in "ab"}
    a, b = trainer.next_inputs()
    reals, fresh = dict(a=a, b=b), dict(a=trainer.g_ba(b).numpy(), b=trainer.g_ab(a).numpy())  # before any update

    def update(p, fake):   # -lr * the gradient of critic p's own loss, from the starting weights
        d = critics[p]
        with tf.GradientTape() as tape:
            loss = hand_critic_loss(d, reals[p], tf.constant(fake))
        return -lr * _flat(tape.gradient(loss, d.trainable_variables))

    want = {p: dict(stored=update(p, stored[p]), fresh=update(p, fresh[p])) for p in "ab"}
    start = _values(trainer.g_vars + trainer.d_vars)
    before = {p: _values(critics[p].trainable_variables) for p in "ab"}
    for t in steps:
        for v, x in zip(trainer.g_vars + trainer.d_vars, start):
            v.assign(x)
        for p in "ab":
            pools[p].images.assign(stored[p])
            pools[p].count.assign(1)
        trainer.step.assign(t)
        trainer.run_step((a, b))
        for p, swap in zip("ab", swaps[t]):
            moved = _flat(v.numpy() - x for v, x in zip(critics[p].trainable_variables, before[p]))
            used, other = (want[p]["stored"], want[p]["fresh"]) if swap else (want[p]["fresh"], want[p]["stored"])
            tolerance = 1e-3 * np.abs(used).max()   # compiled against eager float32, as the one-step test
            np.testing.assert_allclose(moved, used, rtol=0, atol=tolerance, err_msg=f"D_{p.upper()} at step {t}")
            assert np.abs(other - used).max() > 10 * tolerance, (p, t)
            assert int(pools[p].count.numpy()) == 1
            if swap:   # the fresh fake took the stored one's place (float32 forward passes, values in [-1, 1])
                np.testing.assert_allclose(pools[p].images.numpy(), fresh[p], rtol=0, atol=1e-4)
            else:
                np.testing.assert_array_equal(pools[p].images.numpy(), stored[p])


@pytest.mark.parametrize("iterations, factors", [(4, [1, 1, 2 / 3, 1 / 3]), (5, [1, 1, 1, 2 / 3, 1 / 3])])
def test_learning_rate_is_constant_then_decays_linearly_over_the_second_half(iterations, factors):
    """The rate each step applies (the optimizers' rate variables after it): lr for the first half of --iterations,
    then lr * (1 - k / (n_decay + 1)) in the k-th step after it (hand values above), i.e. linear_decay_factor(t,
    n_epochs, n_epochs_decay) with n_epochs = ceil(iterations / 2) and n_epochs_decay = floor(iterations / 2)."""
    g_lr, d_lr = 3e-4, 1e-4
    trainer = trainer_for(["--g_lr", str(g_lr), "--d_lr", str(d_lr), "--iterations", str(iterations)])
    assert trainer.learning_rates() == []  # TrainingLoop.restore must not put a base rate back over the decay
    n_epochs, n_decay = (iterations + 1) // 2, iterations // 2
    g_seen, d_seen = [], []
    for t in range(iterations):
        trainer.run_step(trainer.next_inputs())
        g_seen.append(float(trainer.g_opt.learning_rate.numpy()))
        d_seen.append(float(trainer.d_opt.learning_rate.numpy()))
    by_rule = [cyclegan.linear_decay_factor(t, n_epochs, n_decay) for t in range(iterations)]
    np.testing.assert_allclose(by_rule, factors, rtol=0, atol=1e-12)
    # float32 rates: 1e-7 relative
    np.testing.assert_allclose(g_seen, g_lr * np.array(factors), rtol=1e-6, atol=0)
    np.testing.assert_allclose(d_seen, d_lr * np.array(factors), rtol=1e-6, atol=0)


# ---------------------------------------------------------------------------------------------- the CLI
CLI_WEIGHTS = ["--lambda_cycle", "3", "--lambda_identity", "0.2"]   # not the defaults 10 and 0.5


@pytest.fixture(scope="module")
def cli_run(tmp_path_factory):
    """A 2-step run with a 2x3 sample grid and non-default weights (CLI_WEIGHTS), which the losses must show."""
    return two_step_run(tmp_path_factory, "cyclegan", TINY + CLI_WEIGHTS)


def test_cli_run_writes_losses_models_and_config(cli_run):
    """Step 1's row against the objectives written out here with the run's weights (cycle 3, identity 3 * 0.2),
    on the nets and first batch that the same config and seed build: a weight lost or not passed on from the
    command line (10 for 3, 0.5 for 0.2, the identity weight without the cycle weight, D's 0.5) changes a
    term by a factor of 2 or more. The terms are logged before the step's update."""
    rows = (cli_run / "losses.csv").read_text().splitlines()
    assert rows[0] == "step,d_a,d_b," + ",".join(GENERATOR_TERMS) + ",g_total"
    assert [r.split(",")[0] for r in rows[1:]] == ["1", "2"]
    first = dict(zip(rows[0].split(","), map(float, rows[1].split(","))))
    trainer = trainer_for(CLI_WEIGHTS)
    a, b = trainer.next_inputs()
    hand = hand_generator_terms(trainer.g_ab, trainer.g_ba, trainer.d_a, trainer.d_b, a, b, lam=3.0, idt=0.2)
    hand = {k: float(v) for k, v in hand.items()}
    hand["g_total"] = sum(hand.values())
    fake_b, fake_a = trainer.g_ab(a), trainer.g_ba(b)
    hand.update(d_b=float(hand_critic_loss(trainer.d_b, b, fake_b)),
                d_a=float(hand_critic_loss(trainer.d_a, a, fake_a)))
    for k, v in hand.items():  # float32 compiled against eager (1e-4, as the one-step test) + the CSV's 6 digits
        assert first[k] == pytest.approx(v, abs=1e-4 + 1e-5 * abs(v)), k
    assert abs(hand["cycle_a"]) > 1e-2 and abs(hand["idt_a"]) > 1e-2   # a lost weight shows above the tolerance
    saved = json.loads((cli_run / "config.json").read_text())
    assert {k: saved[k] for k in ("gan_type", "preset", "loss", "optimizer", "g_lr", "d_lr", "g_beta1", "g_beta2",
                                  "batch_size", "lambda_cycle", "lambda_identity", "pool_size", "resnet_blocks",
                                  "image_size")} == dict(
        gan_type="cyclegan", preset="cyclegan", loss="lsgan", optimizer="adam", g_lr=2e-4, d_lr=2e-4, g_beta1=0.5,
        g_beta2=0.999, batch_size=1, lambda_cycle=3.0, lambda_identity=0.2, pool_size=50, resnet_blocks=1,
        image_size=32)
    assert sorted(p.name for p in (cli_run / "models").iterdir()) == [
        "D_A.weights.h5", "D_B.weights.h5", "G_AB.weights.h5", "G_BA.weights.h5"]
    assert (cli_run / "checkpoints" / "ckpt-2.index").is_file()


def test_samples_are_both_cycles_of_fixed_images_through_the_translators(cli_run):
    """Six rows per group: a | G_AB(a) | G_BA(G_AB(a)) | b | G_BA(b) | G_AB(G_BA(b)) of the first six images of each
    domain's stream, the generators rebuilt by translators() (the evaluation protocol) from models/."""
    grid = np.asarray(Image.open(cli_run / "samples" / "step_0000002.png"))
    first_a, first_b, _ = data.load_pair("digits2edge", batch_size=6, seed=0)
    a, b = next(iter(first_a)).numpy(), next(iter(first_b)).numpy()
    cfg = config.Config.load(cli_run / "config.json")
    f = CycleGANTrainer.translators(cfg, (32, 32, 3), cli_run / "models")
    assert set(f) == {(1, 2), (2, 1)}
    ab, ba = f[(1, 2)](a), f[(2, 1)](b)
    assert ab.dtype == np.float32 and ab.shape == a.shape
    want = run_folder.pair_grid([a, ab, f[(2, 1)](ab), b, ba, f[(1, 2)](ba)], 2, 3)
    assert grid.shape == want.shape == ((32 + 2) * 2 * 6 + 2 * 2 + 2, (32 + 2) * 3 + 2, 3)
    # the real images exactly; translations to one grey level (uint8 rounding of a float32 forward pass)
    assert np.abs(grid.astype(int) - want.astype(int)).max() <= 1
    assert np.abs(ab - ba).max() > 0.05  # the two directions are different networks


def test_dry_run_counts_are_the_saved_weights(cli_run, capsys):
    rows = dry_run_counts(TINY, capsys, ("  G_", "  D_"))
    assert set(rows) == {"G_AB", "G_BA", "D_A", "D_B"}
    for net, count in rows.items():
        assert count == saved_count(cli_run, net), net


def test_dry_run_at_256_px_prints_the_official_counts(capsys):
    """ResNet-9 generator 11,378,179 and the 3-channel 70x70 PatchGAN 2,764,737 (the official networks' counts);
    the default depth follows the size: 9 blocks at 256 px, 6 at 32."""
    rc, out, err = run(["--gan_type", "cyclegan", "--image_size", 256, "--dry_run"], capsys)
    assert rc == 0, err
    assert "  G_AB          11,378,179  ResNet generator A -> B, 9 blocks" in out
    assert "  G_BA          11,378,179" in out
    assert "  D_A            2,764,737  PatchGAN, 3 layers, 70 px patches" in out
    assert "  D_B            2,764,737" in out
    cfg = config.parse_config(["--gan_type", "cyclegan"], main._data_defaults)
    assert (cfg.image_size, cfg.resnet_blocks) == (32, translation_nets.resnet_blocks(32)) == (32, 6)
    assert translation_nets.resnet_blocks(256) == 9


def test_resume_with_the_pools_equals_the_uninterrupted_run(tmp_path, capsys, logged):
    """A run of 3 steps stopped by SIGTERM at step 2, then --resume == 3 straight, bit for bit: weights, Adam state,
    data positions, both pools (images and counts; --pool_size 2, so the third step draws from a full pool) and the
    decayed rates (both runs have --iterations 3: the decay is a function of it). A pool left out of the checkpoint
    restarts empty: the resumed step 3 leaves count 1 instead of 2. The signal is sent while step 1's line is
    logged, after the loop read its stop flag for step 1 (trainers/loop.py), so the loop stops at step 2."""
    from trainers.loop import TrainingInterrupted
    argv = TINY + ["--pool_size", 2, "--iterations", 3, "--log_interval", 1]
    straight, resumed = tmp_path / "straight", tmp_path / "resumed"
    assert run(argv + ["--dir", straight], capsys)[0] == 0

    def stop(message):
        if message.startswith("[1/3]"):
            os.kill(os.getpid(), signal.SIGTERM)

    logged.on_message = stop
    with pytest.raises(TrainingInterrupted) as e:
        main.run([str(a) for a in argv + ["--dir", resumed]])
    logged.on_message = None
    assert e.value.step == 2 and not (resumed / "checkpoints" / "ckpt-3.index").exists()
    rc, out, err = run(["--dir", resumed, "--resume"], capsys)
    assert rc == 0, err
    assert f"from step {e.value.step} to 3" in out
    assert_same_final_state(straight, resumed, ("G_AB", "G_BA", "D_A", "D_B"))
    ckpt = [tf.train.load_checkpoint(str(r / "checkpoints" / "ckpt-3")) for r in (straight, resumed)]
    for pool in ("pool_a", "pool_b"):
        count, images = (f"{pool}/{v}/.ATTRIBUTES/VARIABLE_VALUE" for v in ("count", "images"))
        assert ckpt[0].get_tensor(count) == ckpt[1].get_tensor(count) == 2
        np.testing.assert_array_equal(ckpt[1].get_tensor(images), ckpt[0].get_tensor(images))
        assert np.abs(ckpt[0].get_tensor(images)).max() > 0  # fakes, not the zeros it starts with


def test_evaluate_scores_both_directions_and_the_cycle_error(cli_run, monkeypatch, capsys):
    """--evaluate on a CycleGAN run (issue 20 item 5): both directions, and the cycle error mean |G_BA(G_AB(x)) - x|
    recomputed here from the saved generators (inference mode) on the same held-out digits2edge pairs."""
    import metrics

    class SquaredDifference:   # LPIPS stand-in: no weights offline
        net = "squared-difference (test)"

        def __init__(self, *a, **k):
            pass

        def __call__(self, x, y):
            return np.mean((np.asarray(x, np.float64) - np.asarray(y, np.float64)) ** 2, axis=(1, 2, 3))

    monkeypatch.setattr(metrics, "LPIPS", SquaredDifference)
    assert main.main(["--evaluate", str(cli_run), "--num", "8", "--batch_size", "4"]) == 0
    r = json.loads((cli_run / "metrics.json").read_text())
    assert (r["gan_type"], r["pairs"], r["directions"]) == ("cyclegan", 8, ["1_to_2", "2_to_1"])
    cfg = config.Config.load(cli_run / "config.json")
    fns = CycleGANTrainer.translators(cfg, (32, 32, 3), cli_run / "models")
    ds, _ = data.load_paired("digits2edge", batch_size=8, seed=0, split="test")
    x, y = (a.numpy() for a in next(iter(ds)))
    for key, real, there, back in (("1_2_1", x, fns[(1, 2)], fns[(2, 1)]), ("2_1_2", y, fns[(2, 1)], fns[(1, 2)])):
        rec = np.asarray(back(np.asarray(there(real))))
        want = np.abs(rec.astype(np.float64) - real).mean(axis=(1, 2, 3)).mean()
        # float32 images of magnitude <= 1 averaged over 3,072 values: agreement to ~1e-6
        assert abs(r["cycle"]["rows"][key]["mean"] - want) < 1e-5, key
    truth = np.mean((np.asarray(fns[(1, 2)](x), np.float64) - y) ** 2, axis=(1, 2, 3)).mean()
    assert abs(r["lpips"]["rows"]["trans2_vs_truth2"]["mean"] - truth) < 1e-5


def test_sample_refuses_a_cyclegan_run(cli_run, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    err = assert_refused(["--sample", cli_run, "--num", "2", "--out", "x.npz"], "--sample is not for cyclegan runs",
                         capsys)
    assert "--evaluate RUN" in err
    assert not (tmp_path / "x.npz").exists()


# ---------------------------------------------------------------------------------------------- refusals
@pytest.mark.parametrize("argv,says", [
    (["--strategy", "mirrored"], "--strategy has no meaning for CycleGAN"),
    (["--cpu_replicas", "2"], "--cpu_replicas has no meaning for CycleGAN"),
    (["--mixed_precision", "bf16"], "--mixed_precision has no meaning for CycleGAN"),
    (["--arch", "cogan32"], "--arch has no meaning for CycleGAN"),
    (["--w_init", "xavier"], "--w_init has no meaning for CycleGAN"),
    (["--shared_layers_g", "1"], "--shared_layers_g has no meaning"),
    (["--semantic_loss"], "--semantic_loss has no meaning"),
    (["--loss", "wgan"], "--loss wgan: --gan_type cyclegan trains the objective of Zhu et al. 2017"),
    (["--disc_iters", "5"], "--disc_iters 5: --gan_type cyclegan trains the objective"),
    (["--preset", "thesis"], "--preset thesis is a setting of the coupled GANs"),
    (["--direction", "BtoA"], "--direction is an option of --gan_type pix2pix, not of --gan_type cyclegan"),
    (["--dataset", "digits"], "--dataset is for --gan_type gan"),
    (["--domain_a", "somewhere"], "give both --domain_a and --domain_b"),
    (["--classes", "8"], "--classes filters the data of a single GAN"),
    (["--lambda_cycle", "-1"], "--lambda_cycle must be at least 0"),
    (["--pool_size", "-1"], "--pool_size must be at least 0"),
    (["--resnet_blocks", "0"], "--resnet_blocks must be at least 1"),
])
def test_refused_cyclegan_options_are_one_line_exit_2(argv, says, tmp_path, capsys):
    d = tmp_path / "run"
    assert_refused(TINY + ["--dir", d] + argv, says, capsys)
    assert not d.exists()  # nothing left behind to block the corrected command


@pytest.mark.parametrize("argv,says", [
    (["--gan_type", "cogan", "--lambda_cycle", "5"], "--lambda_cycle is an option of --gan_type cyclegan, not of "
                                                     "--gan_type cogan"),
    (["--gan_type", "pix2pix", "--pool_size", "10"], "--pool_size is an option of --gan_type cyclegan"),
    (["--gan_type", "gan", "--resnet_blocks", "9"], "--resnet_blocks is an option of --gan_type cyclegan"),
    (["--gan_type", "classifier", "--lambda_identity", "0"], "--lambda_identity is an option of --gan_type cyclegan"),
    (["--gan_type", "cogan", "--preset", "cyclegan"], "--preset cyclegan is the setting of --gan_type cyclegan"),
])
def test_cyclegan_options_are_refused_elsewhere(argv, says, capsys):
    assert_refused(argv + ["--dry_run"], says, capsys)
