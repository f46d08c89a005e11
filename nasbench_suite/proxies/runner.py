"""Zero-cost proxies for the cells of a table: once per canonical class, resumable, written as table columns.

Finished classes go to an .npz store (rewritten atomically every few seconds), so an interrupted run loses
nothing and a rerun computes only what is missing. Classes are visited in a seeded random order, so a run
stopped early has covered a uniform random sample. Columns are named `proxy_<name>`; the settings go into each
column's description and into the table's provenance under "proxies".
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import torch

from nasbench_suite.atomic import write_atomic
from nasbench_suite.errors import UserInputError
from nasbench_suite.proxies.measures import PROXIES, PROXY_INFO, check_proxies, compute_proxies
from nasbench_suite.space import NB201
from nasbench_suite.table import Table

COLUMN_PREFIX = "proxy_"
PROVENANCE_KEY = "proxies"
ARCHS_FORM = "all, unique, random:N, or comma-separated indices and ranges such as 0-99,6111"


@dataclass(frozen=True)
class ProxySettings:
    """Everything a proxy value depends on; recorded with the columns."""

    proxies: tuple[str, ...] = PROXIES
    batch_size: int = 64
    seed: int = 0  # choice of the minibatch (and the order cells are visited)
    init_seed: int = 0  # torch seed of the network weights, the same for every cell
    split: str = "train45k"
    channels: int = 16
    cells_per_stage: int = 5
    device: str = "cpu"
    dataset: str = ""
    dataset_sha256: str = ""

    def key(self) -> str:
        """Short hash naming the store of results computed under these settings."""
        return hashlib.sha256(json.dumps(asdict(self), sort_keys=True).encode()).hexdigest()[:12]

    def describe(self) -> str:
        return (f"batch of {self.batch_size} {self.split} training images of {self.dataset} "
                f"(sha256 {self.dataset_sha256}), batch seed {self.seed}, weight-init seed {self.init_seed}, "
                f"C={self.channels} N={self.cells_per_stage}, train-mode BatchNorm, device {self.device}; computed "
                f"once per canonical class (its lowest index) and copied to the other members")


@dataclass
class ProxyStore:
    """Finished canonical representatives: index -> proxy values (in settings order), wall and CPU seconds."""

    path: Path
    settings: ProxySettings
    values: dict[int, np.ndarray] = field(default_factory=dict)
    seconds: dict[int, float] = field(default_factory=dict)
    cpu_seconds: dict[int, float] = field(default_factory=dict)

    @classmethod
    def open(cls, path: Path, settings: ProxySettings) -> "ProxyStore":
        store = cls(Path(path), settings)
        if store.path.is_file():
            with np.load(store.path) as z:
                if str(z["settings"]) != json.dumps(asdict(settings), sort_keys=True):
                    raise UserInputError(f"{path} holds proxies computed with other settings; use another "
                                         f"--cache-dir or delete it")
                store.values = dict(zip(z["indices"].tolist(), z["values"]))
                store.seconds = dict(zip(z["indices"].tolist(), z["seconds"].tolist()))
                store.cpu_seconds = dict(zip(z["indices"].tolist(), z["cpu_seconds"].tolist()))
        return store

    def add(self, index: int, values: dict[str, float], seconds: float, cpu_seconds: float) -> None:
        self.values[int(index)] = np.array([values[p] for p in self.settings.proxies], dtype=np.float64)
        self.seconds[int(index)] = float(seconds)
        self.cpu_seconds[int(index)] = float(cpu_seconds)

    def save(self) -> None:
        """Atomic rewrite: temporary file in the same folder, then rename."""
        indices = np.array(sorted(self.values), dtype=np.int64)
        write_atomic(self.path, lambda fh: np.savez(
            fh, settings=json.dumps(asdict(self.settings), sort_keys=True), indices=indices,
            values=np.array([self.values[i] for i in indices]).reshape(len(indices), len(self.settings.proxies)),
            seconds=np.array([self.seconds[i] for i in indices]),
            cpu_seconds=np.array([self.cpu_seconds[i] for i in indices])))


def store_paths(cache_dir: Path, settings: ProxySettings) -> list[Path]:
    """Every shard's store for these settings."""
    return sorted(Path(cache_dir).glob(f"proxies-{settings.key()}-*.npz"))


