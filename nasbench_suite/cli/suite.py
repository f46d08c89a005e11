"""`suite`: every strategy on the 12 tasks (NB201 x 3, NAS-Bench-Graph x 9), one robust leaderboard over them."""

from __future__ import annotations

import os
import time
from pathlib import Path

import click

from nasbench_suite.cli.app import cli, emit, json_option, on_interrupt
from nasbench_suite.runner import Budget
from nasbench_suite.runner.runs import output_lock
from nasbench_suite.seeds import parse_seeds


@cli.command("suite")
@click.option("--strategies", default=None, help="comma-separated strategy specs; default: every registered one "
              "that runs on every task (zero-cost needs a proxy, which NAS-Bench-Graph lacks)")
@click.option("--seeds", default="25", show_default=True, help="runs per strategy and task N (seeds 0..N-1) or "
              "seeds like 0-4,7")
@click.option("--budget", default="100q", show_default=True, help="queries per run on every task (NAS-Bench-Graph "
              "records no training time, so the suite counts queries)")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("results/suite"),
              show_default=True, help="output folder: runs under <out>/<table>/, leaderboard and figures in <out>")
@click.option("--jobs", type=click.IntRange(min=1), default=None, help="worker processes; default: all cores")
@json_option
def suite_command(strategies: str | None, seeds: str, budget: str, out: Path, jobs: int | None,
                  as_json: bool) -> None:
    """Run every strategy on every task and write the suite leaderboard (IQM with stratified-bootstrap intervals,
    performance profiles, probability of improvement, mean ranks with the critical difference, Kendall tau between
    tasks); finished runs are reused, so a rerun or a resumed Ctrl-C only runs what is missing."""
    from nasbench_suite.report.suite import TASKS, default_strategies, run_suite, write_suite

    names = [s.strip() for s in strategies.split(",") if s.strip()] if strategies else default_strategies()
    seed_list, budget_ = parse_seeds(seeds, count=True), Budget.parse(budget)
    click.echo(f"{len(names)} strategies x {len(seed_list)} seeds on {len(TASKS)} tasks ({budget_}) -> {out}",
               err=True)
    on_interrupt(lambda: f"finished runs are saved under {out}/<table>/runs; rerun the same command to run only the "
                         "missing ones")
    start = time.perf_counter()
    with output_lock(out):
        summary = run_suite(out, names, seed_list, budget_, jobs or os.cpu_count() or 1)
        write_suite(summary, out)
    wall = time.perf_counter() - start
    emit({"out": str(out), "wall_seconds": wall, "leaderboard": summary["leaderboard"]}, as_json,
         lambda data: "\n".join([f"{'strategy':<16} {'IQM':>6} {'95% CI':>17} {'rank':>5}"] + [
             f"{r['strategy']:<16} {r['iqm']:6.3f} [{r['iqm_ci_low']:6.3f}, {r['iqm_ci_high']:6.3f}] "
             f"{r['mean_rank']:5.2f}" for r in data["leaderboard"]]
             + [f"{len(TASKS)} tasks in {data['wall_seconds']:.1f} s wall; wrote {out}/suite.{{json,csv,md}}"]))
