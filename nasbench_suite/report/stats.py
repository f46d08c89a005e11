"""Leaderboard statistics of simulated searches: final scores, regret, ranks, anytime curves, Friedman/Nemenyi, and
the noise floor (retraining noise near the top of the space) below which differences of mean score mean little.

Regret is measured against the benchmark the runs were made on (its optimum of the report metric, recorded
in `runs.meta["reference"]`), in the report metric's unit (accuracy points for NB201).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from nasbench_suite.runner import Run, Runs
from nasbench_suite.table import Table

GRID_POINTS = 200


@dataclass
class Curves:
    """Regret of every run of every strategy on a common grid (simulated seconds or query counts)."""

    axis: str  # "time" or "queries"
    grid: np.ndarray
    regret: dict[str, np.ndarray]  # strategy -> [runs, grid]; before a run's first result: the worst regret
    seeds: dict[str, list[int]]  # strategy -> seed of each row of `regret`
    started: dict[str, np.ndarray]  # strategy -> [runs, grid]: the run has a result there (plots start curves there)


def _reference(runs: Runs) -> dict[str, float]:
    return runs.meta["reference"]


def final_scores(runs: Runs) -> pd.DataFrame:
    """[seed x strategy] report metric of each run's final incumbent (NaN where none or the run is missing)."""
    data = {s: pd.Series({r.seed: r.final for r in runs.of(s)}) for s in runs.strategies}  # floats, NaN: none
    return pd.DataFrame(data).sort_index()


def _reported_at(run: Run, positions: np.ndarray) -> np.ndarray:
    """The incumbent's report value after the query at each position (NaN: no result yet, e.g. position -1)."""
    return np.where(positions >= 0, run.reported[np.clip(positions, 0, None)] if run.queries else np.nan, np.nan)


def _regret_at(run: Run, positions: np.ndarray, optimum: float, worst: float) -> np.ndarray:
    """Regret after the query at each position (no result yet -> the worst regret)."""
    values = _reported_at(run, positions)
    return np.where(np.isnan(values), optimum - worst, optimum - values)


def anytime(runs: Runs, axis: str = "time", points: int = GRID_POINTS) -> Curves:
    """Anytime regret: time on a log grid from the first finished query to the budget; queries 1..max."""
    ref = _reference(runs)
    if axis == "time":
        first = [r.cost[0] for r in runs if r.queries]
        end = max(_budget_seconds(runs), max((r.elapsed[-1] for r in runs if r.queries), default=1.0))
        grid = _log_grid(min(first, default=end), end, points)

        def position(run: Run) -> np.ndarray:
            return np.searchsorted(run.elapsed, grid, side="right") - 1
    elif axis == "queries":
        grid = np.arange(1, max((r.queries for r in runs), default=1) + 1)

        def position(run: Run) -> np.ndarray:
            return np.minimum(grid, run.queries) - 1
    else:
        raise ValueError(f"axis must be 'time' or 'queries', got {axis!r}")
    regret = {s: np.array([_regret_at(r, position(r), ref["optimum"], ref["worst"]) for r in runs.of(s)])
              for s in runs.strategies}
    started = {s: np.array([np.isfinite(_reported_at(r, position(r))) for r in runs.of(s)]) for s in runs.strategies}
    return Curves(axis, grid, regret, {s: [r.seed for r in runs.of(s)] for s in runs.strategies}, started)


def _log_grid(start: float, end: float, points: int) -> np.ndarray:
    """`points` log-spaced times from start to end; all `start` if end <= start (np.geomspace(t, t) rounds most
    points below t, before a result that finished at t)."""
    return np.geomspace(start, end, points) if end > start else np.full(points, float(start))


def _budget_seconds(runs: Runs) -> float:
    budget = runs.meta["protocol"]["budget"]
    return float(budget["amount"]) if budget["unit"] == "seconds" else 0.0


def common_seeds(runs: Runs) -> list[int]:
    """Seeds every strategy has a run for: ranks and tests compare strategies on the same seeds only."""
    sets = [{r.seed for r in runs.of(s)} for s in runs.strategies]
    return sorted(set.intersection(*sets)) if sets else []


def ranks(scores: pd.DataFrame) -> pd.DataFrame:
    """Per-seed rank of each strategy (1 = best, ties averaged, NaN = worst)."""
    filled = scores.fillna(-np.inf).to_numpy()
    return pd.DataFrame(stats.rankdata(-filled, axis=1), index=scores.index, columns=scores.columns)


