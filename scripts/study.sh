#!/usr/bin/env bash
# Runs study specs (specs/studies/) as two shards side by side, one libtorch thread each, merges
# them, and prints the summary benchmarks/STUDIES.md quotes (accuracy at the budget, per-seed
# differences to random, training curves of the learned strategies).
#
#   scripts/study.sh specs/studies/real-n5.ron [more specs...]
#
# Results: results/studies/<spec stem>/{shard-1,shard-2,merged}/ and .../summary.md.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
scripts/setup.sh
cargo build --release --bin bench --example study_summary
for spec in "$@"; do
  stem=$(basename "$spec" .ron)
  out="results/studies/$stem"
  mkdir -p "$out"
  start=$(date +%s)
  target/release/bench run "$spec" --device cpu --threads 1 --shard 1/2 --out "$out/shard-1" 2>"$out/shard-1.log" &
  first=$!
  target/release/bench run "$spec" --device cpu --threads 1 --shard 2/2 --out "$out/shard-2" 2>"$out/shard-2.log"
  wait "$first"
  target/release/bench merge "$out/shard-1" "$out/shard-2" --out "$out/merged" >/dev/null
  echo "$spec: $(( $(date +%s) - start )) s wall on 2 shards" | tee "$out/summary.md"
  target/release/examples/study_summary "$out/merged" | tee -a "$out/summary.md"
done
