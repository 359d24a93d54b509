#!/usr/bin/env bash
# bench/run_device.sh — the one command for a lent GPU machine (one H100/H200, 16 cores, no package
# registry), in under 10 minutes from a copy of the repository:
#   1. build with Ninja for sm_90 only;
#   2. the whole test suite with LENSFLOW_REQUIRE_GPU=1 (a GPU test that finds no device fails);
#   3. every benchmark with short durations on the GPU (ops and a training step against PyTorch when
#      it imports, the posterior model and sampling, the simulator, the likelihood);
#   4. a training set simulated on the GPU and a 3-minute training run on it; beside it, on the
#      cores it leaves, compute-sanitizer memcheck on a small run of each kernel family and the
#      CPU benchmarks (forward model against VBMicrolensing);
#   5. $OUT/summary.txt: one screen, pass/fail per part and the figures with their targets.
# $OUT also gets figures.txt (every RESULT line), logs.tar.gz (every log) and best.h5 (the trained
# model at its best validation NLL, in 15 MiB pieces when larger); summary and logs are rewritten after every part, so a run stopped by a time
# limit still returns what it did. Parts that would not fit the time budget are skipped, saying so.
#
#   bash bench/run_device.sh            on the GPU machine
#   bash bench/run_device.sh --dry-run  anywhere: CPU-only build, GPU parts reported as skipped,
#                                       the CPU parts run for real but short (checks this script)
# Offline machine: run `bash scripts/fetch_device_debs.sh` here first and carry `.debs` and `.whl`:
# HDF5, CLI11, GoogleTest and OpenBLAS as Debian packages (unpacked under /tmp/deps, never into /),
# VBMicrolensing and a compute-sanitizer for CUDA 13.0 as wheels.
# Environment: OUT (default ./device_out), BUILD_DIR (default build-device, or build-device-dry;
# an existing one is reused), BUDGET_S (570; dry run 3600), TRAIN_MINUTES (3; dry run 0.3), SIM_EVENTS (20000;
# dry run 400), CUDA_ARCH (90), JOBS (nproc).
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
DRY=0
[ "${1:-}" = --dry-run ] && DRY=1
OUT=${OUT:-$ROOT/device_out}
mkdir -p "$OUT"
LOGS=$(mktemp -d /tmp/lensflow_device_logs.XXXXXX)
BUILD_DIR=${BUILD_DIR:-$([ $DRY = 1 ] && echo build-device-dry || echo build-device)}
BUDGET_S=${BUDGET_S:-$([ $DRY = 1 ] && echo 3600 || echo 570)}  # the dry run on a slow machine is not timed
TRAIN_MINUTES=${TRAIN_MINUTES:-$([ $DRY = 1 ] && echo 0.3 || echo 3)}
SIM_EVENTS=${SIM_EVENTS:-$([ $DRY = 1 ] && echo 400 || echo 20000)}
JOBS=${JOBS:-$(nproc)}
T0=$(date +%s)
elapsed() { echo $(($(date +%s) - T0)); }
left() { echo $((BUDGET_S - $(elapsed))); }

