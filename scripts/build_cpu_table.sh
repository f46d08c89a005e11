#!/usr/bin/env bash
# Build, or resume, the `cpu` table (protocol `cpu`, chosen by the pilot in results/protocol_pilot/): seed 0 on
# 553 canonical cells (a uniform sample of 500 plus the pilot's 60 stratified cells; the pilot's uniform cells are
# the first 24 of the 500), seed 1 on the first 50 uniform cells (the noise ceiling), then one merged table
# (TABLE, default tables/cifar10-jpeg75-cpu.h5: the embedded table).
#
#   bash scripts/build_cpu_table.sh [OUT]        # default results/cpu-table; rerun to resume after any stop
#   WORKERS=2 ADOPT=pilot/runs/c16n1-16px-10k-4ep bash scripts/build_cpu_table.sh
#
# WORKERS: training processes (default 2, one CPU thread each). ADOPT: folders of pilot shards trained with the
# cpu settings under their pilot name; their finished cells are copied in, not retrained. Each worker rewrites its
# shard after every cell, so a stop loses at most one cell per worker.
set -euo pipefail
out=${1:-results/cpu-table}
workers=${WORKERS:-2}
adopt=()
for folder in ${ADOPT:-}; do adopt+=(--adopt "$folder"); done

train() {  # SEEDS ARCHS FOLDER
    local pids=()
    for ((k = 0; k < workers; k++)); do
        nice -n 5 nasbench-suite train --protocol cpu --seeds "$1" --archs "$2" --out "$3" --threads 1 \
            --shard "$k/$workers" "${adopt[@]}" &
        pids+=($!)
    done
    for pid in "${pids[@]}"; do wait "$pid"; done
}

train 0 canonical:500:0+stratified:60:0 "$out/seed0"
adopt=()
train 1 canonical:50:0 "$out/seed1"
nasbench-suite merge "$out/seed0" "$out/seed1" --out "${TABLE:-tables/cifar10-jpeg75-cpu.h5}"
