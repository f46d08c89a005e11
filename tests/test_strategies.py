"""Search strategies: every registered one runs, is deterministic, asks valid cells and fidelities, and
beats random search on a synthetic landscape; a few also run on the embedded NAS-Bench-201 table."""

from __future__ import annotations

import math
import sys

import numpy as np
import pytest

from nasbench_suite import open_table
from nasbench_suite.benchmark import TableBenchmark
from nasbench_suite.errors import UserInputError
from nasbench_suite.space import NB201
from nasbench_suite.strategies import STRATEGIES, Context, Strategy, get_strategy
from nasbench_suite.strategies._library import LibraryStrategy
from nasbench_suite.strategies.evolution import mutate_node_edge
from nasbench_suite.strategies.hyperband import fidelity_ladder

# the package's own strategies (other test files register throwaway ones in the same registry), less those run by
# an optional library (its extra may be missing: tests/test_library_adapters.py tests them)
PACKAGED = sorted(n for n, c in STRATEGIES.items()
                  if c.__module__.startswith("nasbench_suite.") and not issubclass(c, LibraryStrategy))

FIDELITIES = (12, 200)  # the imported table's
CURVE = tuple(range(1, 201))  # a table with learning curves
TOP = FIDELITIES[-1]
BUDGET = 60  # queries (top-fidelity equivalents for multi-fidelity strategies)
SEEDS = range(7)
# Settings for short budgets where a default is tuned for long runs (MetaQNN's exploration phase).
SHORT_BUDGET = {"qlearning": {"explore_queries": 20, "queries_per_epsilon": 4}}


class Landscape:
    """Value = edges matching a hidden target cell, +1 if two chosen edges both match, plus a small additive
    per-(edge, op) score (so ties are rare) and noise.

    Lower fidelity shrinks the signal and adds noise, as a short training run does. About 1 cell in 4,000
    matches >= 5 edges, so 60 random queries rarely get there.
    """

    def __init__(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed + 1000)
        fixed = np.random.default_rng(99)
        self.target, self.weights = fixed.integers(5, size=6), fixed.random((6, 5)) / 6

    def true(self, arch: tuple[int, ...]) -> float:
        match = np.asarray(arch) == self.target
        return float(match.sum() + (match[2] and match[5]) + self.weights[np.arange(6), arch].sum())

    def __call__(self, arch: tuple[int, ...], fidelity: int) -> float:
        scale = fidelity / TOP
        return self.true(arch) * (0.7 + 0.3 * scale) + self.rng.normal(scale=0.1 + 0.5 * (1 - scale))

    def proxy(self, arch: tuple[int, ...]) -> float:
        return self.true(arch) + float(self.rng.normal(scale=1.5))


def run(name: str, seed: int, budget: int = BUDGET, fail_every: int = 0, fidelities: tuple[int, ...] = FIDELITIES,
        **hyperparameters) -> tuple[list, float]:
    """Ask/tell until `budget` top-fidelity evaluations' worth of cost (epochs) is spent; the asked trials and
    the true value of the best cell evaluated at the top fidelity."""
    landscape = Landscape(seed)
    context = Context(rng=np.random.default_rng(seed), fidelities=fidelities, proxy=landscape.proxy)
    strategy = get_strategy(name)(context, **hyperparameters)
    trials, spent, best = [], 0.0, -math.inf
    while spent < budget * TOP:
        trial = strategy.ask()
        trials.append(trial)
        spent += trial.fidelity
        failed = fail_every and len(trials) % fail_every == 0
        strategy.tell(trial, math.nan if failed else landscape(trial.arch, trial.fidelity))
        if trial.fidelity == TOP and not failed:
            best = max(best, landscape.true(trial.arch))
    return trials, best


@pytest.fixture(scope="module")
def random_median() -> float:
    return float(np.median([run("random", seed)[1] for seed in SEEDS]))


def test_at_least_twelve_strategies_registered() -> None:
    assert len(STRATEGIES) >= 12
    assert {"random", "rea", "ga", "reinforce", "qlearning", "local-search", "bananas", "bo", "sh",
            "hyperband", "bohb", "tpe", "zero-cost", "optuna-tpe"} <= set(STRATEGIES)


