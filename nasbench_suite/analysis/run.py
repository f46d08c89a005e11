"""`analyze`: every statistic of the search-space analysis for one table, written as CSV, figures and a summary.

Analyses that need every cell of the space (exact decomposition, Shapley values, landscape) run only on a full
table; on a partial one (e.g. 200 trained cells) the summary lists them as skipped and why.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from tqdm import tqdm

from nasbench_suite import jsonio
from nasbench_suite.analysis import landscape as land
from nasbench_suite.analysis import plots
from nasbench_suite.analysis import stats
from nasbench_suite.figures import save_figure
from nasbench_suite.analysis.importance import tree_shap
from nasbench_suite.atomic import write_atomic
from nasbench_suite.errors import UserInputError
from nasbench_suite.outputs import UNREADABLE, differing, recorded, reuse_or_refuse
from nasbench_suite.table import Table

TOP_FRACTIONS = (0.01, 0.05, 0.10)
OVERLAP_FRACTIONS = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5)
CORRELATION_TOP = 0.10  # the top-k variant of the rank correlations: the best 10% of cells by the target
COST_COLUMNS = ("params_m", "flops_m")  # plus the table's first latency column
SHAP_CELLS = 500


def accuracy_targets(table: Table) -> list[tuple[str, int]]:
    """(metric, epoch) of every accuracy metric at every epoch it was measured."""
    return [(m, e) for m in sorted(table.metrics) if m.endswith("_acc") for e in table.epochs_of(m)]


def check_target(table: Table, metric: str, epoch: int | None) -> int:
    """The epoch to analyse; a one-line UserInputError naming the valid choices for a bad metric or epoch."""
    metrics = sorted({m for m, _ in accuracy_targets(table)})
    if metric not in metrics:
        raise UserInputError(f"--metric {metric!r} is not an accuracy metric of this table; valid: "
                             f"{', '.join(metrics) or 'none'}")
    epochs = table.epochs_of(metric)
    if epoch is None:
        return epochs[-1]
    if epoch not in epochs:
        raise UserInputError(f"--epoch {epoch}: {metric} was not measured then; valid epochs: "
                             f"{', '.join(map(str, epochs))}")
    return epoch


def table_name(table: Table) -> str:
    return Path(table.path).stem if table.path else table.dataset


def default_out(table: Table) -> Path:
    """results/analysis/<table name>, in the working directory."""
    return Path("results") / "analysis" / table_name(table)


def edge_names(table: Table) -> list[str]:
    return list(table.space_obj.position_labels)


def analyze(table: Table, metric: str = "valid_acc", epoch: int | None = None,
            out_dir: str | os.PathLike | None = None, compare: Sequence[Table] = (), seed: int = 0,
            boot: int = 200, walk_length: int = 100_000, progress: bool = True,
            overwrite: bool = False) -> dict[str, Any]:
    """Run every analysis the table allows on metric@epoch; write CSVs, figures, summary.md/json to `out_dir`
    (default results/analysis/<table name>) and return the summary.

    An analysis already in `out_dir` under other settings is an error, or with `overwrite` replaced (see
    `claim_folder`)."""
    epoch = check_target(table, metric, epoch)
    name = table_name(table)
    for other in compare:
        if len(np.setdiff1d(table.archs, other.archs)):
            raise UserInputError(f"--compare table {table_name(other)} holds {len(other.archs)} cells; it must hold "
                                 f"all {len(table.archs)} cells of {name} (e.g. a full nb201-* table)")
    out = Path(out_dir) if out_dir else default_out(table)
    claim_folder(out, settings(name, table.dataset, len(table.archs), f"{metric}@{epoch}", seed, boot,
                              [table_name(other) for other in compare]), overwrite)
    space, rng = table.space_obj, np.random.default_rng(seed)
    ops, label = space.ops_of(table.archs), f"{metric}@{epoch}"
    values = table.values(metric, epoch)
    full = len(table.archs) == space.size and not np.isnan(values).any()
    ctx = Context(table, name, out, ops, values, label, full)
    summary: dict[str, Any] = {"table": name, "dataset": table.dataset, "cells": len(table.archs),
                               "space_size": space.size, "target": label, "seed": seed, "full_table": full,
                               "skipped": [] if full else [
                                   "exact functional decomposition and Shapley values (need a value on every cell)",
                                   "landscape: local optima, basins, fitness-distance correlation, random walks, "
                                   "neutrality (need every neighbour of every cell)"]}
    steps = [("operations", lambda: ops_section(ctx, boot, rng)),
             ("importance", lambda: importance_section(ctx, seed, rng) if full else None),
             ("redundancy", lambda: redundancy_section(ctx)),
             ("landscape", lambda: landscape_section(ctx, metric, walk_length, seed) if full else None),
             ("signals", lambda: signals_section(ctx, compare)),
             ("pareto", lambda: pareto_section(ctx))]
    for key, step in tqdm(steps, desc=f"analyze {name}", disable=not progress, leave=False):
        result = step()
        if result is not None:
            summary[key] = result
    summary["files"] = sorted(str(p.relative_to(out)) for p in ctx.written) + ["summary.json", "summary.md"]
    write_atomic(out / "summary.json", lambda fh: fh.write(jsonio.dumps(summary, indent=2).encode() + b"\n"))
    write_atomic(out / "summary.md", lambda fh: fh.write(markdown(summary).encode()))
    return summary


def settings(table: str, dataset: str, cells: int, target: str, seed: int, boot: int,
             compare: Sequence[str]) -> dict[str, Any]:
    """What an analysis's files depend on: an analysis under the same settings writes the same files."""
    return {"table": table, "dataset": dataset, "cells": cells, "target": target, "seed": seed,
            "bootstrap_resamples": boot, "compare": list(compare)}


