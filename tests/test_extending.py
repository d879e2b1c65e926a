"""README "Extending": a regulariser, a loss, a penalty and a measure are entries in one registry each; these
tests add a toy one through the registry alone and meet it where a user would (the CLI, losses.csv)."""
import csv
import dataclasses

import numpy as np
import pytest
import tensorflow as tf

import config
import losses
import main
import penalties
import optimisers
from trainers import scogan

TINY = ["--preset", "dcgan", "--batch_size", "4", "--sample_rows", "1", "--sample_cols", "2", "--no_final_eval"]


def rows(run_dir):
    with open(run_dir / "losses.csv") as f:
        return list(csv.DictReader(f))


def test_a_toy_regulariser_added_to_the_registry_enters_the_generator_objective(tmp_path, monkeypatch):
    """A constant 0.25 registered as a coupling: its own losses.csv column, and g_total = g_loss_1 + g_loss_2 +
    0.25 at every step (it is added once to the summed generator objective)."""
    toy = scogan.Coupling(enabled=lambda cfg: True, terms=lambda t, z, fakes, features, reals: {
        "toy": tf.constant(0.25) + 0.0 * tf.reduce_mean(fakes[0] - fakes[1])})
    monkeypatch.setitem(scogan.COUPLINGS, "toy", toy)
    run = tmp_path / "run"
    assert main.main(["--gan_type", "scogan", "--dir", str(run), "--iterations", "3", "--log_interval", "1",
                      *TINY]) == 0
    got = rows(run)
    assert len(got) == 3 and all(float(r["toy"]) == 0.25 for r in got)
    for r in got:
        assert float(r["g_total"]) == pytest.approx(float(r["g_loss_1"]) + float(r["g_loss_2"]) + 0.25, abs=2e-5)


def test_the_builtin_couplings_keep_their_columns_and_order():
    assert list(scogan.COUPLINGS) == ["fr", "sl", "cc", "pl"]
    cfg = dataclasses.replace(config.Config(), feature_regulariser=True, perceptual_loss=True)
    assert [n for n, c in scogan.COUPLINGS.items() if c.enabled(cfg)] == ["fr", "pl"]


def test_registries_and_their_command_line_choices_agree():
    """A loss, penalty or optimiser is one registry entry; the option's choices (declared without importing
    TensorFlow) must list it, or this test names the missing one."""
    choices = config.option_choices()
    assert set(choices["loss"]) == set(losses.LOSSES)
    assert set(choices["disc_penalty"]) == set(penalties.PENALTIES)
    assert set(choices["optimizer"]) == set(optimisers.OPTIMIZERS)
    import devices
    import precision
    assert set(choices["strategy"]) == set(devices.STRATEGIES)
    assert set(choices["mixed_precision"]) == set(precision.POLICIES)


def test_a_penalty_names_its_logged_terms(tmp_path):
    """A penalty's terms dict is what the trainer logs per domain: WGAN-GP gives d_gp_1 / d_gp_2, none nothing."""
    for preset, extra, expected in (("thesis", [], {"d_gp_1", "d_gp_2"}), ("dcgan", [], set())):
        run = tmp_path / preset
        argv = ["--dir", str(run), "--iterations", "1", *TINY, "--preset", preset, "--disc_iters", "1", *extra]
        assert main.main(argv) == 0
        columns = set(rows(run)[0])
        assert {c for c in columns if c.startswith("d_gp")} == expected
        assert np.isfinite([float(v) for v in rows(run)[0].values()]).all()


class _MeanIntensity:
    """A toy measure: the mean pixel value of G1(z) and of G2(z) over all pairs."""

    def __init__(self, ctx):
        self.sums, self.count = np.zeros(2), 0

    def add(self, batch):
        self.sums += [float(np.sum(batch.images["gen1"].mean(axis=(1, 2, 3)))),
                      float(np.sum(batch.images["gen2"].mean(axis=(1, 2, 3))))]
        self.count += len(batch.images["gen1"])

    def result(self, names):
        return {"mean_intensity": dict(zip(names, (self.sums / self.count).tolist()))}


def test_a_toy_measure_added_to_the_registry_is_computed_and_rendered(tmp_path, monkeypatch):
    """A measure registered in metrics.measures.MEASURES alone: its section in metrics.json holds the value
    computed independently from the run's own generators on the evaluation's z stream, and its renderer's
    lines are in metrics.md."""
    import evaluation
    import sampling
    from metrics import measures
    from test_evaluation import SquaredDifferenceLPIPS

    run = tmp_path / "run"
    assert main.main(["--dir", str(run), "--iterations", "2", *TINY]) == 0
    monkeypatch.setitem(measures.MEASURES, "mean_intensity", measures.Measure(
        _MeanIntensity, lambda r: ["## Mean intensity", "", f"domain 1: {r['mean_intensity']['digits']:.6f}", ""]))
    result = evaluation.evaluate(run, num=20, batch_size=8, lpips=SquaredDifferenceLPIPS(), fid=False)
    loaded = sampling.load_run(run)
    z = tf.random.Generator.from_seed(evaluation.EVAL_SEED)
    zs = tf.concat([z.uniform([b, loaded.cfg.noise_dim], -1.0, 1.0) for b in (8, 8, 4)], 0)
    expected = [float(np.mean(g(zs, training=False).numpy())) for g in loaded.generators]
    got = result["mean_intensity"]
    assert list(got) == ["digits", "digits edge"]
    assert np.allclose(list(got.values()), expected, atol=1e-5)
    assert f"domain 1: {got['digits']:.6f}" in (run / "metrics.md").read_text()
