#!/usr/bin/env bash
# Runs benchmarks/peer/logreg_conformance.py in its own venv (numpy + scikit-learn), against a
# release build of bench. Not part of CI.
#   bash benchmarks/peer/logreg_conformance.sh
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
scripts/setup.sh
cargo build --release --bin bench
venv=benchmarks/peer/.venv-logreg
if [ ! -x "$venv/bin/python" ]; then
  "${PYTHON:-python3}" -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet numpy "scikit-learn==1.5.2"
fi
"$venv/bin/python" benchmarks/peer/logreg_conformance.py target/release/bench
