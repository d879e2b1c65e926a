"""Issue 22, items 2, 3 (config files) and 5, through the command line: what a resume may change (each option's
declared on_resume policy), what it says and records, that a resume which changes nothing writes no config, and
the declared ranges for every source (command line, --config, the run's config.json)."""
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import main

REPO = Path(__file__).resolve().parents[1]
TINY = ["--iterations", "2", "--batch_size", "8", "--g_width", "0.25", "--log_interval", "1",
        "--checkpoint_interval", "1", "--sample_interval", "2", "--sample_rows", "1", "--sample_cols", "2",
        "--no_final_eval"]


def status_and_err(capsys, *argv):
    try:
        code = main.main([str(a) for a in argv])
    except SystemExit as e:  # argparse
        code = e.code
    out = capsys.readouterr()
    return code, out.out, out.err.strip()


def exits_2(capsys, *argv):
    code, _, err = status_and_err(capsys, *argv)
    assert code == 2, err
    assert err.startswith("error: ") and "\n" not in err, err
    return err


def snapshot(folder):
    """{relative path: (bytes, mtime in ns)} of every file: a rewrite with the same bytes still shows."""
    return {str(p.relative_to(folder)): (p.read_bytes(), p.stat().st_mtime_ns)
            for p in sorted(Path(folder).rglob("*")) if p.is_file()}


