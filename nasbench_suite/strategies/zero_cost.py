"""Zero-cost baseline: rank sampled cells by a free proxy and evaluate the best (NASWOT, Mellor et al.,
ICML 2021; Abdelfattah et al., ICLR 2021)."""

from __future__ import annotations

import numpy as np

from nasbench_suite.space import Ops
from nasbench_suite.strategies._common import sample_unseen
from nasbench_suite.strategies.base import SIZE, Context, Hyperparameter, Strategy, Trial, register


@register
class ZeroCost(Strategy):
    """Score `num_samples` uniform unseen cells with the context's proxy and ask them best-first; when the
    pool is spent, draw a fresh one. The first ask is NASWOT's answer (the best-scoring of N sampled cells);
    later asks spend any remaining budget on the next-ranked cells, equal scores in draw order. Missing (NaN or
    None) proxy scores rank last.
    Default: num_samples=1000 (the largest pool N of Mellor et al.'s NAS-Bench-201 runs; with N=100 a
    100-query budget would evaluate the whole pool and the ranking would not matter).
    """

    name = "zero-cost"
    family = "zero-cost"
    paper = "Mellor, Turner, Storkey, Crowley, ICML 2021 (NASWOT); Abdelfattah et al., ICLR 2021"
    needs_proxy = True
    hyperparameters = (Hyperparameter("num_samples", 1000, "uniform cells ranked by the proxy per pool",
                                      interval=SIZE),)

    def __init__(self, context: Context, **params) -> None:
        super().__init__(context, **params)
        self.asked: set[Ops] = set()
        self.ranked: list[Ops] = []

    def ask(self) -> Trial:
        if not self.ranked:
            cells = []  # a pool is drawn only once the previous one was all asked: they all go into `asked` now
            for _ in range(self.num_samples):
                cells.append(sample_unseen(self.space, self.rng, self.asked))
                self.asked.add(cells[-1])
            scores = np.array([self.context.proxy(c) for c in cells], dtype=np.float64)  # None -> NaN
            # best first, equal scores in draw order; numpy sorts NaN (a missing score) after every number
            self.ranked = [cells[i] for i in np.argsort(-scores, kind="stable")]
        return self.trial(self.ranked.pop(0))

    def tell(self, trial: Trial, value: float) -> None:
        """The baseline ignores observed values: its ranking is the proxy's alone."""
