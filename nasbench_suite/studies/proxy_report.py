"""The zero-cost proxy report of a table: rank correlations with 200-epoch accuracy next to the published values,
the cross-check against the published NASWOT v1 (Jacobian-correlation) scores, a scatter plot per proxy, the
surrogate's Kendall tau with and without proxy features, proxy-guided search (experiments under a preset), and the
cost per cell. `nasbench-suite proxy-report` writes it.

Correlations use the cells whose canonical class has been computed (the coverage is printed and recorded).
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from scipy import stats

from nasbench_suite import jsonio
from nasbench_suite.atomic import write_atomic
from nasbench_suite.errors import UserInputError
from nasbench_suite.figures import save_figure
from nasbench_suite.report import markdown_table
from nasbench_suite.runner import Experiment, get_preset
from nasbench_suite.space import NB201
from nasbench_suite.surrogate import DEFAULT_FEATURES, Surrogate
from nasbench_suite.surrogate.evaluation import score
from nasbench_suite.surrogate.features import live_edges
from nasbench_suite.table import Table, open_table

# Spearman with final CIFAR-10 accuracy over all NB201 cells, Abdelfattah et al. 2021 (../shared/docs/anchors.md).
PUBLISHED_SPEARMAN = {"synflow": 0.737, "jacob_cov": 0.731, "snip": 0.596, "grad_norm": 0.594, "grasp": 0.514,
                      "fisher": 0.36}
# XGBoost on zero-cost-proxy features, 400 training cells (NAS-Bench-Suite-Zero, ../shared/docs/anchors.md).
PUBLISHED_XGB_ZC_TAU_400 = 0.794
ACCURACIES = ("test_acc@200", "valid_acc@200")
COST_COLUMNS = ("params_m", "flops_m")
PUBLISHED_NASWOT = "naswot_score"
PROXY_PREFIX = "proxy_"  # the columns `nasbench-suite proxies` writes
SURROGATE_TARGET = "valid_acc@200"
MIN_TEST_CELLS = 50


def correlations(table, proxies: list[str], covered: np.ndarray, partial: set[str]) -> pd.DataFrame:
    """Spearman and Kendall tau of every proxy (and cost column) with 200-epoch test and validation accuracy over
    the cells where the score is defined, plus Spearman over all covered cells with NaN scores ranked last (as the
    zero-cost strategy ranks them), and how many NaN cells are dead (no input->output path: chance accuracy)."""
    acc = {a: table.values(*_metric(a)) for a in ACCURACIES}
    dead = ~live_edges(NB201.ops_of(table.archs)).any(axis=1)
    rows = []
    for name in proxies + [c for c in COST_COLUMNS + (PUBLISHED_NASWOT,) if c in table.columns]:
        x = table.column(name)
        row = {"score": name, "published_spearman": PUBLISHED_SPEARMAN.get(name.removeprefix(PROXY_PREFIX), np.nan)}
        for a, y in acc.items():
            ok = covered & ~np.isnan(x) & ~np.isnan(y)
            row["cells"] = int(ok.sum())
            row[f"spearman_{a}"] = float(stats.spearmanr(x[ok], y[ok])[0])
            row[f"kendall_{a}"] = float(stats.kendalltau(x[ok], y[ok])[0])
        if name in partial:  # NaN also marks cells not computed yet: only the defined cells can be scored
            row |= {f"spearman_{ACCURACIES[0]}_nan_last": np.nan, "nan_cells": "", "nan_cells_dead": ""}
        else:
            ok = covered & ~np.isnan(acc[ACCURACIES[0]])
            row[f"spearman_{ACCURACIES[0]}_nan_last"] = float(stats.spearmanr(np.nan_to_num(x[ok], nan=-np.inf),
                                                                              acc[ACCURACIES[0]][ok])[0])
            row["nan_cells"] = int((covered & np.isnan(x)).sum())
            row["nan_cells_dead"] = int((covered & np.isnan(x) & dead).sum())
        rows.append(row)
    return pd.DataFrame(rows)


def crosscheck(table, covered: np.ndarray) -> dict:
    """Spearman of our jacob_cov (and NASWOT v2) with the published NASWOT v1 score, where both are defined."""
    published = table.column(PUBLISHED_NASWOT)
    out = {}
    for name in ("proxy_jacob_cov", "proxy_naswot"):
        if name in table.columns:
            ours = table.column(name)
            ok = covered & ~np.isnan(ours) & ~np.isnan(published)
            out[name] = {"cells": int(ok.sum()), "spearman": float(stats.spearmanr(ours[ok], published[ok])[0]),
                         "kendall": float(stats.kendalltau(ours[ok], published[ok])[0])}
    return out


def scatter_plots(table, proxies: list[str], covered: np.ndarray, out: Path) -> list[str]:
    """One scatter plot per proxy against 200-epoch test accuracy (PNG + SVG)."""
    acc = table.values("test_acc", 200)
    files = []
    for name in proxies:
        x = table.column(name)
        ok = covered & ~np.isnan(x)
        rho = stats.spearmanr(x[ok], acc[ok])[0]
        fig, ax = plt.subplots(figsize=(4.5, 3.6))
        ax.scatter(x[ok], acc[ok], s=3, alpha=0.35, lw=0)
        ax.set_xlabel(f"{name} ({table.columns[name].unit or 'raw'})")
        ax.set_ylabel("test accuracy @200 (%)")
        ax.set_title(f"{name}: Spearman {rho:.3f}, {ok.sum()} cells", fontsize=9)
        ax.set_ylim(max(0.0, np.nanmin(acc[ok]) - 2), 100)
        fig.tight_layout()
        files += [p.name for p in save_figure(fig, out, f"scatter_{name}", dpi=130)]
    return files


def surrogate_gain(table, proxies: list[str], covered: np.ndarray, sizes: list[int], repeats: int) -> pd.DataFrame:
    """XGBoost surrogate's Kendall tau with and without proxy features, on covered cells of other canonical
    classes than the training cells (class-mates share proxy values, so they would leak)."""
    cells = table.archs[covered & ~np.isnan(table.values(*_metric(SURROGATE_TARGET)))]
    classes = NB201.canonical_indices
    encoding = [f for f in DEFAULT_FEATURES if f not in table.columns]  # the default's cell encodings only
    feature_sets = {"onehot": ["onehot"], "onehot+proxies": ["onehot"] + proxies,
                    "encoding": encoding, "encoding+proxies": encoding + proxies,
                    "default": list(DEFAULT_FEATURES), "default+proxies": list(DEFAULT_FEATURES) + proxies,
                    "proxies": proxies}
    rows = []
    for size in sizes:
        if size > len(cells) - MIN_TEST_CELLS:
            continue  # too few cells left to score on
        for rep in range(repeats):
            rng = np.random.default_rng([rep, size])
            train = np.sort(rng.choice(cells, size, replace=False))
            test = cells[~np.isin(classes[cells], classes[train])]
            truth = table.query_many(test, *_metric(SURROGATE_TARGET))
            for label, features in feature_sets.items():
                s = Surrogate(model="xgb", features=features, target=SURROGATE_TARGET, seed=rep).fit(table, train)
                rows.append({"features": label, "train_cells": size, "repeat": rep, "test_cells": len(test),
                             **score(truth, s.predict(test)[0])})
    return pd.DataFrame(rows, columns=["features", "train_cells", "repeat", "test_cells", *score_keys()])


def guided_search(table: Table, table_name: str, guides: list[str], preset_name: str, seeds: int,
                  jobs: int | None) -> pd.DataFrame:
    """Final test accuracy of zero-cost search ranking cells by each guide column, under the preset's protocol, at
    one query (the best-scoring cell of the sampled pool: NASWOT's protocol) and at the preset's budget; random
    search is the baseline."""
    rows = []
    for budget in ("1q", get_preset(preset_name).budget):
        for guide in [None, *guides]:
            experiment = Experiment(preset=preset_name, table=table_name, seeds=seeds, budget=budget, proxy=guide,
                                    strategies=("random" if guide is None else "zero-cost",))
            runs = experiment.prepare(table).run(jobs=jobs)
            final = np.array([r.final for r in runs])
            rows.append({"guide": guide or "none (random search)", "budget": str(budget), "runs": len(final),
                         "mean_test_acc": final.mean(), "std": final.std(ddof=1),
                         "median_queries": float(np.median([r.queries for r in runs])), "finals": final})
    return pd.DataFrame(rows)


def search_plot(search: pd.DataFrame, out: Path) -> list[str]:
    """Box plots of the final test accuracy per guide, one panel per budget (PNG + SVG)."""
    budgets = list(dict.fromkeys(search["budget"]))
    fig, axes = plt.subplots(1, len(budgets), figsize=(5 * len(budgets), 0.35 * search["guide"].nunique() + 1.5),
                             sharey=True)
    for ax, budget in zip(np.atleast_1d(axes), budgets):
        part = search[search["budget"] == budget]
        ax.boxplot(list(part["finals"]), orientation="horizontal", showfliers=False)
        ax.set_yticks(range(1, len(part) + 1), part["guide"], fontsize=8)
        ax.set_xlabel("final test accuracy @200 (%)")
        ax.set_title(f"budget {budget}, {part['runs'].iloc[0]} runs each", fontsize=9)
    fig.tight_layout()
    files = [p.name for p in save_figure(fig, out, "guided_search", dpi=130)]
    return files


def score_keys() -> list[str]:
    return list(score(np.arange(3.0), np.arange(3.0)))


def _metric(label: str) -> tuple[str, int]:
    name, _, epoch = label.partition("@")
    return name, int(epoch)


def _write_text(path: Path, text: str) -> None:
    write_atomic(path, lambda fh: fh.write(text.encode()))


def write_proxy_report(table_name: str, out: str | os.PathLike, sizes: list[int], repeats: int, preset: str,
                       seeds: int, jobs: int | None) -> str:
    """Write README.md, the CSVs, summary.json and the plots of the proxy report to `out`; returns the README text.
    sizes/repeats: surrogate training-set sizes and repeats; preset/seeds: the guided-search experiments."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    table = open_table(table_name)
    proxies = sorted(c for c in table.columns if c.startswith(PROXY_PREFIX))
    if not proxies:
        raise UserInputError(f"{table_name} has no proxy_* columns; run `nasbench-suite proxies` first")
    provenance = table.provenance.get("proxies", {})
    partial = {p for p in proxies
               if provenance.get(p.removeprefix(PROXY_PREFIX), {}).get("fraction_of_written_cells_computed", 1.0) < 1}
    complete = [p for p in proxies if p not in partial]  # the only ones surrogates and search may use
    if not complete:
        raise UserInputError(f"no proxy column of {table_name} is complete; finish `nasbench-suite proxies`")
    covered = ~np.isnan(table.column("proxy_snip") if "proxy_snip" in complete else table.column(complete[0]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        corr = correlations(table, proxies, covered, partial)
    check = crosscheck(table, covered)
    plots = scatter_plots(table, proxies, covered, out)
    gains = surrogate_gain(table, complete, covered, sizes, repeats)
    gain_summary = (gains.groupby(["features", "train_cells"], sort=False)["kendall_tau"]
                    .agg(lambda tau: f"{tau.mean():.3f} ± {tau.std():.3f}").unstack("train_cells")
                    .rename(columns=lambda n: f"{n} training cells").reset_index())
    guides = complete + [c for c in (PUBLISHED_NASWOT,) + COST_COLUMNS if c in table.columns]
    search = guided_search(table, table_name, guides, preset, seeds, jobs)
    plots += search_plot(search, out)
    search = search.drop(columns="finals")
    _write_text(out / "guided_search.csv", search.to_csv(index=False))
    _write_text(out / "correlations.csv", corr.to_csv(index=False))
    _write_text(out / "surrogate_kendall.csv", gains.to_csv(index=False))
    summary = {"table": str(table.path), "cells_covered": int(covered.sum()), "cells": len(table.archs),
               "settings": provenance, "crosscheck_vs_published_naswot_v1": check,
               "published_xgb_zc_kendall_400": PUBLISHED_XGB_ZC_TAU_400, "plots": plots}
    _write_text(out / "summary.json", jsonio.dumps(summary, indent=2))
    first = next(iter(provenance.values()), {})
    partial_text = ", ".join(f"{p} ({provenance[p.removeprefix(PROXY_PREFIX)]['classes_computed']} classes)"
                             for p in sorted(partial))
    lines = [
        "# Zero-cost proxies on NAS-Bench-201 CIFAR-10",
        "",
        f"Table `{table_name}`; {int(covered.sum())} of {len(table.archs)} cells covered "
        f"({first.get('classes_computed', '?')} canonical classes computed; each class's value is copied to its "
        f"members). Settings: batch {first.get('batch_size')} of {first.get('dataset')} "
        f"(sha256 {str(first.get('dataset_sha256'))[:16]}...), split {first.get('split')}, batch seed "
        f"{first.get('seed')}, init seed {first.get('init_seed')}, C={first.get('channels')} "
        f"N={first.get('cells_per_stage')}, {first.get('device')}.",
        "",
        *([f"Partial columns (classes are computed in a seeded random order, so these cover a uniform random "
           f"sample of canonical classes; rerun `nasbench-suite proxies` to extend them): {partial_text}. Their "
           "correlations use the computed cells only; surrogates and search use complete columns only.", ""]
          if partial else []),
        "## Cost per canonical class",
        "",
        "Proxies computed in one pass share its time (one CPU thread, niced, on a shared 2-core machine).",
        "",
        markdown_table(pd.DataFrame([{"proxy": name, "classes_computed": p.get("classes_computed"),
                                 "median_cpu_seconds": p.get("cpu_seconds_per_class_median"),
                                 "median_wall_seconds": p.get("seconds_per_class_median")}
                                for name, p in provenance.items()])),
        "",
        "## Rank correlation with 200-epoch accuracy (seed mean)",
        "",
        "`published_spearman`: Abdelfattah et al. 2021, Spearman with final accuracy over all cells. Columns "
        "`cells`..`kendall_valid`: over the cells where the score is defined; `_nan_last`: over all covered cells "
        "with NaN scores ranked last. `nan_cells_dead`: NaN cells that are dead (no input-to-output path in the "
        "cell, so the network ignores its input and scores chance accuracy).",
        "",
        markdown_table(corr),
        "",
        "## Cross-check against the published NASWOT v1 (Jacobian-correlation) score",
        "",
        markdown_table(pd.DataFrame([{"ours": k, **v} for k, v in check.items()])),
        "",
        f"## Surrogate (XGBoost, target {SURROGATE_TARGET}): Kendall tau on held-out covered cells",
        "",
        f"Mean and sd over {repeats} random training sets; scored on covered cells of canonical classes not "
        f"in the training set. `default` = the surrogate package's default features {list(DEFAULT_FEATURES)} (two of "
        "them, params and the published NASWOT v1 score, are free scores themselves); `encoding` = its cell "
        "encodings alone; `+proxies` adds this table's complete proxy columns. "
        f"Published: XGBoost on zero-cost-proxy features, "
        f"400 training cells, Kendall tau {PUBLISHED_XGB_ZC_TAU_400} (NAS-Bench-Suite-Zero).",
        "",
        markdown_table(gain_summary),
        "",
        "## Proxy-guided search",
        "",
        f"`zero-cost` search ({seeds} seeds, preset `{preset}`) ranking its sampled pool of cells by each "
        "column; `1q` evaluates only the top-ranked cell (NASWOT's protocol), the preset budget spends the rest on "
        "the next-ranked cells. Final 200-epoch test accuracy of the incumbent. Plot: `guided_search.png`. "
        "Reproduce one row: `nasbench-suite benchmark --preset nb201-paper --strategies zero-cost --proxy COLUMN`.",
        "",
        markdown_table(search),
        "",
    ]
    text = "\n".join(lines)
    _write_text(out / "README.md", text)
    return text
