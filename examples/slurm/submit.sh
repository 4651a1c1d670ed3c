#!/bin/bash
# Submits an N-task evaluation array and the merge that waits for it:
#   MODEL=checkpoints/mluke-base DATA=../shared/datasets/mlama examples/slurm/submit.sh 16
set -euo pipefail
N=${1:-16}
mkdir -p logs
array=$(sbatch --parsable --array=0-$((N - 1)) --export=ALL examples/slurm/evaluate.sbatch)
sbatch --dependency=afterok:"$array" --export=ALL examples/slurm/merge.sbatch
echo "submitted array $array ($N shards) and its merge"
