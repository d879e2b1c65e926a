"""Interruptions, crashes and bad values (README, Reproducibility): kill -9 and SIGTERM between checkpoints,
a kill while losses.csv is rewritten, corrupt checkpoint files, and losses that blow up."""
import csv
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import main
import run_folder
from test_trainers import make

REPO = Path(__file__).resolve().parents[1]
TINY = ["--preset", "dcgan", "--batch_size", "4", "--sample_interval", "1000", "--sample_rows", "1",
        "--sample_cols", "2", "--no_final_eval"]


def steps(run_dir):
    with open(Path(run_dir) / "losses.csv") as f:
        return [int(r["step"]) for r in csv.DictReader(f)]


def checkpoints(run_dir):
    d = Path(run_dir) / "checkpoints"
    return sorted(int(m.group(1)) for m in (re.match(r"ckpt-(\d+)\.index$", p.name) for p in d.iterdir()) if m)


def latest(run_dir):
    text = (Path(run_dir) / "checkpoints" / "checkpoint").read_text()
    return int(re.search(r'model_checkpoint_path: "ckpt-(\d+)"', text).group(1))


def start(run_dir, *argv):
    return subprocess.Popen([sys.executable, str(REPO / "main.py"), "--dir", str(run_dir), *TINY, *map(str, argv)],
                            cwd=run_dir.parent, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def wait_for(predicate, proc, timeout=120):
    t0 = time.time()
    while not predicate():
        assert proc.poll() is None, f"the run ended early:\n{proc.stdout.read()}"
        assert time.time() - t0 < timeout, "timed out"
        time.sleep(0.02)


def resume(capsys, run_dir, iterations):
    code = main.main(["--dir", str(run_dir), "--resume", "--iterations", str(iterations)])
    out = capsys.readouterr()
    assert code == 0, out.err
    return out.out


# ---------------------------------------------------------------- 1. kill -9 between a checkpoint and the log
def test_kill9_after_a_checkpoint_between_log_points_loses_no_row(tmp_path, capsys):
    """Checkpoints every 3 steps, rows logged every 10: killed after checkpoint 3, 6 or 9, the resumed run's
    losses.csv still holds every step (the rows up to a checkpoint are written before it)."""
    run = tmp_path / "k"
    proc = start(run, "--iterations", "40", "--log_interval", "10", "--checkpoint_interval", "3")

    def early_checkpoint():
        try:
            return latest(run) in (3, 6, 9)
        except (OSError, AttributeError):
            return False

    wait_for(early_checkpoint, proc)
    proc.send_signal(signal.SIGKILL)
    proc.wait(30)
    proc.stdout.close()
    ckpt = latest(run)
    assert steps(run)[:ckpt] == list(range(1, ckpt + 1))  # on disk before the checkpoint was written
    resume(capsys, run, 12)
    assert steps(run) == list(range(1, 13))


# ---------------------------------------------------------------- 2. a kill while losses.csv is rewritten
def test_resume_rewrite_of_losses_csv_is_all_or_nothing(tmp_path, monkeypatch):
    path = tmp_path / "losses.csv"
    log = run_folder.LossLog(path)
    log.append([(s, {"a": float(s), "b": 0.5}) for s in range(1, 6)])
    before = path.read_text()
    real_writer = csv.writer

    class DiesMidway:
        def __init__(self, f):
            self.w = real_writer(f)

        def writerows(self, rows):
            self.w.writerow(rows[0])
            raise KeyboardInterrupt("killed during the rewrite")

    monkeypatch.setattr(run_folder.csv, "writer", DiesMidway)
    with pytest.raises(KeyboardInterrupt):
        run_folder.LossLog(path, resume_step=3)
    monkeypatch.undo()
    assert path.read_text() == before
    assert [p.name for p in tmp_path.iterdir()] == ["losses.csv"]  # no temporary file left behind


def test_resume_drops_a_row_torn_by_a_kill(tmp_path):
    path = tmp_path / "losses.csv"
    path.write_text("step,a,b\n1,1,0.5\n2,2,0.5\n3,3")  # killed in the middle of row 3
    log = run_folder.LossLog(path, resume_step=3)
    assert path.read_text().splitlines() == ["step,a,b", "1,1,0.5", "2,2,0.5"]
    assert list(log.read()["step"]) == [1, 2]


# ---------------------------------------------------------------- 3. SIGTERM / SIGINT / SIGUSR1
def test_sigterm_checkpoints_the_current_step_and_says_how_to_resume(tmp_path, capsys):
    run = tmp_path / "t"
    proc = start(run, "--iterations", "500", "--log_interval", "1", "--checkpoint_interval", "100")
    wait_for(lambda: (run / "losses.csv").is_file() and len((run / "losses.csv").read_text().splitlines()) > 4, proc)
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 143, out  # SIGTERM: what SLURM requeues expect
    n = latest(run)
    assert 4 <= n < 100 and checkpoints(run) == [n]
    assert steps(run) == list(range(1, n + 1))
    lines = [x for x in out.splitlines() if f"python main.py --dir {run} --resume" in x]
    assert len(lines) == 1 and f"SIGTERM at step {n}" in lines[0], out
    assert not list((run / "checkpoints").glob("*_temp*"))
    resume(capsys, run, n + 2)
    assert steps(run) == list(range(1, n + 3))


@pytest.mark.parametrize("name,status", [("SIGUSR1", 143), ("SIGINT", 130)])
def test_signal_stops_fit_with_a_checkpoint_and_restores_handlers(tmp_path, name, status, logged):
    from trainers.loop import TrainingInterrupted
    sig = getattr(signal, name)
    before = signal.getsignal(sig)
    t = make(run_dir=tmp_path, iterations=50, checkpoint_interval=40, log_interval=2, preset="dcgan")

    def log(message):
        if message.startswith("[4/"):
            os.kill(os.getpid(), sig)

    logged.on_message = log
    with pytest.raises(TrainingInterrupted) as e:
        t.fit()
    # Seen at the end of step 5 at the latest (the handler runs between Python bytecodes).
    assert e.value.signal_name == name and e.value.exit_status == status and e.value.step in (4, 5)
    assert isinstance(e.value, KeyboardInterrupt)
    assert checkpoints(tmp_path) == [e.value.step] and steps(tmp_path) == list(range(1, e.value.step + 1))
    assert signal.getsignal(sig) is before


# ---------------------------------------------------------------- 4. corrupt checkpoints
@pytest.fixture(scope="module")
def six_steps(tmp_path_factory):
    run = tmp_path_factory.mktemp("corrupt") / "run"
    assert main.main(["--dir", str(run), *TINY, "--iterations", "6", "--log_interval", "1",
                      "--checkpoint_interval", "3"]) == 0
    assert checkpoints(run) == [3, 6]
    return run


def _truncate(path):
    with open(path, "r+b") as f:
        f.truncate(os.path.getsize(path) // 2)


@pytest.mark.parametrize("damage", ["data", "index"])
def test_resume_falls_back_from_an_unreadable_checkpoint(six_steps, tmp_path, capsys, damage):
    run = tmp_path / "run"
    shutil.copytree(six_steps, run)
    ckpt = run / "checkpoints"
    _truncate(next(ckpt.glob("ckpt-6.data-*")) if damage == "data" else ckpt / "ckpt-6.index")
    (ckpt / "ckpt-7_temp").mkdir()  # the leftover of a save killed half way
    (ckpt / "ckpt-7_temp" / "part-00000-of-00001.data-00000-of-00001").write_bytes(b"\0" * 10)
    out = resume(capsys, run, 8)
    said = [x for x in out.splitlines() if "unreadable" in x and "ckpt-6" in x]
    assert len(said) == 1 and "restored ckpt-3 (step 3)" in said[0], out
    assert steps(run) == list(range(1, 9))
    assert checkpoints(run) == [3, 6, 8] and latest(run) == 8  # ckpt-6 rewritten by the resumed run
    assert (ckpt / "unreadable" / "ckpt-6.index").is_file()
    assert not (ckpt / "ckpt-7_temp").exists()
    # --sample reads the repaired folder.
    assert main.main(["--sample", str(run), "--num", "2", "--out", str(tmp_path / "p.npz")]) == 0


def test_resume_with_an_empty_checkpoint_state_file(six_steps, tmp_path, capsys):
    run = tmp_path / "run"
    shutil.copytree(six_steps, run)
    (run / "checkpoints" / "checkpoint").write_text("")
    resume(capsys, run, 7)
    assert steps(run) == list(range(1, 8)) and latest(run) == 7


# ---------------------------------------------------------------- 5. non-finite losses
def test_blown_up_learning_rate_stops_with_one_line_and_keeps_the_last_good_checkpoint(tmp_path, capsys):
    run = tmp_path / "nan"
    code = main.main(["--dir", str(run), *TINY, "--iterations", "30", "--log_interval", "5",
                      "--checkpoint_interval", "1", "--g_lr", "1e6", "--d_lr", "1e6"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "\n" not in err, err
    m = re.match(r"error: non-finite loss at step (\d+): (\w+)=(nan|inf|-inf)", err)
    assert m, err
    bad = int(m.group(1))
    assert latest(run) == bad - 1 and checkpoints(run)[-1] == bad - 1  # nothing saved from the bad step on
    with open(run / "losses.csv") as f:
        rows = list(csv.DictReader(f))
    assert [int(r["step"]) for r in rows] == list(range(1, bad + 1))
    assert all(np.isfinite(float(v)) for r in rows[:-1] for v in r.values())
    assert not np.isfinite(float(rows[-1][m.group(2)]))
    assert not (run / "models").exists()


def test_classifier_runs_stop_on_a_signal_with_a_checkpoint_too(tmp_path, capsys, logged):
    """--gan_type classifier trains on the same loop: a signal checkpoints the current step, --resume continues."""
    from trainers.loop import TrainingInterrupted
    run = tmp_path / "clf"
    argv = ["--gan_type", "classifier", "--dataset", "digits", "--dir", str(run), "--iterations", "30",
            "--batch_size", "16", "--log_interval", "2", "--checkpoint_interval", "25"]

    def log(message):
        if message.startswith("[4/"):
            os.kill(os.getpid(), signal.SIGTERM)

    logged.on_message = log
    with pytest.raises(TrainingInterrupted) as e:
        main.run(argv)
    n = e.value.step
    assert e.value.exit_status == 143 and n in (4, 5)
    assert checkpoints(run) == [n] and steps(run) == list(range(1, n + 1))
    assert not (run / "classifier.keras").exists()
    assert main.main(["--dir", str(run), "--resume"]) == 0, capsys.readouterr().err
    assert steps(run) == list(range(1, 31)) and (run / "classifier.keras").is_file()


# ---------------------------------------------------------------- 5b. --nonfinite skip
def test_nonfinite_skip_leaves_weights_and_optimizer_state_untouched():
    """A NaN real batch makes the critic's objective NaN: with --nonfinite skip the critics and their Adam state
    stay exactly as they were while the generators (whose objective does not see the reals) still move; without
    it the NaN reaches the critics' weights."""
    import tensorflow as tf
    nan = [tf.fill((1, 2, 32, 32, 3), float("nan"))] * 2
    for mode in ("skip", "stop"):
        t = make(preset="dcgan", nonfinite=mode)
        t._compiled_step([next(it) for it in t.iterators])  # one good step: Adam moments are non-zero
        d0, g0 = [v.numpy().copy() for v in t.d_vars], [v.numpy().copy() for v in t.g_vars]
        d_opt0 = [v.numpy().copy() for v in t.d_opt.variables]
        logs = t._compiled_step(nan)
        if mode == "skip":
            # Both critics' updates skipped (listing: D1's, then D2's; Listing 6.12), the generators' applied.
            assert len(t.d_groups) == 2 and float(logs["skipped_updates"]) == 2.0
            assert all(np.array_equal(a, v.numpy()) for a, v in zip(d0, t.d_vars))
            assert all(np.array_equal(a, v.numpy()) for a, v in zip(d_opt0, t.d_opt.variables))
            assert any(not np.array_equal(a, v.numpy()) for a, v in zip(g0, t.g_vars))
            assert float(t._compiled_step([next(it) for it in t.iterators])["skipped_updates"]) == 0.0
            assert any(not np.array_equal(a, v.numpy()) for a, v in zip(d0, t.d_vars))
        else:
            assert "skipped_updates" not in logs  # losses.csv keeps its columns without the option
            assert not all(np.isfinite(v.numpy()).all() for v in t.d_vars)


def test_nonfinite_skip_stops_after_too_many_skipped_iterations_in_a_row(tmp_path, capsys, monkeypatch):
    import trainers.loop
    monkeypatch.setattr(trainers.loop, "SKIP_PATIENCE", 3)
    run = tmp_path / "skip"
    # summed: at lr 1e6 the listing update's second Adam step on the shared generator trunk overflows the weights
    # themselves in step 1 (the finite-weights check stops that run); this case needs NaN objectives instead.
    code = main.main(["--dir", str(run), *TINY, "--iterations", "40", "--log_interval", "5", "--shared_update",
                      "summed", "--checkpoint_interval", "1", "--g_lr", "1e6", "--d_lr", "1e6", "--nonfinite", "skip"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "\n" not in err, err
    m = re.match(r"error: 3 iterations in a row up to step (\d+) had a non-finite update \(--nonfinite skip\); "
                 r"training stopped, the last good checkpoint is step (\d+)", err)
    assert m, err
    with open(run / "losses.csv") as f:
        rows = list(csv.DictReader(f))
    skipped = [float(r["skipped_updates"]) > 0 for r in rows]
    assert skipped[-3:] == [True] * 3 and len(rows) == int(m.group(1))
    assert int(m.group(2)) == latest(run) == len(rows) - 1  # checkpoints of skipped steps hold finite weights


# ---------------------------------------------------------------- 8. failed writes
def _limit_file_size(limit):
    import resource
    return lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))


def test_a_file_size_limit_is_one_line_and_keeps_the_last_good_checkpoint(six_steps, tmp_path, capsys):
    """`ulimit -f 4` (4 KiB): config.json and losses.csv fit, a sample PNG (a warning) and the checkpoint of step
    9 do not. One line names the checkpoint and the cause, exit 2; ckpt-6 stays the latest, no temp folder."""
    run = tmp_path / "run"
    shutil.copytree(six_steps, run)
    proc = subprocess.run([sys.executable, str(REPO / "main.py"), "--dir", str(run), "--resume", "--iterations", "9",
                           "--sample_interval", "1", "--checkpoint_interval", "3"], cwd=tmp_path,
                          capture_output=True, text=True, preexec_fn=_limit_file_size(4096), timeout=300)
    errors = [x for x in proc.stderr.splitlines() if x.startswith("error:")]
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    assert errors == [f"error: could not write checkpoint {run}/checkpoints/ckpt-9 (File too large): training "
                      f"stopped, the last good checkpoint is step 6"], proc.stderr
    warned = [x for x in proc.stdout.splitlines() if x.startswith("warning: could not write samples")]
    assert len(warned) == 1 and "File too large" in warned[0], proc.stdout
    assert checkpoints(run) == [3, 6] and latest(run) == 6
    assert not list((run / "checkpoints").glob("*_temp*"))
    resume(capsys, run, 9)
    assert steps(run) == list(range(1, 10)) and latest(run) == 9


def test_a_failed_sample_write_warns_once_and_the_run_ends_with_its_checkpoint(tmp_path, capsys, monkeypatch):
    import errno
    import run_folder as out_module

    def full(path, image):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    monkeypatch.setattr(out_module, "save_png", full)
    run = tmp_path / "nospace"
    assert main.main(["--dir", str(run), *TINY, "--iterations", "4", "--sample_interval", "1",
                      "--checkpoint_interval", "2"]) == 0
    out = capsys.readouterr().out
    warned = [x for x in out.splitlines() if x.startswith("warning:")]
    assert warned == [f"warning: could not write samples to {run}/samples (No space left on device); training goes "
                      f"on (checkpoints are what a resume needs)"], out
    assert latest(run) == 4 and (run / "models").is_dir()


def test_metrics_json_is_strict_json_with_nonfinite_values_as_null(tmp_path):
    import json
    path = tmp_path / "metrics.json"
    found = run_folder.write_json(path, {"a": float("nan"), "b": {"c": [1.5, float("inf")], "d": "x"}, "e": 2})

    def refuse(name):
        raise ValueError(f"bare {name} in metrics.json")

    back = json.loads(path.read_text(), parse_constant=refuse)
    assert found == ["a", "b.c[1]"]
    assert back["a"] is None and back["b"] == {"c": [1.5, None], "d": "x"} and back["e"] == 2
    assert back["non_finite"]["keys"] == ["a", "b.c[1]"] and "null" in back["non_finite"]["note"]
    run_folder.write_json(path, {"a": 1.0})
    assert json.loads(path.read_text()) == {"a": 1.0}
