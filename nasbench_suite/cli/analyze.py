"""`analyze`: search-space analysis of a table (op statistics, importance, redundancy, landscape, signals, cost)."""

from __future__ import annotations

from pathlib import Path

import click

from nasbench_suite import jsonio
from nasbench_suite.cli.app import cli, json_option
from nasbench_suite.table import open_table


@cli.command("analyze")
@click.argument("table")
@click.option("--metric", default="valid_acc", show_default=True, help="accuracy metric to analyse")
@click.option("--epoch", type=int, default=None, help="epoch of the metric; default: the last one with data")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default=None,
              help="output folder; default: results/analysis/<table>")
@click.option("--compare", multiple=True, help="another table over the same cells (e.g. nb201-cifar100) whose "
              "accuracies join the rank correlations; repeatable")
@click.option("--seed", type=int, default=0, show_default=True, help="seed of the bootstrap, walks and samples")
@click.option("--boot", type=click.IntRange(min=10), default=200, show_default=True, help="bootstrap resamples")
@click.option("--overwrite", is_flag=True, help="replace an analysis made in --out under other settings (without it "
              "that is an error; the same settings rewrite the same files)")
@json_option
def analyze_command(table: str, metric: str, epoch: int | None, out_dir: str | None, compare: tuple[str, ...],
                    seed: int, boot: int, overwrite: bool, as_json: bool) -> None:
    """Analyse TABLE's space on --metric at --epoch; CSV, PNG/SVG figures and summary.md/json to --out."""
    from nasbench_suite.analysis import analyze, check_target
    from nasbench_suite.analysis.run import default_out, markdown

    t = open_table(table)
    check_target(t, metric, epoch)  # a bad metric or epoch fails before the other tables are read
    out = Path(out_dir) if out_dir else default_out(t)
    summary = analyze(t, metric, epoch, out, [open_table(c) for c in compare], seed, boot, progress=not as_json,
                      overwrite=overwrite)
    click.echo(jsonio.dumps(summary, indent=2) if as_json else markdown(summary))
    click.echo(f"wrote {len(summary['files'])} files to {out}/", err=True)