def load_results(cache_dir: Path, settings: ProxySettings) -> ProxyStore:
    """All shards' finished results merged (read-only view)."""
    merged = ProxyStore(Path(cache_dir) / "merged", settings)
    for path in store_paths(cache_dir, settings):
        part = ProxyStore.open(path, settings)
        merged.values.update(part.values)
        merged.seconds.update(part.seconds)
        merged.cpu_seconds.update(part.cpu_seconds)
    return merged


def select_archs(table: Table, spec: str, seed: int = 0) -> np.ndarray:
    """Official indices named by --archs (see ARCHS_FORM), all of them in the table."""
    text = spec.strip()
    if text == "all":
        return table.archs.copy()
    if text == "unique":
        return np.intersect1d(table.archs, NB201.canonical_indices[table.archs])
    if text.startswith("random:"):
        count = text.split(":", 1)[1]
        if not count.isdigit() or not 0 < int(count) <= len(table.archs):
            raise UserInputError(f"--archs {spec!r}: N must be 1..{len(table.archs)}; expected {ARCHS_FORM}")
        return np.sort(np.random.default_rng(seed).choice(table.archs, int(count), replace=False))
    picked: list[int] = []
    for part in text.split(","):
        lo, sep, hi = part.strip().partition("-")
        if not lo.isdigit() or (sep and not hi.isdigit()):
            raise UserInputError(f"--archs {spec!r}: cannot read {part!r}; expected {ARCHS_FORM}")
        picked += list(range(int(lo), int(hi) + 1)) if sep else [int(lo)]
    indices = np.unique(np.array(picked, dtype=np.int64))
    for index in indices:
        table.row(int(index))  # one clear error for an index the table does not hold
    return indices


def proxy_batch(data: Any, settings: ProxySettings) -> tuple[torch.Tensor, torch.Tensor]:
    """The fixed, seeded, normalised minibatch of CIFAR-10 training images, on the settings' device."""
    from nasbench_suite.data import fixed_batch

    images, labels = fixed_batch(data, settings.batch_size, settings.seed, settings.split)
    device = torch.device(settings.device)
    return torch.from_numpy(images).to(device), torch.from_numpy(labels).to(device)


def cell_proxies(index: int, inputs: torch.Tensor, targets: torch.Tensor, settings: ProxySettings) -> dict[str, float]:
    """Proxies of one cell's network, initialised from settings.init_seed."""
    from nasbench_suite.model.nb201 import build_network

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(settings.init_seed)
        net = build_network(int(index), settings.channels, settings.cells_per_stage)
    net.to(inputs.device)
    return compute_proxies(net, inputs, targets, settings.proxies, body=net.features, head=net.classifier)


def run_proxies(table: Table, archs: np.ndarray, settings: ProxySettings, data: Any, cache_dir: Path,
                shard: tuple[int, int] = (0, 1), time_limit: float | None = None, save_every: float = 30.0,
                progress: bool = True, on_cell: Callable[[int], None] | None = None) -> dict[str, Any]:
    """Compute the missing canonical representatives of `archs` (this shard's share) into the store.

    Stops cleanly after `time_limit` seconds; on an interrupt the finished cells are saved before re-raising.
    """
    from tqdm import tqdm

    settings = replace(settings, proxies=check_proxies(settings.proxies))
    shard_id, shards = shard
    store = ProxyStore.open(Path(cache_dir) / f"proxies-{settings.key()}-shard{shard_id}of{shards}.npz", settings)
    finished = set(load_results(cache_dir, settings).values)
    reps = np.unique(NB201.canonical_indices[archs])
    order = np.random.default_rng(settings.seed).permutation(reps)
    todo = [int(i) for i in order if int(i) not in finished][shard_id::shards]
    inputs, targets = proxy_batch(data, settings)
    start = last_save = time.monotonic()
    taken: list[float] = []
    stopped = False
    try:
        for index in tqdm(todo, desc=f"proxies shard {shard_id}/{shards}", unit="cell", disable=not progress):
            if time_limit is not None and time.monotonic() - start > time_limit:
                stopped = True
                break
            began, began_cpu = time.perf_counter(), time.process_time()
            values = cell_proxies(index, inputs, targets, settings)
            taken.append(time.perf_counter() - began)
            store.add(index, values, taken[-1], time.process_time() - began_cpu)
            if on_cell is not None:
                on_cell(index)
            if time.monotonic() - last_save > save_every:
                store.save()
                last_save = time.monotonic()
    finally:
        if taken:  # a run that computed nothing leaves the store (or its absence) as it was
            store.save()
    return {"classes": len(reps), "already_done": sum(int(i) in finished for i in reps),
            "computed_now": len(taken), "left_in_shard": len(todo) - len(taken), "stopped_by_time_limit": stopped,
            "seconds_per_class_median": float(np.median(taken)) if taken else None, "store": str(store.path)}


