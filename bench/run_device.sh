#!/usr/bin/env bash
# One call on a lent GPU machine: build with CUDA, run the whole test suite (parity tests included)
# and the benchmark suite, and write a summary under $OUT (or ./device_out when OUT is unset).
#
# The GPU machine reaches no package registry. Libraries it may lack (HDF5, CLI11, GoogleTest,
# OpenBLAS) travel as Debian packages: run `bash scripts/fetch_device_debs.sh` here first, then
# carry `.debs` in the device call; they are unpacked under /tmp/deps, never into /.
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-$PWD/device_out}
mkdir -p "$OUT"
summary=$OUT/summary.txt
: >"$summary"
log() { echo "$*" | tee -a "$summary"; }

if ls .debs/*.deb >/dev/null 2>&1; then
  mkdir -p /tmp/deps
  for f in .debs/*.deb; do dpkg -x "$f" /tmp/deps; done
  export CMAKE_PREFIX_PATH=/tmp/deps/usr${CMAKE_PREFIX_PATH:+:$CMAKE_PREFIX_PATH}
  export LD_LIBRARY_PATH=/tmp/deps/usr/lib/x86_64-linux-gnu:/tmp/deps/usr/lib/x86_64-linux-gnu/hdf5/serial${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
  hdf5_root=/tmp/deps/usr/lib/x86_64-linux-gnu/hdf5/serial
  extra=(-DHDF5_ROOT="$hdf5_root" -DHDF5_C_INCLUDE_DIR=/tmp/deps/usr/include/hdf5/serial)
else
  extra=()
fi

log "lensflow device run $(date -u +%F' '%T) commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>&1 | tee -a "$summary"

BUILD_DIR=build-device
t0=$(date +%s)
if ! cmake -S . -B $BUILD_DIR -DCMAKE_BUILD_TYPE=Release -DCMAKE_CUDA_ARCHITECTURES=${CUDA_ARCH:-90} "${extra[@]}" \
      >"$OUT/configure.log" 2>&1 || ! cmake --build $BUILD_DIR -j"$(nproc)" >"$OUT/build.log" 2>&1; then
  log "BUILD FAILED (see configure.log / build.log)"
  tail -40 "$OUT/build.log" 2>/dev/null
  exit 1
fi
log "build: $(( $(date +%s) - t0 )) s"

ctest --test-dir $BUILD_DIR --output-on-failure -j4 >"$OUT/tests.log" 2>&1
log "tests: $(grep -E 'tests passed|tests failed' "$OUT/tests.log")"
grep -E '^\s+[0-9]+ - .*\((Failed|SEGFAULT|Timeout|Subprocess)' "$OUT/tests.log" | tee -a "$summary"
grep -c 'Skipped' "$OUT/tests.log" | sed 's/^/skipped tests: /' | tee -a "$summary"

# Benchmarks: every bench_* binary, then the PyTorch references (PyTorch is on the GPU image).
for b in $BUILD_DIR/bench/bench_*; do
  name=$(basename "$b")
  log "== $name"
  timeout 300 "$b" --device cuda >"$OUT/$name.log" 2>&1 || log "$name exited $?"
  tail -15 "$OUT/$name.log" | tee -a "$summary"
done
if python3 -c "import torch" 2>/dev/null && [ -f bench/torch_ref.py ]; then
  log "== torch_ref.py"
  timeout 300 python3 bench/torch_ref.py >"$OUT/torch_ref.log" 2>&1 || log "torch_ref.py exited $?"
  tail -20 "$OUT/torch_ref.log" | tee -a "$summary"
fi
log "done in $(( $(date +%s) - t0 )) s"
