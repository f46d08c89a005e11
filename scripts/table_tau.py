"""Kendall tau (and Spearman rho) between a trained table's accuracies and NAS-Bench-201's 200-epoch accuracies.

    python scripts/table_tau.py tables/cifar10-jpeg75-micro.h5 --plot results/micro_vs_nb201
    python scripts/table_tau.py results/cpu-table/cifar10-jpeg75-cpu.h5 --metric valid_acc --archs canonical:500:0
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from scipy.stats import kendalltau, spearmanr

from nasbench_suite import open_table
from nasbench_suite.train.run import resolve_archs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("table")
    ap.add_argument("--metric", default="test_acc")
    ap.add_argument("--epoch", type=int, default=None, help="default: the last epoch with data")
    ap.add_argument("--reference", default="nb201-cifar10")
    ap.add_argument("--reference-metric", default="test_acc")
    ap.add_argument("--reference-epoch", type=int, default=200)
    ap.add_argument("--archs", default=None, help="only the table's cells among these (a `train --archs` spec, e.g. "
                    "canonical:500:0 for the cpu table's uniform sample)")
    ap.add_argument("--proxies", default="", help="comma-separated columns of the reference (e.g. proxy_naswot) to "
                    "score the same way on the same cells: the baselines a trained table should beat")
    ap.add_argument("--top", type=int, default=0, help="also: where the table's K best cells stand in the reference "
                    "(percentile over the whole space) and the overlap of both rankings' top 10%% and 50%%")
    ap.add_argument("--plot", type=Path, default=None, help="write PREFIX.png/.svg scatter and PREFIX.csv")
    args = ap.parse_args()
    table, ref = open_table(args.table), open_table(args.reference)
    keep = np.isin(table.archs, resolve_archs(args.archs)) if args.archs else np.ones(len(table.archs), dtype=bool)
    archs = table.archs[keep]
    ours = table.values(args.metric, args.epoch)[keep]
    theirs = ref.query_many(archs, args.reference_metric, args.reference_epoch)
    ok = np.isfinite(ours) & np.isfinite(theirs)
    tau, rho = kendalltau(ours[ok], theirs[ok])[0], spearmanr(ours[ok], theirs[ok])[0]
    epoch = args.epoch or table.epochs_of(args.metric)[-1]
    print(f"{args.table}: {ok.sum()} cells ({(~ok).sum()} without a finite value), protocol "
          f"{table.protocol.get('name')}, dataset {table.dataset}")
    print(f"Kendall tau {tau:.3f}, Spearman rho {rho:.3f}: {args.metric}@{epoch} vs {args.reference} "
          f"{args.reference_metric}@{args.reference_epoch}")
    for proxy in filter(None, args.proxies.split(",")):
        values = ref.column(proxy)[[ref.row(int(a)) for a in archs[ok]]]
        fine = np.isfinite(values)
        tau_proxy = kendalltau(values[fine], theirs[ok][fine])[0]
        print(f"  {proxy} on the same {fine.sum()} cells: Kendall tau {tau_proxy:.3f}")
    if len(table.seeds) > 1:
        per_seed = table.metrics[args.metric].values[keep][:, :, list(table.epochs).index(epoch)]
        both = np.isfinite(per_seed[:, :2]).all(axis=1)
        if both.any():
            print(f"  noise ceiling: seed {table.seeds[0]} vs seed {table.seeds[1]} on the {both.sum()} cells with "
                  f"both: Kendall tau {kendalltau(per_seed[both, 0], per_seed[both, 1])[0]:.3f}")
    if args.top:
        print_top(ours[ok], theirs[ok], ref.values(args.reference_metric, args.reference_epoch), args.top)
    if args.plot:
        import matplotlib.pyplot as plt

        from nasbench_suite.figures import save_figure

        args.plot.parent.mkdir(parents=True, exist_ok=True)
        np.savetxt(args.plot.with_suffix(".csv"), np.column_stack([archs, ours, theirs]), delimiter=",",
                   header=f"arch,{args.metric}@{epoch},reference_{args.reference_metric}@{args.reference_epoch}",
                   comments="", fmt=["%d", "%.4f", "%.4f"])
        fig, ax = plt.subplots(figsize=(5, 4))
        ax.scatter(theirs[ok], ours[ok], s=8)
        ax.set_xlabel(f"{args.reference} {args.reference_metric}@{args.reference_epoch} (%)")
        ax.set_ylabel(f"{table.protocol.get('name')} {args.metric}@{epoch} (%)")
        ax.set_title(f"{ok.sum()} cells: Kendall tau {tau:.3f}")
        fig.tight_layout()
        save_figure(fig, args.plot.parent, args.plot.name, dpi=120)


def print_top(ours: np.ndarray, theirs: np.ndarray, space: np.ndarray, k: int) -> None:
    """Does the table find the reference's best cells? Its top k in reference percentiles, and top-set overlaps."""
    space = np.sort(space[np.isfinite(space)])
    order = np.argsort(-ours, kind="stable")
    percentiles = [100 * np.searchsorted(space, theirs[i], side="right") / len(space) for i in order[:k]]
    rank_of_best = int(np.flatnonzero(order == np.argmax(theirs))[0]) + 1
    print(f"the table's top {k} cells stand at reference percentiles " + ", ".join(f"{p:.0f}" for p in percentiles)
          + f" of the whole space; the reference's best of these cells is the table's #{rank_of_best}")
    theirs_order = np.argsort(-theirs, kind="stable")
    for fraction in (0.1, 0.5):
        n = max(1, round(fraction * len(ours)))
        shared = len(np.intersect1d(order[:n], theirs_order[:n])) / n
        print(f"top {fraction:.0%} ({n} cells): {shared:.0%} shared by both rankings")


if __name__ == "__main__":
    main()
