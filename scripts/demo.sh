#!/usr/bin/env bash
# End-to-end demo: install dependencies, build, simulate a fresh test set, infer it with the
# shipped model (models/medium-fold4, trained on 28,758 events), evaluate it, and draw the plots
# and the paper's degenerate examples into demo_out/. About 5 minutes on 2 idle CPU cores.
# TRAIN=1 instead simulates a small training set and trains its own small network for a few
# minutes first (about 4 minutes more; rerunning reuses the dataset and resumes the training).
#
# Settings (environment variables):
#   MODEL=models/medium-fold4  model to infer with (TRAIN=1: the run trained here)
#   TRAIN=0          1: simulate a training set and train a model here first
#   N_EVENTS=         prior draws to simulate (~29% pass the 1L1S cut): 800 for the test set of the
#                    shipped model, 3000 with TRAIN=1 (training + test; the paper drew 10^6)
#   TOL=1e-2         finite-source relative tolerance of the simulation (the training set uses 1e-3)
#   EPOCHS=15        TRAIN=1: training epochs (cosine schedule over all of them)
#   TRAIN_MINUTES=5  TRAIN=1: time budget of the training (stops with a checkpoint; rerun to continue)
#   BATCH=32         TRAIN=1: batch size (the paper: 512)
#   CONFIG=small     TRAIN=1: network size: small (CPU) or paper (docs/conventions.md §Network, for a GPU)
#   N_SAMPLES=2000   posterior samples per test event
#   TEST_FRACTION=0.1  TRAIN=1: share of the events kept for the test set (the paper: 5%)
#   DEVICE=auto      cpu, cuda, or auto (cuda when nvidia-smi sees a GPU and nvcc exists)
#   THREADS=0        CPU threads (0 = all cores)
#   SEED=            simulation seed: 7 for the shipped model's test set (it was trained on seed 1), 1 with TRAIN=1
#   OUT=demo_out     output directory;  BUILD_DIR=build-demo  build directory
set -euo pipefail
cd "$(dirname "$0")/.."

TRAIN=${TRAIN:-0}
MODEL=${MODEL:-models/medium-fold4}
if [ "$TRAIN" = 1 ]; then N_EVENTS=${N_EVENTS:-3000}; SEED=${SEED:-1}; else N_EVENTS=${N_EVENTS:-800}; SEED=${SEED:-7}; fi
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
POST=$OUT/posterior_test.h5
EVAL=$OUT/eval
mkdir -p "$OUT"

step "3/6 simulate $N_EVENTS prior draws (seed $SEED, finite source, tolerance $TOL, 1L1S cut 'paper')"
"$BIN/lensflow-simulate" --out "$DATA" --n-events "$N_EVENTS" --seed "$SEED" --tol "$TOL" \
  --device "$DEVICE" --threads "$THREADS"

if [ "$TRAIN" = 1 ]; then
  RUN=$OUT/run_${CONFIG}_e${EPOCHS}_b${BATCH}_seed${SEED}
  step "4/6 train ($CONFIG model, $EPOCHS epochs, at most $TRAIN_MINUTES min)"
  "$BIN/lensflow-train" --data "$DATA" --out "$RUN" --config "$CONFIG" --epochs "$EPOCHS" \
    --batch "$BATCH" --device "$DEVICE" --threads "$THREADS" --seed "$SEED" \
    --test-fraction "$TEST_FRACTION" --max-minutes "$TRAIN_MINUTES"
  MODEL=$RUN/checkpoint.h5
  SPLIT=test
else
  [ -e "$MODEL" ] || { echo "demo: no model at $MODEL (run with TRAIN=1 to train one)" >&2; exit 1; }
  step "4/6 model: $MODEL (shipped; TRAIN=1 trains one here instead)"
  SPLIT=all  # every simulated event: the set is fresh (seed $SEED), not the model's training set
fi

step "5/6 infer the test set ($N_SAMPLES samples per event)"
"$BIN/lensflow-infer" --model "$MODEL" --test-set "$DATA" --split "$SPLIT" --out "$POST" \
  --n-samples "$N_SAMPLES" --device "$DEVICE" --threads "$THREADS" --seed "$SEED"

step "6/6 evaluate and plot"
"$BIN/lensflow-evaluate" --posterior "$POST" --out "$EVAL" --plots --plot-events 3
python3 scripts/science_report.py --posterior "$POST" --eval "$EVAL" --out "$EVAL/science" --bins 2
python3 scripts/paper_examples.py --bin "$BIN" --model "$MODEL" --out "$OUT/paper_examples" \
  --n-samples "$N_SAMPLES" --threads "$THREADS" >/dev/null

printf '\nDemo finished. Outputs in %s/:\n' "$OUT"
[ "$TRAIN" = 1 ] && printf '  training log      %s/log.csv\n' "$RUN"
printf '  posterior samples %s (summary: %s)\n' "$POST" "${POST%.h5}_summary.csv"
printf '  metrics           %s/metrics.csv, %s/metrics.json, %s/science/report.md\n' "$EVAL" "$EVAL" "$EVAL"
printf '  plots             %s\n' "$(ls "$EVAL"/*.png | tr '\n' ' ')"
printf '  paper examples    %s/paper_examples/examples.md and corner_*.png\n' "$OUT"
