"""Tree-structured Parzen estimator (Bergstra, Bardenet, Bengio, Kegl, NeurIPS 2011), hyperopt's form."""

from __future__ import annotations

import math

import numpy as np

from nasbench_suite.space import Ops
from nasbench_suite.strategies._common import fitness
from nasbench_suite.strategies.base import SIZE, Context, Hyperparameter, Strategy, Trial, register

LINEAR_FORGETTING = 25  # hyperopt's: older observations weigh less once there are more than this


def categorical_density(ops: np.ndarray, num_ops: int, prior_weight: float,
                        mask: np.ndarray | None = None) -> np.ndarray:
    """Per-position value probabilities from observed cells (rows in time order), as hyperopt's categorical
    posterior: linearly forgetting weights, plus `prior_weight` pseudo-counts spread uniformly over the values each
    position can take (`mask`, positions x num_ops, as `Space.value_mask`; default: all num_ops values)."""
    n = len(ops)
    weights = np.ones(n)
    if n > LINEAR_FORGETTING:
        weights[:n - LINEAR_FORGETTING] = np.linspace(1.0 / n, 1.0, num=n - LINEAR_FORGETTING)
    counts = np.stack([np.bincount(ops[:, e], weights=weights, minlength=num_ops) for e in range(ops.shape[1])])
    pseudo = counts + (prior_weight if mask is None else prior_weight * mask)
    return pseudo / pseudo.sum(axis=1, keepdims=True)


@register
class TPE(Strategy):
    """Split told cells into the best ceil(gamma * sqrt(n)) ("good", l) and the rest (g); model each edge's op
    independently in both groups; draw `num_candidates` cells from l and ask the one maximising l(x)/g(x).
    The first `num_startup` asks are uniform. Failed (NaN) runs count as the worst. Defaults are hyperopt's:
    num_startup=20, gamma=0.25, num_candidates=24, prior_weight=1.0.
    """

    name = "tpe"
    family = "model-based"
    paper = "Bergstra, Bardenet, Bengio, Kegl, NeurIPS 2011; defaults of hyperopt"
    hyperparameters = (
        Hyperparameter("num_startup", 20, "uniform cells before the model", interval=SIZE),
        Hyperparameter("gamma", 0.25, "good fraction: ceil(gamma * sqrt(n)) cells", interval="(0, 1]"),
        Hyperparameter("num_candidates", 24, "draws from l scored per ask", interval=SIZE),
        Hyperparameter("prior_weight", 1.0, "uniform pseudo-counts per op", interval="(0, inf)"),
    )

    def __init__(self, context: Context, **params) -> None:
        super().__init__(context, **params)
        self.archs: list[Ops] = []
        self.values: list[float] = []

    def ask(self) -> Trial:
        n = len(self.archs)
        if n < self.num_startup:
            return self.trial(self.space.sample(self.rng))
        order = np.argsort([-fitness(v) for v in self.values], kind="stable")
        n_good = min(int(math.ceil(self.gamma * math.sqrt(n))), n - 1)
        good, bad = np.sort(order[:n_good]), np.sort(order[n_good:])  # keep time order for forgetting
        ops = np.asarray(self.archs)
        l = categorical_density(ops[good], self.space.max_choices, self.prior_weight, self.space.value_mask)
        g = categorical_density(ops[bad], self.space.max_choices, self.prior_weight, self.space.value_mask)
        cumulative = l.cumsum(axis=1)
        u = self.rng.random((self.num_candidates, self.space.num_positions, 1))
        candidates = np.minimum((u > cumulative[None]).sum(axis=2), self.space.choices - 1)
        edges = np.arange(self.space.num_positions)
        score = (np.log(l[edges, candidates]) - np.log(g[edges, candidates])).sum(axis=1)
        return self.trial(tuple(int(o) for o in candidates[int(np.argmax(score))]))

    def tell(self, trial: Trial, value: float) -> None:
        self.archs.append(trial.arch)
        self.values.append(float(value))