def recorded_settings(summary_file: Path) -> dict[str, Any] | str | None:
    """The settings of the analysis whose summary.json this is, read back from it (None: no such file;
    UNREADABLE: a damaged one)."""
    s = recorded(summary_file)
    try:
        compared = dict.fromkeys(target.split(":")[0] for target in s["signals"]["targets"] if ":" in target)
        return settings(s["table"], s["dataset"], s["cells"], s["target"], s["seed"],
                        s["operations"]["bootstrap_resamples"], list(compared))
    except (KeyError, TypeError, AttributeError):  # no file (None), or a damaged one
        return s if s is None else UNREADABLE


def claim_folder(out: Path, current: dict[str, Any], overwrite: bool) -> None:
    """The suite's output rule (nasbench_suite.outputs): an analysis in `out` under the same settings is rewritten
    (same bytes); one under other settings is refused, or with `overwrite` its files are deleted first."""
    summary_file = out / "summary.json"
    stored = recorded_settings(summary_file)
    why = differing(stored, current) if isinstance(stored, dict) else "its summary.json cannot be read"
    if stored is None or reuse_or_refuse(stored, current, overwrite,
                                         f"{out} holds an analysis under other settings ({why})", "replace it"):
        return
    listed = recorded(summary_file, "files")
    for name in [*(listed if isinstance(listed, list) else []), "summary.json", "summary.md"]:
        if isinstance(name, str) and Path(name).name == name:  # the analysis's own files, never outside `out`
            (out / name).unlink(missing_ok=True)


class Context:
    """What every section reads (the table, the target values, the op matrix) and the files written so far."""

    def __init__(self, table: Table, name: str, out: Path, ops: np.ndarray, values: np.ndarray, label: str,
                 full: bool) -> None:
        self.table, self.name, self.out, self.ops, self.values, self.label, self.full = (
            table, name, out, ops, values, label, full)
        self.edges, self.op_names = edge_names(table), list(table.space_obj.ops)
        self.value_names, self.op_rows = table.space_obj.values, table.space_obj.op_positions
        self.written: list[Path] = []

    def csv(self, frame: pd.DataFrame, stem: str) -> None:
        text = frame.to_csv(index=False, float_format="%.6g", lineterminator="\n").encode()
        self.written.append(write_atomic(self.out / f"{stem}.csv", lambda fh: fh.write(text)))

    def figure(self, fig: Any, stem: str) -> None:
        self.written += save_figure(fig, self.out, stem, dpi=130, style=plots.STYLE)

    def arch(self, row: int) -> str:
        return self.table.space_obj.to_str(int(self.table.archs[row]))


