"""Invariants that define the suite's parts, each checked on a small real case whose answer is known by hand.

Every test here was seen to fail with a realistic bug planted in the code it guards (results/mutation/README.md
lists the bug each one catches): the runner must pick its incumbent by the search metric, surrogate evaluation
must score unseen cells only, training must apply the documented learning rate and augmentation, and each
strategy must follow its defining rule.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from nasbench_suite.benchmark import TableBenchmark
from nasbench_suite.runner import run
from nasbench_suite.space import NB201
from nasbench_suite.strategies import Context, get_strategy
from nasbench_suite.strategies.base import Trial
from nasbench_suite.surrogate import Surrogate
from nasbench_suite.surrogate.evaluation import evaluate, training_sets
from nasbench_suite.table import Table

SPACE = NB201.size


def make_table(archs: np.ndarray, metrics: dict[str, np.ndarray], seeds=(0,), epochs=(200,)) -> Table:
    """A table of `archs` with [arch, seed, epoch] metrics and 1 s/epoch cost columns."""
    table = Table(space="nb201", dataset="toy", archs=archs, seeds=np.array(seeds), epochs=np.array(epochs))
    for name, values in metrics.items():
        table.set_metric(name, values.reshape(len(archs), len(seeds), len(epochs)))
    table.set_column("train_seconds_per_epoch", np.ones(len(archs)))
    table.set_column("eval_seconds", np.zeros(len(archs)))
    return table


def saved(table: Table, tmp_path) -> Table:
    """The table written to a real HDF5 file and read back."""
    return Table.load(table.save(tmp_path / "toy.h5"))


# ---- runner -----------------------------------------------------------------------------------------------
def test_incumbent_is_chosen_by_the_search_metric_not_the_report_metric(tmp_path):
    """Test accuracy ranks the cells in reverse of validation accuracy, so an incumbent picked (or compared) by
    the report metric is a different cell at almost every step."""
    valid = 40 + 50 * np.random.default_rng(0).permutation(SPACE) / SPACE
    table = saved(make_table(np.arange(SPACE), {"valid_acc": valid, "test_acc": 130 - valid}), tmp_path)
    runs = run(TableBenchmark(table, "valid_acc", "test_acc"), ["random", "rea"], [0, 1], "40q", jobs=1)
    changed = 0
    for r in runs:
        assert r.queries == 40
        np.testing.assert_array_equal(r.seen, valid.astype(np.float32)[r.arch])
        best = np.array([r.arch[np.argmax(r.seen[:q + 1])] for q in range(r.queries)])
        np.testing.assert_array_equal(r.incumbent, best)
        np.testing.assert_array_equal(r.reported, (130 - valid).astype(np.float32)[best])
        changed += int(np.sum(best[1:] != best[:-1]))
        # the leak would report the best test accuracy seen; the honest answer is worse here
        assert r.final < (130 - valid)[r.arch].max()
    assert changed >= 8  # the incumbent moved often enough for the rule to matter


def test_seeded_queries_draw_only_measured_seeds():
    """Seed 1 is unmeasured everywhere and seed 0 on even cells: a draw must never return NaN, and must reach
    every measured seed."""
    per_seed = np.stack([100 + np.arange(SPACE) % 50, np.full(SPACE, np.nan), 200 + np.arange(SPACE) % 50], axis=1)
    per_seed[::2, 0] = np.nan
    table = make_table(np.arange(SPACE), {"valid_acc": per_seed, "test_acc": per_seed}, seeds=(0, 1, 2))
    benchmark = TableBenchmark(table, "valid_acc", "test_acc", seed_mode="random")
    rng = np.random.default_rng(0)
    for arch in (0, 1, 7):
        measured = set(per_seed[arch][~np.isnan(per_seed[arch])].tolist())
        drawn = {table.query(arch, "valid_acc", 200, seed=rng) for _ in range(60)}
        simulated = {benchmark.evaluate(arch, 200, rng).value for _ in range(60)}
        assert drawn == simulated == measured


# ---- surrogate --------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_surrogate_evaluation_never_scores_a_training_cell(tmp_path):
    """Each cell's target is unique, so the scattered truths name exactly the cells that were scored."""
    archs = np.sort(np.random.default_rng(1).choice(SPACE, 120, replace=False))
    target = 50 + np.arange(120) / 4  # distinct, exact in float32
    table = make_table(archs, {"valid_acc": target})
    frame = evaluate(table, ["rf"], [10, 40], repeats=2, target="valid_acc@200", features=("onehot",), seed=3,
                     out_dir=tmp_path, scatter_size=10, progress=False)
    assert sorted(zip(frame["train_size"], frame["test_cells"])) == [(10, 110), (10, 110), (40, 80), (40, 80)]
    train = training_sets(table, "valid_acc@200", [10, 40], 2, seed=3)[(10, 0)]
    scored = np.load(tmp_path / "scatter_rf_n10.npz")["true"]
    expected = target[~np.isin(archs, train)].astype(np.float32)
    np.testing.assert_array_equal(np.sort(scored), np.sort(expected))


