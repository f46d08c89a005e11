"""Pareto fronts, exact hypervolume (2 and 3 objectives) and IGD+, all for objectives to *minimise*.

Maximised objectives (accuracy) are negated by `objectives.minimised` before they get here; the leaderboard
normalises every objective to [0, 1] over the true front (ideal 0, nadir 1) with reference point 1.1 per objective.
"""

from __future__ import annotations

import numpy as np

REFERENCE = 1.1  # hypervolume reference point, per normalised objective (nadir = 1)


def pareto_mask(points: np.ndarray) -> np.ndarray:
    """True for each row no other row dominates (<= everywhere, < somewhere); equal rows are all kept; NaN rows
    are never on the front. Exact: a lexicographic sweep in which only earlier rows can dominate later ones."""
    points = np.asarray(points, dtype=np.float64)
    mask = np.zeros(len(points), dtype=bool)
    finite = np.flatnonzero(np.isfinite(points).all(axis=1))
    order = finite[np.lexsort(points[finite].T[::-1])]
    front = np.empty((0, points.shape[1]))
    for row in order:
        p = points[row]
        dominated = np.any(np.all(front <= p, axis=1) & np.any(front < p, axis=1))
        if not dominated:
            mask[row] = True
            front = np.vstack([front, p])
    return mask


def hypervolume(points: np.ndarray, reference: np.ndarray | float) -> float:
    """Volume dominated by `points` and bounded by `reference` (exact; 2 or 3 objectives). Points not strictly
    better than the reference in every objective add nothing."""
    points = np.asarray(points, dtype=np.float64)
    if points.ndim != 2:
        raise ValueError(f"points must be a [n, objectives] array, got shape {points.shape}")
    k = points.shape[1]
    reference = np.broadcast_to(np.asarray(reference, dtype=np.float64), (k,))
    points = points[np.all(points < reference, axis=1)]
    if k == 2:
        return _hv2(points, reference)
    if k == 3:
        return _hv3(points, reference)
    raise ValueError(f"exact hypervolume is implemented for 2 or 3 objectives, got {k}")


def _hv2(points: np.ndarray, reference: np.ndarray) -> float:
    """Sweep over x: between consecutive x the dominated height is reference_y - (lowest y so far)."""
    if not len(points):
        return 0.0
    points = points[np.lexsort((points[:, 1], points[:, 0]))]
    lowest = np.minimum.accumulate(points[:, 1])
    widths = np.diff(np.append(points[:, 0], reference[0]))
    return float(np.sum(widths * (reference[1] - lowest)))


def _hv3(points: np.ndarray, reference: np.ndarray) -> float:
    """Slices between consecutive z: each slab is the 2-D hypervolume of the points below it times its depth."""
    if not len(points):
        return 0.0
    points = points[np.argsort(points[:, 2], kind="stable")]
    depths = np.diff(np.append(points[:, 2], reference[2]))
    return float(sum(_hv2(points[:i + 1, :2], reference[:2]) * d for i, d in enumerate(depths) if d > 0))


def igd_plus(found: np.ndarray, front: np.ndarray) -> float:
    """IGD+ (Ishibuchi et al., EMO 2015): mean over true-front points z of the distance to the nearest found
    point a, counting only how much a is worse than z, sqrt(sum max(a - z, 0)^2). inf if nothing was found."""
    found, front = np.atleast_2d(found), np.atleast_2d(front)
    if not len(found) or not found.size:
        return float("inf")
    worse = np.maximum(found[None, :, :] - front[:, None, :], 0.0)  # [front, found, objective]
    return float(np.sqrt((worse**2).sum(axis=2)).min(axis=1).mean())


def attainment(found: np.ndarray, front: np.ndarray) -> float:
    """Fraction of true-front points some found point weakly dominates (on the front: equals)."""
    found, front = np.atleast_2d(found), np.atleast_2d(front)
    if not found.size:
        return 0.0
    return float(np.all(found[None, :, :] <= front[:, None, :], axis=2).any(axis=1).mean())