def ops_section(ctx: Context, boot: int, rng: np.random.Generator) -> dict[str, Any]:
    """Value shares at each position (op on each edge) among the top cells vs all cells; marginal effects with
    bootstrap intervals. The figures show the op positions; the CSVs every position (e.g. the link pattern too)."""
    m = max(len(names) for names in ctx.value_names)
    pairs = [(e, o) for e, names in enumerate(ctx.value_names) for o in range(len(names))]
    subsets = {f"top {f:.0%}": stats.top_rows(ctx.values, f) for f in TOP_FRACTIONS}
    subsets["all cells"] = np.flatnonzero(~np.isnan(ctx.values))
    shares = {key: stats.op_frequencies(ctx.ops, rows, m) for key, rows in subsets.items()}
    ctx.csv(pd.DataFrame([{"subset": key, "cells": len(subsets[key]), "edge": ctx.edges[e],
                           "op": ctx.value_names[e][o], "share": share[e, o]} for key, share in shares.items()
                          for e, o in pairs]), "op_distribution")
    ctx.figure(plots.heatmaps({key: share[ctx.op_rows, :len(ctx.op_names)] for key, share in shares.items()},
                              [ctx.edges[e] for e in ctx.op_rows], ctx.op_names,
                              f"{ctx.name}: op share on each edge, by {ctx.label}", vmin=0, vmax=1), "op_distribution")
    with warnings.catch_warnings():  # a value its position cannot take (NAS-Bench-Graph) has no cells: NaN, unshown
        warnings.simplefilter("ignore", RuntimeWarning)
        effect, low, high = stats.marginal_effects(ctx.ops, ctx.values, m, boot, rng)
    frame = pd.DataFrame([{"edge": ctx.edges[e], "op": ctx.value_names[e][o], "effect": effect[e, o],
                           "ci_low": low[e, o], "ci_high": high[e, o]} for e, o in pairs])
    ctx.csv(frame, "marginal_effects")
    plotted = frame[frame["edge"].isin([ctx.edges[e] for e in ctx.op_rows])]
    ctx.figure(plots.marginal_effects(plotted, ctx.op_names, f"{ctx.name}: marginal effect on {ctx.label} "
                                      f"(95% bootstrap CI, {boot} resamples)"), "marginal_effects")
    top = shares[f"top {TOP_FRACTIONS[0]:.0%}"]
    e, o = np.unravel_index(np.argmax(top - shares["all cells"]), top.shape)
    best, worst = frame.loc[frame["effect"].idxmax()], frame.loc[frame["effect"].idxmin()]
    return {"most_enriched_in_top_1pct": {"edge": ctx.edges[e], "op": ctx.value_names[e][o], "share_top": top[e, o],
                                          "share_all": shares["all cells"][e, o]},
            "largest_marginal_effect": best.to_dict(), "smallest_marginal_effect": worst.to_dict(),
            "bootstrap_resamples": boot}


