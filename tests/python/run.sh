#!/usr/bin/env bash
# The Python package's tests, as a user would meet it: `pip install .` into a fresh temporary
# virtual environment, then pytest on tests/python from outside the repository. Called by
# scripts/test.sh after ctest.
#   BUILD_DIR (default build): the C++ build; its lensflow-magnify is the bit-for-bit reference, and
#     the package's CMake build is kept in $BUILD_DIR/python-wheel so that reruns are incremental.
#   LENSFLOW_PYTHON_CUDA (default OFF): ON builds the package's CUDA backend too (nvcc needed).
# The venv sees the system's site-packages (numpy, pytest, MulensModel, VBMicrolensing from
# scripts/install_deps.sh); pip fetches the build requirements (scikit-build-core, pybind11).
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$PWD
mkdir -p "${BUILD_DIR:-build}"
build=$(cd "${BUILD_DIR:-build}" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 -m venv --system-site-packages "$tmp/venv"
args=(-C "cmake.define.LENSFLOW_ENABLE_CUDA=${LENSFLOW_PYTHON_CUDA:-OFF}" -C "build-dir=$build/python-wheel")
if command -v ccache >/dev/null; then args+=(-C cmake.define.CMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
start=$SECONDS
"$tmp/venv/bin/pip" install -q "$repo" "${args[@]}"
echo "tests/python: pip install . took $((SECONDS - start)) s"
cd "$tmp"
LENSFLOW_BUILD_DIR="$build" "$tmp/venv/bin/python" -m pytest -q -rs "$repo/tests/python"
