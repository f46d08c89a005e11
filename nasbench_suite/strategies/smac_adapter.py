"""SMAC3's random-forest Bayesian optimisation as a strategy, through its ask/tell interface (SMAC imported only when
used). The cell is the ConfigSpace export of the space (`nasbench_suite.space.configspace`); the scenario's seed
comes from the strategy's rng, and SMAC keeps its run files in a temporary folder removed with the strategy.

A run repeats bit for bit only under one PYTHONHASHSEED: SMAC 2.4's local search starts from `list(set(...))` of
Configurations, which hash their repr (acquisition/maximizer/local_search.py, `_get_initial_points`), so the order
follows Python's string hashing. Run with e.g. `PYTHONHASHSEED=0 nasbench-suite benchmark ...`."""

from __future__ import annotations

import math
import tempfile
from typing import Any

from nasbench_suite.space.configspace import arch_of, to_configspace
from nasbench_suite.strategies._common import pop_pending
from nasbench_suite.strategies._library import LibraryStrategy, private_global_rng
from nasbench_suite.strategies.base import SIZE, Context, Hyperparameter, Trial, register


@register
class SMACHPO(LibraryStrategy):
    """SMAC3's HyperparameterOptimizationFacade: a random forest with log-transformed costs, Sobol initial design
    and local plus random search of expected improvement (its defaults). A failed (NaN) run is told as CRASHED at
    the worst cost seen (SMAC's default crash cost, inf, turns its log-scaled targets into NaN)."""

    name = "smac-hpo"
    family = "model-based"
    paper = "Lindauer et al., JMLR 2022 (SMAC3); Hutter, Hoos, Leyton-Brown, LION 2011 (SMAC)"
    library, module, extra = "smac", "smac", "smac"
    hyperparameters = (Hyperparameter("budget", 100, "queries SMAC plans for (its initial design is a quarter at "
                                      "most; 100 is about the default preset's)", interval=SIZE),)

    def __init__(self, context: Context, **params) -> None:
        super().__init__(context, **params)
        from smac import HyperparameterOptimizationFacade, Scenario

        self.folder = tempfile.TemporaryDirectory(prefix="nasbench-smac-")  # removed when the strategy is
        scenario = Scenario(to_configspace(self.space), deterministic=True, n_trials=self.budget, seed=self.seed,
                            output_directory=self.folder.name)
        with private_global_rng(self.global_rng):
            self.smac = HyperparameterOptimizationFacade(scenario, _never_called, overwrite=True, logging_level=40)
        self.pending: list[tuple[Trial, Any]] = []
        self.worst = -math.inf  # the highest cost told; failed runs wait for one (SMAC's log-scaled costs need it)
        self.failed: list[Any] = []

    def ask(self) -> Trial:
        with private_global_rng(self.global_rng):
            info = self.smac.ask()
        trial = self.trial(arch_of(info.config, self.space))
        self.pending.append((trial, info))
        return trial

    def tell(self, trial: Trial, value: float) -> None:
        info = pop_pending(self.pending, trial, self.name)
        if math.isnan(value):
            self.failed.append(info)
        else:
            self.worst = max(self.worst, -float(value))
            self._tell(info, -float(value), crashed=False)
        if math.isfinite(self.worst):
            while self.failed:
                self._tell(self.failed.pop(0), self.worst, crashed=True)

    def _tell(self, info: Any, cost: float, crashed: bool) -> None:
        from smac.runhistory.dataclasses import TrialValue
        from smac.runhistory.enumerations import StatusType

        status = StatusType.CRASHED if crashed else StatusType.SUCCESS
        with private_global_rng(self.global_rng):
            self.smac.tell(info, TrialValue(cost=cost, status=status))


def _never_called(config, seed: int = 0) -> float:
    """SMAC's facades require a target function; ask/tell never calls it."""
    raise AssertionError("SMAC called its target function in ask/tell mode")