def importance_section(ctx: Context, seed: int, rng: np.random.Generator) -> dict[str, Any]:
    """Exact functional decomposition (all orders) and exact Shapley values; TreeSHAP of the XGBoost surrogate
    on a sample of cells as an independent check."""
    m = len(ctx.op_names)
    dec = stats.fanova(ctx.ops, ctx.values, m)
    phi, pairs = dec.shapley(ctx.ops)
    rows = np.sort(rng.choice(len(ctx.values), size=min(SHAP_CELLS, len(ctx.values)), replace=False))
    tree = tree_shap(ctx.ops, ctx.values, m, rows, seed)
    main, exact, model = dec.main_share, np.abs(phi).mean(axis=0), np.abs(tree).mean(axis=0)
    ctx.csv(pd.DataFrame({"edge": ctx.edges, "fanova_main_share": main, "shapley_mean_abs": exact,
                          "xgb_treeshap_mean_abs": model,
                          **{f"main_effect_{op}": [dec.main_effect(e)[o] for e in range(len(ctx.edges))]
                             for o, op in enumerate(ctx.op_names)}}), "importance_edges")
    pair_share, pair_shap = dec.pair_share, np.abs(pairs).mean(axis=0)
    ctx.csv(pd.DataFrame([{"edge_a": ctx.edges[i], "edge_b": ctx.edges[j], "fanova_pair_share": pair_share[i, j],
                           "shapley_interaction_mean_abs": pair_shap[i, j]}
                          for i in range(len(ctx.edges)) for j in range(i + 1, len(ctx.edges))]), "importance_pairs")
    ctx.figure(plots.importance(ctx.edges, {"exact Shapley mean |phi|": exact,
                                            f"XGBoost TreeSHAP mean |phi| ({len(rows)} cells)": model},
                                f"{ctx.name}: importance of each edge for {ctx.label}"), "importance_edges")
    ctx.figure(plots.heatmaps({"fANOVA pair share": pair_share, "Shapley interaction mean |phi_ij+phi_ji|": pair_shap},
                              ctx.edges, ctx.edges, f"{ctx.name}: pairwise interactions for {ctx.label}",
                              fmt=".3f"), "importance_pairs")
    i, j = np.unravel_index(np.argmax(pair_share), pair_share.shape)
    return {"variance_share_by_order": dec.order_share(),
            "most_important_edge": ctx.edges[int(np.argmax(exact))],
            "edge_main_share": dict(zip(ctx.edges, main)), "edge_shapley_mean_abs": dict(zip(ctx.edges, exact)),
            "strongest_pair": {"edges": [ctx.edges[i], ctx.edges[j]], "share": pair_share[i, j]},
            "treeshap_check": {"cells": len(rows), "pearson_per_cell_edge": float(np.corrcoef(
                tree.ravel(), phi[rows].ravel())[0, 1]), "spearman_edge_order": float(
                stats.CORRELATIONS["spearman"](exact, model))}}


def redundancy_section(ctx: Context) -> dict[str, Any]:
    """Isomorphism classes present, cells whose output never sees the input, and the spread within a class."""
    space = ctx.table.space_obj
    classes = space.canonical_indices[ctx.table.archs]
    dead = space.disconnected(ctx.ops)
    spread = stats.class_spread(ctx.values, classes)
    ctx.csv(spread.reset_index().rename(columns={"cls": "class_index"}), "class_spread")
    total_sd = float(np.nanstd(ctx.values, ddof=1))
    if len(spread):
        ctx.figure(plots.spread(spread["sd"].to_numpy(), total_sd, f"{ctx.name}: {ctx.label} within isomorphism "
                                f"classes ({len(spread)} classes with 2+ cells)"), "class_spread")
    return {"classes_in_space": int(len(np.unique(space.canonical_indices))),
            "classes_in_table": int(len(np.unique(classes))), "classes_with_2plus_cells": int(len(spread)),
            "cells_in_those_classes": int(spread["size"].sum()), "pooled_within_class_sd": stats.pooled_sd(spread),
            "median_within_class_sd": float(spread["sd"].median()) if len(spread) else None,
            "max_within_class_range": float(spread["range"].max()) if len(spread) else None,
            "sd_over_all_cells": total_sd, "disconnected_cells": int(dead.sum()),
            "disconnected_value_mean": float(np.nanmean(ctx.values[dead])) if dead.any() else None,
            "disconnected_value_max": float(np.nanmax(ctx.values[dead])) if dead.any() else None}


