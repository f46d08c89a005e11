"""The evolutionary strategies' rules through ask/tell, on hand-made cases: documented defaults and bounds, REA's
uniform start, the genetic algorithm's roulette (with windowing), mutation and generations. Written for the
mutants of strategies/evolution.py that survived the rest of the suite (results/mutation/README.md); later sections
do the same for local search, zero-cost and the shared helpers, for Hyperband, successive halving and BOHB,
and for the predictors and acquisition helpers of BANANAS and BO (strategies/_models.py)."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from nasbench_suite.errors import UserInputError
from nasbench_suite.space import NB201, NB201Space
from nasbench_suite.strategies import Context, Trial, get_strategy
from nasbench_suite.strategies.base import Hyperparameter
from nasbench_suite.strategies.evolution import mutate_node_edge
from nasbench_suite.strategies.hyperband import _Bracket, fidelity_ladder

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
    ("rea", {"population_size": 0}, r"rea: population_size=0 is invalid; expected int in \[1, 15625\]"),
    ("rea", {"sample_size": 0}, r"rea: sample_size=0 is invalid; expected int in \[1, 15625\]"),
    ("ga", {"population_size": 1, "elitism": 0}, r"ga: population_size=1 is invalid; expected int in \[2, 15625\]"),
    ("ga", {"population_size": 4, "elitism": 4}, "got 4 and 4"),
    ("ga", {"elitism": -1}, r"ga: elitism=-1 is invalid; expected int in \[0, 15625\)"),
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
    ((-1.0, math.nan), (0.5, 0.5)),  # a failed run weighs 0, never more than the worst measured one (it is not
    ((math.nan, -1.0), (0.5, 0.5)),  # a value 0 that windowing would lift above the negative one)
    ((1.0, math.nan), (1.0, 0.0)),
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
from nasbench_suite.strategies._common import (
    MAX_TRIES,
    fitness,
    pop_pending,
    sample_unseen,
    standardise,
)


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
    search.tell(extra, 99.0)  # better than everything, but not a restart cell: the climb stays where it was
    assert search.current == start.arch and search.start is None
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


def test_local_search_moves_to_the_best_neighbour_when_a_failed_one_comes_first():
    """A NaN (failed run) compares false with everything: ranked by the raw value, a failed first neighbour would
    be taken as the best, beat nothing, and end the climb at a cell that is no local optimum."""
    search = make("local-search", seed=0)
    start = search.ask()
    search.tell(start, 50.0)
    neighbours = [search.ask() for _ in range(24)]
    for i, trial in enumerate(neighbours):
        search.tell(trial, float("nan") if i < 3 else 60.0 if i == 7 else 10.0)
    assert search.current == neighbours[7].arch
    assert search.ask().arch in NB201.neighbours(neighbours[7].arch)  # the climb goes on from there


def test_local_search_restarts_when_the_best_neighbour_only_ties():
    search = make("local-search", seed=2)
    start = search.ask()
    search.tell(start, 50.0)
    for _ in range(24):
        search.tell(search.ask(), 50.0)  # a plateau: no strict improvement
    assert search.current is None and search.queue == []


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


# ---- written for the surviving mutants of strategies/hyperband.py (results/mutation/README.md) ----
THIRDS = (4, 12, 36)  # eta 3: the ladder is every fidelity, s_max 2


def multi(name: str, fidelities=THIRDS, seed: int = 0, space=NB201, **hyperparameters):
    context = Context(space=space, rng=np.random.default_rng(seed), fidelities=tuple(fidelities))
    return get_strategy(name)(context, **hyperparameters)


def test_fidelity_ladder_keeps_a_rung_exactly_at_min_fidelity_and_names_a_missing_max_fidelity():
    assert fidelity_ladder(THIRDS, 3, 4, 36) == [4, 12, 36]  # 36 / 9 == 4 is not below min_fidelity 4
    assert fidelity_ladder(THIRDS, 3, 5, 36) == [12, 36]
    with pytest.raises(UserInputError) as error:
        fidelity_ladder((12, 200), 3, 12, 100)
    assert str(error.value) == "max_fidelity 100 is not one of the benchmark's fidelities 12, 200"


def test_hyperband_min_fidelity_sets_the_lowest_rung():
    assert multi("hyperband", fidelities=range(1, 37)).ladder == [1, 4, 12, 36]
    strategy = multi("hyperband", fidelities=range(1, 37), min_fidelity=4)
    assert strategy.ladder == [4, 12, 36] and strategy.bracket_plan(0) == ([4, 12, 36], [9, 3, 1])


def test_hyperband_opens_brackets_in_turn_when_every_open_one_waits():
    """Brackets s = 2, 1, 0, 2, ...: 9 cells at 4 epochs, 5 at 12, 3 at 36, then 9 at 4 again; asked without a
    tell, each is drawn in full and the next ask opens the next bracket."""
    strategy = multi("hyperband")
    trials = [strategy.ask() for _ in range(9 + 5 + 3 + 9)]
    assert [t.fidelity for t in trials] == [4] * 9 + [12] * 5 + [36] * 3 + [4] * 9
    assert strategy.opened == 4 and len(strategy.brackets) == 4


def test_hyperband_runs_a_round_of_brackets_and_promotes_best_first():
    strategy = multi("hyperband", seed=0)

    def value(arch):
        return float(NB201.to_index(arch))

    trials = []
    for _ in range(9 + 3 + 1 + 5 + 1 + 3 + 9):  # told at once: one bracket at a time
        trials.append(strategy.ask())
        strategy.tell(trials[-1], value(trials[-1].arch))
    assert [t.fidelity for t in trials] == [4] * 9 + [12] * 3 + [36] + [12] * 5 + [36] + [36] * 3 + [4] * 9
    first = [t.arch for t in trials[:9]]
    ranked = sorted(first, key=value, reverse=True)
    assert [t.arch for t in trials[9:12]] == ranked[:3]  # best first, not in asked order
    assert [a for a in first if a in ranked[:3]] != ranked[:3]  # (which differs here)
    assert trials[12].arch == ranked[0]
    assert trials[18].arch == max((t.arch for t in trials[13:18]), key=value)


def test_bracket_keeps_asked_order_only_when_told_to():
    cells = [(i,) * 6 for i in range(4)]
    for keep_order, expected in ((False, [cells[3], cells[1]]), (True, [cells[1], cells[3]])):
        bracket = _Bracket([1, 2], [4, 2], keep_order=True) if keep_order else _Bracket([1, 2], [4, 2])  # default
        for cell, value in zip(cells, (1.0, 5.0, 2.0, 9.0)):
            bracket.tell(cell, value)
        assert bracket.queue == expected and bracket.rung == 1 and bracket.results == []


class EightCells(NB201Space):
    """NB201 restricted to 8 cells, so a repeated draw is likely: what `seen` prevents shows."""

    size = 8

    def sample(self, rng):
        return (int(rng.integers(8)),) + (0,) * 5


def test_multi_fidelity_strategies_draw_no_cell_twice_at_one_budget():
    strategy = multi("sh", fidelities=(12, 200), space=EightCells(), num_configs=8)
    assert len({strategy.ask().arch for _ in range(8)}) == 8


def test_hyperband_names_itself_when_told_a_trial_it_did_not_ask():
    with pytest.raises(UserInputError) as error:
        multi("hyperband").tell(Trial(A, 12), 1.0)
    assert str(error.value) == "hyperband was told a trial it did not ask: Trial(arch=(0, 0, 0, 0, 0, 0), fidelity=12)"


def test_successive_halving_brackets():
    assert multi("sh").bracket_plan(0) == multi("sh").bracket_plan(5) == ([4, 12, 36], [9, 3, 1])  # eta^s_max
    assert multi("sh", num_configs=2).bracket_plan(0) == ([4, 12, 36], [2, 1, 1])  # at least one cell a rung
    assert multi("sh", eta=2.0, fidelities=(1, 2, 4, 8)).bracket_plan(0)[1] == [8, 4, 2, 1]


def test_bohb_needs_min_budget_below_max_budget_and_defaults_min_points_to_edges_plus_one():
    for low, high in ((200, 200), (12.5, 12.5), (300, 200)):
        with pytest.raises(UserInputError) as error:
            multi("bohb", schedule="hpbandster", min_budget=low, max_budget=high)
        assert str(error.value) == f"bohb needs min_budget < max_budget, got {low:g} and {high:g}"
    assert multi("bohb").min_points == NB201.num_edges + 1 == 7  # hpbandster: d + 1


def test_bohb_incumbent_is_the_best_result_at_the_largest_budget_only():
    strategy = multi("bohb", schedule="hpbandster")
    low, middle, top = strategy.ladder
    strategy.observe(A, middle, 90.0)
    strategy.observe(B, low, 95.0)
    assert strategy.recommend() is None
    strategy.observe(C, top, 50.0)
    strategy.observe(D, middle, 99.0)
    strategy.observe(A, top, float("nan"))
    assert strategy.recommend() == C


def hpbandster_split(values, top_n_percent, min_points):
    """hpbandster 0.7.4 (optimizers/config_generators/bohb.py, new_result): the rows of the good and the bad
    density; a loss is minus the value, a failed run's loss +inf."""
    n = len(values)
    n_good = max(min_points, (top_n_percent * n) // 100)
    n_bad = max(min_points, ((100 - top_n_percent) * n) // 100)
    losses = np.array([-v if math.isfinite(v) else math.inf for v in values])
    order = np.argsort(losses, kind="stable")
    return order[:n_good], order[n_good:n_good + n_bad]


@pytest.mark.parametrize("n", [14, 15, 50, 60])
def test_bohb_densities_split_told_cells_as_hpbandster_does(n):
    """Good: the best max(7, 15% of n) cells, best first; bad: the next max(7, 85% of n) (n = 50: 7 and 42 of
    50, the worst left out; n = 60: 9 and 51)."""
    rng = np.random.default_rng(n)
    cells = [tuple(int(o) for o in rng.integers(5, size=6)) for _ in range(n)]
    values = [float(v) for v in rng.permutation(n)]
    values[3] = float("nan")  # a failed run ranks last
    strategy = multi("bohb", seed=n)
    top = strategy.ladder[-1]
    for cell, value in zip(cells, values):
        strategy.observe(cell, top, value)
    strategy.observe(B, strategy.ladder[0], 1e9)  # a lower budget plays no part while the top has a model
    (good, good_bw), (bad, bad_bw) = strategy._densities()
    good_rows, bad_rows = hpbandster_split(values, 15, 7)
    np.testing.assert_array_equal(good, np.array(cells)[good_rows])
    np.testing.assert_array_equal(bad, np.array(cells)[bad_rows])
    assert good.dtype == np.int64 and (good_bw, bad_bw) == (pytest.approx(strategy._bandwidth(good)),
                                                            pytest.approx(strategy._bandwidth(bad)))
    if n == 50:
        assert (len(good), len(bad)) == (7, 42)
    if n == 60:
        assert (len(good), len(bad)) == (9, 51)


def test_bohb_densities_need_more_than_d_cells_each():
    strategy, rng = multi("bohb"), np.random.default_rng(0)
    top = strategy.ladder[-1]
    for i in range(13):  # 7 good, 6 bad
        strategy.observe(tuple(int(o) for o in rng.integers(5, size=6)), top, float(i))
    assert strategy._densities() is None
    strategy.observe(A, top, 13.0)
    (good, _), (bad, _) = strategy._densities()
    assert (len(good), len(bad)) == (7, 7) and tuple(good[0]) == A
    six = multi("bohb", min_points=6)  # 13 cells: 6 good (too few), 7 bad
    for cell, value in strategy.data[top][:13]:
        six.observe(cell, top, value)
    assert six._densities() is None


def test_bohb_bandwidth_is_normal_reference_clipped_to_min_bandwidth_and_in_suite_to_4_5():
    columns = [[0, 4] * 5, [0] * 5 + [1] * 5, [0] * 5 + [2] * 5, [0] * 8 + [2] * 2, [3] * 10, [1] * 9 + [0]]
    cells = np.array(columns).T  # stds 2, 0.5, 1, 0.8, 0, 0.3 over 10 cells
    reference = 1.06 * np.array([2, 0.5, 1, 0.8, 0, 0.3]) * 10 ** (-1 / 10)  # 1.68, 0.42, 0.84, 0.67, 0, 0.25
    assert multi("bohb")._bandwidth(cells) == pytest.approx(np.clip(reference, 0.3, 0.8))
    assert multi("bohb", schedule="hpbandster")._bandwidth(cells) == pytest.approx(np.clip(reference, 0.3, None))


def test_bohb_kernel_divides_by_zero_levels_silently():
    """hpbandster's statsmodels kernel: a column with one level gives inf (bandwidth / 0), or NaN with a zero
    bandwidth (0 / 0), without a numpy warning."""
    cells = np.array([[2, 0, 1, 0, 1, 0]] * 4 + [[2, 1, 0, 1, 0, 1]] * 4)
    x = np.array([3, 0, 1, 0, 1, 0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert multi("bohb", schedule="hpbandster")._pdf(x, (cells, np.full(6, 0.3))) == math.inf
        assert math.isnan(multi("bohb", schedule="hpbandster")._pdf(x, (cells, np.zeros(6))))


def bohb_with_model(schedule: str, good, bad, seed: int = 0, **hyperparameters):
    strategy = multi("bohb", seed=seed, schedule=schedule, **hyperparameters)
    top = strategy.ladder[-1]
    for i, cell in enumerate(list(good) + list(bad)):
        strategy.observe(tuple(int(o) for o in cell), top, 100.0 - i)
    return strategy, top


def test_bohb_draws_from_the_good_density_edge_by_edge():
    """Good cells all op 0, bad all op 4, bandwidth 0.3: each edge keeps op 0 with probability 0.7, else a
    uniform op (P(0) = 0.76, P(each other op) = 0.06), independently of the other edges."""
    strategy, top = bohb_with_model("suite", [A] * 7, [(4,) * 6] * 7, num_samples=1)
    draws = np.array([strategy.sample(top) for _ in range(400)])
    shares = np.bincount(draws.ravel(), minlength=5) / draws.size
    assert shares == pytest.approx([0.76, 0.06, 0.06, 0.06, 0.06], abs=0.03)
    assert 0.12 < (draws == 0).all(axis=1).mean() < 0.27  # 0.76^6 = 0.19
    assert sum(len(set(row[row != 0].tolist())) >= 2 for row in draws) > 40  # replaced edges draw separately


def hpbandster_pick(draws, l, g):
    """hpbandster 0.7.4 BOHB.get_config's loop over the draws: the least max(1e-32, g) / max(l, 1e-32), the
    first on ties; a non-finite score with a finite l(x) is taken at once; None if nothing scored."""
    best, best_vector = np.inf, None
    for x in draws:
        val = max(1e-32, g(x)) / max(l(x), 1e-32)
        if not np.isfinite(val) and np.isfinite(l(x)):
            return x, True
        if val < best:
            best, best_vector = val, x
    return best_vector, False


def recorded_picks(strategy, top, calls: int):
    """(returned cell, hpbandster's pick of the same draws, whether it broke early, draws) for `calls` samples."""
    (good, bad), original = strategy._densities(), strategy._pdf
    draws: list = []
    seen_calls = [0]

    def recording(x, density):  # l(x) then g(x) for every draw
        if seen_calls[0] % 2 == 0:
            draws.append(tuple(int(o) for o in x))
        seen_calls[0] += 1
        return original(x, density)

    strategy._pdf = recording
    out = []
    for _ in range(calls):
        draws.clear()
        cell = strategy.sample(top)
        pick, broke = hpbandster_pick(draws, lambda x: original(np.array(x), good),
                                      lambda x: original(np.array(x), bad))
        out.append((cell, pick, broke, list(draws)))
    strategy._pdf = original
    return out


@pytest.mark.parametrize("structured", [True, False])
def test_bohb_picks_the_draw_hpbandster_picks(structured):
    """Suite schedule, num_samples 4: the draw with the least g(x)/l(x), the first of equal ones (op-0 vs op-4
    cells make many ties); random cells tell the ratio from l or g alone."""
    rng = np.random.default_rng(3)
    good, bad = ([A] * 7, [(4,) * 6] * 7) if structured else (rng.integers(5, size=(7, 6)), rng.integers(5, size=(9, 6)))
    strategy, top = bohb_with_model("suite", good, bad, seed=1)
    picks = recorded_picks(strategy, top, 150)
    assert all(cell == pick for cell, pick, _, _ in picks)
    assert all(len(draws) == 4 for _, _, _, draws in picks)
    assert sum(pick != draws[0] for _, pick, _, draws in picks) > 20  # not just the first draw
    if structured:
        (model_good, model_bad) = strategy._densities()

        def score(x):
            x = np.array(x)
            return strategy._pdf(x, model_bad) / strategy._pdf(x, model_good)

        tied = [draws for _, pick, _, draws in picks
                if any(x != pick and score(x) == score(pick) for x in draws[draws.index(pick) + 1:])]
        assert len(tied) > 5  # a later, different draw scores the same: the first is kept


def test_bohb_hpbandster_takes_a_value_the_bad_density_lacks_at_once():
    """hpbandster schedule: the bad cells all have op 4 on edge 0, so a draw with op 0 there has g(x) = inf
    (statsmodels' kernel divides by 0 levels - 1) and a finite l(x): it is taken without scoring the rest."""
    rng = np.random.default_rng(4)
    good, bad = rng.integers(2, size=(7, 6)), rng.integers(2, size=(7, 6))  # ops 0, 1: bandwidths below 1
    good[:, 0], bad[:, 0] = 0, 4
    strategy, top = bohb_with_model("hpbandster", good, bad, seed=2)
    picks = recorded_picks(strategy, top, 60)
    assert all(cell == pick for cell, pick, _, _ in picks)
    broke = [draws for cell, _, early, draws in picks if early]
    assert len(broke) > 30 and all(draws[-1][0] == 0 for draws in broke)
    assert any(len(draws) < 4 for draws in broke)


def test_bohb_falls_back_to_a_uniform_cell_when_no_draw_scores():
    """hpbandster schedule, min_bandwidth 1, identical good cells: every column has one level, so a draw's l(x)
    multiplies 1 - 1 = 0 (a matching op) by 1 / 0 = inf (another op): NaN, which scores nothing, and with
    num_samples 1 the cell is then a uniform one, as in hpbandster."""
    strategy, top = bohb_with_model("hpbandster", [A] * 7, [B] * 7, min_bandwidth=1.0, num_samples=1)
    picks = recorded_picks(strategy, top, 30)
    unscored = [(cell, draws) for cell, pick, _, draws in picks if pick is None]
    assert len(unscored) > 10 and all(cell not in draws for cell, draws in unscored)
    assert all(cell == pick for cell, pick, _, _ in picks if pick is not None)


# ---- written for the surviving mutants of strategies/_models.py (results/mutation/README.md) ----
from scipy.stats import norm

from nasbench_suite.strategies._models import (
    Ensemble,
    HammingGP,
    _seed,
    expected_improvement,
    mutation_candidates,
    one_thread,
)

XGB_PARAMS = {"max_depth": 4, "eta": 0.2, "subsample": 0.8, "colsample_bytree": 0.8, "nthread": 1,
              "tree_method": "hist", "verbosity": 0}  # the documented configuration, 50 rounds


def regression_data(scale: float = 1.0):
    """40 training rows and 10 test rows of 8 features; with scale 100 the MLPs run all 200 epochs."""
    rng = np.random.default_rng(7)
    return rng.random((40, 8)), scale * rng.normal(size=40), rng.random((10, 8))


def member_seeds(seed: int, size: int) -> list[int]:
    reference = np.random.default_rng(seed)
    return [int(reference.integers(2**31 - 1)) for _ in range(size)]


def assert_spread(ensemble: Ensemble, x_test: np.ndarray, preds: np.ndarray) -> None:
    mean, std = ensemble.predict(x_test)
    np.testing.assert_array_equal(mean, preds.mean(axis=0), strict=True)
    np.testing.assert_array_equal(std, preds.std(axis=0), strict=True)
    assert std.min() > 0


def test_model_seeds_are_the_generators_draws_below_2_31_minus_1():
    rng, reference = np.random.default_rng(3), np.random.default_rng(3)
    seeds = [_seed(rng) for _ in range(30)]
    assert seeds == [int(reference.integers(2**31 - 1)) for _ in range(30)]
    assert all(type(seed) is int for seed in seeds)


def test_ensemble_names_a_bad_kind_or_size_exactly_and_accepts_a_single_member():
    rng = np.random.default_rng(0)
    with pytest.raises(UserInputError) as error:
        Ensemble("svm", 5, rng)
    assert str(error.value) == "unknown predictor 'svm'; valid: xgb, mlp, rf"
    with pytest.raises(UserInputError) as error:
        Ensemble("xgb", 0, rng)
    assert str(error.value) == "an ensemble needs size >= 1, got 0"
    single = Ensemble("xgb", 1, rng)
    assert (single.kind, single.size, single.rng, single.members) == ("xgb", 1, rng, [])


def test_xgb_ensemble_is_the_documented_xgboost_models_seeded_from_the_generator():
    import xgboost

    x, y, x_test = regression_data()
    ensemble = Ensemble("xgb", 3, np.random.default_rng(5)).fit(x, y)
    preds = []
    for member, seed in zip(ensemble.members, member_seeds(5, 3), strict=True):
        model = xgboost.train({**XGB_PARAMS, "seed": seed}, xgboost.DMatrix(x, label=y), num_boost_round=50)
        preds.append(model.inplace_predict(x_test))
        np.testing.assert_array_equal(member.inplace_predict(x_test), preds[-1])
    assert_spread(ensemble, x_test, np.stack(preds))


def test_xgb_ensemble_runs_single_threaded_and_silently():
    """The docstring's single thread is the boosters' own setting (kept in the model); an unknown parameter
    name would make XGBoost warn "Parameters: { ... } are not used" at its default verbosity, 1 (a booster's
    verbosity also sets XGBoost's global one, so the test restores the default first)."""
    import json

    import xgboost

    x, y, _ = regression_data()
    with xgboost.config_context(verbosity=1), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")  # not "error": XGBoost warns from a C callback, which drops exceptions
        ensemble = Ensemble("xgb", 2, np.random.default_rng(0)).fit(x, y)
    assert caught == []
    for member in ensemble.members:
        assert json.loads(member.save_config())["learner"]["generic_param"]["nthread"] == "1"


def test_mlp_ensemble_is_the_documented_scikit_learn_mlps_without_convergence_warnings():
    from sklearn.neural_network import MLPRegressor

    x, y, x_test = regression_data(scale=100.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # every member stops at max_iter, warning that it did not converge
        ensemble = Ensemble("mlp", 2, np.random.default_rng(5)).fit(x, y)
    preds = []
    for member, seed in zip(ensemble.members, member_seeds(5, 2), strict=True):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = MLPRegressor(hidden_layer_sizes=(20, 20, 20), learning_rate_init=0.01, max_iter=200,
                                 random_state=seed).fit(x, y)
        assert member.n_iter_ == model.n_iter_ == 200
        preds.append(model.predict(x_test))
        np.testing.assert_array_equal(member.predict(x_test), preds[-1])
    assert_spread(ensemble, x_test, np.stack(preds))


def test_mlp_ensemble_silences_only_convergence_warnings():
    from sklearn.exceptions import DataConversionWarning

    x, y, _ = regression_data(scale=100.0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        Ensemble("mlp", 1, np.random.default_rng(0)).fit(x, y[:, None])  # a column vector: sklearn warns
    assert [warning.category for warning in caught] == [DataConversionWarning]


def test_rf_ensemble_is_one_single_threaded_forest_with_the_spread_over_its_trees():
    from sklearn.ensemble import RandomForestRegressor

    x, y, x_test = regression_data()
    ensemble = Ensemble("rf", 4, np.random.default_rng(5)).fit(x, y)
    [seed] = member_seeds(5, 1)
    forest = RandomForestRegressor(n_estimators=4, max_features=0.5, n_jobs=1, random_state=seed).fit(x, y)
    [member] = ensemble.members
    assert member.get_params() == forest.get_params()  # n_jobs=1 included
    preds = np.stack([tree.predict(x_test) for tree in forest.estimators_])
    np.testing.assert_array_equal(np.stack([tree.predict(x_test) for tree in member.estimators_]), preds)
    assert_spread(ensemble, x_test, preds)


def hamming_gp_reference(x, y, x_test):
    """Textbook GP regression: the grid point of highest log marginal likelihood (up to a constant), then the
    posterior mean and standard deviation of the latent function."""
    distance = (x[:, None, :] != x[None, :, :]).sum(axis=2)
    grid = [(lengthscale, noise) for lengthscale in HammingGP.LENGTHSCALES for noise in HammingGP.NOISES]

    def covariance(lengthscale, noise):
        return np.exp(-distance / lengthscale) + noise * np.eye(len(x))

    def loglik(point):
        k = covariance(*point)
        return -0.5 * y @ np.linalg.solve(k, y) - 0.5 * np.linalg.slogdet(k)[1]

    lengthscale, noise = max(grid, key=loglik)
    k = covariance(lengthscale, noise)
    k_test = np.exp(-(x_test[:, None, :] != x[None, :, :]).sum(axis=2) / lengthscale)
    var = 1.0 - np.diag(k_test @ np.linalg.solve(k, k_test.T))
    return lengthscale, k_test @ np.linalg.solve(k, y), np.sqrt(var)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_hamming_gp_is_the_closed_form_posterior_at_the_most_likely_grid_point(seed):
    rng = np.random.default_rng(seed)
    x = rng.integers(5, size=(12, 6))
    y = standardise((x == rng.integers(5, size=6)).sum(axis=1) + rng.normal(scale=0.5, size=12))
    x_test = np.vstack([x[:3], rng.integers(5, size=(5, 6))])  # seen cells have std below 1
    lengthscale, mean, std = hamming_gp_reference(x, y, x_test)
    gp = HammingGP().fit(x, y)
    assert gp.lengthscale == lengthscale
    got_mean, got_std = gp.predict(x_test)
    np.testing.assert_allclose(got_mean, mean, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(got_std, std, rtol=1e-9)


def test_hamming_gp_keeps_the_first_of_equally_likely_grid_points():
    """One cell: every lengthscale gives the same kernel matrix [[1]], so the first (shortest) is kept."""
    gp = HammingGP().fit(np.array([A]), np.array([0.3]))
    assert gp.lengthscale == 0.5
    mean, _ = gp.predict(np.array([(1, 0, 0, 0, 0, 0)]))
    np.testing.assert_allclose(mean, np.exp(-1 / 0.5) * 0.3 / (1 + 1e-3), rtol=1e-12)


def test_expected_improvement_is_the_closed_form_for_maximisation():
    mean, std, best = np.array([0.5, -0.2, 1.0, 0.4]), np.array([0.3, 1.5, 0.1, 2.0]), 0.4
    z = (mean - best) / std
    expected = (mean - best) * norm.cdf(z) + std * norm.pdf(z)
    np.testing.assert_allclose(expected_improvement(mean, std, best), expected, rtol=1e-12)
    assert expected_improvement(mean, std, best)[3] == pytest.approx(2.0 / math.sqrt(2 * math.pi))


def test_mutation_candidates_default_to_one_edit_of_any_edge_to_any_other_op():
    children = mutation_candidates(NB201, [A], 30, np.random.default_rng(0), exclude=set())
    assert len(children) == len(set(children)) > 15  # 60 draws of the 24 neighbours
    assert all(distance(child, A) == 1 for child in children)
    assert {edge for child in children for edge in range(6) if child[edge]} == set(range(6))
    assert {op for child in children for op in child} == {0, 1, 2, 3, 4}


@pytest.mark.parametrize("max_edits", [2, 3])
def test_mutation_candidates_draw_as_documented(max_edits):
    """2 * num children, parents taken in turn; every child gets one edit of a uniform edge by a uniform
    non-zero shift of its op, and each further edit happens with probability 1/2; then the first `num`
    distinct cells not in `exclude`."""
    parents, num, exclude = [A, B, C], 15, {B}
    rng, reference = np.random.default_rng(4), np.random.default_rng(4)
    got = mutation_candidates(NB201, parents, num, rng, exclude, max_edits=max_edits)
    children = [list(parents[i % 3]) for i in range(2 * num)]
    for step in range(max_edits):
        edit = range(2 * num) if step == 0 else np.flatnonzero(reference.random(2 * num) < 0.5)
        edges, shifts = reference.integers(6, size=len(edit)), reference.integers(1, 5, size=len(edit))
        for row, edge, shift in zip(edit, edges, shifts, strict=True):
            children[row][edge] = (children[row][edge] + shift) % 5
    expected = list(dict.fromkeys(tuple(child) for child in children if tuple(child) not in exclude))[:num]
    assert got == expected
    assert rng.random() == reference.random()  # nothing else drawn


def test_one_thread_limits_the_blas_pools_to_one_thread_and_restores_them():
    """BLAS only: numpy's and scipy's are loaded with this module, before any one_thread(); an OpenMP runtime
    that XGBoost or scikit-learn loads after the first one_thread() call is not in its cached controller."""
    from threadpoolctl import threadpool_info, threadpool_limits

    def blas_threads():
        return [pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"]

    with threadpool_limits(limits=2):  # conftest starts every pool at one thread
        assert set(blas_threads()) == {2}
        with one_thread():
            assert set(blas_threads()) == {1}
        assert set(blas_threads()) == {2}


# ---- written for the surviving mutants of strategies/bo.py (results/mutation/README.md) ----------------------------
@pytest.mark.parametrize("surrogate, settings", [
    ("gp", {"batch_size": 3}),
    ("rf", {"batch_size": 3}),
    ("gp", {"batch_size": 10, "num_random": 0}),  # mutations only: their two edits decide the pool
    ("rf", {"batch_size": 10, "num_trees": 2}),  # two trees: many equal scores, so the stable sort decides
])
def test_bo_proposes_the_best_expected_improvement_among_its_documented_candidates(surrogate, settings):
    """Recomputed from the documented rule on a twin (same data, same generator state): the GP sees op codes, the
    forest one-hot features; candidates are up to 2 edits of the 10 best cells plus uniform ones; EI with the
    predicted std floored at 1e-9, the best first."""
    import copy

    from nasbench_suite.strategies._common import standardise
    from nasbench_suite.strategies._models import (
        expected_improvement,
        mutation_candidates,
        random_candidates,
    )

    agent = make("bo", seed=4, surrogate=surrogate, **settings)
    batch = settings["batch_size"]
    rng = np.random.default_rng(9)
    for _ in range(14):
        arch = tuple(int(o) for o in rng.integers(5, size=6))
        agent.tell(Trial(arch, 200), float(rng.normal(70, 5)))
    twin = copy.deepcopy(agent)

    def features(archs):
        ops = np.asarray(archs)
        return ops if surrogate == "gp" else NB201.encode(ops, "onehot")

    y = standardise(twin.values)
    twin.model.fit(features(twin.archs), y)
    candidates = list(dict.fromkeys(
        mutation_candidates(NB201, twin.top(10), twin.num_mutations, twin.rng, twin.asked, max_edits=2)
        + random_candidates(NB201, twin.num_random, twin.rng, twin.asked)))
    mean, std = twin.model.predict(features(candidates))
    assert std.min() < 1  # so that a floor other than 1e-9 would change the scores
    score = expected_improvement(mean, np.maximum(std, 1e-9), float(y.max()))
    if settings.get("num_trees") == 2:  # equal scores whose order only a stable sort keeps
        assert list(np.argsort(-score)[:batch]) != list(np.argsort(-score, kind="stable")[:batch])
    assert agent.propose() == [candidates[i] for i in np.argsort(-score, kind="stable")[:batch]]


def test_bo_fits_a_hamming_gp_on_op_codes_or_a_forest_on_one_hot_features():
    from nasbench_suite.strategies._models import Ensemble, HammingGP

    gp, forest = make("bo"), make("bo", surrogate="rf", num_trees=3)
    assert type(gp.model) is HammingGP
    assert type(forest.model) is Ensemble and forest.model.kind == "rf" and forest.model.size == 3
    assert forest.model.rng is forest.rng  # seeded by the strategy's generator
    archs = [(0, 1, 2, 3, 4, 0), (4, 4, 4, 4, 4, 4)]
    assert np.array_equal(gp._features(archs), np.asarray(archs))
    assert np.array_equal(forest._features(archs), NB201.encode(np.asarray(archs), "onehot"))


def test_bo_needs_a_non_empty_candidate_pool():
    make("bo", num_random=0, num_mutations=1), make("bo", num_random=1, num_mutations=0)
    with pytest.raises(UserInputError) as error:
        make("bo", num_random=0, num_mutations=0)
    assert str(error.value) == "bo needs a non-empty candidate pool, got num_random=0, num_mutations=0"


# ---- written for the surviving mutants of strategies/bananas.py (results/mutation/README.md) -------------------
@pytest.mark.parametrize("acquisition", ["its", "ucb"])
def test_bananas_asks_the_best_acquisition_among_mutations_of_its_best_cells(acquisition):
    """Recomputed from the documented rule on a twin (same data, same generator state): the ensemble fitted on the
    path encoding of every told cell against standardised values; candidates are up to 2 edits of the
    `num_parents` best cells; ITS draws one N(mean, std) value per candidate, UCB scores mean + beta * std."""
    import copy

    from nasbench_suite.strategies._common import standardise
    from nasbench_suite.strategies._models import mutation_candidates

    agent = make("bananas", seed=5, acquisition=acquisition, batch_size=3, ensemble_size=2, num_parents=4,
                 num_candidates=30, ucb_beta=2.0, predictor="rf")
    rng = np.random.default_rng(11)
    for _ in range(12):
        arch = tuple(int(o) for o in rng.integers(5, size=6))
        agent.tell(Trial(arch, 200), float(rng.normal(70, 5)))
    twin = copy.deepcopy(agent)

    twin.model.fit(NB201.encode(np.asarray(twin.archs), "path"), standardise(twin.values))
    candidates = mutation_candidates(NB201, twin.top(4), 30, twin.rng, twin.asked, max_edits=2)
    mean, std = twin.model.predict(NB201.encode(np.asarray(candidates), "path"))
    score = twin.rng.normal(mean, std) if acquisition == "its" else mean + 2.0 * std
    best = [candidates[i] for i in np.argsort(-score, kind="stable")[:3]]
    assert agent.propose() == best
    assert len(set(best)) == 3 and not set(best) & agent.asked


# ---- written for the surviving mutants of strategies/qlearning.py (results/mutation/README.md) -----------------
def test_qlearning_epsilon_follows_the_scaled_metaqnn_staircase():
    agent = make("qlearning", explore_queries=3, queries_per_epsilon=2)
    expected = [1.0] * 3 + [0.9, 0.9, 0.8, 0.8, 0.7, 0.7, 0.6, 0.6, 0.5, 0.5, 0.4, 0.4, 0.3, 0.3, 0.2, 0.2]
    expected += [0.1] * 6  # the floor: 0.0 and below are never reached
    seen = []
    for _ in expected:
        seen.append(agent.epsilon())
        agent.ask()
    assert seen == expected


def _replayed_q(q, archs, rewards, alpha, num_ops=5):
    """MetaQNN's update with discount 1 for a batch of replayed episodes, written out one transition at a time:
    from the last edge to the first, every episode's target and current value are read before that edge's
    updates are added (a batch per step)."""
    q = q.copy()
    for edge in reversed(range(6)):
        steps = []
        for arch, reward in zip(archs, rewards):
            previous = num_ops if edge == 0 else arch[edge - 1]
            target = reward if edge == 5 else max(q[edge + 1, arch[edge]])
            steps.append((previous, arch[edge], target - q[edge, previous, arch[edge]]))
        for previous, op, error in steps:
            q[edge, previous, op] += alpha * error
    return q


def test_qlearning_replays_uniform_draws_of_its_memory_after_every_tell():
    import copy

    agent = make("qlearning", seed=3, alpha=0.3, replay_size=4)
    rng = np.random.default_rng(2)
    cells = [tuple(int(o) for o in rng.integers(5, size=6)) for _ in range(5)]
    values = [60.0, 75.0, float("nan"), 50.0, 90.0]
    memory, rewards = [], []
    for arch, value in zip(cells, values):
        twin = copy.deepcopy(agent)
        agent.tell(Trial(arch, 200), value)
        assert agent.memory[arch] == value or math.isnan(value)
        if math.isnan(value):  # remembered as told, not replayed, Q untouched
            assert agent.replayed == len(memory) and np.array_equal(agent.q, twin.q)
            continue
        memory.append(arch), rewards.append(value)
        q = np.full((6, 6, 5), 60.0) if twin.q is None else twin.q  # Q starts at the first observed value
        picks = twin.rng.integers(len(memory), size=4)
        expected = _replayed_q(q, [memory[i] for i in picks], [rewards[i] for i in picks], 0.3)
        assert agent.q == pytest.approx(expected, abs=1e-12)
    assert agent.replayed == 4 and not np.array_equal(agent.q, np.full((6, 6, 5), 60.0))


def test_qlearning_replay_memory_grows_past_its_first_allocation():
    agent = make("qlearning", replay_size=1)
    for i in range(70):
        agent.tell(Trial(tuple(int(o) for o in NB201.ops_of([i])[0]), 200), float(i))
    assert agent.replayed == 70 and agent.replay_values[:70].tolist() == [float(i) for i in range(70)]


def test_qlearning_asks_greedily_at_low_epsilon_and_never_asks_an_evaluated_cell():
    import copy

    agent = make("qlearning", seed=1, explore_queries=0, queries_per_epsilon=1, replay_size=2)
    for _ in range(9):  # epsilon 0.9, 0.8, ... down to the 0.1 floor
        agent.ask()
    assert agent.epsilon() == 0.1
    best = (2, 0, 4, 1, 3, 2)
    agent.tell(Trial(best, 200), 80.0)
    agent.q = np.zeros((6, 6, 5))
    previous = 5
    for edge, op in enumerate(best):
        agent.q[edge, previous, op] = 1.0
        previous = op
    twin = copy.deepcopy(agent)

    def episode(rng):  # the documented epsilon-greedy walk, ties broken uniformly
        previous, ops = 5, []
        for edge in range(6):
            if rng.random() < 0.1:
                op = int(rng.integers(5))
            else:
                values = twin.q[edge, previous]
                op = int(rng.choice(np.flatnonzero(values == values.max())))
            ops.append(op)
            previous = op
        return tuple(ops)

    first = episode(twin.rng)
    assert first == best  # so the evaluated cell is drawn and must be skipped
    asked = agent.ask().arch
    assert agent.replayed == 2  # the evaluated cell's stored value was replayed once more
    twin._remember(best, 80.0)
    assert asked == episode(twin.rng) != best and asked not in agent.memory


# ---- written for the surviving mutants of strategies/random_search.py (results/mutation/README.md) -------------
def test_random_search_samples_without_replacement_unless_told_otherwise():
    """2,000 draws from 15,625 cells repeat about 120 times with replacement: `unique` must remove every repeat,
    and `unique=false` must be the textbook draw from the seeded generator."""
    import copy

    unique = make("random", seed=6)
    assert len({unique.ask().arch for _ in range(2000)}) == 2000
    plain = make("random", seed=6, unique=False)
    twin = copy.deepcopy(plain.rng)
    archs = [plain.ask().arch for _ in range(2000)]
    assert archs == [NB201.sample(twin) for _ in range(2000)]
    assert len(set(archs)) < 1950


# ---- written for the surviving mutants of strategies/zero_cost.py (results/mutation/README.md) -----------------
def test_zero_cost_keeps_draw_order_among_equal_scores_and_ranks_missing_scores_last():
    """A proxy with few distinct values (here: the number of convolutions, None when edge 0 is `none`): the pool
    is asked best first, equal scores in the order they were drawn, missing scores last."""
    import copy

    from nasbench_suite.strategies._common import sample_unseen

    def proxy(arch):
        return None if arch[0] == 0 else sum(op in (1, 2) for op in arch)

    strategy = get_strategy("zero-cost")(Context(rng=np.random.default_rng(3), proxy=proxy), num_samples=300)
    twin, drawn = copy.deepcopy(strategy.rng), []
    for _ in range(300):
        drawn.append(sample_unseen(NB201, twin, drawn))
    asked = [strategy.ask().arch for _ in range(300)]
    key = [-math.inf if proxy(a) is None else proxy(a) for a in drawn]
    assert asked == [drawn[i] for i in sorted(range(300), key=lambda i: -key[i])]  # Python's sort is stable
    scores = -np.array(key)
    assert list(np.argsort(scores)) != list(np.argsort(scores, kind="stable"))  # so a non-stable sort would differ


# ---- written for the surviving mutants of strategies/base.py (results/mutation/README.md) ----------------------
def test_settings_are_written_back_as_they_parse():
    from nasbench_suite.strategies.base import StrategySpec, format_value

    assert (format_value(True), format_value(False)) == ("true", "false")
    assert (format_value(1e15), format_value(1e16), format_value(0.5)) == ("1000000000000000", "1e+16", "0.5")
    assert StrategySpec.parse("random:unique=no").label == "random:unique=false"
    for value in (1e15, 1e16, 2.5e-7, 3.0):
        assert float(format_value(value)) == value


# ---- written for the surviving mutants of strategies/optuna_adapter.py (results/mutation/README.md) ------------
def test_optuna_tpe_is_seeded_from_the_context_generator_and_tells_failures_as_failed():
    import copy

    import optuna

    from nasbench_suite.strategies.optuna_adapter import OptunaStrategy

    strategy = make("optuna-tpe", seed=8)
    twin = copy.deepcopy(np.random.default_rng(8))
    reference = make("optuna-tpe", seed=0, sampler=optuna.samplers.TPESampler(seed=int(twin.integers(2**31 - 1))))
    for i in range(14):  # past TPE's 10 random start-up trials
        mine, theirs = strategy.ask(), reference.ask()
        assert mine == theirs
        value = math.nan if i == 3 else float(sum(mine.arch))
        strategy.tell(mine, value), reference.tell(theirs, value)
    states = [t.state for t in strategy.study.trials]
    assert states[3] == optuna.trial.TrialState.FAIL and states.count(optuna.trial.TrialState.COMPLETE) == 13
    first = strategy.study.trials[0]  # told the value of the cell its parameters name
    assert first.value == float(sum(NB201.ops.index(first.params[p]) for p in strategy.edge_names))
    with pytest.raises(UserInputError) as error:
        strategy.tell(Trial((0,) * 6, 7), 1.0)
    assert str(error.value) == "optuna-tpe was told a trial it did not ask: Trial(arch=(0, 0, 0, 0, 0, 0), fidelity=7)"
    with pytest.raises(UserInputError) as error:
        OptunaStrategy(Context(rng=np.random.default_rng(0)), sampler=object())
    assert str(error.value) == "sampler must be an optuna sampler instance, got object"


def test_optuna_missing_names_the_install_command_exactly(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "optuna", None)  # makes `import optuna` raise ImportError
    with pytest.raises(UserInputError) as error:
        make("optuna-tpe")
    assert str(error.value) == "Optuna strategies need optuna: pip install optuna"


def test_an_open_upper_bound_excludes_itself_infinity_included():
    from nasbench_suite.strategies.base import _in_interval

    assert _in_interval(0.999, "[0, 1)") and not _in_interval(1.0, "[0, 1)") and _in_interval(1.0, "[0, 1]")
    assert not _in_interval(0.0, "(0, 1]") and _in_interval(1e300, "[0, inf)")
    with pytest.raises(UserInputError) as error:
        make("bananas", ucb_beta="inf")
    assert str(error.value) == "bananas: ucb_beta='inf' is invalid; expected float in [0, inf)"


def test_spec_texts_coerce_whole_numbers_in_any_float_form_and_only_known_booleans():
    assert make("rea", population_size="1e2").population_size == 100
    assert make("rea", population_size="20.0").population_size == 20
    assert make("random", unique="No").unique is False and make("random", unique="yes").unique is True
    with pytest.raises(UserInputError) as error:
        make("random", unique="maybe")
    assert str(error.value) == "random: unique='maybe' is invalid; expected bool"


# ---- written for the surviving mutants of strategies/_common.py (results/mutation/README.md) -------------------
def test_batch_strategies_ask_uniform_cells_until_num_init_told_with_two_finite_values():
    from nasbench_suite.strategies._common import BatchStrategy

    class Recorder(BatchStrategy):  # the base class's ask/tell/top rules, with a visible model step
        name = "recorder"
        proposals = 0

        def propose(self):
            self.proposals += 1
            return [B]

    def after(values):
        strategy = Recorder(Context(rng=np.random.default_rng(0)), num_init=3)
        for i, value in enumerate(values):
            strategy.tell(Trial((i,) * 6, 200), value)
        trial = strategy.ask()
        return strategy.proposals, trial.arch, strategy

    assert after([1.0, 2.0])[0] == 0  # two finite values but only 2 of num_init = 3 cells
    assert after([1.0, 2.0, 3.0])[:2] == (1, B)  # exactly num_init cells
    assert after([1.0, math.nan, 3.0])[:2] == (1, B)  # exactly two finite values
    proposals, arch, strategy = after([1.0, math.nan, math.nan])
    assert proposals == 0 and strategy.asked == {arch}  # a uniform cell, remembered as asked
    assert strategy.top(2) == [(0,) * 6, (1,) * 6] and after([1.0, 5.0, math.nan, 3.0])[2].top(3) == [
        (1,) * 6, (3,) * 6, (0,) * 6]


def test_register_adds_a_class_under_its_name_and_refuses_clashes_exactly():
    from nasbench_suite.strategies.base import STRATEGIES, Strategy, register

    def strategy_class(name, family="sampling", hyperparameters=()):
        return type("Probe", (Strategy,), {"name": name, "family": family, "hyperparameters": hyperparameters,
                                           "ask": lambda self: None, "tell": lambda self, trial, value: None})

    probe = strategy_class("probe-strategy")
    try:
        assert register(probe) is probe and STRATEGIES["probe-strategy"] is probe
        with pytest.raises(ValueError) as error:
            register(strategy_class("probe-strategy"))
        assert str(error.value) == "strategy name 'probe-strategy' registered twice"
    finally:
        STRATEGIES.pop("probe-strategy", None)
    with pytest.raises(ValueError) as error:
        register(strategy_class("probe-2", family="magic"))
    assert str(error.value) == ("strategy 'probe-2' has family 'magic'; valid: sampling, evolution/local, RL, "
                                "model-based, multi-fidelity, zero-cost")
    with pytest.raises(ValueError) as error:
        register(strategy_class("probe-3", hyperparameters=(Hyperparameter("ask", 1, "shadows ask"),
                                                            Hyperparameter("depth", 1, "fine"))))
    assert str(error.value) == "strategy 'probe-3': hyperparameters ['ask'] shadow methods"
    assert not {"probe-2", "probe-3"} & set(STRATEGIES)


def test_whole_numbers_pass_unchanged_and_a_spec_value_may_hold_equals_signs():
    from nasbench_suite.strategies.base import StrategySpec

    count = Hyperparameter("count", 1, "an unbounded count", interval="[1, inf)")
    assert count.coerce(2**53 + 1, "probe") == 2**53 + 1  # not through a float
    with pytest.raises(UserInputError) as error:
        StrategySpec.parse("rea:population_size=1=2")
    assert str(error.value) == "rea: population_size='1=2' is invalid; expected int in [1, 15625]"


def test_get_strategy_reads_the_name_part_of_a_spec_and_lists_every_name_on_error():
    from nasbench_suite.strategies.base import STRATEGIES
    from nasbench_suite.strategies.evolution import RegularizedEvolution

    assert get_strategy(" rea :population_size=5:tournament_size=3") is RegularizedEvolution
    with pytest.raises(UserInputError) as error:
        get_strategy("nope:x=1")
    assert str(error.value) == f"unknown strategy 'nope'; valid: {', '.join(sorted(STRATEGIES))}"
    assert "valid: bananas, bo, bohb, " in str(error.value)


def test_context_and_settings_errors_are_exact():
    with pytest.raises(UserInputError) as error:
        Context()
    assert str(error.value) == "a strategy needs an explicit numpy Generator (np.random.default_rng(seed))"
    with pytest.raises(UserInputError) as error:
        make("local-search", depth=3)
    assert str(error.value) == "local-search got unknown hyperparameters: depth; valid: none"
