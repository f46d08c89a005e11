"""Import NAS-Bench-201's per-seed 200-epoch results and measure them against the published means.

    python scripts/import_nb201_seeds.py [SOURCE_DIR] [--download] [--out DIR] [--discrepancies CSV]

SOURCE_DIR defaults to ../shared/data/external (the layout of `SEED_SOURCES`); --download fetches the pinned files
there; --out saves the three tables in DIR; prints the figures of results/nb201-seeds/README.md as JSON and writes
the cells whose seed mean differs from the published (v1_1) mean by more than 0.1 points to CSV.
"""

import argparse
import time
from pathlib import Path

from nasbench_suite import jsonio
from nasbench_suite.atomic import write_atomic
from nasbench_suite.importers.nb201 import published_tables
from nasbench_suite.importers.nb201_seeds import download_seed_sources, import_nb201_seeds, measure

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("source", nargs="?", default=Path(__file__).parents[1] / ".." / "shared/data/external")
parser.add_argument("--download", action="store_true", help="fetch the pinned source files first (internet)")
parser.add_argument("--out", type=Path, help="folder to save the tables in (e.g. /tmp/nb201-seeds)")
parser.add_argument("--discrepancies", type=Path, help="CSV of the cells differing from the shipped mean")
args = parser.parse_args()
if args.download:
    download_seed_sources(args.source)
start = time.perf_counter()
tables = import_nb201_seeds(args.source)
print(f"import: {time.perf_counter() - start:.2f} s")
for name, table in tables.items():
    if args.out:
        path = table.save(args.out / f"{name}.h5")
        print(f"{name}: {path.stat().st_size / 1e6:.2f} MB -> {path}")
figures, differing = measure(args.source, tables, published_tables(args.source))
print(jsonio.dumps(figures, indent=2))
if args.discrepancies:
    write_atomic(args.discrepancies, lambda fh: fh.write(differing.to_csv(index=False).encode()))
