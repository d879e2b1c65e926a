#!/bin/bash
# Queue every experiment of LIST as one array job and the report after it (it runs once all tasks ended).
#   bash scripts/slurm/submit_experiments.sh LIST RUNS [--seeds N] [main.py options for every task...]
# --seeds N: each experiment with seeds 0..N-1 (RUNS/<name>_seed<S>); the report averages them per experiment.
set -eu
list=${1:?usage: submit_experiments.sh LIST RUNS [options]}
runs=${2:?usage: submit_experiments.sh LIST RUNS [options]}
shift 2
seeds=1
if [ "${1:-}" = "--seeds" ]; then seeds=${2:?--seeds N}; shift 2; fi
case $seeds in ''|*[!0-9]*|0) echo "--seeds takes a positive number (got '$seeds')" >&2; exit 2;; esac
here=$(cd "$(dirname "$0")" && pwd)
n=$(grep -cv '^[[:space:]]*\(#\|$\)' "$list")
[ "$n" -gt 0 ] || { echo "no experiment names in $list" >&2; exit 2; }
array=$(sbatch --parsable --array=0-$((n * seeds - 1)) "$here/experiments.sbatch" "$list" "$runs" --seeds "$seeds" "$@")
array=${array%%;*}
report=$(sbatch --parsable --dependency=afterany:"$array" "$here/report.sbatch" "$runs")
echo "experiments: array job $array ($((n * seeds)) tasks: $n experiments x $seeds seeds); report: job ${report%%;*} -> $runs/report.md"
