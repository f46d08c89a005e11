"""pymoo's NSGA-II as a multi-objective strategy, through its ask/tell interface (pymoo imported only when used).

Each position of the space is a pymoo `Choice` of its value names (mixed-variable sampling, mating and duplicate
elimination, pymoo's way for categorical variables: uniform crossover and re-drawing mutation, not SBX on op ids).
pymoo asks a whole generation; it is handed out one cell per `ask` and told back once every cell of it is told. The
algorithm's generator is seeded from the strategy's rng (pymoo 0.6.2 draws from nothing else), so a run is
reproducible.
"""

from __future__ import annotations

from collections import deque
from typing import Any

import numpy as np

from nasbench_suite.multiobjective.strategies import MultiObjectiveStrategy, _register
from nasbench_suite.space.configspace import arch_of
from nasbench_suite.strategies._common import pop_pending
from nasbench_suite.strategies._library import LibraryStrategy, private_global_rng
from nasbench_suite.strategies.base import CELLS, Context, Hyperparameter, Trial


@_register
class PymooNSGA2(MultiObjectiveStrategy, LibraryStrategy):
    """NSGA-II (non-dominated sorting + crowding distance) as pymoo's `NSGA2` on categorical positions. A failed (NaN)
    cell is told as infeasible (one inequality constraint violated), so it ranks behind every measured cell. Asks
    beyond the generation not yet told get uniform cells that pymoo never sees (only with several workers)."""

    name = "pymoo-nsga2"
    family = "evolution/local"
    paper = "Deb, Pratap, Agarwal, Meyarivan, IEEE TEC 2002; pymoo (Blank & Deb, IEEE Access 2020)"
    library, module, extra = "pymoo", "pymoo", "pymoo"
    hyperparameters = (Hyperparameter("population_size", 20, "cells per generation (as nsga2's)",
                                      interval=f"[2, {CELLS}]"),)

    def __init__(self, context: Context, num_objectives: int = 2, **params: Any) -> None:
        super().__init__(context, num_objectives, **params)
        from pymoo.algorithms.moo.nsga2 import NSGA2
        from pymoo.core.mixed import MixedVariableDuplicateElimination, MixedVariableMating, MixedVariableSampling
        from pymoo.core.problem import Problem
        from pymoo.core.variable import Choice

        self.problem = Problem(vars={name: Choice(options=values) for name, values in self.parameters.items()},
                               n_obj=num_objectives, n_ieq_constr=1)
        self.algorithm = NSGA2(pop_size=self.population_size, sampling=MixedVariableSampling(),
                               mating=MixedVariableMating(eliminate_duplicates=MixedVariableDuplicateElimination()),
                               eliminate_duplicates=MixedVariableDuplicateElimination())
        with private_global_rng(self.global_rng):
            self.algorithm.setup(self.problem, termination=("n_gen", 2**31 - 1), seed=self.seed, verbose=False)
        self.generation: Any = None  # the pymoo Population being evaluated
        self.queue: deque[int] = deque()  # its members not yet asked
        self.told: dict[int, np.ndarray] = {}  # member -> objectives (NaN row: failed)
        self.pending: list[tuple[Trial, int | None]] = []  # None: a uniform filler cell

    def ask(self) -> Trial:
        if self.generation is None:
            with private_global_rng(self.global_rng):
                self.generation = self.algorithm.ask()
            self.queue = deque(range(len(self.generation)))
            self.told = {}
        if not self.queue:
            trial = self.trial(self.space.sample(self.rng))
            self.pending.append((trial, None))
            return trial
        member = self.queue.popleft()
        trial = self.trial(arch_of(self.generation[member].X, self.space))
        self.pending.append((trial, member))
        return trial

    def tell(self, trial: Trial, value: np.ndarray) -> None:
        member = pop_pending(self.pending, trial, self.name)
        if member is None:
            return
        self.told[member] = np.asarray(value, dtype=np.float64)
        if len(self.told) < len(self.generation):
            return
        from pymoo.core.evaluator import Evaluator
        from pymoo.problems.static import StaticProblem

        values = np.array([self.told[i] for i in range(len(self.generation))])
        failed = ~np.all(np.isfinite(values), axis=1)
        objectives = np.where(failed[:, None], 0.0, values)  # a failed cell's objectives never count: infeasible
        with private_global_rng(self.global_rng):
            Evaluator().eval(StaticProblem(self.problem, F=objectives, G=failed[:, None].astype(np.float64)),
                             self.generation)
            self.algorithm.tell(infills=self.generation)
        self.generation = None
