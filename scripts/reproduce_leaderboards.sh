#!/usr/bin/env bash
# Rebuild every committed leaderboard and the site from the experiment files and commands that made them, after a
# change that alters their protocol (a table, a preset, the header). Reruns reuse the runs stored under each
# folder's runs/; pass --overwrite (first argument) to replace leaderboards made under another protocol.
#   bash scripts/reproduce_leaderboards.sh [--overwrite]
set -euo pipefail
cd "$(dirname "$0")/.."
overwrite=${1:-}
jobs=${JOBS:-2}
for experiment in experiments/*.toml; do
    nasbench-suite benchmark --config "$experiment" --jobs "$jobs" $overwrite
done
for metric in latency_1080ti_1_ms latency_eyeriss_ms latency_fpga_ms latency_pixel3_ms; do
    nasbench-suite hw-benchmark --preset hw-pareto --device-metric $metric --table nb201-cifar10 \
        --strategies random,nsga2,motpe,mo-rea,pls,parego --seeds 25 --budget 200000s --jobs "$jobs" $overwrite
    nasbench-suite hw-benchmark --preset hw-constrained --device-metric $metric --table nb201-cifar10 \
        --strategies random,rea,bo --seeds 25 --budget 200000s --jobs "$jobs" $overwrite
done
JOBS=$jobs bash results/noise/run.sh
R=results/cpu-table
STRATEGIES=bananas,bo,rea,ga,hyperband,sh,bohb,local-search,optuna-tpe,qlearning,random,reinforce,tpe
nasbench-suite benchmark --table cifar10-jpeg75-cpu --surrogate $R/cifar10-jpeg75-cpu.surrogate --hybrid \
    --strategies $STRATEGIES --budget 150q --out $R/leaderboard --jobs "$jobs" $overwrite
nasbench-suite benchmark --strategies $STRATEGIES --budget 150q --out $R/nb201-leaderboard --jobs "$jobs" $overwrite
nasbench-suite compare $R/nb201-leaderboard $R/leaderboard --out $R/comparison.md
nasbench-suite report results
