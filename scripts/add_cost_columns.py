"""Add `params_m_torch` and `flops_m` of every cell (C=16, N=5, one 32x32 image) to tables/nb201-cifar10.h5.

Both depend only on how many 1x1 and 3x3 convs a cell has (pooling, skips and sums hold no parameters, and
torch.utils.flop_counter counts convolutions and matrix products), so each of the 28 conv-count combinations is
measured on a real network and mapped to the 15,625 cells; a seeded sample of cells measured directly checks that.
The table is reloaded right before writing, because other columns are added to the same file by other scripts.

    python scripts/add_cost_columns.py [--table tables/nb201-cifar10.h5] [--check 40]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from nasbench_suite.model.cost import network_cost
from nasbench_suite.space import NB201
from nasbench_suite.table import Table

REPO = Path(__file__).resolve().parents[1]
CONV1, CONV3 = 2, 3  # op ids of nor_conv_1x1 and nor_conv_3x3


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--table", type=Path, default=REPO / "tables" / "nb201-cifar10.h5")
    ap.add_argument("--check", type=int, default=40, help="cells measured directly as a check")
    args = ap.parse_args()
    ops = NB201.all_ops()  # [15625, 6], row i = official index i
    n1, n3 = (ops == CONV1).sum(1), (ops == CONV3).sum(1)
    cost = {}
    for c3 in range(7):
        for c1 in range(7 - c3):
            cell = (CONV3,) * c3 + (CONV1,) * c1 + (1,) * (6 - c1 - c3)
            cost[(c1, c3)] = network_cost(cell)
    params = np.array([cost[(a, b)][0] for a, b in zip(n1, n3)], dtype=np.float64)
    flops = np.array([cost[(a, b)][1] for a, b in zip(n1, n3)], dtype=np.float64)
    rng = np.random.default_rng(0)
    for arch in rng.choice(NB201.size, size=args.check, replace=False):
        direct = network_cost(int(arch))
        assert direct == (params[arch], flops[arch]), f"cost of cell {arch} is not a function of its conv counts"
    table = Table.load(args.table)  # reload right before writing: other columns may have been added meanwhile
    rows = table.archs
    published = table.columns["params_m"].values if "params_m" in table.columns else None
    source = "scripts/add_cost_columns.py (nasbench_suite.model.cost.network_cost)"
    table.set_column("params_m_torch", params[rows] / 1e6, "trainable parameters of the built network (C=16, N=5)",
                     "M", source)
    table.set_column("flops_m", flops[rows] / 1e6, "forward FLOPs of one 32x32 image (C=16, N=5), "
                     "torch.utils.flop_counter (2 per multiply-add; convs and linear layers)", "MFLOPs", source)
    table.save(args.table)
    print(f"wrote params_m_torch and flops_m for {len(rows)} cells to {args.table} "
          f"(checked {args.check} cells directly)")
    print(f"params {params.min() / 1e6:.6f}-{params.max() / 1e6:.6f} M, FLOPs {flops.min() / 1e6:.2f}-"
          f"{flops.max() / 1e6:.2f} MFLOPs")
    if published is not None:
        differ = np.abs(published - params[rows] / 1e6) > 1e-6
        attainable = np.array(sorted({p for p, _ in cost.values()})) / 1e6
        impossible = np.abs(published[differ][:, None] - attainable[None]).min(1) > 1e-6
        print(f"published params_m differs from the built network for {differ.sum()} of {len(rows)} cells; "
              f"{impossible.sum()} of those published values are the count of no NB201 network at all")


if __name__ == "__main__":
    main()
