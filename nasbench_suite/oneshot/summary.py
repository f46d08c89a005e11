"""Trajectories of weight-sharing searches as tables and plots: the leaderboard's "weight-sharing" section.

Reads only CSV files (no torch), so the report code can call `leaderboard_frame` anywhere.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import pandas as pd

from nasbench_suite.errors import UserInputError

RESULTS_DIR = Path("results") / "oneshot"
TRAJECTORIES = "trajectories.csv"
TRAJECTORY = "trajectory.csv"  # one run's, under <run root>/<setting>/<method>/seed<k>/
SUMMARY = "summary.csv"
LEADERBOARD = "leaderboard.md"
PLOT = "test_acc_vs_epoch"
ENTROPY_PLOT = "entropy_vs_epoch"

# NAS-Bench-201 (Dong & Yang, ICLR 2020), Table 5, CIFAR-10 columns: mean +- std over the paper's runs of the
# derived cell's 200-epoch accuracy, test (cifar10, trained on 50k) and valid (cifar10-valid), for searches in the
# paper's setting (C=16, N=5, 32 px). The primary PDF was not readable here; these are the figures as quoted,
# identically, by later papers (e.g. ReLIZO, NeurIPS 2024, Table 2, "quoted from the paper of NAS-Bench-201").
PUBLISHED_SOURCE = "NAS-Bench-201 (ICLR 2020) Table 5"
PUBLISHED = {  # method: (paper's name, test mean, test std, valid mean, valid std)
    "darts": ("DARTS-V1", 54.30, 0.00, 39.77, 0.00),
    "darts2": ("DARTS-V2", 54.30, 0.00, 39.77, 0.00),
    "gdas": ("GDAS", 93.61, 0.09, 89.89, 0.08),
    "rsps": ("RSPS", 84.07, 3.61, 80.42, 3.58),
    "enas": ("ENAS", 53.89, 0.58, 37.51, 3.19),
    "setn": ("SETN", 87.64, 0.00, 84.04, 0.28),
}


def collect(run_root: str | os.PathLike) -> pd.DataFrame:
    """All per-run trajectory.csv files under `run_root` (<setting>/<method>/seed<k>/), one row per epoch."""
    files = _run_files(run_root)
    if not files:
        raise UserInputError(f"no one-shot runs under {run_root} (expected <setting>/<method>/seed<k>/trajectory.csv)")
    frame = pd.concat([pd.read_csv(f) for f in files], ignore_index=True)
    return frame.sort_values(["setting", "method", "seed", "epoch"], ignore_index=True)


def _run_files(run_root: str | os.PathLike) -> list[Path]:
    return sorted(Path(run_root).glob(f"*/*/seed*/{TRAJECTORY}"))


def keep_reported(trajectories: pd.DataFrame, results_dir: str | os.PathLike = RESULTS_DIR) -> pd.DataFrame:
    """`trajectories` plus the runs already reported in `results_dir` that it does not hold, so that a report
    written from a fresh run folder (a new checkout, another machine) adds to the committed one, not replaces it.
    A run in `trajectories` replaces the reported run of the same setting, method and seed."""
    path = Path(results_dir) / TRAJECTORIES
    if not path.is_file():
        return trajectories
    reported = pd.read_csv(path)
    key = ["setting", "method", "seed"]
    fresh = pd.MultiIndex.from_frame(trajectories[key])
    kept = reported[~pd.MultiIndex.from_frame(reported[key]).isin(fresh)]
    frame = pd.concat([kept, trajectories], ignore_index=True)
    return frame.sort_values(["setting", "method", "seed", "epoch"], ignore_index=True)


def gather(run_root: str | os.PathLike, results_dir: str | os.PathLike = RESULTS_DIR) -> pd.DataFrame:
    """The runs under `run_root` plus the runs already reported in `results_dir` (see `keep_reported`)."""
    if _run_files(run_root):
        return keep_reported(collect(run_root), results_dir)
    reported = Path(results_dir) / TRAJECTORIES
    if not reported.is_file():
        raise UserInputError(f"no one-shot runs under {run_root} and none reported in {results_dir}")
    return pd.read_csv(reported)  # written sorted by write_report


def finals(trajectories: pd.DataFrame) -> pd.DataFrame:
    """The last recorded epoch of every run."""
    last = trajectories.groupby(["setting", "method", "seed"])["epoch"].transform("max")
    return trajectories[trajectories["epoch"] == last].reset_index(drop=True)


def rankings(results_dir: str | os.PathLike = RESULTS_DIR) -> pd.DataFrame:
    """The `oneshot-rank` results saved in `results_dir` as rank-*.json: one row per ranked checkpoint (setting,
    method, seed, cells, Kendall tau, Spearman rho); empty where there are none."""
    from nasbench_suite import jsonio

    keys = ["setting", "method", "seed", "cells", "kendall_tau", "spearman_rho"]
    rows = []
    for path in sorted(Path(results_dir).glob("rank-*.json")):
        record = jsonio.loads(path.read_text())
        missing = [k for k in keys if k not in record]
        if missing:
            raise UserInputError(f"{path} is not an `oneshot-rank` result: it lacks {', '.join(missing)}")
        rows.append({k: record[k] for k in keys})
    return pd.DataFrame(rows, columns=keys)


def fixed_since(run: pd.DataFrame) -> int:
    """The first epoch of one run from which its derived cell is the final one in every later epoch: how long
    before the end the search stopped changing its answer (the last epoch where it never settled)."""
    archs = run.sort_values("epoch")[["epoch", "arch"]]
    changed = archs["arch"] != archs["arch"].iloc[-1]
    return int(archs["epoch"].iloc[np.flatnonzero(changed)[-1] + 1] if changed.any() else archs["epoch"].iloc[0])


def summarize(trajectories: pd.DataFrame, ranked: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per (setting, method): final derived cells' looked-up accuracy (mean, std over seeds), search
    seconds, the final mean edge entropy, the supernet's Kendall tau from `ranked` (see `rankings`; NaN where
    no checkpoint of the method was ranked), the cells themselves and the hardware that produced them."""
    ranked = ranked if ranked is not None else pd.DataFrame(columns=["setting", "method", "kendall_tau"])
    settled = {key: fixed_since(run) for key, run in trajectories.groupby(["setting", "method", "seed"])}
    rows = []
    for (setting, method), runs in finals(trajectories).groupby(["setting", "method"], sort=True):
        cells = runs["arch"].value_counts()
        fixed = pd.Series([settled[setting, method, seed] for seed in runs["seed"]], dtype=float)
        taus = ranked.loc[(ranked["setting"] == setting) & (ranked["method"] == method), "kendall_tau"].astype(float)
        entropy = runs["entropy_mean"] if "entropy_mean" in runs else pd.Series(np.nan, index=runs.index)
        rows.append({
            "setting": setting, "method": method, "runs": len(runs), "seeds": " ".join(map(str, runs["seed"])),
            "epochs": int(runs["epoch"].max()), "epochs_planned": int(runs["epochs_planned"].max()),
            "test_acc_200_mean": runs["test_acc_200"].mean(), "test_acc_200_std": runs["test_acc_200"].std(ddof=0),
            "valid_acc_200_mean": runs["valid_acc_200"].mean(),
            "valid_acc_200_std": runs["valid_acc_200"].std(ddof=0),
            "search_seconds_mean": runs["search_seconds"].mean(),
            "search_seconds_std": runs["search_seconds"].std(ddof=0),
            "cpu_seconds_mean": runs["cpu_seconds"].mean() if "cpu_seconds" in runs else np.nan,
            "cpu_seconds_std": runs["cpu_seconds"].std(ddof=0) if "cpu_seconds" in runs else np.nan,
            "entropy_mean": entropy.mean(), "entropy_std": entropy.std(ddof=0),
            "fixed_since_mean": fixed.mean(), "fixed_since_std": fixed.std(ddof=0),
            "ranked": len(taus), "kendall_tau_mean": taus.mean() if len(taus) else np.nan,
            "kendall_tau_std": taus.std(ddof=0) if len(taus) else np.nan,
            "cells": "; ".join(f"{arch} x{n}" for arch, n in cells.items()),
            "hardware": "; ".join(sorted(set(runs["hardware"]))),
        })
    return pd.DataFrame(rows)


