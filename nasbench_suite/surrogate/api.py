"""`Surrogate`: fit a regressor on some cells of a table, predict (with uncertainty) and sample the others.

    s = Surrogate(model="xgb", target="valid_acc@200").fit(table, train_indices)
    mean, std = s.predict(all_indices)
    noisy = s.sample(all_indices, np.random.default_rng(0))   # like a fresh training run
    s.save("nb201-cifar10.surrogate"); s = load("nb201-cifar10.surrogate", table=table)

A surrogate reads target values of the cells it is given and nothing else. Cheap per-cell columns used as
features (params, latency, proxies) are kept for every cell, so a saved surrogate predicts without the table.

A surrogate file is one zip holding no pickle, since users share these files and reading a pickle runs code:
a format entry, `meta.json` (settings, training cells, table checksum, versions) and `arrays.npz`, read with
`allow_pickle=False` (training targets, feature columns, and the model's weights as plain arrays; see models.py).
Version-1 files (pickles) are refused unread. Sizes are checked before anything is decompressed: meta.json at most
MAX_META_BYTES, arrays.npz at most MAX_ARRAYS_BYTES uncompressed, and every array's declared shape within the bytes
its member declares, so a zip bomb (a few MB declaring GBs) is refused at once.
"""

from __future__ import annotations

import hashlib
import io
import math
import os
import warnings
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from nasbench_suite import jsonio
from nasbench_suite.atomic import write_atomic
from nasbench_suite.errors import UserInputError
from nasbench_suite.versions import package_versions
from nasbench_suite.space import NB201, ArchLike, get_space
from nasbench_suite.surrogate.features import DEFAULT_FEATURES, check_features, feature_matrix
from nasbench_suite.surrogate.models import make_model
from nasbench_suite.table import MEAN_SEED, Table, TableError, open_table

FORMAT_ENTRY = "nasbench-suite-surrogate"  # the zip's first entry; its content is the format version
VERSION = b"2"
PICKLE_MAGIC = b"nasbench-suite-surrogate 1\n"  # how version-1 files (a pickle after a JSON line) begin
_FIRST_NAME_AT = 30  # a zip begins with a local file header whose file name starts at this byte
_STATE = ("y_mean_", "y_std_", "noise_sd_", "train_targets_")  # arrays saved as they are
REBUILD = "rebuild it with `nasbench-suite surrogate build TABLE --train-size N`"
SUFFIX = ".surrogate"
MAX_META_BYTES = 16 << 20  # meta.json listing every cell of the space as a training cell takes about 100 kB
MAX_ARRAYS_BYTES = 1 << 30  # 30x the arrays of the largest surrogate the suite builds (xgb, 5 x 400 trees: 33 MB)
_MEMBER_CAPS = {FORMAT_ENTRY: 64, "meta.json": MAX_META_BYTES, "arrays.npz": MAX_ARRAYS_BYTES}
DEFAULT_TARGET = "valid_acc@200"


class SurrogateFileError(UserInputError):
    """A surrogate file that cannot be read, or that belongs to another table or space."""


@dataclass(frozen=True)
class Target:
    """One predicted quantity: a metric at an epoch (`valid_acc@200`) or a per-cell column."""

    name: str
    epoch: int | None = None

    @property
    def label(self) -> str:
        return self.name if self.epoch is None else f"{self.name}@{self.epoch}"

    @classmethod
    def from_label(cls, label: str) -> "Target":
        name, sep, epoch = label.partition("@")
        return cls(name, int(epoch) if sep else None)


