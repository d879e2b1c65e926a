"""`--gan_type pix2pix` (issue 20, item 2): the objectives against NumPy and hand-worked numbers, one compiled step
against the hand-written objective (Isola et al. 2017; the official pix2pix_model.py), the CLI run (losses.csv,
held-out samples in inference mode, models, exact resume, --dry_run counts) and the refusals (one line, exit 2)."""
import json

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

import config
import main
import run_folder
from data_sources import paired
from trainers import pix2pix
from trainers.pix2pix import Pix2PixTrainer
from translation_helpers import (assert_refused, assert_same_final_state, dry_run_counts, np_bce, run, saved_count,
                                 straight_and_resumed, tiny, two_step_run)

TINY = tiny("pix2pix", 0.25, "--patch_layers", 1, "--batch_size", 4)
# A 1-layer PatchGAN on concat(x, y) of RGB images, worked by hand from translation_nets.patch_discriminator:
# conv1 4x4 6->64 with bias; conv2 4x4 64->128 without bias (BatchNorm follows: gamma, beta, moving mean and
# variance); the 4x4 128->1 logits with bias.
D_1_LAYER = (6 * 64 * 16 + 64) + (64 * 128 * 16 + 4 * 128) + (128 * 16 + 1)


# ---------------------------------------------------------------------------------------------- the objectives
def test_bce_with_logits_is_hand_worked_and_numpy():
    assert float(pix2pix.bce_with_logits(tf.zeros((2, 3, 3, 1)), 1.0)) == pytest.approx(np.log(2.0), abs=1e-6)
    logits = np.array([[-3.0, -0.5], [0.25, 4.0]], np.float32)
    for target in (0.0, 1.0):
        assert float(pix2pix.bce_with_logits(logits, target)) == pytest.approx(np_bce(logits, target), abs=1e-6)
    # log(1 + e^-4) for label 1 and logit 4, by hand: 0.0181499...
    assert float(pix2pix.bce_with_logits([[4.0]], 1.0)) == pytest.approx(0.01814993, abs=1e-6)


def test_discriminator_loss_is_half_the_sum_of_real_and_fake_bce():
    real = np.array([[0.0, 2.0], [-1.0, 0.5]], np.float32)
    fake = np.array([[-1.0, 3.0], [0.0, -2.0]], np.float32)
    want = 0.5 * (np_bce(real, 1.0) + np_bce(fake, 0.0))
    assert float(pix2pix.discriminator_loss(real, fake)) == pytest.approx(want, abs=1e-6)
    # Hand-worked: every logit 0 gives 0.5 * (ln 2 + ln 2) = ln 2 (without the halving: 2 ln 2).
    assert float(pix2pix.discriminator_loss(np.zeros((1, 2)), np.zeros((1, 2)))) == pytest.approx(np.log(2), abs=1e-6)


def test_generator_loss_is_bce_plus_the_weighted_l1():
    logits = np.array([[1.5, -0.5, 0.0]], np.float32)
    y = np.array([[[0.5, -1.0], [1.0, 0.0]]], np.float32)
    fake = np.array([[[0.25, -0.5], [0.0, 0.0]]], np.float32)
    logs = pix2pix.generator_loss(logits, y, fake, 100.0)
    l1 = (0.25 + 0.5 + 1.0 + 0.0) / 4  # mean |y - fake| by hand
    assert float(logs["g_l1"]) == pytest.approx(l1, abs=1e-7)
    assert float(logs["g_gan"]) == pytest.approx(np_bce(logits, 1.0), abs=1e-6)
    assert float(logs["g_total"]) == pytest.approx(np_bce(logits, 1.0) + 100.0 * l1, abs=1e-4)


# ---------------------------------------------------------------------------------------------- one step
def _values(variables):
    return [v.numpy().copy() for v in variables]


def _assign(variables, values):
    for v, a in zip(variables, values):
        v.assign(a)