def leaderboard_frame(results_dir: str | os.PathLike = RESULTS_DIR) -> pd.DataFrame:
    """The weight-sharing section as a DataFrame, from the committed `results/oneshot/trajectories.csv`."""
    path = Path(results_dir) / TRAJECTORIES
    if not path.is_file():
        raise UserInputError(f"no one-shot results at {path}; run `nasbench-suite oneshot` first")
    return summarize(pd.read_csv(path), rankings(results_dir))


def format_leaderboard(summary: pd.DataFrame) -> str:
    """Markdown: looked-up accuracy of the derived cells next to the published figure, the real search seconds
    and the hardware."""
    lines = ["# Weight-sharing search on NAS-Bench-201 (CIFAR-10)", "",
             "Each run trains a supernet with the method and derives its cell after the last epoch; the cell's "
             "200-epoch CIFAR-10 accuracies are looked up in `nb201-cifar10` (test = `test_acc@200`, trained on "
             "50k; valid = `valid_acc@200`, cifar10-valid). Search seconds are real wall time on the hardware "
             "named (derivation included, table lookups excluded), search CPU-s the process's CPU time over them. "
             "Entropy: mean over edges of the final per-edge op distribution's entropy (log 5 = 1.609 is uniform). "
             "Cell fixed from: the epoch from which the derived cell no longer changed (the last epoch: it never "
             "settled). "
             "Supernet tau: Kendall tau between the final supernet's accuracy and `test_acc@200` over sampled cells "
             "(`nasbench-suite oneshot-rank`), with the number of seeds ranked. "
             f"Mean +- std over seeds. Published: {PUBLISHED_SOURCE}, the same lookup for the paper's own searches "
             "(C=16, N=5, 32 px, GPU).", "",
             "| setting | method | runs | epochs | test acc (%) | published test acc (%) | valid acc (%) | "
             "published valid acc (%) | entropy | cell fixed from | supernet tau | search s | search CPU-s | "
             "hardware |",
             "|---|---|---:|---:|---|---|---|---|---|---|---|---:|---:|---|"]
    for row in summary.itertuples():
        epochs = f"{row.epochs}" if row.epochs == row.epochs_planned else f"{row.epochs} of {row.epochs_planned}"
        name, test, test_sd, valid, valid_sd = PUBLISHED.get(row.method, ("", np.nan, np.nan, np.nan, np.nan))
        lines.append(f"| {row.setting} | {row.method} | {row.runs} | {epochs} | "
                     f"{_mean_sd(row.test_acc_200_mean, row.test_acc_200_std, 2)} | "
                     f"{_mean_sd(test, test_sd, 2)}{f' ({name})' if name else ''} | "
                     f"{_mean_sd(row.valid_acc_200_mean, row.valid_acc_200_std, 2)} | {_mean_sd(valid, valid_sd, 2)} | "
                     f"{_mean_sd(row.entropy_mean, row.entropy_std, 3)} | "
                     f"{_mean_sd(row.fixed_since_mean, row.fixed_since_std, 0)} | "
                     f"{_mean_sd(row.kendall_tau_mean, row.kendall_tau_std, 3)}"
                     f"{f' ({row.ranked})' if row.ranked else ''} | "
                     f"{_mean_sd(row.search_seconds_mean, row.search_seconds_std, 0)} | "
                     f"{_mean_sd(row.cpu_seconds_mean, row.cpu_seconds_std, 0)} | {row.hardware} |")
    lines += ["", "Derived cells (final epoch, count over seeds):", ""]
    for row in summary.itertuples():
        lines.append(f"- {row.setting} / {row.method}: " + row.cells.replace("; ", ", "))
    return "\n".join(lines) + "\n"