# ---- bookkeeping: one row per part, one row per figure; the summary is rewritten after each part
PARTS=()
add_part() { PARTS+=("$(printf '%-28s %-6s %5ss  %s' "$1" "$2" "$3" "$4")"); write_summary; }
ENV_LINES=()
target_of() {  # the project's aim for a figure (empty: reported without one)
  case "$1" in
    speedup_vs_vbm_* | *_speedup_vs_vbm_1thread | *ratio_vbm_over_lensflow) echo "> 1 (faster than VBMicrolensing)" ;;
    *_vs_torch) echo "<= 1 (lensflow time / PyTorch time)" ;;
    train_epoch_projected_*) echo "<= 6 min (paper: ~6 min/epoch, 4 GTX 2080 Ti)" ;;
    simulate_cuda_1e6_events_hours) echo "<= 0.25 h (10^6 draws in 15 min)" ;;
    cut_acceptance_paper) echo "~29.1 % (paper)" ;;
    *) echo "" ;;
  esac
}
write_summary() {
  {
    echo "lensflow device run $(date -u +%F' '%T) UTC, commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')$([ $DRY = 1 ] && echo ', DRY RUN (no GPU parts)')"
    for l in "${ENV_LINES[@]}"; do echo "  $l"; done
    echo "parts (status, seconds):"
    for p in "${PARTS[@]}"; do echo "  $p"; done
    if [ -s "$OUT/figures.txt" ]; then
      echo "figures with a target (all $(wc -l <"$OUT/figures.txt") RESULT lines: figures.txt):"
      local name value unit tg
      while read -r _ name value unit; do
        case "$name" in *_vs_torch) continue ;; esac  # summarized below
        tg=$(target_of "$name")
        [ -n "$tg" ] && printf '  %-52s %10s %-9s target %s\n' "$name" "$value" "$unit" "$tg"
      done <"$OUT/figures.txt"
      # Per-op PyTorch ratios: one line per benchmark (count, median, worst) instead of dozens.
      awk '$2 ~ /_vs_torch$/ { split($2, p, "_"); g = p[1]; n[g]++; v[g, n[g]] = $3; k[g, n[g]] = $2 }
        END { for (g in n) { m = n[g]; w = 1
                for (i = 1; i <= m; i++) { r[i] = v[g, i]; if (v[g, i] > v[g, w]) w = i }
                for (i = 1; i <= m; i++) for (j = i + 1; j <= m; j++) if (r[j] < r[i]) { x = r[i]; r[i] = r[j]; r[j] = x }
                printf "  %-52s %10.3f %-9s target <= 1 (lensflow/PyTorch time); %d ratios, worst %.3f %s\n",
                       g "_*_vs_torch (median)", r[int((m + 1) / 2)], "x", m, v[g, w], k[g, w] } }' "$OUT/figures.txt"
    fi
    echo "elapsed $(elapsed) s of a ${BUDGET_S} s budget; logs: logs.tar.gz"
  } >"$OUT/summary.txt"
  tar -czf "$OUT/logs.tar.gz" -C "$LOGS" . 2>/dev/null
}
collect_figures() { cat "$LOGS"/bench_*.log 2>/dev/null | grep -h '^RESULT ' >"$OUT/figures.txt"; }
# run_timed NAME LIMIT_S LOG CMD...: runs CMD with a time limit, returns its status (124: timed out).
run_timed() {
  local limit=$2 log=$3
  shift 3
  timeout --kill-after=10 "$limit" "$@" >"$log" 2>&1
}

# pin CPUS CMD...: CMD on those cores (as is where taskset is missing); pin_prefix CPUS: the same
# as a command prefix, for commands run under `timeout` (which cannot run a shell function).
pin() {
  local cpus=$1
  shift
  if command -v taskset >/dev/null; then taskset -c "$cpus" "$@"; else "$@"; fi
}
pin_prefix() { command -v taskset >/dev/null && echo "taskset -c $1"; }
# unpack_deb FILE DIR: dpkg -x, or ar + tar where dpkg is missing.
unpack_deb() {
  if command -v dpkg >/dev/null; then
    dpkg -x "$1" "$2"
  else
    local d
    d=$(mktemp -d) && (cd "$d" && ar x "$1" && tar -xf data.tar.* -C "$2") && rm -rf "$d"
  fi
}

# ---- 0. environment: driver, runtime, tools
if [ $DRY = 0 ]; then
  gpu=$(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1 | head -1)
  drv_cuda=$(nvidia-smi 2>/dev/null | grep -o 'CUDA Version: [0-9.]*' | head -1)
  ENV_LINES+=("GPU: ${gpu:-none found}; driver supports ${drv_cuda:-?}")
else
  ENV_LINES+=("GPU: not used (dry run)")
fi
ENV_LINES+=("runtime/toolkit: $(nvcc --version 2>/dev/null | grep -o 'release [0-9.]*' || echo 'no nvcc'); $(cmake --version | head -1); ninja $(ninja --version 2>/dev/null || echo missing); $(nproc) cores")