def test_one_step_descends_the_hand_written_objectives():
    """Plain SGD (w -= lr * gradient) makes each update the objective's gradient: D's must be that of
    0.5 * (BCE(D(x, y), 1) + BCE(D(x, fake), 0)), G's that of BCE(D'(x, fake), 1) + 100 * mean|y - fake| through the
    updated D' and the same fake, both written here with softplus. A missing 0.5 doubles D's update, a wrong L1
    weight changes G's by far more than the tolerance."""
    cfg = config.parse_config(TINY + ["--optimizer", "sgd", "--g_lr", "0.5", "--d_lr", "0.5"], main._data_defaults)
    datasets, info = main.load_data(cfg)
    trainer = Pix2PixTrainer(cfg, info, datasets)
    g, d = trainer.generator, trainer.discriminator
    x, y = next(trainer.iterator)
    g_state, d_state = _values(g.variables), _values(d.variables)  # dropout seed states and BatchNorm statistics too
    g_before, d_before = _values(g.trainable_variables), _values(d.trainable_variables)
    logs = trainer.run_step((x, y))
    g_after, d_after = _values(g.trainable_variables), _values(d.trainable_variables)

    _assign(g.variables, g_state)  # the same weights and dropout masks as the step had
    _assign(d.variables, d_state)
    softplus = tf.math.softplus  # BCE(l, 1) = softplus(-l), BCE(l, 0) = softplus(l)
    with tf.GradientTape() as g_tape:
        fake = g(x, training=True)
    with tf.GradientTape() as d_tape:
        d_obj = 0.5 * (tf.reduce_mean(softplus(-d(tf.concat([x, y], -1), training=True)))
                       + tf.reduce_mean(softplus(d(tf.concat([x, fake], -1), training=True))))
    d_grad = d_tape.gradient(d_obj, d.trainable_variables)
    _assign(d.trainable_variables, d_after)  # G's objective goes through the updated D
    with g_tape:
        g_gan = tf.reduce_mean(softplus(-d(tf.concat([x, fake], -1), training=True)))
        g_obj = g_gan + 100.0 * tf.reduce_mean(tf.abs(y - fake))
    g_grad = g_tape.gradient(g_obj, g.trainable_variables)

    assert float(logs["d_loss"]) == pytest.approx(float(d_obj), abs=1e-5)
    assert float(logs["g_total"]) == pytest.approx(float(g_obj), abs=1e-3)   # ~50: float32 to 2e-5 relative
    for before, after, grad in ((d_before, d_after, d_grad), (g_before, g_after, g_grad)):
        moved = np.concatenate([(a - b).ravel() for a, b in zip(after, before)])
        want = np.concatenate([(-0.5 * gr.numpy()).ravel() for gr in grad])
        scale = np.abs(want).max()
        assert scale > 1e-4  # the updates compared are not all (near) zero
        # Compiled and eager float32 differ in summation order: 1e-3 of the largest update, far below a factor 2.
        np.testing.assert_allclose(moved, want, rtol=0, atol=1e-3 * scale)


# ---------------------------------------------------------------------------------------------- the CLI
@pytest.fixture(scope="module")
def cli_run(tmp_path_factory):
    """A 2-step run with a 2x3 sample grid."""
    return two_step_run(tmp_path_factory, "pix2pix", TINY)


def test_cli_run_writes_losses_samples_models_and_config(cli_run):
    rows = (cli_run / "losses.csv").read_text().splitlines()
    assert rows[0] == "step,d_loss,g_gan,g_l1,g_total" and [r.split(",")[0] for r in rows[1:]] == ["1", "2"]
    for r in rows[1:]:
        d_loss, g_gan, g_l1, g_total = map(float, r.split(",")[1:])
        assert g_total == pytest.approx(g_gan + 100 * g_l1, abs=1e-3)  # the logged terms add up
    saved = json.loads((cli_run / "config.json").read_text())
    assert (saved["gan_type"], saved["preset"], saved["direction"], saved["l1_weight"], saved["patch_layers"],
            saved["g_lr"], saved["g_beta1"], saved["loss"]) == ("pix2pix", "pix2pix", "AtoB", 100.0, 1, 2e-4, 0.5,
                                                               "nonsat")
    assert sorted(p.name for p in (cli_run / "models").iterdir()) == ["D.weights.h5", "G.weights.h5"]
    assert (cli_run / "checkpoints" / "ckpt-2.index").is_file()


