"""Local search, best-improvement over the full neighbourhood (White, Nolen, Savani 2021, "Exploring the loss
landscape in neural architecture search")."""

from __future__ import annotations

from nasbench_suite.space import Ops
from nasbench_suite.strategies._common import fitness, sample_unseen
from nasbench_suite.strategies.base import Context, Strategy, Trial, register


@register
class LocalSearch(Strategy):
    """Start at a uniform cell, evaluate all 24 single-edge neighbours, move to the best if it beats the
    current cell, otherwise (a local optimum) restart at a fresh uniform cell.

    Cells already evaluated are not asked again; their told values are reused. If asked while the
    neighbourhood is still being evaluated, it proposes uniform unseen cells, which are remembered too.
    No hyperparameters.
    """

    name = "local-search"
    family = "evolution/local"
    paper = "White, Nolen, Savani, UAI 2021"

    def __init__(self, context: Context, **params) -> None:
        super().__init__(context, **params)
        self.values: dict[Ops, float] = {}
        self.asked: set[Ops] = set()
        self.current: Ops | None = None
        self.start: Ops | None = None  # restart cell asked, value not yet told
        self.queue: list[Ops] = []  # neighbours of `current` still to ask

    def ask(self) -> Trial:
        if self.queue:
            arch = self.queue.pop(0)
        elif self.current is None and self.start is None:
            arch = self.start = sample_unseen(self.space, self.rng, self.asked)
        else:
            arch = sample_unseen(self.space, self.rng, self.asked)
        self.asked.add(arch)
        return self.trial(arch)

    def tell(self, trial: Trial, value: float) -> None:
        self.values[trial.arch] = float(value)
        if trial.arch == self.start:
            self.start = None
            self._move_to(trial.arch)
        self._climb()

    def _move_to(self, arch: Ops) -> None:
        self.current = arch
        self.queue = [n for n in self.space.neighbours(arch) if n not in self.asked]

    def _climb(self) -> None:
        """Step while the current neighbourhood is fully known; restart at a local optimum."""
        while self.current is not None and not self.queue:
            neighbours = self.space.neighbours(self.current)
            if any(n not in self.values for n in neighbours):
                return  # neighbours asked but not yet told
            best = max(neighbours, key=lambda n: fitness(self.values[n]))
            if fitness(self.values[best]) > fitness(self.values[self.current]):
                self._move_to(best)
            else:
                self.current = None
