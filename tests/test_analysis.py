"""Search-space analysis: every statistic against a brute-force or independent computation on tiny spaces, then
the command on real tables (errors, partial table, byte-identical reruns)."""

from __future__ import annotations

import itertools
import math
import re
import subprocess
import sys
from collections import deque
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from nasbench_suite import jsonio
from nasbench_suite.analysis import landscape as land
from nasbench_suite.analysis import stats
from nasbench_suite.analysis.importance import tree_shap
from nasbench_suite.errors import UserInputError
from nasbench_suite.space import NB201

REPO = Path(__file__).resolve().parents[1]


def grid(k: int, m: int, seed: int = 0) -> np.ndarray:
    """Every op tuple of a k-position, m-op space, in a shuffled row order (so nothing relies on the order)."""
    ops = np.array(list(itertools.product(range(m), repeat=k)))
    return ops[np.random.default_rng(seed).permutation(len(ops))]


def brute_neighbours(ops: np.ndarray) -> list[set[int]]:
    return [{j for j in range(len(ops)) if (ops[i] != ops[j]).sum() == 1} for i in range(len(ops))]


# ---- landscape ---------------------------------------------------------------------------------------------------

def test_grid_neighbours_are_the_cells_one_position_away():
    ops = grid(3, 3)
    nb = land.grid_neighbours(ops, 3)
    assert nb.shape == (27, 6)
    assert [set(row) for row in nb.tolist()] == brute_neighbours(ops)


def test_grid_neighbours_match_the_space_on_nb201():
    ops = NB201.all_ops()
    nb = land.grid_neighbours(ops, NB201.num_ops)
    for index in range(0, NB201.size, 97):  # the space's own (independent) neighbour list
        assert set(nb[index].tolist()) == set(NB201.indices_of(NB201.neighbours(index)).tolist())


def test_grid_neighbours_refuse_a_partial_grid():
    with pytest.raises(UserInputError, match="full grid"):
        land.grid_neighbours(grid(3, 3)[:20], 3)


def test_strict_optima_of_the_real_table_by_the_space_s_own_neighbours(nb201_table):
    values = nb201_table.values("valid_acc", 200)  # the table holds every cell, row = official index
    nb = land.grid_neighbours(NB201.all_ops(), NB201.num_ops)
    brute = [i for i in range(NB201.size)
             if all(values[i] > values[j] for j in NB201.indices_of(NB201.neighbours(i)))]
    assert land.strict_optima(values, nb).tolist() == brute


def test_disconnected_cells_are_those_whose_canonical_form_never_mentions_the_input():
    from nasbench_suite.surrogate.features import live_edges

    dead = ~live_edges(NB201.all_ops()).any(axis=1)
    # the input node is the bare term x (not the x inside op names such as nor_conv_3x3)
    by_canonical = np.array([re.search(r"(?<!\w)x(?!\w)", NB201.canonical(i)) is None for i in range(NB201.size)])
    assert np.array_equal(dead, by_canonical)
    assert dead.sum() == 341


def brute_plateau_optima(values: np.ndarray, neighbours: list[set[int]]) -> list[set[int]]:
    seen, out = set(), []
    for start in range(len(values)):
        if start in seen:
            continue
        plateau, queue = {start}, deque([start])
        while queue:
            cell = queue.popleft()
            for nb in neighbours[cell]:
                if values[nb] == values[cell] and nb not in plateau:
                    plateau.add(nb)
                    queue.append(nb)
        seen |= plateau
        if all(values[nb] <= values[c] for c in plateau for nb in neighbours[c]):
            out.append(plateau)
    return out


def brute_climb(values: np.ndarray, nb: np.ndarray, start: int) -> int:
    cell = start
    while True:
        best = max(nb[cell], key=lambda j: (values[j], -list(nb[cell]).index(j)))  # first best on ties
        if values[best] <= values[cell]:
            return cell
        cell = best


