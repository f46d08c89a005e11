"""`Surrogate`: fit a regressor on some cells of a table, predict (with uncertainty) and sample the others.

    s = Surrogate(model="xgb", target="valid_acc@200").fit(table, train_indices)
    mean, std = s.predict(all_indices)
    noisy = s.sample(all_indices, np.random.default_rng(0))   # like a fresh training run
    s.save("nb201-cifar10.surrogate"); s = load("nb201-cifar10.surrogate", table=table)

A surrogate reads target values of the cells it is given and nothing else. Cheap per-cell columns used as
features (params, latency, proxies) are kept for every cell, so a saved surrogate predicts without the table.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from nasbench_suite.atomic import write_atomic
from nasbench_suite.versions import package_versions
from nasbench_suite.errors import UserInputError
from nasbench_suite.space import ArchLike, NB201Space, get_space
from nasbench_suite.surrogate.features import DEFAULT_FEATURES, check_features, feature_matrix
from nasbench_suite.surrogate.models import make_model
from nasbench_suite.table import Table, TableError

MAGIC = b"nasbench-suite-surrogate 1\n"
SUFFIX = ".surrogate"
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


def parse_targets(table: Table, target: str | Sequence[str]) -> list[Target]:
    """Targets from labels: `metric@epoch`, `metric` (its whole learning curve) or a column name."""
    labels = [t.strip() for t in (target.split(",") if isinstance(target, str) else target) if t.strip()]
    if not labels:
        raise UserInputError("a surrogate needs a non-empty target, e.g. valid_acc@200")
    out: list[Target] = []
    for label in labels:
        name, sep, epoch = label.partition("@")
        if name in table.metrics:
            epochs = table.epochs_of(name)
            if sep and (not epoch.isdigit() or int(epoch) not in epochs):
                raise UserInputError(f"target {label!r}: the table has {name} at epochs "
                                     f"{', '.join(map(str, epochs))}; write it as {name}@EPOCH")
            out += [Target(name, int(epoch))] if sep else [Target(name, e) for e in epochs]
        elif name in table.columns and not sep:
            out.append(Target(name))
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
    """

    def __init__(self, model: str = "xgb", features: Sequence[str] = DEFAULT_FEATURES,
                 target: str | Sequence[str] = DEFAULT_TARGET, seed: int = 0,
                 params: dict[str, Any] | None = None) -> None:
        self.model, self.features, self.target, self.seed = model, features, target, int(seed)
        self.params = dict(params or {})
        make_model(model, seed, **self.params)  # unknown model or settings: fail now, not after loading data

    # ---- fitting -----------------------------------------------------------------------------------
    def fit(self, table: Table, archs: np.ndarray | Sequence[ArchLike]) -> "Surrogate":
        """Fit on the given cells of `table`, reading their targets only."""
        space = table.space_obj
        indices = _as_indices(space, archs)
        if len(np.unique(indices)) != len(indices):
            raise UserInputError("training cells must be distinct")
        self.targets_ = parse_targets(table, self.target)
        self.features_ = check_features(self.features, [c for c in table.columns
                                                        if c not in {t.name for t in self.targets_}])
        self.columns_ = {name: _full_column(table, name) for name in self.features_ if name in table.columns}
        Y = np.stack([self._target_values(table, t, indices) for t in self.targets_], axis=1)
        keep = ~np.isnan(Y).any(axis=1)
        estimator = make_model(self.model, self.seed, **self.params)
        if keep.sum() < estimator.min_cells:
            raise UserInputError(f"model {self.model!r} needs at least {estimator.min_cells} training cells with "
                                 f"measured {', '.join(t.label for t in self.targets_)}; got {int(keep.sum())}")
        indices, Y = indices[keep], Y[keep]
        self.__dict__.pop("x_fill_", None)  # refitting: medians of the new training cells
        self.y_mean_, self.y_std_ = Y.mean(axis=0), Y.std(axis=0) + 1e-12
        self.noise_sd_, self.noise_source_ = self._seed_noise(table, indices)
        self.space_name_ = table.space
        self.train_indices_ = indices
        self.table_checksum_ = table_checksum(table)
        self.table_name_ = Path(table.path).stem if table.path else ""
        self.estimator_ = estimator.fit(self._X(indices), (Y - self.y_mean_) / self.y_std_, space.ops_of(indices))
        self.created_ = datetime.now(timezone.utc).isoformat(timespec="seconds")
        return self

    @staticmethod
    def _target_values(table: Table, target: Target, indices: np.ndarray) -> np.ndarray:
        if target.epoch is None:
            return _full_column(table, target.name)[indices]
        return table.query_many(indices, target.name, target.epoch)

    def _seed_noise(self, table: Table, indices: np.ndarray) -> tuple[np.ndarray, list[str]]:
        """Per target: pooled seed-to-seed sd over training cells with >= 2 seeds, else NaN (use the ensemble)."""
        sd, source = np.full(len(self.targets_), np.nan), ["ensemble"] * len(self.targets_)
        for k, target in enumerate(self.targets_):
            if target.epoch is None or len(table.seeds) < 2:
                continue
            values = np.stack([table.query_many(indices, target.name, target.epoch, int(seed))
                               for seed in table.seeds], axis=1)
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
        if not hasattr(self, "x_fill_"):
            with np.errstate(all="ignore"):
                self.x_fill_ = np.nan_to_num(np.nanmin(X, axis=0)) if np.isnan(X).any() else np.zeros(X.shape[1])
        return np.where(np.isnan(X), self.x_fill_, X)

    def predict(self, archs: np.ndarray | Sequence[ArchLike]) -> tuple[np.ndarray, np.ndarray]:
        """(mean, std) of every target: shape (n,) for one target, (n, k) for several."""
        self._check_fitted()
        space = get_space(self.space_name_)
        indices = _as_indices(space, archs)
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
                "seed": self.seed, "features": list(self.features_), "targets": self.target_labels,
                "noise": dict(zip(self.target_labels, self.noise_source_)), "space": self.space_name_,
                "table": self.table_name_, "table_checksum": self.table_checksum_,
                "train_cells": [int(i) for i in self.train_indices_], "created": self.created_,
                "software": software_versions()}

    def save(self, path: str | os.PathLike) -> Path:
        """Write one file atomically: a magic line, a JSON metadata line, then the pickled model."""
        path = Path(path)
        payload = pickle.dumps(self, protocol=pickle.HIGHEST_PROTOCOL)
        header = {**self.metadata(), "payload_sha256": hashlib.sha256(payload).hexdigest()}
        write_atomic(path, lambda fh: fh.write(MAGIC + json.dumps(header, default=_to_builtin).encode() + b"\n"
                                               + payload))
        return path


