"""The suite leaderboard: every strategy on 12 tasks (NB201 cifar10, cifar100, imagenet16-120 and the 9 NAS-Bench-Graph
datasets), aggregated as Agarwal et al. (NeurIPS 2021, "Deep RL at the edge of the statistical precipice") recommend.

A run's score on a task is normalised: 0 = the task's median cell, 1 = its best cell (report metric over the
searchable cells), so tasks of different metrics and spreads weigh alike. Aggregates: the interquartile mean (IQM)
of all runs' scores with a stratified-bootstrap 95% interval (runs resampled within each task), performance
profiles (share of runs scoring above tau), probability of improvement between strategies (per task
P(X > Y) + P(X = Y) / 2 over run pairs, averaged over tasks), and mean rank over tasks with the Nemenyi critical
difference (Demsar 2006). Kendall tau between every pair of tasks' strategy rankings says whether a ranking transfers.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from nasbench_suite import jsonio
from nasbench_suite.atomic import write_atomic
from nasbench_suite.errors import UserInputError
from nasbench_suite.importers.nbgraph import DATASETS
from nasbench_suite.runner import Budget
from nasbench_suite.runner.experiment import Experiment
from nasbench_suite.runner.presets import get_preset
from nasbench_suite.strategies import STRATEGIES

BOOTSTRAP = 2000  # stratified-bootstrap resamples of the IQM interval
TAUS = np.linspace(-1.0, 1.0, 81)  # normalised-score thresholds of the performance profiles


def normalised(final: np.ndarray, median: float, best: float) -> np.ndarray:
    """Scores with 0 = the task's median cell and 1 = its best cell."""
    return (np.asarray(final, dtype=np.float64) - median) / (best - median)


def iqm(scores: np.ndarray, axis: int | None = None) -> np.ndarray:
    """Interquartile mean: the mean of the middle 50% (25% trimmed from each end) along `axis` (None: all)."""
    return stats.trim_mean(scores, 0.25, axis=axis)


def stratified_bootstrap_ci(scores: np.ndarray, rng: np.random.Generator, reps: int = BOOTSTRAP,
                            level: float = 0.95) -> tuple[float, float]:
    """Percentile interval of the IQM of `scores` (tasks x runs), each resample drawing runs within every task."""
    tasks, runs = scores.shape
    picks = rng.integers(runs, size=(reps, tasks, runs))
    resampled = scores[np.arange(tasks)[None, :, None], picks].reshape(reps, -1)
    low, high = np.percentile(iqm(resampled, axis=1), [50 * (1 - level), 50 * (1 + level)])
    return float(low), float(high)


def performance_profile(scores: np.ndarray, taus: np.ndarray = TAUS) -> np.ndarray:
    """For each tau, the share of all runs (every task) whose score exceeds it."""
    return (scores.reshape(-1)[None, :] > np.asarray(taus)[:, None]).mean(axis=1)


def probability_of_improvement(x: np.ndarray, y: np.ndarray) -> float:
    """P(X > Y) + P(X = Y) / 2 over the run pairs of each task (tasks x runs each), averaged over tasks."""
    per_task = [(a[:, None] > b[None, :]).mean() + 0.5 * (a[:, None] == b[None, :]).mean() for a, b in zip(x, y)]
    return float(np.mean(per_task))


def mean_ranks(means: np.ndarray) -> np.ndarray:
    """Mean over tasks of each strategy's rank (1 = best mean score; ties share their average rank);
    `means` is strategies x tasks."""
    return np.mean([stats.rankdata(-column) for column in means.T], axis=0)


def critical_difference(strategies: int, tasks: int, alpha: float = 0.05) -> float:
    """Nemenyi's critical difference of mean ranks: q_alpha * sqrt(k (k + 1) / (6 N)), q_alpha the studentized range
    quantile over sqrt(2) (Demsar 2006, Table 5: 2.343 for k = 3 at alpha 0.05)."""
    q = stats.studentized_range.ppf(1 - alpha, strategies, np.inf) / np.sqrt(2)
    return float(q * np.sqrt(strategies * (strategies + 1) / (6 * tasks)))


def kendall_between_tasks(means: np.ndarray) -> np.ndarray:
    """Kendall tau-b between the strategy rankings (by mean score) of every pair of tasks; `means` is strategies x
    tasks, the result tasks x tasks."""
    tasks = means.shape[1]
    out = np.ones((tasks, tasks))
    for i in range(tasks):
        for j in range(i + 1, tasks):
            out[i, j] = out[j, i] = stats.kendalltau(means[:, i], means[:, j]).statistic
    return out