@pytest.mark.parametrize("seed", range(5))
def test_optima_and_basins_match_brute_force_on_a_tiny_space_with_ties(seed):
    ops = grid(3, 3, seed)
    values = np.random.default_rng(seed).integers(0, 4, size=len(ops)).astype(float)  # many plateaus
    nb = land.grid_neighbours(ops, 3)
    sets = brute_neighbours(ops)
    strict = [i for i in range(len(ops)) if all(values[i] > values[j] for j in sets[i])]
    assert land.strict_optima(values, nb).tolist() == strict
    assert sorted(map(sorted, (set(p.tolist()) for p in land.plateau_optima(values, nb)))) == \
        sorted(map(sorted, brute_plateau_optima(values, sets)))
    ends = [brute_climb(values, nb, i) for i in range(len(ops))]
    assert land.hill_climb(values, nb).tolist() == ends
    assert land.basin_sizes(values, nb) == {e: ends.count(e) for e in set(ends)}
    plateaus = land.plateau_optima(values, nb)
    sizes = land.plateau_basins(plateaus, land.basin_sizes(values, nb))
    assert sizes == [sum(e in set(p.tolist()) for e in ends) for p in plateaus]


def test_unimodal_landscape_has_one_optimum_whose_basin_is_everything():
    ops = grid(4, 3)
    target = np.array([2, 0, 1, 1])
    values = -land.hamming(ops, target).astype(float)  # value falls by one per edge away from the target
    nb = land.grid_neighbours(ops, 3)
    (opt,) = land.strict_optima(values, nb)
    assert ops[opt].tolist() == target.tolist()
    assert land.basin_sizes(values, nb) == {int(opt): len(ops)}
    assert land.fitness_distance_correlation(values, ops) == pytest.approx(-1.0)


def test_fitness_distance_correlation_is_pearson_with_the_distance_to_the_best_cell():
    ops = grid(3, 4)
    values = np.random.default_rng(1).normal(size=len(ops))
    best = ops[int(np.argmax(values))]
    d = [sum(a != b for a, b in zip(row, best)) for row in ops.tolist()]
    mv, md = values.mean(), np.mean(d)
    cov = sum((v - mv) * (x - md) for v, x in zip(values, d))
    expected = cov / math.sqrt(sum((v - mv) ** 2 for v in values) * sum((x - md) ** 2 for x in d))
    assert land.fitness_distance_correlation(values, ops) == pytest.approx(expected)


def test_autocorrelation_of_a_short_series_by_hand():
    x = np.array([1.0, 3.0, 2.0, 5.0, 4.0])
    c = x - x.mean()
    by_hand = [sum(c[t] * c[t + s] for t in range(5 - s)) / (5 - s) / (sum(c * c) / 5) for s in (1, 2)]
    assert land.autocorrelation(x, 2) == pytest.approx(by_hand)


def test_random_walk_of_an_additive_landscape_has_the_theoretical_r1():
    # For f = sum_i g_i(x_i), one uniform one-position move gives r(1) = 1 - m / (k (m - 1)) exactly.
    k, m = 3, 3
    ops = grid(k, m)
    weights = np.random.default_rng(2).normal(size=(k, m))
    values = weights[np.arange(k), ops].sum(axis=1)
    nb = land.grid_neighbours(ops, m)
    walk = land.random_walk(nb, 200_000, np.random.default_rng(0))
    assert all((ops[a] != ops[b]).sum() == 1 for a, b in zip(walk[:1000], walk[1:1001]))
    r = land.autocorrelation(values[walk], 3)
    assert r[0] == pytest.approx(1 - m / (k * (m - 1)), abs=0.01)
    assert land.correlation_length(r[0]) == pytest.approx(-1 / math.log(r[0]))
    again = land.random_walk(nb, 500, np.random.default_rng(0))
    assert np.array_equal(again, walk[:500])  # seeded


def test_neutrality_counts_pairs_within_tolerance():
    ops = grid(2, 3)
    values = np.array([0.0, 0.05, 1.0, 1.0, 2.0, 0.0, 3.0, 0.1, 1.0])
    nb = land.grid_neighbours(ops, 3)
    sets = brute_neighbours(ops)
    close = [[abs(values[i] - values[j]) <= 0.1 for j in sets[i]] for i in range(9)]
    pairs, cells = land.neutrality(values, nb, 0.1)
    assert pairs == pytest.approx(np.mean(close))
    assert cells == pytest.approx(np.mean([any(c) for c in close]))


