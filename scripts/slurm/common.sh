# Sourced by the sbatch templates here. One function: run main.py so that a preempted or timed-out job
# checkpoints and requeues itself, and a requeued job continues where it stopped.
#
# SLURM sends the warning signal to this batch shell only (--signal=B:USR1@SECONDS): the trap forwards it to
# the training process. On preemption or scancel SLURM sends SIGTERM to every process of the job itself, so
# the shell only keeps waiting (forwarding it too would be a second signal, which stops without a checkpoint).
# Either way the training process writes a checkpoint at the current step and exits with 143 (README,
# Reproducibility). Status 143 then requeues the job (`scontrol requeue`, which needs
# #SBATCH --requeue); its next start runs the same command with --resume, which also serves the first start.
#
# Environment: PYTHON (default python), COUPLED_GAN_REPO (default $SLURM_SUBMIT_DIR, else the current folder),
# COUPLED_GAN_PORT_BASE (multinode.sbatch: the first port of the workers on a node, default 8888).
# Offline compute nodes: prepare data and weights on a login node and export TFDS_DATA_DIR (or pass
# --data_dir), LPIPS_WEIGHTS_DIR, KERAS_HOME and COUPLED_GAN_CACHE before sbatch (sbatch exports them).

REQUEUE_STATUS=143

run_training() {
  local run_dir=$1; shift
  local repo=${COUPLED_GAN_REPO:-${SLURM_SUBMIT_DIR:-$PWD}}
  cd "$repo" || return 2
  echo "[$(date -Is)] job ${SLURM_JOB_ID:-?} (restart ${SLURM_RESTART_COUNT:-0}) on $(hostname): $run_dir"
  # LAUNCH: empty for one process (train/node.sbatch), "srun ..." for one process per node (multinode.sbatch).
  ${LAUNCH:-} "${PYTHON:-python}" main.py --dir "$run_dir" --resume "$@" &
  local pid=$! status
  trap 'kill -USR1 "$pid" 2>/dev/null' USR1
  trap ':' TERM
  # `wait` returns early when a trapped signal arrives: wait again until the training process has exited.
  while true; do
    wait "$pid"; status=$?
    kill -0 "$pid" 2>/dev/null || break
  done
  trap - USR1 TERM
  if [ "$status" -eq "$REQUEUE_STATUS" ] && [ -n "${SLURM_JOB_ID:-}" ]; then
    echo "[$(date -Is)] checkpoint written; requeueing job $SLURM_JOB_ID"
    scontrol requeue "$SLURM_JOB_ID"
  fi
  return "$status"
}
