"""Hardware-aware leaderboards (CSV, Markdown, strict JSON) and plots (PNG + SVG with reproducible bytes).

Statistics come from `report.stats` run on `Runs` whose `reported` trajectory is the found set's normalised
hypervolume (Pareto) or the feasible incumbent's score (constrained): final value, regret, mean rank, regret AUC,
Friedman/Nemenyi; this module adds IGD+, attainment and feasibility.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from nasbench_suite import jsonio  # noqa: E402
from nasbench_suite.atomic import write_atomic  # noqa: E402
from nasbench_suite.multiobjective.pareto import attainment, igd_plus  # noqa: E402
from nasbench_suite.multiobjective.simulate import HWProblem, HWRun  # noqa: E402
from nasbench_suite.multiobjective.strategies import MO_STRATEGIES  # noqa: E402
from nasbench_suite.report import plots  # noqa: E402
from nasbench_suite.report.stats import (  # noqa: E402
    anytime,
    common_seeds,
    critical_difference,
    final_scores,
    leaderboard,
)
from nasbench_suite.report.write import (  # noqa: E402
    CAPTIONS as SINGLE_CAPTIONS,
    ENVIRONMENT_LINE,
    figure_lines,
    human_title,
    leaderboard_set,
    markdown_table,
    save_figures,
    write_environment,
    write_timing,
)
from nasbench_suite.runner import Runs  # noqa: E402
from nasbench_suite.strategies import STRATEGIES  # noqa: E402

PLOTS_DIR = "plots"
DEVICE_CLASSES = {"GPU": ("1080ti", "2080ti", "titan", "edgegpu"), "CPU": ("gold_", "silver_"),
                  "mobile": ("pixel", "samsung", "essential_ph", "raspi4"), "FPGA/ASIC": ("fpga", "eyeriss", "edgetpu")}
SHOWCASE = ("latency_1080ti_1_ms", "latency_pixel3_ms", "latency_fpga_ms", "latency_eyeriss_ms")
CAPTIONS = {
    "hv_regret_time": "Hypervolume regret (true front's - found set's, normalised) against simulated search time: "
                      "median over runs (line, from where half the runs have a result) and inter-quartile range "
                      "(shaded, from where three quarters do).",
    "fronts": "The table's true Pareto front (black) and each strategy's median attainment surface over runs; grey "
              "dots: every cell.",
    "regret_time": "Regret (best feasible - incumbent's test accuracy) against simulated search time: median over "
                   "runs (line) and inter-quartile range (shaded).",
    "devices": "Every cell on the searched device and one device of each class: the latency limit (dashed), the best "
               "feasible cell (star) and, on the searched device, each strategy's final incumbents.",
    "critical_difference": SINGLE_CAPTIONS["critical_difference"]}


def device_class(column: str) -> str:
    """GPU, CPU, mobile or FPGA/ASIC, from the device named in a hardware column."""
    return next((k for k, keys in DEVICE_CLASSES.items() if any(key in column for key in keys)), "other")


def hw_leaderboard(problem: HWProblem, runs: Runs, results: dict[tuple[str, int], HWRun]) -> pd.DataFrame:
    """One row per strategy, best mean rank first (ranks, CIs and regret AUC from `report.stats.leaderboard`)."""
    base = leaderboard(runs)
    pareto = problem.preset.kind == "pareto"
    rows = []
    for name, r in base.iterrows():
        group = [results[(name, seed)] for seed in runs.seeds if (name, seed) in results]
        row = {"strategy": name, "runs": int(r.runs), "score_mean": r.final_mean, "score_std": r.final_std,
               "score_ci95": r.final_ci95, "regret_mean": r.regret_mean, "regret_auc": r.regret_auc,
               "mean_rank": r.mean_rank}
        if pareto:
            found = [problem.points[g.found] for g in group]
            row |= {"igd_plus_mean": float(np.mean([igd_plus(f, problem.true_front) for f in found])),
                    "attainment_mean": float(np.mean([attainment(f, problem.true_front) for f in found])),
                    "found_mean": float(np.mean([len(g.found) for g in group])), "hv99_hit": r.top1_hit}
        else:
            row |= {"best_feasible_hit": r.opt_hit,
                    "feasible_ask_rate": float(np.sum([g.feasible_asks for g in group]) /
                                               max(1, np.sum([g.asks for g in group]))),
                    "asks_mean": float(np.mean([g.asks for g in group]))}
        rows.append(row | {"queries_mean": r.queries_mean})
    return pd.DataFrame(rows).set_index("strategy")


def write_hw_report(problem: HWProblem, runs: Runs, results: dict[tuple[str, int], HWRun], out_dir: str | Path,
                    extra: dict[str, Any] | None = None,
                    timing_extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """Write leaderboard.{csv,md,json}, timing.json, environment.json and plots/ under `out_dir`; returns the header
    and the leaderboard. Measured or machine-dependent entries (timing_extra, e.g. jobs) go to timing.json only."""
    out_dir = Path(out_dir)
    board = hw_leaderboard(problem, runs, results)
    seeds = common_seeds(runs)
    cd = critical_difference(final_scores(runs).loc[seeds])
    preset = problem.preset
    header = {"preset": preset.settings(), "table": problem.table_name, "device_class": device_class(
              preset.device_metric), "reference": runs.meta["reference"], "strategies": runs.strategies,
              "seeds": runs.seeds, "runs": len(runs),
              "friedman": None if cd is None else {"statistic": cd.statistic, "pvalue": cd.pvalue,
                                                     "nemenyi_cd": cd.cd, "alpha": cd.alpha, "seeds": cd.blocks},
              **(extra or {})}
    text = jsonio.dumps({"header": header, "leaderboard": board.reset_index().to_dict(orient="records")}, indent=2)
    figures = _figures(problem, runs, results, board, cd)
    markdown = _markdown(problem, header, board, [(name, CAPTIONS[name]) for name in figures])
    with leaderboard_set(out_dir) as stage:  # the whole set or the previous one, never half of each
        write_atomic(stage / "leaderboard.csv", lambda fh: fh.write(board.to_csv(float_format="%.6g").encode()))
        write_atomic(stage / "leaderboard.json", lambda fh: fh.write(text.encode()))
        save_figures(figures, stage / PLOTS_DIR)
        write_atomic(stage / "leaderboard.md", lambda fh: fh.write(markdown.encode()))
    write_timing(runs, out_dir, timing_extra)  # measured times and the machine apart, so the rest reproduces
    write_environment(out_dir)  # byte for byte on any machine
    return {"header": header, "leaderboard": board}


def _figures(problem: HWProblem, runs: Runs, results: dict[tuple[str, int], HWRun], board: pd.DataFrame,
             cd) -> dict[str, plt.Figure]:
    palette = plots.looks(runs.strategies, plots.families(runs.strategies, {**STRATEGIES, **MO_STRATEGIES}))
    device = f"{problem.preset.device_metric} ({device_class(problem.preset.device_metric)})"
    head = (f"Accuracy vs {device}: Pareto search" if problem.preset.kind == "pareto"
            else f"Best accuracy under a {device} limit")
    title = human_title(head, runs.meta["protocol"]["budget"], len(runs.seeds))
    if problem.preset.kind == "pareto":
        figures = {"hv_regret_time": plots.plot_anytime(anytime(runs, "time"), palette,
                                                        "median regret (normalised hypervolume)", title)}
        if len(problem.objectives) == 2:
            figures["fronts"] = plot_fronts(problem, runs, results, palette, title)
    else:
        figures = {"regret_time": plots.plot_anytime(anytime(runs, "time"), palette,
                                                     f"median regret ({problem.objectives[0].label}, % points)",
                                                     title),
                   "devices": plot_devices(problem, runs, palette)}
    if cd is not None:
        figures["critical_difference"] = plots.plot_cd(cd, title, palette)
    return figures


def _cloud(ax: plt.Axes, problem: HWProblem, device: np.ndarray) -> None:
    accuracy = problem.benchmark.report_values()
    ax.scatter(device[problem.valid], accuracy[problem.valid], s=2, color="0.8", lw=0, rasterized=True,
               label="all cells")


def median_attainment(x: np.ndarray, y: np.ndarray, runs: list[np.ndarray], grid: np.ndarray) -> np.ndarray:
    """Median over runs of the best y (maximised) a run's found cells reach at device value <= each grid point
    (Fonseca & Fleming's 50% attainment surface for two objectives); -inf where half the runs reach nothing."""
    best = np.full((len(runs), len(grid)), -np.inf)
    for r, cells in enumerate(runs):
        for cell in cells:
            best[r] = np.maximum(best[r], np.where(grid >= x[cell], y[cell], -np.inf))
    return np.median(best, axis=0)


def plot_fronts(problem: HWProblem, runs: Runs, results: dict[tuple[str, int], HWRun], palette: dict,
                title: str) -> plt.Figure:
    """The true front (exact, all cells) and each strategy's median attainment surface, in raw units."""
    device, accuracy = problem.hardware[:, 0], problem.benchmark.report_values()
    fig, ax = plt.subplots(figsize=(7, 4.8))
    _cloud(ax, problem, device)
    front = problem.front_cells[np.argsort(device[problem.front_cells])]
    grid = np.unique(np.concatenate([device[front], np.quantile(device[problem.valid], np.linspace(0, 1, 200))]))
    ax.step(device[front], accuracy[front], where="post", color="black", lw=1.8, label="true front")
    for name in runs.strategies:
        found = [results[(name, seed)].found for seed in runs.seeds if (name, seed) in results]
        surface = median_attainment(device, accuracy, found, grid)
        ax.step(grid, np.where(np.isfinite(surface), surface, np.nan), where="post", color=palette[name].color,
                ls=palette[name].linestyle, lw=1.2, label=f"{name} (median attainment)")
    ax.set_ylim(np.nanquantile(accuracy, 0.25), np.nanmax(accuracy) + 0.5)  # the front's interesting part
    ax.set_xlabel(f"{problem.preset.device_metric} (lower is better)")
    ax.set_ylabel(f"{problem.objectives[0].label.split(':')[0]} (higher is better)")
    ax.set_title(title, fontsize=9)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7, loc="lower right")
    return fig