def steps(run):
    return [int(line.split(",")[0]) for line in (run / "losses.csv").read_text().splitlines()[1:]]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A cogan run on digits2edge (demo preset dcgan: Adam 2e-4 (0.5, 0.999)), 2 of 2 iterations done."""
    run = tmp_path_factory.mktemp("policy") / "cogan"
    assert main.main(["--dir", str(run), *TINY]) == 0
    return run


@pytest.fixture
def run(trained, tmp_path):
    """A copy of the trained run: a moved folder, which its first resume records (--dir, on_resume free)."""
    copy = tmp_path / "run"
    shutil.copytree(trained, copy)
    return copy


# ------------------------------------------------------------------------------------------ refused changes
@pytest.mark.parametrize("flags, option, was, given", [
    (["--gan_type", "scogan"], "gan_type", "cogan", "scogan"),
    (["--cogan_data", "mnist2edge"], "cogan_data", "digits2edge", "mnist2edge"),
    (["--preset", "thesis"], "preset", "dcgan", "thesis"),           # another loss mid-run
    (["--loss", "wgan"], "loss", "nonsat", "wgan"),
    (["--batch_size", "4"], "batch_size", "8", "4"),
    (["--seed", "1"], "seed", "0", "1"),
    (["--mixed_precision", "bf16"], "mixed_precision", "none", "bf16"),
    (["--d_norm", "layer"], "d_norm", "batch", "layer"),
    (["--g_width", "1"], "g_width", "0.25", "1.0"),                  # the architecture: refused before TensorFlow
    (["--shared_layers_g", "2"], "shared_layers_g", "4", "2"),
])
def test_a_change_of_what_is_trained_is_refused_in_one_line(run, capsys, flags, option, was, given):
    before = snapshot(run)
    err = exits_2(capsys, "--dir", run, "--resume", "--iterations", "3", *flags)
    assert err == (f"error: --{option} cannot change on resume (start a new run in another --dir): the run has "
                   f"{was}, this resume gives {given}")
    assert snapshot(run) == before


def test_allow_options_change_only_with_allow_change(trained, run, capsys):
    before = snapshot(run)
    err = exits_2(capsys, "--dir", run, "--resume", "--iterations", "3", "--g_beta1", "0.9")
    assert err == ("error: --g_beta1 changes on resume only with --allow_change: the run has 0.5, this resume "
                   "gives 0.9")
    assert snapshot(run) == before
    code, out, err = status_and_err(capsys, "--dir", run, "--resume", "--iterations", "3", "--g_beta1", "0.9",
                                    "--allow_change")
    assert code == 0, err
    assert (f"resuming at step 2 with --iterations 2 -> 3; --g_beta1 0.5 -> 0.9; --dir {trained} -> {run} "
            f"(recorded in {run}/config.json)") in out
    saved = json.loads((run / "config.json").read_text())
    assert (saved["g_beta1"], saved["dir"]) == (0.9, str(run)) and "allow_change" not in saved
    assert [h["changes"] for h in saved["resume_history"]] == [
        {"iterations": [2, 3], "g_beta1": [0.5, 0.9], "dir": [str(trained), str(run)]}]


def test_a_refused_architecture_change_prints_no_tensorflow_lines(run):
    """Before the policy, --shared_layers_g / --g_width were refused by TensorFlow's restore: its raw text after
    several "WARNING:tensorflow:Value in checkpoint could not be found" lines."""
    proc = subprocess.run([sys.executable, str(REPO / "main.py"), "--dir", str(run), "--resume", "--g_width", "0.5"],
                          capture_output=True, text=True, timeout=120, cwd=run.parent)
    assert proc.returncode == 2
    assert proc.stderr.splitlines() == [
        "error: --g_width cannot change on resume (start a new run in another --dir): the run has 0.25, this resume "
        "gives 0.5"]


# ------------------------------------------------------------------------------------------ accepted changes
def test_iterations_and_learning_rates_change_said_recorded_and_used(trained, run, capsys):
    import tensorflow as tf
    code, out, err = status_and_err(capsys, "--dir", run, "--resume", "--iterations", "3", "--g_lr", "1e-4",
                                    "--d_lr", "5e-5")
    assert code == 0, err
    assert (f"resuming at step 2 with --iterations 2 -> 3; --g_lr 0.0002 -> 0.0001; --d_lr 0.0002 -> 5e-05; "
            f"--dir {trained} -> {run} (recorded in {run}/config.json)") in out
    saved = json.loads((run / "config.json").read_text())
    assert (saved["iterations"], saved["g_lr"], saved["d_lr"]) == (3, 1e-4, 5e-5)
    first = {"iterations": [2, 3], "g_lr": [2e-4, 1e-4], "d_lr": [2e-4, 5e-5], "dir": [str(trained), str(run)]}
    (entry,) = saved["resume_history"]
    assert entry["step"] == 2 and entry["changes"] == first
    assert steps(run) == [1, 2, 3]
    # The checkpoint holds each optimizer's learning-rate variable: the restored 2e-4 must not win over the new rate.
    ckpt = tf.train.latest_checkpoint(str(run / "checkpoints"))
    assert ckpt.endswith("ckpt-3")
    lr = {k: float(tf.train.load_variable(ckpt, f"{k}/_learning_rate/.ATTRIBUTES/VARIABLE_VALUE"))
          for k in ("g_opt", "d_opt")}
    assert lr == {"g_opt": pytest.approx(1e-4, rel=1e-6), "d_opt": pytest.approx(5e-5, rel=1e-6)}
    # A later change is appended, at the step it was made.
    code, out, err = status_and_err(capsys, "--dir", run, "--resume", "--iterations", "4")
    assert code == 0, err
    history = json.loads((run / "config.json").read_text())["resume_history"]
    assert [(h["step"], h["changes"]) for h in history] == [(2, first), (3, {"iterations": [3, 4]})]
    assert steps(run) == [1, 2, 3, 4]


def test_a_resume_that_changes_or_trains_nothing_changes_no_file(run, capsys):
    """Not config.json, nor provenance.json, losses.csv or TensorBoard's folder (bytes and mtimes of every file)."""
    before = snapshot(run)
    code, out, err = status_and_err(capsys, "--dir", run, "--resume")
    assert code == 0, err
    assert "nothing to do: the run is at step 2" in out and "resuming at step" not in out
    code, out, err = status_and_err(capsys, "--dir", run, "--resume", "--iterations", "1", "--g_lr", "1e-3")
    assert code == 0, err
    assert "nothing to train at step 2: --iterations 2 -> 1; --g_lr 0.0002 -> 0.001; --dir " in out
    assert out.count("not recorded") == 1
    assert snapshot(run) == before


