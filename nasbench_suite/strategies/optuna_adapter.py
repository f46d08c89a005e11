"""Any Optuna sampler as a strategy, through Optuna's ask/tell interface (Optuna imported only when used)."""

from __future__ import annotations

import math
from typing import Any

from nasbench_suite.errors import UserInputError
from nasbench_suite.space import Ops, Space
from nasbench_suite.strategies._common import pop_pending
from nasbench_suite.strategies.base import Context, Hyperparameter, Strategy, Trial, register


def optuna_distributions(optuna, space: Space) -> dict[str, Any]:
    """One categorical Optuna parameter per position of the space, named by the position, valued by its names."""
    return {position: optuna.distributions.CategoricalDistribution(list(values))
            for position, values in zip(space.positions, space.values)}


def arch_of_params(space: Space, params: dict[str, Any]) -> Ops:
    """The cell of an Optuna trial's parameters (see `optuna_distributions`)."""
    return tuple(values.index(params[position]) for position, values in zip(space.positions, space.values))


def _import_optuna():
    try:
        import optuna
    except ImportError as error:
        raise UserInputError("Optuna strategies need optuna: pip install optuna") from error
    optuna.logging.set_verbosity(optuna.logging.WARNING)  # one line per trial would drown the runner's output
    return optuna


@register
class OptunaStrategy(Strategy):
    """A study maximising the told value over 6 categorical parameters (one per edge, choices = op names).

    `sampler` is any optuna sampler; the default, registered as "optuna-tpe", is Optuna's TPESampler with
    its defaults, seeded from the context's generator. Failed (NaN) runs are told as FAIL.
    """

    name = "optuna-tpe"
    family = "model-based"
    paper = "Akiba, Sano, Yanase, Ohta, Koyama, KDD 2019 (Optuna); Bergstra et al., NeurIPS 2011 (TPE)"
    hyperparameters = (Hyperparameter("sampler", None, "an optuna sampler instance (from Python only); default "
                                      "TPESampler seeded from the context's rng", type=object),)

    def __init__(self, context: Context, **params) -> None:
        super().__init__(context, **params)
        optuna = _import_optuna()
        if self.sampler is None:
            self.sampler = optuna.samplers.TPESampler(seed=int(self.rng.integers(2**31 - 1)))
        elif not isinstance(self.sampler, optuna.samplers.BaseSampler):
            raise UserInputError(f"sampler must be an optuna sampler instance, got {type(self.sampler).__name__}")
        self._optuna = optuna
        self.study = optuna.create_study(direction="maximize", sampler=self.sampler)
        self.edge_names = list(self.space.positions)
        self.distributions = optuna_distributions(optuna, self.space)
        self.pending: list[tuple[Trial, Any]] = []

    def ask(self) -> Trial:
        optuna_trial = self.study.ask(self.distributions)
        trial = self.trial(arch_of_params(self.space, optuna_trial.params))
        self.pending.append((trial, optuna_trial))
        return trial

    def tell(self, trial: Trial, value: float) -> None:
        optuna_trial = pop_pending(self.pending, trial, self.name)
        if math.isnan(value):
            self.study.tell(optuna_trial, state=self._optuna.trial.TrialState.FAIL)
        else:
            self.study.tell(optuna_trial, float(value))
