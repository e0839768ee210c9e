#!/usr/bin/env bash
# Installs what SonoDual needs on Debian 12, only what is missing; safe to run again.
# Used by both README commands (pipelines/demo.sh, scripts/test.sh) and so by CI.
set -euo pipefail

APT_PACKAGES=(
  ffmpeg libavformat-dev libavcodec-dev libavutil-dev libswresample-dev libswscale-dev
  libfftw3-dev libopenblas-dev libsqlite3-dev pkg-config espeak-ng sox fonts-dejavu-core
  python3 python3-pip bc sqlite3
  chromium  # sono-report's test renders the page in a real browser (headless)
)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Python packages for the reference scripts and the Python shard reader's tests.
PY_REQUIREMENTS="$(dirname "$0")/../python/requirements-dev.txt"
if [ -f "$PY_REQUIREMENTS" ]; then
  # Import names are the package names, except scikit-learn's (sklearn).
  if ! python3 -c "$(sed -n -e 's/^scikit-learn.*/import sklearn/p' -e t -e 's/^\([A-Za-z][A-Za-z0-9_]*\).*/import \1/p' "$PY_REQUIREMENTS")" 2>/dev/null; then
    echo "setup: pip install -r python/requirements-dev.txt"
    python3 -m pip install -q -r "$PY_REQUIREMENTS" 2>/dev/null \
      || python3 -m pip install -q --break-system-packages -r "$PY_REQUIREMENTS"
  fi
fi

# PyTorch (CPU) for the tests of the PyTorch path. The CPU-only wheel is on this machine's
# package index; elsewhere it comes from PyTorch's own CPU index.
TORCH_VERSION="2.13.0"
# torchvision of the same release, for the pretrained-layout fixtures (PretrainedWeightsTests).
# Its CPU wheel comes from PyTorch's CPU index; where that index is out of reach, PyPI's wheel
# (CUDA-built C++ ops that do not load next to a CPU torch, which the models do not need;
# scripts/reference/make_pretrained_fixtures.py imports it anyway).
TORCHVISION_VERSION="0.28.0"
pip_install() { python3 -m pip install -q "$@" 2>/dev/null || python3 -m pip install -q --break-system-packages "$@"; }
if ! python3 -c "import torch" 2>/dev/null; then
  echo "setup: pip install torch==${TORCH_VERSION}+cpu"
  pip_install "torch==${TORCH_VERSION}+cpu" \
    || pip_install --index-url https://download.pytorch.org/whl/cpu "torch==${TORCH_VERSION}"
fi
if ! python3 -c "import importlib.metadata as m; assert m.version('torchvision').split('+')[0] == '${TORCHVISION_VERSION}'" 2>/dev/null; then
  echo "setup: pip install torchvision==${TORCHVISION_VERSION}"
  pip_install "torchvision==${TORCHVISION_VERSION}+cpu" \
    || pip_install --index-url https://download.pytorch.org/whl/cpu "torchvision==${TORCHVISION_VERSION}+cpu" \
    || pip_install "torchvision==${TORCHVISION_VERSION}"
fi

if ! command -v swift >/dev/null 2>&1; then
  echo "setup: the Swift toolchain (6.1 or newer) is not on PATH; install it from swift.org first." >&2
  exit 1
fi