def parse_targets(table: Table, target: str | Sequence[str]) -> list[Target]:
    """Targets from labels: `metric@epoch`, `metric` (its whole learning curve) or a column name.

    A bare name that is both a column and a metric (trained tables record `eval_seconds` per epoch and as a per-cell
    column) is the column, which is what pricing a query needs; list `name@EPOCH` labels for the curve.
    """
    labels = [t.strip() for t in (target.split(",") if isinstance(target, str) else target) if t.strip()]
    if not labels:
        raise UserInputError("a surrogate needs a non-empty target, e.g. valid_acc@200")
    out: list[Target] = []
    for label in labels:
        name, sep, epoch = label.partition("@")
        if name in table.columns and not sep:
            out.append(Target(name))
        elif name in table.metrics:
            epochs = table.epochs_of(name)
            if sep and (not epoch.isdigit() or int(epoch) not in epochs):
                raise UserInputError(f"target {label!r}: the table has {name} at epochs "
                                     f"{', '.join(map(str, epochs))}; write it as {name}@EPOCH")
            out += [Target(name, int(epoch))] if sep else [Target(name, e) for e in epochs]
        else:
            raise UserInputError(f"target {label!r} is not in the table; metrics: {', '.join(table.metrics)} "
                                 f"(as metric@epoch); columns: {', '.join(table.columns) or 'none'}")
    if len({t.label for t in out}) != len(out):
        raise UserInputError(f"targets {labels} name a quantity twice")
    return out


def table_checksum(table: Table) -> str:
    """sha256 over the table's axes, metrics and columns (what a surrogate could have learned from)."""
    digest = hashlib.sha256()
    for name, values in [("archs", table.archs), ("seeds", table.seeds), ("epochs", table.epochs)] + \
            [(f"metric/{k}", table.metrics[k].values) for k in sorted(table.metrics)] + \
            [(f"column/{k}", table.columns[k].values) for k in sorted(table.columns)]:
        digest.update(name.encode())
        digest.update(np.ascontiguousarray(values).tobytes())
    return digest.hexdigest()


def software_versions() -> dict[str, str]:
    """Versions of the packages a saved surrogate depends on."""
    versions = package_versions(("nasbench-suite", "numpy", "scikit-learn", "xgboost", "torch"))
    return {k: v for k, v in versions.items() if v != "not installed"}


