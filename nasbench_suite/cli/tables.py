"""`tables`, `info` and `query`: what tables exist, what one holds, and single lookups."""

from __future__ import annotations

import re
from typing import Any

import click
import numpy as np

from nasbench_suite.cli.app import cli, emit, json_option
from nasbench_suite.table import Table, available_tables, open_table


@cli.command("tables")
@json_option
def tables_command(as_json: bool) -> None:
    """List the embedded tables."""
    rows = []
    for name, path in available_tables().items():
        table = Table.load(path)
        rows.append({"name": name, "dataset": table.dataset, "cells": len(table.archs),
                     "metrics": sorted(table.metrics), "size_mb": round(path.stat().st_size / 1e6, 2),
                     "description": table.description})
    emit(rows, as_json, lambda rs: "\n".join(
        f"{r['name']:<24} {r['cells']:>6} cells  {r['size_mb']:>5.2f} MB  {r['description']}" for r in rs))


def table_summary(table: Table) -> dict[str, Any]:
    """Size, coverage per metric/epoch/seed, best cell per metric, and provenance of a table."""
    coverage = table.coverage()
    best = {}
    for metric in table.metrics:
        maximize = not metric.endswith("loss")
        for epoch in table.epochs_of(metric):
            index, value = table.best(metric, epoch, maximize=maximize)
            best[f"{metric}@{epoch}"] = {"index": index, "arch": table.space_obj.to_str(index), "value": value}
    return {"path": str(table.path), "space": table.space, "dataset": table.dataset,
            "dataset_sha256": table.dataset_sha256, "description": table.description, "created": table.created,
            "cells": len(table.archs), "space_size": table.space_obj.size, "seeds": table.seeds.tolist(),
            "epochs": table.epochs.tolist(), "size_mb": round(table.path.stat().st_size / 1e6, 3),
            "coverage": coverage, "best": best, "columns": sorted(table.columns),
            "protocol": table.protocol, "provenance": table.provenance, "software": table.software,
            "hardware": table.hardware}


def _render_summary(s: dict[str, Any]) -> str:
    lines = [f"{s['path']}  ({s['size_mb']} MB)", f"  {s['description']}",
             f"  space {s['space']}: {s['cells']} of {s['space_size']} cells; dataset {s['dataset']} "
             f"{s['dataset_sha256'] or '(no sha256)'}", f"  seeds {s['seeds']}  epochs {s['epochs']}",
             "  coverage (fraction of cells measured, per epoch and seed):"]
    for metric, per_epoch in s["coverage"].items():
        cells = ", ".join(f"@{e}: " + "/".join(f"{v:.3f}" for v in seeds.values()) for e, seeds in per_epoch.items())
        lines.append(f"    {metric:<18} {cells}")
    lines.append("  best cell per metric:")
    for key, b in s["best"].items():
        lines.append(f"    {key:<22} {b['value']:>9.4f}  #{b['index']:<6} {b['arch']}")
    lines.append(f"  columns: {', '.join(s['columns'])}")
    lines.append(f"  hardware: {s['hardware']}")
    sources = s["provenance"].get("sources", {})
    lines.append(f"  provenance: {s['provenance'].get('kind', '')}")
    for key, src in sources.items():
        lines.append(f"    {key}: {src['repo']}@{src['commit'][:10]} {src['path']} ({src['license']})")
    return "\n".join(lines)


def _int_or_text(text: str) -> int | str:
    """A plain decimal integer (ASCII digits, optional minus) as an int, anything else unchanged."""
    return int(text) if re.fullmatch(r"-?[0-9]+", text) else text


@cli.command("info")
@click.argument("table")
@json_option
def info_command(table: str, as_json: bool) -> None:
    """Size, coverage, best cells and provenance of TABLE (an embedded name or a path)."""
    emit(table_summary(open_table(table)), as_json, _render_summary)


@cli.command("query")
@click.argument("table")
@click.argument("arch")
@click.option("--metric", "metrics", multiple=True, help="metric(s) to show; default: all")
@click.option("--epoch", type=int, default=None, help="epoch; default: the last one with data")
@click.option("--seed", default="mean", help="'mean' or a seed label")
@json_option
def query_command(table: str, arch: str, metrics: tuple[str, ...], epoch: int | None, seed: str,
                  as_json: bool) -> None:
    """Look up ARCH (official string or index) in TABLE."""
    t = open_table(table)
    space = t.space_obj
    index = space.to_index(_int_or_text(arch))
    seed_choice = _int_or_text(seed)
    values = {}
    for metric in metrics or t.metrics:
        epochs = [epoch] if epoch is not None else t.epochs_of(metric)
        for e in epochs:
            values[f"{metric}@{e}"] = t.query(index, metric, e, seed_choice)
    row = t.row(index)
    columns = {name: float(series.values[row]) for name, series in t.columns.items()} if not metrics else {}
    out = {"index": index, "arch": space.to_str(index), "canonical_index": int(space.canonical_indices[index]),
           "values": values, "columns": columns}
    emit(out, as_json, lambda o: "\n".join(
        [f"#{o['index']} {o['arch']} (canonical #{o['canonical_index']})"]
        + [f"  {k:<24} {v:.4f}" if not np.isnan(v) else f"  {k:<24} not measured" for k, v in o["values"].items()]
        + [f"  {k:<30} {v:.6g}" for k, v in o["columns"].items()]))
