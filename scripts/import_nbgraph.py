"""Build the embedded NAS-Bench-Graph tables (tables/nbg-<dataset>.h5) from the package's published light files.

    python scripts/import_nbgraph.py [SOURCE_DIR] [--out tables]

SOURCE_DIR defaults to ../shared/data/external (files at originals/nas-bench-graph/light/<dataset>.bench, from the
nas-bench-graph 1.4.0 wheel; each checked against its pinned sha256 in nasbench_suite/importers/nbgraph.py).
"""

import argparse
from pathlib import Path

from nasbench_suite.importers.nbgraph import import_nbgraph

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("source", nargs="?", default=Path(__file__).parents[1] / ".." / "shared/data/external")
parser.add_argument("--out", type=Path, default=Path(__file__).parents[1] / "tables")
args = parser.parse_args()
for name, table in import_nbgraph(args.source).items():
    path = table.save(args.out / f"{name}.h5")
    print(f"{name}: {len(table.archs)} cells of {table.space}, {path.stat().st_size / 1e6:.2f} MB, "
          f"content sha256 {table.content_sha256()[:12]} -> {path}")
