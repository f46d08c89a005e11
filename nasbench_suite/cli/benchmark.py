"""`benchmark`: run strategies x seeds on a table under a preset protocol and write the leaderboard + plots."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import click

from nasbench_suite import jsonio
from nasbench_suite.cli.app import cli, emit, json_option
from nasbench_suite.errors import UserInputError
from nasbench_suite.multiobjective.presets import HW_PRESETS
from nasbench_suite.runner.presets import PRESETS
from nasbench_suite.table import open_table
from nasbench_suite.table.registry import DEFAULT_TABLE

RESULTS_DIR = Path("results")
EXIT_CODES = {signal.SIGINT: 130, signal.SIGTERM: 143}  # 128 + signal number, as a shell reports it


class Terminated(KeyboardInterrupt):
    """SIGTERM, handled like Ctrl-C: finished runs are kept."""


def _raise_terminated(signum: int, frame: object) -> None:
    raise Terminated


def default_out(preset: str, table: str, answered_by: str = "table") -> Path:
    """results/ for the default preset on the default table, results/<preset>[-<table>][-<surrogate|hybrid>]/
    otherwise."""
    from nasbench_suite.runner import DEFAULT_PRESET

    parts = [p for p in (preset if preset != DEFAULT_PRESET else "",
                         Path(table).stem if table != DEFAULT_TABLE else "",
                         answered_by if answered_by != "table" else "") if p]
    return RESULTS_DIR / "-".join(parts) if parts else RESULTS_DIR


@cli.command("benchmark")
@click.option("--strategies", default=None,
              help="comma-separated strategy specs NAME[:KEY=VALUE...], e.g. rea,reinforce:lr=0.01 "
              "(list them: nasbench-suite strategies); default: every registered one, with the preset's settings")
@click.option("--seeds", type=click.IntRange(min=1), default=None, help="runs per strategy (seeds 0..n-1); "
              "default: the preset's")
@click.option("--budget", default=None, help="simulated seconds (12000 or 12000s) or queries (100q); "
              "default: the preset's")
@click.option("--preset", "preset_name", default="default", show_default=True,
              help=f"search protocol: {', '.join([*PRESETS, *HW_PRESETS])} (hw-*: see `nasbench-suite hw-benchmark`)")
@click.option("--device-metric", default=None, help="hw-* presets: the hardware column, e.g. latency_fpga_ms")
@click.option("--table", "table_name", default=DEFAULT_TABLE, show_default=True, help="embedded table name or path")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="output folder; default: results/ (default preset) or results/<preset>/")
@click.option("--jobs", type=click.IntRange(min=1), default=None, help="worker processes; default: all cores")
@click.option("--proxy", "proxy_column", default=None, help="table column the proxy-guided strategies (zero-cost) "
              "rank cells by, e.g. proxy_synflow; default: the preset's (proxy_naswot)")
@click.option("--surrogate", "surrogate_path", type=click.Path(dir_okay=False), default=None,
              help="answer every query from this surrogate file (`nasbench-suite surrogate build TABLE`), fitted on "
                   "--table")
@click.option("--hybrid", is_flag=True, help="with --surrogate: the table where it measured, the surrogate elsewhere")
@click.option("--resume", is_flag=True, help="the default, kept for old scripts: finished runs found in the output "
              "folder under the identical protocol are reused (they are what a rerun computes); only missing ones run")
@click.option("--overwrite", is_flag=True, help="delete stored runs of the output folder made under another "
              "protocol and start over (without it they are an error, never deleted)")
@click.option("--wide", is_flag=True, help="print every leaderboard column (the default fits 100 columns)")
@click.option("--highlight", default="", help="comma-separated strategies the plots show in colour, the others grey")
@json_option
def benchmark_command(strategies: str | None, seeds: int | None, budget: str | None, preset_name: str,
                      device_metric: str | None, table_name: str, out: Path | None, jobs: int | None,
                      proxy_column: str | None, surrogate_path: str | None, hybrid: bool, resume: bool,
                      overwrite: bool, wide: bool, highlight: str, as_json: bool) -> None:
    """Run search strategies on a table and write leaderboard.{csv,md,json}, timing.json and plots to the output
    folder. Rerunning reuses the stored runs of the identical protocol, so it only runs what is missing."""
    if preset_name in HW_PRESETS:  # hardware-aware, multi-objective presets have their own runner
        from nasbench_suite.cli.hw import hw_benchmark_command

        return click.get_current_context().invoke(
            hw_benchmark_command, preset_name=preset_name, device_metric=device_metric, strategies=strategies,
            seeds=seeds, budget=budget, table_name=table_name, out=out, jobs=jobs, as_json=as_json)
    if device_metric is not None:
        raise UserInputError(f"--device-metric is for the hardware presets ({', '.join(HW_PRESETS)}), "
                             f"not {preset_name!r}")
    from nasbench_suite.report import format_compact, format_leaderboard, write_report
    from nasbench_suite.runner import Budget, get_preset, run
    from nasbench_suite.runner.runs import output_lock
    from nasbench_suite.strategies import STRATEGIES, get_strategy
    from nasbench_suite.surrogate import load as load_surrogate

    preset = get_preset(preset_name)
    names = (preset.default_strategies(STRATEGIES) if strategies is None
             else [s.strip() for s in strategies.split(",") if s.strip()])
    for name in names:
        get_strategy(name)
    budget_ = Budget.parse(budget) if budget is not None else preset.budget
    seeds = seeds or preset.seeds
    table = open_table(table_name)
    preset = preset.for_table(table)  # e.g. a 12-epoch-only table: search and score at 12 epochs
    if proxy_column is not None and proxy_column not in table.columns:
        raise UserInputError(f"--proxy {proxy_column!r}: {table_name} has no such per-cell column; expected one "
                             f"such as naswot_score or proxy_synflow (list them: nasbench-suite info {table_name})")
    surrogate = load_surrogate(surrogate_path, table=table) if surrogate_path is not None else None
    benchmark = preset.benchmark(table, surrogate, hybrid)
    proxy_column = proxy_column or preset.proxy_column
    proxy = table.column(proxy_column) if proxy_column in table.columns else None
    out = out or default_out(preset_name, table_name, benchmark.kind)
    jobs = jobs or os.cpu_count() or 1
    command = (f"nasbench-suite benchmark --preset {preset_name} --table {table_name} --strategies "
               f"{','.join(names)} --seeds {seeds} --budget {budget_.amount:g}{budget_.unit[0]}"
               f"{f' --proxy {proxy_column}' if proxy is not None else ''}"
               f"{f' --surrogate {surrogate_path}' if surrogate is not None else ''}{' --hybrid' if hybrid else ''}")
    protocol = {"preset": preset.name, "preset_description": preset.description,
                "proxy_column": proxy_column if proxy is not None else None}
    click.echo(f"{len(names)} strategies x {seeds} seeds on {table_name} ({preset_name}: {budget_}) -> {out}",
               err=True)
    start = time.perf_counter()
    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        with output_lock(out):
            runs = run(benchmark, names, seeds, budget_, default_fidelity=preset.search_fidelity,
                       fidelities=preset.multi_fidelities, proxy=proxy, jobs=jobs, out_dir=out, overwrite=overwrite,
                       progress=not as_json, protocol=protocol)
            wall = time.perf_counter() - start
            report = write_report(runs, out, extra={"command": command}, timing_extra={"jobs": jobs, "wall_seconds": wall},
                                  highlight=[h.strip() for h in highlight.split(",") if h.strip()])
    except KeyboardInterrupt as exc:
        signum = signal.SIGTERM if isinstance(exc, Terminated) else signal.SIGINT
        saved = len(list((out / "runs").glob("*/seed-*.npz")))
        click.echo(f"interrupted by {signum.name}: {saved} finished runs are saved under {out / 'runs'}; rerun the "
                   "same command to run only the missing ones", err=True)
        raise SystemExit(EXIT_CODES[signum]) from None
    finally:
        signal.signal(signal.SIGTERM, previous)
    board = report["leaderboard"]
    data = {"out": str(out), "wall_seconds": wall, "leaderboard": board.reset_index().to_dict(orient="records")}
    emit(jsonio.to_builtin(data), as_json,
         lambda data: f"{(format_leaderboard if wide else format_compact)(board)}\n\n{len(runs)} runs in "
                      f"{wall:.1f} s wall\nwrote {out}/leaderboard.{{csv,md,json}}, {out}/timing.json and {out}/plots/")
