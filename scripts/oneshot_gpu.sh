#!/usr/bin/env bash
# Weight-sharing search with NAS-Bench-201's search setting (C=16, N=5, cifar10-valid 25k/25k) on one GPU.
#
# Usage, from the repository root of a machine with a CUDA torch:
#   mkdir -p .data && cp ../shared/data/cifar10/cifar10-jpeg.tar.gz .data/   # git-ignored; carry `.data`
#   bash scripts/oneshot_gpu.sh        # checkpoints in runs/oneshot-gpu/, report in ${OUT:-.}/results/oneshot-gpu/
#
# Environment (defaults sized for a 15-minute device lease, about 9 minutes of search):
#   METHODS  methods to run, in order                        (darts gdas rsps enas)
#   EPOCHS   "method=epochs ..." overrides; unlisted methods use DEFAULT_EPOCHS   (darts=4 gdas=8 rsps=15 enas=6)
#   DEFAULT_EPOCHS  epochs for unlisted methods; "paper" = NB201's (50, 240, 250, 310)  (paper)
#   SEEDS    seeds per method                                 (0)
#   LIMIT    seconds per method before it is stopped; finished epochs are kept          (110)
#   OUT      where results/oneshot-gpu/ is written (the device tool's $OUT comes back)  (.)
# A method stopped by LIMIT keeps its checkpointed epochs (the report shows "k of E epochs"); rerunning the
# script resumes every run where it stopped.
set -uo pipefail

METHODS=${METHODS:-"darts gdas rsps enas"}
EPOCHS=${EPOCHS:-"darts=4 gdas=8 rsps=15 enas=6"}
DEFAULT_EPOCHS=${DEFAULT_EPOCHS:-paper}
SEEDS=${SEEDS:-0}
LIMIT=${LIMIT:-110}
OUT=${OUT:-.}
PY=${PY:-python3}
source "$(dirname "$0")/gpu_env.sh"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
$PY -c "from nasbench_suite.data import load_cifar10; print(load_cifar10().name)"  # decode once, outside LIMIT
RUNS=runs/oneshot-gpu
RESULTS=$OUT/results/oneshot-gpu

for method in $METHODS; do
  epochs=$DEFAULT_EPOCHS
  for pair in $EPOCHS; do [ "${pair%%=*}" = "$method" ] && epochs=${pair#*=}; done
  args=(--method "$method" --seeds "$SEEDS" --setting nb201 --device cuda --out "$RUNS"
        --results "$RESULTS")
  [ "$epochs" != paper ] && args+=(--epochs "$epochs")
  echo "== $method: ${epochs} epochs, seeds $SEEDS, limit ${LIMIT}s" >&2
  timeout --signal=INT "$LIMIT" $PY -m nasbench_suite oneshot "${args[@]}"
  echo "== $method exit $?" >&2
done
# The report of every run so far, including runs stopped by LIMIT.
$PY -c "
from nasbench_suite.oneshot.summary import collect, write_report
write_report(collect('$RUNS'), '$RESULTS')
print(open('$RESULTS/leaderboard.md').read())"
