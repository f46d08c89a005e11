"""Evolutionary strategies: regularized (aging) evolution and a fitness-proportional genetic algorithm."""

from __future__ import annotations

from collections import deque

import numpy as np

from nasbench_suite.errors import UserInputError
from nasbench_suite.space import Ops, Space
from nasbench_suite.strategies._common import fitness
from nasbench_suite.strategies.base import CELLS, SIZE, Context, Hyperparameter, Strategy, Trial, register


def mutate_node_edge(space: Space, arch: Ops, rng: np.random.Generator) -> Ops:
    """REA's mutation as each space publishes it (NAS-Bench-201: a uniform node, then one of its incoming edges)."""
    return space.mutate_structured(arch, rng)


# Regularized evolution's settings as NAS-Bench-201 ran them, shared by every REA (ours, mo-rea, Syne Tune's)
REA_HYPERPARAMETERS = (
    Hyperparameter("population_size", 10, "cells in the population (the oldest leaves)", interval=SIZE),
    Hyperparameter("sample_size", 3, "members sampled per tournament", interval=SIZE),
)

@register
class RegularizedEvolution(Strategy):
    """Regularized (aging) evolution, Real et al. 2019 (AmoebaNet), as run in NAS-Bench-201.

    The first `population_size` asks are uniform cells; afterwards each ask samples `sample_size` members of
    the population uniformly with replacement (the paper's pseudo-code) and mutates the best one as
    NAS-Bench-201's script does (`mutate_node_edge`). Each told child joins the population while the
    *oldest* member leaves. Defaults are NAS-Bench-201's:
    population_size=10, sample_size=3. A failed (NaN) child ranks last but still ages out normally.
    """

    name = "rea"
    family = "evolution/local"
    paper = "Real, Aggarwal, Huang, Le, AAAI 2019; settings of Dong & Yang, ICLR 2020 (NAS-Bench-201)"
    hyperparameters = REA_HYPERPARAMETERS

    def __init__(self, context: Context, **params) -> None:
        super().__init__(context, **params)
        self.population: deque[tuple[Ops, float]] = deque()
        self.initial_asked = 0

    def ask(self) -> Trial:
        if self.initial_asked < self.population_size or not self.population:
            self.initial_asked += 1
            return self.trial(self.space.sample(self.rng))
        picks = self.rng.choice(len(self.population), size=self.sample_size)
        parent = max((self.population[i] for i in picks), key=lambda member: member[1])[0]
        return self.trial(mutate_node_edge(self.space, parent, self.rng))

    def tell(self, trial: Trial, value: float) -> None:
        self.population.append((trial.arch, fitness(value)))
        if len(self.population) > self.population_size:
            self.population.popleft()


@register
class GeneticAlgorithm(Strategy):
    """A generational genetic algorithm with roulette-wheel selection (Holland 1975; Goldberg 1989).

    Parents are drawn with probability P_i = f_i / sum_j f_j over the current generation (f = told value;
    if any value is negative all are shifted by the minimum, Goldberg's windowing, since roulette needs
    f >= 0; a failed (NaN) run weighs 0, below every shifted value; all weights 0: uniform). A child is the
    one-point crossover of two parents with probability `crossover_rate` (else a copy of the first), then each
    edge is re-drawn to a different op with
    probability `mutation_rate`. Once `population_size - elitism` children are told they form the next
    generation together with the `elitism` best of the previous one (kept without re-evaluation).
    The first generation is `population_size` uniform cells.
    Defaults: population_size=20, crossover_rate=0.6 and elitism=1 (De Jong / Goldberg settings),
    mutation_rate=1/6 (one edge per child on average).
    """

    name = "ga"
    family = "evolution/local"
    paper = "Holland 1975; Goldberg 1989"
    hyperparameters = (
        Hyperparameter("population_size", 20, "cells per generation", interval=f"[2, {CELLS}]"),
        Hyperparameter("crossover_rate", 0.6, "probability a child is a one-point crossover", interval="[0, 1]"),
        Hyperparameter("mutation_rate", 1 / 6, "per-edge probability of a new op", interval="[0, 1]"),
        Hyperparameter("elitism", 1, "best cells kept unevaluated into the next generation (< population_size)",
                       interval=f"[0, {CELLS})"),
    )

    def __init__(self, context: Context, **params) -> None:
        super().__init__(context, **params)
        if self.elitism >= self.population_size:
            raise UserInputError(f"ga needs elitism < population_size, got {self.elitism} and "
                                 f"{self.population_size}")
        self.generation: list[tuple[Ops, float]] = []  # current parents: (cell, value)
        self.offspring: list[tuple[Ops, float]] = []

    def _roulette(self) -> Ops:
        values = np.array([v for _, v in self.generation])
        finite = ~np.isnan(values)
        low = values[finite].min() if finite.any() else 0.0
        f = np.where(finite, values - min(low, 0.0), 0.0)  # failed runs weigh nothing; windowing if negative
        total = f.sum()
        p = f / total if total > 0 else np.full(len(f), 1 / len(f))
        return self.generation[int(self.rng.choice(len(f), p=p))][0]

    def ask(self) -> Trial:
        if not self.generation:
            return self.trial(self.space.sample(self.rng))
        child = self._roulette()
        if self.rng.random() < self.crossover_rate:
            child = self.space.crossover_one_point(child, self._roulette(), self.rng)
        flip = self.rng.random(self.space.num_positions) < self.mutation_rate
        shift = self.rng.integers(1, self.space.choices)
        child = tuple(int((op + s) % k) if f else op for op, s, k, f in zip(child, shift, self.space.choices, flip))
        return self.trial(child)

    def tell(self, trial: Trial, value: float) -> None:
        self.offspring.append((trial.arch, float(value)))
        needed = self.population_size - (self.elitism if self.generation else 0)
        if len(self.offspring) >= needed:
            elites = sorted(self.generation, key=lambda member: fitness(member[1]), reverse=True)[:self.elitism]
            self.generation, self.offspring = elites + self.offspring, []
