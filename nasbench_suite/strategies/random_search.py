"""Random search (Bergstra & Bengio 2012; the baseline NAS-Bench-201 and Li & Talwalkar 2019 insist on)."""

from __future__ import annotations

from nasbench_suite.strategies._common import sample_unseen
from nasbench_suite.strategies.base import Context, Hyperparameter, Strategy, Trial, register


@register
class RandomSearch(Strategy):
    """Uniform cells from the whole space.

    Defaults: `unique=True` never asks a cell twice (sampling without replacement, so no query is spent on a
    repeat); `unique=False` is textbook sampling with replacement.
    """

    name = "random"
    family = "sampling"
    paper = "Bergstra & Bengio, JMLR 2012; Li & Talwalkar, UAI 2019"
    hyperparameters = (Hyperparameter("unique", True, "never ask a cell twice (sampling without replacement)"),)

    def __init__(self, context: Context, **params) -> None:
        super().__init__(context, **params)
        self.asked: set = set()

    def ask(self) -> Trial:
        arch = sample_unseen(self.space, self.rng, self.asked) if self.unique else self.space.sample(self.rng)
        self.asked.add(arch)
        return self.trial(arch)

    def tell(self, trial: Trial, value: float) -> None:
        """Random search ignores what it observes."""
