"""Statistics of cells as op tuples: which op on which edge goes with good cells, how much edges matter alone
and in pairs, how noisy duplicates are, how well cheap signals rank cells, and the cost/accuracy front.

Inputs are plain arrays (`ops` (n, k) op ids, `values` (n,)), so every function runs on tiny synthetic inputs.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

import numpy as np
import pandas as pd
from scipy import stats

from nasbench_suite.errors import UserInputError


def top_rows(values: np.ndarray, fraction: float) -> np.ndarray:
    """Rows of the ceil(fraction * measured) largest measured values (ties broken by row order)."""
    measured = int((~np.isnan(np.asarray(values, dtype=np.float64))).sum())
    return largest(values, max(1, int(np.ceil(fraction * measured))))


def largest(values: np.ndarray, count: int) -> np.ndarray:
    """Rows of the `count` largest measured values, best first (ties broken by row order)."""
    values = np.asarray(values, dtype=np.float64)
    measured = np.flatnonzero(~np.isnan(values))
    return measured[np.argsort(-values[measured], kind="stable")[:count]]


def op_frequencies(ops: np.ndarray, rows: np.ndarray, num_ops: int) -> np.ndarray:
    """(k, m) share of the given rows that carry each op on each edge."""
    chosen = np.asarray(ops)[rows]
    return np.stack([np.bincount(chosen[:, e], minlength=num_ops) for e in range(chosen.shape[1])]) / len(rows)


def marginal_effects(ops: np.ndarray, values: np.ndarray, num_ops: int, boot: int,
                     rng: np.random.Generator, level: float = 0.95) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean value of cells with op o on edge e minus the mean of all cells: (effect, low, high), each (k, m).

    low/high: percentile bootstrap interval over `boot` resamples of the cells (NaN values are left out).
    """
    keep = ~np.isnan(values)
    ops, values = np.asarray(ops)[keep], np.asarray(values, dtype=np.float64)[keep]
    n, k = ops.shape

    def effects(rows: np.ndarray) -> np.ndarray:  # rows: (b, n) -> (b, k, m)
        b = rows.shape[0]
        v = values[rows]
        out = np.empty((b, k, num_ops))
        offset = (np.arange(b) * num_ops)[:, None]
        for e in range(k):
            keys = (offset + ops[rows, e]).ravel()
            sums = np.bincount(keys, weights=v.ravel(), minlength=b * num_ops)
            counts = np.bincount(keys, minlength=b * num_ops)
            with np.errstate(invalid="ignore", divide="ignore"):
                out[:, e] = (sums / counts).reshape(b, num_ops)
        return out - v.mean(axis=1)[:, None, None]

    point = effects(np.arange(n)[None, :])[0]
    resampled = effects(rng.integers(n, size=(boot, n)))
    tail = 100 * (1 - level) / 2
    low, high = np.nanpercentile(resampled, [tail, 100 - tail], axis=0)
    return point, low, high


