"""How well do surrogates predict unseen cells? Fit on random training sets of several sizes, score on the rest.

Scores: Kendall tau, Spearman, R^2, MAE, and the precision of the predicted top 1% / 5% (the share of the cells
predicted to be in the top fraction of the unseen cells that really are). Where the table has several seeds, the
same scores for "one seed predicts the mean of the others" give the noise ceiling. Results go to a CSV (one row
per model, size and repeat, rewritten atomically after each, so an interrupted run resumes; the settings the rows
were made under sit next to it, and rows made under other settings are never resumed), a Markdown table of medians,
and plots.
"""

from __future__ import annotations

import os
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from scipy import stats

from nasbench_suite import jsonio
from nasbench_suite.atomic import atomic_path
from nasbench_suite.errors import UserInputError
from nasbench_suite.figures import save_figure
from nasbench_suite.outputs import differing, reuse_or_refuse
from nasbench_suite.surrogate.api import (DEFAULT_TARGET, Surrogate, parse_targets, table_checksum,
                                          training_seed_values)
from nasbench_suite.surrogate.features import DEFAULT_FEATURES
from nasbench_suite.table import Table, open_table

METRICS = ("kendall_tau", "spearman", "r2", "mae", "top1_precision", "top5_precision")
CEILING = "noise_ceiling"
CSV_NAME, MD_NAME, SETTINGS_NAME = "surrogate_eval.csv", "surrogate_eval.md", "surrogate_eval.json"


