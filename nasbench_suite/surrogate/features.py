"""Feature matrices for surrogates: the space's encodings, canonical-form-aware encodings, and cheap table columns.

A feature set is a tuple of names. Each name is an encoding of the space (`onehot`, `path`, `adjacency`,
`sequence`), one of the encodings below that look at which edges actually compute something, or the name of a
per-cell column of the table (params, FLOPs, latency, zero-cost proxies). Training results (metrics) are never
features: only columns can be, so a surrogate cannot be fed the answer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from nasbench_suite.errors import UserInputError
from nasbench_suite.space import NB201, NB201Space, Space
from nasbench_suite.space.nb201 import live_edges

# Default: what an edge really computes (ops cut off by `none` count as `none`), how many of each op really
# compute, plus two cheap columns. Measured on nb201-cifar10 (see results/surrogates/).
DEFAULT_FEATURES: tuple[str, ...] = ("effective_onehot", "effective_counts", "params_m", "naswot_score")

def effective_ops(ops: np.ndarray) -> np.ndarray:
    """Op ids with every edge that does not reach both input and output replaced by `none` (0)."""
    return np.where(live_edges(ops), ops, 0)


def _effective_onehot(space: NB201Space, ops: np.ndarray) -> np.ndarray:
    return space.encode(effective_ops(ops), "onehot")


def _effective_counts(space: NB201Space, ops: np.ndarray) -> np.ndarray:
    """How many live edges carry each non-`none` op (skip, conv1x1, conv3x3, pool): 4 features."""
    eff = effective_ops(ops)
    return np.stack([(eff == op).sum(axis=1) for op in range(1, space.num_ops)], axis=1)


SURROGATE_ENCODINGS = {"effective_onehot": _effective_onehot, "effective_counts": _effective_counts}  # NB201's `none`


def encoding_names(space: Space = NB201) -> list[str]:
    """Every feature name that is computed from a cell of `space` alone."""
    return list(space.encodings) + (list(SURROGATE_ENCODINGS) if isinstance(space, NB201Space) else [])


def check_features(features: Sequence[str], columns: Sequence[str], space: Space = NB201) -> tuple[str, ...]:
    """The feature names as a tuple; a clear error for a name that is neither an encoding nor a column."""
    if isinstance(features, str):
        features = [f.strip() for f in features.split(",") if f.strip()]
    if not features:
        raise UserInputError("a surrogate needs at least one feature; valid: " + ", ".join(encoding_names(space))
                             + " or a table column")
    for name in features:
        if name not in encoding_names(space) and name not in columns:
            raise UserInputError(f"unknown feature {name!r}: not an encoding ({', '.join(encoding_names(space))}) "
                                 f"and not a column of the table ({', '.join(columns) or 'none'})")
    if len(set(features)) != len(features):
        raise UserInputError(f"feature list {list(features)} names a feature twice")
    return tuple(features)


def feature_matrix(space: Space, indices: np.ndarray, features: Sequence[str],
                   columns: Mapping[str, np.ndarray]) -> np.ndarray:
    """(n, d) float32 features of cells given by official index; `columns` maps name -> value per index."""
    ops = space.ops_of(indices)
    parts = []
    for name in features:
        if name in SURROGATE_ENCODINGS:
            parts.append(SURROGATE_ENCODINGS[name](space, ops))
        elif name in space.encodings:
            parts.append(space.encode(ops, name))
        else:
            parts.append(columns[name][indices, None])
    return np.concatenate(parts, axis=1).astype(np.float32)
