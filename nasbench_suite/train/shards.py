"""Shard files of a training run: one HDF5 table per worker, rewritten atomically after every finished group.

A cell+seed is finished when its `diverged` flag (0 or 1) is set at the last epoch; restarting a run reads every
shard in the output folder and skips those. `merge_shards` joins shards into one table and refuses shards of
another protocol or dataset (Table.merged).
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import warnings
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from nasbench_suite.table import Table
from nasbench_suite.table.table import TableError
from nasbench_suite.errors import UserInputError
from nasbench_suite.train.protocols import Protocol
from nasbench_suite.versions import cpu_model, package_versions

METRIC_INFO = {
    "train_loss": ("mean training cross-entropy over the epoch's steps", "nats"),
    "train_acc": ("training accuracy over the epoch (augmented images, train mode)", "%"),
    "valid_loss": ("cross-entropy on the validation split after the epoch", "nats"),
    "valid_acc": ("accuracy on the validation split after the epoch", "%"),
    "test_loss": ("cross-entropy on the test set after the epoch", "nats"),
    "test_acc": ("accuracy on the test set after the epoch", "%"),
    "train_seconds": ("seconds of training in the epoch (stacked runs: group time / cells)", "s"),
    "eval_seconds": ("seconds of validation+test evaluation after the epoch (stacked: per cell)", "s"),
    "cpu_seconds": ("CPU seconds (all threads) of the epoch's training and evaluation (stacked: per cell)", "s"),
    "diverged": ("1 if the run hit a non-finite loss (its later records are NaN), 0 if not; set at the last "
                 "epoch when the run finished", ""),
}


def software_info() -> dict[str, str]:
    return package_versions(("nasbench-suite", "numpy", "torch"))


def hardware_info(device: str) -> dict[str, str]:
    """CPU model, and GPU name, CUDA and driver version when training on CUDA."""
    import torch

    info = {"cpu": cpu_model(), "cpu_count": str(os.cpu_count()), "device": device}
    if device.startswith("cuda") and torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name()
        info["cuda"] = str(torch.version.cuda)
        try:
            out = subprocess.run(["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"],
                                 capture_output=True, text=True, timeout=10, check=False)
            info["driver"] = out.stdout.strip().splitlines()[0] if out.stdout.strip() else "unknown"
        except (OSError, subprocess.SubprocessError):
            info["driver"] = "unknown"
    return info


def _cost_columns(arch_list: Sequence[int], protocol: Protocol) -> dict[str, np.ndarray]:
    from nasbench_suite.model.cost import network_cost

    costs = [network_cost(a, protocol.channels, protocol.cells_per_stage) for a in arch_list]
    return {"params_m": np.array([c[0] for c in costs]) / 1e6, "flops_m": np.array([c[1] for c in costs]) / 1e6}


class ShardWriter:
    """Collects finished cells of one worker and rewrites its shard table atomically after each batch of them."""

    def __init__(self, path: str | os.PathLike, protocol: Protocol, dataset: str, dataset_sha256: str,
                 seeds: Sequence[int], device: str, provenance: dict[str, Any]) -> None:
        self.path = Path(path)
        self.protocol, self.dataset, self.sha = protocol, dataset, dataset_sha256
        self.seeds = sorted(int(s) for s in seeds)
        self.device, self.provenance = device, provenance
        self.results: dict[tuple[int, int], Any] = {}
        self.previous: Table | None = None
        if self.path.is_file():
            previous = Table.load(self.path)
            check_identity(previous, protocol, dataset, dataset_sha256, self.path)
            self.previous = previous

    def add(self, results: Iterable[Any]) -> None:
        """Record finished CellResults and rewrite the shard."""
        for r in results:
            self.results[(r.arch, r.seed)] = r
        self.save()

    def save(self) -> Path:
        table = results_table(self.results.values(), self.protocol, self.dataset, self.sha, self.seeds,
                              self.device, self.provenance)
        if self.previous is not None:
            table = self.previous.merged(table)
        return table.save(self.path)


def results_table(results: Iterable[Any], protocol: Protocol, dataset: str, dataset_sha256: str,
                  seeds: Sequence[int], device: str, provenance: dict[str, Any]) -> Table:
    """A table of CellResults: per-epoch metrics, the diverged flag and the per-cell cost columns."""
    results = list(results)
    archs = np.array(sorted({r.arch for r in results}), dtype=np.int64)
    seeds = np.array(sorted(set(seeds) | {r.seed for r in results}), dtype=np.int64)
    epochs = np.arange(1, protocol.epochs + 1)
    shape = (len(archs), len(seeds), len(epochs))
    values = {m: np.full(shape, np.nan) for m in METRIC_INFO}
    row = {int(a): i for i, a in enumerate(archs)}
    col = {int(s): i for i, s in enumerate(seeds)}
    for r in results:
        i, j = row[r.arch], col[r.seed]
        for name, series in r.records.items():
            values[name][i, j] = series
        values["diverged"][i, j, -1] = float(r.diverged)
    table = Table(space="nb201", dataset=dataset, dataset_sha256=dataset_sha256, archs=archs, seeds=seeds,
                  epochs=epochs, protocol=protocol.to_json(), provenance=provenance, software=software_info(),
                  hardware=hardware_info(device),
                  description=f"NB201 cells trained with protocol {protocol.name} on {dataset}")
    source = f"nasbench-suite train --protocol {protocol.name}"
    for name, (description, unit) in METRIC_INFO.items():
        table.set_metric(name, values[name], description, unit, source)
    set_timing_columns(table, source)
    for name, column in _cost_columns(archs, protocol).items():
        unit = "M" if name == "params_m" else "MFLOPs"
        table.set_column(name, column, f"{name[:-2]} of the trained network (C={protocol.channels}, "
                         f"N={protocol.cells_per_stage}); FLOPs of one 32x32 image forward, torch flop_counter",
                         unit, "nasbench_suite.model.cost")
    return table


TIMING_COLUMNS = ("train_seconds_per_epoch", "eval_seconds")  # per-cell means of the timing metrics


def set_timing_columns(table: Table, source: str) -> None:
    """The per-cell cost columns from the table's own timing metrics: means over its seeds and epochs."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # cells without timings stay NaN
        per_epoch = np.nanmean(table.metrics["train_seconds"].values, axis=(1, 2))
        eval_seconds = np.nanmean(table.metrics["eval_seconds"].values, axis=(1, 2))
    table.set_column(TIMING_COLUMNS[0], per_epoch, "mean training seconds per epoch over seeds/epochs", "s", source)
    table.set_column(TIMING_COLUMNS[1], eval_seconds, "mean seconds of one validation+test evaluation", "s", source)