def test_surrogate_uncertainty_is_in_target_units():
    """Scaling the target by 10 scales the predicted mean, its spread and the seed noise by 10."""
    rng = np.random.default_rng(2)
    archs = np.sort(rng.choice(SPACE, 160, replace=False))
    ops = NB201.ops_of(archs)
    base = 60 + 3 * (ops == 3).sum(axis=1) - 2 * (ops == 0).sum(axis=1)
    acc = base[:, None] + rng.normal(0, 0.5, (160, 2))
    train, unseen = archs[:120], archs[120:]
    fits = [Surrogate("gp", features=("onehot",), target="valid_acc@200").fit(
        make_table(archs, {"valid_acc": scale * acc}, seeds=(0, 1)), train) for scale in (1, 10)]
    (mean1, std1), (mean10, std10) = (f.predict(unseen) for f in fits)
    assert std1.min() > 0.01
    np.testing.assert_allclose(mean10, 10 * mean1, rtol=1e-3)
    np.testing.assert_allclose(std10, 10 * std1, rtol=1e-3)
    (_, sd1), (_, sd10) = (f.observation_sd(unseen) for f in fits)
    assert 0.3 < sd1[0] < 0.7  # the seed-to-seed sd put in (0.5)
    np.testing.assert_allclose(sd10, 10 * sd1, rtol=1e-4)


# ---- strategies -------------------------------------------------------------------------------------------
def strategy(name: str, seed: int = 0, **hyperparameters):
    return get_strategy(name)(Context(space=NB201, rng=np.random.default_rng(seed), fidelities=(200,)),
                              **hyperparameters)


def distance(a, b) -> int:
    return sum(x != y for x, y in zip(a, b))


def test_rea_ages_out_the_oldest_member_not_the_worst():
    """Population of 3: the oldest member is the best. After one child it must be gone, so the next parent is the
    best survivor; removing the worst instead keeps breeding from the old champion."""
    rea = strategy("rea", seed=4, population_size=3, sample_size=40)  # a sample of 40 sees every member
    first = [rea.ask() for _ in range(3)]
    oldest, worst, survivor = (t.arch for t in first)
    assert min(distance(oldest, survivor), distance(oldest, worst), distance(worst, survivor)) >= 3
    for trial, value in zip(first, (90.0, 10.0, 50.0)):
        rea.tell(trial, value)
    child = rea.ask()
    assert distance(child.arch, oldest) == 1  # the champion is still there, and is the parent
    rea.tell(child, 20.0)
    grandchild = rea.ask().arch
    assert distance(grandchild, survivor) == 1 and distance(grandchild, oldest) > 1


