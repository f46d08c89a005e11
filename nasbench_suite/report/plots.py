"""Leaderboard plots (PNG + SVG, Agg backend): anytime regret, final scores, ranks over time, CD diagram."""

from __future__ import annotations


import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from nasbench_suite.report.stats import CriticalDifference, Curves  # noqa: E402
from nasbench_suite.figures import save_figure as save  # noqa: E402,F401  (report.plots.save)

LINTHRESH = 0.01  # regret below this is drawn on a linear scale, so a regret of exactly 0 stays visible


def colors(strategies: list[str]) -> dict[str, tuple]:
    """One stable colour per strategy (order of the protocol)."""
    cmap = plt.get_cmap("tab10" if len(strategies) <= 10 else "tab20")
    return {s: cmap(i % cmap.N) for i, s in enumerate(strategies)}


def plot_anytime(curves: Curves, palette: dict[str, tuple], metric: str, title: str) -> plt.Figure:
    """Median regret over runs with the inter-quartile band, log axes."""
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for name, regret in curves.regret.items():
        q25, median, q75 = np.percentile(regret, [25, 50, 75], axis=0)
        ax.plot(curves.grid, median, color=palette[name], label=name, lw=1.6, drawstyle="steps-post")
        ax.fill_between(curves.grid, q25, q75, color=palette[name], alpha=0.15, step="post", lw=0)
    ax.set_xscale("log")
    ax.set_yscale("symlog", linthresh=LINTHRESH)
    ax.set_ylim(bottom=0)
    ax.set_xlabel("simulated time (s)" if curves.axis == "time" else "queries")
    ax.set_ylabel(f"regret of {metric} (optimum - incumbent)")
    ax.set_title(title, fontsize=10)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8, ncol=2)
    return fig


def plot_final(scores: pd.DataFrame, order: list[str], palette: dict[str, tuple], metric: str, optimum: float,
               title: str) -> plt.Figure:
    """Distribution of the final report value per strategy (box = quartiles, diamond = mean)."""
    fig, ax = plt.subplots(figsize=(7, 0.45 * len(order) + 1.5))
    data = [scores[s].dropna().to_numpy() for s in order][::-1]
    boxes = ax.boxplot(data, orientation="horizontal", showmeans=True, patch_artist=True, widths=0.6,
                       meanprops={"marker": "D", "markerfacecolor": "black", "markersize": 4},
                       flierprops={"markersize": 2})
    ax.set_yticks(range(1, len(order) + 1), order[::-1])
    for patch, name in zip(boxes["boxes"], order[::-1]):
        patch.set_facecolor(palette[name])
        patch.set_alpha(0.6)
    ax.axvline(optimum, color="black", ls="--", lw=1, label=f"optimum {optimum:.2f}")
    ax.set_xlabel(f"final {metric} of the incumbent")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8, loc="lower left")
    ax.grid(True, axis="x", alpha=0.3)
    return fig


def plot_ranks(curves: Curves, mean_ranks: dict[str, np.ndarray], palette: dict[str, tuple],
               title: str) -> plt.Figure:
    """Average rank over seeds at each point of simulated time (1 = best)."""
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for name, values in mean_ranks.items():
        ax.plot(curves.grid, values, color=palette[name], label=name, lw=1.6)
    ax.set_xscale("log")
    ax.invert_yaxis()
    ax.set_xlabel("simulated time (s)" if curves.axis == "time" else "queries")
    ax.set_ylabel("average rank (1 = best)")
    ax.set_title(title, fontsize=10)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8, ncol=2)
    return fig


def plot_cd(cd: CriticalDifference, title: str) -> plt.Figure:
    """Critical-difference diagram: mean ranks on an axis, bars join strategies the Nemenyi test cannot separate."""
    names, values = list(cd.mean_ranks.index), cd.mean_ranks.to_numpy()
    k = len(names)
    half = (k + 1) // 2
    fig, ax = plt.subplots(figsize=(8, 1.6 + 0.3 * half))
    ax.set_xlim(0.5, k + 0.5)
    ax.plot([1, k], [0, 0], color="black", lw=1)
    for tick in range(1, k + 1):
        ax.plot([tick, tick], [0, 0.08], color="black", lw=1)
        ax.text(tick, 0.14, str(tick), ha="center", va="bottom", fontsize=8)
    ax.plot([1, 1 + cd.cd], [0.55, 0.55], color="black", lw=2)
    ax.text(1 + cd.cd / 2, 0.6, f"CD = {cd.cd:.2f}", ha="center", va="bottom", fontsize=8)
    for i, (name, rank) in enumerate(zip(names, values)):
        left = i < half
        depth = -0.35 * ((i if left else k - 1 - i) + 1) - 0.3
        edge = 0.5 if left else k + 0.5
        ax.plot([rank, rank, edge], [0, depth, depth], color="black", lw=0.8)
        ax.text(edge - 0.05 if left else edge + 0.05, depth, f"{name} ({rank:.2f})", ha="right" if left else "left",
                va="center", fontsize=8)
    cliques = [(i, j) for i in range(k) for j in range(i + 1, k) if values[j] - values[i] < cd.cd]
    maximal = [(i, j) for i, j in cliques if not any(a <= i and j <= b and (a, b) != (i, j) for a, b in cliques)]
    for level, (i, j) in enumerate(maximal):
        y = -0.12 - 0.1 * level
        ax.plot([values[i] - 0.03, values[j] + 0.03], [y, y], color="black", lw=3)
    ax.set_ylim(-0.35 * half - 0.6, 0.9)
    ax.axis("off")
    ax.set_title(f"{title}\nFriedman chi2 = {cd.statistic:.1f}, p = {cd.pvalue:.2g} over {cd.blocks} seeds; "
                 f"Nemenyi alpha = {cd.alpha}", fontsize=9)
    return fig
