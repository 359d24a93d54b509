#!/usr/bin/env bash
# Runs every benchmark on the CPU: each bench_* program of the build (they time their Python
# references — VBMicrolensing, PyTorch when installed — beside themselves in the same run), then
# prints the "RESULT name value unit" lines of all of them as one summary.
#   bash bench/run_cpu.sh [BUILD_DIR]   (default: build; logs go to $OUT or BUILD_DIR/bench_logs)
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${1:-${BUILD_DIR:-build}}
OUT=${OUT:-$BUILD_DIR/bench_logs}
mkdir -p "$OUT"
if [ ! -d "$BUILD_DIR/bench" ]; then
  echo "no $BUILD_DIR/bench: build first (bash scripts/build.sh)" >&2
  exit 1
fi
# The CPU reference (PyPI package VBMicrolensing); the benchmarks report its absence and go on.
python3 -c "import VBMicrolensing" 2>/dev/null || python3 -m pip install -q VBMicrolensing || true
echo "lensflow CPU benchmarks $(date -u +%F' '%T) on $(nproc) cores: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
failed=0
for exe in "$BUILD_DIR"/bench/bench_*; do
  [ -x "$exe" ] || continue
  name=$(basename "$exe")
  echo "== $name"
  start=$(date +%s)
  if "$exe" >"$OUT/$name.log" 2>&1; then
    echo "   ok ($(( $(date +%s) - start )) s, log $OUT/$name.log)"
  else
    echo "   FAILED (see $OUT/$name.log)"
    failed=1
  fi
done
echo
echo "== summary"
grep -h '^RESULT' "$OUT"/bench_*.log 2>/dev/null | sed 's/^RESULT /  /' | column -t
exit $failed
