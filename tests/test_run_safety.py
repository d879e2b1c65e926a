"""Issue 22: one writer per run folder (a lock the OS releases), no hang on a FIFO, one line for an OSError and a
malformed metrics.json, atomic product files and the final models a resume finishes, stop signals from start-up to
exit, and sizes refused up front. Every case goes through the command line (`main.main`, or a real process)."""
import csv
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import main
import run_folder
from translation_helpers import h5_arrays

REPO = Path(__file__).resolve().parents[1]
FAST = ["--iterations", "3", "--batch_size", "4", "--log_interval", "1", "--sample_interval", "2",
        "--checkpoint_interval", "2", "--sample_rows", "1", "--sample_cols", "2", "--no_final_eval"]


def steps(run_dir):
    with open(Path(run_dir) / "losses.csv") as f:
        return [int(r["step"]) for r in csv.DictReader(f)]


def exits(capsys, code, *argv):
    """main.main(argv) returns `code` with one line on stderr (starting "error: " for status 2); -> that line."""
    try:
        got = main.main([str(a) for a in argv])
    except SystemExit as e:
        got = e.code
    err = capsys.readouterr().err.strip()
    assert got == code, err
    assert err and "\n" not in err and "Traceback" not in err, err
    if code == 2:
        assert err.startswith("error: "), err
    return err


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A finished tiny cogan run (digits2edge, 3 steps)."""
    run = tmp_path_factory.mktemp("trained") / "run"
    assert main.main(["--dir", str(run), *FAST]) == 0
    return run


HOLD = ("import sys, time; sys.path.insert(0, {repo!r}); import run_folder; run_folder.lock_run_dir({run!r}); "
        "print('locked', flush=True); time.sleep(600)")


@pytest.fixture
def holder(trained):
    """A real process holding `trained`'s lock (it never releases it: kill -9 ends it)."""
    proc = subprocess.Popen([sys.executable, "-c", HOLD.format(repo=str(REPO), run=str(trained))],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "locked"
    yield proc
    proc.kill()
    proc.wait(30)
    proc.stdout.close()


# ---------------------------------------------------------------------------------------------- 1. the lock
def test_a_second_writer_of_a_run_is_refused_and_the_first_finishes(tmp_path):
    """Two real `--dir D --resume` processes (a requeue while the old job runs): the second exits 2 with one line
    naming the first (pid, host, since when); the first trains on and losses.csv has one row per step."""
    run = tmp_path / "run"
    cmd = [sys.executable, str(REPO / "main.py"), "--dir", str(run), "--resume", *FAST, "--iterations", "12",
           "--checkpoint_interval", "4"]
    first = subprocess.Popen(cmd, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lock = run / run_folder.LOCK_FILE
    t0 = time.time()
    while not (lock.is_file() and f'"pid": {first.pid}' in lock.read_text()):
        assert first.poll() is None, first.stdout.read()
        assert time.time() - t0 < 120, "the first run never took the lock"
        time.sleep(0.02)
    second = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    still_running = first.poll() is None
    out, _ = first.communicate(timeout=600)
    assert first.returncode == 0, out
    assert still_running, "the first run ended before the second tried: the test proves nothing"
    assert second.returncode == 2, second.stderr
    ours = [line for line in second.stderr.splitlines() if "port.cc" not in line and "absl::" not in line]
    assert len(ours) == 1 and ours[0].startswith("error: "), second.stderr  # (TensorFlow's start-up notes aside)
    err = ours[0]
    assert f"process {first.pid} on {socket.gethostname()} (since " in err, err
    assert "training" not in second.stdout  # it stopped before loading or training anything
    assert steps(run) == list(range(1, 13))
    assert not lock.exists()  # a finished run folder holds the run only


def test_the_lock_dies_with_its_process_and_guards_evaluate_and_sample_into_the_run(trained, holder, tmp_path,
                                                                                     capsys):
    """While another process holds the run: --evaluate and --sample into the run are refused naming it; --sample
    elsewhere and --report read without a lock. After kill -9 of the holder nothing stale is left."""
    says = f"is being written by process {holder.pid} on {socket.gethostname()}"
    assert says in exits(capsys, 2, "--evaluate", trained, "--num", "4")
    assert says in exits(capsys, 2, "--sample", trained, "--num", "2", "--out", trained / "pairs.npz")
    assert not (trained / "pairs.npz").exists()
    assert main.main(["--sample", str(trained), "--num", "2", "--out", str(tmp_path / "pairs.npz")]) == 0
    assert np.load(tmp_path / "pairs.npz")["a"].shape[0] == 2
    holder.kill()  # kill -9: no chance to clean up
    holder.wait(30)
    assert (trained / run_folder.LOCK_FILE).exists()  # the file stays, the lock does not
    assert main.main(["--sample", str(trained), "--num", "2", "--out", str(trained / "pairs.npz")]) == 0
    assert not (trained / run_folder.LOCK_FILE).exists()
    (trained / "pairs.npz").unlink()


# ---------------------------------------------------------------------------------------------- 4. a FIFO
def test_a_fifo_in_an_image_folder_is_skipped_as_unreadable_not_read(tmp_path):
    folder = tmp_path / "imgs"
    folder.mkdir()
    rng = np.random.RandomState(0)
    for i in range(6):
        Image.fromarray(rng.randint(0, 255, (12, 12, 3), dtype=np.uint8)).save(folder / f"{i}.png")
    os.mkfifo(folder / "pipe.png")  # nothing ever writes it: reading it blocks forever
    p = subprocess.run([sys.executable, str(REPO / "main.py"), "--gan_type", "gan", "--domain_a", str(folder),
                        "--dir", str(tmp_path / "run"), *FAST, "--iterations", "1"],
                       cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "warning: skipped 1 unreadable file(s) in the image folders" in p.stdout


# ---------------------------------------------------------------------------------------------- 3. one line per OSError
def test_run_folder_and_outputs_that_cannot_be_made_are_one_line(trained, tmp_path, capsys):
    (tmp_path / "file").write_text("x")
    err = exits(capsys, 2, "--dir", tmp_path / "file" / "run", *FAST)
    assert f"{tmp_path / 'file' / 'run'}" in err and "Not a directory" in err
    # /proc refuses new files even to root: a read-only output folder wherever the tests run.
    err = exits(capsys, 2, "--sample", trained, "--num", "2", "--out", "/proc/pairs.npz")
    assert err.startswith("error: could not write /proc/pairs.npz (")
    err = exits(capsys, 2, "--sample", trained, "--num", "2", "--out", "/proc/no/such/pairs.npz")
    assert err.startswith("error: /proc/no")  # the generic guard in main: the path and the cause
    assert not list(Path("/proc").glob(".pairs.tmp*"))


def _toy_run(tmp_path, name="toy"):
    """A copy of an evaluated toy-ring run's config.json and metrics.json (what --report reads): those of
    gan_toy_k5 seed 2 (results/toy), kept in tests/data/toy_run."""
    src = REPO / "tests" / "data" / "toy_run"
    run = tmp_path / name
    run.mkdir()
    for f in ("config.json", "metrics.json"):
        shutil.copy(src / f, run / f)
    return run


@pytest.mark.parametrize("change, says", [
    (lambda m: m.update(step="12"), '"step" must be an integer or null (got "12")'),
    (lambda m: m.update(step=2.5), '"step" must be an integer or null (got 2.5)'),
    (lambda m: m.update(modes="all"), '"modes" must be an object (got "all")'),
    (lambda m: m["modes"].update(covered=[1, 2]), '"modes.covered" must be an integer (got [1, 2])'),
    (lambda m: m["modes"].update(high_quality="x"), '"modes.high_quality" must be a number (got "x")'),
    (lambda m: m["modes"].pop("definition"), '"modes.definition" is missing'),
    (lambda m: m.update(lpips={"net": ["alex"], "rows": {}}), '"lpips.net" must be a string or null (got ["alex"])'),
    (lambda m: m.update(lpips={"net": "alex", "rows": {"gen1_vs_gen2": {"mean": "0.3"}}}),
     '"lpips.rows.gen1_vs_gen2.mean" must be a number or null (got "0.3")'),
    (lambda m: m.update(frechet={"name": "FID", "domain1": {}}), '"frechet.domain1" must be a number or null (got {})'),
])
def test_report_over_a_malformed_metrics_json_is_one_line_naming_the_key(tmp_path, capsys, change, says):
    run = _toy_run(tmp_path)
    assert main.main(["--report", str(run)]) == 0  # the file as evaluate wrote it reads
    assert "Modes covered" in capsys.readouterr().out
    metrics = json.loads((run / "metrics.json").read_text())
    change(metrics)
    (run / "metrics.json").write_text(json.dumps(metrics))
    assert exits(capsys, 2, "--report", run) == f"error: {run / 'metrics.json'}: {says}"


def test_report_out_is_written_atomically_and_a_failed_write_is_one_line(tmp_path, capsys, monkeypatch):
    run = _toy_run(tmp_path)
    out = tmp_path / "report.md"
    import report

    def full_disk(path, *args):
        Path(path).write_text("half a row")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(report, "write_csv", full_disk)
    err = exits(capsys, 2, "--report", run, "--out", out)
    assert err == f"error: could not write {tmp_path / 'report.csv'} (No space left on device)"
    assert not (tmp_path / "report.csv").exists()  # no half a CSV under its name, no temporary file left
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.md", "toy"]


# ---------------------------------------------------------------------------------------------- 6. atomic models, resume
def test_a_failed_models_write_leaves_no_truncated_file_and_the_resume_writes_the_final_weights(
        trained, tmp_path, capsys, monkeypatch):
    """A kill (or a full disk) after the final checkpoint, before models/ is whole: the resume that has nothing
    to train writes the final weights, the same as a finished run wrote them."""
    run = tmp_path / "run"
    shutil.copytree(trained, run)
    final = {p.name: h5_arrays(p) for p in sorted((run / "models").iterdir())}
    assert len(final) == 4  # G1, G2, D1, D2
    shutil.rmtree(run / "models")
    import keras
    real_save = keras.Model.save_weights
    calls = []

    def disk_full_at_the_second(self, path, *a, **k):
        calls.append(path)
        if len(calls) == 2:
            Path(path).write_bytes(b"\x89HDF truncated")
            raise OSError(28, "No space left on device")
        return real_save(self, path, *a, **k)

    monkeypatch.setattr(keras.Model, "save_weights", disk_full_at_the_second)
    err = exits(capsys, 2, "--dir", run, "--resume")
    assert "could not write" in err and "No space left on device" in err
    # G1 was written; G2's truncated file is not there under its name, nor its temporary file.
    assert sorted(p.name for p in (run / "models").iterdir()) == ["G1.weights.h5"]
    monkeypatch.setattr(keras.Model, "save_weights", real_save)
    assert main.main(["--dir", str(run), "--resume"]) == 0
    assert "the run lacked them" in capsys.readouterr().out
    again = {p.name: h5_arrays(p) for p in sorted((run / "models").iterdir())}
    assert again.keys() == final.keys()
    for name in final:
        assert final[name].keys() == again[name].keys()
        for key in final[name]:
            np.testing.assert_array_equal(again[name][key], final[name][key], err_msg=f"{name}/{key}")


# ---------------------------------------------------------------------------------------------- 6. signals
def _kill_self(name):
    def hook(*a, **k):
        os.kill(os.getpid(), getattr(signal, name))
        time.sleep(5)  # the handler runs here
        raise AssertionError(f"{name} was not handled")
    return hook


@pytest.mark.parametrize("name", ["SIGUSR1", "SIGTERM"])
def test_a_stop_signal_while_loading_data_exits_143_and_leaves_no_run(tmp_path, capsys, monkeypatch, name):
    monkeypatch.setattr(main, "load_data", _kill_self(name))
    err = exits(capsys, 143, "--dir", tmp_path / "run", *FAST)
    assert err.startswith(f"stopped by {name}: ")
    assert not (tmp_path / "run").exists()  # nothing was written: the folder made for the lock is gone
    assert signal.getsignal(getattr(signal, name)) is not main._raise_stop  # the handlers are put back


def test_sigusr1_during_the_final_evaluation_exits_143_after_a_complete_run(tmp_path, capsys, monkeypatch):
    import evaluation
    monkeypatch.setattr(evaluation, "evaluate_after_training", _kill_self("SIGUSR1"))
    err = exits(capsys, 143, "--dir", tmp_path / "run", *FAST)
    assert err.startswith("stopped by SIGUSR1: ")
    assert steps(tmp_path / "run") == [1, 2, 3] and len(list((tmp_path / "run" / "models").iterdir())) == 4


def test_sigterm_during_sample_leaves_no_npz_and_the_rerun_writes_it(trained, tmp_path, capsys, monkeypatch):
    import sampling
    real = sampling.sample_pairs
    monkeypatch.setattr(sampling, "sample_pairs", _kill_self("SIGTERM"))
    out = tmp_path / "pairs.npz"
    assert exits(capsys, 143, "--sample", trained, "--num", "3", "--out", out).startswith("stopped by SIGTERM")
    assert not out.exists() and list(tmp_path.iterdir()) == []
    monkeypatch.setattr(sampling, "sample_pairs", real)
    assert main.main(["--sample", str(trained), "--num", "3", "--out", str(out)]) == 0  # not refused as existing
    assert np.load(out)["b"].shape[0] == 3


def test_a_second_sigterm_in_training_says_so(tmp_path, capsys, logged):
    def twice(message):
        if message.startswith("[1/"):
            os.kill(os.getpid(), signal.SIGTERM)
            os.kill(os.getpid(), signal.SIGTERM)
    logged.on_message = twice
    code = main.main(["--dir", str(tmp_path / "run"), *FAST, "--iterations", "50", "--log_interval", "1"])
    assert code == 143
    assert any(m.startswith("stopped by a second SIGTERM before this step's checkpoint was written")
               for m in logged.messages), logged.messages


# ---------------------------------------------------------------------------------------------- 7. sizes up front
def test_sizes_that_cannot_fit_are_refused_up_front(trained, tmp_path, capsys, monkeypatch):
    gib = 2 ** 30
    monkeypatch.setattr(run_folder, "available_memory", lambda: 16 * gib)
    # 100000 images of 32x32x3 in two domains, each kept at least 4 times with the first layer's 4096 values:
    # 4 bytes * 100000 * 2 * (3072 + 4 * (4096 + 3072)) = 25.4 GB > 16 GiB.
    err = exits(capsys, 2, "--dir", tmp_path / "big", *FAST, "--batch_size", "100000")
    assert "--batch_size 100000 with --noise_dim 100 needs at least" in err and "16.0 GiB is available" in err
    err = exits(capsys, 2, "--dir", tmp_path / "big", *FAST, "--noise_dim", "100000000")
    assert "--noise_dim" in err  # a declared range (config.py) may refuse it before the memory check does
    assert not (tmp_path / "big").exists()
    assert main.training_memory(main.parse_config(["--batch_size", "8192"], main._data_defaults)) < 16 * gib
    err = exits(capsys, 2, "--sample", trained, "--num", "1000000000000", "--out", tmp_path / "p.npz")
    assert "--num 1,000,000,000,000 needs at least" in err
    assert "--seed must be in [0, 2**32) (got -1)" in exits(capsys, 2, "--sample", trained, "--num", "2", "--seed",
                                                            "-1", "--out", tmp_path / "p.npz")
    assert list(tmp_path.iterdir()) == []