def plot_devices(problem: HWProblem, runs: Runs, palette: dict) -> plt.Figure:
    """Per device (the searched one and one of each class), every cell, the latency limit at the preset's
    quantile and the best feasible cell; on the searched device also each strategy's final incumbents."""
    table = problem.benchmark.table
    devices = list(dict.fromkeys([problem.preset.device_metric, *(d for d in SHOWCASE if d in table.columns)]))
    fig, axes = plt.subplots(1, len(devices), figsize=(3.6 * len(devices), 3.6), squeeze=False)
    accuracy = problem.benchmark.report_values()
    for ax, column in zip(axes[0], devices):
        other = HWProblem(table, problem.preset.with_device(column), problem.table_name) \
            if column != problem.preset.device_metric else problem
        device = other.hardware[:, 0]
        _cloud(ax, other, device)
        ax.axvline(other.limit, color="red", lw=1, ls="--", label=f"limit {other.limit:.3g}")
        best = other.best_feasible
        ax.scatter([device[best]], [accuracy[best]], marker="*", s=140, color="black", zorder=5,
                   label=f"best feasible {accuracy[best]:.2f} (#{best})")
        if other is problem:
            for name in runs.strategies:
                cells = [r.incumbent[-1] for r in runs.of(name) if r.queries and r.incumbent[-1] >= 0]
                ax.scatter(device[cells], accuracy[cells], s=12, color=palette[name].color,
                           marker=palette[name].marker, label=name, zorder=4)
        ax.set_ylim(np.nanquantile(accuracy, 0.05), np.nanmax(accuracy) + 0.5)
        ax.set_title(f"{column} ({device_class(column)})", fontsize=8)
        ax.set_xlabel("latency / energy (lower is better)", fontsize=8)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=6, loc="lower right")
    axes[0][0].set_ylabel(f"{problem.objectives[0].label.split(':')[0]}")
    return fig


