"""Fitness-landscape statistics over a full grid space under the one-position neighbourhood.

Every function takes plain arrays: `values` (n,) to maximise and `neighbours` (n, d) row indices, so each can be
checked on a tiny hand-made space. `grid_neighbours` builds the matrix for any full grid of op tuples (NB201:
15,625 x 24).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from nasbench_suite.errors import UserInputError


def grid_neighbours(ops: np.ndarray, num_ops: int) -> np.ndarray:
    """(n, k*(m-1)) rows of the cells that differ from each row of `ops` (n, k) at exactly one position.

    `ops` must hold every one of the m**k op tuples exactly once (in any order): a landscape needs a full grid.
    """
    ops = np.asarray(ops, dtype=np.int64)
    n, k = ops.shape
    if n != num_ops**k or len(np.unique(ops, axis=0)) != n:
        raise UserInputError(f"a neighbour matrix needs the full grid of {num_ops}**{k} = {num_ops**k} distinct "
                             f"cells; got {n} rows")
    place = num_ops ** np.arange(k - 1, -1, -1)
    codes = ops @ place
    row_of = np.empty(n, dtype=np.int64)
    row_of[codes] = np.arange(n)
    columns = []
    for position in range(k):
        for shift in range(1, num_ops):
            changed = (ops[:, position] + shift) % num_ops
            columns.append(row_of[codes + (changed - ops[:, position]) * place[position]])
    return np.stack(columns, axis=1)


def _check(values: np.ndarray, neighbours: np.ndarray) -> np.ndarray:
    values = np.asarray(values, dtype=np.float64)
    if np.isnan(values).any():
        raise UserInputError(f"landscape statistics need a value for every cell; {int(np.isnan(values).sum())} "
                             "are NaN")
    if neighbours.shape[0] != len(values):
        raise UserInputError(f"neighbour matrix has {neighbours.shape[0]} rows for {len(values)} values")
    return values


def strict_optima(values: np.ndarray, neighbours: np.ndarray) -> np.ndarray:
    """Rows strictly better than all their neighbours."""
    values = _check(values, neighbours)
    return np.flatnonzero(values > values[neighbours].max(axis=1))


def plateau_optima(values: np.ndarray, neighbours: np.ndarray) -> list[np.ndarray]:
    """Local optima with plateaus: maximal connected sets of equal-valued cells none of which has a better
    neighbour (a strict optimum is a plateau of one). Each is returned as an array of rows."""
    values = _check(values, neighbours)
    n = len(values)
    src = np.repeat(np.arange(n), neighbours.shape[1])
    dst = neighbours.ravel()
    equal = values[src] == values[dst]
    graph = coo_matrix((np.ones(int(equal.sum())), (src[equal], dst[equal])), shape=(n, n))
    count, label = connected_components(graph, directed=False)
    has_better = np.zeros(count, dtype=bool)
    np.logical_or.at(has_better, label, values[neighbours].max(axis=1) > values)
    members = np.argsort(label, kind="stable")
    groups = np.split(members, np.cumsum(np.bincount(label, minlength=count))[:-1])
    return [g for g, better in zip(groups, has_better) if not better]


def hill_climb(values: np.ndarray, neighbours: np.ndarray) -> np.ndarray:
    """Row where best-improvement hill climbing from each row stops (first best neighbour on ties; a cell
    with no strictly better neighbour stops there)."""
    values = _check(values, neighbours)
    best = neighbours[np.arange(len(values)), values[neighbours].argmax(axis=1)]
    step = np.where(values[best] > values, best, np.arange(len(values)))
    end = step
    while True:  # pointer jumping: the path length doubles each round
        nxt = end[end]
        if np.array_equal(nxt, end):
            return end
        end = nxt


def basin_sizes(values: np.ndarray, neighbours: np.ndarray) -> dict[int, int]:
    """Row of each hill-climbing end point -> how many rows climb to it."""
    ends, counts = np.unique(hill_climb(values, neighbours), return_counts=True)
    return {int(e): int(c) for e, c in zip(ends, counts)}


def plateau_basins(plateaus: list[np.ndarray], basins: dict[int, int]) -> list[int]:
    """Cells whose hill climb ends anywhere on each plateau optimum (climbs stop at different cells of a plateau)."""
    return [sum(basins.get(int(row), 0) for row in plateau) for plateau in plateaus]


def hamming(ops: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Number of positions at which each row of `ops` differs from `reference` (one-edge moves to reach it)."""
    return (np.asarray(ops) != np.asarray(reference)[None, :]).sum(axis=1)