@dataclass
class Decomposition:
    """Exact functional ANOVA of a function on a full grid: f = mean + the sum of one component per non-empty
    subset u of positions, each depending on x_u only and averaging to zero over any one of its positions."""

    variance: float
    components: dict[tuple[int, ...], np.ndarray]  # u -> grid-shaped array, size m on the axes in u, 1 elsewhere

    @property
    def k(self) -> int:
        return max(len(u) for u in self.components)

    def share(self, u: tuple[int, ...]) -> float:
        """Share of the variance in the component of subset u."""
        return float((self.components[u] ** 2).mean() / self.variance)

    @property
    def main_share(self) -> np.ndarray:
        """(k,) share of the variance each edge explains alone."""
        return np.array([self.share((i,)) for i in range(self.k)])

    @property
    def pair_share(self) -> np.ndarray:
        """(k, k) share of the variance in each pairwise interaction (symmetric, zero diagonal)."""
        out = np.zeros((self.k, self.k))
        for i, j in combinations(range(self.k), 2):
            out[i, j] = out[j, i] = self.share((i, j))
        return out

    def order_share(self) -> dict[int, float]:
        """Share of the variance in all components of each order (they add up to 1)."""
        out: dict[int, float] = {}
        for u in self.components:
            out[len(u)] = out.get(len(u), 0.0) + self.share(u)
        return out

    def main_effect(self, i: int) -> np.ndarray:
        """(m,) main effect of each op on edge i."""
        return self.components[(i,)].ravel()

    def shapley(self, ops: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Exact Shapley values (n, k) and Shapley interaction values phi_ij + phi_ji (n, k, k) of the cells `ops`
        with all other cells as uniform background: each component is shared equally among its positions
        (Shapley) or its pairs of positions (interaction index), since the components are the game's Moebius
        terms."""
        ops = np.asarray(ops)
        n, k = len(ops), self.k
        values, pairs = np.zeros((n, k)), np.zeros((n, k, k))
        for u, comp in self.components.items():
            at = comp[tuple(ops[:, i] if i in u else 0 for i in range(k))]
            values[:, list(u)] += (at / len(u))[:, None]
            for i, j in combinations(u, 2):
                pairs[:, i, j] += at / (len(u) - 1)
        return values, pairs + pairs.transpose(0, 2, 1)


def fanova(ops: np.ndarray, values: np.ndarray, num_ops: int) -> Decomposition:
    """Exact functional ANOVA of `values` over the full grid given by `ops`, every order.

    On a full grid with uniform weights the projection on subset u is a plain average over the other positions,
    so the decomposition is exact (no model, no sampling): f_u = mean over the rest minus all f_v, v strict
    subset of u. The components are orthogonal, so their variance shares add up to 1.
    """
    ops = np.asarray(ops)
    n, k = ops.shape
    if n != num_ops**k or len(np.unique(ops, axis=0)) != n or np.isnan(values).any():
        raise UserInputError(f"an exact decomposition needs a measured value on all {num_ops}**{k} distinct cells; "
                             f"got {n} rows, {int(np.isnan(values).sum())} NaN")
    grid = np.empty((num_ops,) * k)
    grid[tuple(ops.T)] = values
    mean = grid.mean()
    components: dict[tuple[int, ...], np.ndarray] = {}
    for size in range(1, k + 1):
        for u in combinations(range(k), size):
            rest = tuple(i for i in range(k) if i not in u)
            comp = grid.mean(axis=rest, keepdims=True) - mean
            for v in components:
                if set(v) < set(u):
                    comp = comp - components[v]
            components[u] = comp
    return Decomposition(variance=float(grid.var()), components=components)


def class_spread(values: np.ndarray, classes: np.ndarray) -> pd.DataFrame:
    """Per class with at least two measured members: size, mean, sd (ddof=1) and range of the values."""
    frame = pd.DataFrame({"cls": classes, "value": values}).dropna()
    grouped = frame.groupby("cls")["value"]
    out = pd.DataFrame({"size": grouped.size(), "mean": grouped.mean(), "sd": grouped.std(ddof=1),
                        "range": grouped.max() - grouped.min()})
    return out[out["size"] >= 2]


def pooled_sd(spread: pd.DataFrame) -> float:
    """Pooled within-class standard deviation from `class_spread` rows."""
    dof = spread["size"] - 1
    return float(np.sqrt((dof * spread["sd"] ** 2).sum() / dof.sum())) if len(spread) else float("nan")


CORRELATIONS = {"kendall": lambda x, y: stats.kendalltau(x, y).statistic,
                "spearman": lambda x, y: stats.spearmanr(x, y).statistic}


def rank_correlation(target: np.ndarray, signal: np.ndarray, method: str,
                     top: float = 1.0) -> tuple[float, int]:
    """(correlation, cells used) between target and signal over cells where both are measured; top < 1 keeps
    only the top fraction of those cells by target (how well the signal orders the good cells)."""
    both = np.flatnonzero(~np.isnan(target) & ~np.isnan(signal))
    if top < 1:
        both = both[top_rows(target[both], top)]
    if len(both) < 3 or np.ptp(target[both]) == 0 or np.ptp(signal[both]) == 0:
        return float("nan"), len(both)
    return float(CORRELATIONS[method](target[both], signal[both])), len(both)


def top_overlap(target: np.ndarray, signal: np.ndarray, fraction: float) -> float:
    """Share of the top fraction of cells by target that are also in the top fraction by signal (larger is
    better for both; cells without a signal value rank last)."""
    chosen = top_rows(target, fraction)
    ranked = largest(np.where(np.isnan(signal), -np.inf, signal), len(chosen))
    return len(np.intersect1d(chosen, ranked)) / len(chosen)


def pareto_front(cost: np.ndarray, value: np.ndarray) -> np.ndarray:
    """Rows no other row beats (lower or equal cost and higher or equal value, one of them strictly), sorted
    by cost; NaNs are left out."""
    rows = np.flatnonzero(~np.isnan(cost) & ~np.isnan(value))
    rows = rows[np.lexsort((-value[rows], cost[rows]))]  # cost ascending, value descending within a cost
    front, best = [], -np.inf
    for row in rows:
        if value[row] > best or (front and value[row] == best and cost[row] == cost[front[-1]]):
            front.append(row)
            best = value[row]
    return np.asarray(front, dtype=np.int64)
