"""What a simulated search talks to: evaluate a cell at a fidelity, get the seen value and its cost.

A benchmark keeps two metrics apart: the *search* metric a strategy sees (e.g. 12-epoch validation accuracy)
and the *report* metric used to score the run (e.g. 200-epoch test accuracy), so the test set never leaks.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

import numpy as np

from nasbench_suite.space import NB201, ArchLike, NB201Space


@dataclass(frozen=True)
class Observation:
    """What one query returns: the value the strategy sees, its simulated cost, and who answered."""

    value: float
    cost: float
    source: str  # "table" or "surrogate"


class Benchmark(ABC):
    """Answers queries about cells of one space; strategies never see it, the runner does."""

    space: NB201Space = NB201
    fidelities: tuple[int, ...]  # epochs at which the search metric can be observed, ascending
    search_metric: str
    report_metric: str

    @abstractmethod
    def evaluate(self, arch: ArchLike, fidelity: int, rng: np.random.Generator) -> Observation:
        """Simulate training `arch` for `fidelity` epochs and observing the search metric."""

    @abstractmethod
    def report(self, arch: ArchLike) -> float:
        """The report metric of a cell (never shown to a strategy)."""

    @abstractmethod
    def optimum(self) -> float:
        """The best report value over the space, for regret."""

    @abstractmethod
    def describe(self) -> dict[str, Any]:
        """Settings and provenance, recorded next to every leaderboard."""

    def check_fidelity(self, fidelity: int) -> int:
        """The fidelity itself, or a clear error naming the ones this benchmark has."""
        if int(fidelity) not in self.fidelities:
            from nasbench_suite.errors import UserInputError

            raise UserInputError(f"fidelity {fidelity} epochs is not available for {self.search_metric!r}; "
                                 f"available: {', '.join(map(str, self.fidelities))}")
        return int(fidelity)

    @property
    def max_fidelity(self) -> int:
        return self.fidelities[-1]

    def top_fraction_threshold(self, fraction: float) -> float:
        """Report value a cell must reach to be in the best `fraction` of the space."""
        values = self.report_values()
        return float(np.nanquantile(values, 1 - fraction))

    @abstractmethod
    def report_values(self) -> np.ndarray:
        """Report metric of every cell of the space, in official index order (NaN where unknown)."""
