"""Run strategy specs under the nb201-paper preset and print final test accuracy (mean +- std) per spec.

    python scripts/nb201_paper_methods.py [--seeds 500] [SPEC ...]

Default specs: the preset's paper searchers plus REINFORCE's learning-rate sweep. Also prints the mean number of
queries and of distinct cells asked per run (a collapsed policy asks few distinct cells). std is the population
std over runs.
"""

from __future__ import annotations

import argparse

import numpy as np

import nasbench_suite as ns
from nasbench_suite.runner import get_preset, run
from nasbench_suite.strategies import StrategySpec

SWEEP = tuple(f"reinforce:lr={lr}:incumbent={rule}" for rule in ("best", "policy") for lr in (0.001, 0.01, 0.1, 0.5))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("specs", nargs="*")
    parser.add_argument("--seeds", type=int, default=500)
    args = parser.parse_args()
    preset = get_preset("nb201-paper")
    table = ns.open_table("nb201-cifar10")
    benchmark = preset.benchmark(table)
    specs = list(dict.fromkeys(StrategySpec.parse(s).label for s in args.specs or preset.strategies + SWEEP))
    print("| spec | final test_acc@200 mean +- std | queries/run | distinct cells/run |")
    print("|---|---|---|---|")
    for spec in specs:
        runs = run(benchmark, [spec], args.seeds, preset.budget, default_fidelity=preset.search_fidelity,
                   fidelities=preset.multi_fidelities, proxy=table.column(preset.proxy_column))
        final = np.array([r.reported[-1] for r in runs.runs])
        queries = np.mean([r.queries for r in runs.runs])
        distinct = np.mean([len(set(r.arch.tolist())) for r in runs.runs])
        print(f"| {runs.runs[0].strategy} | {final.mean():.2f} +- {final.std():.2f} | {queries:.1f} | "
              f"{distinct:.1f} |", flush=True)


if __name__ == "__main__":
    main()