def test_rea_tournament_samples_with_replacement():
    """Real et al.'s and NAS-Bench-201's REA draw the sample with replacement: with 2 members and a sample of 2,
    the worse one is the parent 1/4 of the time (never without replacement)."""
    worse_parent = 0
    for seed in range(400):
        rea = strategy("rea", seed=seed, population_size=2, sample_size=2)
        good, bad = rea.ask(), rea.ask()
        if distance(good.arch, bad.arch) < 3:
            continue
        rea.tell(good, 80.0)
        rea.tell(bad, 40.0)
        worse_parent += distance(rea.ask().arch, bad.arch) == 1
    assert 60 < worse_parent < 140  # expected about 100 of ~400


def test_reinforce_update_matches_the_hand_computed_one():
    """Rewards 60 then 70, momentum 0.9, Adam at the default lr.

    Tell 1: the bias-corrected baseline is 60 itself, advantage 0, so the policy does not move.
    Tell 2: baseline (0.09 * 60 + 0.1 * 70) / 0.19 = 65.26, advantage 4.74 > 0. Adam's first step after a zero
    gradient: m_hat = g / 1.9, v_hat = g^2 / 1.999, so each logit moves by lr * sqrt(1.999) / 1.9,
    up for the chosen op of each edge and down for the others.
    """
    agent = strategy("reinforce", seed=5)
    p0 = agent.probabilities()
    first = agent.ask()
    agent.tell(first, 60.0)
    np.testing.assert_allclose(agent.probabilities(), p0, rtol=1e-6)  # only rounding (~1e-15) reaches Adam
    second = agent.ask()
    agent.tell(second, 70.0)
    step = agent.lr * math.sqrt(1.999) / 1.9
    chosen = np.eye(5)[list(second.arch)]
    logits = np.log(p0) + step * (2 * chosen - 1)
    expected = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(agent.probabilities(), expected, rtol=1e-6)


def test_reinforce_ignores_a_failed_run():
    agent = strategy("reinforce", seed=6)
    agent.tell(agent.ask(), 60.0)
    after_one = agent.probabilities()
    agent.tell(agent.ask(), float("nan"))
    np.testing.assert_array_equal(agent.probabilities(), after_one)


# ---- encodings --------------------------------------------------------------------------------------------
# edges in string order: 0->1, 0->2, 1->2, 0->3, 1->3, 2->3; ops: 0 none, 1 skip, 2 conv1x1, 3 conv3x3, 4 pool
CONV1_THEN_CONV3 = (2, 0, 0, 0, 3, 0)  # only path 0->1->3, ops (conv1x1, conv3x3)
CONV3_THEN_CONV1 = (3, 0, 0, 0, 2, 0)  # the same path with the ops swapped
MIXED = (1, 4, 2, 1, 0, 3)  # 0->3 skip; 0->1->3 cut by none; 0->2->3 (pool, conv3x3); 0->1->2->3 (skip, conv1x1, conv3x3)
LONG_ONLY = (3, 0, 1, 0, 0, 2)  # only 0->1->2->3, ops (conv3x3, skip, conv1x1)


@pytest.mark.parametrize("ops, bits", [
    # path bit: offset (0 / 4 / 20 for length 1 / 2 / 3) + base-4 number of the ops without `none` (op id - 1)
    (CONV1_THEN_CONV3, [4 + 1 * 4 + 2]),
    (CONV3_THEN_CONV1, [4 + 2 * 4 + 1]),
    (MIXED, [0, 4 + 3 * 4 + 2, 20 + 0 * 16 + 1 * 4 + 2]),
    (LONG_ONLY, [20 + 2 * 16 + 0 * 4 + 1]),
    ((0,) * 6, []),
])
def test_path_encoding_bits(ops, bits):
    (row,) = NB201.encode([ops], "path")
    assert np.flatnonzero(row).tolist() == bits