def _mean_sd(mean: float, sd: float, digits: int) -> str:
    """`mean +- sd` at `digits` decimals; `-` where there is no figure (no published one, no CPU time logged)."""
    return "-" if np.isnan(mean) else f"{mean:.{digits}f} +- {sd:.{digits}f}"


def write_report(trajectories: pd.DataFrame, results_dir: str | os.PathLike = RESULTS_DIR) -> list[Path]:
    """trajectories.csv, summary.csv, leaderboard.md (with the rank-*.json results found in `results_dir`), the
    accuracy-vs-epoch plot and, for runs that logged it, the per-edge entropy plot (PNG + SVG)."""
    from nasbench_suite.atomic import write_atomic
    from nasbench_suite.report.plots import save

    out = Path(results_dir)
    trajectories = pd.read_csv(io.BytesIO(_csv(trajectories)))  # as committed: a rerun from the CSV gives these bytes
    summary = summarize(trajectories, rankings(out))
    paths = [write_atomic(out / TRAJECTORIES, lambda fh: fh.write(_csv(trajectories))),
             write_atomic(out / SUMMARY, lambda fh: fh.write(_csv(summary))),
             write_atomic(out / LEADERBOARD, lambda fh: fh.write(format_leaderboard(summary).encode()))]
    paths += save(plot_trajectories(trajectories), out, PLOT)
    if "entropy_edges" in trajectories and trajectories["entropy_edges"].notna().any():
        paths += save(plot_entropy(trajectories.dropna(subset=["entropy_edges"])), out, ENTROPY_PLOT)
    return paths


