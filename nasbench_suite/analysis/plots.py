"""Figures of the search-space analysis (Agg backend, PNG + SVG, byte-identical on rerun)."""

from __future__ import annotations


import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

STYLE = {"figure.dpi": 100, "font.size": 8}  # in force while a figure is drawn and saved




def heatmaps(panels: dict[str, np.ndarray], rows: list[str], cols: list[str], title: str, fmt: str = ".2f",
             cmap: str = "viridis", vmin: float | None = None, vmax: float | None = None) -> plt.Figure:
    """One annotated heatmap per panel, side by side, on a shared colour scale."""
    size = ((0.5 * len(cols) + 1.2) * len(panels) + 1, 0.25 * len(rows) + 1.8)
    fig, axes = plt.subplots(1, len(panels), figsize=size, squeeze=False)
    values = np.concatenate([np.ravel(p) for p in panels.values()])
    vmin = np.nanmin(values) if vmin is None else vmin
    vmax = np.nanmax(values) if vmax is None else vmax
    for ax, (name, data) in zip(axes[0], panels.items()):
        image = ax.imshow(data, cmap=cmap, vmin=vmin, vmax=vmax, aspect="auto")
        ax.set_xticks(range(len(cols)), cols, rotation=45, ha="right")
        ax.set_yticks(range(len(rows)), rows if ax is axes[0][0] else [""] * len(rows))
        ax.set_title(name)
        if data.size <= 64:
            for (r, c), v in np.ndenumerate(data):
                ax.text(c, r, format(v, fmt), ha="center", va="center", fontsize=6,
                        color="white" if v < (vmin + vmax) / 2 else "black")
    fig.colorbar(image, ax=axes[0].tolist(), shrink=0.8)
    fig.suptitle(title)
    return fig


def marginal_effects(frame: pd.DataFrame, ops: list[str], title: str) -> plt.Figure:
    """Effect of each op on each edge with its bootstrap interval; one group of bars per edge."""
    edges = list(dict.fromkeys(frame["edge"]))
    fig, ax = plt.subplots(figsize=(8, 3.5))
    width = 0.8 / len(ops)
    for k, op in enumerate(ops):
        part = frame[frame["op"] == op].set_index("edge").loc[edges]
        x = np.arange(len(edges)) + (k - (len(ops) - 1) / 2) * width
        ax.bar(x, part["effect"], width, label=op)
        # the interval itself, not offsets from the estimate: a percentile bootstrap interval need not contain it
        ax.vlines(x, part["ci_low"], part["ci_high"], color="black", lw=0.8)
    ax.axhline(0, color="black", lw=0.6)
    ax.set_xticks(range(len(edges)), edges)
    ax.set_ylabel("mean with op - mean of all cells")
    ax.set_title(title)
    ax.legend(fontsize=7, ncol=len(ops))
    return fig


def importance(edges: list[str], shares: dict[str, np.ndarray], title: str) -> plt.Figure:
    """Grouped bars: one bar per edge and measure of importance."""
    fig, ax = plt.subplots(figsize=(7, 3.2))
    width = 0.8 / len(shares)
    for k, (name, values) in enumerate(shares.items()):
        ax.bar(np.arange(len(edges)) + (k - (len(shares) - 1) / 2) * width, values, width, label=name)
    ax.set_xticks(range(len(edges)), edges)
    ax.set_title(title)
    ax.legend(fontsize=7)
    return fig


def landscape(values: dict[str, np.ndarray], optima: dict[str, pd.DataFrame], autocorr: dict[str, np.ndarray],
              title: str) -> plt.Figure:
    """Per metric: all values vs local-optimum values; basin size vs optimum value; walk autocorrelation."""
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.4))
    for name, v in values.items():
        line = axes[0].hist(v, bins=60, histtype="step", density=True, label=f"{name}: all cells")[2][0]
        axes[0].plot(optima[name]["value"], np.zeros(len(optima[name])), "|", ms=14, color=line.get_edgecolor(),
                     label=f"{name}: local optima")
        axes[1].scatter(optima[name]["value"], optima[name]["basin_size"], s=12, label=name)
        axes[2].plot(np.arange(1, len(autocorr[name]) + 1), autocorr[name], "o-", ms=3, label=name)
    axes[0].set_xlabel("value")
    axes[0].set_ylabel("density")
    axes[0].legend(fontsize=6)
    axes[1].set_yscale("log")
    axes[1].set_xlabel("value of the local optimum")
    axes[1].set_ylabel("basin size (cells, best-improvement climb)")
    axes[1].legend(fontsize=7)
    axes[2].set_xlabel("random-walk lag (one-edge steps)")
    axes[2].set_ylabel("autocorrelation")
    axes[2].axhline(0, color="black", lw=0.6)
    axes[2].legend(fontsize=7)
    fig.suptitle(title)
    return fig


def overlap(frame: pd.DataFrame, title: str) -> plt.Figure:
    """Top-k overlap of each signal with the target against k (log scale)."""
    fig, ax = plt.subplots(figsize=(7, 4.2))
    for signal, part in frame.groupby("signal", sort=False):
        ax.plot(part["fraction"], part["overlap"], marker=".", lw=1, label=signal)
    ax.set_xscale("log")
    ax.set_xlabel("top fraction of cells")
    ax.set_ylabel("share of the target's top cells also top by the signal")
    ax.set_ylim(0, 1)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=6, ncol=2)
    ax.set_title(title)
    return fig


def pareto(costs: dict[str, np.ndarray], value: np.ndarray, fronts: dict[str, np.ndarray], label: str,
           title: str) -> plt.Figure:
    """Value against each cost, every cell as a dot, the Pareto front as a line."""
    fig, axes = plt.subplots(1, len(costs), figsize=(4 * len(costs), 3.4), squeeze=False)
    for ax, (name, cost) in zip(axes[0], costs.items()):
        ax.scatter(cost, value, s=2, alpha=0.3, color="grey", rasterized=True)
        front = fronts[name]
        ax.plot(cost[front], value[front], "o-", ms=3, color="tab:red", drawstyle="steps-post",
                label=f"Pareto front ({len(front)})")
        ax.set_xlabel(name)
        ax.set_ylabel(label)
        ax.legend(fontsize=7, loc="lower right")
    fig.suptitle(title)
    return fig


def spread(sd: np.ndarray, total_sd: float, title: str) -> plt.Figure:
    """Histogram of the within-class standard deviation, against the sd over all cells."""
    fig, ax = plt.subplots(figsize=(5, 3.2))
    ax.hist(sd, bins=60, color="tab:blue")
    ax.axvline(total_sd, color="black", ls="--", lw=1, label=f"sd over all cells {total_sd:.2f}")
    ax.set_xlabel("sd of the value within an isomorphism class")
    ax.set_ylabel("classes")
    ax.legend(fontsize=7)
    ax.set_title(title)
    return fig
