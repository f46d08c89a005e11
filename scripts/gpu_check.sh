#!/usr/bin/env bash
# GPU measurement of the table builder, sized for one device call (under 9 minutes on an H100):
#   (a) cell-epochs per second of the reference loop and of the stacked fast path under protocol `fast`
#       (1 epoch of 5,120 images, 3 interleaved rounds, medians): scripts/bench_train.py
#   (b) protocol `fast` on a stratified sample of 64 cells (one per quantile of NB201's 200-epoch accuracy),
#       then Kendall tau against NAS-Bench-201's 200-epoch test accuracy: scripts/table_tau.py
#
# Usage, from the repository root of a machine with a CUDA torch:
#   mkdir -p .data && cp ../shared/data/cifar10/cifar10-jpeg.tar.gz .data/   # git-ignored; carry `.data`
#   bash scripts/gpu_check.sh           # everything lands in ${OUT:-.}/results/gpu-check/
#   DRY_RUN=1 bash scripts/gpu_check.sh # the same steps on the CPU at toy sizes, no GPU or nvidia-smi needed
#                                       # (tests/test_gpu_check.py runs it, so the script cannot rot unseen)
# Environment: CELLS (64; dry run 4), GROUP (cells per stacked step, 16), TRAIN_LIMIT (seconds for (b), 330),
# PY (python3). The shard of (b) is rewritten after every group, so a run stopped by TRAIN_LIMIT still reports the
# cells it finished; rerunning the script resumes (b) where it stopped.
set -uo pipefail

DRY_RUN=${DRY_RUN:-0}
GROUP=${GROUP:-16}
TRAIN_LIMIT=${TRAIN_LIMIT:-330}
OUT=${OUT:-.}
PY=${PY:-python3}
RES="$OUT/results/gpu-check"
mkdir -p "$RES"
source "$(dirname "$0")/gpu_env.sh"
CLI=($PY -c "from nasbench_suite.cli import main; main()")
if [ "$DRY_RUN" = 1 ]; then
  CELLS=${CELLS:-4}
  DEVICE=cpu
  PROTOCOL=tiny
  echo '{"name": "tiny", "epochs": 1, "batch_size": 50, "channels": 4, "cells_per_stage": 1, "train_images": 200,
         "valid_images": 100, "test_images": 100, "eval_batch_size": 100}' > "$RES/tiny.json"
  BENCH=(--protocol "$RES/tiny.json" --images 200 --cells 2 --rounds 1 --levers reference stacked)
  TRAIN=(--protocol "$RES/tiny.json" --threads 1)
  echo "cpu dry run (DRY_RUN=1): toy sizes, no GPU" | tee "$RES/gpu.txt"
else
  CELLS=${CELLS:-64}
  DEVICE=cuda
  PROTOCOL=fast
  BENCH=(--protocol fast --images 5120 --cells "$GROUP" --rounds 3 --levers reference stacked)
  TRAIN=(--protocol fast --group-size "$GROUP")
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee "$RES/gpu.txt"
fi

echo "== (a) reference loop vs fast path =="
$PY -c "from nasbench_suite.data import load_cifar10; d = load_cifar10(); print(d.name, d.sha256)"  # decode once
timeout 150 $PY scripts/bench_train.py --device "$DEVICE" "${BENCH[@]}" --json "$RES/bench.json" 2>&1 \
  | tee "$RES/bench.txt"

echo "== (b) protocol $PROTOCOL on $CELLS stratified cells =="
timeout "$TRAIN_LIMIT" "${CLI[@]}" train "${TRAIN[@]}" --archs "stratified:$CELLS" --seeds 0 --device "$DEVICE" \
  --out "$RES/$PROTOCOL-shards" 2>&1 | tr '\r' '\n' | grep -v '^$' | tail -n 5
"${CLI[@]}" merge "$RES/$PROTOCOL-shards" --out "$RES/$PROTOCOL-$CELLS.h5"
$PY scripts/table_tau.py "$RES/$PROTOCOL-$CELLS.h5" --plot "$RES/${PROTOCOL}_vs_nb201" | tee "$RES/tau.txt"
