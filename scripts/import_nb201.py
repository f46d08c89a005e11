"""Build the embedded NAS-Bench-201 tables from the published sources.

    python scripts/import_nb201.py [SOURCE_DIR] [--download] [--out tables]

SOURCE_DIR defaults to ../shared/data/external (the layout of `SOURCES` and `SEED_SOURCES`); --download fetches the
pinned files there. Each table holds the published means and, at 200 epochs, every measured training seed
(importers/nb201_seeds.py). Columns computed in this repository, not imported (params_m_torch and flops_m by
scripts/add_cost_columns.py, proxy_* by `nasbench-suite proxies`), are carried over from the table the new one
replaces, with their provenance entries, so rerunning this rebuilds tables/ with the same content_sha256.
"""

import argparse
from pathlib import Path

from nasbench_suite.importers.nb201 import download_sources, import_nb201
from nasbench_suite.importers.nb201_seeds import download_seed_sources
from nasbench_suite.table import Table

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("source", nargs="?", default=Path(__file__).parents[1] / ".." / "shared/data/external")
parser.add_argument("--download", action="store_true", help="fetch the pinned source files first (internet)")
parser.add_argument("--out", type=Path, default=Path(__file__).parents[1] / "tables")
args = parser.parse_args()
if args.download:
    download_sources(args.source)
    download_seed_sources(args.source)
for name, table in import_nb201(args.source).items():
    path = args.out / f"{name}.h5"
    carried = []
    if path.is_file():
        old = Table.load(path)
        for column in (c for c in old.columns if c not in table.columns):
            series = old.columns[column]
            table.set_column(column, series.values, series.description, series.unit, series.source)
            carried.append(column)
        table.provenance.update({k: v for k, v in old.provenance.items() if k not in table.provenance})
    table.save(path)
    print(f"{name}: {len(table.archs)} cells, seeds {table.seeds.tolist()}, {len(table.metrics)} metrics, "
          f"{len(table.columns)} columns ({len(carried)} carried over: {', '.join(carried) or 'none'}), "
          f"{path.stat().st_size / 1e6:.2f} MB, content sha256 {table.content_sha256()[:12]} -> {path}")
