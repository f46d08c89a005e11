"""Build the embedded NAS-Bench-201 tables from the published sources.

    python scripts/import_nb201.py [SOURCE_DIR] [--download] [--out tables]

SOURCE_DIR defaults to ../shared/data/external (the layout of `SOURCES`); --download fetches the pinned files there.
"""

import argparse
from pathlib import Path

from nasbench_suite.importers.nb201 import download_sources, import_nb201

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("source", nargs="?", default=Path(__file__).parents[1] / ".." / "shared/data/external")
parser.add_argument("--download", action="store_true", help="fetch the pinned source files first (internet)")
parser.add_argument("--out", default=Path(__file__).parents[1] / "tables")
args = parser.parse_args()
if args.download:
    download_sources(args.source)
for name, table in import_nb201(args.source).items():
    path = table.save(Path(args.out) / f"{name}.h5")
    print(f"{name}: {len(table.archs)} cells, {len(table.metrics)} metrics, {len(table.columns)} columns, "
          f"{path.stat().st_size / 1e6:.2f} MB -> {path}")