def rank_curves(curves: Curves, seeds: list[int]) -> dict[str, np.ndarray]:
    """Average rank over `seeds` of each strategy at each grid point (lower regret = better rank)."""
    names = list(curves.regret)
    stacked = np.stack([curves.regret[s][[curves.seeds[s].index(seed) for seed in seeds]] for s in names],
                       axis=-1)  # [seed, grid, strategy]
    mean = stats.rankdata(stacked, axis=-1).mean(axis=0)
    return {s: mean[:, j] for j, s in enumerate(names)}


@dataclass
class CriticalDifference:
    """Friedman test over seeds and the Nemenyi critical difference of mean ranks (Demsar 2006)."""

    mean_ranks: pd.Series
    statistic: float
    pvalue: float
    cd: float
    alpha: float
    blocks: int


def critical_difference(scores: pd.DataFrame, alpha: float = 0.05) -> CriticalDifference | None:
    """Friedman chi-square over the seeds (rows) of `scores` and the Nemenyi CD; None below 3 strategies."""
    k, n = scores.shape[1], scores.shape[0]
    if k < 3 or n < 2:
        return None
    filled = scores.fillna(-np.inf)
    statistic, pvalue = stats.friedmanchisquare(*(filled[c].to_numpy() for c in filled.columns))
    q = stats.studentized_range.ppf(1 - alpha, k, np.inf) / np.sqrt(2)
    mean_ranks = ranks(scores).mean().sort_values()
    return CriticalDifference(mean_ranks, float(statistic), float(pvalue), float(q * np.sqrt(k * (k + 1) / (6 * n))),
                              alpha, n)


def _first_hit(run: Run, threshold: float) -> tuple[float, float]:
    """(queries, simulated seconds) until the incumbent's report value reached `threshold`; inf if never."""
    hits = np.flatnonzero(run.reported >= threshold)
    if not len(hits):
        return np.inf, np.inf
    return float(hits[0] + 1), float(run.elapsed[hits[0]])


def leaderboard(runs: Runs) -> pd.DataFrame:
    """One row per strategy, best mean rank first. Columns (report metric units unless noted):

    runs; final_mean/std/median and final_ci95 (half-width of the t-interval of the mean); regret_mean/median
    (optimum - final); mean_rank (per seed over strategies, 1 = best); regret_auc (mean regret over a log-time
    grid from when every run has a result to the budget: area under the anytime curve / log-width);
    top1_hit / opt_hit (fraction of runs whose incumbent reached the top 1% / the optimum);
    top1_queries, top1_seconds, opt_queries, opt_seconds (median over runs; inf when most never got there);
    queries_mean (queries per run). Measured times are not here (a rerun must give the same leaderboard): see
    `timing`.
    """
    ref = _reference(runs)
    mean_rank = ranks(final_scores(runs).loc[common_seeds(runs)]).mean()
    auc = _regret_auc(runs)
    rows = []
    for s in runs.strategies:
        group = runs.of(s)
        final = np.array([r.final for r in group])
        n = int(np.isfinite(final).sum())
        std = float(np.nanstd(final, ddof=1)) if n > 1 else np.nan
        top = np.array([_first_hit(r, ref["top_threshold"]) for r in group])
        opt = np.array([_first_hit(r, ref["optimum"]) for r in group])
        rows.append({"strategy": s, "runs": len(group), "final_mean": float(np.nanmean(final)), "final_std": std,
                     "final_ci95": float(stats.t.ppf(0.975, n - 1) * std / np.sqrt(n)) if n > 1 else np.nan,
                     "final_median": float(np.nanmedian(final)),
                     "regret_mean": float(ref["optimum"] - np.nanmean(final)),
                     "regret_median": float(ref["optimum"] - np.nanmedian(final)),
                     "mean_rank": float(mean_rank[s]), "regret_auc": auc[s],
                     "top1_hit": float(np.isfinite(top[:, 0]).mean()), "top1_queries": float(np.median(top[:, 0])),
                     "top1_seconds": float(np.median(top[:, 1])),
                     "opt_hit": float(np.isfinite(opt[:, 0]).mean()), "opt_queries": float(np.median(opt[:, 0])),
                     "opt_seconds": float(np.median(opt[:, 1])),
                     "queries_mean": float(np.mean([r.queries for r in group]))})
    board = pd.DataFrame(rows).set_index("strategy")
    return board.sort_values(["mean_rank", "final_mean"], ascending=[True, False])  # stable on several keys


