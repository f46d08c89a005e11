"""BANANAS: Bayesian optimisation with neural architectures for NAS (White, Neiswanger, Savani, AAAI 2021)."""

from __future__ import annotations

import numpy as np

from nasbench_suite.space import Ops
from nasbench_suite.strategies._common import BatchStrategy, standardise
from nasbench_suite.strategies._models import ENSEMBLE_KINDS, Ensemble, mutation_candidates
from nasbench_suite.strategies.base import SIZE, Context, Hyperparameter, register

ACQUISITIONS = ("its", "ucb")


@register
class Bananas(BatchStrategy):
    """An ensemble of predictors on the path encoding, Thompson-sampled or UCB acquisition, and
    mutation-based acquisition optimisation.

    After `num_init` uniform cells, each round fits `ensemble_size` predictors (`predictor` "mlp" as in the
    paper, or "xgb") on all told values, builds up to `num_candidates` unasked cells by mutating the
    `num_parents` best cells seen on one or two edges, scores them by independent Thompson sampling
    (one draw from N(mean, std) per candidate, acquisition "its") or by mean + ucb_beta * std ("ucb"), and
    asks the best `batch_size`. Defaults: the paper's num_init=10, batch_size=10, ensemble_size=5,
    acquisition="its", num_candidates=100; ours: num_parents=10, ucb_beta=0.5, predictor="xgb" (five
    50-tree XGBoost models cost about a fifth of the CPU time of five 3x20 MLPs; the paper's net is 10x20).
    """

    name = "bananas"
    paper = "White, Neiswanger, Savani, AAAI 2021"
    hyperparameters = (
        Hyperparameter("batch_size", 10, "cells asked per model fit", interval=SIZE),
        # all refit every round: at most 100, 20x the paper's
        Hyperparameter("ensemble_size", 5, "predictors in the ensemble", interval="[1, 100]"),
        Hyperparameter("predictor", "xgb", "ensemble member", choices=ENSEMBLE_KINDS),
        Hyperparameter("acquisition", "its", "independent Thompson sampling or UCB", choices=ACQUISITIONS),
        Hyperparameter("num_candidates", 100, "mutated cells scored per round", interval=SIZE),
        Hyperparameter("num_parents", 10, "best cells mutated into candidates", interval=SIZE),
        Hyperparameter("ucb_beta", 0.5, "UCB exploration weight", interval="[0, inf)"),
    )

    def __init__(self, context: Context, **params) -> None:
        super().__init__(context, **params)
        self.model = Ensemble(self.predictor, self.ensemble_size, self.rng)

    def propose(self) -> list[Ops]:
        self.model.fit(self.space.encode(np.asarray(self.archs), "path"), standardise(self.values))
        candidates = mutation_candidates(self.space, self.top(self.num_parents), self.num_candidates, self.rng,
                                         self.asked, max_edits=2)
        if not candidates:
            return []
        mean, std = self.model.predict(self.space.encode(np.asarray(candidates), "path"))
        score = self.rng.normal(mean, std) if self.acquisition == "its" else mean + self.ucb_beta * std
        return [candidates[i] for i in np.argsort(-score, kind="stable")[:self.batch_size]]