def read_metadata(path: str | os.PathLike) -> tuple[dict[str, Any], bytes]:
    """The JSON header of a surrogate file and its verified payload; SurrogateFileError if it is not one."""
    path = Path(path)
    if not path.is_file():
        raise SurrogateFileError(f"surrogate file not found: {path}")
    data = path.read_bytes()
    if not data.startswith(MAGIC):
        raise SurrogateFileError(f"{path} is not a nasbench-suite surrogate file (wrong magic line)")
    line, sep, payload = data[len(MAGIC):].partition(b"\n")
    try:
        header = json.loads(line)
    except ValueError:
        header = None
    if not sep or not isinstance(header, dict) or "payload_sha256" not in header:
        raise SurrogateFileError(f"{path} is a corrupt surrogate file (unreadable metadata line)")
    if hashlib.sha256(payload).hexdigest() != header["payload_sha256"]:
        raise SurrogateFileError(f"{path} is a corrupt surrogate file (model bytes do not match their checksum; "
                                 "truncated or modified)")
    return header, payload


def load(path: str | os.PathLike, table: Table | None = None) -> Surrogate:
    """Read a surrogate file; with `table`, refuse one fitted on another table or space.

    The payload is a pickle: its sha256 is checked before unpickling, but only load files you trust.
    """
    header, payload = read_metadata(path)
    try:
        surrogate = pickle.loads(payload)
    except Exception as exc:  # a pickle from an incompatible version raises anything
        raise SurrogateFileError(f"{path}: cannot rebuild the model ({type(exc).__name__}: {exc}); "
                                 f"it was saved with {header.get('software')}") from None
    if not isinstance(surrogate, Surrogate):
        raise SurrogateFileError(f"{path} does not hold a Surrogate")
    get_space(surrogate.space_name_)
    if table is not None:
        check_table(surrogate, table, path)
    return surrogate


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
    """Where `surrogate build` writes a table's surrogate: beside the table file."""
    if table.path is None:
        raise TableError("the table has no file; give the surrogate an explicit path")
    return Path(table.path).with_suffix(SUFFIX)


def _as_indices(space: NB201Space, archs: np.ndarray | Sequence[ArchLike]) -> np.ndarray:
    if isinstance(archs, np.ndarray) and archs.ndim == 1 and np.issubdtype(archs.dtype, np.integer):
        if len(archs) and (archs.min() < 0 or archs.max() >= space.size):
            raise UserInputError(f"arch indices must be in 0..{space.size - 1}")
        return archs.astype(np.int64)
    return space.indices_of(archs)


def _full_column(table: Table, name: str) -> np.ndarray:
    """A column for every cell of the space (NaN where the table lacks the cell)."""
    out = np.full(table.space_obj.size, np.nan)
    out[table.archs] = table.column(name)
    return out


def _to_builtin(value: Any) -> Any:
    return value.tolist() if hasattr(value, "tolist") else str(value)
