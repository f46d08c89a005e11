"""Find the cheapest faithful training protocol: train the same cells under candidate protocols, report cost vs tau.

Trains (resumably; --shard K/N splits the cells over workers) then writes OUT/pilot.csv, .png and .svg; with
--report-only it just reports what is finished. See nasbench_suite/train/pilot.py.

    nice -n 10 python scripts/protocol_pilot.py micro c8n1-16px.json c16n1.json --out pilot --stratified 60 --uniform 20
    python scripts/protocol_pilot.py --out pilot --report-only
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

from nasbench_suite.errors import UserInputError
from nasbench_suite.train.pilot import COLUMNS, pilot_cells, pilot_report, run_pilot, write_report
from nasbench_suite.train.protocols import get_protocol
from nasbench_suite.seeds import parse_seeds
from nasbench_suite.train.run import parse_shard


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("protocols", nargs="*", help="protocol names or .json files (not needed with --report-only)")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--stratified", type=int, default=60, help="cells over NB201 test_acc@200 quantile bins")
    ap.add_argument("--uniform", type=int, default=20, help="cells drawn uniformly from the canonical cells")
    ap.add_argument("--sample-seed", type=int, default=0)
    ap.add_argument("--seeds", default="0", help="training seeds, e.g. 0 or 0-2")
    ap.add_argument("--shard", default=None, help="K/N: this worker's share of the cells")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--trainer", choices=("auto", "stacked", "reference"), default="auto",
                    help="auto: stacked on CUDA, the reference loop on the CPU (faster there, bench_train.py)")
    ap.add_argument("--group-size", type=int, default=0, help="cells per stacked step (0: 16 on CUDA, 8 on CPU)")
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    ap.add_argument("--metric", default="valid_acc", help="the protocol's score: this metric at its last epoch")
    ap.add_argument("--report-only", action="store_true")
    args = ap.parse_args()
    if not args.protocols and not args.report_only:
        ap.error("name at least one protocol (a name or a .json file), or pass --report-only")
    try:
        if not args.report_only:
            cells = pilot_cells(args.stratified, args.uniform, args.sample_seed)
            run_pilot([get_protocol(p) for p in args.protocols], args.out, cells, parse_seeds(args.seeds),
                      parse_shard(args.shard), args.device, args.trainer, args.group_size, args.threads)
        rows = pilot_report(args.out, args.metric)
    except UserInputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
    print("  ".join(f"{c:>17s}" if i else f"{c:24s}" for i, c in enumerate(COLUMNS)))
    for row in rows:
        print("  ".join(f"{row[c]:24s}" if c == "protocol" else
                        f"{row[c]:17.3f}" if isinstance(row[c], float) and math.isfinite(row[c]) else
                        f"{row[c]!s:>17s}" for c in COLUMNS))
    for path in write_report(rows, args.out / "pilot"):
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
