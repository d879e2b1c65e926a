#!/bin/bash
# Queue every experiment of LIST as one array job and the report after it (it runs once all tasks ended).
#   bash scripts/slurm/submit_experiments.sh LIST RUNS [main.py options for every task...]
set -eu
list=${1:?usage: submit_experiments.sh LIST RUNS [options]}
runs=${2:?usage: submit_experiments.sh LIST RUNS [options]}
shift 2
here=$(cd "$(dirname "$0")" && pwd)
n=$(grep -cv '^[[:space:]]*\(#\|$\)' "$list")
[ "$n" -gt 0 ] || { echo "no experiment names in $list" >&2; exit 2; }
array=$(sbatch --parsable --array=0-$((n - 1)) "$here/experiments.sbatch" "$list" "$runs" "$@")
array=${array%%;*}
report=$(sbatch --parsable --dependency=afterany:"$array" "$here/report.sbatch" "$runs")
echo "experiments: array job $array ($n tasks); report: job ${report%%;*} -> $runs/report.md"