# ---- 1. dependencies carried as packages (the GPU machine reaches no registry)
t=$(date +%s)
note=""
cmake_extra=()
if ls .debs/*.deb >/dev/null 2>&1; then
  mkdir -p /tmp/deps
  for f in "$ROOT"/.debs/*.deb; do unpack_deb "$f" /tmp/deps; done
  D=/tmp/deps/usr
  A=$D/lib/x86_64-linux-gnu
  export CMAKE_PREFIX_PATH=$D${CMAKE_PREFIX_PATH:+:$CMAKE_PREFIX_PATH}
  export LD_LIBRARY_PATH=$A:$A/hdf5/serial:$A/openblas-pthread${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
  # dpkg -x sets up no alternatives: name OpenBLAS's library and cblas.h directly.
  export CPATH=$D/include/x86_64-linux-gnu/openblas-pthread:$D/include${CPATH:+:$CPATH}
  cmake_extra+=(-DHDF5_ROOT="$A/hdf5/serial" -DHDF5_C_INCLUDE_DIR="$D/include/hdf5/serial"
    -DBLA_VENDOR=OpenBLAS -DCMAKE_LIBRARY_PATH="$A/openblas-pthread")
  note="$(ls .debs/*.deb | wc -l) .deb unpacked under /tmp/deps"
else
  note="no .debs: system libraries"
fi
if ls .whl/*.whl >/dev/null 2>&1 && command -v python3 >/dev/null; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site \
    $(ls .whl/*.whl | grep -i vbmicrolensing) >"$LOGS/pip.log" 2>&1 && export PYTHONPATH=/tmp/site${PYTHONPATH:+:$PYTHONPATH}
  note="$note; $(ls .whl/*.whl | wc -l) wheel(s) in .whl"
fi
python3 -c "import VBMicrolensing" 2>/dev/null && vbm=yes || vbm=no
python3 -c "import torch" 2>/dev/null && torch=yes || torch=no
ENV_LINES+=("deps: $note; VBMicrolensing importable: $vbm; PyTorch importable: $torch")
# compute-sanitizer: the toolkit's, else the carried wheel's.
SAN=$(command -v compute-sanitizer || ls /usr/local/cuda*/bin/compute-sanitizer /opt/nvidia/*/compute-sanitizer 2>/dev/null | head -1)
if [ -z "$SAN" ] && ls .whl/nvidia_cuda_sanitizer_api-*.whl >/dev/null 2>&1; then
  mkdir -p /tmp/sanitizer && (cd /tmp/sanitizer && python3 -m zipfile -e "$ROOT"/.whl/nvidia_cuda_sanitizer_api-*.whl .) &&
    chmod +x /tmp/sanitizer/nvidia/cu13/bin/compute-sanitizer && SAN=/tmp/sanitizer/nvidia/cu13/bin/compute-sanitizer
fi
ENV_LINES+=("compute-sanitizer: ${SAN:-not found (toolkit or .whl)}")
add_part "dependencies" ok $(($(date +%s) - t)) "$note"

# ---- 2. build
t=$(date +%s)
cuda_flags=(-DLENSFLOW_ENABLE_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES="${CUDA_ARCH:-90}")
[ $DRY = 1 ] && cuda_flags=(-DLENSFLOW_ENABLE_CUDA=OFF)
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
if cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release "${cuda_flags[@]}" "${launcher[@]}" "${cmake_extra[@]}" \
    >"$LOGS/configure.log" 2>&1 && cmake --build "$BUILD_DIR" -j"$JOBS" >"$LOGS/build.log" 2>&1; then
  hdf=$(grep -m1 '^HDF5_hdf5_LIBRARY_RELEASE:\|^HDF5_C_LIBRARY_hdf5:' "$BUILD_DIR/CMakeCache.txt" | cut -d= -f2)
  blas=$(grep -m1 '^BLAS_openblas_LIBRARY:\|^BLAS_blas_LIBRARY:' "$BUILD_DIR/CMakeCache.txt" | cut -d= -f2)
  add_part "build (Ninja$([ $DRY = 0 ] && echo ", sm_${CUDA_ARCH:-90}"))" PASS $(($(date +%s) - t)) "hdf5 ${hdf:-?}; blas ${blas:-?}"
else
  add_part "build" FAIL $(($(date +%s) - t)) "see configure.log / build.log"
  tail -30 "$LOGS/build.log" "$LOGS/configure.log" 2>/dev/null
  write_summary
  cat "$OUT/summary.txt"
  exit 1
fi
B=$(cd "$BUILD_DIR" && pwd)
# The benchmarks find their Python references through __FILE__, which Ninja passes relative to the
# build directory: run them from there.

# ---- 3. tests (GPU tests may not skip on the GPU machine)
t=$(date +%s)
[ $DRY = 0 ] && export LENSFLOW_REQUIRE_GPU=1
ctest --test-dir "$B" -j "$(( JOBS > 8 ? 8 : JOBS ))" --timeout 300 --output-on-failure >"$LOGS/tests.log" 2>&1
rc=$?
tl=$(grep -E 'tests passed, [0-9]+ tests failed out of' "$LOGS/tests.log" | tail -1)
skips=$(grep -c '\*\*\*Skipped' "$LOGS/tests.log")
skipped_names=$(grep '\*\*\*Skipped' "$LOGS/tests.log" | sed -E 's/.*Test +#[0-9]+: ([^ ]+) .*/\1/' | head -4 | tr '\n' ' ')
[ "$skips" -gt 4 ] && skipped_names="$skipped_names..."
failed_names=$(grep -E '^\s+[0-9]+ - ' "$LOGS/tests.log" | grep -v '(Skipped)' | sed -E 's/^\s+[0-9]+ - ([^ ]+).*/\1/' | tr '\n' ' ')
add_part "tests$([ $DRY = 0 ] && echo ' (REQUIRE_GPU=1)')" $([ $rc = 0 ] && echo PASS || echo FAIL) $(($(date +%s) - t)) \
  "${tl:-no ctest summary}; $skips skipped${skipped_names:+: $skipped_names}${failed_names:+; FAILED: $failed_names}"