def landscape_section(ctx: Context, metric: str, walk_length: int, seed: int) -> dict[str, Any]:
    """Local optima, basins, FDC, random-walk autocorrelation and neutrality at every epoch of the metric."""
    neighbours = land.grid_neighbours(ctx.ops, len(ctx.op_names))
    results, rows, optima, series, autocorr = {}, [], {}, {}, {}
    for epoch in ctx.table.epochs_of(metric):
        label, values = f"{metric}@{epoch}", ctx.table.values(metric, epoch)
        if np.isnan(values).any():
            continue
        ls = land.describe(values, ctx.ops, neighbours, np.random.default_rng(seed), walk_length)
        strict = set(ls.strict_optima.tolist())
        rank = np.argsort(np.argsort(-values, kind="stable"), kind="stable") + 1
        basins = land.plateau_basins(ls.plateau_optima, ls.basins)
        frame = pd.DataFrame([{"target": label, "index": int(ctx.table.archs[p[0]]), "arch": ctx.arch(p[0]),
                               "value": values[p[0]], "plateau_cells": len(p), "strict": p[0] in strict,
                               "rank": int(rank[p[0]]), "basin_size": basin}
                              for p, basin in zip(ls.plateau_optima, basins)]).sort_values("value", ascending=False)
        rows.append(frame)
        optimum = int(np.argmax(values))
        results[label] = {"strict_local_optima": len(ls.strict_optima),
                          "plateau_local_optima": len(ls.plateau_optima),
                          "global_optimum": {"index": int(ctx.table.archs[optimum]), "arch": ctx.arch(optimum),
                                             "value": values[optimum]},
                          "global_optimum_basin_share": int(frame["basin_size"].iloc[0]) / ls.cells,
                          "worst_local_optimum_value": float(frame["value"].min()),
                          "worst_local_optimum_rank": int(frame["rank"].max()),
                          "fitness_distance_correlation": ls.fdc,
                          "walk_autocorrelation": ls.autocorrelation, "correlation_length": ls.correlation_length,
                          "neutral_neighbour_pairs": ls.neutral_pairs,
                          "cells_with_a_neutral_neighbour": ls.neutral_cells}
        optima[label], series[label], autocorr[label] = frame, values, ls.autocorrelation
    ctx.csv(pd.concat(rows), "local_optima")
    flat = [{"target": k, **{key: v for key, v in r.items() if key not in ("global_optimum", "walk_autocorrelation")},
             **{f"r{lag}": a for lag, a in enumerate(r["walk_autocorrelation"], start=1)}} for k, r in results.items()]
    ctx.csv(pd.DataFrame(flat), "landscape")
    ctx.figure(plots.landscape(series, optima, autocorr, f"{ctx.name}: landscape under one-edge changes "
                               f"({walk_length} step random walk, seed {seed})"), "landscape")
    return results


