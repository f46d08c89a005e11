"""Writing a leaderboard: CSV, Markdown and JSON (with the protocol and provenance), plots, and apart from them what
depends on the machine: the measured times in timing.json, the software versions and hardware in environment.json.

Everything but those two files is a function of the runs and the protocol: rerunning the same benchmark, on this
machine or another with the same packages, rewrites those files byte for byte.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from nasbench_suite import jsonio
from nasbench_suite.report import plots
from nasbench_suite.report.stats import (anytime, common_seeds, critical_difference, final_scores, leaderboard,
                                         rank_curves, table_noise_floor, timing)
from nasbench_suite.atomic import write_atomic
from nasbench_suite.runner.runs import Runs
from nasbench_suite.strategies import STRATEGIES
from nasbench_suite.table import Table
from nasbench_suite.versions import machine, package_versions

PLOTS_DIR = "plots"
LEADERBOARD_JSON = "leaderboard.json"  # the last file of a leaderboard's set (see `leaderboard_set`)
STAGING_DIR = ".leaderboard.partial"  # the next set, written here whole before it replaces the folder's
LINKED_FILE = re.compile(rf"\]\(({PLOTS_DIR}/[\w.-]+)\)")  # a plot file leaderboard.md links to
DATASETS = {"cifar10": "CIFAR-10", "cifar100": "CIFAR-100", "imagenet16-120": "ImageNet16-120"}
CAPTIONS = {
    "regret_time": "Regret (optimum - incumbent) against simulated search time: median over runs (line, from where "
                   "half the runs have a result) and inter-quartile range (shaded, from where three quarters do).",
    "regret_queries": "Regret (optimum - incumbent) against queries: median over runs (line, from where half the runs "
                      "have a result) and inter-quartile range (shaded, from where three quarters do).",
    "final_scores": "Final report value of every run's incumbent: box = quartiles, line = median, diamond = mean, "
                    "whiskers = 1.5 x inter-quartile range, dots = runs beyond; dashed = the table's optimum.",
    "rank_time": "Mean rank over runs (1 = best) at each simulated time; each run ranks the strategies on its seed.",
    "critical_difference": "Mean rank of the final value over runs (1 = best): strategies joined by a bar are not "
                           "separated by the Nemenyi test after a Friedman test."}
TIMING_FILE = "timing.json"
ENVIRONMENT_FILE = "environment.json"
ENVIRONMENT_LINE = (f"- environment: software versions and hardware in {ENVIRONMENT_FILE}, measured wall and CPU times "
                    f"in {TIMING_FILE} (kept apart: they differ from machine to machine)")
SOFTWARE = ("nasbench-suite", "numpy", "scipy", "pandas", "scikit-learn", "xgboost", "optuna", "matplotlib", "h5py",
            "click", "tqdm",
            "syne-tune", "nevergrad", "smac", "pymoo")  # the optional libraries' strategies (nasbench-suite strategies)


def environment() -> dict[str, Any]:
    """Software versions and the hardware the leaderboard was computed on."""
    return {"software": package_versions(SOFTWARE), "hardware": machine()}


def write_environment(out_dir: Path) -> Path:
    """environment.json: `environment()`, beside the leaderboard rather than in it, so the leaderboard's files are
    the same bytes on every machine."""
    return write_atomic(out_dir / ENVIRONMENT_FILE, lambda fh: fh.write(jsonio.dumps(environment(), indent=2).encode()))


def _seed_summary(seeds: list[int]) -> str:
    if seeds == list(range(seeds[0], seeds[0] + len(seeds))):
        return f"{len(seeds)} seeds ({seeds[0]}..{seeds[-1]})"
    return f"{len(seeds)} seeds ({', '.join(map(str, seeds))})"


def _number(value: float, digits: int = 2) -> str:
    if np.isnan(value):
        return "-"
    return "never" if np.isinf(value) else f"{value:,.{digits}f}"


def markdown_table(frame: pd.DataFrame) -> str:
    """Any DataFrame as a Markdown table (floats with 3 decimals), for the report scripts."""
    cell = lambda v: f"{v:.3f}" if isinstance(v, float) else str(v)  # noqa: E731
    lines = ["| " + " | ".join(map(str, frame.columns)) + " |", "|" + "---|" * len(frame.columns)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join(lines)


def short_labels(labels: Sequence[str], width: int) -> list[str]:
    """Each label in at most `width` characters: a longer one keeps its head and its tail (where specs differ, in
    their hyperparameter values) around a '…'; labels that would still coincide end in their position instead."""
    tail = width // 3
    short = [label if len(label) <= width else f"{label[:width - tail - 1]}…{label[-tail:]}" for label in labels]
    return [s if short.count(s) == 1 else f"{label[:width - len(str(i)) - 2]}…#{i}"
            for i, (label, s) in enumerate(zip(labels, short), start=1)]


def format_compact(board: pd.DataFrame) -> str:
    """The leaderboard in under 100 columns for a terminal: best mean rank first (the order of `board`); long names
    are shortened with a '…' (`--wide` prints them whole)."""
    lines = ["rows by mean rank over seeds (1 = best); final = report metric of the incumbent, mean +- 95% CI",
             f"{'#':>2}  {'strategy':<26} {'final':>16} {'median':>7} {'mean rank':>9} {'queries/run':>11}"]
    names = short_labels([f"{name} †" if r.get("degenerate") else str(name) for name, r in board.iterrows()], 26)
    for place, (label, (_, r)) in enumerate(zip(names, board.iterrows()), start=1):
        ci = f" +- {_number(r.final_ci95)}" if np.isfinite(r.final_ci95) else ""
        lines.append(f"{place:>2}  {label:<26} {_number(r.final_mean) + ci:>16} {_number(r.final_median):>7} "
                     f"{_number(r.mean_rank):>9} {_number(r.queries_mean, 1):>11}")
    return "\n".join(lines)


def format_leaderboard(board: pd.DataFrame) -> str:
    """The leaderboard as a Markdown table with every column (leaderboard.md, and the CLI's --wide)."""
    header = ["#", "strategy", "final mean ± std", "95% CI", "median", "regret", "mean rank", "regret AUC",
              "top-1% hit", "queries to top-1%", "sim. s to top-1%", "optimum hit", "queries to opt.",
              "sim. s to opt.", "queries/run"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for place, (name, r) in enumerate(board.iterrows(), start=1):
        ci = (f"[{_number(r.final_mean - r.final_ci95)}, {_number(r.final_mean + r.final_ci95)}]"
              if np.isfinite(r.final_ci95) else "-")
        label = f"{name} †" if r.get("degenerate") else name
        cells = [str(place), label, f"{_number(r.final_mean)} ± {_number(r.final_std)}", ci, _number(r.final_median),
                 _number(r.regret_mean, 3), _number(r.mean_rank), _number(r.regret_auc, 3), f"{r.top1_hit:.0%}",
                 _number(r.top1_queries, 0), _number(r.top1_seconds, 0), f"{r.opt_hit:.0%}",
                 _number(r.opt_queries, 0), _number(r.opt_seconds, 0), _number(r.queries_mean, 1)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def write_report(runs: Runs, out_dir: str | os.PathLike, extra: dict[str, Any] | None = None,
                 timing_extra: dict[str, Any] | None = None, highlight: Sequence[str] = ()) -> dict[str, Any]:
    """Write leaderboard.{csv,md,json}, timing.json, environment.json and the plots under `out_dir`; returns the
    header and the leaderboard.

    extra: more header entries (e.g. the command line). timing_extra: more measured entries for timing.json
    (e.g. jobs, total wall seconds): anything that changes from one identical rerun to the next goes there.
    highlight: strategies drawn in colour in the plots, the others grey (none: all in colour).
    """
    out_dir = Path(out_dir)
    board = leaderboard(runs)
    degenerate = runs.meta.get("degenerate", {})
    if degenerate:  # a strategy that is a simpler one under this protocol says so in every output
        board["degenerate"] = [degenerate.get(name, "") for name in board.index]
    protocol, reference = runs.meta["protocol"], runs.meta["reference"]
    bench = protocol["benchmark"]
    metric = bench.get("report_metric", "report metric")
    seeds = common_seeds(runs)
    scores = final_scores(runs).loc[seeds]
    cd = critical_difference(scores)
    palette = plots.looks(runs.strategies, plots.families(runs.strategies, STRATEGIES), highlight, degenerate)
    header = {"protocol": protocol, "protocol_hash": runs.meta["protocol_hash"], "strategies": runs.strategies,
              "seeds": runs.seeds, "runs": len(runs), "reference": reference,
              "friedman": None if cd is None else {"statistic": cd.statistic, "pvalue": cd.pvalue,
                                                     "nemenyi_cd": cd.cd, "alpha": cd.alpha, "seeds": cd.blocks},
              **(extra or {})}
    table_path = runs.meta.get("table_path")
    if table_path and Path(table_path).is_file() and "search_metric" in bench:  # not for a surrogate-only benchmark
        header["noise_floor"] = table_noise_floor(Table.load(table_path), metric, bench["search_metric"],
                                                  board["final_mean"])
    dataset = bench.get("dataset", "")
    title = human_title(f"{DATASETS.get(dataset, dataset)}, {protocol.get('preset', 'custom')} protocol",
                        protocol["budget"], len(runs.seeds))
    percent = in_percent(metric)
    time_curves = anytime(runs, "time")
    regret_label = f"median regret ({metric}{', % points' if percent else ''})"
    figures = {"regret_time": plots.plot_anytime(time_curves, palette, regret_label, title),
               "regret_queries": plots.plot_anytime(anytime(runs, "queries"), palette, regret_label, title),
               "final_scores": plots.plot_final(scores, list(board.index), palette,
                                                f"final {metric} of the incumbent{' (%)' if percent else ''}",
                                                reference["optimum"], title),
               "rank_time": plots.plot_ranks(time_curves, rank_curves(time_curves, seeds), palette, title)}
    if cd is not None:
        figures["critical_difference"] = plots.plot_cd(cd, title, palette)
    text = _markdown(header, board, [(name, CAPTIONS[name]) for name in figures])
    rows = board.reset_index().to_dict(orient="records")
    with leaderboard_set(out_dir) as stage:
        write_atomic(stage / "leaderboard.csv", lambda fh: fh.write(board.to_csv(float_format="%.6g").encode()))
        write_atomic(stage / LEADERBOARD_JSON, lambda fh: fh.write(
            jsonio.dumps({"header": header, "leaderboard": rows}, indent=2).encode()))
        save_figures(figures, stage / PLOTS_DIR)
        write_atomic(stage / "leaderboard.md", lambda fh: fh.write(text.encode()))
    write_timing(runs, out_dir, timing_extra)
    write_environment(out_dir)
    return {"header": header, "leaderboard": board}


@contextmanager
def leaderboard_set(out_dir: Path) -> Iterator[Path]:
    """Write a leaderboard's files into the yielded staging folder; then they replace those in `out_dir` as one set.

    The old leaderboard.json is removed first and the new one renamed in last, so a folder with a leaderboard.json
    holds a complete set (`incomplete` tells the others apart); a write that fails (a full disk, Ctrl-C) before
    the renames leaves the previous set as it was.
    """
    out_dir = Path(out_dir)
    stage = out_dir / STAGING_DIR
    shutil.rmtree(stage, ignore_errors=True)  # left by a killed writer
    stage.mkdir(parents=True)
    try:
        try:
            yield stage
        except OSError as exc:  # e.g. a full disk: named as the file meant, not its staged copy
            if exc.filename is None or not Path(exc.filename).is_relative_to(stage):
                raise
            raise OSError(exc.errno, exc.strerror, str(out_dir / Path(exc.filename).relative_to(stage))) from exc
        files = sorted((p.relative_to(stage) for p in stage.rglob("*") if p.is_file()),
                       key=lambda rel: (rel.as_posix() == LEADERBOARD_JSON, rel.as_posix()))
        (out_dir / LEADERBOARD_JSON).unlink(missing_ok=True)
        for rel in files:
            (out_dir / rel).parent.mkdir(parents=True, exist_ok=True)
            os.replace(stage / rel, out_dir / rel)
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def incomplete(folder: Path) -> str | None:
    """Why `folder` holds no complete leaderboard (None: it does): leaderboard.json comes last (`leaderboard_set`),
    and the csv, the md and every plot the md links to must be there too."""
    if not (folder / LEADERBOARD_JSON).is_file():
        return f"no {LEADERBOARD_JSON} yet"
    missing = [name for name in ("leaderboard.csv", "leaderboard.md") if not (folder / name).is_file()]
    if not missing:
        missing = [name for name in LINKED_FILE.findall((folder / "leaderboard.md").read_text())
                   if not (folder / name).is_file()]
    return f"{', '.join(missing)} missing" if missing else None


def _markdown(header: dict[str, Any], board: pd.DataFrame, figures: list[str]) -> str:
    protocol, bench, ref = header["protocol"], header["protocol"]["benchmark"], header["reference"]
    provenance = bench.get("table_provenance", {})
    repos: dict[str, int] = {}
    for source in provenance.get("sources", {}).values():
        key = (f"{source['repo']}@{source['commit'][:10]}" if "commit" in source  # a repository file, or a package's
               else f"{source['name']} {source['version']} ({source['index']})")
        repos[key] = repos.get(key, 0) + 1
    sources = ", ".join(f"{repo} ({n} file{'s' * (n > 1)})" for repo, n in repos.items()) or "-"
    friedman = header["friedman"]
    lines = [f"# Leaderboard: {bench.get('dataset') or bench.get('kind', '')}, "
             f"preset `{protocol.get('preset', 'custom')}`", "",
             f"- protocol: {protocol.get('preset_description', '')}".rstrip(": "),
             f"- search metric (seen): {bench.get('search_metric')} at {protocol['default_fidelity']} epochs "
             f"(multi-fidelity strategies: {', '.join(map(str, protocol['fidelities']))}); seed mode "
             f"{bench.get('seed_mode')}; report metric (scored, never seen): {bench.get('report_metric')}",
             f"- budget: {protocol['budget']['amount']:g} {protocol['budget']['unit']}; cost: {bench.get('cost')} "
             f"({'; '.join(f'{k}: {v}' for k, v in bench.get('cost_columns', {}).items()) or 'columns undescribed'}); "
             f"{protocol['rules']['budget']}; incumbent = {protocol['rules']['incumbent']}",
             f"- runs: {header['runs']} = {len(header['strategies'])} strategies x {_seed_summary(header['seeds'])}",
             f"- reference: optimum {ref['optimum']:.4f}, top-1% threshold {ref['top_threshold']:.4f}, "
             f"worst {ref['worst']:.4f} over {ref['cells']} cells",
             f"- table: {bench.get('table_file', bench.get('kind'))} "
             f"content sha256 {bench.get('table_content_sha256', '-')}; "
             f"dataset {bench.get('dataset')} (sha256 {bench.get('dataset_sha256') or 'none published'}); "
             f"provenance: {provenance.get('kind', '-')}: {sources}", ENVIRONMENT_LINE]
    if header.get("noise_floor"):
        lines.append(_noise_line(header["noise_floor"]))
    if bench.get("excluded_cells") is not None:  # cells the benchmark leaves out of the searchable set
        reason = f" ({bench['excluded_reason']})" if bench.get("excluded_reason") else ""
        lines.append(f"- excluded cells: {bench['excluded_cells']:,} cells of the space are not searchable{reason}")
    if "command" in header:
        lines.append(f"- command: {header['command']}")
    if "degenerate" in board.columns:
        lines += [f"- † {name} is degenerate under this protocol: {reason}"
                  for name, reason in board["degenerate"].items() if reason]
    if friedman:
        lines.append(f"- Friedman test over {friedman['seeds']} seeds: chi2 = {friedman['statistic']:.2f}, "
                     f"p = {friedman['pvalue']:.3g}; Nemenyi critical difference of mean ranks "
                     f"(alpha {friedman['alpha']}): {friedman['nemenyi_cd']:.3f}")
    lines += ["", format_leaderboard(board), "",
              "Columns: regret = optimum - final (report-metric points); mean rank over seeds of the final value "
              "(1 = best); regret AUC = mean regret over a log-spaced simulated-time grid from when every run has "
              "a result to the budget; queries / simulated seconds to the top 1% or the optimum are medians over "
              "runs ('never' when most runs did not get there).", ""]
    lines += figure_lines(figures)
    return "\n".join(lines) + "\n"


def _noise_line(floor: dict[str, Any]) -> str:
    """The header's noise-floor line: its size and which, and the strategies within it of each other."""
    if floor["points"] is None:
        return f"- noise floor: unknown ({floor['note']})"
    note = f" ({floor['note']})" if floor["note"] else ""
    groups = " · ".join("{" + ", ".join(group) + "}" for group in floor["groups"])
    return (f"- noise floor: {floor['points']:.3f} points = median seed-to-seed std of {floor['metric']} over the "
            f"{floor['cells']} best cells (top {floor['top']:.0%} by seed mean) with 2+ training seeds{note}; "
            f"{floor['pairs_within']} of {floor['pairs']} pairwise differences of mean final score are smaller; "
            f"within noise of the group's first, from the best mean down: {groups}")


def figure_lines(figures: list[tuple[str, str]]) -> list[str]:
    """Markdown for (name, caption) figures: the PNG, the caption below with links to the vector files (the site
    reads the captions from these lines)."""
    return [line for name, caption in figures for line in
            (f"![{name}]({PLOTS_DIR}/{name}.png)", "", f"*{caption}* ([SVG]({PLOTS_DIR}/{name}.svg), "
             f"[PDF]({PLOTS_DIR}/{name}.pdf))", "")]


def save_figures(figures: dict[str, plt.Figure], out_dir: Path) -> None:
    """Each figure as PNG (300 dpi), SVG and PDF, in the paper style it was drawn in."""
    for name, fig in figures.items():
        plots.save(fig, out_dir, name, dpi=plots.DPI, style=plots.STYLE, formats=plots.FORMATS)


def human_title(head: str, budget: dict[str, Any], runs_each: int) -> str:
    """Two lines for a figure: `head`, then e.g. '200,000 simulated s per run, 25 runs each'."""
    unit = "simulated s" if budget["unit"] == "seconds" else budget["unit"]
    return f"{head}\n{budget['amount']:,.0f} {unit} per run, {runs_each} runs each"


def in_percent(metric: str) -> bool:
    """An accuracy metric: NB201 tables store accuracies in percent."""
    return "acc" in metric.split("@")[0]


def write_timing(runs: Runs, out_dir: Path, extra: dict[str, Any] | None = None) -> Path:
    """timing.json: per strategy and per run, the measured wall/CPU seconds of the search loops, plus `extra`.

    Runs reused from disk were timed by the process that ran them: their times are taken from the timing.json
    already there (if any), so reusing runs keeps their times.
    """
    path = out_dir / TIMING_FILE
    previous = jsonio.loads(path.read_text()).get("runs", {}) if path.is_file() else {}
    for run in runs:
        known = previous.get(f"{run.strategy}/{run.seed}")
        if not np.isfinite(run.wall_seconds) and known:
            run.wall_seconds, run.cpu_seconds = (np.nan if known[k] is None else known[k]
                                                 for k in ("wall_seconds", "cpu_seconds"))
    measured = {f"{r.strategy}/{r.seed}": {"wall_seconds": r.wall_seconds, "cpu_seconds": r.cpu_seconds}
                for r in runs}
    data = {"created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "load_average_1_5_15min": [round(x, 2) for x in os.getloadavg()], **(extra or {}),
            "strategies": timing(runs).to_dict(orient="index"), "runs": {**previous, **measured}}
    return write_atomic(path, lambda fh: fh.write(jsonio.dumps(data, indent=2).encode()))
