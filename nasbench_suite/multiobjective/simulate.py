"""Simulated hardware-aware searches: Pareto (vector told, found set scored by hypervolume) and constrained
(a single-objective strategy, infeasible cells told as failed).

Rules shared with the single-objective runner (`runner/simulate.py`): a query costs
epochs x train_seconds_per_epoch + eval_seconds; a query that would push the spent simulated time past the budget
is not run and ends the search; per (strategy, seed), `strategy_rngs` seeds the strategy and the table's
seed draw, so a run is bit-for-bit the same whatever the number of jobs or the order; runs go through the
runner's `execute` (forked workers that die with their parent). A cell without a device
value is excluded like a cell the benchmark lacks: told as failed, no cost.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from nasbench_suite.benchmark import TableBenchmark
from nasbench_suite.errors import UserInputError
from nasbench_suite.multiobjective.objectives import Objective, check_device_metric, minimised
from nasbench_suite.multiobjective.pareto import REFERENCE, hypervolume, pareto_mask
from nasbench_suite.multiobjective.presets import HWPreset
from nasbench_suite.multiobjective.strategies import dominates, make_mo_strategy
from nasbench_suite.runner import Budget, Run, Runs, execute, seed_list, strategy_rngs
from nasbench_suite.runner.simulate import check_priced
from nasbench_suite.strategies import Context, StrategySpec, make_strategy
from nasbench_suite.table import Table

MAX_REJECTED = 10_000  # consecutive infeasible asks (rejected for free) after which a constrained run gives up
TOP_HV = 0.99  # the Pareto leaderboard's "hit" threshold: 99% of the true front's hypervolume


class HWProblem:
    """A preset on a table for one device column: the benchmark, the true front and the feasible set, built once.

    Report space (scored): (report metric, device metric [, extra objectives]), minimised, normalised so the true
    front spans [0, 1] per objective (ideal 0, nadir 1); hypervolume reference point 1.1 per objective.
    """

    def __init__(self, table: Table, preset: HWPreset, table_name: str = "table",
                 extra_objectives: Sequence[Objective] = ()) -> None:
        self.preset, self.table_name = preset, table_name
        check_device_metric(table, preset.device_metric, table_name)
        self.benchmark = TableBenchmark(table, preset.search_metric, preset.report_metric, preset.report_epoch,
                                        seed_mode="random", fidelities=(preset.search_epoch,))
        self.space = self.benchmark.space
        self.hardware_objectives = [Objective(preset.device_metric), *extra_objectives]
        self.objectives = [Objective(preset.report_metric, preset.report_epoch, True), *self.hardware_objectives]
        self.hardware = minimised(table, self.hardware_objectives)  # what strategies are told besides accuracy
        raw = minimised(table, self.objectives)
        self.valid = np.isfinite(self.benchmark.report_values()) & np.isfinite(raw).all(axis=1)  # searchable
        self.front_cells = np.flatnonzero(self.valid)[pareto_mask(raw[self.valid])]
        self.ideal, self.nadir = raw[self.front_cells].min(axis=0), raw[self.front_cells].max(axis=0)
        span = np.where(self.nadir > self.ideal, self.nadir - self.ideal, 1.0)
        self.points = (raw - self.ideal) / span  # normalised report-space point of every cell
        self.true_front = self.points[self.front_cells]
        self.true_hv = hypervolume(self.true_front, REFERENCE)
        device = self.hardware[:, 0]
        self.limit = (float(np.quantile(device[self.valid], preset.limit_quantile))
                      if preset.limit_quantile is not None else np.inf)
        self.feasible = self.valid & (device <= self.limit)
        report = self.benchmark.report_values()
        self.best_feasible = int(np.flatnonzero(self.feasible)[np.argmax(report[self.feasible])])

    def reference(self) -> dict[str, Any]:
        """What runs are measured against, in the shape `report.stats` reads (optimum, top threshold, worst)."""
        if self.preset.kind == "pareto":
            return {"optimum": self.true_hv, "top_fraction": 1 - TOP_HV, "top_threshold": TOP_HV * self.true_hv,
                    "worst": 0.0, "cells": int(self.valid.sum()), "front_cells": len(self.front_cells),
                    "ideal": self.ideal, "nadir": self.nadir, "reference_point": REFERENCE,
                    "objectives": [o.label for o in self.objectives]}
        report = self.benchmark.report_values()[self.feasible]
        return {"optimum": float(report.max()), "top_fraction": 0.01,
                "top_threshold": float(np.quantile(report, 0.99)), "worst": float(report.min()),
                "cells": int(self.feasible.sum()), "limit": self.limit, "device_metric": self.preset.device_metric,
                "best_feasible_cell": self.best_feasible, "best_feasible_arch": self.space.to_str(self.best_feasible)}

    def score(self, cells: Sequence[int]) -> float:
        """Normalised hypervolume of the report-space points of `cells`."""
        return hypervolume(self.points[list(cells)], REFERENCE) if len(cells) else 0.0


@dataclass
class HWRun:
    """One run: its trajectory (`run.reported` = hypervolume or the feasible incumbent's score) plus the final
    found set (Pareto) or the ask counts (constrained)."""

    run: Run
    found: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    asks: int = 0
    feasible_asks: int = 0


def run_pareto(problem: HWProblem, strategy: str, seed: int, budget: Budget) -> HWRun:
    """One multi-objective search; after each query the found set is the queried cells no other queried cell
    dominates in what the strategy saw (accuracy, device), scored by the normalised hypervolume in report space."""
    strategy_rng, noise_rng = strategy_rngs(strategy, seed)
    fidelity = problem.preset.search_epoch
    k = len(problem.objectives)
    searcher = make_mo_strategy(strategy, Context(space=problem.space, rng=strategy_rng, fidelities=(fidelity,)), k)
    found: list[tuple[int, np.ndarray]] = []
    hv, rows, spent = 0.0, [], 0.0
    start, cpu_start = time.perf_counter(), time.process_time()
    while len(rows) < budget.max_queries:
        trial = searcher.ask()
        index = problem.space.to_index(trial.arch)
        observation = problem.benchmark.evaluate(index, fidelity, noise_rng)
        if spent + observation.cost > budget.max_seconds:
            break
        spent += observation.cost
        told = np.concatenate([[-observation.value], problem.hardware[index]])
        if not problem.valid[index]:
            told[:] = np.nan
        searcher.tell(trial, told)
        if problem.valid[index] and not any(dominates(y, told) or i == index for i, y in found):
            found = [(i, y) for i, y in found if not dominates(told, y)] + [(index, told)]
            hv = problem.score([i for i, _ in found])
        best = min(found, key=lambda member: member[1][0])[0] if found else -1
        rows.append((index, fidelity, observation.cost, observation.value, best, hv))
    return HWRun(Run.from_rows(strategy, seed, rows, time.perf_counter() - start, time.process_time() - cpu_start),
                 np.array(sorted(i for i, _ in found), dtype=np.int64))


def run_constrained(problem: HWProblem, strategy: str, seed: int, budget: Budget) -> HWRun:
    """One constrained search with a single-objective strategy (a spec of the main registry, e.g. `rea`): an
    infeasible cell is told as failed (NaN), free of cost if the device metric is known before training, else after
    it is trained and charged. The incumbent is the feasible cell with the best seen value."""
    strategy = StrategySpec.parse(strategy).label
    strategy_rng, noise_rng = strategy_rngs(strategy, seed)
    fidelity = problem.preset.search_epoch
    searcher = make_strategy(strategy, Context(space=problem.space, rng=strategy_rng, fidelities=(fidelity,)))
    rows, spent, asks, feasible_asks, rejected = [], 0.0, 0, 0, 0
    incumbent, best_value, best_report = -1, -np.inf, np.nan
    start, cpu_start = time.perf_counter(), time.process_time()
    while len(rows) < budget.max_queries and rejected < MAX_REJECTED:
        trial = searcher.ask()
        index = problem.space.to_index(trial.arch)
        feasible = bool(problem.feasible[index])
        if not feasible and problem.preset.hardware_free:
            searcher.tell(trial, float("nan"))
            asks, rejected = asks + 1, rejected + 1
            continue
        observation = problem.benchmark.evaluate(index, fidelity, noise_rng)
        if spent + observation.cost > budget.max_seconds:
            break
        spent, rejected = spent + observation.cost, 0
        asks, feasible_asks = asks + 1, feasible_asks + feasible
        value = observation.value if feasible else float("nan")
        searcher.tell(trial, value)
        if value > best_value:  # NaN never wins
            incumbent, best_value, best_report = index, value, problem.benchmark.report(index)
        rows.append((index, fidelity, observation.cost, value, incumbent, best_report))
    return HWRun(Run.from_rows(strategy, seed, rows, time.perf_counter() - start, time.process_time() - cpu_start),
                 asks=asks, feasible_asks=feasible_asks)


RUNNERS: dict[str, Callable[[HWProblem, str, int, Budget], HWRun]] = {"pareto": run_pareto,
                                                                      "constrained": run_constrained}


def check_strategies(problem: HWProblem, strategies: Sequence[str]) -> list[str]:
    """The strategy specs, each built once on a throwaway context so a bad name or setting fails before any run."""
    if not strategies:
        raise UserInputError("need at least one strategy; expected comma-separated specs, e.g. random,nsga2")
    context = Context(space=problem.space, rng=np.random.default_rng(0), fidelities=(problem.preset.search_epoch,))
    if problem.preset.kind == "pareto":
        for spec in strategies:
            make_mo_strategy(spec, context, len(problem.objectives))
        return list(dict.fromkeys(s.strip() for s in strategies))
    labels = [StrategySpec.parse(s).label for s in strategies]
    for label in labels:
        make_strategy(label, context)
    return list(dict.fromkeys(labels))


def run_all(problem: HWProblem, strategies: Sequence[str], seeds: int | Sequence[int], budget: Budget | str,
            jobs: int | None = None) -> tuple[Runs, dict[tuple[str, int], HWRun]]:
    """Every strategy with every seed (a count n: seeds 0..n-1); `jobs` fork workers that inherit the problem."""
    budget = Budget.parse(budget)
    strategies = check_strategies(problem, strategies)
    check_priced(problem.benchmark, budget)
    cheapest = min(problem.benchmark.cost(i, problem.preset.search_epoch) for i in np.flatnonzero(problem.valid))
    if budget.amount < cheapest and budget.unit == "seconds":
        raise UserInputError(f"budget of {budget} is too small for one query: the cheapest query costs "
                             f"{cheapest:.1f} simulated seconds; expected e.g. 200000 (simulated seconds) or 100q")
    seeds = seed_list(seeds)
    by_key: dict[tuple[str, int], HWRun] = {}
    execute([(s, seed) for seed in seeds for s in strategies], _work, {"problem": problem, "budget": budget}, jobs,
            lambda r: by_key.__setitem__((r.run.strategy, r.run.seed), r))
    meta = {"strategies": strategies, "seeds": seeds, "reference": problem.reference(),
            "protocol": {"budget": {"amount": budget.amount, "unit": budget.unit}, "preset": problem.preset.name},
            "protocol_hash": ""}
    return Runs([by_key[(s, seed)].run for s in strategies for seed in seeds], meta), by_key


def _work(problem: HWProblem, strategy: str, seed: int, budget: Budget) -> HWRun:
    return RUNNERS[problem.preset.kind](problem, strategy, seed, budget)