def score(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    """Rank and error metrics of predictions against the truth (both 1-D, same cells)."""
    out = {"kendall_tau": float(stats.kendalltau(y_pred, y_true)[0]),
           "spearman": float(stats.spearmanr(y_pred, y_true)[0]),
           "r2": float(1 - np.sum((y_true - y_pred) ** 2) / np.sum((y_true - y_true.mean()) ** 2)),
           "mae": float(np.mean(np.abs(y_true - y_pred)))}
    for fraction, key in ((0.01, "top1_precision"), (0.05, "top5_precision")):
        k = max(1, int(round(fraction * len(y_true))))
        out[key] = len(np.intersect1d(np.argsort(-y_pred)[:k], np.argsort(-y_true)[:k])) / k
    return out


def noise_ceiling(table: Table, target: str) -> dict[str, float] | None:
    """Median over training seeds of the scores of "one seed predicts the mean of the others"; None with fewer
    than two (a published mean, seed -1, is no training run)."""
    (t,) = parse_targets(table, target)
    per_seed = training_seed_values(table, t, table.archs)
    if per_seed.shape[1] < 2:
        return None
    rows = []
    for s in range(per_seed.shape[1]):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            others = np.nanmean(np.delete(per_seed, s, axis=1), axis=1)
        ok = ~np.isnan(per_seed[:, s]) & ~np.isnan(others)
        if ok.sum() >= 10:
            rows.append(score(others[ok], per_seed[ok, s]))
    return {m: float(np.median([r[m] for r in rows])) for m in METRICS} if rows else None


def training_sets(table: Table, target: str, sizes: Sequence[int], repeats: int,
                  seed: int) -> dict[tuple[int, int], np.ndarray]:
    """(size, repeat) -> training cells: prefixes of one random permutation of the measured cells per repeat."""
    (t,) = parse_targets(table, target)
    measured = table.archs[~np.isnan(table.values(t.name, t.epoch))]
    if max(sizes) >= len(measured):
        raise UserInputError(f"train size {max(sizes)} leaves no unseen cell to score: the table has "
                             f"{len(measured)} measured cells")
    out = {}
    for r in range(repeats):
        order = np.random.default_rng([seed, r]).permutation(measured)
        out.update({(n, r): np.sort(order[:n]) for n in sizes})
    return out


def evaluate(table: Table, models: Sequence[str], train_sizes: Sequence[int], repeats: int = 5,
             target: str = DEFAULT_TARGET, features: Sequence[str] = DEFAULT_FEATURES, seed: int = 0,
             out_dir: str | os.PathLike | None = None, scatter_size: int | None = None,
             progress: bool = True, feature_table: str | None = None, overwrite: bool = False) -> pd.DataFrame:
    """Score every model at every training-set size and repeat on all unseen cells; resumes from out_dir's CSV.

    Training sets are shared by the models (same size and repeat: same cells). Predictions of repeat 0 at
    `scatter_size` (default: the largest size up to 1000) are kept for the scatter plot. `feature_table`: see
    `Surrogate`. Rows stored under other settings (table contents, target, features, seed) are an error, or
    with `overwrite` deleted: resuming them would mix two experiments in one report.
    """
    from tqdm import tqdm

    if len(parse_targets(table, target)) != 1:
        raise UserInputError(f"evaluation scores one target; {target!r} names several")
    sizes = sorted({int(n) for n in train_sizes})
    if not sizes or sizes[0] < 1 or repeats < 1:
        raise UserInputError("train sizes and repeats must be positive integers")
    scatter_size = scatter_size or max([n for n in sizes if n <= 1000] or sizes[:1])
    (t,) = parse_targets(table, target)
    truth = pd.Series(table.values(t.name, t.epoch), index=table.archs).dropna()
    sets = training_sets(table, target, sizes, repeats, seed)
    out = Path(out_dir) if out_dir else None
    rows = _stored_rows(out, settings(table, target, features, feature_table, seed), overwrite) if out else []
    done = {(r["model"], int(r["train_size"]), int(r["repeat"])) for r in rows}
    todo = [(m, n, r) for m in models for n in sizes for r in range(repeats) if (m, n, r) not in done]
    rank = {m: i for i, m in enumerate(dict.fromkeys([*models, *(r["model"] for r in rows)]))}

    def in_order() -> list[dict[str, Any]]:  # resumed or not, the rows of an uninterrupted run, in its order
        return sorted(rows, key=lambda r: (rank[r["model"]], r["train_size"], r["repeat"]))

    for model, n, r in tqdm(todo, desc="surrogate eval", disable=not progress):
        train = sets[(n, r)]
        unseen = truth.index.difference(train).to_numpy()
        start = time.perf_counter()
        surrogate = Surrogate(model=model, features=features, target=target, seed=r,
                              feature_table=feature_table).fit(table, train)
        fit_seconds = time.perf_counter() - start
        mean, _ = surrogate.predict(unseen)
        rows.append({"model": model, "train_size": n, "repeat": r, "test_cells": len(unseen),
                     **score(truth.loc[unseen].to_numpy(), mean), "fit_seconds": round(fit_seconds, 3)})
        if out:
            _write_csv(pd.DataFrame(in_order()), out / CSV_NAME)
            if n == scatter_size and r == 0:
                _atomic(out / f"scatter_{model}_n{n}.npz", lambda p: np.savez_compressed(
                    p, true=truth.loc[unseen].to_numpy(np.float32), pred=mean.astype(np.float32)))
    ceiling = noise_ceiling(table, target)
    frame = pd.DataFrame(in_order())
    if ceiling and not (frame["model"] == CEILING).any():
        frame = pd.concat([frame, pd.DataFrame([{"model": CEILING, "train_size": 0, "repeat": 0,
                                                 "test_cells": len(truth), **ceiling}])], ignore_index=True)
    if out:
        _write_csv(frame, out / CSV_NAME)
    return frame


def summary(frame: pd.DataFrame) -> pd.DataFrame:
    """Median over repeats of every metric, per model and training-set size (plus min/max of tau)."""
    grouped = frame.groupby(["model", "train_size"], sort=False)
    table = grouped[list(METRICS) + (["fit_seconds"] if "fit_seconds" in frame else [])].median()
    table["tau_min"] = grouped["kendall_tau"].min()
    table["tau_max"] = grouped["kendall_tau"].max()
    table["repeats"] = grouped.size()
    return table.reset_index()


def markdown(frame: pd.DataFrame, title: str) -> str:
    """The summary as a Markdown table (medians over repeats; tau with its range)."""
    ceiling = "" if (frame["model"] == CEILING).any() else (" The table has one seed per cell, so there is no "
                                                             "noise ceiling (one seed predicting the others).")
    lines = [f"# {title}", "", f"Median over repeats, scored on all cells not used for training.{ceiling}", "",
             "| model | train cells | Kendall tau (min-max) | Spearman | R^2 | MAE | top-1% prec. | top-5% prec. | "
             "fit s | repeats |", "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for _, row in summary(frame).iterrows():
        fit = f"{row['fit_seconds']:.2f}" if "fit_seconds" in row and not pd.isna(row["fit_seconds"]) else ""
        lines.append(f"| {row['model']} | {int(row['train_size'])} | {row['kendall_tau']:.3f} "
                     f"({row['tau_min']:.3f}-{row['tau_max']:.3f}) | {row['spearman']:.3f} | {row['r2']:.3f} | "
                     f"{row['mae']:.3f} | {row['top1_precision']:.3f} | {row['top5_precision']:.3f} | {fit} | "
                     f"{int(row['repeats'])} |")
    return "\n".join(lines) + "\n"


def write_report(frame: pd.DataFrame, out_dir: str | os.PathLike, title: str) -> list[Path]:
    """Markdown table, tau-vs-size plot and predicted-vs-true scatter plots (PNG + SVG) in out_dir."""
    out = Path(out_dir)
    written = [out / MD_NAME]
    _atomic(out / MD_NAME, lambda p: Path(p).write_text(markdown(frame, title)))
    written += save_figure(tau_figure(frame, title), out, "tau_vs_train_size", dpi=130)
    scatters = sorted(out.glob("scatter_*.npz"))
    if scatters:
        written += save_figure(scatter_figure(scatters), out, "predicted_vs_true", dpi=130)
    return written


def tau_figure(frame: pd.DataFrame, title: str) -> plt.Figure:
    """Each model's median Kendall tau against the training size (log axis), its min-max band over the repeats,
    and the noise ceiling as a dashed line when the frame has one."""
    medians = summary(frame[frame["model"] != CEILING])
    fig, ax = plt.subplots(figsize=(6, 4))
    for model, part in medians.groupby("model", sort=False):
        ax.plot(part["train_size"], part["kendall_tau"], marker="o", label=model)
        ax.fill_between(part["train_size"], part["tau_min"], part["tau_max"], alpha=0.2)
    ceiling = frame[frame["model"] == CEILING]
    if len(ceiling):
        ax.axhline(float(ceiling["kendall_tau"].iloc[0]), color="k", ls="--", label="noise ceiling")
    ax.set(xscale="log", xlabel="training cells", ylabel="Kendall tau on unseen cells", title=title)
    ax.grid(alpha=0.3)
    ax.legend()
    return fig


def scatter_figure(paths: Sequence[Path]) -> plt.Figure:
    """One panel per stored scatter sample (scatter_<model>_n<size>.npz): predicted against true on the unseen
    cells, the identity line, and the sample's Kendall tau in the title."""
    fig, axes = plt.subplots(1, len(paths), figsize=(3.2 * len(paths), 3.2), squeeze=False)
    for ax, path in zip(axes[0], paths):
        data = np.load(path)
        ax.scatter(data["true"], data["pred"], s=1, alpha=0.3, rasterized=True)
        lo, hi = float(data["true"].min()), float(data["true"].max())
        ax.plot([lo, hi], [lo, hi], color="k", lw=0.8)
        tau = stats.kendalltau(data["pred"], data["true"])[0]
        ax.set(title=f"{path.stem.split('_', 1)[1]}: tau {tau:.3f}", xlabel="true", ylabel="predicted")
    fig.tight_layout()
    return fig


def settings(table: Table, target: str, features: Sequence[str], feature_table: str | None,
             seed: int) -> dict[str, Any]:
    """What an evaluation's rows depend on besides model, size and repeat: the tables' contents, target, features
    and seed."""
    return {"table_sha256": table_checksum(table), "target": target, "features": list(features), "seed": int(seed),
            "features_from": feature_table,
            "features_from_sha256": table_checksum(open_table(feature_table)) if feature_table else None}


def _stored_rows(out: Path, current: dict[str, Any], overwrite: bool) -> list[dict[str, Any]]:
    """Rows of out's CSV made under `current` settings; records the settings for the rows to come."""
    csv, recorded = out / CSV_NAME, out / SETTINGS_NAME
    stored = jsonio.loads(recorded.read_text()) if recorded.is_file() else None
    rows = []
    if csv.is_file():
        differ = differing(stored, current) if stored else f"no {SETTINGS_NAME} records them"
        refusal = f"{csv} holds an evaluation made under other settings ({differ})"
        if reuse_or_refuse(stored or "unrecorded", current, overwrite, refusal, "delete it and start over"):
            frame = pd.read_csv(csv)
            rows = frame[frame["model"] != CEILING].to_dict("records")
        else:
            for path in [csv, *out.glob("scatter_*.npz")]:
                path.unlink()
    if stored != current:
        _atomic(recorded, lambda p: Path(p).write_text(jsonio.dumps(current, indent=2, sort_keys=True) + "\n"))
    return rows


def _write_csv(frame: pd.DataFrame, path: Path) -> None:
    _atomic(path, lambda p: frame.to_csv(p, index=False, float_format="%.5f"))


def _atomic(path: Path, write: Any) -> None:
    """Run write(tmp) on a temporary file in the same folder, then rename it over `path`."""
    with atomic_path(path) as tmp:
        write(tmp)
