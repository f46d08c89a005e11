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
- a strategy may only ask the fidelities the protocol offers it; an incumbent must have a report value.
- budgets are capped at MAX_QUERIES_PER_CELL x the space size queries (or the simulated seconds that many of
  the cheapest queries take): beyond that a search has had every chance, and the command would not end.
"""

from __future__ import annotations

import ctypes
import hashlib
import multiprocessing
import os
import signal
import sys
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
from nasbench_suite.runner.runs import Run, Runs, fingerprint, output_lock, save_protocol, save_run, stored_runs
from nasbench_suite.seeds import seed_list
from nasbench_suite.space import Ops
from nasbench_suite.strategies import Context, StrategySpec, make_strategy

TOP_FRACTION = 0.01  # "top 1%" threshold reported by the leaderboard
MAX_QUERIES_PER_CELL = 10  # budget cap: 10x the space size queries (156,250 on NB201)


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
    offered = set(fidelities) if searcher.multi_fidelity else {default_fidelity}
    evaluate, report, to_index = benchmark.evaluate, benchmark.report, benchmark.space.to_index
    # the cap also bounds a seconds budget: excluded cells cost nothing, so a search asking only them still ends
    max_seconds = budget.max_seconds
    max_queries = min(budget.max_queries, MAX_QUERIES_PER_CELL * benchmark.space.size)
    rows: list[tuple[int, int, float, float, int, float]] = []
    spent, incumbent, best_fidelity, best_value, best_report = 0.0, -1, -1, -np.inf, np.nan
    start, cpu_start = time.perf_counter(), time.process_time()
    while len(rows) < max_queries:
        trial = searcher.ask()
        if trial.fidelity not in offered:
            raise UserInputError(f"strategy {strategy!r} asked for {trial.fidelity} epochs; this protocol offers it "
                                 f"{', '.join(map(str, sorted(offered)))} epochs")
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
        if incumbent >= 0 and best_report != best_report:
            raise UserInputError(f"incumbent cell {incumbent} ({benchmark.space.to_str(incumbent)}) has no report "
                                 f"value ({benchmark.report_metric} is NaN); a searchable cell needs one: "
                                 "exclude such cells from the benchmark or fill the table")
        rows.append((index, trial.fidelity, observation.cost, value, incumbent, best_report))
    return Run.from_rows(strategy, seed, rows, time.perf_counter() - start, time.process_time() - cpu_start)


def run(benchmark: Benchmark, strategies: Sequence[str], seeds: int | Sequence[int], budget: Budget | str | float,
        *, default_fidelity: int | None = None, fidelities: Sequence[int] | None = None,
        proxy: np.ndarray | None = None, jobs: int | None = None, out_dir: str | os.PathLike | None = None,
        resume: bool = True, overwrite: bool = False, progress: bool = False,
        protocol: dict[str, Any] | None = None) -> Runs:
    """Run every strategy with every seed on `benchmark`; each run is saved under `out_dir` as it finishes.

    seeds: a count n (seeds 0..n-1) or explicit non-negative seeds. budget: Budget, or '12000' / '100q'.
    default_fidelity: epochs single-fidelity strategies query (default: the benchmark's highest).
    fidelities: epochs multi-fidelity strategies choose from (default: all the benchmark has).
    proxy: free per-cell score in official index order (NaN allowed), for strategies that need one.
    resume: reuse runs stored under `out_dir` with the identical protocol (bit-for-bit what a rerun computes)
        and run only the missing ones; False reruns them too. Stored runs of other strategies or seeds are kept.
    overwrite: delete stored runs made under another protocol (otherwise they are an error, never deleted).
    protocol: extra settings recorded with the runs (e.g. the preset).
    All settings are checked, and every strategy built once, before any run starts; `out_dir` is locked
    against other writers for the whole call.
    """
    budget = Budget.parse(budget)
    seeds = seed_list(seeds)
    if not strategies:
        raise UserInputError("need at least one strategy and one seed")
    strategies = list(dict.fromkeys(StrategySpec.parse(s).label for s in strategies))
    default_fidelity = benchmark.check_fidelity(default_fidelity or benchmark.max_fidelity)
    fidelities = tuple(sorted(benchmark.check_fidelity(f) for f in (fidelities or benchmark.fidelities)))
    lookup = proxy_lookup(benchmark, proxy) if proxy is not None else None
    degenerate = _check_setup(benchmark, strategies, budget, default_fidelity, fidelities, lookup)
    meta = _meta(benchmark, strategies, seeds, budget, default_fidelity, fidelities, proxy, protocol)
    meta["degenerate"] = degenerate  # strategies that are a simpler one under this protocol, and why
    settings = dict(benchmark=benchmark, budget=budget, default_fidelity=default_fidelity, fidelities=fidelities,
                    proxy=lookup)
    if out_dir is None:
        return _run_all(strategies, seeds, settings, meta, {}, jobs, None, progress)
    with output_lock(out_dir):
        done = stored_runs(out_dir, meta["protocol_hash"], overwrite)
        save_protocol(out_dir, meta)
        return _run_all(strategies, seeds, settings, meta, done if resume else {}, jobs, out_dir, progress)


def _run_all(strategies: list[str], seeds: list[int], settings: dict[str, Any], meta: dict[str, Any],
             done: dict[tuple[str, int], Run], jobs: int | None, out_dir: str | os.PathLike | None,
             progress: bool) -> Runs:
    """Run what `done` lacks (saving each run under `out_dir` as it finishes); the runs asked for, in order."""
    todo = [(s, seed) for seed in seeds for s in strategies if (s, seed) not in done]
    results = dict(done)

    def finished(run_: Run) -> None:
        results[(run_.strategy, run_.seed)] = run_
        if out_dir is not None:
            save_run(run_, out_dir, meta["protocol_hash"])

    execute(todo, run_one, settings, jobs, finished, progress)
    return Runs([results[(s, seed)] for s in strategies for seed in seeds], meta)


def execute(todo: Sequence[tuple[str, int]], work: Callable[..., Any], settings: dict[str, Any], jobs: int | None,
            finished: Callable[[Any], None], progress: bool = False) -> None:
    """Call work(strategy=s, seed=seed, **settings) for each (s, seed) of `todo` and hand each result to `finished`
    as it arrives: in this process for one job, else in `jobs` forked workers that die with this process."""
    jobs = max(1, min(jobs or os.cpu_count() or 1, len(todo)))
    bar = tqdm(total=len(todo), desc="runs", unit="run", disable=not progress, dynamic_ncols=True)
    try:
        if jobs == 1:
            for strategy, seed in todo:
                finished(work(strategy=strategy, seed=seed, **settings))
                bar.update()
        else:
            _run_parallel(todo, work, settings, jobs, finished, bar)
    finally:
        bar.close()


_WORKER: dict[str, Any] = {}
PR_SET_PDEATHSIG = 1  # linux/prctl.h


def _init_worker(work: Callable[..., Any], settings: dict[str, Any], parent: int) -> None:
    """Ignore Ctrl-C (the parent handles it once), take SIGTERM's default, and die with the parent."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)  # prctl(2) reads only these two
    if os.getppid() != parent:  # the parent died before the death signal was armed
        os._exit(1)
    _WORKER.update(work=work, settings=settings)


def _work(strategy: str, seed: int) -> Any:
    return _WORKER["work"](strategy=strategy, seed=seed, **_WORKER["settings"])


def _run_parallel(todo: Sequence[tuple[str, int]], work: Callable[..., Any], settings: dict[str, Any], jobs: int,
                  finished: Callable[[Any], None], bar: tqdm) -> None:
    """Fork workers that inherit `work` and its settings (nothing big is pickled); only results come back.

    On any error or interrupt the workers are killed at once: their unfinished runs would be discarded anyway.
    """
    pool = ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("fork"), initializer=_init_worker,
                               initargs=(work, settings, os.getpid()))
    try:
        futures = [pool.submit(_work, strategy, seed) for strategy, seed in todo]
        for future in as_completed(futures):
            finished(future.result())
            bar.update()
    except BaseException:
        for process in list(pool._processes.values()):  # no public terminate before Python 3.14
            process.kill()
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _check_setup(benchmark: Benchmark, strategies: list[str], budget: Budget, default_fidelity: int,
                 fidelities: tuple[int, ...], proxy: Callable[[Ops], float] | None) -> dict[str, str]:
    """Fail before any work: unknown strategies, missing proxy, bad hyperparameters, a budget below one query or
    above the cap. Returns {label: reason} for the strategies that degenerate under these settings."""
    rng = np.random.default_rng(0)
    lowest = default_fidelity
    degenerate: dict[str, str] = {}
    for spec in strategies:
        searcher = make_strategy(spec, Context(space=benchmark.space, rng=rng, fidelities=fidelities,
                                               default_fidelity=default_fidelity, proxy=proxy))
        if searcher.multi_fidelity:
            lowest = min(lowest, fidelities[0])
        if (reason := searcher.degenerate()) is not None:
            degenerate[spec] = reason
    cap = MAX_QUERIES_PER_CELL * benchmark.space.size
    if budget.unit == "queries" and budget.amount > cap:
        raise UserInputError(f"budget of {budget.amount:g} queries is above the cap of {cap:,} queries "
                             f"({MAX_QUERIES_PER_CELL}x the "
                             f"{benchmark.space.size:,} cells of the space); expected at most {cap}q")
    check_priced(benchmark, budget)
    if budget.unit == "seconds":
        answers = (benchmark.evaluate(i, lowest, rng) for i in range(benchmark.space.size))
        cheapest = min(a.cost for a in answers if a.source != "excluded")  # excluded cells cost nothing
        if budget.amount < cheapest:
            raise UserInputError(f"budget of {budget} is too small for one query: the cheapest query costs "
                                 f"{cheapest:.1f} simulated seconds ({lowest} epochs)")
        most = int(cap * cheapest)
        if budget.amount > most:
            raise UserInputError(f"budget of {budget} is above the cap of {most} simulated seconds ({cap:,} of the "
                                 f"cheapest queries, {cheapest:.1f} s at {lowest} epochs: {MAX_QUERIES_PER_CELL}x the "
                                 f"space size); expected at most {most}")
    return degenerate


def check_priced(benchmark: Benchmark, budget: Budget) -> None:
    """A seconds budget needs query costs: one clear error for a table without training times."""
    if budget.unit == "seconds" and not benchmark.priced:
        raise UserInputError(f"budget of {budget} cannot bound this search: the table records no training time "
                             "(e.g. NAS-Bench-Graph's); expected a query budget such as 100q (preset nbgraph)")


def _meta(benchmark: Benchmark, strategies: list[str], seeds: list[int], budget: Budget, default_fidelity: int,
          fidelities: tuple[int, ...], proxy: np.ndarray | None, extra: dict[str, Any] | None) -> dict[str, Any]:
    """What the runs were made under: the protocol (hashed to match stored runs) and reference values."""
    described = benchmark.describe()
    location = described.pop("table", None)
    if location and Path(location).is_file():
        described["table_file"] = Path(location).name
        described["table_content_sha256"] = benchmark.table.content_sha256()
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
