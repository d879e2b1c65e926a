"""--strategy mirrored --cpu_replicas 2 (issue 12): a replicated run computes what one device computes on the same
global batch; the options it refuses; the CLI on two logical CPUs. Each check runs in a fresh process, because
the CPU has to be split before TensorFlow starts (tests/replicas_check.py)."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from config import Config, ConfigError, resolve

HERE = Path(__file__).parent
ROOT = HERE.parent


def _check(*cases):
    out = subprocess.run([sys.executable, str(HERE / "replicas_check.py"), *cases], capture_output=True, text=True,
                         timeout=1200, cwd=ROOT)
    assert out.returncode == 0, out.stderr[-3000:]
    return {r["case"]: r for r in map(json.loads, [line for line in out.stdout.splitlines() if line.startswith("{")])}


@pytest.fixture(scope="module")
def replicated():
    return _check("cogan", "scogan_all", "clip")


@pytest.mark.parametrize("case, terms", [
    ("cogan", {"d_loss_1", "g_loss_2"}),  # BatchNorm in both nets (synchronised), shared layers
    ("scogan_all", {"d_gp_1", "fr", "sl", "cc", "pl_content", "pl_style_2"}),  # WGAN-GP, every regulariser
    ("clip", {"d_loss_1"}),  # weight clipping: a constraint applied in cross-replica context
])
def test_two_replicas_equal_one_device_on_the_same_global_batch(replicated, case, terms):
    """Two iterations from the same weights, data and noise, dropout off, plain SGD (an update linear in the
    gradient: a loss not divided by the replicas, summed twice, would move the weights twice as far): every logged
    term to 1e-3 (relative) and every variable -- weights, BatchNorm statistics, the CC encoder -- to 1e-2 of how
    far that variable moved, plus one float32 rounding (replicas_check.worst_variable), after each iteration: a
    doubled or a missing update of any one variable is 1 on this scale; float32 reductions of another order measured
    up to 8e-4 (a gradient entry's rounding scales with the terms summed into it, not with the entry).
    scogan_all after its second iteration: 0.25, because there single variables (G2's, once D1's conv2) differ by
    0.3-4% of their own move, varying from run to run, although every variable agreed to 2e-6 after the first; the
    cause is not known (issue-19 report); the comparison with the largest move of any variable used before hid it."""
    r = replicated[case]
    assert terms <= set(r["terms"]) and r["step"] == 2
    assert r["log_rel_diff"] < 1e-3, r
    assert r["weights_moved"] > 1e-3, r
    first, second = r["worst_variable"]
    assert first[0] < 1e-2, first
    assert second[0] < (0.25 if case == "scogan_all" else 1e-2), second


@pytest.mark.parametrize("flags, message", [
    (dict(cpu_replicas=2), "add --strategy mirrored"),
    (dict(strategy="mirrored", nonfinite="skip"), "--nonfinite skip is not available"),
    (dict(strategy="mirrored", mixed_precision="fp16"), "--mixed_precision fp16 is not available"),
    (dict(strategy="multiworker"), "--strategy multiworker needs --dir"),
    (dict(strategy="mirrored", cpu_replicas=0), "--cpu_replicas must be at least 1"),
])
def test_refused_combinations(flags, message):
    with pytest.raises(ConfigError, match=message):
        resolve(Config(gan_type="cogan", cogan_data="synthetic", **flags), lambda c: 32)


def _main(tmp_path, *flags):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    return subprocess.run([sys.executable, str(ROOT / "main.py"), "--cogan_data", "digits2edge", "--dir",
                           str(tmp_path / "run"), "--iterations", "2", "--batch_size", "6", "--log_interval", "1",
                           "--checkpoint_interval", "1", "--sample_interval", "2", "--preset", "dcgan",
                           "--no_final_eval", "--sample_rows", "1", "--sample_cols", "2", *flags],
                          capture_output=True, text=True, timeout=600, cwd=ROOT, env=env)


def test_cli_trains_resumes_and_records_the_strategy_on_two_logical_cpus(tmp_path):
    out = _main(tmp_path, "--strategy", "mirrored", "--cpu_replicas", "2")
    assert out.returncode == 0, out.stderr[-3000:]
    assert "2 replicas, 3 images each per batch" in out.stdout
    run = tmp_path / "run"
    assert (run / "checkpoints" / "ckpt-2.index").is_file() and (run / "samples" / "step_0000002.png").is_file()
    provenance = json.loads((run / "provenance.json").read_text())
    assert provenance["invocations"][-1]["strategy"] == "mirrored, 2 replicas"
    assert any("CPU:1" in d for d in provenance["invocations"][-1]["devices"])
    again = _main(tmp_path, "--strategy", "mirrored", "--cpu_replicas", "2", "--resume", "--iterations", "3")
    assert again.returncode == 0, again.stderr[-3000:]
    assert "from step 2 to 3" in again.stdout and "[3/3]" in again.stdout


def test_cli_global_batch_must_split_over_the_replicas(tmp_path):
    out = _main(tmp_path, "--strategy", "mirrored", "--cpu_replicas", "4", "--batch_size", "6")
    assert out.returncode == 2
    assert out.stderr.strip().splitlines()[-1] == ("error: --batch_size 6 is the global batch: it must split "
                                                   "evenly over the 4 replicas of --strategy mirrored")
    assert not (tmp_path / "run").exists()


def _free_ports(n):
    import socket
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("localhost", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def _start_workers(tmp_path, *flags):
    """Two `--strategy multiworker` processes on localhost (TF_CONFIG), one CPU device each."""
    cluster = {"worker": [f"localhost:{p}" for p in _free_ports(2)]}
    procs = []
    for i in range(2):
        env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2",
                   TF_CONFIG=json.dumps({"cluster": cluster, "task": {"type": "worker", "index": i}}))
        procs.append(subprocess.Popen(
            [sys.executable, str(ROOT / "main.py"), "--cogan_data", "digits2edge", "--dir", str(tmp_path / "run"),
             "--batch_size", "4", "--log_interval", "1", "--checkpoint_interval", "1", "--sample_interval", "2",
             "--preset", "dcgan", "--no_final_eval", "--strategy", "multiworker", *flags],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT, env=env))
    return procs


def _finish(procs):
    """[(exit status, stdout, stderr)] of each worker."""
    outs = []
    for p in procs:
        try:
            out, err = p.communicate(timeout=600)
        except subprocess.TimeoutExpired:
            for q in procs:
                q.kill()
            raise
        outs.append((p.returncode, out, err))
    return outs


def _workers(tmp_path, *flags):
    return _finish(_start_workers(tmp_path, *flags))


def _steps(run):
    with open(run / "losses.csv") as f:
        return [int(line.split(",")[0]) for line in f.read().splitlines()[1:]]


def test_two_workers_train_stop_together_on_a_signal_to_one_and_resume(tmp_path):
    """TF_CONFIG with two workers on localhost: both train the same steps (each collective needs both), worker 0
    (the chief) alone writes the run folder. SIGUSR1 to the non-chief worker only: the workers agree on the step
    (one all-reduce per step), the chief checkpoints it and both exit 143 (the status the SLURM templates requeue
    on); a second start of both with --resume continues from the chief's checkpoint."""
    import signal
    import time
    procs = _start_workers(tmp_path, "--iterations", "400")
    run = tmp_path / "run"
    t0 = time.time()
    while not ((run / "losses.csv").is_file() and len(_steps(run)) >= 3):
        assert all(p.poll() is None for p in procs) and time.time() - t0 < 300
        time.sleep(0.05)
    procs[1].send_signal(signal.SIGUSR1)
    (rc0, out0, err0), (rc1, out1, err1) = _finish(procs)
    assert (rc0, rc1) == (143, 143), err0[-2000:] + err1[-2000:]
    n = _steps(run)[-1]
    assert 3 <= n < 400 and (run / "checkpoints" / f"ckpt-{n}.index").is_file()
    assert f"stopped by SIGTERM at step {n}" in out0 and f"stopped by SIGUSR1 at step {n}" in out1
    assert "--strategy multiworker: 2 replicas, 2 images each per batch" in out0
    assert (run / "samples" / "step_0000002.png").is_file()
    assert json.loads((run / "provenance.json").read_text())["invocations"][-1]["strategy"] == \
        "multiworker, 2 replicas"
    again = _workers(tmp_path, "--iterations", str(n + 1), "--resume")
    for rc, out, err in again:
        assert rc == 0, err[-3000:]
        assert f"from step {n} to {n + 1}" in out  # both restored the chief's checkpoint
    assert _steps(run) == list(range(1, n + 2))
    assert not list(run.glob("coupled_gan_worker_*"))