# ---- running and writing the suite ------------------------------------------------------------------------------
TASKS: tuple[tuple[str, str], ...] = (
    ("nb201-cifar10", "default"), ("nb201-cifar100", "default"), ("nb201-imagenet16-120", "default"),
    *((f"nbg-{dataset}", "nbgraph") for dataset in DATASETS))  # (table, preset)
BUDGET = Budget(100, "queries")  # one unit on every task: NAS-Bench-Graph records no training time
SEEDS = 25


def default_strategies() -> list[str]:
    """Every registered strategy that runs on every task (a zero-cost proxy exists on NB201 only)."""
    return get_preset("nbgraph").default_strategies(STRATEGIES)


def run_suite(out: Path, strategies: list[str], seeds: list[int], budget: Budget = BUDGET, jobs: int | None = None,
              tasks: tuple[tuple[str, str], ...] = TASKS) -> dict:
    """Run every strategy x seed on every task (runs stored under out/<table>/, reused on a rerun: Ctrl-C resumes)
    and return the aggregate (see `aggregate`)."""
    if budget.unit != "queries":
        raise UserInputError(f"budget of {budget}: the suite counts queries on every task (NAS-Bench-Graph records "
                             "no training time); expected a query budget such as 100q")
    scores, labels = [], None
    for table, preset in tasks:
        setup = Experiment(preset=preset, table=table, strategies=tuple(strategies), seeds=tuple(seeds),
                           budget=budget).prepare()
        labels = list(setup.experiment.strategies)
        runs = setup.run(out / table, jobs=jobs)
        report = setup.benchmark.report_values()
        median, best = float(np.nanmedian(report)), float(np.nanmax(report))
        scores.append([[normalised(run.final, median, best) for run in runs.of(label)] for label in labels])
    return aggregate(np.array(scores).transpose(1, 0, 2), labels, [t for t, _ in tasks],
                     {"budget": str(budget), "seeds": list(seeds), "presets": dict(tasks)})


def aggregate(scores: np.ndarray, strategies: list[str], tasks: list[str], protocol: dict) -> dict:
    """Every suite statistic of `scores` (strategies x tasks x runs of normalised scores)."""
    rng = np.random.default_rng(0)
    means = scores.mean(axis=2)
    ranks = mean_ranks(means)
    rows = []
    for s, name in enumerate(strategies):
        low, high = stratified_bootstrap_ci(scores[s], rng)
        rows.append({"strategy": name, "iqm": float(iqm(scores[s])), "iqm_ci_low": low, "iqm_ci_high": high,
                     "mean": float(means[s].mean()), "mean_rank": float(ranks[s]),
                     **{f"score_{task}": float(means[s, t]) for t, task in enumerate(tasks)}})
    order = sorted(range(len(strategies)), key=lambda s: -rows[s]["iqm"])
    tau = kendall_between_tasks(means)
    nb201 = [t for t, task in enumerate(tasks) if task.startswith("nb201")]
    graph = [t for t in range(len(tasks)) if t not in nb201]
    return {"protocol": protocol, "tasks": tasks, "leaderboard": [rows[s] for s in order],
            "critical_difference": critical_difference(len(strategies), len(tasks)),
            "probability_of_improvement": {strategies[a]: {strategies[b]: probability_of_improvement(
                scores[a], scores[b]) for b in range(len(strategies)) if b != a} for a in range(len(strategies))},
            "performance_profiles": {"tau": TAUS.tolist(), **{name: performance_profile(scores[s]).tolist()
                                                              for s, name in enumerate(strategies)}},
            "kendall_tau_between_tasks": tau.tolist(),
            "kendall_tau_summary": {
                "nb201_vs_graph_mean": float(tau[np.ix_(nb201, graph)].mean()) if nb201 and graph else None,
                "within_nb201_mean": _off_diagonal_mean(tau[np.ix_(nb201, nb201)]),
                "within_graph_mean": _off_diagonal_mean(tau[np.ix_(graph, graph)])}}


def _off_diagonal_mean(matrix: np.ndarray) -> float | None:
    n = len(matrix)
    return float((matrix.sum() - np.trace(matrix)) / (n * (n - 1))) if n > 1 else None


def write_suite(summary: dict, out: Path) -> list[Path]:
    """suite.{json,csv,md} (not leaderboard.*: a single-task leaderboard has another layout) and the figures (performance profiles, probability of improvement, critical
    difference, Kendall tau between tasks) in `out`; the same summary writes the same bytes."""
    board = pd.DataFrame(summary["leaderboard"])
    written = [write_atomic(out / "suite.json", lambda fh: fh.write(
                   jsonio.dumps(summary, indent=2).encode() + b"\n")),
               write_atomic(out / "suite.csv", lambda fh: fh.write(
                   board.to_csv(index=False, float_format="%.6g", lineterminator="\n").encode()))]
    written += _figures(summary, out)
    written.append(write_atomic(out / "suite.md", lambda fh: fh.write(_markdown(summary).encode())))
    return written


