"""scripts/slurm: every template parses (bash -n), and their commands run as a job would run them, with the
SLURM variables faked and `scontrol` / `sbatch` replaced by recorders: a warning signal checkpoints and
requeues, the requeued job finishes the run, an array task trains its experiment, the submit script queues
the array and the report after it."""
import csv
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SLURM = REPO / "scripts" / "slurm"
TINY = ["--preset", "dcgan", "--batch_size", "4", "--sample_rows", "1", "--sample_cols", "2", "--no_final_eval",
        "--log_interval", "1"]


@pytest.mark.parametrize("script", sorted(p.name for p in SLURM.iterdir()))
def test_templates_parse(script):
    assert subprocess.run(["bash", "-n", str(SLURM / script)]).returncode == 0


def fake_slurm(tmp_path, **env):
    """An environment as a job sees it, with recording `scontrol` and `sbatch` first on PATH."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    for tool, reply in (("scontrol", ""), ("sbatch", "echo 4242")):
        (bin_dir / tool).write_text(f'#!/bin/bash\necho "$*" >> "{tmp_path}/{tool}.calls"\n{reply}\n')
        (bin_dir / tool).chmod(0o755)
    return {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "PYTHON": sys.executable,
            "SLURM_SUBMIT_DIR": str(REPO), "SLURM_JOB_ID": "777", **env}


def steps(run_dir):
    with open(run_dir / "losses.csv") as f:
        return [int(r["step"]) for r in csv.DictReader(f)]


def test_train_template_checkpoints_and_requeues_on_the_warning_signal_then_finishes(tmp_path):
    run = tmp_path / "run"
    env = fake_slurm(tmp_path)
    argv = ["bash", str(SLURM / "train.sbatch"), str(run), "--iterations", "400", *TINY]
    job = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    t0 = time.time()
    while not ((run / "losses.csv").is_file() and len((run / "losses.csv").read_text().splitlines()) > 3):
        assert job.poll() is None and time.time() - t0 < 180, job.stdout.read()
        time.sleep(0.05)
    job.send_signal(signal.SIGUSR1)  # --signal=B:USR1@180: to the batch shell only
    out, _ = job.communicate(timeout=120)
    assert job.returncode == 143, out
    assert (tmp_path / "scontrol.calls").read_text().split("\n")[0] == "requeue 777"
    n = steps(run)[-1]
    assert 3 <= n < 400 and f"stopped by SIGUSR1 at step {n}" in out
    # The requeued job: the same command, now with a shorter schedule to finish quickly.
    again = subprocess.run(["bash", str(SLURM / "train.sbatch"), str(run), "--iterations", str(n + 2), *TINY],
                           env=fake_slurm(tmp_path, SLURM_RESTART_COUNT="1"), capture_output=True, text=True,
                           timeout=300)
    assert again.returncode == 0, again.stdout + again.stderr
    assert steps(run) == list(range(1, n + 3))
    assert len((tmp_path / "scontrol.calls").read_text().split()) == 2  # no second requeue


def test_node_template_trains_on_every_device_of_the_node(tmp_path):
    """node.sbatch adds --strategy mirrored; here the node's devices are two logical CPUs (--cpu_replicas 2)."""
    run = tmp_path / "run"
    out = subprocess.run(["bash", str(SLURM / "node.sbatch"), str(run), "--iterations", "2", "--cpu_replicas", "2",
                          *TINY], env=fake_slurm(tmp_path), capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "--strategy mirrored: 2 replicas, 2 images each per batch" in out.stdout
    assert steps(run) == [1, 2]


FAKE_SRUN = r"""#!/bin/bash
# srun on one machine: the command as $FAKE_SRUN_TASKS tasks with the variables of a job step on localhost.
while [[ "$1" == --* ]]; do shift; done
n=${FAKE_SRUN_TASKS:-2}
pids=()
for ((i = 0; i < n; i++)); do
  SLURM_PROCID=$i SLURM_LOCALID=$i SLURM_STEP_NUM_TASKS=$n SLURM_STEP_NODELIST=localhost \
  SLURM_STEP_TASKS_PER_NODE=$n "$@" &
  pids+=($!)
done
trap 'kill -USR1 "${pids[@]}"' USR1
status=0
for p in "${pids[@]}"; do
  while true; do wait "$p"; s=$?; kill -0 "$p" 2>/dev/null || break; done
  if [ "$s" -gt "$status" ]; then status=$s; fi
done
exit $status
"""


def test_multinode_template_trains_one_worker_per_task_with_the_cluster_from_slurm(tmp_path):
    """multinode.sbatch: `srun` starts one `--strategy multiworker` process per task (faked: two on localhost, the
    SLURM step variables set, no TF_CONFIG), SlurmClusterResolver builds the cluster, the chief writes the run."""
    import socket
    with socket.socket() as sock:  # a free port for the cluster (two consecutive from it)
        sock.bind(("localhost", 0))
        port = sock.getsockname()[1]
    env = fake_slurm(tmp_path, FAKE_SRUN_TASKS="2", COUPLED_GAN_PORT_BASE=str(port))
    srun = Path(env["PATH"].split(":")[0]) / "srun"
    srun.write_text(FAKE_SRUN)
    srun.chmod(0o755)
    env.pop("TF_CONFIG", None)
    run = tmp_path / "run"
    out = subprocess.run(["bash", str(SLURM / "multinode.sbatch"), str(run), "--iterations", "2", *TINY],
                         env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    assert out.stdout.count("--strategy multiworker: 2 replicas, 2 images each per batch") == 2
    assert steps(run) == [1, 2] and (run / "checkpoints" / "ckpt-2.index").is_file()


def test_array_task_trains_its_experiment_and_submit_queues_the_report_after_the_array(tmp_path):
    names = tmp_path / "list.txt"
    names.write_text("# two of the thesis's experiments\ngan_toy_k1\n\ncogan_mnist2edge\n")
    runs = tmp_path / "runs"
    # Task 1 = cogan_mnist2edge, on the offline digits (an option given to every task overrides the experiment).
    task = subprocess.run(["bash", str(SLURM / "experiments.sbatch"), str(names), str(runs), "--cogan_data",
                           "digits2edge", "--iterations", "2", *TINY],
                          env=fake_slurm(tmp_path, SLURM_ARRAY_TASK_ID="1"), capture_output=True, text=True,
                          timeout=300)
    assert task.returncode == 0, task.stdout + task.stderr
    run = runs / "cogan_mnist2edge"
    assert steps(run) == [1, 2] and '"experiment": "cogan_mnist2edge"' in (run / "config.json").read_text()
    sub = subprocess.run(["bash", str(SLURM / "submit_experiments.sh"), str(names), str(runs), "--iterations", "2"],
                         env=fake_slurm(tmp_path), capture_output=True, text=True, timeout=60)
    assert sub.returncode == 0, sub.stderr
    calls = (tmp_path / "sbatch.calls").read_text().splitlines()
    assert calls[0].startswith(f"--parsable --array=0-1 {SLURM / 'experiments.sbatch'} {names} {runs} --seeds 1")
    assert calls[1] == f"--parsable --dependency=afterany:4242 {SLURM / 'report.sbatch'} {runs}"


def test_array_over_seeds_trains_experiment_i_over_n_with_seed_i_mod_n(tmp_path):
    """--seeds 3 over two experiments: six tasks; task 4 trains the second experiment with seed 1."""
    names, runs = tmp_path / "names.txt", tmp_path / "runs"
    names.write_text("gan_toy_k1\ncogan_mnist2edge\n")
    sub = subprocess.run(["bash", str(SLURM / "submit_experiments.sh"), str(names), str(runs), "--seeds", "3"],
                         env=fake_slurm(tmp_path), capture_output=True, text=True, timeout=60)
    assert sub.returncode == 0, sub.stderr
    assert (tmp_path / "sbatch.calls").read_text().splitlines()[0].startswith(
        f"--parsable --array=0-5 {SLURM / 'experiments.sbatch'} {names} {runs} --seeds 3")
    task = subprocess.run(["bash", str(SLURM / "experiments.sbatch"), str(names), str(runs), "--seeds", "3",
                           "--cogan_data", "digits2edge", "--iterations", "2", *TINY],
                          env=fake_slurm(tmp_path, SLURM_ARRAY_TASK_ID="4"), capture_output=True, text=True,
                          timeout=300)
    assert task.returncode == 0, task.stdout + task.stderr
    saved = (runs / "cogan_mnist2edge_seed1" / "config.json").read_text()
    assert '"experiment": "cogan_mnist2edge"' in saved and '"seed": 1' in saved
    bad = subprocess.run(["bash", str(SLURM / "submit_experiments.sh"), str(names), str(runs), "--seeds", "x"],
                         env=fake_slurm(tmp_path), capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "--seeds" in bad.stderr
