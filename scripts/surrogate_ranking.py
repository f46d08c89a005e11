"""Does a surrogate benchmark rank search strategies like the true table does?

    python scripts/surrogate_ranking.py [--table nb201-cifar10] [--sizes 100,300,1000] [--preset default]
        [--seeds N] [--strategies a,b] [--jobs 2] [--out results/surrogates/ranking]

For each N, fits the default surrogate (XGBoost) on N random cells of the table (search metric curve + report
metric) and runs the preset's leaderboard on that surrogate benchmark, once sampling each answer like a fresh
training run and once answering the predicted mean, and on the table itself. Reports the Kendall tau between
the strategy rankings (by mean final score and by mean rank) and, per strategy, the difference in mean final
score (benchmark - table). As a noise ceiling, the table's leaderboard with another set of seeds is compared the
same way. Runs and surrogates are stored under --out, so an interrupted script resumes.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from nasbench_suite.benchmark import SurrogateBenchmark
from nasbench_suite.report import leaderboard, markdown_table
from nasbench_suite.runner import get_preset, run
from nasbench_suite.strategies import STRATEGIES
from nasbench_suite.surrogate import Surrogate, load
from nasbench_suite.table import open_table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--table", default="nb201-cifar10")
    parser.add_argument("--sizes", default="100,300,1000")
    parser.add_argument("--preset", default="default")
    parser.add_argument("--seeds", type=int, default=None, help="runs per strategy; default: the preset's")
    parser.add_argument("--strategies", default=None, help="comma-separated; default: every registered one")
    parser.add_argument("--model", default="xgb")
    parser.add_argument("--seed", type=int, default=0, help="picks the surrogates' training cells")
    parser.add_argument("--jobs", type=int, default=os.cpu_count())
    parser.add_argument("--out", type=Path, default=Path("results/surrogates/ranking"))
    args = parser.parse_args()

    table, preset = open_table(args.table), get_preset(args.preset)
    names = sorted(STRATEGIES) if args.strategies is None else args.strategies.split(",")
    seeds = args.seeds or preset.seeds
    proxy = table.column(preset.proxy_column) if preset.proxy_column in table.columns else None
    settings = dict(strategies=names, seeds=seeds, budget=preset.budget, default_fidelity=preset.search_fidelity,
                    fidelities=preset.multi_fidelities, proxy=proxy, jobs=args.jobs, resume=True, progress=True,
                    protocol={"preset": preset.name})
    print(f"{len(names)} strategies x {seeds} seeds, preset {preset.name} ({preset.budget}) on {args.table}")
    truth = leaderboard(run(preset.benchmark(table), out_dir=args.out / "table", **settings))
    reported = table.values(preset.report_metric, preset.report_epoch)
    rows, summary = [], []

    def compare(label: str, n: int, runs) -> None:
        """Rows per strategy and one summary row: this leaderboard against the table's (seeds 0..n-1)."""
        board = leaderboard(runs)
        for s in names:
            finals = [reported[r.incumbent[-1]] if len(r.incumbent) and r.incumbent[-1] >= 0 else np.nan
                      for r in runs.of(s)]
            rows.append({"benchmark": label, "train_cells": n, "strategy": s,
                         "table_final": truth.loc[s, "final_mean"], "bench_final": board.loc[s, "final_mean"],
                         "difference": board.loc[s, "final_mean"] - truth.loc[s, "final_mean"],
                         "true_final_of_bench_runs": float(np.nanmean(finals)),
                         "table_rank": truth.loc[s, "mean_rank"], "bench_rank": board.loc[s, "mean_rank"]})
        part = pd.DataFrame(rows[-len(names):])
        summary.append({"benchmark": label, "train_cells": n,
                        "tau_final_mean": stats.kendalltau(part["bench_final"], part["table_final"])[0],
                        "tau_mean_rank": stats.kendalltau(part["bench_rank"], part["table_rank"])[0],
                        "tau_true_final": stats.kendalltau(part["true_final_of_bench_runs"], part["table_final"])[0],
                        "mean_abs_difference": part["difference"].abs().mean()})

    # Noise ceiling of the comparison itself: the same table with another set of seeds.
    compare("table, seeds n..2n-1", 0, run(preset.benchmark(table), out_dir=args.out / "table-other-seeds",
                                          **{**settings, "seeds": list(range(seeds, 2 * seeds))}))
    for n in [int(v) for v in args.sizes.split(",")]:
        folder = args.out / f"surrogate-n{n}"
        path = folder / "surrogate.surrogate"
        if path.is_file():
            surrogate = load(path, table=table)
        else:
            cells = np.random.default_rng([args.seed, n]).choice(table.archs, size=n, replace=False)
            target = f"{preset.search_metric},{preset.report_metric}@{preset.report_epoch}"
            surrogate = Surrogate(model=args.model, target=target, seed=args.seed).fit(table, cells)
            surrogate.save(path)
        for noise in (True, False):
            bench = SurrogateBenchmark(surrogate, table, preset.search_metric, preset.report_metric,
                                       preset.report_epoch, noise=noise)
            label = "surrogate, sampled" if noise else "surrogate, mean"
            compare(label, n, run(bench, out_dir=folder / ("sampled" if noise else "mean"), **settings))
    detail, overview = pd.DataFrame(rows), pd.DataFrame(summary)
    args.out.mkdir(parents=True, exist_ok=True)
    name = "ranking" if seeds == preset.seeds else f"ranking-{seeds}seeds"  # keep the preset's report too
    detail.to_csv(args.out / f"{name}_detail.csv", index=False, float_format="%.4f")
    overview.to_csv(args.out / f"{name}_summary.csv", index=False, float_format="%.4f")
    text = (f"# Strategy rankings: surrogate benchmark vs {args.table}\n\n{len(names)} strategies x {seeds} seeds, "
            f"preset {preset.name} ({preset.budget}); surrogate {args.model} on N random cells. "
            "tau: Kendall tau between the strategies' "
            "mean final scores (or mean ranks) on this benchmark and on the table with seeds 0..n-1; "
            "true_final: the table's report value of the cells the runs on this benchmark ended with.\n\n"
            + markdown_table(overview) + "\n\n"
            + markdown_table(detail) + "\n")
    (args.out / f"{name}.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
