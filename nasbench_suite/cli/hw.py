"""`hw-benchmark`: hardware-aware search (accuracy vs a device's latency/energy) on a table, leaderboard + plots."""

from __future__ import annotations

import os
import time
from pathlib import Path

import click

from nasbench_suite.cli.app import cli, emit, json_option
from nasbench_suite.table import open_table
from nasbench_suite.table.registry import DEFAULT_TABLE

RESULTS_DIR = Path("results") / "hw"


@cli.command("hw-benchmark")
@click.option("--preset", "preset_name", default="hw-pareto", show_default=True,
              help="hw-pareto (accuracy vs latency front) or hw-constrained (best accuracy under a latency limit)")
@click.option("--device-metric", default=None, help="hardware column to trade accuracy against, e.g. "
              "latency_fpga_ms; default: the preset's (latency_pixel3_ms); list: nasbench-suite info TABLE")
@click.option("--strategies", default=None, help="comma-separated strategy specs: multi-objective ones for "
              "hw-pareto (random, nsga2, motpe, mo-rea, pls, parego), single-objective ones for hw-constrained "
              "(e.g. random, rea, bo); default: the preset's")
@click.option("--seeds", type=click.IntRange(min=1), default=None, help="runs per strategy (seeds 0..n-1); "
              "default: the preset's (25)")
@click.option("--budget", default=None, help="simulated seconds (200000 or 200000s) or queries (100q); "
              "default: the preset's")
@click.option("--table", "table_name", default=DEFAULT_TABLE, show_default=True, help="embedded table name or path")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="output folder; default: results/hw/<preset>-<device metric>/")
@click.option("--jobs", type=click.IntRange(min=1), default=None, help="worker processes; default: all cores")
@json_option
def hw_benchmark_command(preset_name: str, device_metric: str | None, strategies: str | None, seeds: int | None,
                         budget: str | None, table_name: str, out: Path | None, jobs: int | None,
                         as_json: bool) -> None:
    """Run multi-objective or constrained strategies and write leaderboard.{csv,md,json} and plots/."""
    from nasbench_suite.multiobjective import HWProblem, get_hw_preset, run_all
    from nasbench_suite.multiobjective.simulate import check_strategies
    from nasbench_suite.multiobjective.report import format_hw_leaderboard, write_hw_report
    from nasbench_suite.runner import Budget

    preset = get_hw_preset(preset_name)
    if device_metric is not None:
        preset = preset.with_device(device_metric)
    names = list(preset.strategies) if strategies is None else [s.strip() for s in strategies.split(",") if s.strip()]
    budget_ = Budget.parse(budget) if budget is not None else preset.budget
    seeds = seeds or preset.seeds
    problem = HWProblem(open_table(table_name), preset, table_name)  # checks the device column
    check_strategies(problem, names)
    out = out or RESULTS_DIR / f"{preset.name}-{preset.device_metric}"
    jobs = jobs or os.cpu_count() or 1
    command = (f"nasbench-suite hw-benchmark --preset {preset.name} --device-metric {preset.device_metric} --table "
               f"{table_name} --strategies {','.join(names)} --seeds {seeds} --budget {budget_.amount:g}"
               f"{budget_.unit[0]}")
    click.echo(f"{len(names)} strategies x {seeds} seeds on {table_name} ({preset.name}, {preset.device_metric}: "
               f"{budget_}) -> {out}", err=True)
    start, cpu = time.perf_counter(), _cpu_seconds()
    runs, results = run_all(problem, names, seeds, budget_, jobs=jobs)
    report = write_hw_report(problem, runs, results, out, extra={"command": command, "jobs": jobs})
    wall, cpu = time.perf_counter() - start, _cpu_seconds() - cpu
    board = report["leaderboard"]
    emit({"out": str(out), "wall_seconds": wall, "cpu_seconds": cpu, "reference": report["header"]["reference"],
          "leaderboard": board.reset_index().to_dict(orient="records")},
         as_json, lambda data: f"{format_hw_leaderboard(board)}\n\n{len(runs)} runs in {wall:.1f} s wall, {cpu:.1f} s "
                               f"CPU; wrote {out}/leaderboard.{{csv,md,json}} and {out}/plots/")


def _cpu_seconds() -> float:
    """CPU time of this process and its finished workers."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system
