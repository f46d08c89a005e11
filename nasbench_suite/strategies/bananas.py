"""BANANAS: Bayesian optimisation with neural architectures for NAS (White, Neiswanger, Savani, AAAI 2021)."""

from __future__ import annotations

import numpy as np

from nasbench_suite.errors import UserInputError
from nasbench_suite.space import Ops
from nasbench_suite.strategies._common import BatchStrategy, standardise
from nasbench_suite.strategies._models import Ensemble, mutation_candidates
from nasbench_suite.strategies.base import Context, register

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

    def __init__(self, context: Context, num_init: int = 10, batch_size: int = 10, ensemble_size: int = 5,
                 predictor: str = "xgb", acquisition: str = "its", num_candidates: int = 100,
                 num_parents: int = 10, ucb_beta: float = 0.5, **hyperparameters) -> None:
        super().__init__(context, num_init, batch_size, **hyperparameters)
        if acquisition not in ACQUISITIONS:
            raise UserInputError(f"unknown acquisition {acquisition!r}; valid: {', '.join(ACQUISITIONS)}")
        if num_candidates < 1 or num_parents < 1:
            raise UserInputError(f"bananas needs num_candidates >= 1 and num_parents >= 1, got "
                                 f"{num_candidates} and {num_parents}")
        self.model = Ensemble(predictor, ensemble_size, self.rng)
        self.acquisition, self.ucb_beta = acquisition, float(ucb_beta)
        self.num_candidates, self.num_parents = int(num_candidates), int(num_parents)

    def propose(self) -> list[Ops]:
        self.model.fit(self.space.encode(np.asarray(self.archs), "path"), standardise(self.values))
        candidates = mutation_candidates(self.space, self.top(self.num_parents), self.num_candidates, self.rng,
                                         self.asked, max_edits=2)
        if not candidates:
            return []
        mean, std = self.model.predict(self.space.encode(np.asarray(candidates), "path"))
        score = self.rng.normal(mean, std) if self.acquisition == "its" else mean + self.ucb_beta * std
        return [candidates[i] for i in np.argsort(-score, kind="stable")[:self.batch_size]]
