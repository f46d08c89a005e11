"""What a table file may hold, checked once when it is opened: one TableError naming the file, the object inside it
and the rule broken.

A table is plain data of its own: every object is a group or dataset of the layout below (see table.py), reached by
exactly one hard link, stored inside the file (no external, soft or virtual storage), of the documented dtype and of
the shape its axes give. Shapes and dtypes are read from the file's metadata before any data is read, so a file
that declares a huge dataset costs nothing to refuse.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from nasbench_suite.errors import UserInputError
from nasbench_suite.space import get_space

FORMAT = "nasbench-suite-table"
SCHEMA_VERSION = 1
MEAN_SEED = -1
JSON_ATTRS = ("protocol", "provenance", "software", "hardware")
TEXT_ATTRS = ("space", "dataset", "dataset_sha256", "created", "description")
SERIES_ATTRS = ("description", "unit", "source")
AXES = ("archs", "seeds", "epochs")
SERIES_GROUPS = ("metrics", "columns")
MAX_VALUES = 2**28  # values a table may declare in all (1 GiB as float32); a full NB201 at 200 epochs holds ~1e8
MAX_AXIS = 10**6  # entries of one axis (archs: at most the space size anyway)
# A cost (time, latency, energy, size) is never negative: a series is one if its unit or its name says so.
COST_UNITS = frozenset({"s", "ms", "us", "mJ", "J", "M", "millions", "MFLOPs", "GFLOPs"})
COST_NAME = re.compile(r"seconds|latency|energy|params|flops|_ms$|_mj$")
LINKS = {h5py.h5l.TYPE_SOFT: "a soft link", h5py.h5l.TYPE_EXTERNAL: "an external link"}  # what a table refuses


class TableError(UserInputError):
    """A table file or request that cannot be served."""


def refuse(path: Path, where: str, rule: str) -> TableError:
    """The one-line error: file, object inside it, rule broken."""
    return TableError(f"{path}: {where} {rule}")


def _shown(value: Any) -> str:
    """An attribute value as Python would write it (5, [1, 1], 'x'), whatever numpy type h5py gave."""
    return f"{type(value).__name__} {np.asarray(value).tolist()!r}"


def is_cost(name: str, unit: str) -> bool:
    """Whether a metric or column measures a cost, which must be >= 0 where measured."""
    return unit in COST_UNITS or COST_NAME.search(name) is not None


def root_attrs(f: h5py.File, path: Path) -> dict[str, Any]:
    """The checked root attributes as Table fields (text as str, JSON ones as dicts); missing ones are empty."""
    fmt = f.attrs.get("format")
    if not isinstance(fmt, str) or fmt != FORMAT:
        raise TableError(f"{path} is an HDF5 file but not a {FORMAT} (no format attribute)")
    version = f.attrs.get("schema_version", -1)
    if not isinstance(version, (int, np.integer)) or isinstance(version, (bool, np.bool_)):
        raise refuse(path, "attribute schema_version", f"is {_shown(version)}; expected the integer "
                                                           f"{SCHEMA_VERSION}")
    if version != SCHEMA_VERSION:
        raise TableError(f"{path} has table schema {version}; this version reads schema {SCHEMA_VERSION}")
    attrs: dict[str, Any] = {}
    for key in TEXT_ATTRS + JSON_ATTRS:
        value = f.attrs.get(key, "{}" if key in JSON_ATTRS else "")
        if not isinstance(value, str):
            raise refuse(path, f"attribute {key}", f"is {_shown(value)}; expected a string")
        attrs[key] = value
    for key in JSON_ATTRS:
        try:  # lenient on read: tables written before jsonio may hold NaN
            attrs[key] = json.loads(attrs[key])
        except (ValueError, RecursionError):
            attrs[key] = None
        if not isinstance(attrs[key], dict):
            raise refuse(path, f"attribute {key}", "is not a JSON object; expected a JSON object as a string")
    try:
        get_space(attrs["space"])
    except UserInputError as exc:
        raise refuse(path, "attribute space", str(exc)) from None
    return attrs


def check_layout(f: h5py.File, path: Path) -> dict[str, dict[str, h5py.Dataset]]:
    """The datasets of /axes, /metrics and /columns, by group and name; refuses links, foreign storage, wrong
    kinds, dtypes and shapes, reading metadata only."""
    groups = _members(f, path, "", {"axes", *SERIES_GROUPS}, h5py.Group, required=True)
    out = {"axes": _members(groups["axes"], path, "/axes", set(AXES), h5py.Dataset, required=True)}
    lengths = []
    for name in AXES:
        ds = out["axes"][name]
        _check_dataset(ds, path, f"/axes/{name}", "iu", "integer")
        if ds.ndim != 1 or ds.size > MAX_AXIS:
            raise refuse(path, f"/axes/{name}", f"has shape {ds.shape}; expected one dimension of at most "
                                                f"{MAX_AXIS:,} values")
        lengths.append(ds.size)
    total = 0
    for group, shape in zip(SERIES_GROUPS, (tuple(lengths), tuple(lengths[:1]))):
        out[group] = _members(groups[group], path, f"/{group}", None, h5py.Dataset)
        for name, ds in out[group].items():
            where = f"/{group}/{name}"
            _check_dataset(ds, path, where, "f", "floating point")
            if ds.shape != shape:
                raise refuse(path, where, f"has shape {ds.shape}; expected {shape} from the axes "
                                          f"({'archs, seeds, epochs' if group == 'metrics' else 'archs'})")
            total += ds.size
    if total > MAX_VALUES:
        raise refuse(path, "/metrics and /columns", f"declare {total:,} values; a table holds at most "
                                                   f"{MAX_VALUES:,}")
    return out


def series_attrs(ds: h5py.Dataset, path: Path, where: str) -> dict[str, str]:
    """A metric's or column's description, unit and source (empty if missing); each must be a string."""
    attrs = {key: ds.attrs.get(key, "") for key in SERIES_ATTRS}
    for key, value in attrs.items():
        if not isinstance(value, str):
            raise refuse(path, f"{where} attribute {key}", f"is {_shown(value)}; expected a string")
    return attrs


def check_values(path: Path, axes: dict[str, np.ndarray], series: dict[str, dict[str, Any]], space_size: int
                 ) -> None:
    """Refuse axes out of their rules and infinite or negative-cost values (NaN means not measured)."""
    archs, seeds, epochs = (axes[name] for name in AXES)
    if len(archs) and (archs.min() < 0 or archs.max() >= space_size or not distinct(archs)):
        raise refuse(path, "/axes/archs", f"must hold distinct cell indices 0..{space_size - 1}")
    if len(seeds) and (seeds.min() < MEAN_SEED or not distinct(seeds)):
        raise refuse(path, "/axes/seeds", f"must hold distinct seeds >= 0 ({MEAN_SEED}: a published mean)")
    if len(epochs) and (epochs[0] < 1 or (np.diff(epochs) <= 0).any()):
        raise refuse(path, "/axes/epochs", f"must be positive and increasing, got {epochs.tolist()[:10]}")
    for group, items in series.items():
        for name, s in items.items():
            values = s.values
            if np.isinf(values).any():
                raise refuse(path, f"/{group}/{name}", "holds an infinite value; expected finite values "
                                                        "(NaN: not measured)")
            if is_cost(name, s.unit) and (values < 0).any():
                raise refuse(path, f"/{group}/{name}", f"is a cost (unit {s.unit!r}) with a negative value "
                                                        f"{float(values[values < 0][0])}; expected >= 0 "
                                                        "(NaN: not measured)")


def distinct(axis: np.ndarray) -> bool:
    """No value twice (a sort, cheaper than np.unique on an axis that is usually sorted already)."""
    return bool((np.diff(np.sort(axis)) != 0).all())


def _members(group: h5py.Group, path: Path, where: str, names: set[str] | None, kind: type,
             required: bool = False) -> dict[str, Any]:
    """A group's members, each a `kind` reached by its one hard link; `names`: the only names allowed."""
    if names is not None:
        unexpected = sorted(set(group) - names)
        if unexpected:
            raise refuse(path, f"{where}/{unexpected[0]}", f"is not part of a table; expected only "
                                                            f"{', '.join(sorted(names))} in {where or '/'}")
        missing = sorted(names - set(group)) if required else []
        if missing:
            raise refuse(path, f"{where}/{missing[0]}", "is missing")
    out = {}
    for name in group:
        member = f"{where}/{name}"
        link = group.id.links.get_info(name.encode()).type
        if link != h5py.h5l.TYPE_HARD:
            raise refuse(path, member, f"is {LINKS.get(link, 'a user-defined link')}; a table holds its own data "
                                       "(no links)")
        obj = group[name]
        if not isinstance(obj, kind):
            raise refuse(path, member, f"is a {type(obj).__name__.lower()} where a {kind.__name__.lower()} belongs")
        if h5py.h5o.get_info(obj.id).rc != 1:
            raise refuse(path, member, "is reachable under more than one name (hard links); expected one")
        out[name] = obj
    return out


def _check_dataset(ds: h5py.Dataset, path: Path, where: str, kinds: str, expected: str) -> None:
    """Data stored inside the file, of one of the numpy dtype `kinds`."""
    if ds.is_virtual:
        raise refuse(path, where, "is a virtual dataset (data from other files); expected data in the file")
    if ds.external:
        raise refuse(path, where, f"uses external storage ({ds.external[0][0]!r}); expected data in the file")
    if ds.dtype.kind not in kinds:
        raise refuse(path, where, f"has dtype {ds.dtype}; expected {expected} values")