def default_output(table_path: Path) -> Path:
    """Where proxy columns go without an explicit output: the table itself, except for a table embedded in the
    package (inside the installation, often read-only): a copy of that one in the working directory."""
    embedded = Path(str(resources.files("nasbench_suite.tables"))).resolve()
    return Path(table_path.name) if Path(table_path).resolve().parent == embedded else Path(table_path)


def write_columns(table_path: Path, archs: np.ndarray, settings: ProxySettings, cache_dir: Path,
                  output: Path | None = None) -> dict[str, Any]:
    """Reload the table, set `proxy_<name>` for `archs` from the stores (NaN where not yet computed), save to
    `output` (default: `default_output(table_path)`)."""
    settings = replace(settings, proxies=check_proxies(settings.proxies))
    results = load_results(cache_dir, settings)
    table = Table.load(table_path)  # reloaded right before saving: other writers may have added columns
    rows = np.array([table.row(int(i)) for i in archs], dtype=np.int64)
    reps = NB201.canonical_indices[archs]
    record = {k: v for k, v in asdict(settings).items() if k != "proxies"}
    provenance = dict(table.provenance.get(PROVENANCE_KEY, {}))
    seconds = list(results.seconds.values())
    cpu = list(results.cpu_seconds.values())
    finished = list(results.values)
    class_done = np.isin(NB201.canonical_indices[table.archs], finished)  # every table cell, for the description
    fraction = float(np.isin(reps, finished).mean())  # of the cells written now; one pass computed every proxy
    coverage = {}
    for pos, name in enumerate(settings.proxies):
        column = f"{COLUMN_PREFIX}{name}"
        previous = provenance.get(name, {})
        keep = column in table.columns and {k: previous.get(k) for k in record} == record
        values = table.column(column).copy() if keep else np.full(len(table.archs), np.nan)
        values[rows] = [results.values[int(r)][pos] if int(r) in results.values else np.nan for r in reps]
        info = PROXY_INFO[name]
        computed = ~np.isnan(values) | class_done
        partial = "" if computed.all() else (f" Computed for {int(computed.sum())} of {len(values)} cells (a "
                                             f"seeded uniform sample of canonical classes); NaN elsewhere.")
        table.set_column(column, values, f"{info.formula}. Paper: {info.paper}. Settings: {settings.describe()}."
                         f"{partial}", unit=info.unit, source="nasbench-suite proxies")
        coverage[name] = fraction
        provenance[name] = {**record, "fraction_of_written_cells_computed": coverage[name],
                            "classes_computed": len(results.values),
                            "seconds_per_class_median": float(np.median(seconds)) if seconds else None,
                            "cpu_seconds_per_class_median": float(np.median(cpu)) if cpu else None}
    table.provenance[PROVENANCE_KEY] = provenance
    output = Path(output or default_output(table_path))
    table.save(output)
    return {"table": str(output), "copy_of": str(table_path) if output != Path(table_path) else None,
            "cells_written": len(archs), "coverage": coverage, "classes_computed": len(results.values)}
