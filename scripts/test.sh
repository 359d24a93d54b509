#!/usr/bin/env bash
# Installs dependencies, builds, and runs the whole test suite (CUDA tests skip without a GPU),
# then the Python package's tests.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install_deps.sh
bash scripts/build.sh "$@"
ctest --test-dir "${BUILD_DIR:-build}" --output-on-failure -j"$(nproc)"
# The Python package: pip install . into a temporary venv, then pytest (tests/python/run.sh).
bash tests/python/run.sh
