#!/usr/bin/env bash
# Proves scripts/slurm-array.sh on a real Slurm: a one-node cluster on localhost (munged, slurmctld,
# slurmd, all started here and stopped on exit), the CI spec specs/ci/table1.ron submitted as a
# 3-task array with its dependent merge exactly as the README tells a user to, then the merged
# directory compared byte for byte (every file but timing.ron and report.html, which hold wall times) with one
# unsharded run of the same spec.
#
#   scripts/slurm-ci.sh            # as root; installs Debian's slurm-wlm and munge when missing
#
# Skips (exit 0, with a message) where Slurm is missing and cannot be installed (not root, or no
# apt-get). .ci/run runs it after the build. Build first: scripts/bench --help.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
spec=specs/ci/table1.ron
shards=3
bench="$root/target/release/bench"
[ -x "$bench" ] || { echo "build first: scripts/bench --help" >&2; exit 2; }

skip() { echo "slurm-ci: skipped: $*"; exit 0; }
if ! command -v sbatch >/dev/null || ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
  [ "$(id -u)" -eq 0 ] || skip "Slurm is not installed and installing it needs root"
  command -v apt-get >/dev/null || skip "Slurm is not installed and there is no apt-get to install it"
  echo "slurm-ci: installing slurm-wlm and munge (apt-get)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq slurm-wlm munge >/dev/null
fi
[ "$(id -u)" -eq 0 ] || skip "starting slurmctld and slurmd here needs root"

work=$(mktemp -d /tmp/slurm-ci.XXXXXX)
chmod 755 "$work"
pids=()
cleanup() {
  local rc=$?
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
  done
  if [ "$rc" -ne 0 ]; then
    echo "slurm-ci: failed; daemon and job logs follow" >&2
    tail -n 30 "$work"/*.log "$work"/munge/*.log "$work"/results/*/logs/*.log 2>/dev/null >&2 || true
  fi
  rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT

# munge: the key Debian's package made, or a new one; munged runs as its own user.
mkdir -p "$work/munge"
chown munge: "$work/munge" 2>/dev/null || true
if [ ! -s /etc/munge/munge.key ]; then
  mkdir -p /etc/munge
  dd if=/dev/urandom of=/etc/munge/munge.key bs=1 count=128 status=none
  chown munge: /etc/munge/munge.key
  chmod 400 /etc/munge/munge.key
fi
mkdir -p /run/munge && chown munge: /run/munge
socket="$work/munge/munge.socket"
runuser -u munge -- munged --socket="$socket" --pid-file="$work/munge/munged.pid" \
  --log-file="$work/munge/munged.log" --seed-file="$work/munge/seed"
for _ in $(seq 50); do [ -s "$work/munge/munged.pid" ] && break; sleep 0.1; done
pids+=("$(cat "$work/munge/munged.pid")")

# A one-node cluster: this machine, all its cores, one job per core.
host=$(hostname -s)
cpus=$(nproc)
mkdir -p "$work/state" "$work/spool"
export SLURM_CONF="$work/slurm.conf"
cat >"$SLURM_CONF" <<EOF
ClusterName=ralbench-ci
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$socket
CredType=cred/munge
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/slurmctld.log
SlurmdLogFile=$work/slurmd.log
SlurmctldPort=16817
SlurmdPort=16818
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus State=UNKNOWN
PartitionName=ci Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
slurmctld -c -f "$SLURM_CONF"
slurmd -f "$SLURM_CONF"
for _ in $(seq 100); do [ -s "$work/slurmctld.pid" ] && [ -s "$work/slurmd.pid" ] && break; sleep 0.1; done
pids+=("$(cat "$work/slurmd.pid")" "$(cat "$work/slurmctld.pid")")
for i in $(seq 60); do
  state=$(sinfo -h -n "$host" -o %T 2>/dev/null || true)
  [ "$state" = idle ] && break
  [ "$i" -eq 60 ] && { echo "slurm-ci: node $host not idle after 30 s (state: ${state:-none})" >&2; exit 1; }
  sleep 0.5
done
echo "slurm-ci: one-node cluster up ($host, $cpus CPUs, $(sinfo -V))"

# As a user submits it (README: Slurm arrays).
start=$(date +%s)
export BENCH_RESULTS="$work/results"
scripts/slurm-array.sh "$spec" "$shards"
for i in $(seq 600); do
  [ -z "$(squeue -h -o %i)" ] && break
  if squeue -h -o %r | grep -q DependencyNeverSatisfied; then
    echo "slurm-ci: a shard failed, so the merge can never run:" >&2
    squeue >&2
    exit 1
  fi
  [ "$i" -eq 600 ] && { echo "slurm-ci: jobs still queued after 10 min:" >&2; squeue >&2; exit 1; }
  sleep 1
done
merged="$BENCH_RESULTS/table1/merged"
[ -f "$merged/table.md" ] || { echo "slurm-ci: no merged results at $merged" >&2; exit 1; }
echo "slurm-ci: array of $shards and its merge finished in $(($(date +%s) - start)) s"

# The unsharded reference, then the byte comparison.
"$bench" run "$spec" --out "$work/whole" >"$work/whole.log" 2>&1
diff -r -x timing.ron -x report.html "$work/whole" "$merged" >"$work/diff.log" || {
  echo "slurm-ci: the merged array differs from the unsharded run:" >&2
  head -n 40 "$work/diff.log" >&2
  exit 1
}
files=$(find "$merged" -type f ! -name timing.ron ! -name report.html | wc -l)
echo "slurm-ci: ok: $files files of the merged array byte-identical to one unsharded run"