def signals_section(ctx: Context, compare: Sequence[Table]) -> dict[str, Any]:
    """Kendall and Spearman (all cells and the top 10% by target) between every accuracy target (each epoch,
    each compared dataset) and every target and per-cell column; top-k overlap of each with the main target."""
    table = ctx.table
    targets = {f"{m}@{e}": table.values(m, e) for m, e in accuracy_targets(table)}
    for other in compare:
        targets.update({f"{table_name(other)}:{m}@{e}": other.query_many(table.archs, m, e)
                        for m, e in accuracy_targets(other)})
    signals = {**targets, **{c: table.column(c) for c in sorted(table.columns)}}
    records = []
    for t_name, t_values in targets.items():
        for s_name, s_values in signals.items():
            for method in stats.CORRELATIONS:
                for top in (1.0, CORRELATION_TOP):
                    value, cells = stats.rank_correlation(t_values, s_values, method, top)
                    records.append({"target": t_name, "signal": s_name, "method": method,
                                    "subset": "all" if top == 1 else f"top {top:.0%}", "value": value, "cells": cells})
    frame = pd.DataFrame(records)
    ctx.csv(frame, "rank_correlations")
    kendall = frame[(frame["method"] == "kendall") & (frame["subset"] == "all")].pivot(
        index="target", columns="signal", values="value").reindex(index=list(targets), columns=list(signals))
    ctx.figure(plots.heatmaps({"Kendall tau, all cells": kendall.to_numpy().T}, list(signals), list(targets),
                              f"{ctx.name}: rank correlation of targets with every column", cmap="RdBu_r",
                              vmin=-1, vmax=1), "rank_correlations")
    others = {k: v for k, v in signals.items() if k != ctx.label}
    fractions = [f for f in OVERLAP_FRACTIONS if f * len(ctx.values) >= 1]
    overlap = pd.DataFrame([{"target": ctx.label, "signal": k, "fraction": f,
                             "overlap": stats.top_overlap(ctx.values, v, f)}
                            for k, v in others.items() for f in fractions])
    ctx.csv(overlap, "topk_overlap")
    shown = kendall.loc[ctx.label].drop(ctx.label).abs().sort_values(ascending=False).index[:12]
    ctx.figure(plots.overlap(overlap[overlap["signal"].isin(shown)], f"{ctx.name}: top-k overlap with {ctx.label} "
                             "(the 12 signals with the largest |Kendall tau|)"), "topk_overlap")
    mine = frame[(frame["target"] == ctx.label) & (frame["signal"] != ctx.label)]
    wide = mine.assign(key=mine["method"] + " " + mine["subset"]).pivot(index="signal", columns="key", values="value")
    kendall_all = wide["kendall all"].dropna()
    columns = kendall_all[kendall_all.index.isin(list(table.columns))].abs().sort_values(ascending=False).index
    pick = [t for t in targets if t != ctx.label] + list(columns[:5])
    return {"targets": list(targets),
            "against_target": {k: wide.loc[k].to_dict() for k in pick},
            "kendall_with_target": kendall_all.reindex(list(others)).to_dict()}


def pareto_section(ctx: Context) -> dict[str, Any]:
    """Pareto front of the target against params, FLOPs and the first latency column the table has."""
    columns = ctx.table.columns
    latency = [c for c in sorted(columns) if c.startswith("latency_")][:1]
    costs = {c: ctx.table.column(c) for c in (*COST_COLUMNS, *latency) if c in columns}
    if not costs:
        return {"skipped": "the table has no params, FLOPs or latency column"}
    fronts = {c: stats.pareto_front(cost, ctx.values) for c, cost in costs.items()}
    ctx.csv(pd.DataFrame([{"cost": c, "index": int(ctx.table.archs[r]), "arch": ctx.arch(r), "cost_value": costs[c][r],
                           "value": ctx.values[r]} for c, front in fronts.items() for r in front]), "pareto")
    ctx.figure(plots.pareto(costs, ctx.values, fronts, ctx.label, f"{ctx.name}: cost vs {ctx.label}"), "pareto")
    return {c: {"front_cells": len(front), "cheapest_on_front": {"cost": costs[c][front[0]],
                                                                  "value": ctx.values[front[0]]},
                "best_on_front": {"cost": costs[c][front[-1]], "value": ctx.values[front[-1]]}}
            for c, front in fronts.items()}