class Surrogate:
    """A fitted regressor over the cells of one space, scikit-learn style (`fit` returns self).

    model: one of MODELS ("xgb" default, "rf", "gp", "mlp", "gin"); params: that model's settings.
    features: encodings and/or table columns (see features.py); target: a label or list of labels
    (`valid_acc@200`; `valid_acc` for the whole learning curve; a column name such as `train_seconds_per_epoch`).
    feature_table: the table (name or path) whose columns supply column features, for every cell of the space;
    default the fitted table itself. A table trained on a sample holds its columns for its own cells only, so a
    surrogate that must predict elsewhere takes per-cell features (proxies, params) from a full-space table.
    """

    def __init__(self, model: str = "xgb", features: Sequence[str] = DEFAULT_FEATURES,
                 target: str | Sequence[str] = DEFAULT_TARGET, seed: int = 0,
                 params: dict[str, Any] | None = None, feature_table: str | None = None) -> None:
        self.model, self.features, self.target, self.seed = model, features, target, int(seed)
        self.params = dict(params or {})
        self.feature_table = feature_table
        make_model(model, seed, **self.params)  # unknown model or settings: fail now, not after loading data

    # ---- fitting -----------------------------------------------------------------------------------
    def fit(self, table: Table, archs: np.ndarray | Sequence[ArchLike]) -> "Surrogate":
        """Fit on the given cells of `table`, reading their targets only."""
        space = table.space_obj
        indices = space.indices_of(archs)
        if len(np.unique(indices)) != len(indices):
            raise UserInputError("training cells must be distinct")
        self.targets_ = parse_targets(table, self.target)
        source = table if self.feature_table is None else open_table(self.feature_table)
        if source.space != table.space:
            raise UserInputError(f"feature table {self.feature_table} is of space {source.space!r}, the fitted "
                                 f"table of {table.space!r}; expected a table of the same space")
        if self.model == "gin" and space is not NB201:
            raise UserInputError(f"model 'gin' reads NB201 cells as graphs; table {table.dataset} is of space "
                                 f"{space.name}: expected xgb, rf, gp or mlp")
        self.features_ = check_features(self.features, [c for c in source.columns
                                                        if c not in {t.name for t in self.targets_}], space)
        self.columns_ = {name: _full_column(source, name) for name in self.features_ if name in source.columns}
        Y = np.stack([self._target_values(table, t, indices) for t in self.targets_], axis=1)
        keep = ~np.isnan(Y).any(axis=1)
        estimator = make_model(self.model, self.seed, **self.params)
        if keep.sum() < estimator.min_cells:
            raise UserInputError(f"model {self.model!r} needs at least {estimator.min_cells} training cells with "
                                 f"measured {', '.join(t.label for t in self.targets_)}; got {int(keep.sum())}")
        indices, Y = indices[keep], Y[keep]
        self.__dict__.pop("x_fill_", None)  # refitting: minimums of the new training cells
        self.y_mean_, self.y_std_ = Y.mean(axis=0), Y.std(axis=0) + 1e-12
        self.noise_sd_, self.noise_source_ = self._seed_noise(table, indices)
        self.space_name_ = table.space
        self.train_indices_, self.train_targets_ = indices, Y
        self.table_checksum_ = table_checksum(table)
        self.table_name_ = Path(table.path).stem if table.path else ""
        self.estimator_ = estimator.fit(*self._training_data())
        self.created_ = datetime.now(timezone.utc).isoformat(timespec="seconds")
        return self

    def _training_data(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """What the estimator is fitted on: features, standardised targets and ops of the training cells."""
        indices = self.train_indices_
        return (self._X(indices), (self.train_targets_ - self.y_mean_) / self.y_std_,
                get_space(self.space_name_).ops_of(indices))

    @staticmethod
    def _target_values(table: Table, target: Target, indices: np.ndarray) -> np.ndarray:
        if target.epoch is None:
            return _full_column(table, target.name)[indices]
        return table.query_many(indices, target.name, target.epoch)

    def _seed_noise(self, table: Table, indices: np.ndarray) -> tuple[np.ndarray, list[str]]:
        """Per target: pooled seed-to-seed sd over training cells with >= 2 training seeds, else NaN (use the
        ensemble). A published mean (seed -1) is no training run, so it never counts as one."""
        sd, source = np.full(len(self.targets_), np.nan), ["ensemble"] * len(self.targets_)
        for k, target in enumerate(self.targets_):
            if target.epoch is None:
                continue
            values = training_seed_values(table, target, indices)
            repeated = values[(~np.isnan(values)).sum(axis=1) >= 2]
            if len(repeated) >= 2:
                sd[k] = float(np.sqrt(np.nanmean(np.nanvar(repeated, axis=1, ddof=1))))
                source[k] = "seeds"
        return sd, source

    # ---- prediction --------------------------------------------------------------------------------
    def _X(self, indices: np.ndarray) -> np.ndarray:
        """Features. XGBoost handles a missing column value itself; for the other models it becomes the column's
        minimum over the training cells (on nb201-cifar10 a missing naswot_score marks a dead cell)."""
        X = feature_matrix(get_space(self.space_name_), indices, self.features_, self.columns_)
        if self.model == "xgb":
            return X
        if not hasattr(self, "x_fill_"):  # computed on the training cells, in fit
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # a column no training cell has: filled with 0
                self.x_fill_ = np.nan_to_num(np.nanmin(X, axis=0))
        return np.where(np.isnan(X), self.x_fill_, X)

    def predict(self, archs: np.ndarray | Sequence[ArchLike]) -> tuple[np.ndarray, np.ndarray]:
        """(mean, std) of every target: shape (n,) for one target, (n, k) for several."""
        self._check_fitted()
        space = get_space(self.space_name_)
        indices = space.indices_of(archs)
        mean, std = self.estimator_.predict(self._X(indices), space.ops_of(indices))
        return self._shape(mean * self.y_std_ + self.y_mean_), self._shape(std * self.y_std_)

    def observation_sd(self, archs: np.ndarray | Sequence[ArchLike]) -> tuple[np.ndarray, np.ndarray]:
        """(mean, sd of one fresh training run): the table's pooled seed-to-seed sd of each target where it
        has several seeds, else the ensemble's spread for that cell."""
        mean, std = self.predict(archs)
        sd = np.where(np.isnan(self.noise_sd_), std.reshape(len(mean), -1), self.noise_sd_)
        return mean, self._shape(sd)

    def sample(self, archs: np.ndarray | Sequence[ArchLike], rng: np.random.Generator) -> np.ndarray:
        """A noisy observation per cell, like one fresh training run: mean + observation sd * N(0, 1)."""
        mean, sd = self.observation_sd(archs)
        return mean + sd * rng.standard_normal(mean.shape)

    def _shape(self, values: np.ndarray) -> np.ndarray:
        values = values.reshape(len(values), -1)
        return values[:, 0] if values.shape[1] == 1 else values

    def output(self, label: str) -> int:
        """Column of a target in multi-target predictions."""
        labels = self.target_labels
        if label not in labels:
            raise UserInputError(f"this surrogate does not predict {label!r}; it predicts {', '.join(labels)}")
        return labels.index(label)

    @property
    def target_labels(self) -> list[str]:
        self._check_fitted()
        return [t.label for t in self.targets_]

    def _check_fitted(self) -> None:
        if not hasattr(self, "estimator_"):
            raise UserInputError("this surrogate is not fitted yet: call fit(table, archs) or load a file")

    # ---- persistence -------------------------------------------------------------------------------
    def metadata(self) -> dict[str, Any]:
        """What the surrogate is: model settings, features, targets, training cells, table checksum, versions."""
        self._check_fitted()
        return {"model": self.model, "params": {**make_model(self.model, self.seed).params, **self.params},
                "seed": self.seed, "features": list(self.features_), "feature_table": self.feature_table,
                "targets": self.target_labels,
                "noise": dict(zip(self.target_labels, self.noise_source_)), "space": self.space_name_,
                "table": self.table_name_, "table_checksum": self.table_checksum_,
                "train_cells": [int(i) for i in self.train_indices_], "created": self.created_,
                "software": software_versions()}

    def save(self, path: str | os.PathLike) -> Path:
        """Write one zip file atomically: the format entry, meta.json and arrays.npz (see the module docstring)."""
        arrays = {name: getattr(self, name) for name in _STATE}
        arrays.update({f"column/{k}": v for k, v in self.columns_.items()})
        arrays.update({f"model/{k}": v for k, v in self.estimator_.state().items()})
        if hasattr(self, "x_fill_"):
            arrays["x_fill_"] = self.x_fill_
        npz = io.BytesIO()
        np.savez(npz, **arrays)

        def write(fh: Any) -> None:
            with zipfile.ZipFile(fh, "w", zipfile.ZIP_DEFLATED) as z:
                z.writestr(zipfile.ZipInfo(FORMAT_ENTRY), VERSION)  # first and stored: the magic check reads it
                z.writestr("meta.json", jsonio.dumps(self.metadata(), indent=1))
                z.writestr("arrays.npz", npz.getvalue())

        return write_atomic(path, write)


def read_file(path: str | os.PathLike) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The metadata and the arrays of a surrogate file; a one-line SurrogateFileError if it is not a readable one.

    Version-1 files are pickles, which can run code when read: they are refused without reading further. Declared
    sizes are checked before any entry is decompressed (see the module docstring).
    """
    path = Path(path)
    if not path.is_file():
        raise SurrogateFileError(f"surrogate file not found: {path}")
    name = FORMAT_ENTRY.encode()
    with open(path, "rb") as fh:
        head = fh.read(max(len(PICKLE_MAGIC), _FIRST_NAME_AT + len(name)))
    if head.startswith(PICKLE_MAGIC):
        raise SurrogateFileError(f"{path} is a version-1 surrogate file (a pickle, which could run code when read) "
                                 f"and is not read; {REBUILD}")
    if head[:4] != b"PK\x03\x04" or head[_FIRST_NAME_AT:_FIRST_NAME_AT + len(name)] != name:
        raise SurrogateFileError(f"{path} is not a nasbench-suite surrogate file (wrong magic: expected a zip "
                                 f"whose first entry is {FORMAT_ENTRY})")
    try:
        with zipfile.ZipFile(path) as z:
            for entry, cap in _MEMBER_CAPS.items():
                _check_size(path, entry, z.getinfo(entry).file_size, cap)
            version = z.read(FORMAT_ENTRY)
            if version != VERSION:
                raise SurrogateFileError(f"{path} is surrogate format {version[:20]!r}; this nasbench-suite reads "
                                         f"format {VERSION.decode()}: {REBUILD}")
            meta = jsonio.loads(z.read("meta.json"))
            arrays = _read_arrays(path, z.read("arrays.npz"))
    except SurrogateFileError:
        raise
    except Exception as exc:  # a damaged zip, JSON or npz raises many kinds of errors
        raise SurrogateFileError(f"{path} is a corrupt surrogate file ({_one_line(exc)}); {REBUILD}") from None
    problem = _meta_problem(meta)
    if problem:
        raise SurrogateFileError(f"{path} is a corrupt surrogate file (meta.json {problem}); {REBUILD}")
    return meta, arrays


def _check_size(path: Path, what: str, declared: int, cap: int) -> None:
    """Refuse a declared uncompressed size above its cap, before a byte of it is decompressed."""
    if declared > cap:
        raise SurrogateFileError(f"{path}: {what} declares {declared:,} bytes, above the cap of {cap:,} for a "
                                 f"surrogate file (a zip bomb?); refused unread; {REBUILD}")


def _read_arrays(path: Path, data: bytes) -> dict[str, np.ndarray]:
    """arrays.npz's arrays, once every member's declared size (all together at most MAX_ARRAYS_BYTES) and every
    .npy header's shape (within its member) are checked, so nothing larger than declared is ever allocated."""
    with zipfile.ZipFile(io.BytesIO(data)) as npz:
        members = npz.infolist()
        _check_size(path, "arrays.npz's arrays", sum(m.file_size for m in members), MAX_ARRAYS_BYTES)
        for member in members:
            with npz.open(member) as fh:
                version = np.lib.format.read_magic(fh)
                read_header = {(1, 0): np.lib.format.read_array_header_1_0,
                               (2, 0): np.lib.format.read_array_header_2_0}.get(version)
                if read_header is None:
                    raise ValueError(f"{member.filename} is .npy format {version}, not 1.0 or 2.0")
                shape, _, dtype = read_header(fh)
            if math.prod(shape) * dtype.itemsize > member.file_size:
                raise SurrogateFileError(f"{path}: arrays.npz's {member.filename} declares shape {shape} of {dtype} "
                                         f"but holds {member.file_size:,} bytes; refused unread; {REBUILD}")
    with np.load(io.BytesIO(data), allow_pickle=False) as arrays:
        return {k: arrays[k] for k in arrays.files}


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


_TEXT, _OBJECT = ("text", lambda v: isinstance(v, str)), ("a JSON object", lambda v: isinstance(v, dict))
_TEXTS = ("a list of texts", lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v))
META_FIELDS: dict[str, tuple[str, Any]] = {
    "model": _TEXT, "params": _OBJECT, "seed": ("an integer", _is_int), "features": _TEXTS,
    "feature_table": ("text or null", lambda v: v is None or isinstance(v, str)), "targets": _TEXTS,
    "noise": _OBJECT, "space": _TEXT, "table": _TEXT, "table_checksum": _TEXT,
    "train_cells": ("a list of cell indices", lambda v: isinstance(v, list) and all(map(_is_int, v))),
    "created": _TEXT, "software": _OBJECT}
