"""Tree-structured Parzen estimator (Bergstra, Bardenet, Bengio, Kegl, NeurIPS 2011), hyperopt's form."""

from __future__ import annotations

import math

import numpy as np

from nasbench_suite.errors import UserInputError
from nasbench_suite.space import Ops
from nasbench_suite.strategies._common import fitness
from nasbench_suite.strategies.base import Context, Strategy, Trial, register

LINEAR_FORGETTING = 25  # hyperopt's: older observations weigh less once there are more than this


def categorical_density(ops: np.ndarray, num_ops: int, prior_weight: float) -> np.ndarray:
    """Per-edge op probabilities from observed cells (rows in time order), as hyperopt's categorical
    posterior: linearly forgetting weights, plus `prior_weight` pseudo-counts spread uniformly."""
    n = len(ops)
    weights = np.ones(n)
    if n > LINEAR_FORGETTING:
        weights[:n - LINEAR_FORGETTING] = np.linspace(1.0 / n, 1.0, num=n - LINEAR_FORGETTING)
    counts = np.stack([np.bincount(ops[:, e], weights=weights, minlength=num_ops) for e in range(ops.shape[1])])
    pseudo = counts + prior_weight
    return pseudo / pseudo.sum(axis=1, keepdims=True)


@register
class TPE(Strategy):
    """Split told cells into the best ceil(gamma * sqrt(n)) ("good", l) and the rest (g); model each edge's op
    independently in both groups; draw `num_candidates` cells from l and ask the one maximising l(x)/g(x).
    The first `num_startup` asks are uniform. Failed (NaN) runs count as the worst. Defaults are hyperopt's:
    num_startup=20, gamma=0.25, num_candidates=24, prior_weight=1.0.
    """

    name = "tpe"

    def __init__(self, context: Context, num_startup: int = 20, gamma: float = 0.25, num_candidates: int = 24,
                 prior_weight: float = 1.0, **hyperparameters) -> None:
        super().__init__(context, **hyperparameters)
        if num_startup < 1 or not 0 < gamma <= 1 or num_candidates < 1 or prior_weight <= 0:
            raise UserInputError("tpe needs num_startup >= 1, 0 < gamma <= 1, num_candidates >= 1 and "
                                 f"prior_weight > 0, got {num_startup}, {gamma}, {num_candidates}, {prior_weight}")
        self.num_startup, self.gamma = int(num_startup), float(gamma)
        self.num_candidates, self.prior_weight = int(num_candidates), float(prior_weight)
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
        l = categorical_density(ops[good], self.space.num_ops, self.prior_weight)
        g = categorical_density(ops[bad], self.space.num_ops, self.prior_weight)
        cumulative = l.cumsum(axis=1)
        u = self.rng.random((self.num_candidates, self.space.num_edges, 1))
        candidates = (u > cumulative[None]).sum(axis=2).clip(max=self.space.num_ops - 1)
        edges = np.arange(self.space.num_edges)
        score = (np.log(l[edges, candidates]) - np.log(g[edges, candidates])).sum(axis=1)
        return self.trial(tuple(int(o) for o in candidates[int(np.argmax(score))]))

    def tell(self, trial: Trial, value: float) -> None:
        self.archs.append(trial.arch)
        self.values.append(float(value))
