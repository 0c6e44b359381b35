#!/usr/bin/env bash
# One prepared call on a lent GPU machine (see ../shared/notes/gpu.md): runs a CI spec and a
# paper-shaped spec (SYNTHETIC 150x150x3, ResNet-18) on CUDA twice each (determinism on the GPU),
# the CI spec on the CPU too (CPU vs GPU agreement), prints time per job and device details, and
# measures jobs per hour with 1, 2, 4 and 8 jobs in flight (results identical to 1 in flight).
# Build the CUDA-linked binary on the development machine first and carry it:
#   RALBENCH_CUDA=1 cargo build --release     # then carry target/release/bench
# On the GPU machine: LD_LIBRARY_PATH must reach a CUDA libtorch 2.11 (the machine's torch).
# Writes logs and tables under ${OUT:-gpu-out}.
set -uo pipefail
out=${OUT:-gpu-out}
mkdir -p "$out"
bench=${BENCH:-target/release/bench}
torch_lib=$(python3 -c 'import torch,os;print(os.path.join(os.path.dirname(torch.__file__),"lib"))' 2>/dev/null)
export LD_LIBRARY_PATH="${torch_lib}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export CUBLAS_WORKSPACE_CONFIG=:4096:8
{
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv 2>&1
  python3 -c 'import torch;print("torch", torch.__version__, "cuda", torch.version.cuda, "cudnn", torch.backends.cudnn.version())' 2>&1
} | tee "$out/device.txt"

spec_paper="$out/paper-shaped.ron"
sed -e 's/name: "timing-dral-vs-lalrl"/name: "gpu-paper-shaped"/' \
    -e 's/model: SmallCnn(channels: \[8, 16\])/model: ResNet18(pretrained: None)/' \
    specs/timing/dral-vs-lalrl.ron > "$spec_paper"

run() { # name spec device out
  local start end
  start=$(date +%s.%N)
  "$bench" run "$2" --device "$3" --threads 4 --out "$4" > "$4.table" 2> "$4.log"
  local rc=$?
  end=$(date +%s.%N)
  echo "$1: rc=$rc wall $(awk "BEGIN{print $end - $start}") s"
}
run ci-gpu-1 specs/ci/table1.ron cuda "$out/ci-gpu-1"
run ci-gpu-2 specs/ci/table1.ron cuda "$out/ci-gpu-2"
run ci-cpu specs/ci/table1.ron cpu "$out/ci-cpu"
run paper-gpu-1 "$spec_paper" cuda "$out/paper-gpu-1"
run paper-gpu-2 "$spec_paper" cuda "$out/paper-gpu-2"

echo "determinism on the GPU (job files of two runs):"
diff -rq "$out/ci-gpu-1/jobs" "$out/ci-gpu-2/jobs" && echo "  ci: identical"
diff -rq "$out/paper-gpu-1/jobs" "$out/paper-gpu-2/jobs" && echo "  paper-shaped: identical"
echo "GPU vs CPU tables (the same up to floating-point differences, not bit for bit):"
diff "$out/ci-gpu-1/table.md" "$out/ci-cpu/table.md" && echo "  identical"
for d in ci-gpu-1 paper-gpu-1; do echo "== $d timing"; cat "$out/$d/timing.ron"; done

# Several jobs on the one GPU: the paper-shaped spec with 1, 2, 4 and 8 jobs in flight (worker
# threads, each on its own CUDA stream from libtorch's pool: csrc/streams.cpp, so kernels of
# different jobs can overlap; the host side of each job runs in parallel). Jobs per hour for each, and the job files of
# every count against 1 in flight (they must be identical).
echo "jobs in flight on the GPU (paper-shaped spec):"
for n in 1 2 4 8; do
  start=$(date +%s.%N)
  "$bench" run "$spec_paper" --device cuda --threads 1 --jobs "$n" --out "$out/inflight-$n" \
    > "$out/inflight-$n.table" 2> "$out/inflight-$n.log"
  rc=$?
  end=$(date +%s.%N)
  jobs=$(ls "$out/inflight-$n/jobs" 2>/dev/null | wc -l)
  echo "  --jobs $n: rc=$rc, $jobs jobs in $(awk "BEGIN{print $end - $start}") s, $(awk "BEGIN{printf \"%.0f\", 3600 * $jobs / ($end - $start)}") jobs/hour"
  if [ "$n" != 1 ]; then
    diff -rq "$out/inflight-1/jobs" "$out/inflight-$n/jobs" > /dev/null \
      && echo "    job files identical to --jobs 1" || echo "    job files DIFFER from --jobs 1"
  fi
done