def test_onehot_sequence_and_adjacency_bits():
    onehot, sequence, adjacency = (NB201.encode([MIXED], kind)[0] for kind in ("onehot", "sequence", "adjacency"))
    assert set(np.unique(onehot)) == set(np.unique(adjacency)) == {0.0, 1.0}  # bits, not counts
    assert np.flatnonzero(onehot).tolist() == [0 * 5 + 1, 1 * 5 + 4, 2 * 5 + 2, 3 * 5 + 1, 4 * 5 + 0, 5 * 5 + 3]
    assert sequence.tolist() == [0, 4, 0, 7, 1, 5, 0, 4, 1, 3, 2, 6]  # (input node, op + 3) per edge
    # ops-as-nodes graph: 0 input, 1..6 the edges in string order, 7 output
    links = [(0, 1), (0, 2), (0, 4), (1, 3), (1, 5), (2, 6), (3, 6), (4, 7), (5, 7), (6, 7)]
    assert np.flatnonzero(adjacency[:64]).tolist() == sorted(8 * a + b for a, b in links)
    labels = [(0, 5), *((e + 1, op) for e, op in enumerate(MIXED)), (7, 6)]  # 5: input, 6: output label
    assert np.flatnonzero(adjacency[64:]).tolist() == [7 * node + label for node, label in labels]



# ---- space ------------------------------------------------------------------------------------------------
def test_skip_connect_passes_its_input_through_in_the_canonical_form():
    """0->1 skip then 1->3 conv computes what a direct 0->3 conv computes; a 1x1 conv in place of the skip does not."""
    direct = "|none~0|+|none~0|none~1|+|nor_conv_3x3~0|none~1|none~2|"
    via_skip = "|skip_connect~0|+|none~0|none~1|+|none~0|nor_conv_3x3~1|none~2|"
    via_conv = "|nor_conv_1x1~0|+|none~0|none~1|+|none~0|nor_conv_3x3~1|none~2|"
    assert NB201.canonical(via_skip) == NB201.canonical(direct) != NB201.canonical(via_conv)


def test_variation_operators_reach_every_outcome():
    rng, parent = np.random.default_rng(3), (2,) * 6
    new_ops = {op for _ in range(300) for op in NB201.mutate(parent, rng) if op != 2}
    assert new_ops == {0, 1, 3, 4}  # a uniformly chosen *different* op
    a, b = (0,) * 6, (4,) * 6
    cuts = {NB201.crossover_one_point(a, b, rng).index(4) for _ in range(300)}
    assert cuts == {1, 2, 3, 4, 5}
    from_a = np.mean([NB201.crossover_uniform(a, b, rng) for _ in range(300)]) / 4
    assert 0.4 < 1 - from_a < 0.6  # each edge from either parent with probability 1/2


# ---- written for the surviving mutants of strategies/reinforce.py (results/mutation/README.md) ---------------------
def test_reinforce_follows_adam_and_the_ema_baseline_over_several_tells():
    """Adam (Kingma & Ba 2015: betas 0.9/0.999, eps 1e-8, bias-corrected) on the REINFORCE gradient with the
    bias-corrected EMA baseline, recomputed independently for five tells; a third tell is the first where a wrong
    second moment shows (two tells from zero moments give the same step)."""
    agent = strategy("reinforce", seed=7)
    logits, m, v, ema, weight = agent.logits.copy(), 0.0, 0.0, 0.0, 0.0
    for step, reward in enumerate([60.0, 70.0, 65.0, 90.0, 50.0], start=1):
        trial = agent.ask()
        ema, weight = 0.9 * ema + (1 - 0.9) * reward, 0.9 * weight + (1 - 0.9)  # momentum 0.9, as written there
        p = np.exp(logits - logits.max(1, keepdims=True))
        p /= p.sum(1, keepdims=True)
        grad = -(np.eye(5)[list(trial.arch)] - p) * (reward - ema / weight)
        m, v = 0.9 * m + 0.1 * grad, 0.999 * v + 0.001 * grad**2
        logits = logits - agent.lr * (m / (1 - 0.9**step)) / (np.sqrt(v / (1 - 0.999**step)) + 1e-8)
        agent.tell(trial, reward)
        np.testing.assert_allclose(agent.logits, logits, rtol=1e-12, atol=0)


