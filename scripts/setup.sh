#!/usr/bin/env bash
# Creates .venv/ (git-ignored) with the light libtorch install from PyPI, only when it is missing,
# and links .venv/libtorch to the wheel's torch/ directory (lib/ + include/), which tch builds against.
# torch is installed with --no-deps: the two CUDA runtime wheels supply libcudart/libcupti, which
# libtorch_cpu.so needs even on CPU. `import torch` does not work in this venv, by design.
set -euo pipefail
cd "$(dirname "$0")/.."

TORCH_VERSION=2.11.0
VENV=.venv
STAMP="$VENV/.libtorch-$TORCH_VERSION"

if [ -f "$STAMP" ] && [ -f "$VENV/libtorch/lib/libtorch_cpu.so" ]; then
  exit 0
fi

echo "setup: installing libtorch $TORCH_VERSION (PyPI torch wheel, --no-deps) into $VENV/" >&2
rm -rf "$VENV"
"${PYTHON:-python3}" -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --no-deps --no-compile \
  "torch==$TORCH_VERSION" nvidia-cuda-runtime==13.0.96 nvidia-cuda-cupti==13.0.85
site=$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
ln -sfn "$site/torch" "$VENV/libtorch"
touch "$STAMP"
echo "setup: libtorch ready at $VENV/libtorch" >&2
