"""The simulator: runs strategies x seeds against a benchmark under a budget, in parallel, reproducibly.

Rules (the same for every benchmark):
- budget: a query whose cost would push the spent simulated time past the budget is not run and ends the
  search, so a run never overshoots (total cost <= budget); a query budget counts queries.
- every query is charged, repeats included (a strategy that asks a cell twice trains it twice).
- the strategy is told only the benchmark's search metric; the report metric is looked up for the incumbent.
- incumbent: the cell with the best seen value among queries at the highest fidelity seen so far (a 12-epoch
  value never displaces a 200-epoch one); NaN values never become incumbent.
  A strategy whose `recommend()` answers (e.g. hpbandster's BOHB) names the incumbent instead.
- randomness: per (strategy, seed), SeedSequence([seed, crc32(strategy name)]) spawns the strategy's rng and
  the benchmark's noise rng, so a run is bit-for-bit the same whatever the number of jobs or the order.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import signal
import time
import zlib
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from nasbench_suite.benchmark import Benchmark
from nasbench_suite.errors import UserInputError
from nasbench_suite.runner.presets import Budget
from nasbench_suite.runner.runs import Run, Runs, clear_runs, fingerprint, save_protocol, save_run, stored_runs
from nasbench_suite.space import Ops
from nasbench_suite.strategies import Context, StrategySpec, make_strategy

TOP_FRACTION = 0.01  # "top 1%" threshold reported by the leaderboard


def strategy_rngs(strategy: str, seed: int) -> tuple[np.random.Generator, np.random.Generator]:
    """(strategy rng, benchmark noise rng) of one run; stable across processes and Python versions."""
    if int(seed) < 0:
        raise UserInputError(f"seeds must be non-negative integers, got {seed}")
    children = np.random.SeedSequence([int(seed), zlib.crc32(strategy.encode())]).spawn(2)
    return np.random.default_rng(children[0]), np.random.default_rng(children[1])


def proxy_lookup(benchmark: Benchmark, proxy: np.ndarray) -> Callable[[Ops], float]:
    """Per-cell proxy scores (official index order, NaN allowed) as a fast lookup by op tuple."""
    values = np.asarray(proxy, dtype=np.float64)
    if values.shape != (benchmark.space.size,):
        raise UserInputError(f"a proxy needs one score per cell ({benchmark.space.size}), got shape {values.shape}")
    table = dict(zip(map(tuple, benchmark.space.all_ops().tolist()), values.tolist()))
    return table.__getitem__


def run_one(benchmark: Benchmark, strategy: str, seed: int, budget: Budget, default_fidelity: int,
            fidelities: tuple[int, ...], proxy: Callable[[Ops], float] | None = None) -> Run:
    """One search of `strategy` (a spec string, e.g. reinforce:lr=0.01) with `seed` until the budget is spent."""
    strategy = StrategySpec.parse(strategy).label
    strategy_rng, noise_rng = strategy_rngs(strategy, seed)
    context = Context(space=benchmark.space, rng=strategy_rng, fidelities=fidelities,
                      default_fidelity=default_fidelity, proxy=proxy)
    searcher = make_strategy(strategy, context)
    evaluate, report, to_index = benchmark.evaluate, benchmark.report, benchmark.space.to_index
    max_seconds, max_queries = budget.max_seconds, budget.max_queries
    rows: list[tuple[int, int, float, float, int, float]] = []
    spent, incumbent, best_fidelity, best_value, best_report = 0.0, -1, -1, -np.inf, np.nan
    start, cpu_start = time.perf_counter(), time.process_time()
    while len(rows) < max_queries:
        trial = searcher.ask()
        observation = evaluate(trial.arch, trial.fidelity, noise_rng)
        if spent + observation.cost > max_seconds:
            break
        spent += observation.cost
        value = observation.value
        searcher.tell(trial, value)
        index = to_index(trial.arch)
        if value == value and (trial.fidelity > best_fidelity
                               or (trial.fidelity == best_fidelity and value > best_value)):
            incumbent, best_fidelity, best_value = index, trial.fidelity, value
            best_report = report(index)
        recommended = searcher.recommend()  # the strategy's own answer overrides the rule above
        if recommended is not None:
            incumbent = to_index(recommended)
            best_report = report(incumbent)
        rows.append((index, trial.fidelity, observation.cost, value, incumbent, best_report))
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    columns = list(zip(*rows)) if rows else [()] * 6
    dtypes = (np.int32, np.int32, np.float64, np.float64, np.int32, np.float64)
    arch, fid, cost, seen, inc, rep = (np.asarray(c, dtype=d) for c, d in zip(columns, dtypes))
    return Run(strategy, int(seed), arch, fid, cost, seen, inc, rep, wall, cpu)


def run(benchmark: Benchmark, strategies: Sequence[str], seeds: int | Sequence[int], budget: Budget | str | float,
        *, default_fidelity: int | None = None, fidelities: Sequence[int] | None = None,
        proxy: np.ndarray | None = None, jobs: int | None = None, out_dir: str | os.PathLike | None = None,
        resume: bool = False, progress: bool = False, protocol: dict[str, Any] | None = None) -> Runs:
    """Run every strategy with every seed on `benchmark`; each run is saved under `out_dir` as it finishes.

    seeds: a count n (seeds 0..n-1) or explicit non-negative seeds. budget: Budget, or '12000' / '100q'.
    default_fidelity: epochs single-fidelity strategies query (default: the benchmark's highest).
    fidelities: epochs multi-fidelity strategies choose from (default: all the benchmark has).
    proxy: free per-cell score in official index order (NaN allowed), for strategies that need one.
    resume: keep finished runs found under `out_dir` (same protocol) and run only the missing ones.
    protocol: extra settings recorded with the runs (e.g. the preset).
    All settings are checked, and every strategy built once, before any run starts.
    """
    budget = Budget.parse(budget)
    seeds = list(range(seeds)) if isinstance(seeds, (int, np.integer)) else list(dict.fromkeys(map(int, seeds)))
    if not seeds or not strategies:
        raise UserInputError("need at least one strategy and one seed")
    if min(seeds) < 0:
        raise UserInputError(f"seeds must be non-negative integers, got {min(seeds)}")
    strategies = list(dict.fromkeys(StrategySpec.parse(s).label for s in strategies))
    default_fidelity = benchmark.check_fidelity(default_fidelity or benchmark.max_fidelity)
    fidelities = tuple(sorted(benchmark.check_fidelity(f) for f in (fidelities or benchmark.fidelities)))
    lookup = proxy_lookup(benchmark, proxy) if proxy is not None else None
    _check_setup(benchmark, strategies, budget, default_fidelity, fidelities, lookup)
    meta = _meta(benchmark, strategies, seeds, budget, default_fidelity, fidelities, proxy, protocol)
    done: dict[tuple[str, int], Run] = {}
    if out_dir is not None:
        done = stored_runs(out_dir, meta["protocol_hash"]) if resume else {}
        if not resume:
            clear_runs(out_dir)
        save_protocol(out_dir, meta)
    todo = [(s, seed) for seed in seeds for s in strategies if (s, seed) not in done]
    settings = dict(benchmark=benchmark, budget=budget, default_fidelity=default_fidelity, fidelities=fidelities,
                    proxy=lookup)
    results = dict(done)

    def finished(run_: Run) -> None:
        results[(run_.strategy, run_.seed)] = run_
        if out_dir is not None:
            save_run(run_, out_dir, meta["protocol_hash"])

    jobs = max(1, min(jobs or os.cpu_count() or 1, len(todo)))
    bar = tqdm(total=len(todo), desc="runs", unit="run", disable=not progress, dynamic_ncols=True)
    try:
        if jobs == 1:
            for strategy, seed in todo:
                finished(run_one(strategy=strategy, seed=seed, **settings))
                bar.update()
        else:
            _run_parallel(todo, settings, jobs, finished, bar)
    finally:
        bar.close()
    ordered = [results[(s, seed)] for s in strategies for seed in seeds]
    return Runs(ordered, meta)


_WORKER: dict[str, Any] = {}


def _init_worker(settings: dict[str, Any]) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is handled once, by the parent
    _WORKER.update(settings)


def _work(strategy: str, seed: int) -> Run:
    return run_one(strategy=strategy, seed=seed, **_WORKER)


def _run_parallel(todo: list[tuple[str, int]], settings: dict[str, Any], jobs: int,
                  finished: Callable[[Run], None], bar: tqdm) -> None:
    """Fork workers that inherit the benchmark (nothing big is pickled); only finished runs come back."""
    pool = ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("fork"), initializer=_init_worker,
                               initargs=(settings,))
    try:
        futures = [pool.submit(_work, strategy, seed) for strategy, seed in todo]
        for future in as_completed(futures):
            finished(future.result())
            bar.update()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _check_setup(benchmark: Benchmark, strategies: list[str], budget: Budget, default_fidelity: int,
                 fidelities: tuple[int, ...], proxy: Callable[[Ops], float] | None) -> None:
    """Fail before any work: unknown strategies, missing proxy, bad hyperparameters, a budget below one query."""
    rng = np.random.default_rng(0)
    lowest = default_fidelity
    for spec in strategies:
        searcher = make_strategy(spec, Context(space=benchmark.space, rng=rng, fidelities=fidelities,
                                               default_fidelity=default_fidelity, proxy=proxy))
        if searcher.multi_fidelity:
            lowest = min(lowest, fidelities[0])
    if budget.unit == "seconds":
        cheapest = min(benchmark.evaluate(i, lowest, rng).cost for i in range(benchmark.space.size))
        if budget.amount < cheapest:
            raise UserInputError(f"budget of {budget} is too small for one query: the cheapest query costs "
                                 f"{cheapest:.1f} simulated seconds ({lowest} epochs)")


def _meta(benchmark: Benchmark, strategies: list[str], seeds: list[int], budget: Budget, default_fidelity: int,
          fidelities: tuple[int, ...], proxy: np.ndarray | None, extra: dict[str, Any] | None) -> dict[str, Any]:
    """What the runs were made under: the protocol (hashed to match stored runs) and reference values."""
    described = benchmark.describe()
    location = described.pop("table", None)
    if location and Path(location).is_file():
        described["table_file"] = Path(location).name
        described["table_file_sha256"] = hashlib.sha256(Path(location).read_bytes()).hexdigest()
    protocol = {"benchmark": described, "budget": {"amount": budget.amount, "unit": budget.unit},
                "default_fidelity": default_fidelity, "fidelities": list(fidelities),
                "proxy_sha256": (hashlib.sha256(np.asarray(proxy, dtype=np.float64).tobytes()).hexdigest()
                                 if proxy is not None else None),
                "rules": {"budget": "a query that would exceed the budget is not run and ends the search",
                          "incumbent": "best seen value at the highest fidelity seen so far",
                          "rng": "SeedSequence([seed, crc32(strategy)]).spawn(2): strategy, benchmark noise"},
                **(extra or {})}
    values = benchmark.report_values()
    reference = {"optimum": benchmark.optimum(), "top_fraction": TOP_FRACTION,
                 "top_threshold": benchmark.top_fraction_threshold(TOP_FRACTION),
                 "worst": float(np.nanmin(values)), "cells": int(np.isfinite(values).sum())}
    return {"protocol": protocol, "protocol_hash": fingerprint(protocol), "strategies": strategies, "seeds": seeds,
            "reference": reference, "table_path": location}