# ---- decomposition and Shapley values ----------------------------------------------------------------------------

def test_fanova_components_by_hand_and_shares_add_up():
    ops = grid(3, 3)
    values = np.random.default_rng(3).normal(size=len(ops))
    dec = stats.fanova(ops, values, 3)
    f = {tuple(row): v for row, v in zip(ops.tolist(), values)}
    mean = values.mean()
    main0 = [np.mean([v for x, v in f.items() if x[0] == a]) - mean for a in range(3)]
    assert dec.main_effect(0) == pytest.approx(main0)
    main = [[np.mean([v for x, v in f.items() if x[i] == a]) - mean for a in range(3)] for i in range(3)]
    pair01 = [[np.mean([v for x, v in f.items() if x[0] == a and x[1] == b]) - main[0][a] - main[1][b] - mean
               for b in range(3)] for a in range(3)]
    assert dec.components[(0, 1)].reshape(3, 3) == pytest.approx(np.array(pair01))
    assert sum(dec.order_share().values()) == pytest.approx(1.0)
    assert dec.pair_share[0, 1] == pytest.approx(np.mean(np.square(pair01)) / values.var())


def test_fanova_of_an_additive_function_has_no_interactions():
    ops = grid(4, 3)
    weights = np.random.default_rng(4).normal(size=(4, 3))
    dec = stats.fanova(ops, weights[np.arange(4), ops].sum(axis=1), 3)
    assert dec.pair_share == pytest.approx(np.zeros((4, 4)), abs=1e-12)
    assert dec.main_share.sum() == pytest.approx(1.0)


def test_shapley_values_and_interactions_match_coalition_enumeration():
    k, m = 3, 3
    ops = grid(k, m)
    values = np.random.default_rng(5).normal(size=len(ops))
    phi, inter = stats.fanova(ops, values, m).shapley(ops)

    def v(x, coalition):  # expected value with the coalition's positions fixed, the others uniform
        keep = np.all(ops[:, list(coalition)] == np.asarray(x)[list(coalition)], axis=1) if coalition else \
            np.ones(len(ops), bool)
        return values[keep].mean()

    for row in (0, 7, 20):
        x = ops[row]
        for i in range(k):
            others = [j for j in range(k) if j != i]
            expected = sum(math.factorial(len(s)) * math.factorial(k - len(s) - 1) / math.factorial(k)
                           * (v(x, s + (i,)) - v(x, s)) for r in range(k) for s in itertools.combinations(others, r))
            assert phi[row, i] == pytest.approx(expected)
        for i, j in itertools.combinations(range(k), 2):
            rest = [p for p in range(k) if p not in (i, j)]
            expected = sum(math.factorial(len(s)) * math.factorial(k - len(s) - 2) / math.factorial(k - 1)
                           * (v(x, s + (i, j)) - v(x, s + (i,)) - v(x, s + (j,)) + v(x, s))
                           for r in range(k - 1) for s in itertools.combinations(rest, r))
            assert inter[row, i, j] == pytest.approx(expected)
    assert phi.sum(axis=1) == pytest.approx(values - values.mean())  # efficiency


def test_treeshap_of_the_surrogate_agrees_with_exact_shapley():
    ops = grid(3, 5)
    weights = np.array([[0, 4, 8, 12, 16], [0, 1, 2, 3, 4], [0, 0.2, 0.4, 0.6, 0.8]], dtype=float)
    values = weights[np.arange(3), ops].sum(axis=1) + 2.0 * (ops[:, 0] == 4) * (ops[:, 1] == 4)
    exact, _ = stats.fanova(ops, values, 5).shapley(ops)
    rows = np.arange(0, len(ops), 3)
    tree = tree_shap(ops, values, 5, rows)
    assert np.corrcoef(tree.ravel(), exact[rows].ravel())[0, 1] > 0.99
    assert np.argsort(np.abs(tree).mean(axis=0)).tolist() == [2, 1, 0]


