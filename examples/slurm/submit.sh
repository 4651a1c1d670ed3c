#!/bin/bash
# Submits an N-task evaluation array and the merge that waits for it; options after N go to the array's sbatch
# (they override the #SBATCH lines), e.g. smaller tasks:
#   MODEL=checkpoints/mluke-base DATA=../shared/datasets/mlama examples/slurm/submit.sh 16
#   MODEL=... DATA=... examples/slurm/submit.sh 4 --cpus-per-task=2 --mem=2G --time=1:00:00
# Logs go to logs/ under the current directory, as do results unless OUT and MERGED say otherwise.
set -euo pipefail
N=${1:-16}
shift || true
here=$(dirname "$0")
mkdir -p logs
array=$(sbatch --parsable --array=0-$((N - 1)) --export=ALL "$@" "$here/evaluate.sbatch")
merge=$(sbatch --parsable --dependency=afterok:"$array" --export=ALL "$here/merge.sbatch")
echo "submitted array $array ($N shards) and its merge $merge"
