"""The ask/tell interface every search strategy implements, and the registry of strategies by name.

A strategy proposes a cell (and, if it is multi-fidelity, the number of training epochs), is told the value
observed, and proposes again. It never sees a table or a benchmark: only what `tell` gives it, plus the free
context below, so the same strategy runs on a table, a surrogate or a real trainer.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from nasbench_suite.errors import UserInputError
from nasbench_suite.space import NB201, NB201Space, Ops


@dataclass(frozen=True)
class Trial:
    """One proposal: a cell (6 op ids) and the fidelity (training epochs) to evaluate it at."""

    arch: Ops
    fidelity: int


@dataclass
class Context:
    """What a strategy may know besides its observations.

    fidelities: epochs the benchmark can answer, ascending; single-fidelity strategies use `fidelities[-1]`
        unless the runner sets `default_fidelity`.
    proxy: a free per-cell score (e.g. a zero-cost proxy column), or None where the benchmark has none.
    """

    space: NB201Space = NB201
    rng: np.random.Generator | None = None
    fidelities: tuple[int, ...] = (200,)
    default_fidelity: int | None = None
    proxy: Callable[[Ops], float] | None = None

    def __post_init__(self) -> None:
        if self.rng is None:
            raise UserInputError("a strategy needs an explicit numpy Generator (np.random.default_rng(seed))")
        if self.default_fidelity is None:
            self.default_fidelity = self.fidelities[-1]


class Strategy(ABC):
    """Base class: subclasses set `name`, document their defaults, and implement ask/tell."""

    name: ClassVar[str]
    multi_fidelity: ClassVar[bool] = False
    needs_proxy: ClassVar[bool] = False

    def __init__(self, context: Context, **hyperparameters: Any) -> None:
        if hyperparameters:
            raise UserInputError(f"{self.name} got unknown hyperparameters: {', '.join(hyperparameters)}")
        if self.needs_proxy and context.proxy is None:
            raise UserInputError(f"strategy {self.name!r} needs a proxy score column, which this benchmark lacks")
        self.context = context
        self.space = context.space
        self.rng = context.rng

    @abstractmethod
    def ask(self) -> Trial:
        """The next cell (and fidelity) to evaluate."""

    @abstractmethod
    def tell(self, trial: Trial, value: float) -> None:
        """The observed search-metric value of a trial (higher is better; NaN for a failed run)."""

    def trial(self, arch: Ops) -> Trial:
        """A trial at the context's default fidelity."""
        return Trial(tuple(arch), self.context.default_fidelity)


STRATEGIES: dict[str, type[Strategy]] = {}


def register(cls: type[Strategy]) -> type[Strategy]:
    """Class decorator adding a strategy to the registry under `cls.name`."""
    if cls.name in STRATEGIES:
        raise ValueError(f"strategy name {cls.name!r} registered twice")
    STRATEGIES[cls.name] = cls
    return cls


def get_strategy(name: str) -> type[Strategy]:
    """The registered strategy class; a clear error listing valid names otherwise."""
    if name not in STRATEGIES:
        raise UserInputError(f"unknown strategy {name!r}; valid: {', '.join(sorted(STRATEGIES))}")
    return STRATEGIES[name]