# ---- op statistics, redundancy, signals, cost ----------------------------------------------------------------------

def test_op_frequencies_and_top_rows():
    ops = np.array([[0, 1], [1, 1], [2, 0], [1, 0]])
    values = np.array([1.0, 4.0, np.nan, 3.0])
    assert stats.top_rows(values, 0.5).tolist() == [1, 3]  # 2 of the 3 measured cells
    assert stats.op_frequencies(ops, np.array([1, 3]), 3).tolist() == [[0, 1, 0], [0.5, 0.5, 0]]


def test_marginal_effects_and_their_bootstrap_by_a_plain_loop():
    rng = np.random.default_rng(6)
    ops = rng.integers(0, 3, size=(60, 2))
    values = ops[:, 0] * 1.5 + rng.normal(size=60)
    effect, low, high = stats.marginal_effects(ops, values, 3, boot=50, rng=np.random.default_rng(9))
    frame = pd.DataFrame({"e0": ops[:, 0], "v": values})
    assert effect[0] == pytest.approx((frame.groupby("e0")["v"].mean() - values.mean()).to_numpy())
    draws = np.random.default_rng(9).integers(60, size=(50, 60))
    boot = np.array([[[values[d][ops[d, e] == o].mean() - values[d].mean() for o in range(3)] for e in range(2)]
                     for d in draws])
    assert low == pytest.approx(np.percentile(boot, 2.5, axis=0))
    assert high == pytest.approx(np.percentile(boot, 97.5, axis=0))
    assert (low <= effect).all() and (effect <= high).all()


def test_class_spread_and_pooled_sd():
    values = np.array([1.0, 2.0, 4.0, 10.0, 5.0, np.nan, 7.0])
    classes = np.array([0, 0, 0, 1, 2, 2, 3])
    spread = stats.class_spread(values, classes)
    assert spread.index.tolist() == [0]  # class 2 has one measured cell, 1 and 3 one cell
    assert spread.loc[0, "sd"] == pytest.approx(np.std([1, 2, 4], ddof=1))
    assert spread.loc[0, "range"] == 3.0
    two = stats.class_spread(np.array([1.0, 3.0, 0.0, 4.0, 8.0]), np.array([0, 0, 1, 1, 1]))
    assert stats.pooled_sd(two) == pytest.approx(math.sqrt((2.0 + 32.0) / 3))


def test_rank_correlations_by_brute_force():
    rng = np.random.default_rng(7)
    target, signal = rng.normal(size=40), rng.normal(size=40)
    target[3] = 9.0  # the best cell by target has no signal value: the top subset must skip it
    signal[3] = np.nan
    keep = [i for i in range(40) if i != 3]
    pairs = list(itertools.combinations(keep, 2))
    tau = sum(np.sign(target[i] - target[j]) * np.sign(signal[i] - signal[j]) for i, j in pairs) / len(pairs)
    assert stats.rank_correlation(target, signal, "kendall") == (pytest.approx(tau), 39)
    ranks = [pd.Series(a[keep]).rank().to_numpy() for a in (target, signal)]
    assert stats.rank_correlation(target, signal, "spearman")[0] == pytest.approx(np.corrcoef(*ranks)[0, 1])
    top = sorted(keep, key=lambda i: -target[i])[:4]  # top 10% of the 39 measured: ceil(3.9) = 4
    sub = list(itertools.combinations(top, 2))
    tau_top = sum(np.sign(target[i] - target[j]) * np.sign(signal[i] - signal[j]) for i, j in sub) / len(sub)
    assert stats.rank_correlation(target, signal, "kendall", 0.1) == (pytest.approx(tau_top), 4)