OPTIONAL_META = ("feature_table",)  # absent from older files: the fitted table itself


def _meta_problem(meta: Any) -> str | None:
    """What is wrong with a surrogate file's metadata (not an object, a missing key, a value of the wrong type)."""
    if not isinstance(meta, dict):
        return "is not an object"
    missing = [key for key in META_FIELDS if key not in meta and key not in OPTIONAL_META]
    if missing:
        return f"lacks {', '.join(missing)}"
    wrong = next((key for key, (_, ok) in META_FIELDS.items() if key in meta and not ok(meta[key])), None)
    if wrong:
        return f"has {wrong} {_short(meta[wrong])}, expected {META_FIELDS[wrong][0]}"
    return None


def _short(value: Any) -> str:
    """A value for a one-line message, cut to 60 characters."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def read_metadata(path: str | os.PathLike) -> dict[str, Any]:
    """The metadata of a surrogate file (what `surrogate info` shows)."""
    return read_file(path)[0]


def load(path: str | os.PathLike, table: Table | None = None) -> Surrogate:
    """Read a surrogate file; with `table`, refuse one fitted on another table or space.

    Nothing in the file is executed: settings are JSON, everything else plain arrays; models without a safe weight
    format are re-fitted on the stored training data (see models.py).
    """
    meta, arrays = read_file(path)
    try:
        surrogate = _rebuild(meta, arrays)
    except UserInputError as exc:
        raise SurrogateFileError(f"{path}: {exc}") from None
    except Exception as exc:  # fields missing, of the wrong shape, or weights a library refuses
        raise SurrogateFileError(f"{path} is a corrupt or inconsistent surrogate file ({_one_line(exc)}); "
                                 f"it was saved with {meta.get('software')}; {REBUILD}") from None
    if table is not None:
        check_table(surrogate, table, path)
    return surrogate


def _rebuild(meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> Surrogate:
    """The fitted surrogate from a file's metadata and arrays."""
    s = Surrogate(model=meta["model"], features=meta["features"], target=meta["targets"], seed=meta["seed"],
                  params=meta["params"], feature_table=meta.get("feature_table"))
    s.space_name_, s.table_name_, s.table_checksum_ = str(meta["space"]), str(meta["table"]), meta["table_checksum"]
    s.created_ = meta["created"]
    s.targets_ = [Target.from_label(label) for label in meta["targets"]]
    s.features_ = tuple(meta["features"])
    s.noise_source_ = [meta["noise"][label] for label in meta["targets"]]
    s.train_indices_ = get_space(s.space_name_).indices_of(np.asarray(meta["train_cells"], dtype=np.int64))
    for name in _STATE:
        setattr(s, name, np.asarray(arrays[name], dtype=np.float64))
    if s.train_targets_.shape != (len(s.train_indices_), len(s.targets_)):
        raise ValueError(f"train_targets has shape {s.train_targets_.shape}, expected "
                         f"({len(s.train_indices_)}, {len(s.targets_)})")
    s.columns_ = {k.split("/", 1)[1]: v for k, v in arrays.items() if k.startswith("column/")}
    if "x_fill_" in arrays:
        s.x_fill_ = arrays["x_fill_"]
    state = {k.split("/", 1)[1]: v for k, v in arrays.items() if k.startswith("model/")}
    s.estimator_ = make_model(s.model, s.seed, **s.params).restore(state, *s._training_data())
    return s


