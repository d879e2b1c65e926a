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


def test_each_coupling_has_one_declared_switch_refused_outside_scogan(capsys):
    """config.COUPLING_SWITCHES comes from the options declared `coupling=True`: each switch turns on exactly one
    COUPLINGS entry, every entry has a switch (a new term whose switch is not declared so fails here), and each
    switch is refused with --gan_type cogan / gan in one line rather than silently ignored."""
    switches = config.COUPLING_SWITCHES
    assert switches == ("feature_regulariser", "semantic_loss", "cycle_consistency", "perceptual_loss")
    enabled_by = {}
    for s in switches:
        cfg = dataclasses.replace(config.Config(), **{s: True})
        on = [n for n, c in scogan.COUPLINGS.items() if c.enabled(cfg)]
        assert len(on) == 1, (s, on)
        enabled_by[on[0]] = s
    assert set(enabled_by) == set(scogan.COUPLINGS)
    for s in switches:
        for gan_type in ("cogan", "gan"):
            assert main.main(["--gan_type", gan_type, f"--{s}", "--iterations", "1"]) == 2
            err = capsys.readouterr().err.strip().splitlines()
            assert err == [f"error: --{s} couples two generators softly: use it with --gan_type scogan"], err


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


def test_a_penalty_reads_exactly_the_options_its_class_names():
    """get_penalty builds each penalty from the config options in its class's `options` (no per-name settings
    table elsewhere): every named option is a Config field, the value given reaches the penalty, others are
    ignored."""
    fields = {f.name for f in dataclasses.fields(config.Config)}
    for cls in penalties.PENALTIES.values():
        assert set(cls.options.values()) <= fields, cls
    given = dict(gp_weight=2.5, clip_value=0.3, fr_weight=7.0)
    assert penalties.get_penalty("wgan-gp", **given).weight == 2.5
    assert penalties.get_penalty("clip", **given).clip_value == 0.3
    assert type(penalties.get_penalty("none", **given)) is penalties.NoPenalty


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
    computed independently from the run's trained generators on the evaluation's z stream, and its renderer's
    lines are in metrics.md."""
    import evaluation
    from metrics import measures
    from test_evaluation import SquaredDifferenceLPIPS, trained_generators

    run = tmp_path / "run"
    assert main.main(["--dir", str(run), "--iterations", "2", *TINY]) == 0
    monkeypatch.setitem(measures.MEASURES, "mean_intensity", measures.Measure(
        _MeanIntensity, lambda r: ["## Mean intensity", "", f"domain 1: {r['mean_intensity']['digits']:.6f}", ""]))
    result = evaluation.evaluate(run, num=20, batch_size=8, lpips=SquaredDifferenceLPIPS(), fid=False)
    gens = trained_generators(run)   # from models/*.weights.h5, not through the checkpoint evaluate restores
    z = tf.random.Generator.from_seed(evaluation.EVAL_SEED)
    zs = tf.concat([z.uniform([b, gens[0].input_spec_shape[0]], -1.0, 1.0) for b in (8, 8, 4)], 0)
    expected = [float(np.mean(g(zs, training=False).numpy())) for g in gens]
    got = result["mean_intensity"]
    assert list(got) == ["digits", "digits edge"]
    assert np.allclose(list(got.values()), expected, atol=1e-5)
    assert f"domain 1: {got['digits']:.6f}" in (run / "metrics.md").read_text()