def format_hw_leaderboard(board: pd.DataFrame) -> str:
    """The leaderboard as Markdown (also what the CLI prints), best mean rank first."""
    shown = board.reset_index()
    shown.insert(0, "#", range(1, len(shown) + 1))
    return markdown_table(shown)


def _markdown(problem: HWProblem, header: dict[str, Any], board: pd.DataFrame, figures: list[str]) -> str:
    preset, ref = problem.preset, header["reference"]
    lines = [f"# Hardware-aware leaderboard: {header['table']}, preset `{preset.name}`, "
             f"`{preset.device_metric}` ({header['device_class']})", "", f"- protocol: {preset.description}"
             + ("" if preset.hardware_free else "; here the device metric is known only after training: an "
                "infeasible cell is trained, charged and told as failed"),
             f"- budget: {preset.budget} per run (a query that would exceed it is not run and ends the search); "
             f"query cost = epochs x train_seconds_per_epoch + eval_seconds; runs: {header['runs']} = "
             f"{len(header['strategies'])} strategies x {len(header['seeds'])} seeds"]
    if preset.kind == "pareto":
        lines += [f"- score: hypervolume of the found set (queried cells non-dominated in what was seen) in "
                  f"({', '.join(ref['objectives'])}), each normalised to the true front (ideal 0, nadir 1), "
                  f"reference point {ref['reference_point']} per objective; true front: {ref['front_cells']} of "
                  f"{ref['cells']} cells, hypervolume {ref['optimum']:.4f}",
                  "- columns: score = hypervolume (mean, std, 95% CI), regret = true HV - found HV, regret AUC = "
                  "mean HV regret over a log simulated-time grid, mean rank over seeds (1 = best), IGD+ in "
                  "normalised units, attainment = fraction of true-front cells found, found = size of the found "
                  "set, hv99_hit = fraction of runs reaching 99% of the true HV"]
    else:
        lines += [f"- constraint: {preset.device_metric} <= {ref['limit']:.4g} (the {preset.limit_quantile:.0%} "
                  f"quantile over all cells); {ref['cells']} feasible cells; best feasible: {ref['optimum']:.2f} "
                  f"(#{ref['best_feasible_cell']} {ref['best_feasible_arch']})",
                  "- columns: score = test accuracy of the best feasible cell seen (mean, std, 95% CI), regret = "
                  "best feasible - score, best_feasible_hit = fraction of runs that found the best feasible cell, "
                  "feasible_ask_rate = feasible asks / all asks (infeasible asks are rejected free of cost), "
                  "asks_mean = asks per run, queries_mean = trained cells per run"]
    if header["friedman"]:
        f = header["friedman"]
        lines.append(f"- Friedman test over {f['seeds']} seeds: chi2 = {f['statistic']:.2f}, p = {f['pvalue']:.3g}; "
                     f"Nemenyi critical difference of mean ranks (alpha {f['alpha']}): {f['nemenyi_cd']:.3f}")
    lines += [f"- {key}: {header[key]}" for key in ("command",) if key in header] + [ENVIRONMENT_LINE]
    lines += ["", format_hw_leaderboard(board), ""]
    lines += figure_lines(figures)
    return "\n".join(lines) + "\n"