def test_top_overlap_by_sets():
    rng = np.random.default_rng(8)
    target, signal = rng.normal(size=100), rng.normal(size=100)
    signal[np.argmax(target)] = np.nan  # no signal: ranks last
    for fraction in (0.01, 0.05, 0.2):
        k = math.ceil(fraction * 100)
        a = set(np.argsort(-target)[:k])
        b = set(np.argsort(-np.nan_to_num(signal, nan=-np.inf))[:k])
        assert stats.top_overlap(target, signal, fraction) == pytest.approx(len(a & b) / k)


def test_pareto_front_by_brute_force_with_ties():
    rng = np.random.default_rng(10)
    cost, value = rng.integers(0, 8, size=80).astype(float), rng.integers(0, 8, size=80).astype(float)
    cost[5] = np.nan
    ok = [i for i in range(80) if not np.isnan(cost[i])]
    front = {i for i in ok if not any(cost[j] <= cost[i] and value[j] >= value[i] and
                                      (cost[j] < cost[i] or value[j] > value[i]) for j in ok)}
    got = stats.pareto_front(cost, value)
    assert set(got.tolist()) == front
    assert np.all(np.diff(cost[got]) >= 0)
    duplicates = stats.pareto_front(np.array([1.0, 1.0, 2.0, 3.0]), np.array([5.0, 5.0, 3.0, 6.0]))
    assert duplicates.tolist() == [0, 1, 3]  # two equal points do not dominate each other


# ---- the command ---------------------------------------------------------------------------------------------------

def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "nasbench_suite", *args], capture_output=True, text=True, cwd=REPO)


@pytest.mark.parametrize("args, expected", [
    (["--metric", "valid_loss"], "valid: test_acc, train_acc, valid_acc, valid_test_acc"),
    (["--epoch", "50"], "valid epochs: 12, 200"),
    (["--compare", "no-such-table"], "unknown table 'no-such-table'; embedded tables:"),
    (["--compare", "cifar10-jpeg75-micro"], "--compare table cifar10-jpeg75-micro holds 200 cells; it must hold all"),
])
def test_cli_rejects_bad_input_in_one_line(tmp_path, args, expected):
    result = run_cli("analyze", "nb201-cifar10", "--out", str(tmp_path), *args)
    assert result.returncode == 2
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1
    assert expected in result.stderr
    assert not any(tmp_path.iterdir())


@pytest.mark.slow
def test_cli_on_a_partial_table_skips_what_needs_a_full_one_and_reruns_byte_identically(tmp_path):
    first, second = tmp_path / "a", tmp_path / "b"
    for out in (first, second):
        result = run_cli("analyze", "cifar10-jpeg75-micro", "--out", str(out), "--json")
        assert result.returncode == 0, result.stderr
    summary = jsonio.loads((first / "summary.json").read_text())
    assert summary == jsonio.loads(result.stdout)
    assert summary["cells"] == 200 and not summary["full_table"]
    assert "landscape" not in summary and "importance" not in summary and len(summary["skipped"]) == 2
    assert "Partial table: skipped" in (first / "summary.md").read_text()
    for name in ("op_distribution.csv", "rank_correlations.csv", "pareto.svg", "marginal_effects.png"):
        assert (first / name).is_file()
    files = sorted(p.name for p in first.iterdir())
    assert files == sorted(p.name for p in second.iterdir()) == sorted(summary["files"])
    for name in files:
        assert (first / name).read_bytes() == (second / name).read_bytes(), name


def test_marginal_effects_figure_draws_an_interval_that_excludes_its_estimate():
    """A percentile bootstrap interval need not contain the estimate (few resamples, `analyze --boot 10`); the figure
    draws the interval as it is instead of failing on negative error-bar lengths."""
    from nasbench_suite.analysis import plots

    frame = pd.DataFrame({"edge": ["e0", "e0"], "op": ["a", "b"], "effect": [1.0, -1.0],
                          "ci_low": [1.2, -0.8], "ci_high": [1.5, -0.5]})
    fig = plots.marginal_effects(frame, ["a", "b"], "t")
    segments = [seg for c in fig.axes[0].collections for seg in c.get_segments()]
    assert sorted((s[0][1], s[1][1]) for s in segments) == [(-0.8, -0.5), (1.2, 1.5)]