def fitness_distance_correlation(values: np.ndarray, ops: np.ndarray) -> float:
    """Pearson correlation of value with the Hamming distance to the global optimum (Jones & Forrest 1995).

    For maximisation, strongly negative means "closer to the optimum is better" (easy for local search).
    """
    values = np.asarray(values, dtype=np.float64)
    distance = hamming(ops, ops[int(np.argmax(values))]).astype(np.float64)
    return float(np.corrcoef(values, distance)[0, 1])


def random_walk(neighbours: np.ndarray, length: int, rng: np.random.Generator, start: int | None = None) -> np.ndarray:
    """Rows visited by a walk that moves to a uniformly drawn neighbour at each step."""
    n, d = neighbours.shape
    rows = np.empty(length, dtype=np.int64)
    rows[0] = rng.integers(n) if start is None else start
    picks = rng.integers(d, size=length)
    for t in range(1, length):
        rows[t] = neighbours[rows[t - 1], picks[t]]
    return rows


def autocorrelation(series: np.ndarray, lags: int) -> np.ndarray:
    """r(1..lags) of a series: covariance at lag s over the variance, both about the whole series' mean."""
    x = np.asarray(series, dtype=np.float64) - np.mean(series)
    var = np.mean(x * x)
    return np.array([np.mean(x[:-s] * x[s:]) / var for s in range(1, lags + 1)])


def correlation_length(r1: float) -> float:
    """Weinberger's correlation length -1 / ln|r(1)|: how many random steps before values decorrelate."""
    r = abs(r1)
    if r >= 1:
        return float("inf")
    return float(-1.0 / np.log(r)) if r > 0 else 0.0


def neutrality(values: np.ndarray, neighbours: np.ndarray, tol: float) -> tuple[float, float]:
    """(share of neighbour pairs whose values differ by <= tol, share of cells with at least one such neighbour)."""
    values = _check(values, neighbours)
    close = np.abs(values[neighbours] - values[:, None]) <= tol
    return float(close.mean()), float(close.any(axis=1).mean())


@dataclass
class Landscape:
    """Summary of one landscape; see `describe`."""

    cells: int
    strict_optima: np.ndarray
    plateau_optima: list[np.ndarray]
    basins: dict[int, int]
    fdc: float
    autocorrelation: np.ndarray
    correlation_length: float
    neutral_pairs: float
    neutral_cells: float


def describe(values: np.ndarray, ops: np.ndarray, neighbours: np.ndarray, rng: np.random.Generator,
             walk_length: int = 100_000, lags: int = 10, tol: float = 0.0) -> Landscape:
    """Every landscape statistic of one value array over a full grid."""
    values = _check(values, neighbours)
    r = autocorrelation(values[random_walk(neighbours, walk_length, rng)], lags)
    neutral_pairs, neutral_cells = neutrality(values, neighbours, tol)
    return Landscape(cells=len(values), strict_optima=strict_optima(values, neighbours),
                     plateau_optima=plateau_optima(values, neighbours), basins=basin_sizes(values, neighbours),
                     fdc=fitness_distance_correlation(values, ops), autocorrelation=r,
                     correlation_length=correlation_length(r[0]), neutral_pairs=neutral_pairs,
                     neutral_cells=neutral_cells)