unset LENSFLOW_REQUIRE_GPU

# ---- 4. GPU benchmarks, short
bench() {  # bench NAME LIMIT_S ARGS...: one benchmark program, status into the summary
  local name=$1 limit=$2
  shift 2
  local t=$(date +%s) rc
  if [ "$(left)" -lt $((limit / 2)) ]; then
    add_part "$name" SKIP 0 "time budget ($(left) s left)"
    return
  fi
  [ "$limit" -gt "$(left)" ] && limit=$(left)
  (cd "$B" && run_timed "$name" "$limit" "$LOGS/$name.log" "$B/bench/$name" "$@")
  rc=$?
  collect_figures
  local st=PASS
  [ $rc = 124 ] && st=TIME
  [ $rc != 0 ] && [ $rc != 124 ] && st=FAIL
  add_part "$name" $st $(($(date +%s) - t)) "$* (exit $rc, $(grep -c '^RESULT' "$LOGS/$name.log") figures)"
}
if [ $DRY = 0 ]; then
  bench bench_ops_bench 40 --device cuda --min-seconds 0.05
  bench bench_model_bench 40 --device cuda --min-seconds 0.1
  bench bench_train_bench 25 --device cuda --steps 5
  bench bench_simulate_bench 30 --device cuda --speed-events 1024 --acc-events 1000
  bench bench_likelihood_bench 20 --device --n-theta 32 --skip-vbm
else
  add_part "GPU benchmarks" SKIP 0 "dry run; CPU smoke instead:"
  bench bench_ops_bench 90 --device cpu --batch 2 --min-seconds 0.02 --no-torch
  bench bench_train_bench 90 --device cpu --steps 2 --batch 4
  bench bench_simulate_bench 90 --device cpu --speed-events 4 --acc-events 200
fi