def test_samples_are_held_out_pairs_and_their_inference_mode_translations(cli_run):
    """Rows x | G(x) | y of the first six held-out pairs, G(x) from the saved G with training=False."""
    grid = np.asarray(Image.open(cli_run / "samples" / "step_0000002.png"))
    import data
    x, y = next(iter(data.load_paired("digits2edge", batch_size=6, seed=0, split="test")[0]))
    cfg = config.Config.load(cli_run / "config.json")
    g, _ = pix2pix.build_nets(cfg, (32, 32, 3))
    g.load_weights(str(cli_run / "models" / "G.weights.h5"))
    fake = g(x, training=False).numpy()
    want = run_folder.pair_grid([x.numpy(), fake, y.numpy()], 2, 3)
    assert grid.shape == want.shape == ((32 + 2) * 2 * 3 + 2 * 2 + 2, (32 + 2) * 3 + 2, 3)
    # x and y exactly; G(x) to one grey level (uint8 rounding of a float32 forward pass).
    assert np.abs(grid.astype(int) - want.astype(int)).max() <= 1
    dropout_on = run_folder.pair_grid([x.numpy(), g(x, training=True).numpy(), y.numpy()], 2, 3)
    assert np.abs(grid.astype(int) - dropout_on.astype(int)).max() > 1  # not the training-mode forward


def test_dry_run_counts_are_the_saved_weights(cli_run, capsys):
    rows = dry_run_counts(TINY, capsys, ("  G ", "  D "))
    assert rows["D"] == D_1_LAYER == 139_841
    assert rows["G"] == saved_count(cli_run, "G")


def test_sample_refuses_a_pix2pix_run(cli_run, capsys, tmp_path, monkeypatch):
    """--sample has no z to draw from; --evaluate scores the translations (tests/test_translation_eval.py)."""
    monkeypatch.chdir(tmp_path)
    err = assert_refused(["--sample", cli_run, "--num", "2", "--out", "x.npz"], "--sample is not for pix2pix runs",
                         capsys)
    assert "--evaluate RUN" in err
    assert not (tmp_path / "x.npz").exists()


def test_resume_equals_the_uninterrupted_run(tmp_path, capsys):
    """2 steps, then --resume to 3 == 3 straight: weights, Adam state, data position, dropout seeds and BatchNorm
    statistics all in the checkpoint. A lost one changes the third step's update (~lr = 2e-4 per weight)."""
    straight, resumed = straight_and_resumed(TINY, tmp_path, capsys)
    # float32 weights of magnitude <= ~2: 1e-6 is far below one Adam step
    assert_same_final_state(straight, resumed, ("G", "D"), atol=1e-6)


