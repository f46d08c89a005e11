"""Leaderboard plots sized for a single paper column (3.3 in): anytime regret, final scores, ranks over time, CD.

Colours are colour-blind safe (Okabe & Ito's palette): one hue per strategy family, and within a family a line
style and a marker per strategy. `highlight` keeps the chosen strategies' colours and greys the others. Every
strategy's artists carry the SVG id `strategy=NAME/PART`, so a page that inlines the SVG can restyle them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

from nasbench_suite.errors import UserInputError  # noqa: E402
from nasbench_suite.report.stats import CriticalDifference, Curves  # noqa: E402
from nasbench_suite.figures import save_figure as save  # noqa: E402,F401  (report.plots.save)

LINTHRESH = 0.01  # regret below this is drawn on a linear scale, so a regret of exactly 0 stays visible
WIDTH = 3.3  # inches: one column of a two-column paper
FORMATS = ("png", "svg", "pdf")
DPI = 300
STYLE = {"font.size": 7, "axes.titlesize": 7, "axes.labelsize": 7, "xtick.labelsize": 6.5, "ytick.labelsize": 6.5,
         "legend.fontsize": 6.5, "axes.linewidth": 0.6, "grid.linewidth": 0.4, "lines.linewidth": 1.1,
         "lines.markersize": 3.2, "xtick.major.width": 0.6, "ytick.major.width": 0.6, "legend.frameon": False}
FAMILY_COLORS = {"sampling": "#000000", "evolution/local": "#E69F00", "RL": "#CC79A7", "model-based": "#0072B2",
                 "multi-fidelity": "#009E73", "zero-cost": "#D55E00"}  # Okabe & Ito (2008)
OTHER_COLOR = "#56B4E9"  # sky blue, the palette's remaining dark-enough hue: strategies of no known family
MUTED = "#BBBBBB"
LINESTYLES = ("-", "--", ":", "-.")
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "<", ">", "h", "*", "p", "d", "8")
BAND = "shaded: IQR over runs"
TIME_LABEL = "simulated search time (s)"


@dataclass(frozen=True)
class Look:
    """How one strategy is drawn."""

    color: str
    linestyle: str
    marker: str
    label: str  # the name, with a dagger when the strategy is degenerate under the protocol
    muted: bool  # greyed out: another strategy is highlighted

    @property
    def line(self) -> dict:
        """Line2D properties."""
        if self.muted:
            return {"color": MUTED, "linestyle": "-", "lw": 0.7, "zorder": 1}
        return {"color": self.color, "linestyle": self.linestyle, "marker": self.marker, "zorder": 3,
                "markerfacecolor": "white", "markeredgewidth": 0.8}


def looks(strategies: list[str], families: dict[str, str], highlight: Sequence[str] = (),
          degenerate: dict[str, str] | None = None) -> dict[str, Look]:
    """One look per strategy, in family order (FAMILY_COLORS) then the given order: the legend's order.

    families: strategy -> family (unknown ones share OTHER_COLOR); highlight: strategies drawn in colour, the others
    grey (none: all in colour); degenerate: strategy -> reason (a dagger on its label).
    """
    unknown = [h for h in highlight if h not in strategies]
    if unknown:
        raise UserInputError(f"--highlight {','.join(unknown)}: no such strategy in this leaderboard; expected "
                             f"comma-separated names among {', '.join(strategies)}")
    order = list(FAMILY_COLORS)
    ranked = sorted(strategies, key=lambda s: order.index(families[s]) if families.get(s) in order else len(order))
    within: dict[str, int] = {}
    result = {}
    for i, name in enumerate(ranked):
        family = families.get(name, "")
        k = within[family] = within.get(family, -1) + 1
        result[name] = Look(FAMILY_COLORS.get(family, OTHER_COLOR), LINESTYLES[k % len(LINESTYLES)],
                            MARKERS[i % len(MARKERS)], f"{name} †" if (degenerate or {}).get(name) else name,
                            bool(highlight) and name not in highlight)
    return result


def families(strategies: list[str], registry: dict[str, type]) -> dict[str, str]:
    """strategy spec -> the family its registered class declares ('' for a name the registry does not know)."""
    from nasbench_suite.strategies.base import split_spec

    return {s: getattr(registry.get(split_spec(s)[0]), "family", "") for s in strategies}


def colors(strategies: list[str]) -> dict[str, tuple]:
    """One stable colour per name (order given), for plots of things that are not registered strategies."""
    cmap = plt.get_cmap("tab10" if len(strategies) <= 10 else "tab20")
    return {s: cmap(i % cmap.N) for i, s in enumerate(strategies)}


def _gid(name: str, part: str) -> str:
    return f"strategy={name}/{part}"


def _legend(fig: plt.Figure, palette: dict[str, Look], extra: list) -> None:
    """Below the axes: the coloured strategies, one entry for the greyed ones, then `extra` handles."""
    shown = [name for name, look in palette.items() if not look.muted]
    handles = [Line2D([], [], **palette[name].line, label=palette[name].label) for name in shown]
    if len(shown) < len(palette):
        handles.append(Line2D([], [], **next(look for look in palette.values() if look.muted).line,
                              label="other strategies"))
    longest = max(len(h.get_label()) for h in handles)  # in characters of about 3.6 pt, plus handle and spacing
    legend = fig.legend(handles=handles + extra, loc="outside lower center", handlelength=2.2, columnspacing=1.0,
                        ncol=max(1, min(3, int(WIDTH * 72 // (3.6 * longest + 26)))))
    for handle, text, name in zip(legend.legend_handles, legend.get_texts(), shown):
        handle.set_gid(_gid(name, "legend-line"))
        text.set_gid(_gid(name, "legend-text"))


def _axes(title: str, height: float) -> tuple[plt.Figure, plt.Axes]:
    """A figure one column wide, `height` inches high, legend below the axes (constrained layout)."""
    fig, ax = plt.subplots(figsize=(WIDTH, height), layout="constrained")
    ax.set_title(title)
    return fig, ax


def _time_axis(ax: plt.Axes, curves: Curves) -> None:
    ax.set_xscale("log")
    ax.set_xlabel(TIME_LABEL if curves.axis == "time" else "queries (cells evaluated)")
    ax.grid(True, which="major", alpha=0.3)


def plot_anytime(curves: Curves, palette: dict[str, Look], ylabel: str, title: str) -> plt.Figure:
    """Median regret over runs (from where half the runs have a result) with the inter-quartile band (from where
    three quarters have one), log time axis."""
    with plt.rc_context(STYLE):
        fig, ax = _axes(title, 2.6 + 0.1 * len(palette) / 3)
        top = 0.0
        for i, (name, look) in enumerate(palette.items()):
            regret, started = curves.regret[name], curves.started[name].mean(axis=0)
            q25, median, q75 = np.percentile(regret, [25, 50, 75], axis=0)
            line, = ax.plot(curves.grid, np.where(started >= 0.5, median, np.nan), drawstyle="steps-post",
                            markevery=(0.02 + 0.013 * i, 0.18), **look.line)
            line.set_gid(_gid(name, "median"))
            if not look.muted:
                band = ax.fill_between(curves.grid, q25, q75, where=started >= 0.75, color=look.color, alpha=0.12,
                                       step="post", lw=0)
                band.set_gid(_gid(name, "band"))
                top = max(top, np.max(q75, where=started >= 0.75, initial=0))
            top = max(top, np.nanmax(line.get_ydata(), initial=0))
        _time_axis(ax, curves)
        ax.set_yscale("symlog", linthresh=LINTHRESH)
        ax.set_ylim(0, 2 * top or 1)  # headroom above the first results
        ax.set_ylabel(ylabel)
        _legend(fig, palette, [Patch(color="0.5", alpha=0.3, lw=0, label=BAND)])
    return fig


def plot_final(scores: pd.DataFrame, order: list[str], palette: dict[str, Look], xlabel: str, optimum: float,
               title: str) -> plt.Figure:
    """Distribution of the final report value per strategy (box = quartiles, line = median, diamond = mean)."""
    with plt.rc_context(STYLE):
        fig, ax = _axes(title, 1.5 + 0.17 * len(order))
        data = [scores[s].dropna().to_numpy() for s in order][::-1]
        parts = ax.boxplot(data, orientation="horizontal", showmeans=True, patch_artist=True, widths=0.6,
                           medianprops={"color": "black", "lw": 1},
                           meanprops={"marker": "D", "markerfacecolor": "white", "markeredgecolor": "black",
                                      "markersize": 3},
                           flierprops={"markersize": 1.5, "markeredgewidth": 0.4, "alpha": 0.6},
                           whiskerprops={"lw": 0.7}, capprops={"lw": 0.7}, boxprops={"lw": 0.7})
        ax.set_yticks(range(1, len(order) + 1), [palette[s].label for s in order[::-1]])
        for i, name in enumerate(order[::-1]):
            look = palette[name]
            parts["boxes"][i].set(facecolor=MUTED if look.muted else look.color, alpha=0.55)
            for part in ("boxes", "medians", "means", "fliers"):
                parts[part][i].set_gid(_gid(name, part))
            for part in ("whiskers", "caps"):
                for j in (0, 1):
                    parts[part][2 * i + j].set_gid(_gid(name, f"{part}{j}"))
        ax.axvline(optimum, color="black", ls="--", lw=0.8)
        ax.set_xlabel(xlabel)
        ax.grid(True, axis="x", alpha=0.3)
        handles = [Line2D([], [], color="black", lw=1, label="median"),
                   Line2D([], [], ls="", marker="D", markerfacecolor="white", markeredgecolor="black", markersize=3,
                          label="mean"),
                   Patch(facecolor="0.7", edgecolor="black", lw=0.7, label="box: quartiles; whiskers: 1.5 x IQR"),
                   Line2D([], [], color="black", ls="--", lw=0.8, label=f"optimum ({optimum:.2f})")]
        fig.legend(handles=handles, loc="outside lower center", ncol=2, columnspacing=1.0)
    return fig


def plot_ranks(curves: Curves, mean_ranks: dict[str, np.ndarray], palette: dict[str, Look],
               title: str) -> plt.Figure:
    """Average rank over seeds at each point of simulated time (1 = best), from where half a strategy's runs
    have a result."""
    with plt.rc_context(STYLE):
        fig, ax = _axes(title, 2.6 + 0.1 * len(palette) / 3)
        for i, (name, look) in enumerate(palette.items()):
            started = curves.started[name].mean(axis=0) >= 0.5
            line, = ax.plot(curves.grid, np.where(started, mean_ranks[name], np.nan),
                            markevery=(0.02 + 0.013 * i, 0.18), **look.line)
            line.set_gid(_gid(name, "rank"))
        _time_axis(ax, curves)
        ax.set_ylim(len(palette) + 0.5, 0.5)
        ax.set_ylabel("mean rank over runs (1 = best)")
        _legend(fig, palette, [])
    return fig


def plot_cd(cd: CriticalDifference, title: str, palette: dict[str, Look] | None = None) -> plt.Figure:
    """Critical-difference diagram: mean ranks on an axis, bars join strategies the Nemenyi test cannot separate
    (greyed names when `palette` greys them)."""
    names, values = list(cd.mean_ranks.index), cd.mean_ranks.to_numpy()
    k = len(names)
    half = (k + 1) // 2
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(max(WIDTH, 0.45 * k + 1.8), 1.2 + 0.22 * half))
        ax.set_xlim(0.5, k + 0.5)
        ax.plot([1, k], [0, 0], color="black", lw=0.8)
        for tick in range(1, k + 1):
            ax.plot([tick, tick], [0, 0.08], color="black", lw=0.8)
            ax.text(tick, 0.14, str(tick), ha="center", va="bottom")
        ax.plot([1, 1 + cd.cd], [0.55, 0.55], color="black", lw=1.6)
        ax.text(1 + cd.cd / 2, 0.6, f"CD = {cd.cd:.2f}", ha="center", va="bottom")
        for i, (name, rank) in enumerate(zip(names, values)):
            left = i < half
            depth = -0.35 * ((i if left else k - 1 - i) + 1) - 0.3
            edge = 0.5 if left else k + 0.5
            muted = palette is not None and palette[name].muted
            ax.plot([rank, rank, edge], [0, depth, depth], color=MUTED if muted else "black", lw=0.7)
            label = palette[name].label if palette else name
            text = ax.text(edge - 0.05 if left else edge + 0.05, depth, f"{label} ({rank:.2f})",
                           ha="right" if left else "left", va="center", color=MUTED if muted else "black")
            text.set_gid(_gid(name, "label"))
        cliques = [(i, j) for i in range(k) for j in range(i + 1, k) if values[j] - values[i] < cd.cd]
        maximal = [(i, j) for i, j in cliques if not any(a <= i and j <= b and (a, b) != (i, j) for a, b in cliques)]
        for level, (i, j) in enumerate(maximal):
            y = -0.12 - 0.1 * level
            ax.plot([values[i] - 0.03, values[j] + 0.03], [y, y], color="black", lw=2.4)
        ax.set_ylim(-0.35 * half - 0.6, 0.9)
        ax.axis("off")
        ax.set_title(f"{title}\nmean rank over {cd.blocks} runs (1 = best); Friedman chi2 = {cd.statistic:.1f}, "
                     f"p = {cd.pvalue:.2g}; bars: Nemenyi alpha = {cd.alpha} cannot separate")
    return fig
