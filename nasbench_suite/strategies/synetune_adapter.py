"""Syne Tune's single-fidelity schedulers as strategies, through its AskTellScheduler (imported only when used).

Seeding: each scheduler gets `random_seed` from the strategy's rng, but Syne Tune 0.16 draws some configurations
from numpy's *global* generator (`regularized_evolution.sample_random_config` calls `domain.sample()` without its
`random_state`), so every call into Syne Tune runs under `private_global_rng`: a run is reproducible bit for
bit and nothing else's global stream is touched.
"""

from __future__ import annotations

import math
from abc import abstractmethod
from typing import Any

from nasbench_suite.space.configspace import arch_of
from nasbench_suite.strategies._common import pop_pending
from nasbench_suite.strategies._library import LibraryStrategy, private_global_rng
from nasbench_suite.strategies.base import Context, Trial, register
from nasbench_suite.strategies.evolution import REA_HYPERPARAMETERS

METRIC = "value"


class _SyneTune(LibraryStrategy):
    """A Syne Tune scheduler maximising the told value over one categorical choice per position of the space. Failed
    (NaN) runs are told as -inf, so they rank last (the ask/tell loop has no failed-trial path for searchers)."""

    library, module, extra = "syne-tune", "syne_tune", "synetune"

    def __init__(self, context: Context, **params) -> None:
        super().__init__(context, **params)
        from syne_tune.config_space import choice
        from syne_tune.optimizer.schedulers.ask_tell_scheduler import AskTellScheduler

        config_space = {name: choice(values) for name, values in self.parameters.items()}
        with private_global_rng(self.global_rng):
            self.scheduler = AskTellScheduler(self.make_scheduler(config_space))
        self.pending: list[tuple[Trial, Any]] = []

    @abstractmethod
    def make_scheduler(self, config_space: dict[str, Any]):
        """The Syne Tune scheduler, maximising METRIC, seeded with `self.seed`."""

    def ask(self) -> Trial:
        with private_global_rng(self.global_rng):
            suggestion = self.scheduler.ask()
        trial = self.trial(arch_of(suggestion.config, self.space))
        self.pending.append((trial, suggestion))
        return trial

    def tell(self, trial: Trial, value: float) -> None:
        suggestion = pop_pending(self.pending, trial, self.name)
        with private_global_rng(self.global_rng):
            self.scheduler.tell(suggestion, {METRIC: -math.inf if math.isnan(value) else float(value)})


@register
class SyneTuneREA(_SyneTune):
    """Syne Tune's regularized evolution (`baselines.REA`), with NAS-Bench-201's settings by default so it compares
    with `rea`: the same algorithm, but its mutation re-draws a uniform edge (ours: a uniform node, then one of
    its incoming edges, as NAS-Bench-201's script does)."""

    name = "synetune-rea"
    family = "evolution/local"
    paper = "Real et al., AAAI 2019, as implemented in Syne Tune (Salinas et al., AutoML-Conf 2022)"
    hyperparameters = REA_HYPERPARAMETERS

    def make_scheduler(self, config_space: dict[str, Any]):
        from syne_tune.optimizer.baselines import REA

        return REA(config_space, metric=METRIC, do_minimize=False, random_seed=self.seed,
                   population_size=self.population_size, sample_size=self.sample_size)


@register
class SyneTuneBORE(_SyneTune):
    """Syne Tune's BORE (`baselines.BORE`, its defaults): Bayesian optimisation by a classifier of the top
    quantile, Tiao et al. ICML 2021."""

    name = "synetune-bore"
    family = "model-based"
    paper = "Tiao, Klein, Seeger, Bonilla, Archambeau, Ramos, ICML 2021, as implemented in Syne Tune"

    def make_scheduler(self, config_space: dict[str, Any]):
        from syne_tune.optimizer.baselines import BORE

        return BORE(config_space, metric=METRIC, do_minimize=False, random_seed=self.seed)