def check_identity(table: Table, protocol: Protocol, dataset: str, dataset_sha256: str, path: Path) -> None:
    """Refuse to extend a shard made with another protocol or dataset."""
    if Protocol.from_json(table.protocol) != protocol:  # fields added later take their defaults
        raise TableError(f"{path} was trained with protocol {table.protocol.get('name')!r} "
                         f"({table.protocol}), not {protocol.name!r}; use another --out folder")
    if (table.dataset, table.dataset_sha256) != (dataset, dataset_sha256):
        raise TableError(f"{path} holds dataset {table.dataset} ({table.dataset_sha256[:12]}), not {dataset} "
                         f"({dataset_sha256[:12]}); use another --out folder")


def adopt_shard(path: str | os.PathLike, protocol: Protocol, folder: str | os.PathLike) -> Path:
    """Copy a shard into `folder` relabelled as `protocol`, which must equal its protocol but for name and
    description (a pilot candidate that became a named protocol): its finished cells then count for `protocol`.

    The copy is `adopted-<folder>-<name>`, made once (an existing copy is kept); provenance records the shard and
    the protocol name it was trained under.
    """
    path = Path(path)
    target = Path(folder) / f"adopted-{path.resolve().parent.name}-{path.name}"
    if target.exists():
        return target
    table = Table.load(path)
    theirs = Protocol.from_json(table.protocol)
    if dataclasses.replace(theirs, name=protocol.name, description=protocol.description) != protocol:
        raise UserInputError(f"{path} was trained with protocol {theirs.name!r}, which differs from "
                             f"{protocol.name!r} in more than its name and description; expected the same settings")
    table.protocol = protocol.to_json()
    table.provenance = {**table.provenance, "adopted_from": f"{path} (trained as protocol {theirs.name!r})"}
    table.description = f"NB201 cells trained with protocol {protocol.name} on {table.dataset}"
    target.parent.mkdir(parents=True, exist_ok=True)
    return table.save(target)


def shard_files(folder: str | os.PathLike) -> list[Path]:
    """The *.h5 shards in `folder`, not the hidden temporary file of a writer killed mid-rewrite (atomic_path)."""
    return sorted(p for p in Path(folder).glob("*.h5") if not p.name.startswith("."))


def finished_runs(folder: str | os.PathLike, protocol: Protocol, dataset: str, dataset_sha256: str
                  ) -> set[tuple[int, int]]:
    """(arch, seed) pairs already finished in any shard of `folder`."""
    done: set[tuple[int, int]] = set()
    for path in shard_files(folder):
        table = Table.load(path)
        check_identity(table, protocol, dataset, dataset_sha256, path)
        if "diverged" not in table.metrics:
            continue
        flags = table.metrics["diverged"].values[:, :, -1]
        for i, j in zip(*np.nonzero(~np.isnan(flags))):
            done.add((int(table.archs[i]), int(table.seeds[j])))
    return done


def merge_shards(paths: Sequence[str | os.PathLike]) -> Table:
    """One table from shard files (or folders of them); refuses mismatched protocol or dataset."""
    files: list[Path] = []
    for p in map(Path, paths):
        files += shard_files(p) if p.is_dir() else [p]
    if not files:
        raise TableError(f"no shard files (*.h5) in {', '.join(map(str, paths))}")
    tables = [Table.load(f) for f in files]
    sources = {}
    for table in tables:  # one spelling of each protocol, so shards from before a new field still merge
        table.protocol = _canonical(table.protocol)
        for name in TIMING_COLUMNS:  # means over a shard's seeds: recomputed over all of them below
            sources[name] = table.columns.pop(name).source if name in table.columns else ""
    merged = tables[0]
    for table in tables[1:]:
        merged = merged.merged(table)
    if "train_seconds" in merged.metrics and "eval_seconds" in merged.metrics:
        set_timing_columns(merged, sources.get(TIMING_COLUMNS[0], ""))
    merged.provenance = {**merged.provenance, "merged_from": [f.name for f in files],
                         "command": sorted({c for t in tables for c in _commands(t.provenance)}),
                         "merge_command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]])}
    return merged


def _commands(provenance: dict) -> list[str]:
    """The training command(s) a table came from: one for a shard, a list for a merged table."""
    command = provenance.get("command", "")
    return [str(c) for c in command] if isinstance(command, list) else [str(command)]


def _canonical(protocol: dict) -> dict:
    """A training protocol with every field spelled out (fields added later take their defaults); any other
    protocol (e.g. an imported table's description) as it is."""
    try:
        return Protocol.from_json(protocol).to_json()
    except UserInputError:
        return protocol