def _markdown(summary: dict) -> str:
    p, k = summary["protocol"], summary["kendall_tau_summary"]
    lines = [f"# Suite leaderboard: {len(summary['tasks'])} tasks", "",
             f"- tasks: {', '.join(summary['tasks'])}; presets: default (NB201), nbgraph (NAS-Bench-Graph)",
             f"- budget: {p['budget']} per run on every task; seeds: {len(p['seeds'])}",
             "- score: normalised per task, 0 = the median cell, 1 = the best cell (report metric); IQM over all "
             "runs of all tasks with a stratified-bootstrap 95% interval (runs resampled within tasks)",
             f"- mean rank over tasks; Nemenyi critical difference (alpha 0.05): {summary['critical_difference']:.3f}",
             f"- Kendall tau between tasks' strategy rankings: NB201 vs graph tasks {_fmt(k['nb201_vs_graph_mean'])}, "
             f"within NB201 {_fmt(k['within_nb201_mean'])}, within graph {_fmt(k['within_graph_mean'])}", "",
             "| # | strategy | IQM | 95% CI | mean | mean rank |", "|---|---|---|---|---|---|"]
    lines += [f"| {i} | {r['strategy']} | {r['iqm']:.3f} | [{r['iqm_ci_low']:.3f}, {r['iqm_ci_high']:.3f}] | "
              f"{r['mean']:.3f} | {r['mean_rank']:.2f} |" for i, r in enumerate(summary["leaderboard"], 1)]
    lines += ["", "![performance profiles](profiles.png) ![probability of improvement](improvement.png)",
              "![critical difference](critical_difference.png) ![Kendall tau between tasks](kendall_tasks.png)", ""]
    return "\n".join(lines)


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def _figures(summary: dict, out: Path) -> list[Path]:
    import matplotlib.pyplot as plt

    from nasbench_suite.figures import save_figure

    names = [r["strategy"] for r in summary["leaderboard"]]
    written = []
    fig, ax = plt.subplots(figsize=(6, 4))
    profiles = summary["performance_profiles"]
    for name in names:
        ax.plot(profiles["tau"], profiles[name], label=name)
    ax.set_xlabel("normalised score tau"), ax.set_ylabel("share of runs scoring above tau")
    ax.legend(fontsize=6, ncol=2)
    written += save_figure(fig, out, "profiles")
    poi = summary["probability_of_improvement"]
    matrix = np.array([[poi[a][b] if a != b else np.nan for b in names] for a in names])
    written += save_figure(_heatmap(plt, matrix, names, names, "P(row > column)", 0, 1), out, "improvement")
    tasks = summary["tasks"]
    written += save_figure(_heatmap(plt, np.array(summary["kendall_tau_between_tasks"]), tasks, tasks,
                                    "Kendall tau between tasks' strategy rankings", -1, 1), out, "kendall_tasks")
    ranks = sorted((r["mean_rank"], r["strategy"]) for r in summary["leaderboard"])
    fig, ax = plt.subplots(figsize=(6, 0.3 * len(ranks) + 1))
    ax.errorbar([r for r, _ in ranks], range(len(ranks)), xerr=summary["critical_difference"] / 2, fmt="o",
                capsize=3)
    ax.set_yticks(range(len(ranks)), [name for _, name in ranks]), ax.invert_yaxis()
    ax.set_xlabel("mean rank over tasks (bars: critical difference / 2; overlapping bars: no significant difference)")
    written += save_figure(fig, out, "critical_difference")
    return written


def _heatmap(plt, matrix: np.ndarray, rows: list[str], cols: list[str], title: str, vmin: float, vmax: float):
    fig, ax = plt.subplots(figsize=(0.45 * len(cols) + 2, 0.35 * len(rows) + 1.5))
    image = ax.imshow(matrix, cmap="viridis", vmin=vmin, vmax=vmax)
    ax.set_xticks(range(len(cols)), cols, rotation=60, ha="right", fontsize=7)
    ax.set_yticks(range(len(rows)), rows, fontsize=7)
    for (i, j), value in np.ndenumerate(matrix):
        if np.isfinite(value):
            ax.text(j, i, f"{value:.2f}", ha="center", va="center", fontsize=5, color="white")
    fig.colorbar(image, ax=ax), ax.set_title(title, fontsize=8)
    return fig
