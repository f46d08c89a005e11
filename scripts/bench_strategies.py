"""Time each registered strategy's own overhead (ask + tell, no evaluation cost) for one run on a synthetic
landscape, and print a Markdown table.

    python scripts/bench_strategies.py [--queries 150] [--seeds 3]

The landscape is additive per-edge op scores plus noise; multi-fidelity strategies see extra noise at lower
fidelities. Timings are CPU seconds of this process per run (median over seeds), so other load on the
machine inflates them little; run with `taskset -c 0` to pin to one core.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from nasbench_suite.strategies import STRATEGIES, Context

FIDELITIES = (12, 200)
LANDSCAPE = np.random.default_rng(1234).normal(size=(6, 5))  # score of op o on edge e
OPTIMUM = float(LANDSCAPE.max(axis=1).sum())


def run_once(name: str, seed: int, queries: int) -> tuple[float, float]:
    """(CPU seconds spent inside ask/tell, noise-free value of the best cell seen at the top fidelity)."""
    noise = np.random.default_rng(seed + 10_000)
    cls = STRATEGIES[name]
    context = Context(rng=np.random.default_rng(seed), fidelities=FIDELITIES,
                      proxy=lambda arch: float(LANDSCAPE[np.arange(6), arch].sum()) + noise.normal())
    spent, best_seen, best = 0.0, -np.inf, np.nan
    start = time.process_time()
    strategy = cls(context)
    spent += time.process_time() - start
    for _ in range(queries):
        start = time.process_time()
        trial = strategy.ask()
        spent += time.process_time() - start
        true = LANDSCAPE[np.arange(6), trial.arch].sum()
        value = true + noise.normal(scale=0.2 * FIDELITIES[-1] / trial.fidelity)
        if trial.fidelity == FIDELITIES[-1] and value > best_seen:
            best_seen, best = value, true
        start = time.process_time()
        strategy.tell(trial, float(value))
        spent += time.process_time() - start
    return spent, best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queries", type=int, default=150)
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args()
    print(f"| strategy | CPU s / {args.queries}-query run (median of {args.seeds}) | true value of best seen "
          f"(median; optimum {OPTIMUM:.2f}) |")
    print("|---|---:|---:|")
    for name in sorted(STRATEGIES):
        runs = [run_once(name, seed, args.queries) for seed in range(args.seeds)]
        seconds, best = np.median([r[0] for r in runs]), np.median([r[1] for r in runs])
        print(f"| {name} | {seconds:.3f} | {best:.2f} |")


if __name__ == "__main__":
    main()
