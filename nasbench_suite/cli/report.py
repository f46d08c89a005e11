"""`report`: a self-contained static page of every leaderboard under a results folder; `compare`: two leaderboards
side by side."""

from __future__ import annotations

from pathlib import Path

import click

from nasbench_suite import jsonio
from nasbench_suite.cli.app import cli, emit, json_option
from nasbench_suite.errors import UserInputError


def _names(text: str) -> list[str]:
    return [name.strip() for name in text.split(",") if name.strip()]


@cli.command("report")
@click.argument("results_dir", type=click.Path(path_type=Path), default="results")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="output folder for index.html; default: RESULTS_DIR/site")
@click.option("--highlight", default="", help="comma-separated strategies the plots keep in colour (the others are "
              "greyed) and the tables mark")
@json_option
def report_command(results_dir: Path, out: Path | None, highlight: str, as_json: bool) -> None:
    """Write one self-contained index.html (no network: inline CSS, JS and SVG) showing every leaderboard found under
    RESULTS_DIR (default: results) with sortable columns, protocol, plots, links to its files and the command that
    reproduces it."""
    from nasbench_suite.report.site import build_site, leaderboard_folders, partial_leaderboards

    path = build_site(results_dir, out, _names(highlight))
    folders = [str(f) for f in leaderboard_folders(results_dir.resolve())]
    partial = {str(folder): why for folder, why in partial_leaderboards(results_dir.resolve())}
    for folder, why in partial.items():
        shown = "marked incomplete on the page" if folder in folders else "left out"
        click.echo(f"warning: {folder} is not a complete leaderboard ({why}; a benchmark may still be writing it): "
                   f"{shown}", err=True)
    emit({"out": str(path), "leaderboards": folders, "incomplete": partial}, as_json,
         lambda data: f"wrote {path} ({len(folders)} leaderboards)")


@cli.command("compare")
@click.argument("a", type=click.Path(path_type=Path))
@click.argument("b", type=click.Path(path_type=Path))
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="also write the comparison to FILE.md (Markdown) or FILE.csv")
@json_option
def compare_command(a: Path, b: Path, out: Path | None, as_json: bool) -> None:
    """Compare two leaderboards A and B (leaderboard.json files or result folders): Kendall tau between the
    strategies' mean ranks and mean scores, and per strategy the difference B - A of the mean final score with a
    95% Welch interval."""
    from nasbench_suite.atomic import write_atomic
    from nasbench_suite.report import markdown_table
    from nasbench_suite.report.compare import compare, format_comparison, summary_lines

    if out is not None and out.suffix not in (".md", ".csv"):
        raise UserInputError(f"--out {out}: unknown format; expected a file name ending in .md or .csv")
    result = compare(a, b)
    if out is not None:
        text = (result.table.to_csv(float_format="%.6g") if out.suffix == ".csv" else
                "\n".join(f"- {line}" for line in summary_lines(result)) + "\n\n"
                + markdown_table(result.table.reset_index()) + "\n")
        write_atomic(out, lambda fh: fh.write(text.encode()))
    data = {"a": result.a, "b": result.b, "kendall_tau_mean_rank": result.tau_rank, "p_mean_rank": result.p_rank,
            "kendall_tau_mean_score": result.tau_score, "p_mean_score": result.p_score, "only_a": result.only_a,
            "only_b": result.only_b, "strategies": result.table.reset_index().to_dict(orient="records")}
    emit(jsonio.to_builtin(data), as_json, lambda data: format_comparison(result))
