"""A Bayesian-optimisation baseline: GP or random-forest surrogate with expected improvement."""

from __future__ import annotations

import numpy as np

from nasbench_suite.errors import UserInputError
from nasbench_suite.space import Ops
from nasbench_suite.strategies._common import BatchStrategy, standardise
from nasbench_suite.strategies._models import (
    Ensemble,
    HammingGP,
    expected_improvement,
    mutation_candidates,
    random_candidates,
)
from nasbench_suite.strategies.base import CELLS, Context, Hyperparameter, register

SURROGATES = ("gp", "rf")


@register
class BayesianOptimisation(BatchStrategy):
    """Sequential model-based optimisation (Snoek et al. 2012 with a GP; Hutter et al. 2011, SMAC, with a
    random forest), maximising expected improvement over a candidate pool.

    surrogate "gp": a GP on the 6 categorical edges with kernel exp(-hamming / lengthscale), lengthscale
    and noise by marginal likelihood; "rf": a random forest of `num_trees` trees on the one-hot encoding,
    mean and spread over trees. The pool is `num_random` uniform unasked cells plus `num_mutations`
    one- or two-edge mutations of the 10 best cells (SMAC's local-plus-random search, simplified); the
    top `batch_size` EI cells are asked per refit. Defaults: surrogate="gp", num_init=10, batch_size=1
    (refit every query), num_random=200, num_mutations=100, num_trees=10 (SMAC's).
    """

    name = "bo"
    paper = "Snoek, Larochelle, Adams, NeurIPS 2012 (GP); Hutter, Hoos, Leyton-Brown, LION 2011 (SMAC, RF)"
    hyperparameters = (
        Hyperparameter("surrogate", "gp", "Hamming-kernel GP or random forest", choices=SURROGATES),
        Hyperparameter("num_random", 200, "uniform unasked cells in the candidate pool", interval=f"[0, {CELLS}]"),
        Hyperparameter("num_mutations", 100, "mutations of the 10 best cells in the pool", interval=f"[0, {CELLS}]"),
        # refit every round: at most 1000, 100x SMAC's
        Hyperparameter("num_trees", 10, "random-forest trees (surrogate rf)", interval="[1, 1000]"),
    )

    def __init__(self, context: Context, **params) -> None:
        super().__init__(context, **params)
        if self.num_random + self.num_mutations < 1:
            raise UserInputError(f"bo needs a non-empty candidate pool, got num_random={self.num_random}, "
                                 f"num_mutations={self.num_mutations}")
        self.model = HammingGP() if self.surrogate == "gp" else Ensemble("rf", self.num_trees, self.rng)

    def _features(self, archs: list[Ops]) -> np.ndarray:
        ops = np.asarray(archs)
        return ops if self.surrogate == "gp" else self.space.encode(ops, "onehot")

    def propose(self) -> list[Ops]:
        y = standardise(self.values)
        self.model.fit(self._features(self.archs), y)
        candidates = list(dict.fromkeys(
            mutation_candidates(self.space, self.top(10), self.num_mutations, self.rng, self.asked, max_edits=2)
            + random_candidates(self.space, self.num_random, self.rng, self.asked)))
        if not candidates:
            return []
        mean, std = self.model.predict(self._features(candidates))
        score = expected_improvement(mean, np.maximum(std, 1e-9), float(y.max()))
        return [candidates[i] for i in np.argsort(-score, kind="stable")[:self.batch_size]]