def timing(runs: Runs) -> pd.DataFrame:
    """Per strategy: runs_timed (runs with measured times), wall_ms / cpu_ms (mean wall-clock / CPU time per run
    of the search loop over those; NaN when none was measured, e.g. every run was reused from disk)."""
    rows = []
    for s in runs.strategies:
        wall = np.array([r.wall_seconds for r in runs.of(s)])
        cpu = np.array([r.cpu_seconds for r in runs.of(s)])
        timed = np.isfinite(wall)
        rows.append({"strategy": s, "runs_timed": int(timed.sum()),
                     "wall_ms": 1000 * float(wall[timed].mean()) if timed.any() else np.nan,
                     "cpu_ms": 1000 * float(cpu[timed].mean()) if timed.any() else np.nan})
    return pd.DataFrame(rows).set_index("strategy")


def _regret_auc(runs: Runs) -> dict[str, float]:
    """Per strategy, mean over runs of the average regret on a log-time grid starting once all runs have a result."""
    ref = _reference(runs)
    live = [r for r in runs if r.queries]
    if _budget_seconds(runs) <= 0 or not live:  # a query budget: average over the query grid instead
        curves = anytime(runs, "queries")
        return {s: float(v.mean()) for s, v in curves.regret.items()}
    start, end = max(r.cost[0] for r in live), _budget_seconds(runs)
    grid = _log_grid(start, end, GRID_POINTS)
    return {s: float(np.mean([_regret_at(r, np.searchsorted(r.elapsed, grid, side="right") - 1, ref["optimum"],
                                         ref["worst"]).mean() for r in runs.of(s)]))
            for s in runs.strategies}


NOISE_TOP = 0.01  # the noise floor is measured on the best 1% of cells (by seed mean)


def noise_floor(seed_values: np.ndarray, top: float = NOISE_TOP) -> tuple[float, int]:
    """Retraining noise near the top of the space: the median seed-to-seed std (ddof 1) over the best `top` fraction
    of cells by seed mean, among those with two or more values; and how many cells that is ((nan, 0): none).
    `seed_values`: [cell, seed], NaN where a seed was not run."""
    counts = np.isfinite(seed_values).sum(axis=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a cell without any value has no mean
        mean = np.nanmean(seed_values, axis=1)
    ranked = np.isfinite(mean)
    if not ranked.any():
        return np.nan, 0
    best = ranked & (mean >= np.quantile(mean[ranked], 1 - top))
    spread = best & (counts >= 2)
    if not spread.any():
        return np.nan, 0
    return float(np.median(np.nanstd(seed_values[spread], axis=1, ddof=1))), int(spread.sum())


def table_noise_floor(table: Table, report_metric: str, search_metric: str, means: pd.Series) -> dict[str, Any]:
    """The noise floor of a leaderboard: of its report metric (`name@epoch`) where the table has per-seed values of
    it, else of the search metric at the same epoch (the note says so); and which strategies' mean final scores
    (`means`) differ by less than it."""
    for metric, note in ((report_metric, ""), (f"{search_metric}@{report_metric.split('@')[1]}",
                                                f"{report_metric} has no per-seed values, so the search metric's "
                                                "noise stands in for it")):
        name, epoch = metric.split("@")
        if name in table.metrics and int(epoch) in table.epochs_of(name):
            points, cells = noise_floor(table.seed_values(name, int(epoch)))
            if cells:
                return {"points": points, "metric": metric, "cells": cells, "top": NOISE_TOP, "note": note,
                        "pairs": len(means) * (len(means) - 1) // 2, "pairs_within": pairs_within(means, points),
                        "groups": noise_groups(means, points)}
    return {"points": None, "metric": report_metric, "cells": 0, "top": NOISE_TOP,
            "note": "no per-seed values of the report or search metric in the table"}


def noise_groups(means: pd.Series, floor: float) -> list[list[str]]:
    """Strategies from the best mean final score down, grouped: each group is a strategy and every following one
    whose mean is less than `floor` below it (differences within retraining noise)."""
    order = means.sort_values(ascending=False, kind="stable")
    groups: list[list[str]] = []
    for name, value in order.items():
        if groups and order[groups[-1][0]] - value < floor:
            groups[-1].append(str(name))
        else:
            groups.append([str(name)])
    return groups


def pairs_within(means: pd.Series, floor: float) -> int:
    """How many pairwise differences of mean final score are smaller than `floor`."""
    values = means.to_numpy(dtype=float)
    gaps = np.abs(values[:, None] - values[None, :])[np.triu_indices(len(values), 1)]
    return int((gaps < floor).sum())
