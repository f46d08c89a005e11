"""The evolutionary strategies' rules through ask/tell, on hand-made cases: documented defaults and bounds, REA's
uniform start, the genetic algorithm's roulette (with windowing), mutation and generations. Written for the
mutants of strategies/evolution.py that survived the rest of the suite (results/mutation/README.md)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from nasbench_suite.errors import UserInputError
from nasbench_suite.space import NB201
from nasbench_suite.strategies import Context, Trial, get_strategy
from nasbench_suite.strategies.evolution import mutate_node_edge

A, B, C, D = (0,) * 6, (1,) * 6, (2,) * 6, (3,) * 6  # pairwise different on every edge


def make(name: str, seed: int = 0, **hyperparameters):
    return get_strategy(name)(Context(rng=np.random.default_rng(seed)), **hyperparameters)


def distance(a, b) -> int:
    return sum(x != y for x, y in zip(a, b))


def test_documented_defaults():
    rea, ga = make("rea"), make("ga")
    assert (rea.population_size, rea.sample_size) == (10, 3)  # NAS-Bench-201's
    assert (ga.population_size, ga.crossover_rate, ga.mutation_rate, ga.elitism) == (20, 0.6, 1 / 6, 1)


@pytest.mark.parametrize("name, accepted", [
    ("rea", {"population_size": 1, "sample_size": 1}),
    ("ga", {"population_size": 2, "elitism": 0, "crossover_rate": 0.0, "mutation_rate": 0.0}),
    ("ga", {"population_size": 2, "elitism": 1, "crossover_rate": 1.0, "mutation_rate": 1.0}),
])
def test_smallest_and_largest_settings_are_accepted(name, accepted):
    make(name, **accepted)


@pytest.mark.parametrize("name, rejected, message", [
    ("rea", {"population_size": 0}, r"rea: population_size=0 is invalid; expected int in \[1, inf\)"),
    ("rea", {"sample_size": 0}, r"rea: sample_size=0 is invalid; expected int in \[1, inf\)"),
    ("ga", {"population_size": 1, "elitism": 0}, r"ga: population_size=1 is invalid; expected int in \[2, inf\)"),
    ("ga", {"population_size": 4, "elitism": 4}, "got 4 and 4"),
    ("ga", {"elitism": -1}, r"ga: elitism=-1 is invalid; expected int in \[0, inf\)"),
    ("ga", {"crossover_rate": 1.01}, r"ga: crossover_rate=1.01 is invalid; expected float in \[0, 1\]"),
    ("ga", {"mutation_rate": 1.01}, "mutation_rate=1.01"),
    ("ga", {"crossover_rate": -0.1}, "crossover_rate=-0.1"),
])
def test_out_of_range_settings_name_the_rule(name, rejected, message):
    with pytest.raises(UserInputError, match=message):
        make(name, **rejected)


def test_rea_mutation_reaches_every_other_op():
    rng, parent = np.random.default_rng(1), np.full(6, 2)
    new_ops = set()
    for _ in range(400):
        child = np.asarray(mutate_node_edge(NB201, tuple(parent), rng))
        new_ops |= set(child[child != parent].tolist())
    assert new_ops == {0, 1, 3, 4}


def test_rea_starts_with_population_size_uniform_cells_even_when_told_in_between():
    rea = make("rea", seed=2, population_size=3)
    first = []
    for _ in range(3):
        trial = rea.ask()
        assert all(distance(trial.arch, seen) > 1 for seen in first)  # not a mutant of an earlier cell
        first.append(trial.arch)
        rea.tell(trial, 50.0)
    assert min(distance(rea.ask().arch, member) for member in first) == 1  # the 4th is a mutant


def ga_after_first_generation(values, seed=0, **hyperparameters):
    """A GA whose first generation is A, B, ... with `values`; crossover and mutation off unless given."""
    settings = {"population_size": len(values), "elitism": 0, "crossover_rate": 0.0, "mutation_rate": 0.0,
                **hyperparameters}
    ga = make("ga", seed=seed, **settings)
    for cell, value in zip((A, B, C, D), values):
        ga.tell(Trial(cell, 200), value)
    return ga


@pytest.mark.parametrize("values, expected", [
    ((1.0, 3.0), (0.25, 0.75)),  # P_i = f_i / sum f
    ((0.2, 0.6), (0.25, 0.75)),  # a total below 1 is still a proportion
    ((0.5, 1.5), (0.25, 0.75)),  # positive values are not shifted
    ((-1.0, 1.0), (0.0, 1.0)),  # a negative value shifts all by the minimum (windowing)
    ((math.nan, math.nan), (0.5, 0.5)),  # nothing to go by: uniform
    ((0.0, 0.0), (0.5, 0.5)),
])
def test_ga_roulette_probabilities(values, expected):
    ga = ga_after_first_generation(values)
    picks = [ga.ask().arch for _ in range(2000)]  # no crossover or mutation: the child is the parent
    assert set(picks) <= {A, B}
    assert picks.count(B) / 2000 == pytest.approx(expected[1], abs=0.035)


def test_ga_mutation_changes_each_edge_to_a_uniform_other_op():
    ga = ga_after_first_generation((-1.0, 1.0), mutation_rate=1.0)  # the parent is always B
    children = np.array([ga.ask().arch for _ in range(400)])
    assert (children != 1).all()
    for edge in range(6):
        counts = np.bincount(children[:, edge], minlength=5)
        assert counts[1] == 0 and (counts[[0, 2, 3, 4]] > 60).all()


def test_ga_generations_form_after_the_right_number_of_tells():
    """Population 4, one elite: the first generation is the first 4 told cells, the next one the best of them
    plus the next 3 children."""
    ga = make("ga", seed=3, population_size=4, elitism=1, crossover_rate=0.0, mutation_rate=0.0)

    def parents(draws: int = 300) -> set:
        return {ga.ask().arch for _ in range(draws)}

    for cell, value in zip((A, B, C), (10.0, 40.0, 20.0)):
        ga.tell(Trial(cell, 200), value)
    assert len(parents() - {A, B, C}) > 250  # still uniform cells: no generation yet
    ga.tell(Trial(D, 200), 30.0)
    assert parents() == {A, B, C, D}
    children = [(4,) * 6, (0, 1, 2, 3, 4, 0), (1, 2, 3, 4, 0, 1)]
    for child in children[:2]:
        ga.tell(Trial(child, 200), 25.0)
    assert parents() == {A, B, C, D}  # 2 of the 3 children needed
    ga.tell(Trial(children[2], 200), 25.0)
    assert parents() == {B, *children}  # the elite (B, 40) plus the 3 children


# ---- local search, zero-cost and the shared helpers (strategies/local_search.py, zero_cost.py, _common.py) ------
from nasbench_suite.strategies._common import MAX_TRIES, fitness, pop_pending, sample_unseen, standardise  # noqa: E402


def test_local_search_climbs_by_best_improvement_and_restarts_at_a_local_optimum():
    target = (4, 3, 2, 1, 0, 4)
    value = {}  # told values: minus the distance to `target`, so the best neighbour is one edge closer

    def score(arch):
        return value.setdefault(arch, -float(distance(arch, target)))

    search, asked = make("local-search", seed=3), []
    start = search.ask().arch
    asked.append(start)
    search.tell(Trial(start, 200), score(start))
    current, moves = start, 0
    while True:
        expected = [n for n in NB201.neighbours(current) if n not in asked]
        got = [search.ask().arch for _ in expected]
        assert got == expected  # the whole unasked neighbourhood, in order, before any move
        for arch in got:
            asked.append(arch)
            search.tell(Trial(arch, 200), score(arch))
        best = max(NB201.neighbours(current), key=score)  # ties: the first in neighbour order
        if current == target:
            break
        assert score(best) == score(current) + 1 and search.current == best
        current, moves = best, moves + 1
    assert moves == distance(start, target) > 1
    restart = search.ask().arch  # the target is a local optimum: a fresh uniform cell
    assert restart not in asked and search.current is None and search.start == restart


def test_local_search_proposes_unseen_cells_while_neighbours_are_pending_and_ranks_a_failure_last():
    search = make("local-search", seed=0)
    start = search.ask()
    search.tell(start, 50.0)
    neighbours = [search.ask() for _ in range(24)]
    extra = search.ask()  # all asked, none told
    assert extra.arch not in {t.arch for t in neighbours} | {start.arch} and extra.arch not in NB201.neighbours(start.arch)
    for i, trial in enumerate(neighbours):
        search.tell(trial, float("nan") if i == 0 else 10.0)
    assert search.current is None  # no neighbour beat 50 (a NaN neither): restart
    search = make("local-search", seed=0)
    start = search.ask()
    search.tell(start, float("nan"))
    neighbours = [search.ask() for _ in range(24)]
    for i, trial in enumerate(neighbours):
        search.tell(trial, 1.0 if i == 5 else 0.0)
    assert search.current == neighbours[5].arch  # any value beats a failed start


def test_zero_cost_asks_its_pool_best_proxy_first_then_draws_a_fresh_pool():
    def proxy(arch):
        return float("nan") if arch[0] == 0 else float(NB201.to_index(arch))

    strategy = get_strategy("zero-cost")(Context(rng=np.random.default_rng(0), proxy=proxy), num_samples=7)
    first = [strategy.ask().arch for _ in range(7)]
    scores = [proxy(a) for a in first]
    finite = [s for s in scores if not math.isnan(s)]
    assert scores[:len(finite)] == sorted(finite, reverse=True) and all(map(math.isnan, scores[len(finite):]))
    assert len(set(first)) == 7 and strategy.ranked == []
    second = [strategy.ask().arch for _ in range(7)]
    assert not set(second) & set(first) and len(strategy.asked) == 14
    strategy.tell(Trial(first[0], 200), 99.0)  # ignored
    assert strategy.ranked == []


def test_helpers_rank_failures_last_find_pending_trials_and_standardise():
    assert fitness(float("nan")) == -math.inf and fitness(3) == 3.0 and isinstance(fitness(3), float)
    pending = [(Trial(A, 12), "a"), (Trial(B, 12), "b"), (Trial(A, 200), "c")]
    assert pop_pending(pending, Trial(A, 200), "x") == "c" and pop_pending(pending, Trial(A, 12), "x") == "a"
    assert pending == [(Trial(B, 12), "b")]
    with pytest.raises(UserInputError, match=r"^hb was told a trial it did not ask: "):
        pop_pending(pending, Trial(C, 12), "hb")
    np.testing.assert_allclose(standardise([1.0, 3.0, float("nan")]), np.array([-1, 2, -1]) / np.sqrt(2))
    np.testing.assert_array_equal(standardise([4.0, 4.0]), [0.0, 0.0])
    np.testing.assert_array_equal(standardise([float("nan")] * 2), [0.0, 0.0])


def test_unseen_sampling_avoids_seen_cells_and_gives_up_after_max_tries():
    rng = np.random.default_rng(0)
    seen = set(map(NB201.to_ops, range(NB201.size - 1)))  # all but the last cell
    last = NB201.to_ops(NB201.size - 1)
    draws = [sample_unseen(NB201, np.random.default_rng(s), seen) for s in range(50)]
    found = sum(d == last for d in draws)  # each try finds it with chance 1/15625: after 101 tries ~0.6%
    assert found <= 3 and MAX_TRIES == 100
    few = set(map(NB201.to_ops, range(0, NB201.size, 2)))  # half the space seen
    assert all(sample_unseen(NB201, rng, few) not in few for _ in range(200))
    everything = set(map(NB201.to_ops, range(NB201.size)))
    rng_a, rng_b = np.random.default_rng(5), np.random.default_rng(5)
    assert sample_unseen(NB201, rng_a, everything) == NB201.sample(rng_b) and rng_a.random() == rng_b.random()