def test_a_named_experiment_resumed_with_its_own_command_is_a_no_op(tmp_path, capsys):
    """The SLURM templates requeue with the same command: `--experiment X --dir D --resume` changes nothing."""
    run = tmp_path / "toy"
    command = ["--experiment", "gan_toy_wgangp", "--dir", run, "--resume", "--iterations", "2", "--log_interval",
               "1", "--sample_interval", "2", "--checkpoint_interval", "2", "--no_final_eval"]
    assert status_and_err(capsys, *command)[0] == 0
    before = snapshot(run)
    code, out, err = status_and_err(capsys, *command)
    assert code == 0, err
    assert "nothing to do: the run is at step 2" in out and "resuming at step" not in out
    assert snapshot(run) == before


# ------------------------------------------------------------------------------------------ ranges, every source
def test_an_out_of_range_option_is_refused_before_training(tmp_path, capsys):
    assert exits_2(capsys, "--g_beta1", "-1", "--dir", tmp_path / "new") == \
        "error: --g_beta1 must lie in [0, 1) (got -1.0)"
    assert exits_2(capsys, "--seed", "-1", "--dir", tmp_path / "new") == \
        "error: --seed must lie in [0, 4294967295] (got -1)"
    assert exits_2(capsys, "--eval_pairs", "0", "--dir", tmp_path / "new") == \
        "error: --eval_pairs must be at least 1 (got 0)"
    assert not (tmp_path / "new").exists()


@pytest.mark.parametrize("key, value, says", [
    ("g_beta1", -1, "must lie in [0, 1) (got -1)"),
    ("d_beta2", 1, "must lie in [0, 1) (got 1)"),
    ("gp_weight", 0, "must be positive (got 0)"),
    ("fr_weight", -0.5, "must be at least 0 (got -0.5)"),
    ("checkpoint_interval", 0, "must be at least 1 (got 0)"),
])
def test_ranges_hold_for_config_files(tmp_path, capsys, key, value, says):
    path = tmp_path / "c.json"
    path.write_text(json.dumps({key: value}))
    assert exits_2(capsys, "--config", path, "--dir", tmp_path / "new") == f'error: config file {path}: "{key}" {says}'
    assert not (tmp_path / "new").exists()


def test_ranges_and_types_hold_for_the_runs_config_json(run, capsys):
    saved = json.loads((run / "config.json").read_text())
    for key, value, says in (("seed", -3, "must lie in [0, 4294967295] (got -3)"),
                             ("iterations", [2], "must be an integer or null (got list)"),
                             ("g_lr", {"lr": 1}, "must be a number or null (got dict)")):
        (run / "config.json").write_text(json.dumps({**saved, key: value}))
        err = exits_2(capsys, "--dir", run, "--resume")
        assert err == f'error: config file {run / "config.json"}: "{key}" {says}'


def test_a_config_nested_beyond_the_recursion_limit_is_one_line_naming_the_key(run, tmp_path, capsys):
    deep = "[" * 200_000 + "]" * 200_000
    path = tmp_path / "deep.json"
    path.write_text('{"iterations": 3, "seed": ' + deep + "}")
    assert exits_2(capsys, "--config", path, "--dir", tmp_path / "new") == \
        f'error: config file {path}: "seed" is nested too deeply to read (a config holds one value per option)'
    text = (run / "config.json").read_text()
    (run / "config.json").write_text(text.replace('"gan_type": "cogan"', '"gan_type": ' + deep))
    assert exits_2(capsys, "--dir", run, "--resume") == (
        f'error: config file {run / "config.json"}: "gan_type" is nested too deeply to read (a config holds one '
        f'value per option)')
