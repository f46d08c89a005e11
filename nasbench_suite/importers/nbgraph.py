"""Import NAS-Bench-Graph's published results (the package's `light/<dataset>.bench` files) into suite tables.

Each file is a pickle of a dict {source hash: {valid_perf, perf, latency, para}}; it is read only after its sha256
matches the pin below, and then only through the restricted unpickler (numpy scalars, nothing else). Every cell of
the space gets the entry of its `valid_hash` (space/nbgraph.py); the 4-skip cells, which the source never trained,
stay NaN. The source records no training time per architecture, so the tables have no cost column: search them with
a query budget (runner/presets.py, preset `nbgraph`).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from nasbench_suite.errors import UserInputError
from nasbench_suite.restricted_pickle import NUMPY_SCALARS, restricted_loads
from nasbench_suite.space import NBGRAPH, NBGRAPH_PROTEINS
from nasbench_suite.table import MEAN_SEED, Table
from nasbench_suite.versions import package_versions

PACKAGE = {"name": "nas-bench-graph", "version": "1.4.0", "index": "PyPI",
           "wheel_sha256": "f6ea43836262f1ee8d60c35bbbd20aa2536ee1f8492025e3b0b90096f5afc6ad",
           "repo": "THUMNLab/NAS-Bench-Graph", "license": "Apache-2.0",
           "paper": "Qin et al., NAS-Bench-Graph, NeurIPS 2022 Datasets and Benchmarks"}
SHA256 = {
    "cora": "5e69b2f9bb08d8927d9ffd4921f8494a3cea349c9c3a461334cb9dc9e11701a8",
    "citeseer": "99c7f79b73372636305bf73fb32a58b63c57bd1871a152dd62ec72d984c8c50f",
    "pubmed": "10b4dcf6cfd3a24f6059f7d541a4a872960b4adac0b3dba26abed1bb9a3d904d",
    "cs": "71ae8469930517160b024f52db6000a4897f1aff5d765beb27bb60952ed5bd31",
    "physics": "1e309bafee0b832c8b84fa3c039c36992bc0a910238b128f26b7e9190d7f2aea",
    "photo": "5511b4dc3f63fa988792177227db7901290fb9b27fc6c02e3036b29e134ed6df",
    "computers": "fdb3dc0cf405d62322f0ab9614b2083c2a5e6576c2f43e4f2214be64bc62b1b3",
    "arxiv": "7ee21a7653297a806c0ed1be3efe6ecc06acc84e48e942da0bfde0e5d287debe",
    "proteins": "b9e7fb0902bda44fec32c948e5fde822fb22d38d674c52e43ace5197378f2d21",
}
DATASETS = tuple(SHA256)
LOCAL = "originals/nas-bench-graph/light/{}.bench"  # under the import folder (../shared/data/external)
EPOCH = 1  # the one epoch-axis entry: the end of the source's schedule (the light files hold one value per cell)
PROTOCOL = {"name": "nas-bench-graph", "source": "NAS-Bench-Graph (Qin et al. 2022), published results; not "
            "retrained here", "epochs": {str(EPOCH): "the end of the source's per-dataset training schedule (the "
            "light files record one value per cell, not per epoch)"},
            "seed_axis": "-1 = the published value (mean over the source's 3 seeds)",
            "cost": "none recorded: the source publishes no training time, so a search's budget is its queries"}


def space_of(dataset: str):
    """The space a dataset's file is keyed in: proteins has its own 5 ops."""
    return NBGRAPH_PROTEINS if dataset == "proteins" else NBGRAPH


def read_bench(path: Path, dataset: str) -> dict:
    """The dict of one `.bench` file, after its sha256 check, through the restricted unpickler."""
    if dataset not in SHA256:
        raise UserInputError(f"unknown NAS-Bench-Graph dataset {dataset!r}; expected one of {', '.join(DATASETS)}")
    if not path.is_file():
        raise UserInputError(f"{path}: no such file; expected NAS-Bench-Graph's light/{dataset}.bench "
                             f"({PACKAGE['name']} {PACKAGE['version']})")
    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if digest != SHA256[dataset]:
        raise UserInputError(f"{path}: sha256 {digest[:12]}... is not the pinned {SHA256[dataset][:12]}... of "
                             f"{PACKAGE['name']} {PACKAGE['version']} light/{dataset}.bench")
    bench = restricted_loads(data, NUMPY_SCALARS, str(path))
    if not isinstance(bench, dict):
        raise UserInputError(f"{path}: expected a dict of architecture hash -> results, got {type(bench).__name__}")
    return bench


def import_dataset(folder: str | Path, dataset: str) -> Table:
    """The table `nbg-<dataset>`: every cell of its space, valid/test performance in %, latency, parameters."""
    path = Path(folder) / LOCAL.format(dataset)
    bench = read_bench(path, dataset)
    space = space_of(dataset)
    hashes = space.source_hashes
    tabulated = hashes >= 0
    missing = sorted(set(hashes[tabulated].tolist()) - set(bench))
    unused = len(set(bench) - set(hashes[tabulated].tolist()))
    if missing or unused:
        raise UserInputError(f"{path}: {len(missing)} cells of the space have no entry (e.g. hash "
                             f"{missing[:1]}) and {unused} entries match no cell; expected one entry per class")
    fields = {"valid_perf": [], "perf": [], "latency": [], "para": []}
    for h in hashes[tabulated].tolist():
        for name, column in fields.items():
            column.append(float(bench[h][name]))
    values = {name: np.full(space.size, np.nan) for name in fields}
    for name, column in fields.items():
        values[name][tabulated] = column
    metric = "ROC-AUC" if dataset == "proteins" else "accuracy"
    source = f"{PACKAGE['name']} {PACKAGE['version']} light/{dataset}.bench"
    table = Table(space=space.name, dataset=dataset, archs=np.arange(space.size), seeds=[MEAN_SEED], epochs=[EPOCH],
                  dataset_sha256="", protocol=PROTOCOL,
                  description=f"NAS-Bench-Graph {dataset} results (published), all {space.size:,} cells of "
                              f"{space.name} ({int(tabulated.sum()):,} trained classes; 4-skip cells NaN)",
                  provenance={"kind": "imported published results", "sources": {
                      dataset: {**PACKAGE, "path": f"nas_bench_graph/light/{dataset}.bench",
                                "sha256": SHA256[dataset]}}},
                  software=package_versions(("nasbench-suite", "numpy")),
                  hardware={"training": "NAS-Bench-Graph authors' GPUs (published)"})
    shape = (space.size, 1, 1)
    table.set_metric("valid_acc", 100 * values["valid_perf"].reshape(shape), f"validation {metric} x 100 "
                     "(the source's valid_perf)", "%", source)
    table.set_metric("test_acc", 100 * values["perf"].reshape(shape), f"test {metric} x 100 (the source's perf)",
                     "%", source)
    table.set_column("latency_ms", 1000 * values["latency"], "inference latency as published (the source's "
                     "latency, seconds x 1000)", "ms", source)
    table.set_column("params_m", values["para"], "parameters as published (the source's para)", "M", source)
    return table


def import_nbgraph(folder: str | Path, datasets: tuple[str, ...] = DATASETS) -> dict[str, Table]:
    """Tables `nbg-<dataset>` for `datasets`, read from `folder` laid out as `LOCAL`."""
    return {f"nbg-{dataset}": import_dataset(folder, dataset) for dataset in datasets}