def plot_trajectories(trajectories: pd.DataFrame):  # -> matplotlib Figure
    """Looked-up 200-epoch test accuracy of the derived cell after each search epoch: mean over seeds (line)
    and every seed (thin lines), one panel per setting."""
    import matplotlib.pyplot as plt

    from nasbench_suite.report.plots import colors  # sets the Agg backend

    settings = sorted(trajectories["setting"].unique())
    methods = sorted(trajectories["method"].unique())
    palette = colors(methods)
    fig, axes = plt.subplots(1, len(settings), figsize=(6.5 * len(settings), 4.2), squeeze=False)
    for ax, setting in zip(axes[0], settings):
        part = trajectories[trajectories["setting"] == setting]
        for method, runs in part.groupby("method"):
            for _, run in runs.groupby("seed"):
                ax.plot(run["epoch"], run["test_acc_200"], color=palette[method], lw=0.6, alpha=0.35)
            mean = runs.groupby("epoch")["test_acc_200"].mean()
            ax.plot(mean.index, mean.to_numpy(), color=palette[method], lw=2, marker="o", ms=3,
                    label=f"{method} ({runs['seed'].nunique()} seeds)")
        ax.set_xlabel("search epoch")
        ax.set_ylabel("derived cell: CIFAR-10 test acc @200 (%)")
        ax.set_title(f"setting {setting}", fontsize=10)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8)
    return fig


def plot_entropy(trajectories: pd.DataFrame):  # -> matplotlib Figure
    """Entropy of each edge's op distribution after every search epoch (mean over seeds; one thin line per edge,
    thick = mean over edges), one panel per setting and method; the dashed line is log 5 (uniform)."""
    import matplotlib.pyplot as plt

    from nasbench_suite.report.plots import colors  # sets the Agg backend

    settings = sorted(trajectories["setting"].unique())
    methods = sorted(trajectories["method"].unique())
    palette = colors(methods)
    fig, axes = plt.subplots(len(settings), len(methods), figsize=(3.6 * len(methods), 3.0 * len(settings)),
                             squeeze=False, sharey=True)
    for row, setting in zip(axes, settings):
        for ax, method in zip(row, methods):
            runs = trajectories[(trajectories["setting"] == setting) & (trajectories["method"] == method)]
            ax.axhline(np.log(5), color="0.5", ls="--", lw=0.8)
            if len(runs):
                edges = np.array([[float(v) for v in text.split()] for text in runs["entropy_edges"]])
                by_epoch = pd.DataFrame(edges).groupby(runs["epoch"].to_numpy()).mean()
                for e in by_epoch.columns:
                    ax.plot(by_epoch.index, by_epoch[e], color=palette[method], lw=0.7, alpha=0.5)
                ax.plot(by_epoch.index, by_epoch.mean(axis=1), color=palette[method], lw=2,
                        label=f"{runs['seed'].nunique()} seed(s)")
                ax.legend(fontsize=7)
            ax.set_title(f"{setting} / {method}", fontsize=9)
            ax.set_xlabel("search epoch")
            ax.grid(True, alpha=0.3)
        row[0].set_ylabel("edge entropy (nats)")
    return fig


def _csv(frame: pd.DataFrame) -> bytes:
    text = io.StringIO()
    frame.to_csv(text, index=False, float_format="%.4f")
    return text.getvalue().encode()
