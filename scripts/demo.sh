#!/usr/bin/env bash
# End-to-end demo: install dependencies, build, simulate a small training set, train a small
# network for a few minutes, infer the test set, evaluate it and draw the plots into demo_out/.
# About 4 minutes on 2 idle CPU cores (3 min 40 s measured from a fresh clone); rerunning reuses the dataset and resumes the training.
#
# Settings (environment variables):
#   N_EVENTS=3000    prior draws to simulate (~30% pass the 1L1S cut; the paper drew 10^6)
#   TOL=1e-2         finite-source relative tolerance of the simulation (the training set uses 1e-3)
#   EPOCHS=15        training epochs (cosine schedule over all of them)
#   TRAIN_MINUTES=5  time budget of the training (stops with a checkpoint; rerun to continue)
#   BATCH=32         batch size (the paper: 512)
#   CONFIG=small     network size: small (CPU) or paper (docs/conventions.md §Network, for a GPU)
#   N_SAMPLES=2000   posterior samples per test event
#   TEST_FRACTION=0.1  share of the events kept for the test set (the paper: 5%)
#   DEVICE=auto      cpu, cuda, or auto (cuda when nvidia-smi sees a GPU and nvcc exists)
#   THREADS=0        CPU threads (0 = all cores)
#   OUT=demo_out     output directory;  BUILD_DIR=build-demo  build directory
set -euo pipefail
cd "$(dirname "$0")/.."

N_EVENTS=${N_EVENTS:-3000}
TOL=${TOL:-1e-2}
EPOCHS=${EPOCHS:-15}
TRAIN_MINUTES=${TRAIN_MINUTES:-5}
BATCH=${BATCH:-32}
CONFIG=${CONFIG:-small}
N_SAMPLES=${N_SAMPLES:-2000}
TEST_FRACTION=${TEST_FRACTION:-0.1}
DEVICE=${DEVICE:-auto}
THREADS=${THREADS:-0}
OUT=${OUT:-demo_out}
BUILD_DIR=${BUILD_DIR:-build-demo}
SEED=${SEED:-1}

if [ "$DEVICE" = auto ]; then
  if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1 && command -v nvcc >/dev/null 2>&1; then
    DEVICE=cuda
  else
    DEVICE=cpu
  fi
fi
step() { printf '\n== %s [%s]\n' "$1" "$(date +%H:%M:%S)"; }

step "1/6 dependencies"
bash scripts/install_deps.sh

step "2/6 build ($BUILD_DIR, device $DEVICE; libraries and programs only)"
cuda_flag=-DLENSFLOW_ENABLE_CUDA=OFF
[ "$DEVICE" = cuda ] && cuda_flag=-DLENSFLOW_ENABLE_CUDA=ON
BUILD_DIR=$BUILD_DIR bash scripts/build.sh -DLENSFLOW_BUILD_TESTS=OFF -DLENSFLOW_BUILD_BENCH=OFF "$cuda_flag"
BIN=$BUILD_DIR/apps

DATA=$OUT/data_n${N_EVENTS}_tol${TOL}_seed${SEED}
RUN=$OUT/run_${CONFIG}_e${EPOCHS}_b${BATCH}_seed${SEED}
POST=$OUT/posterior_test.h5
EVAL=$OUT/eval
mkdir -p "$OUT"

step "3/6 simulate $N_EVENTS prior draws (finite source, tolerance $TOL, 1L1S cut 'paper')"
"$BIN/lensflow-simulate" --out "$DATA" --n-events "$N_EVENTS" --seed "$SEED" --tol "$TOL" \
  --device "$DEVICE" --threads "$THREADS"

step "4/6 train ($CONFIG model, $EPOCHS epochs, at most $TRAIN_MINUTES min)"
"$BIN/lensflow-train" --data "$DATA" --out "$RUN" --config "$CONFIG" --epochs "$EPOCHS" \
  --batch "$BATCH" --device "$DEVICE" --threads "$THREADS" --seed "$SEED" \
  --test-fraction "$TEST_FRACTION" --max-minutes "$TRAIN_MINUTES"

step "5/6 infer the test set ($N_SAMPLES samples per event)"
"$BIN/lensflow-infer" --model "$RUN/checkpoint.h5" --test-set "$DATA" --out "$POST" \
  --n-samples "$N_SAMPLES" --device "$DEVICE" --threads "$THREADS" --seed "$SEED"

step "6/6 evaluate and plot"
"$BIN/lensflow-evaluate" --posterior "$POST" --out "$EVAL" --plots --plot-events 3

printf '\nDemo finished. Outputs in %s/:\n' "$OUT"
printf '  training log      %s/log.csv\n' "$RUN"
printf '  posterior samples %s (summary: %s)\n' "$POST" "${POST%.h5}_summary.csv"
printf '  metrics           %s/metrics.csv, %s/metrics.json\n' "$EVAL" "$EVAL"
printf '  plots             %s\n' "$(ls "$EVAL"/*.png | tr '\n' ' ')"
