#!/usr/bin/env bash
# GPU measurement of the table builder, sized for one device call (under 9 minutes on an H100):
#   (a) cell-epochs per GPU-second of the reference loop and of the stacked fast path on the full skeleton
#       (C=16, N=5, batch 256, extrapolated to 50k-image epochs from timed steps): scripts/bench_train.py
#   (b) protocol `fast` on a stratified sample of 64 cells (one per quantile of NB201's 200-epoch accuracy),
#       then Kendall tau against NAS-Bench-201's 200-epoch test accuracy: scripts/table_tau.py
#
# Usage, from the repository root of a machine with a CUDA torch:
#   mkdir -p .data && cp ../shared/data/cifar10/cifar10-jpeg.tar.gz .data/   # git-ignored; carry `.data`
#   bash scripts/gpu_check.sh           # everything lands in ${OUT:-.}/results/gpu-check/
# Environment: CELLS (64), GROUP (cells per stacked step, 16), TRAIN_LIMIT (seconds for (b), 330), PY (python3).
# The shard of (b) is rewritten after every group, so a run stopped by TRAIN_LIMIT still reports the cells it
# finished; rerunning the script resumes (b) where it stopped.
set -uo pipefail

CELLS=${CELLS:-64}
GROUP=${GROUP:-16}
TRAIN_LIMIT=${TRAIN_LIMIT:-330}
OUT=${OUT:-.}
PY=${PY:-python3}
RES="$OUT/results/gpu-check"
mkdir -p "$RES"
source "$(dirname "$0")/gpu_env.sh"
CLI=($PY -c "from nasbench_suite.cli import main; main()")
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee "$RES/gpu.txt"

echo "== (a) reference loop vs fast path, full skeleton =="
$PY -c "from nasbench_suite.data import load_cifar10; d = load_cifar10(); print(d.name, d.sha256)"  # decode once
timeout 150 $PY scripts/bench_train.py --device cuda --channels 16 --cells-per-stage 5 --batch 256 --steps 30 \
  --cells "$GROUP" --reference-cells 2 --json "$RES/bench.json" 2>&1 | tee "$RES/bench.txt"

echo "== (b) protocol fast on $CELLS stratified cells =="
timeout "$TRAIN_LIMIT" "${CLI[@]}" train --protocol fast --archs "stratified:$CELLS" --seeds 0 --device cuda \
  --group-size "$GROUP" --out "$RES/fast-shards" 2>&1 | tr '\r' '\n' | grep -v '^$' | tail -n 5
"${CLI[@]}" merge "$RES/fast-shards" --out "$RES/fast-$CELLS.h5"
$PY scripts/table_tau.py "$RES/fast-$CELLS.h5" --plot "$RES/fast_vs_nb201" | tee "$RES/tau.txt"
