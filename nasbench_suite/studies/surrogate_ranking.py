"""Does a surrogate benchmark rank search strategies like the true table does?

For each N, fits the default surrogate (XGBoost) on N random cells of the table (search metric curve + report
metric) and runs the experiment on that surrogate benchmark, once sampling each answer like a fresh training run
and once answering the predicted mean, and on the table itself. Reports the Kendall tau between the strategy
rankings (by mean final score and by mean rank) and, per strategy, the difference in mean final score (benchmark -
table). As a noise ceiling, the table's leaderboard with another set of seeds is compared the same way. Runs and
surrogates are stored under the output folder, so an interrupted study resumes. `nasbench-suite surrogate ranking`
writes it.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from nasbench_suite.atomic import write_atomic
from nasbench_suite.report import leaderboard, markdown_table
from nasbench_suite.runner import Experiment, Runs
from nasbench_suite.surrogate import Surrogate


def surrogate_ranking(experiment: Experiment, sizes: list[int], out: str | os.PathLike, model: str = "xgb",
                      seed: int = 0, jobs: int | None = None, overwrite: bool = False) -> str:
    """Write <name>.md, <name>_detail.csv and <name>_summary.csv to `out` (name: ranking, or ranking-<n>seeds when
    the seeds are not the preset's) for `experiment` on its table; returns the Markdown text. `seed` picks the
    surrogates' training cells."""
    out = Path(out)
    setup = experiment.prepare()
    table, preset, names = setup.table, setup.preset, list(experiment.strategies)
    settings = dict(jobs=jobs, overwrite=overwrite, progress=True)
    truth = leaderboard(setup.run(out / "table", **settings))
    reported = table.values(preset.report_metric, preset.report_epoch)
    rows, summary = [], []

    def compare(label: str, n: int, runs: Runs) -> None:
        """Rows per strategy and one summary row: this leaderboard against the table's."""
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
    count = len(experiment.seeds)
    other = replace(experiment, seeds=tuple(s + count for s in experiment.seeds))
    compare("table, seeds n..2n-1", 0, other.prepare(table).run(out / "table-other-seeds", **settings))
    for n in sizes:
        folder = out / f"surrogate-n{n}"
        path = folder / "surrogate.surrogate"
        if not path.is_file():
            cells = np.random.default_rng([seed, n]).choice(table.archs, size=n, replace=False)
            target = f"{preset.search_metric},{preset.report_metric}@{preset.report_epoch}"
            Surrogate(model=model, target=target, seed=seed).fit(table, cells).save(path)
        for noise in (True, False):
            on_surrogate = replace(experiment, surrogate=str(path), surrogate_noise=noise)
            runs = on_surrogate.prepare(table).run(folder / ("sampled" if noise else "mean"), **settings)
            compare("surrogate, sampled" if noise else "surrogate, mean", n, runs)
    detail, overview = pd.DataFrame(rows), pd.DataFrame(summary)
    default_seeds = replace(experiment, seeds=()).seeds
    name = "ranking" if experiment.seeds == default_seeds else f"ranking-{count}seeds"  # keeps the preset's report
    text = (f"# Strategy rankings: surrogate benchmark vs {experiment.table}\n\n{len(names)} strategies x {count} "
            f"seeds, preset {preset.name} ({experiment.budget}); surrogate {model} on N random cells. "
            "tau: Kendall tau between the strategies' "
            "mean final scores (or mean ranks) on this benchmark and on the table with seeds 0..n-1; "
            "true_final: the table's report value of the cells the runs on this benchmark ended with.\n\n"
            + markdown_table(overview) + "\n\n"
            + markdown_table(detail) + "\n")
    for suffix, content in ((".md", text), ("_detail.csv", detail.to_csv(index=False, float_format="%.4f")),
                            ("_summary.csv", overview.to_csv(index=False, float_format="%.4f"))):
        write_atomic(out / f"{name}{suffix}", lambda fh, content=content: fh.write(content.encode()))
    return text
