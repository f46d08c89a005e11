"""`benchmark`: read an experiment from flags or a file (`--config`), run it, write the leaderboard and plots."""

from __future__ import annotations

import os
import time
from pathlib import Path

import click

from nasbench_suite import jsonio
from nasbench_suite.cli.app import cli, emit, json_option, on_interrupt
from nasbench_suite.errors import UserInputError
from nasbench_suite.multiobjective.presets import HW_PRESETS
from nasbench_suite.runner.presets import DEFAULT_PRESET, PRESETS
from nasbench_suite.table.registry import DEFAULT_TABLE

@cli.command("benchmark")
@click.option("--config", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="an experiment file (.toml or .json; keys: preset, table, strategies, seeds, budget, proxy, "
              "surrogate, hybrid, surrogate_noise); flags given with it override its values")
@click.option("--strategies", default=None,
              help="comma-separated strategy specs NAME[:KEY=VALUE...], e.g. rea,reinforce:lr=0.01 "
              "(list them: nasbench-suite strategies); default: every registered one, with the preset's settings")
@click.option("--seeds", default=None, help="runs per strategy N (seeds 0..N-1) or seeds like 0-4,7; "
              "default: the preset's")
@click.option("--budget", default=None, help="simulated seconds (12000 or 12000s) or queries (100q); "
              "default: the preset's")
@click.option("--preset", "preset_name", default=None,
              help=f"search protocol: {', '.join([*PRESETS, *HW_PRESETS])} (default: {DEFAULT_PRESET}; hw-*: see "
              "`nasbench-suite hw-benchmark`)")
@click.option("--device-metric", default=None, help="hw-* presets: the hardware column, e.g. latency_fpga_ms")
@click.option("--table", "table_name", default=None, help=f"embedded table name or path (default: {DEFAULT_TABLE})")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="output folder; default: results/ (default preset) or results/<preset>/")
@click.option("--jobs", type=click.IntRange(min=1), default=None, help="worker processes; default: all cores")
@click.option("--proxy", "proxy_column", default=None, help="table column the proxy-guided strategies (zero-cost) "
              "rank cells by, e.g. proxy_synflow; default: the preset's (proxy_naswot)")
@click.option("--surrogate", "surrogate_path", type=click.Path(dir_okay=False), default=None,
              help="answer every query from this surrogate file (`nasbench-suite surrogate build TABLE`), fitted on "
                   "--table")
@click.option("--hybrid", is_flag=True, help="with --surrogate: the table where it measured, the surrogate elsewhere")
@click.option("--surrogate-mean", is_flag=True, help="with --surrogate: answer the predicted mean, not one sampled "
              "training run per query")
@click.option("--resume", is_flag=True, help="the default, kept for old scripts: finished runs found in the output "
              "folder under the identical protocol are reused (they are what a rerun computes); only missing ones run")
@click.option("--overwrite", is_flag=True, help="delete stored runs of the output folder made under another "
              "protocol and start over (without it they are an error, never deleted)")
@click.option("--wide", is_flag=True, help="print every leaderboard column (the default fits 100 columns)")
@click.option("--highlight", default="", help="comma-separated strategies the plots show in colour, the others grey")
@json_option
def benchmark_command(config: Path | None, strategies: str | None, seeds: str | None, budget: str | None,
                      preset_name: str | None, device_metric: str | None, table_name: str | None, out: Path | None,
                      jobs: int | None, proxy_column: str | None, surrogate_path: str | None, hybrid: bool,
                      surrogate_mean: bool, resume: bool, overwrite: bool, wide: bool, highlight: str,
                      as_json: bool) -> None:
    """Run search strategies on a table and write leaderboard.{csv,md,json}, timing.json and plots to the output
    folder. Rerunning reuses the stored runs of the identical protocol, so it only runs what is missing."""
    if preset_name in HW_PRESETS:  # hardware-aware, multi-objective presets have their own runner
        from nasbench_suite.cli.hw import hw_benchmark_command

        if config is not None:
            raise UserInputError(f"--config is for the single-objective presets ({', '.join(PRESETS)}), "
                                 f"not {preset_name!r}")
        return click.get_current_context().invoke(
            hw_benchmark_command, preset_name=preset_name, device_metric=device_metric, strategies=strategies,
            seeds=seeds, budget=budget, table_name=table_name or DEFAULT_TABLE, out=out, jobs=jobs,
            overwrite=overwrite, as_json=as_json)
    if device_metric is not None:
        raise UserInputError(f"--device-metric is for the hardware presets ({', '.join(HW_PRESETS)}), "
                             f"not {preset_name or DEFAULT_PRESET!r}")
    from nasbench_suite.report import format_compact, format_leaderboard, write_report
    from nasbench_suite.runner import Experiment
    from nasbench_suite.runner.runs import output_lock

    flags = {"preset": preset_name, "table": table_name, "strategies": strategies, "budget": budget,
             "proxy": proxy_column, "surrogate": surrogate_path, "hybrid": hybrid or None,
             "surrogate_noise": False if surrogate_mean else None,
             "seeds": seeds}
    given = {key: value for key, value in flags.items() if value is not None}
    experiment = Experiment.from_file(config, **given) if config is not None else Experiment(**given)
    setup = experiment.prepare()
    out = out or experiment.default_out()
    jobs = jobs or os.cpu_count() or 1
    click.echo(f"{len(experiment.strategies)} strategies x {len(experiment.seeds)} seeds on {experiment.table} "
               f"({experiment.preset}: {experiment.budget}) -> {out}", err=True)
    start = time.perf_counter()
    on_interrupt(lambda: f"{len(list((out / 'runs').glob('*/seed-*.npz')))} finished runs are saved under "
                         f"{out / 'runs'}; rerun the same command to run only the missing ones")
    with output_lock(out):
        runs = setup.run(out, jobs, overwrite=overwrite, progress=not as_json)
        wall = time.perf_counter() - start
        command = setup.command() + (f" --highlight {highlight}" if highlight else "")
        report = write_report(runs, out, extra={"command": command}, timing_extra={"jobs": jobs, "wall_seconds": wall},
                              highlight=[h.strip() for h in highlight.split(",") if h.strip()])
    board = report["leaderboard"]
    data = {"out": str(out), "wall_seconds": wall, "leaderboard": board.reset_index().to_dict(orient="records")}
    emit(jsonio.to_builtin(data), as_json,
         lambda data: f"{(format_leaderboard if wide else format_compact)(board)}\n\n{len(runs)} runs in "
                      f"{wall:.1f} s wall\nwrote {out}/leaderboard.{{csv,md,json}}, {out}/timing.json and {out}/plots/")
