"""Nevergrad optimisers as strategies, through their ask/tell interface (nevergrad imported only when used).

The cell is a `ng.p.Dict` of one `ng.p.Choice` per position of the space (NB201: op names per edge); its
`random_state` is seeded from the strategy's rng. NGOpt's portfolio also draws from numpy's global generator, so
every call runs under `private_global_rng`: a run is reproducible bit for bit and leaves the global stream alone.
"""

from __future__ import annotations

import math
import warnings
from typing import Any, ClassVar

import numpy as np

from nasbench_suite.space.configspace import arch_of
from nasbench_suite.strategies._common import pop_pending
from nasbench_suite.strategies._library import LibraryStrategy, private_global_rng
from nasbench_suite.strategies.base import SIZE, Context, Hyperparameter, Trial, register

FAILED_LOSS = 1e6  # a failed (NaN) run: worse than any accuracy (nevergrad clips inf with a warning per tell)


class _Nevergrad(LibraryStrategy):
    """A nevergrad optimiser (`optimizer`, a name in `ng.optimizers.registry`) minimising minus the told value."""

    library, module, extra = "nevergrad", "nevergrad", "nevergrad"
    optimizer: ClassVar[str]
    hyperparameters = (Hyperparameter("budget", 100, "queries the optimiser is told to plan for (NGOpt picks its "
                                      "algorithm by it; 100 is about the default preset's)", interval=SIZE),)

    def __init__(self, context: Context, **params) -> None:
        super().__init__(context, **params)
        ng = self.lib
        parametrization = ng.p.Dict(**{name: ng.p.Choice(values) for name, values in self.parameters.items()})
        parametrization.random_state = np.random.RandomState(self.seed)
        with private_global_rng(self.global_rng):
            self.optimiser = ng.optimizers.registry[self.optimizer](parametrization, budget=self.budget,
                                                                    num_workers=1)
        self.pending: list[tuple[Trial, Any]] = []

    def ask(self) -> Trial:
        with warnings.catch_warnings(), private_global_rng(self.global_rng):  # past `budget`, each ask warns
            warnings.simplefilter("ignore")  # the runner's budget rules, not the optimiser's
            candidate = self.optimiser.ask()
        trial = self.trial(arch_of(candidate.value, self.space))
        self.pending.append((trial, candidate))
        return trial

    def tell(self, trial: Trial, value: float) -> None:
        candidate = pop_pending(self.pending, trial, self.name)
        with warnings.catch_warnings(), private_global_rng(self.global_rng):
            warnings.simplefilter("ignore")
            self.optimiser.tell(candidate, FAILED_LOSS if math.isnan(value) else -float(value))


@register
class NevergradNGOpt(_Nevergrad):
    """Nevergrad's NGOpt: a wizard choosing an optimiser (here a portfolio) from the space and the budget."""

    name = "nevergrad-ngopt"
    family = "evolution/local"
    paper = "Meunier et al., IEEE TEVC 2022 (NGOpt); Rapin & Teytaud 2018 (Nevergrad)"
    optimizer = "NGOpt"


@register
class NevergradDE(_Nevergrad):
    """Nevergrad's differential evolution (`DE`) on the softmax-relaxed categorical positions."""

    name = "nevergrad-de"
    family = "evolution/local"
    paper = "Storn & Price, J. Global Optim. 1997 (DE); Rapin & Teytaud 2018 (Nevergrad)"
    optimizer = "DE"


@register
class NevergradDiscreteOnePlusOne(_Nevergrad):
    """Nevergrad's discrete (1+1) evolution strategy (`DiscreteOnePlusOne`): mutate the best cell, keep the better."""

    name = "nevergrad-1plus1"
    family = "evolution/local"
    paper = "Droste, Jansen, Wegener, TCS 2002 ((1+1) EA); Rapin & Teytaud 2018 (Nevergrad)"
    optimizer = "DiscreteOnePlusOne"