@pytest.mark.parametrize("name", sorted(set(PACKAGED) - {"random"}))
def test_beats_random_search(name: str, random_median: float) -> None:
    """Multi-fidelity strategies get every epoch: with only 12 and 200 epochs and eta = 3, Hyperband's
    brackets screen a third of their cells at 12 epochs and it is barely different from random search."""
    fidelities = CURVE if STRATEGIES[name].multi_fidelity else FIDELITIES
    bests = [run(name, seed, fidelities=fidelities, **SHORT_BUDGET.get(name, {}))[1] for seed in SEEDS]
    assert np.median(bests) > random_median, (name, bests, random_median)


@pytest.mark.parametrize("fidelities", [FIDELITIES, CURVE], ids=["12-200", "curve"])
@pytest.mark.parametrize("name", PACKAGED)
def test_deterministic_valid_cells_and_fidelities(name: str, fidelities: tuple[int, ...]) -> None:
    first, _ = run(name, seed=3, budget=40, fidelities=fidelities)
    assert run(name, seed=3, budget=40, fidelities=fidelities)[0] == first
    assert run(name, seed=4, budget=40, fidelities=fidelities)[0] != first
    for trial in first:
        assert len(trial.arch) == 6 and all(type(op) is int and 0 <= op < 5 for op in trial.arch)
        assert trial.fidelity in fidelities
    asked = {t.fidelity for t in first}
    assert asked == {TOP} if not STRATEGIES[name].multi_fidelity else len(asked) >= 2


@pytest.mark.parametrize("name", PACKAGED)
def test_failed_runs_and_asks_before_tells(name: str) -> None:
    """NaN values are handled, and many asks may come before their tells (in any order)."""
    trials, _ = run(name, seed=5, budget=40, fail_every=3)
    assert len(trials) >= 40
    landscape = Landscape(0)
    strategy = get_strategy(name)(Context(rng=np.random.default_rng(0), fidelities=FIDELITIES,
                                          proxy=landscape.proxy))
    for _ in range(4):
        batch = [strategy.ask() for _ in range(15)]
        for trial in reversed(batch):
            strategy.tell(trial, landscape(trial.arch, trial.fidelity))


@pytest.mark.parametrize("name", PACKAGED)
def test_unknown_hyperparameter_rejected(name: str) -> None:
    context = Context(rng=np.random.default_rng(0), fidelities=FIDELITIES, proxy=Landscape(0).proxy)
    with pytest.raises(UserInputError, match="no_such_setting"):
        get_strategy(name)(context, no_such_setting=1)


def test_needs_proxy_without_proxy() -> None:
    with pytest.raises(UserInputError, match="proxy"):
        get_strategy("zero-cost")(Context(rng=np.random.default_rng(0)))


@pytest.mark.parametrize("bad", [{"name": "rea", "population_size": 0}, {"name": "bananas", "predictor": "svm"},
                                 {"name": "bo", "surrogate": "nn"}, {"name": "hyperband", "eta": 1},
                                 {"name": "hyperband", "max_fidelity": 100}, {"name": "tpe", "gamma": 0}])
def test_bad_hyperparameter_values(bad: dict) -> None:
    bad = dict(bad)
    with pytest.raises(UserInputError):
        get_strategy(bad.pop("name"))(Context(rng=np.random.default_rng(0), fidelities=FIDELITIES), **bad)


def test_fidelity_ladder() -> None:
    assert fidelity_ladder((12, 200), 3, 12, 200) == [12, 200]
    assert fidelity_ladder(tuple(range(1, 201)), 3, 1, 200) == [3, 7, 22, 67, 200]
    assert fidelity_ladder((12, 200), 3, 200, 200) == [200]