def check_table(surrogate: Surrogate, table: Table, where: str | os.PathLike = "surrogate") -> None:
    """A clear error if `surrogate` was not fitted on `table` (space and checksum)."""
    if table.space != surrogate.space_name_:
        raise SurrogateFileError(f"{where} is for space {surrogate.space_name_!r}, the table is space "
                                 f"{table.space!r}")
    if table_checksum(table) != surrogate.table_checksum_:
        raise SurrogateFileError(f"{where} was fitted on table {surrogate.table_name_ or '?'} with checksum "
                                 f"{surrogate.table_checksum_[:12]}, not on this table "
                                 f"({Path(table.path).stem if table.path else 'in memory'}, "
                                 f"{table_checksum(table)[:12]}); rebuild it for this table")


def default_path(table: Table) -> Path:
    """Where `surrogate build` writes a table's surrogate: TABLE_NAME.surrogate in the working directory (never
    beside the table: an embedded table lives inside the installed package, often read-only)."""
    if table.path is None:
        raise TableError("the table has no file; give the surrogate an explicit path")
    return Path(Path(table.path).stem + SUFFIX)


def training_seed_values(table: Table, target: Target, indices: np.ndarray) -> np.ndarray:
    """(n, S) a metric target of the given cells for each training seed (published means, seed -1, left out)."""
    seeds = [int(seed) for seed in table.seeds if seed != MEAN_SEED]
    values = [table.query_many(indices, target.name, target.epoch, seed) for seed in seeds]
    return np.array(values, dtype=np.float64).reshape(len(seeds), len(indices)).T


def _full_column(table: Table, name: str) -> np.ndarray:
    """A column for every cell of the space (NaN where the table lacks the cell)."""
    out = np.full(table.space_obj.size, np.nan)
    out[table.archs] = table.column(name)
    return out


def _one_line(exc: Exception) -> str:
    """An exception as one short line (library errors can span many lines)."""
    text = next((line.strip() for line in str(exc).splitlines() if line.strip()), "")
    return f"{type(exc).__name__}: {text[:200]}" if text else type(exc).__name__
