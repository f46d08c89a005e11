"""Multi-objective ask/tell strategies: each is told, per asked cell, a vector of objective values to minimise
(NaN everywhere for a failed or excluded cell) and sees nothing else.

They reuse the single-objective machinery (hyperparameters, `Context`, seeded `rng`) but live in their own
registry, `MO_STRATEGIES`, so the single-objective leaderboard never picks them up.
"""

from __future__ import annotations

from abc import abstractmethod
from collections import deque
from typing import Any

import numpy as np

from nasbench_suite.errors import UserInputError
from nasbench_suite.space import Ops
from nasbench_suite.strategies._common import pop_pending, sample_unseen
from nasbench_suite.strategies.evolution import REA_HYPERPARAMETERS
from nasbench_suite.strategies.base import CELLS, SIZE, Context, Hyperparameter, Strategy, Trial, split_spec
from nasbench_suite.strategies.bo import BayesianOptimisation
from nasbench_suite.strategies.evolution import mutate_node_edge
from nasbench_suite.strategies.optuna_adapter import _import_optuna, arch_of_params, optuna_distributions


def dominates(a: np.ndarray, b: np.ndarray) -> bool:
    """a is no worse than b everywhere and better somewhere (minimisation; NaN rows dominate nothing)."""
    return bool(np.all(a <= b) and np.any(a < b))


class MultiObjectiveStrategy(Strategy):
    """Base class: `num_objectives` is set by the runner; `tell` gets the told vector (lower is better)."""

    def __init__(self, context: Context, num_objectives: int = 2, **params: Any) -> None:
        super().__init__(context, **params)
        self.num_objectives = num_objectives

    @abstractmethod
    def tell(self, trial: Trial, value: np.ndarray) -> None:  # type: ignore[override]
        """The observed objective vector of a trial (minimise every entry; all NaN for a failed run)."""


MO_STRATEGIES: dict[str, type[MultiObjectiveStrategy]] = {}


def _register(cls: type[MultiObjectiveStrategy]) -> type[MultiObjectiveStrategy]:
    MO_STRATEGIES[cls.name] = cls
    return cls


def make_mo_strategy(spec: str, context: Context, num_objectives: int) -> MultiObjectiveStrategy:
    """The strategy a spec `NAME[:KEY=VALUE...]` names; one-line errors list the valid names and keys."""
    name, params = split_spec(spec)
    if name not in MO_STRATEGIES:
        raise UserInputError(f"unknown multi-objective strategy {name!r}; valid: {', '.join(MO_STRATEGIES)}")
    return MO_STRATEGIES[name](context, num_objectives, **params)


@_register
class MORandomSearch(MultiObjectiveStrategy):
    """Uniform cells, never one twice: the baseline every multi-objective method must beat."""

    name = "random"
    family = "sampling"
    paper = "Bergstra & Bengio, JMLR 2012"

    def __init__(self, context: Context, num_objectives: int = 2, **params: Any) -> None:
        super().__init__(context, num_objectives, **params)
        self.asked: set[Ops] = set()

    def ask(self) -> Trial:
        arch = sample_unseen(self.space, self.rng, self.asked)
        self.asked.add(arch)
        return self.trial(arch)

    def tell(self, trial: Trial, value: np.ndarray) -> None:
        """Random search ignores what it observes."""


class _OptunaMO(MultiObjectiveStrategy):
    """An Optuna multi-objective study (one categorical parameter per edge) driven by ask/tell; failed runs FAIL."""

    def __init__(self, context: Context, num_objectives: int = 2, **params: Any) -> None:
        super().__init__(context, num_objectives, **params)
        self._optuna = _import_optuna()
        self.study = self._optuna.create_study(directions=["minimize"] * num_objectives,
                                               sampler=self.sampler(int(self.rng.integers(2**31 - 1))))
        self.distributions = optuna_distributions(self._optuna, self.space)
        self.pending: list[tuple[Trial, Any]] = []

    @abstractmethod
    def sampler(self, seed: int):
        """The Optuna sampler, seeded from the context's generator."""

    def ask(self) -> Trial:
        optuna_trial = self.study.ask(self.distributions)
        trial = self.trial(arch_of_params(self.space, optuna_trial.params))
        self.pending.append((trial, optuna_trial))
        return trial

    def tell(self, trial: Trial, value: np.ndarray) -> None:
        optuna_trial = pop_pending(self.pending, trial, self.name)
        if not np.all(np.isfinite(value)):
            self.study.tell(optuna_trial, state=self._optuna.trial.TrialState.FAIL)
        else:
            self.study.tell(optuna_trial, [float(v) for v in value])


@_register
class NSGA2(_OptunaMO):
    """NSGA-II (non-dominated sorting + crowding distance) as Optuna's NSGAIISampler with uniform crossover.
    Default population_size=20 (Optuna's 50 would leave a ~110-query budget with two generations)."""

    name = "nsga2"
    family = "evolution/local"
    paper = "Deb, Pratap, Agarwal, Meyarivan, IEEE TEC 2002; Optuna's NSGAIISampler"
    hyperparameters = (Hyperparameter("population_size", 20, "cells per generation", interval=f"[2, {CELLS}]"),)

    def sampler(self, seed: int):
        return self._optuna.samplers.NSGAIISampler(population_size=self.population_size, seed=seed)


@_register
class MOTPE(_OptunaMO):
    """Multi-objective TPE (MOTPE): Optuna's TPESampler on several objectives splits good/bad trials by
    non-dominated rank and hypervolume contribution. Defaults: Optuna's (10 random startup trials)."""

    name = "motpe"
    family = "model-based"
    paper = "Ozaki, Tanigaki, Watanabe, Onishi, GECCO 2020 / JAIR 2022; Optuna's TPESampler"
    hyperparameters = (Hyperparameter("n_startup_trials", 10, "random trials before the model", interval=SIZE),)

    def sampler(self, seed: int):
        return self._optuna.samplers.TPESampler(n_startup_trials=self.n_startup_trials, seed=seed)


