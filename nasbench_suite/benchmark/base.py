"""What a simulated search talks to: evaluate a cell at a fidelity, get the seen value and its cost.

A benchmark keeps two metrics apart: the *search* metric a strategy sees (e.g. 12-epoch validation accuracy)
and the *report* metric used to score the run (e.g. 200-epoch test accuracy), so the test set never leaks.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

import numpy as np

from nasbench_suite.errors import UserInputError
from nasbench_suite.space import NB201, ArchLike, Space


@dataclass(frozen=True)
class Observation:
    """What one query returns: the value the strategy sees, its simulated cost, and who answered."""

    value: float
    cost: float
    source: str  # "table", "surrogate", or "excluded" (a cell outside the searchable set: NaN, no cost)


EXCLUDED = Observation(float("nan"), 0.0, "excluded")


class Benchmark(ABC):
    """Answers queries about cells of one space; strategies never see it, the runner does.

    Subclasses fill `_report` (report metric per official index) and `_train_seconds` / `_eval_seconds` (per-cell
    cost columns), then call `_set_searchable`; pricing, report lookups and the optimum are shared here.

    The *searchable set* is the cells with a search value at every fidelity searched and a cost. A searchable cell
    without a report value is the runner's error once it becomes an incumbent (loud, never a silently unscored run).
    Strategies draw cells from the whole space, so asking for any other cell returns `EXCLUDED` (value NaN, cost 0),
    which strategies treat as a failed run; report values and the optimum cover the searchable set only.
    """

    kind: str  # what answers the queries: "table", "surrogate" or "hybrid"
    priced: bool = True  # False: queries have no recorded cost (cost 0), so only a query budget bounds a search
    space: Space = NB201
    fidelities: tuple[int, ...]  # epochs at which the search metric can be observed, ascending
    search_metric: str
    report_metric: str
    _report: np.ndarray
    _train_seconds: np.ndarray
    _eval_seconds: np.ndarray
    _searchable: np.ndarray  # bool per official index
    _excluded_reason: str

    @abstractmethod
    def evaluate(self, arch: ArchLike, fidelity: int, rng: np.random.Generator) -> Observation:
        """Simulate training `arch` for `fidelity` epochs and observing the search metric."""

    @abstractmethod
    def describe(self) -> dict[str, Any]:
        """Settings and provenance, recorded next to every leaderboard."""

    def _set_searchable(self, missing: dict[str, np.ndarray]) -> None:
        """Exclude the cells flagged in any `missing` mask (what they lack -> bool per official index)."""
        excluded = np.zeros(self.space.size, dtype=bool)
        for mask in missing.values():
            excluded |= mask
        counts = {what: int(mask.sum()) for what, mask in missing.items() if mask.any()}
        if excluded.all():
            raise UserInputError(f"no cell can be searched: {self._reason(counts)}; use a table that has the "
                                 "search metric, the report metric and a cost for some cells")
        self._searchable = ~excluded
        self._report = np.where(excluded, np.nan, self._report)
        self._excluded_reason = self._reason(counts)

    @staticmethod
    def _reason(counts: dict[str, int]) -> str:
        return "; ".join(f"{n} cells have no {what}" for what, n in counts.items()) or "none"

    def exclusion(self) -> dict[str, Any]:
        """How many cells are outside the searchable set and why (part of `describe()`)."""
        return {"excluded_cells": int((~self._searchable).sum()), "excluded_reason": self._excluded_reason}

    def report(self, arch: ArchLike) -> float:
        """The report metric of a cell (never shown to a strategy)."""
        return float(self._report[self._index(arch)])

    def report_values(self) -> np.ndarray:
        """Report metric of every cell of the space, in official index order (NaN where unknown or excluded)."""
        return self._report

    def optimum(self) -> float:
        """The best report value over the space, for regret."""
        return float(np.nanmax(self._report))

    def cost(self, index: int, fidelity: int) -> float:
        """Simulated seconds to train cell `index` for `fidelity` epochs and evaluate it once (NaN if unknown)."""
        if not 0 <= index < self.space.size:  # a negative index would silently price another cell
            raise UserInputError(f"arch index {index} out of range; expected 0..{self.space.size - 1}")
        return fidelity * float(self._train_seconds[index]) + float(self._eval_seconds[index])

    def check_fidelity(self, fidelity: int) -> int:
        """The fidelity itself, or a clear error naming the ones this benchmark has."""
        if int(fidelity) not in self.fidelities:
            raise UserInputError(f"fidelity {fidelity} epochs is not available for {self.search_metric!r}; "
                                 f"available: {', '.join(map(str, self.fidelities))}")
        return int(fidelity)

    @property
    def max_fidelity(self) -> int:
        return self.fidelities[-1]

    def top_fraction_threshold(self, fraction: float) -> float:
        """Report value a cell must reach to be in the best `fraction` of the space."""
        return float(np.nanquantile(self.report_values(), 1 - fraction))

    def _index(self, arch: ArchLike) -> int:
        """Official index of a cell (the space's `to_index` takes the fast path for what strategies ask)."""
        return self.space.to_index(arch)
