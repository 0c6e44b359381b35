#!/usr/bin/env bash
# The quickstart against modAL + scikit-learn, in one command from a fresh clone:
#   bash benchmarks/peer/quickstart_race.sh [--repeats N] [--work DIR]
# Sets up libtorch and builds bench, creates benchmarks/peer/.venv-sklearn (git-ignored) with
# requirements-sklearn.txt (no PyTorch), then runs quickstart_race.py. Not part of CI.
set -euo pipefail
cd "$(dirname "$0")/../.."
scripts/setup.sh
cargo build --release --bin bench
VENV=benchmarks/peer/.venv-sklearn
REQ=benchmarks/peer/requirements-sklearn.txt
STAMP="$VENV/.requirements-$(sha256sum "$REQ" | cut -c1-16)"
if [ ! -f "$STAMP" ]; then
  rm -rf "$VENV"
  "${PYTHON:-python3}" -m venv "$VENV"
  "$VENV/bin/python" -m pip install --quiet -r "$REQ"
  touch "$STAMP"
fi
exec "$VENV/bin/python" benchmarks/peer/quickstart_race.py --bench target/release/bench "$@"