def markdown(s: dict[str, Any]) -> str:
    """The short human summary of `analyze`'s result."""
    lines = [f"# Search-space analysis: {s['table']} ({s['target']})", "",
             f"{s['cells']} of {s['space_size']} cells; dataset {s['dataset']}; seed {s['seed']}.", ""]
    if s["skipped"]:
        lines += ["**Partial table: skipped** " + "; ".join(s["skipped"]) + ".", ""]
    o = s["operations"]
    e, lo, hi = o["most_enriched_in_top_1pct"], o["largest_marginal_effect"], o["smallest_marginal_effect"]
    lines += ["## Operations and edges",
              f"- Most over-represented in the top 1%: `{e['op']}` on edge {e['edge']} ({e['share_top']:.0%} of the "
              f"top 1% vs {e['share_all']:.0%} of all cells).",
              f"- Largest marginal effect: `{lo['op']}` on {lo['edge']}: {lo['effect']:+.2f} "
              f"[{lo['ci_low']:+.2f}, {lo['ci_high']:+.2f}]; smallest: `{hi['op']}` on {hi['edge']}: "
              f"{hi['effect']:+.2f} [{hi['ci_low']:+.2f}, {hi['ci_high']:+.2f}] (95% bootstrap CI)."]
    if "importance" in s:
        imp = s["importance"]
        order = ", ".join(f"order {k}: {v:.1%}" for k, v in imp["variance_share_by_order"].items())
        chk = imp["treeshap_check"]
        lines += [f"- Most important edge (exact Shapley, mean |phi|): {imp['most_important_edge']}. "
                  f"Variance by interaction order: {order}.",
                  f"- Strongest pairwise interaction: edges {' & '.join(imp['strongest_pair']['edges'])} "
                  f"({imp['strongest_pair']['share']:.1%} of the variance).",
                  f"- Check: XGBoost TreeSHAP on {chk['cells']} cells vs exact Shapley: Pearson "
                  f"{chk['pearson_per_cell_edge']:.3f} per cell and edge, Spearman {chk['spearman_edge_order']:.2f} "
                  "on the edge order."]
    r = s["redundancy"]
    lines += ["", "## Redundancy",
              f"- Isomorphism classes: {r['classes_in_table']} in the table ({r['classes_in_space']} in the space); "
              f"{r['classes_with_2plus_cells']} have 2+ cells here ({r['cells_in_those_classes']} cells).",
              f"- Spread within a class (duplicates trained separately): pooled sd "
              f"{r['pooled_within_class_sd']:.3f}, median sd {r['median_within_class_sd'] or float('nan'):.3f}, "
              f"largest range {r['max_within_class_range'] or float('nan'):.2f}; sd over all cells "
              f"{r['sd_over_all_cells']:.2f}.",
              f"- Cells whose output is disconnected from the input: {r['disconnected_cells']}"
              + (f" (mean {r['disconnected_value_mean']:.2f}, max {r['disconnected_value_max']:.2f})."
                 if r["disconnected_cells"] else ".")]
    if "landscape" in s:
        lines += ["", "## Landscape (one-edge neighbourhood, 24 neighbours)", "",
                  "| target | strict optima | optima with plateaus | worst optimum (rank) | global optimum basin | "
                  "FDC | r(1) | corr. length | neutral pairs |", "|---|---|---|---|---|---|---|---|---|"]
        for label, x in s["landscape"].items():
            lines.append(f"| {label} | {x['strict_local_optima']} | {x['plateau_local_optima']} | "
                         f"{x['worst_local_optimum_value']:.2f} ({x['worst_local_optimum_rank']}) | "
                         f"{x['global_optimum_basin_share']:.1%} | {x['fitness_distance_correlation']:.3f} | "
                         f"{x['walk_autocorrelation'][0]:.3f} | {x['correlation_length']:.2f} | "
                         f"{x['neutral_neighbour_pairs']:.2%} |")
    sig = s["signals"]
    keys = ("kendall all", "kendall top 10%", "spearman all", "spearman top 10%")
    lines += ["", "## Trust in cheap signals",
              f"Rank correlation with {s['target']} of the other fidelities and datasets and of the five columns "
              "with the largest |Kendall tau| (top 10%: among the best 10% of cells by the target):", "",
              "| signal | " + " | ".join(keys) + " |", "|---|" + "---|" * len(keys)]
    lines += [f"| {k} | " + " | ".join(f"{v[key]:+.3f}" if v.get(key) is not None and v[key] == v[key] else "n/a"
                                       for key in keys) + " |" for k, v in sig["against_target"].items()]
    lines += ["", "## Cost vs accuracy"]
    p = s["pareto"]
    if "skipped" in p:
        lines.append(f"- skipped: {p['skipped']}")
    for c, x in p.items():
        if c != "skipped":
            lines.append(f"- {c}: {x['front_cells']} cells on the front, from {x['cheapest_on_front']['value']:.2f} "
                         f"at {x['cheapest_on_front']['cost']:.4g} to {x['best_on_front']['value']:.2f} at "
                         f"{x['best_on_front']['cost']:.4g}.")
    lines += ["", "Files: " + ", ".join(s["files"]), ""]
    return "\n".join(lines)