# ---- 5. compute-sanitizer memcheck, a small run of each kernel family. It runs beside the
# training (part 6): its results do not depend on timing, and the minutes go to the training.
sanitizer_part() {  # writes one summary row into $LOGS/sanitizer.part
  local t=$(date +%s) bad=0 unsupported=0 done_runs="" r what cmd log rc errs st lim
  printf 's,q,y1,y2,rho\n' >"$LOGS/san_points.csv"
  for i in $(seq 0 31); do  # finite sources on circles around the central caustics of two lenses
    awk -v i="$i" 'BEGIN { a = i * 0.19635; printf "%.3f,%.4f,%.6f,%.6f,%.4f\n", (i % 2 ? 1.0 : 1.3), (i % 2 ? 0.1 : 1e-3), 0.12 * cos(a), 0.12 * sin(a), 0.01 }' >>"$LOGS/san_points.csv"
  done
  local runs=(
    "lens point+curves|$B/tests/test_lens_batch_parity_test --gtest_filter=BatchDevice.PointMag*:BatchDevice.Lightcurves*"
    "lens finite|$B/apps/lensflow-magnify points --input $LOGS/san_points.csv --output $LOGS/san_out.csv --device cuda"
    "likelihood|$B/tests/test_sim_likelihood_test --gtest_filter=Likelihood.DeviceMatchesHost"
    "cut|$B/tests/test_sim_pspl_cut_test --gtest_filter=*Device*"
    "realization|$B/tests/test_sim_realization_test --gtest_filter=*Device*"
    "ops|$B/tests/test_autodiff_cuda_parity_test"
    "training data|$B/tests/test_pipeline_training_data_test --gtest_filter=*Device*"
    "simulator|$B/tests/test_sim_simulator_test --gtest_filter=*Device*"
  )
  for r in "${runs[@]}"; do
    what=${r%%|*}
    cmd=${r#*|}
    if [ "$(left)" -lt 40 ]; then
      done_runs="$done_runs $what=skipped(time)"
      continue
    fi
    log="$LOGS/sanitizer_$(echo "$what" | tr -c 'a-z0-9\n' '_').log"
    lim=$(($(left) - 10))  # the run must not outlast the budget
    [ $lim -gt 90 ] && lim=90
    set -f  # the command is split on spaces; its gtest filters must not glob
    # shellcheck disable=SC2086
    run_timed san $lim "$log" "$SAN" --tool memcheck --leak-check no --error-exitcode 99 --print-limit 20 $cmd
    rc=$?
    set +f
    errs=$(grep -o 'ERROR SUMMARY: [0-9]* error' "$log" | grep -o '[0-9]*' | tail -1)
    if grep -q 'Device not supported' "$log"; then  # seen under gVisor: the tool refuses the GPU
      done_runs="$done_runs $what=unsupported"
      unsupported=1
    elif [ $rc = 124 ]; then
      done_runs="$done_runs $what=timeout"
    elif [ "${errs:-x}" = 0 ] && [ $rc = 0 ]; then
      done_runs="$done_runs $what=0"
    else
      bad=1
      done_runs="$done_runs $what=${errs:-?}err(rc$rc)"
    fi
  done
  st=$([ $bad = 0 ] && echo PASS || echo FAIL)
  [ $bad = 0 ] && [ $unsupported = 1 ] && st=SKIP
  [ $DRY = 1 ] && st=STUB
  printf '%s\t%s\t%s\t%s\n' "compute-sanitizer memcheck" "$st" $(($(date +%s) - t)) \
    "beside training; errors per run:$done_runs" >"$LOGS/sanitizer.part"
}

# ---- 6. training set simulated on the GPU, 3-minute training; beside it the sanitizer runs and
# the CPU benchmarks (forward model against VBMicrolensing) on the cores the trainer leaves.
t=$(date +%s)
dev=cuda
[ $DRY = 1 ] && dev=cpu
DATA=/tmp/lensflow_device_data
RUN=/tmp/lensflow_device_run
rm -rf "$DATA" "$RUN"
sim_args=(--out "$DATA" --n-events "$SIM_EVENTS" --events-per-shard 4000 --seed 11 --device "$dev" --quiet)
[ $DRY = 1 ] && sim_args+=(--point-source)
sim_limit=60
[ $DRY = 1 ] && sim_limit=300
run_timed sim "$sim_limit" "$LOGS/simulate.log" "$B/apps/lensflow-simulate" "${sim_args[@]}"
rc=$?
if [ $rc = 0 ]; then
  add_part "simulate ($dev)" PASS $(($(date +%s) - t)) "$SIM_EVENTS draws: $(grep -o '[0-9.]* events/s' "$LOGS/simulate.log" | tail -1)"
elif ls "$DATA"/*.h5 >/dev/null 2>&1; then
  add_part "simulate ($dev)" TIME $(($(date +%s) - t)) "stopped after ${sim_limit} s; training on the $(ls "$DATA"/*.h5 | wc -l) complete shard(s)"
else
  add_part "simulate ($dev)" FAIL $(($(date +%s) - t)) "exit $rc (see simulate.log)"
  # Still train on something: point-source sequences take seconds.
  t=$(date +%s)
  rm -rf "$DATA"
  run_timed sim 60 "$LOGS/simulate_point.log" "$B/apps/lensflow-simulate" "${sim_args[@]}" --point-source
  rc=$?
  add_part "simulate ($dev, point source)" $([ $rc = 0 ] && echo PASS || echo FAIL) $(($(date +%s) - t)) "fallback for the training"
fi
t=$(date +%s)
minutes=$TRAIN_MINUTES
budget_min=$(awk -v l="$(left)" 'BEGIN { printf "%.2f", (l - 30) / 60 }')
minutes=$(awk -v a="$minutes" -v b="$budget_min" 'BEGIN { print (b < a ? b : a) }')
san_pid=""
if [ $DRY = 1 ]; then
  # The run list goes through a stand-in that drops the 8 tool arguments and runs the program
  # (on a CPU build the GPU programs skip or refuse): this checks the commands, not memory.
  ENV_LINES+=("compute-sanitizer of the GPU run: ${SAN:-none found}; dry run uses a stand-in")
  SAN=$LOGS/sanitizer_standin.sh
  printf '#!/bin/sh\nshift 8\n"$@"\nrc=$?\necho "========= ERROR SUMMARY: 0 errors"\nexit $rc\n' >"$SAN"
  chmod +x "$SAN"
  sanitizer_part &
  san_pid=$!
elif [ -z "$SAN" ]; then
  add_part "compute-sanitizer memcheck" SKIP 0 "no compute-sanitizer in the toolkit and no .whl carried"
else
  sanitizer_part &
  san_pid=$!
fi
if ls "$DATA"/*.h5 >/dev/null 2>&1 && awk -v m="$minutes" 'BEGIN { exit !(m > 0.1) }'; then
  cfg=paper batch=512 tthreads=2
  [ $DRY = 1 ] && cfg=small batch=16 tthreads=1
  pin 0-1 "$B/apps/lensflow-train" --data "$DATA" --out "$RUN" --config $cfg --epochs 400 --batch $batch \
    --device $dev --threads $tthreads --seed 3 --max-minutes "$minutes" --quiet >"$LOGS/train.log" 2>&1 &
  train_pid=$!
  cpu_cores="3-$(($(nproc) - 1))"  # 0-1 train, 2 the sanitizer's host side
  [ "$(nproc)" -le 3 ] && cpu_cores=0-$(($(nproc) - 1))
  for b in bench_point_source_bench bench_finite_source_bench; do
    tb=$(date +%s)
    lim=$(awk -v m="$minutes" 'BEGIN { printf "%d", m * 60 / 2 }')
    [ $DRY = 1 ] && lim=300
    [ "$lim" -lt 20 ] && lim=20
    # shellcheck disable=SC2046
    (cd "$B" && run_timed "$b" "$lim" "$LOGS/$b.log" $(pin_prefix "$cpu_cores") "$B/bench/$b")
    rc=$?
    collect_figures
    add_part "$b (CPU, beside training)" $([ $rc = 0 ] && echo PASS || ([ $rc = 124 ] && echo TIME || echo FAIL)) \
      $(($(date +%s) - tb)) "exit $rc, $(grep -c '^RESULT' "$LOGS/$b.log") figures, VBMicrolensing $vbm"
  done
  wait $train_pid
  rc=$?
  last=$(tail -1 "$RUN/log.csv" 2>/dev/null)
  # The model at its best validation NLL (best.h5: no optimizer state; the paper network's full
  # checkpoint.h5 is ~75 MB, over what a device call returns): in 15 MiB pieces when larger.
  ckpt_note="no checkpoint"
  ck=$RUN/best.h5
  [ -f "$ck" ] || ck=$RUN/checkpoint.h5
  if [ -f "$ck" ]; then
    size=$(stat -c %s "$ck")
    if [ "$size" -le $((15 << 20)) ]; then
      cp "$ck" "$OUT/" && ckpt_note="$(basename "$ck") returned"
    elif [ "$size" -le $((45 << 20)) ]; then
      split -b 15M -d "$ck" "$OUT/$(basename "$ck").part-" &&
        ckpt_note="$(basename "$ck") in pieces: cat $(basename "$ck").part-* > $(basename "$ck")"
    else
      ckpt_note="$(basename "$ck") is $((size >> 20)) MiB: too large to return"
    fi
  fi
  [ -f "$RUN/log.csv" ] && cp "$RUN/log.csv" "$LOGS/train_log.csv"
  add_part "train ($cfg, $dev, ${minutes} min)" $([ $rc = 0 ] && [ -f "$RUN/checkpoint.h5" ] && echo PASS || echo FAIL) \
    $(($(date +%s) - t)) "exit $rc; epochs $(($(wc -l <"$RUN/log.csv" 2>/dev/null || echo 1) - 1)); last epoch,train_nll,val_nll,lr,s: ${last:-none}; $ckpt_note"
else
  add_part "train" SKIP 0 "no training data or no time left ($(left) s)"
fi
if [ -n "$san_pid" ]; then
  wait "$san_pid"
  IFS=$'\t' read -r sname sst ssec snote <"$LOGS/sanitizer.part" 2>/dev/null &&
    add_part "$sname" "$sst" "$ssec" "$snote" || add_part "compute-sanitizer memcheck" FAIL 0 "no result"
fi

collect_figures
write_summary
cat "$OUT/summary.txt"
rm -rf "$LOGS"
grep -qE ' (FAIL|TIME) ' "$OUT/summary.txt" && exit 1
exit 0
