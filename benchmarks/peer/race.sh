#!/usr/bin/env bash
# The race against the paper's stack in one command, from a fresh clone:
#   bash benchmarks/peer/race.sh [--repeats N] [--work DIR]
# Sets up libtorch and builds bench (scripts/setup.sh, cargo build --release), creates
# benchmarks/peer/.venv (git-ignored) with requirements.txt (a full PyTorch install and modAL,
# a few GB, once), then runs race.py, which prints the Markdown table and writes race.md and
# race.json in its working directory. Not part of CI.
set -euo pipefail
cd "$(dirname "$0")/../.."

scripts/setup.sh
cargo build --release --bin bench

VENV=benchmarks/peer/.venv
REQ=benchmarks/peer/requirements.txt
STAMP="$VENV/.requirements-$(sha256sum "$REQ" | cut -c1-16)"
if [ ! -f "$STAMP" ]; then
  echo "race: installing $REQ into $VENV/ (full torch wheel: a few GB, once)" >&2
  rm -rf "$VENV"
  "${PYTHON:-python3}" -m venv "$VENV"
  "$VENV/bin/python" -m pip install --quiet -r "$REQ"
  touch "$STAMP"
fi
exec "$VENV/bin/python" benchmarks/peer/race.py --bench target/release/bench "$@"