# ---------------------------------------------------------------------------------------------- refusals
@pytest.mark.parametrize("argv,says", [
    (["--cogan_data", "mnist2svhn"], "--cogan_data mnist2svhn has no paired data"),
    (["--direction", "CtoD"], "argument --direction: invalid choice"),
    (["--semantic_loss"], "--semantic_loss has no meaning"),
    (["--patch_layers", "4"], "a 4-layer PatchGAN sees nothing of a 32 px image"),
    (["--patch_layers", "7"], "--patch_layers must lie in [1, 6]"),
    (["--l1_weight", "0"], "--l1_weight must be positive"),
    (["--preset", "thesis"], "--preset thesis is a setting of the unpaired GANs"),
    (["--loss", "wgan"], "--loss wgan: --gan_type pix2pix trains the objective"),
    (["--shared_layers_g", "1"], "--shared_layers_g has no meaning"),
    (["--paired_dir", "somewhere"], "give either --cogan_data or --paired_dir"),
    (["--mixed_precision", "bf16"], "--mixed_precision has no meaning"),
])
def test_refused_pix2pix_options_are_one_line_exit_2(argv, says, tmp_path, capsys):
    d = tmp_path / "run"
    assert_refused(tiny("pix2pix", 0.25, "--dir", d) + argv, says, capsys)
    assert not d.exists()  # nothing left behind to block the corrected command


@pytest.mark.parametrize("argv,says", [
    (["--gan_type", "cogan", "--direction", "BtoA"], "--direction is an option of --gan_type pix2pix"),
    (["--gan_type", "gan", "--l1_weight", "10"], "--l1_weight is an option of --gan_type pix2pix"),
    (["--gan_type", "cogan", "--preset", "pix2pix"], "--preset pix2pix is the setting of --gan_type pix2pix"),
])
def test_pix2pix_options_are_refused_elsewhere(argv, says, capsys):
    assert_refused(argv + ["--dry_run"], says, capsys)


def test_config_knows_the_paired_families_of_the_loader():
    """config refuses unpaired data before TensorFlow from PAIRED_DATA_FAMILIES: the loader's registry with pairs
    (data_sources.paired.PAIRED, less the folder given by path)."""
    assert set(config.PAIRED_DATA_FAMILIES) == set(paired.PAIRED) - {"folders"}


def test_paired_folder_defaults_to_256_px_and_bto_a(tmp_path, capsys):
    """--paired_dir: the official 256 px; --direction BtoA is kept in the config."""
    (tmp_path / "pairs").mkdir()
    rc, out, err = run(["--gan_type", "pix2pix", "--paired_dir", tmp_path / "pairs", "--direction", "BtoA",
                        "--g_width", "0.125", "--patch_layers", "1", "--dry_run"], capsys)
    assert rc == 0, err
    cfg, _ = json.JSONDecoder().raw_decode(out, out.index("{"))
    assert (cfg["image_size"], cfg["direction"], cfg["cogan_data"], cfg["batch_size"]) == (256, "BtoA", None, 1)
    assert "U-Net, depth 8" in out


def test_paired_folder_run_translates_b_to_a(tmp_path, capsys):
    """A|B files (left half A, right half B): with --direction BtoA the samples' input rows show B, the target
    rows A (both resized to --image_size)."""
    a_rgb, b_rgb = (200, 40, 40), (40, 40, 200)
    for split, n in (("train", 4), ("test", 2)):
        (tmp_path / "pairs" / split).mkdir(parents=True)
        for i in range(n):
            img = np.zeros((40, 80, 3), np.uint8)
            img[:, :40], img[:, 40:] = a_rgb, b_rgb
            Image.fromarray(img).save(tmp_path / "pairs" / split / f"{i}.png")
    d = tmp_path / "run"
    rc, _, err = run(["--gan_type", "pix2pix", "--paired_dir", tmp_path / "pairs", "--direction", "BtoA",
                      "--image_size", 32, "--g_width", "0.125", "--patch_layers", 1, "--batch_size", 2,
                      "--iterations", 1, "--sample_rows", 1, "--sample_cols", 2, "--dir", d], capsys)
    assert rc == 0, err
    grid = np.asarray(Image.open(d / "samples" / "step_0000001.png")).astype(int)
    top, bottom = grid[2:34, 2:34], grid[2 + 2 * 34:34 + 2 * 34, 2:34]   # row 1 = inputs x, row 3 = targets y
    assert np.abs(top - b_rgb).max() <= 1 and np.abs(bottom - a_rgb).max() <= 1