def test_hyperband_bracket_sizes_on_every_epoch() -> None:
    """With fidelities 1..200 and eta 3, the first bracket is Hyperband's s_max = 4 one: 81 cells at 3 epochs."""
    strategy = get_strategy("hyperband")(Context(rng=np.random.default_rng(0), fidelities=tuple(range(1, 201))))
    assert strategy.bracket_plan(0) == ([3, 7, 22, 67, 200], [81, 27, 9, 3, 1])
    assert strategy.bracket_plan(4) == ([200], [5])
    trials = [strategy.ask() for _ in range(81)]
    assert {t.fidelity for t in trials} == {3} and len({t.arch for t in trials}) == 81
    for trial in trials:
        strategy.tell(trial, float(sum(trial.arch)))
    promoted = [strategy.ask() for _ in range(27)]
    assert {t.fidelity for t in promoted} == {7}
    assert min(sum(t.arch) for t in promoted) >= sorted((sum(t.arch) for t in trials), reverse=True)[26]


def test_optuna_adapter_accepts_any_sampler() -> None:
    optuna = pytest.importorskip("optuna")
    context = Context(rng=np.random.default_rng(0))
    strategy = STRATEGIES["optuna-tpe"](context, sampler=optuna.samplers.RandomSampler(seed=1))
    trial = strategy.ask()
    strategy.tell(trial, 1.0)
    assert len(strategy.study.trials) == 1 and strategy.study.best_value == 1.0
    with pytest.raises(UserInputError, match="sampler"):
        STRATEGIES["optuna-tpe"](context, sampler="tpe")


@pytest.fixture(scope="module")
def nb201() -> TableBenchmark:
    return TableBenchmark(open_table("nb201-cifar10"))


@pytest.mark.parametrize("name", ["rea", "bananas", "hyperband", "zero-cost"])
def test_on_the_nb201_table(name: str, nb201: TableBenchmark) -> None:
    """Real lookups: 12-epoch and 200-epoch validation accuracy, NASWOT as the proxy column."""
    table = nb201.table
    naswot = table.column("naswot_score")
    context = Context(rng=np.random.default_rng(0), fidelities=nb201.fidelities, default_fidelity=12,
                      proxy=lambda arch: float(naswot[table.row(arch)]))
    strategy: Strategy = get_strategy(name)(context)
    eval_rng = np.random.default_rng(1)
    values = []
    for _ in range(40):
        trial = strategy.ask()
        observation = nb201.evaluate(trial.arch, trial.fidelity, eval_rng)
        strategy.tell(trial, observation.value)
        values.append(observation.value)
    assert np.isfinite(values).all() and 0 < min(values) and max(values) <= 100
    # 40 queries find a cell in the space's top half by valid accuracy @12 (median is about 70 %)
    assert max(values) > float(np.nanmedian(nb201.table.values("valid_acc", 12)))


def test_rea_mutation_is_nas_bench_201s() -> None:
    """One edge changes to a different op; node 1's only edge is picked a third of the time."""
    rng, parent = np.random.default_rng(0), (3, 3, 3, 3, 3, 3)
    changed = np.zeros(6)
    for _ in range(3000):
        child = mutate_node_edge(NB201, parent, rng)
        diff = np.flatnonzero(np.asarray(child) != parent)
        assert len(diff) == 1
        changed[diff] += 1
    assert np.allclose(changed / 3000, [1 / 3, 1 / 6, 1 / 6, 1 / 9, 1 / 9, 1 / 9], atol=0.03)


def test_ga_roulette_is_fitness_proportional() -> None:
    strategy = get_strategy("ga")(Context(rng=np.random.default_rng(0)), population_size=3)
    strategy.generation = [((0,) * 6, 1.0), ((1,) * 6, 3.0), ((2,) * 6, math.nan)]  # NaN counts 0
    picks = [strategy._roulette()[0] for _ in range(4000)]
    assert np.allclose(np.bincount(picks, minlength=3) / 4000, [0.25, 0.75, 0.0], atol=0.03)


def test_optuna_missing_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "optuna", None)  # makes `import optuna` raise ImportError
    with pytest.raises(UserInputError, match="pip install"):
        get_strategy("optuna-tpe")(Context(rng=np.random.default_rng(0)))
