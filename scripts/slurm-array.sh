#!/usr/bin/env bash
# Runs one spec as a Slurm job array: each array task runs one shard (bench reads
# SLURM_ARRAY_TASK_ID / SLURM_ARRAY_TASK_COUNT), then a dependent job merges the shards.
#
#   scripts/slurm-array.sh specs/table1.ron 8          # 8 shards, at most 8 at a time
#   scripts/slurm-array.sh specs/table1.ron 8 --gres=gpu:1
#
# Results: results/<spec stem>/shard-<i>/ per task, results/<spec stem>/merged/ at the end
# (under $BENCH_RESULTS instead of results/ when it is set).
# Extra arguments go to sbatch (partition, GPUs, time limit). Build first: scripts/bench --help.
set -euo pipefail
spec=${1:?usage: scripts/slurm-array.sh SPEC SHARDS [sbatch options..]}
shards=${2:?usage: scripts/slurm-array.sh SPEC SHARDS [sbatch options..]}
shift 2
root="$(cd "$(dirname "$0")/.." && pwd)"
stem=$(basename "$spec" .ron)
out="${BENCH_RESULTS:-$root/results}/$stem"
mkdir -p "$out/logs"
bench="$root/target/release/bench"
[ -x "$bench" ] || { echo "build first: scripts/bench --help" >&2; exit 2; }

array_id=$(sbatch --parsable --array="0-$((shards - 1))%$shards" "$@" \
  --job-name="bench-$stem" --output="$out/logs/%a.log" \
  --wrap="cd '$root' && '$bench' run '$spec' --device auto --out '$out'/shard-\$SLURM_ARRAY_TASK_ID")
dirs=$(for i in $(seq 0 $((shards - 1))); do printf "'%s' " "$out/shard-$i"; done)
# --kill-on-invalid-dep: when a shard fails the merge is cancelled, not left pending for ever.
sbatch --dependency="afterok:$array_id" --kill-on-invalid-dep=yes --job-name="bench-$stem-merge" --output="$out/logs/merge.log" \
  --wrap="cd '$root' && '$bench' merge $dirs --out '$out/merged'"
echo "submitted array $array_id ($shards shards) and its merge; results in $out/merged"
