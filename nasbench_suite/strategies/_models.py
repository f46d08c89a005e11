"""Predictors and acquisition helpers shared by the model-based strategies (BANANAS, BO).

Models are fit on standardised targets and return (mean, std) in those units; every random choice comes
from the strategy's numpy Generator, and tree/MLP libraries run single-threaded.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np
from scipy.linalg import cho_factor, cho_solve
from scipy.special import ndtr

from nasbench_suite.errors import UserInputError
from nasbench_suite.space import Ops, Space

ENSEMBLE_KINDS = ("xgb", "mlp", "rf")


def _seed(rng: np.random.Generator) -> int:
    return int(rng.integers(2**31 - 1))


class Ensemble:
    """Independently seeded regressors whose spread is the uncertainty.

    kind "xgb": `size` XGBoost models with row/column subsampling; "mlp": `size` scikit-learn MLPs
    (3 hidden layers of 20, Adam, lr 0.01, 200 epochs); "rf": one random forest of `size` trees, the
    spread taken over trees (SMAC's model).
    """

    def __init__(self, kind: str, size: int, rng: np.random.Generator) -> None:
        if kind not in ENSEMBLE_KINDS:
            raise UserInputError(f"unknown predictor {kind!r}; valid: {', '.join(ENSEMBLE_KINDS)}")
        if size < 1:
            raise UserInputError(f"an ensemble needs size >= 1, got {size}")
        self.kind, self.size, self.rng = kind, int(size), rng
        self.members: list = []

    def fit(self, x: np.ndarray, y: np.ndarray) -> Ensemble:
        if self.kind == "xgb":
            import xgboost

            data = xgboost.DMatrix(x, label=y, nthread=1)
            params = {"max_depth": 4, "eta": 0.2, "subsample": 0.8, "colsample_bytree": 0.8, "nthread": 1,
                      "tree_method": "hist", "verbosity": 0}
            self.members = [xgboost.train({**params, "seed": _seed(self.rng)}, data, num_boost_round=50)
                            for _ in range(self.size)]
        elif self.kind == "mlp":
            import warnings

            from sklearn.exceptions import ConvergenceWarning
            from sklearn.neural_network import MLPRegressor

            self.members = [MLPRegressor(hidden_layer_sizes=(20, 20, 20), learning_rate_init=0.01, max_iter=200,
                                         random_state=_seed(self.rng)) for _ in range(self.size)]
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                for member in self.members:
                    member.fit(x, y)
        else:
            from sklearn.ensemble import RandomForestRegressor

            self.members = [RandomForestRegressor(n_estimators=self.size, max_features=0.5, n_jobs=1,
                                                  random_state=_seed(self.rng)).fit(x, y)]
        return self

    def predict(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Mean and standard deviation over members (over trees for "rf")."""
        if self.kind == "xgb":
            preds = np.stack([member.inplace_predict(x) for member in self.members])
        elif self.kind == "rf":
            preds = np.stack([tree.predict(x) for tree in self.members[0].estimators_])
        else:
            preds = np.stack([member.predict(x) for member in self.members])
        return preds.mean(axis=0), preds.std(axis=0)


class HammingGP:
    """A Gaussian process on op tuples with kernel exp(-hamming / lengthscale) (a product of per-edge
    categorical kernels); lengthscale and noise chosen by marginal likelihood on a small grid."""

    LENGTHSCALES = (0.5, 1.0, 2.0, 4.0, 8.0)
    NOISES = (1e-3, 1e-2, 1e-1)

    def fit(self, x: np.ndarray, y: np.ndarray) -> HammingGP:
        self.x, self.y = np.asarray(x), np.asarray(y, dtype=np.float64)
        distance = (self.x[:, None, :] != self.x[None, :, :]).sum(axis=2)
        best = -np.inf
        for lengthscale in self.LENGTHSCALES:
            k = np.exp(-distance / lengthscale)
            for noise in self.NOISES:
                factor = cho_factor(k + noise * np.eye(len(k)))
                alpha = cho_solve(factor, self.y)
                loglik = -0.5 * self.y @ alpha - np.log(np.diag(factor[0])).sum()
                if loglik > best:
                    best, self.lengthscale, self.factor, self.alpha = loglik, lengthscale, factor, alpha
        return self

    def predict(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        k = np.exp(-(np.asarray(x)[:, None, :] != self.x[None, :, :]).sum(axis=2) / self.lengthscale)
        mean = k @ self.alpha
        var = 1.0 - np.einsum("ij,ji->i", k, cho_solve(self.factor, k.T))
        return mean, np.sqrt(np.clip(var, 1e-12, None))


def expected_improvement(mean: np.ndarray, std: np.ndarray, best: float) -> np.ndarray:
    """EI for maximisation (Mockus 1978; Jones et al. 1998)."""
    z = (mean - best) / std
    # the standard normal's cdf and pdf exactly as scipy.stats.norm computes them, without importing scipy.stats
    # (half a second of every command's start-up)
    return (mean - best) * ndtr(z) + std * (np.exp(-z**2 / 2.0) / np.sqrt(2 * np.pi))


def mutation_candidates(space: Space, parents: Sequence[Ops], num: int, rng: np.random.Generator,
                        exclude: set, max_edits: int = 1) -> list[Ops]:
    """Up to `num` distinct cells not in `exclude`, each 1..max_edits single-edge mutations of a parent
    (parents taken in turn; every further edit with probability 1/2)."""
    draws = 2 * num
    children = np.asarray(parents, dtype=np.int64)[np.arange(draws) % len(parents)]
    rows = np.arange(draws)
    for step in range(max_edits):
        edit = rows if step == 0 else rows[rng.random(draws) < 0.5]
        edges = rng.integers(space.num_positions, size=len(edit))
        shifts = rng.integers(1, space.choices[edges])  # the same draws as one bound where all positions agree
        children[edit, edges] = (children[edit, edges] + shifts) % space.choices[edges]
    return _distinct_unseen(children, exclude, num)


def random_candidates(space: Space, num: int, rng: np.random.Generator, exclude: set) -> list[Ops]:
    """Up to `num` distinct uniform cells not in `exclude`."""
    return _distinct_unseen(rng.integers(space.choices, size=(num, space.num_positions)), exclude, num)


def _distinct_unseen(ops: np.ndarray, exclude: set, num: int) -> list[Ops]:
    out: dict[Ops, None] = {}
    for row in ops.tolist():
        cell = tuple(row)
        if cell not in exclude:
            out[cell] = None
            if len(out) == num:
                break
    return list(out)


@functools.cache
def _threadpools():
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def one_thread():
    """Context manager running BLAS/OpenMP on one thread: the models are small, and the leaderboard runs
    many searches side by side."""
    return _threadpools().limit(limits=1)