def test_reinforce_starts_near_uniform_reaches_every_op_and_stays_finite_for_large_logits():
    agent = strategy("reinforce", seed=8)
    assert np.array_equal(agent.logits, 1e-3 * np.random.default_rng(8).standard_normal((6, 5)))  # near uniform
    assert {op for _ in range(200) for op in agent.ask().arch} == {0, 1, 2, 3, 4}
    agent.logits = np.zeros((6, 5))
    agent.logits[0, 0], agent.logits[1] = 800.0, -800.0  # exp(800) overflows unless each row is shifted by its max
    p = agent.probabilities()
    assert np.isfinite(p).all() and p[0, 0] == 1.0 and np.allclose(p[1:], 0.2)


# ---- written for the surviving mutants of strategies/tpe.py (results/mutation/README.md) ---------------------------
def test_tpe_density_forgets_linearly_past_25_observations_and_adds_the_prior():
    """hyperopt's linear forgetting: with n > 25 observations the oldest n - 25 weigh linspace(1/n, 1, n - 25)."""
    from nasbench_suite.strategies.tpe import categorical_density

    ops = np.zeros((27, 1), dtype=int)
    ops[0] = 1  # the oldest observation, weight 1/27; the next one weighs 1, the last 25 weigh 1
    expected = np.array([26 + 1, 1 / 27 + 1, 1, 1, 1])
    np.testing.assert_allclose(categorical_density(ops, 5, 1.0)[0], expected / expected.sum(), rtol=1e-12)
    few = np.array([[0], [0], [3]])
    np.testing.assert_allclose(categorical_density(few, 5, 0.5)[0], np.array([2.5, 0.5, 0.5, 1.5, 0.5]) / 5.5)


def tpe_expected_ask(agent) -> tuple[int, ...]:
    """What TPE must ask next, recomputed from the documented rule with a copy of its generator: the best
    ceil(gamma * sqrt(n)) cells (at most n - 1; ties keep telling order) are 'good', candidates are drawn edge by
    edge from l, and the one with the largest sum of log l - log g wins (the first on ties)."""
    import copy

    from nasbench_suite.strategies.tpe import categorical_density

    n = len(agent.archs)
    order = sorted(range(n), key=lambda i: -(agent.values[i] if agent.values[i] == agent.values[i] else -np.inf))
    n_good = min(math.ceil(agent.gamma * math.sqrt(n)), n - 1)
    ops = np.asarray(agent.archs)
    l = categorical_density(ops[sorted(order[:n_good])], 5, agent.prior_weight)
    g = categorical_density(ops[sorted(order[n_good:])], 5, agent.prior_weight)
    u = copy.deepcopy(agent.rng).random((agent.num_candidates, 6))
    candidates = [[min(int((u[c, e] > l[e].cumsum()).sum()), 4) for e in range(6)] for c in range(agent.num_candidates)]
    scores = [sum(math.log(l[e, o]) - math.log(g[e, o]) for e, o in enumerate(c)) for c in candidates]
    return tuple(candidates[scores.index(max(scores))])


@pytest.mark.parametrize("settings, values", [
    # 40 tells with ties: ceil(0.25 * sqrt(40)) = 2 good cells, the first two 70s told (an unstable sort picks others)
    ({}, np.random.default_rng(0).choice([50.0, 60.0, 70.0], 40).tolist()),
    ({}, [50.0, 60.0, 70.0, float("nan")] * 10),  # failed runs rank last
    ({"num_startup": 1, "gamma": 1.0}, [55.0]),  # ceil(1 * sqrt(1)) = 1 is capped at n - 1 = 0 good cells
    ({"num_startup": 3, "gamma": 1.0, "num_candidates": 5}, [70.0, 60.0, 80.0]),  # the 4th ask is the model's
])
def test_tpe_asks_the_candidate_with_the_best_density_ratio(settings, values):
    agent = strategy("tpe", seed=11, **settings)
    rng = np.random.default_rng(3)
    for value in values:
        agent.tell(Trial(tuple(int(o) for o in rng.integers(5, size=6)), 200), value)
    for _ in range(3):
        expected = tpe_expected_ask(agent)
        asked = agent.ask()
        assert asked.arch == expected
        agent.tell(asked, 65.0)
