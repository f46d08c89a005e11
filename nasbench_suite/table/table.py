"""The benchmark table: dense per-architecture results in one HDF5 file, and its query API.

Layout (schema 1)::

    /                     attrs: format, schema_version, space, dataset, dataset_sha256, protocol (JSON),
                                 provenance (JSON), software (JSON), hardware (JSON), created, description
    /axes/archs           int32 [A]   official indices of the cells the table holds, sorted
    /axes/seeds           int64 [S]   training seeds (-1: a published mean over seeds)
    /axes/epochs          int32 [E]   epochs at which metrics were recorded, sorted
    /metrics/<name>       float32 [A, S, E], NaN = not measured; attrs: description, unit, source
    /columns/<name>       float64 [A] per-cell static values (params, FLOPs, latency, proxies); same attrs

Nothing else, no links, data inside the file, costs (seconds, latency, energy, size) >= 0: schema.py checks every
file when it is opened. h5py is imported here and in schema.py, nowhere else in the package.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Union

import h5py
import numpy as np

from nasbench_suite import jsonio
from nasbench_suite.atomic import write_atomic
from nasbench_suite.space import ArchLike, get_space
from nasbench_suite.table.schema import (AXES, FORMAT, JSON_ATTRS, SCHEMA_VERSION, SERIES_GROUPS,
                                         TEXT_ATTRS, TableError, check_layout, check_values, distinct,
                                         root_attrs, series_attrs)

SeedChoice = Union[str, int, np.random.Generator]


@dataclass
class Series:
    """One stored array with what it means."""

    values: np.ndarray
    description: str = ""
    unit: str = ""
    source: str = ""

    def attrs(self) -> dict[str, str]:
        return {"description": self.description, "unit": self.unit, "source": self.source}


@dataclass
class Table:
    """A benchmark table held in memory; `open_table` reads one, `save` writes one atomically."""

    space: str
    dataset: str
    archs: np.ndarray
    seeds: np.ndarray
    epochs: np.ndarray
    dataset_sha256: str = ""
    protocol: dict[str, Any] = field(default_factory=dict)
    provenance: dict[str, Any] = field(default_factory=dict)
    software: dict[str, Any] = field(default_factory=dict)
    hardware: dict[str, Any] = field(default_factory=dict)
    description: str = ""
    created: str = ""
    metrics: dict[str, Series] = field(default_factory=dict)
    columns: dict[str, Series] = field(default_factory=dict)
    path: Path | None = None

    def __post_init__(self) -> None:
        self.space_obj = get_space(self.space)
        self.archs = np.asarray(self.archs, dtype=np.int64)
        self.seeds = np.asarray(self.seeds, dtype=np.int64)
        self.epochs = np.asarray(self.epochs, dtype=np.int64)
        for name, axis in (("archs", self.archs), ("seeds", self.seeds), ("epochs", self.epochs)):
            if axis.ndim != 1 or not distinct(axis):
                raise TableError(f"table axis {name} must be a 1-D array of distinct values")
        if not np.all(np.diff(self.archs) > 0):
            order = np.argsort(self.archs)
            self.archs = self.archs[order]
            for series in self.metrics.values():
                series.values = series.values[order]
            for series in self.columns.values():
                series.values = series.values[order]
        if len(self.archs) and not (0 <= self.archs[0] and self.archs[-1] < self.space_obj.size):
            raise TableError(f"table archs must be indices 0..{self.space_obj.size - 1} of space {self.space}")
        self._row = np.full(self.space_obj.size, -1, dtype=np.int64)
        self._row[self.archs] = np.arange(len(self.archs))
        self._seed_pos = {int(s): i for i, s in enumerate(self.seeds)}
        self._epoch_pos = {int(e): i for i, e in enumerate(self.epochs)}
        self._seed_mean_cache: dict[str, np.ndarray] = {}
        self._counted_cache: dict[str, np.ndarray] = {}
        self._by_index: dict[tuple[str, int | None], list[float | None]] = {}
        for name, series in self.metrics.items():
            self._check_shape(f"metric {name}", series.values, (len(self.archs), len(self.seeds), len(self.epochs)))
        for name, series in self.columns.items():
            self._check_shape(f"column {name}", series.values, (len(self.archs),))

    @staticmethod
    def _check_shape(what: str, values: np.ndarray, shape: tuple[int, ...]) -> None:
        if values.shape != shape:
            raise TableError(f"{what} has shape {values.shape}, expected {shape} (archs, seeds, epochs)")

    # ---- building ----------------------------------------------------------------------------------
    def set_metric(self, name: str, values: np.ndarray, description: str = "", unit: str = "",
                   source: str = "") -> None:
        """Store a [arch, seed, epoch] metric (NaN where not measured)."""
        values = np.asarray(values, dtype=np.float32)
        self._check_shape(f"metric {name}", values, (len(self.archs), len(self.seeds), len(self.epochs)))
        self.metrics[name] = Series(values, description, unit, source)
        self._seed_mean_cache.pop(name, None)
        self._counted_cache.pop(name, None)
        self._by_index = {key: v for key, v in self._by_index.items() if key[0] != name}

    def set_column(self, name: str, values: np.ndarray, description: str = "", unit: str = "",
                   source: str = "") -> None:
        """Store a per-cell static column (NaN where unknown)."""
        values = np.asarray(values, dtype=np.float64)
        self._check_shape(f"column {name}", values, (len(self.archs),))
        self.columns[name] = Series(values, description, unit, source)

    # ---- queries -----------------------------------------------------------------------------------
    def row(self, arch: ArchLike) -> int:
        """Row of a cell in this table; TableError if the table does not hold it."""
        index = self.space_obj.to_index(arch)
        row = int(self._row[index])
        if row < 0:
            raise TableError(f"arch {index} is not in this table (it holds {len(self.archs)} of "
                             f"{self.space_obj.size} cells)")
        return row

    def query(self, arch: ArchLike, metric: str = "test_acc", epoch: int | None = None,
              seed: SeedChoice = "mean") -> float:
        """One value; NaN if the table has the cell but that value was not measured.

        seed: "mean" (over measured seeds, the published mean -1 only where none: `seed_values`), a seed label, or
        a numpy Generator that draws one of those.
        epoch: None means the last epoch at which the metric was recorded.
        """
        if seed == "mean":  # fast path: one lookup in a per-(metric, epoch) list by official index
            by_index = self._by_index.get((metric, epoch)) or self._seed_mean_by_index(metric, epoch)
            value = by_index[self.space_obj.to_index(arch)]
            if value is None:
                self.row(arch)  # raises TableError: the table lacks this cell
            return value
        row = self.row(arch)
        epos = self._epoch_index(metric, epoch)
        if isinstance(seed, str):
            return float(self._seed_mean(metric, seed)[row, epos])
        if isinstance(seed, np.random.Generator):
            counted = self._counted(metric)[row, :, epos]
            measured = np.flatnonzero(~np.isnan(counted))
            return float(counted[measured[seed.integers(len(measured))]]) if len(measured) else np.nan
        return float(self.metrics[metric].values[row, self._seed_index(seed), epos])

    def query_many(self, archs: Iterable[ArchLike] | np.ndarray, metric: str = "test_acc",
                   epoch: int | None = None, seed: str | int = "mean") -> np.ndarray:
        """Vectorised query: archs as an integer array of official indices (fast path), an (n, 6) array of op ids
        or any accepted forms."""
        return self._query_rows(self.space_obj.indices_of(archs), metric, epoch, seed)

    def _query_rows(self, indices: np.ndarray, metric: str, epoch: int | None, seed: str | int) -> np.ndarray:
        """query_many for int64 indices already known to be in the space."""
        rows = self._row[indices]
        if (rows < 0).any():
            missing = indices[rows < 0]
            raise TableError(f"{len(missing)} archs are not in this table, e.g. {int(missing[0])} (it holds "
                             f"{len(self.archs)} of {self.space_obj.size} cells)")
        epos = self._epoch_index(metric, epoch)
        if isinstance(seed, str):
            return self._seed_mean(metric, seed)[rows, epos].astype(np.float64)
        return self.metrics[metric].values[rows, self._seed_index(seed), epos].astype(np.float64)

    def column(self, name: str) -> np.ndarray:
        """A per-cell static column, aligned with `archs`."""
        if name not in self.columns:
            raise TableError(f"table has no column {name!r}; columns: {', '.join(self.columns) or 'none'}")
        return self.columns[name].values

    def values(self, metric: str, epoch: int | None = None, seed: str | int = "mean") -> np.ndarray:
        """A metric for every cell of the table, aligned with `archs`."""
        return self._query_rows(self.archs, metric, epoch, seed)

    def best(self, metric: str = "test_acc", epoch: int | None = None, maximize: bool = True) -> tuple[int, float]:
        """(official index, seed-mean value) of the best cell at that epoch."""
        values = self.values(metric, epoch)
        if np.isnan(values).all():
            raise TableError(f"metric {metric!r} has no measured value at epoch {epoch}")
        pos = int(np.nanargmax(values) if maximize else np.nanargmin(values))
        return int(self.archs[pos]), float(values[pos])

    def epochs_of(self, metric: str) -> list[int]:
        """Epochs at which a metric has at least one measured value."""
        self._require(metric)
        measured = ~np.isnan(self.metrics[metric].values).all(axis=(0, 1))
        return [int(e) for e in self.epochs[measured]]

    def coverage(self) -> dict[str, dict[int, dict[int, float]]]:
        """Fraction of cells measured, per metric -> epoch -> seed (only epochs with any data)."""
        out: dict[str, dict[int, dict[int, float]]] = {}
        for name, series in self.metrics.items():
            measured = (~np.isnan(series.values)).mean(axis=0)  # [S, E]
            out[name] = {int(e): {int(s): float(measured[si, ei]) for si, s in enumerate(self.seeds)}
                         for ei, e in enumerate(self.epochs) if measured[:, ei].any()}
        return out

    def to_pandas(self):  # -> pandas.DataFrame
        """One row per cell: arch string, seed-mean metric at every recorded epoch (`metric@epoch`), columns."""
        import pandas as pd

        data: dict[str, Any] = {"arch": [self.space_obj.to_str(int(i)) for i in self.archs]}
        for name in self.metrics:
            for epoch in self.epochs_of(name):
                data[f"{name}@{epoch}"] = self.values(name, epoch)
        for name, series in self.columns.items():
            data[name] = series.values
        return pd.DataFrame(data, index=pd.Index(self.archs, name="index"))

    def _require(self, metric: str) -> None:
        if metric not in self.metrics:
            raise TableError(f"table has no metric {metric!r}; metrics: {', '.join(self.metrics) or 'none'}")

    def seed_values(self, metric: str, epoch: int | None = None) -> np.ndarray:
        """[A, S] the values that stand for each cell at `epoch` (NaN elsewhere): its measured seeds (labels >= 0)
        where it has any, else the published mean (seed -1). "mean" averages them; a Generator draws one."""
        return self._counted(metric)[:, :, self._epoch_index(metric, epoch)]

    def _counted(self, metric: str) -> np.ndarray:
        """[A, S, E] the metric with the published-mean slot blanked where a measured seed exists, cached."""
        if metric not in self._counted_cache:
            self._require(metric)
            values = self.metrics[metric].values
            published = self.seeds < 0
            any_measured = (~np.isnan(values[:, ~published])).any(axis=1, keepdims=True)  # [A, 1, E]
            self._counted_cache[metric] = np.where(published[None, :, None] & any_measured, np.nan, values)
        return self._counted_cache[metric]

    def _seed_mean(self, metric: str, seed: str) -> np.ndarray:
        """[A, E] mean of the values that stand for each cell (`seed_values`), computed once per metric."""
        self._require(metric)
        if seed != "mean":
            raise TableError(f"seed must be 'mean', a seed label or a numpy Generator, got {seed!r}")
        if metric not in self._seed_mean_cache:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN cells stay NaN
                self._seed_mean_cache[metric] = np.nanmean(self._counted(metric), axis=1)
        return self._seed_mean_cache[metric]

    def _seed_mean_by_index(self, metric: str, epoch: int | None) -> list[float | None]:
        """Seed means at one epoch as a list by official index (None where the table lacks the cell), cached."""
        means = self._seed_mean(metric, "mean")[:, self._epoch_index(metric, epoch)]
        by_index = np.full(self.space_obj.size, None, dtype=object)
        by_index[self.archs] = means.astype(np.float64)
        self._by_index[(metric, epoch)] = out = by_index.tolist()
        return out

    def _epoch_index(self, metric: str, epoch: int | None) -> int:
        self._require(metric)
        if epoch is None:
            measured = self.epochs_of(metric)
            if not measured:
                raise TableError(f"metric {metric!r} has no measured value")
            epoch = measured[-1]
        pos = self._epoch_pos.get(int(epoch))
        if pos is None:
            raise TableError(f"table has no epoch {epoch} for {metric!r}; epochs with data: "
                             f"{', '.join(map(str, self.epochs_of(metric)))}")
        return pos

    def _seed_index(self, seed: int) -> int:
        pos = self._seed_pos.get(int(seed))
        if pos is None:
            raise TableError(f"table has no seed {seed}; seeds: {', '.join(map(str, self.seeds))} or 'mean'")
        return pos

    # ---- combining ---------------------------------------------------------------------------------
    def identity(self) -> dict[str, Any]:
        """What two tables must share to be merged."""
        return {"space": self.space, "dataset": self.dataset, "dataset_sha256": self.dataset_sha256,
                "protocol": self.protocol}

    def merged(self, other: "Table") -> "Table":
        """A new table holding the union of both; refuses other identities or conflicting values."""
        for key, value in self.identity().items():
            if other.identity()[key] != value:
                raise TableError(f"cannot merge tables with different {key}: {value!r} vs {other.identity()[key]!r}")
        archs = np.union1d(self.archs, other.archs)
        seeds = np.union1d(self.seeds, other.seeds)
        epochs = np.union1d(self.epochs, other.epochs)
        out = Table(space=self.space, dataset=self.dataset, dataset_sha256=self.dataset_sha256,
                    archs=archs, seeds=seeds, epochs=epochs, protocol=self.protocol,
                    provenance=_merge_dicts(self.provenance, other.provenance),
                    software=_merge_dicts(self.software, other.software),
                    hardware=_merge_dicts(self.hardware, other.hardware),
                    description=self.description or other.description)
        for kind in ("metrics", "columns"):
            names = list(getattr(self, kind)) + [n for n in getattr(other, kind) if n not in getattr(self, kind)]
            for name in names:
                shape = (len(archs), len(seeds), len(epochs)) if kind == "metrics" else (len(archs),)
                merged = np.full(shape, np.nan)
                meta = None
                for table in (self, other):
                    series = getattr(table, kind).get(name)
                    if series is None:
                        continue
                    meta = meta or series
                    index = _positions(table, archs, seeds, epochs, kind)
                    _place(merged, index, series.values, f"{kind[:-1]} {name}")
                setter = out.set_metric if kind == "metrics" else out.set_column
                setter(name, merged, meta.description, meta.unit, meta.source)
        return out

    # ---- persistence -------------------------------------------------------------------------------
    def content_sha256(self) -> str:
        """sha256 of everything that can change an answer: space, dataset, protocol, axes, and each metric and
        column (name, unit, values), in a canonical order and byte form. Not the file's layout, compression,
        `created`, path, descriptions or provenance: two files with the same answers hash the same."""
        digest = hashlib.sha256()
        header = {"format": FORMAT, "schema_version": SCHEMA_VERSION, "space": self.space, "dataset": self.dataset,
                  "dataset_sha256": self.dataset_sha256, "protocol": self.protocol,
                  "axes": {name: len(getattr(self, name)) for name in AXES},
                  **{group: {name: s.unit for name, s in sorted(getattr(self, group).items())}
                     for group in SERIES_GROUPS}}
        digest.update(json.dumps(header, sort_keys=True).encode())
        for name in AXES:
            digest.update(getattr(self, name).astype("<i8").tobytes())
        for group, dtype in zip(SERIES_GROUPS, ("<f4", "<f8")):
            for _, series in sorted(getattr(self, group).items()):
                values = series.values.astype(dtype)
                digest.update(np.where(np.isnan(values), np.nan, values).astype(dtype).tobytes())  # one NaN
        return digest.hexdigest()

    def save(self, path: str | os.PathLike) -> Path:
        """Write atomically: the HDF5 image is built in memory (a write error inside HDF5 can crash it), then
        written to a temporary file renamed over `path`; TableError naming `path` if the disk refuses it."""
        path = Path(path)
        created = self.created or datetime.now(timezone.utc).isoformat(timespec="seconds")
        image = io.BytesIO()
        with h5py.File(image, "w") as f:
            f.attrs["format"] = FORMAT
            f.attrs["schema_version"] = SCHEMA_VERSION
            for key in TEXT_ATTRS:
                f.attrs[key] = created if key == "created" else getattr(self, key)
            for key in JSON_ATTRS:
                f.attrs[key] = jsonio.dumps(getattr(self, key), sort_keys=True)
            f.create_dataset("axes/archs", data=self.archs.astype(np.int32))
            f.create_dataset("axes/seeds", data=self.seeds)
            f.create_dataset("axes/epochs", data=self.epochs.astype(np.int32))
            for group, items in (("metrics", self.metrics), ("columns", self.columns)):
                f.create_group(group)
                for name, series in items.items():
                    ds = f.create_dataset(f"{group}/{name}", data=series.values, compression="gzip",
                                          compression_opts=4, shuffle=True)
                    ds.attrs.update(series.attrs())
        try:
            write_atomic(path, lambda fh: fh.write(image.getbuffer()))
        except OSError as exc:
            raise TableError(f"cannot write {path}: {exc.strerror or exc}; choose another --out") from None
        self.created, self.path = created, path
        return path

    @classmethod
    def load(cls, path: str | os.PathLike) -> "Table":
        """Read and validate a table file (schema.py: structure first, data after); one clear TableError for
        anything that is not one."""
        path = Path(path)
        if not path.is_file():
            raise TableError(f"table file not found: {path}")
        try:
            with h5py.File(path, "r") as f:
                attrs = root_attrs(f, path)
                datasets = check_layout(f, path)
                axes = {name: ds[()] for name, ds in datasets["axes"].items()}
                groups = {group: {name: Series(ds[()], **series_attrs(ds, path, f"/{group}/{name}"))
                                  for name, ds in datasets[group].items()}
                          for group in SERIES_GROUPS}
        except TableError:
            raise
        except (OSError, KeyError, ValueError, TypeError) as exc:
            raise TableError(f"{path} is not a readable {FORMAT} file (not HDF5, truncated or missing "
                             f"parts): {exc}") from None
        check_values(path, axes, groups, get_space(attrs["space"]).size)
        table = cls(archs=axes["archs"], seeds=axes["seeds"], epochs=axes["epochs"],
                    metrics=groups["metrics"], columns=groups["columns"], **attrs)
        table.path = path
        return table


def _merge_dicts(a: Mapping[str, Any], b: Mapping[str, Any]) -> dict[str, Any]:
    """`b` updated with `a`, nested dicts merged the same way (both tables' provenance sources are kept)."""
    out = dict(b)
    for key, value in a.items():
        both = isinstance(value, Mapping) and isinstance(out.get(key), Mapping)
        out[key] = _merge_dicts(value, out[key]) if both else value
    return out


def _positions(table: Table, archs: np.ndarray, seeds: np.ndarray, epochs: np.ndarray, kind: str):
    rows = np.searchsorted(archs, table.archs)
    if kind == "columns":
        return (rows,)
    return np.ix_(rows, np.searchsorted(seeds, table.seeds), np.searchsorted(epochs, table.epochs))


def _place(target: np.ndarray, index: Sequence[np.ndarray], values: np.ndarray, what: str) -> None:
    """Copy measured values into target, refusing a measured value that differs from one already there."""
    current = target[index]
    both = ~np.isnan(current) & ~np.isnan(values)
    clash = both & ~np.isclose(current, values, rtol=1e-6, atol=0, equal_nan=True)
    if clash.any():
        raise TableError(f"cannot merge: {what} has {int(clash.sum())} conflicting values, e.g. "
                         f"{float(current[clash][0])} vs {float(values[clash][0])}")
    target[index] = np.where(np.isnan(values), current, values)