@_register
class ParetoEvolution(MultiObjectiveStrategy):
    """Multi-objective regularized evolution: REA (Real et al. 2019) with a Pareto tournament. The first
    `population_size` asks are uniform; then `sample_size` members are drawn with replacement, the parent is
    a uniform pick among those no other drawn member dominates, and the child is NAS-Bench-201's node/edge
    mutation; the oldest member ages out. Defaults (REA's in NAS-Bench-201): population_size=10, sample_size=3."""

    name = "mo-rea"
    family = "evolution/local"
    paper = "Real, Aggarwal, Huang, Le, AAAI 2019, with a Pareto-dominance tournament"
    hyperparameters = REA_HYPERPARAMETERS

    def __init__(self, context: Context, num_objectives: int = 2, **params: Any) -> None:
        super().__init__(context, num_objectives, **params)
        self.population: deque[tuple[Ops, np.ndarray]] = deque()
        self.initial_asked = 0

    def ask(self) -> Trial:
        if self.initial_asked < self.population_size or not self.population:
            self.initial_asked += 1
            return self.trial(self.space.sample(self.rng))
        drawn = [self.population[i] for i in self.rng.choice(len(self.population), size=self.sample_size)]
        winners = [a for a, y in drawn if np.all(np.isfinite(y)) and not any(dominates(z, y) for _, z in drawn)]
        parent = winners[int(self.rng.integers(len(winners)))] if winners else drawn[0][0]
        return self.trial(mutate_node_edge(self.space, parent, self.rng))

    def tell(self, trial: Trial, value: np.ndarray) -> None:
        self.population.append((trial.arch, np.asarray(value, dtype=np.float64)))
        if len(self.population) > self.population_size:
            self.population.popleft()


@_register
class ParetoLocalSearch(MultiObjectiveStrategy):
    """Pareto local search (Paquete, Chiarandini, Stuetzle 2004): keep the archive of non-dominated told cells;
    each ask is an unasked one-edge neighbour of a uniform archive member, or a uniform unasked cell when the
    archive is empty or every neighbour of the picked member was asked."""

    name = "pls"
    family = "evolution/local"
    paper = "Paquete, Chiarandini, Stuetzle, 2004 (Pareto local search)"

    def __init__(self, context: Context, num_objectives: int = 2, **params: Any) -> None:
        super().__init__(context, num_objectives, **params)
        self.archive: list[tuple[Ops, np.ndarray]] = []
        self.asked: set[Ops] = set()

    def ask(self) -> Trial:
        arch = None
        if self.archive:
            member = self.archive[int(self.rng.integers(len(self.archive)))][0]
            fresh = [n for n in self.space.neighbours(member) if n not in self.asked]
            arch = fresh[int(self.rng.integers(len(fresh)))] if fresh else None
        arch = arch or sample_unseen(self.space, self.rng, self.asked)
        self.asked.add(arch)
        return self.trial(arch)

    def tell(self, trial: Trial, value: np.ndarray) -> None:
        value = np.asarray(value, dtype=np.float64)
        if not np.all(np.isfinite(value)) or any(dominates(y, value) or np.array_equal(y, value)
                                                  for _, y in self.archive):
            return
        self.archive = [(a, y) for a, y in self.archive if not dominates(value, y)] + [(trial.arch, value)]


@_register
class ParEGO(MultiObjectiveStrategy):
    """ParEGO (Knowles 2006) on the suite's BO (`bo`: Hamming-kernel GP + expected improvement): before every
    ask, draw Chebyshev weights uniformly on the simplex, normalise the told objectives to [0, 1] by their
    observed range, scalarise each told cell as max_i(w_i y_i) + rho * sum_i(w_i y_i) (rho = 0.05, Knowles'),
    and let the BO propose the next cell for that scalar. BO settings are `bo`'s defaults."""

    name = "parego"
    family = "model-based"
    paper = "Knowles, IEEE TEC 2006 (ParEGO); BO as in the suite's `bo` strategy"
    hyperparameters = (Hyperparameter("rho", 0.05, "weight of the linear term of the augmented Chebyshev "
                                      "scalarisation", interval="[0, inf)"),)

    def __init__(self, context: Context, num_objectives: int = 2, **params: Any) -> None:
        super().__init__(context, num_objectives, **params)
        self.bo = BayesianOptimisation(context)
        self.told: list[np.ndarray] = []

    def ask(self) -> Trial:
        weights = self.rng.dirichlet(np.ones(self.num_objectives))
        self.bo.values = list(-self.scalarise(np.array(self.told).reshape(-1, self.num_objectives), weights))
        return self.bo.ask()

    def scalarise(self, y: np.ndarray, weights: np.ndarray) -> np.ndarray:
        """Augmented Chebyshev values of told vectors (NaN rows stay NaN: the BO treats them as failures)."""
        finite = y[np.isfinite(y).all(axis=1)]
        if not len(finite):
            return np.full(len(y), np.nan)
        low, high = finite.min(axis=0), finite.max(axis=0)
        scaled = weights * (y - low) / np.where(high > low, high - low, 1.0)
        return scaled.max(axis=1) + self.rho * scaled.sum(axis=1)

    def tell(self, trial: Trial, value: np.ndarray) -> None:
        self.bo.archs.append(trial.arch)
        self.told.append(np.asarray(value, dtype=np.float64))


DEFAULT_PARETO = tuple(MO_STRATEGIES)
DEFAULT_CONSTRAINED = ("random", "rea", "bo")
