#!/usr/bin/env bash
# Fold a large FASTA file on a SLURM cluster as a job array: one array task per shard.
#
#   sbatch --array=0-31 examples/slurm_array.sh sequences.fa.gz results/
#
# Each task folds every N-th record of the input (N = number of array tasks): `rnapredict fold`
# reads its shard from SLURM_ARRAY_TASK_ID / SLURM_ARRAY_TASK_COUNT (and ..._MIN / ..._STEP), so
# `--array=0-31`, `--array=1-32` and `--array=0-62:2` all give shards 1/32 … 32/32. All tasks
# write into the same OUT directory: one folder per record, and OUT/summary.tsv, which every
# task merges its rows into under a file lock (input order, one row per record).
#
# Resubmitting the same command after a crash, a time limit or a node failure is safe: with
# --resume every finished record is kept (a record is finished once its confidence.json is
# written) and only the rest is folded. Records that failed (bad characters, too long, out of
# memory) have OUT/<id>/error.txt and a `failed` row; they are retried on resubmission.
#
# Exit codes per task: 0 all records ok, 3 some records failed (see summary.tsv), 2 usage error
# (bad option, unreadable input, output exists without --resume) before any folding.
#
# Tune below: CPUs and memory per task, time limit, and the fold options. `rnapredict fold`
# uses the task's CPUs by itself (SLURM_CPUS_PER_TASK): --jobs N folds N records at a time in
# worker processes sharing them, which folds more records per hour than one record on several
# threads (bench/throughput.py: much of a fold is single-threaded). Give each job its share of
# --mem: every worker holds one record and the model. A record estimated
# to need more memory than the job has (see --max-memory; default: what the job's cgroup
# allows) is refused with a clear message instead of the task being OOM-killed.

#SBATCH --job-name=rnapredict
#SBATCH --cpus-per-task=2
#SBATCH --mem=8G
#SBATCH --time=12:00:00
#SBATCH --output=slurm-%A_%a.out
#SBATCH --error=slurm-%A_%a.err

set -euo pipefail

INPUT=${1:?usage: sbatch --array=0-N examples/slurm_array.sh INPUT.fa[.gz] OUT_DIR [fold options]}
OUT=${2:?usage: sbatch --array=0-N examples/slurm_array.sh INPUT.fa[.gz] OUT_DIR [fold options]}
shift 2

# One worker process per CPU SLURM gave this task (threads follow SLURM_CPUS_PER_TASK).
JOBS=${SLURM_CPUS_PER_TASK:-1}

echo "task ${SLURM_ARRAY_TASK_ID:-?} of ${SLURM_ARRAY_TASK_COUNT:-?} on $(hostname)" >&2

# --json: one line per record on stdout (this task's slurm-%A_%a.out) for later inspection.
status=0
rnapredict fold "$INPUT" -o "$OUT" --resume --json -n 5 --jobs "$JOBS" "$@" || status=$?

# 3 = some records failed; they are listed in OUT/summary.tsv. Treat it as done for the array
# (change to `exit $status` if failed records should mark the task FAILED).
if [ "$status" -eq 3 ]; then
    echo "some records failed: see $OUT/summary.tsv" >&2
    exit 0
fi
exit "$status"
