"""`hw-benchmark`: hardware-aware search (accuracy vs a device's latency/energy) on a table, leaderboard + plots."""

from __future__ import annotations

import os
import time
from dataclasses import replace
from pathlib import Path

import click
import numpy as np

from nasbench_suite.cli.app import cli, emit, json_option
from nasbench_suite.errors import UserInputError
from nasbench_suite.outputs import recorded, reuse_or_refuse
from nasbench_suite.seeds import format_seeds, parse_seeds, seed_list
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
@click.option("--seeds", default=None, help="runs per strategy N (seeds 0..N-1) or seeds like 0-4,7; default: the "
              "preset's (25)")
@click.option("--budget", default=None, help="simulated seconds (200000 or 200000s) or queries (100q); "
              "default: the preset's")
@click.option("--table", "table_name", default=DEFAULT_TABLE, show_default=True, help="embedded table name or path")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="output folder; default: results/hw/<device metric>/<preset>/")
@click.option("--extra-objectives", default="", help="comma-separated further objectives for hw-pareto, "
              "NAME[@EPOCH][:max|:min] (e.g. params_m); three objectives in all at most (exact hypervolume)")
@click.option("--hardware-after-training", is_flag=True, help="hw-constrained: the device metric is known only "
              "once a cell is trained, so an infeasible cell is trained, charged and told as failed (default: known "
              "for every cell up front, infeasible asks are rejected at no cost)")
@click.option("--jobs", type=click.IntRange(min=1), default=None, help="worker processes; default: all cores")
@click.option("--overwrite", is_flag=True, help="replace a leaderboard in the output folder made by another "
              "hw-benchmark command (without it that is an error)")
@json_option
def hw_benchmark_command(preset_name: str, device_metric: str | None, strategies: str | None, seeds: str | None,
                         budget: str | None, table_name: str, out: Path | None, extra_objectives: str,
                         hardware_after_training: bool, jobs: int | None, overwrite: bool, as_json: bool) -> None:
    """Run multi-objective or constrained strategies and write leaderboard.{csv,md,json} and plots/."""
    from nasbench_suite.multiobjective import HWProblem, get_hw_preset, run_all
    from nasbench_suite.multiobjective.report import format_hw_leaderboard, write_hw_report
    from nasbench_suite.runner import Budget

    preset = get_hw_preset(preset_name)
    if device_metric is not None:
        preset = preset.with_device(device_metric)
    if hardware_after_training:
        preset = replace(preset, hardware_free=False)
    names = list(preset.strategies) if strategies is None else [s.strip() for s in strategies.split(",") if s.strip()]
    budget_ = Budget.parse(budget) if budget is not None else preset.budget
    seeds = parse_seeds(seeds, count=True) if seeds is not None else seed_list(preset.seeds)
    table = open_table(table_name)
    preset = preset.for_table(table)
    extra = _objectives(table, extra_objectives)
    if extra and (preset.kind != "pareto" or len(extra) > 1):
        raise UserInputError(f"--extra-objectives {extra_objectives!r}: hw-pareto takes at most one (exact "
                             "hypervolume covers 3 objectives); hw-constrained takes none")
    problem = HWProblem(table, preset, table_name, extra)  # checks the device column
    out = out or RESULTS_DIR / preset.device_metric / preset.name
    jobs = jobs or os.cpu_count() or 1
    command = (f"nasbench-suite hw-benchmark --preset {preset.name} --device-metric {preset.device_metric} --table "
               f"{table_name} --strategies {','.join(names)} --seeds {format_seeds(seeds)} --budget {budget_.amount:g}"
               f"{budget_.unit[0]}{f' --extra-objectives {extra_objectives}' if extra else ''}"
               f"{' --hardware-after-training' if hardware_after_training else ''}")
    board = out / "leaderboard.json"  # no runs are stored: the same command is what matches, and is rewritten
    reuse_or_refuse(recorded(board, "header", "command"), command, overwrite, f"{board} is a leaderboard of another "
                    "hw-benchmark command (preset, device metric, table, strategies, seeds or budget differ)",
                    "replace it")
    click.echo(f"{len(names)} strategies x {len(seeds)} seeds on {table_name} ({preset.name}, {preset.device_metric}: "
               f"{budget_}) -> {out}", err=True)
    start, cpu = time.perf_counter(), _cpu_seconds()
    runs, results = run_all(problem, names, seeds, budget_, jobs=jobs)
    report = write_hw_report(problem, runs, results, out, extra={"command": command},
                             timing_extra={"jobs": jobs})
    wall, cpu = time.perf_counter() - start, _cpu_seconds() - cpu
    board = report["leaderboard"]
    emit({"out": str(out), "wall_seconds": wall, "cpu_seconds": cpu, "reference": report["header"]["reference"],
          "leaderboard": board.reset_index().to_dict(orient="records")},
         as_json, lambda data: f"{format_hw_leaderboard(board)}\n\n{len(runs)} runs in {wall:.1f} s wall, {cpu:.1f} s "
                               f"CPU; wrote {out}/leaderboard.{{csv,md,json}} and {out}/plots/")


@cli.command("hw-front")
@click.argument("objectives")
@click.option("--table", "table_name", default=DEFAULT_TABLE, show_default=True, help="embedded table name or path")
@json_option
def hw_front_command(objectives: str, table_name: str, as_json: bool) -> None:
    """The exact Pareto front over every cell of a table for comma-separated OBJECTIVES, each
    NAME[@EPOCH][:max|:min], e.g. test_acc@200,latency_fpga_ms,params_m."""
    from nasbench_suite.multiobjective import minimised, pareto_mask

    table = open_table(table_name)
    parsed = _objectives(table, objectives)
    if len(parsed) < 2:
        raise UserInputError(f"need two or more objectives, got {objectives!r}; expected e.g. "
                             "test_acc@200,latency_fpga_ms")
    values = np.stack([o.values(table) for o in parsed], axis=1)
    front = np.flatnonzero(pareto_mask(minimised(table, parsed)))
    front = front[np.lexsort(values[front].T[::-1])]
    labels = [o.label for o in parsed]
    rows = [{"index": int(i), "arch": table.space_obj.to_str(int(i)), **dict(zip(labels, values[i]))} for i in front]
    emit({"objectives": labels, "cells": int(np.isfinite(values).all(axis=1).sum()), "front": rows}, as_json,
         lambda data: "\n".join([f"exact Pareto front of {table_name} for {', '.join(labels)}: {len(rows)} of "
                                 f"{data['cells']} cells", "\t".join(["index", *labels, "arch"])]
                                + ["\t".join([str(r["index"]), *(f"{r[k]:.4g}" for k in labels), r["arch"]])
                                   for r in rows]))


def _objectives(table, text: str) -> list:
    from nasbench_suite.multiobjective import Objective

    return [Objective.parse(part, table) for part in text.split(",") if part.strip()]


def _cpu_seconds() -> float:
    """CPU time of this process and its finished workers."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system
