"""Training noise in the simulation (issue 31): a query of a cell with several measured seeds returns one of them,
reproducibly; the incumbent is scored by its seed mean; the noise floor and the strategies within it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from test_invariants import SPACE, make_table

import nasbench_suite as ns
from nasbench_suite.benchmark import TableBenchmark
from nasbench_suite.report.stats import noise_floor, noise_groups, pairs_within, table_noise_floor
from nasbench_suite.runner import get_preset, run


@pytest.fixture(scope="module")
def cifar100():
    return ns.open_table("nb201-cifar100")


@pytest.fixture(scope="module")
def noisy(cifar100):
    return get_preset("default").benchmark(cifar100)


def test_the_default_preset_is_noisy_and_the_noise_free_one_answers_seed_means(cifar100, noisy):
    assert (get_preset("default").noise, get_preset("default-noise-free").noise) == ("seed", "mean")
    assert "noise = seed" in get_preset("default").description
    assert "no per-seed data" in get_preset("nb201-paper").description
    mean = get_preset("default-noise-free").benchmark(cifar100)
    rng = np.random.default_rng(0)
    assert {mean.evaluate(6111, 200, rng).value for _ in range(20)} == {cifar100.query(6111, "valid_acc", 200)}
    assert noisy.describe()["seed_mode"] == ("random (valid_acc@12: one value per cell, noise-free; valid_acc@200: "
                                             "one of 2-3 measured seeds per query)")


def test_repeated_queries_of_one_cell_differ_under_seed_noise_and_only_at_epochs_with_seeds(cifar100, noisy):
    rng = np.random.default_rng(0)
    seeds = cifar100.metrics["valid_acc"].values[6111, 1:, list(cifar100.epochs).index(200)]  # 777, 888, 999
    assert {noisy.evaluate(6111, 200, rng).value for _ in range(60)} == set(seeds.tolist())
    assert len({noisy.evaluate(6111, 12, rng).value for _ in range(20)}) == 1  # 12 epochs: one published mean


def test_a_missing_seed_is_never_drawn_nor_the_published_mean_beside_measured_seeds():
    values = np.full((SPACE, 3, 1), np.nan)
    values[:, 0, 0] = 50.0  # seed -1, a published mean: never returned where a measured seed exists
    values[:, 1, 0] = 40.0  # seed 777
    values[::2, 2, 0] = 60.0  # seed 888 on even cells only
    table = make_table(np.arange(SPACE), {"valid_acc": values, "test_acc": values}, seeds=(-1, 777, 888))
    benchmark = TableBenchmark(table, "valid_acc", "test_acc", seed_mode="random")
    rng = np.random.default_rng(1)
    assert {benchmark.evaluate(3, 200, rng).value for _ in range(50)} == {40.0}  # odd cell: 777 only
    assert {benchmark.evaluate(4, 200, rng).value for _ in range(50)} == {40.0, 60.0}
    assert {table.query(3, "valid_acc", 200, seed=rng) for _ in range(50)} == {40.0}
    assert (table.query(3, "valid_acc", 200), table.query(4, "valid_acc", 200)) == (40.0, 50.0)  # seed means


def test_cell_347_which_has_no_seed_999_answers_only_its_two_seeds(cifar100, noisy):
    seeds = cifar100.metrics["valid_acc"].values[347, :, list(cifar100.epochs).index(200)]  # -1, 777, 888, 999
    assert np.isnan(seeds[[0, 3]]).all()
    rng = np.random.default_rng(2)
    assert {noisy.evaluate(347, 200, rng).value for _ in range(60)} == set(seeds[1:3].tolist())


def test_the_seed_mean_falls_back_to_the_published_mean_only_where_no_seed_was_measured(cifar100):
    c10 = ns.open_table("nb201-cifar10")
    assert c10.query(0, "test_acc", 200) == c10.metrics["test_acc"].values[0, 0, 1]  # only seed -1 exists there
    measured = c10.metrics["valid_acc"].values[12721, 1:, 1]
    assert c10.query(12721, "valid_acc", 200) == pytest.approx(np.nanmean(measured))  # not v1_1's 32.656
    assert np.isnan(c10.metrics["valid_acc"].values[:, 0, 1]).all()  # the v1_1 value is not shipped at all


def test_noise_mean_on_a_one_seed_table_answers_exactly_as_before():
    valid = 40 + 50 * np.random.default_rng(0).permutation(SPACE) / SPACE
    table = make_table(np.arange(SPACE), {"valid_acc": valid, "test_acc": 130 - valid}, seeds=(-1,))
    runs = {mode: run(TableBenchmark(table, "valid_acc", "test_acc", seed_mode=mode), ["random", "rea"], [0, 1],
                      "30q", jobs=1) for mode in ("mean", "random")}
    for r_mean, r_seed in zip(runs["mean"], runs["random"]):
        assert r_mean.same_trajectory(r_seed)
        np.testing.assert_array_equal(r_mean.seen, valid.astype(np.float32)[r_mean.arch])


def test_a_noisy_run_is_bit_identical_across_jobs_1_and_2(noisy):
    strategies = ["random", "rea", "local-search"]
    one = run(noisy, strategies, [0, 1, 2], "40q", jobs=1)
    two = run(noisy, strategies, [0, 1, 2], "40q", jobs=2)
    for a, b in zip(one, two):
        assert a.same_trajectory(b)
    means = noisy.table.values("valid_acc", 200)
    assert any((r.seen != means[r.arch].astype(np.float32)).any() for r in one)  # the answers were noisy


def test_the_incumbent_is_the_best_observation_scored_by_its_seed_mean_report_value(cifar100, noisy):
    (r,) = run(noisy, ["local-search"], [3], "60q", jobs=1)
    test_mean = cifar100.values("test_acc", 200)
    for q in range(r.queries):
        best = int(np.argmax(r.seen[: q + 1]))  # single fidelity: the best value observed so far
        assert r.incumbent[q] == r.arch[best]
        assert r.reported[q] == test_mean[r.incumbent[q]]


def test_noise_floor_is_the_median_seed_std_of_the_best_cells_with_two_seeds():
    values = np.array([[90.0, 92.0, np.nan],  # mean 91, std sqrt(2) = 1.4142
                       [89.0, 89.0, 89.6],  # mean 89.2, std 0.3464
                       [95.0, np.nan, np.nan],  # mean 95, one seed: no std
                       [50.0, 51.0, 52.0],  # mean 51: below the top
                       [np.nan, np.nan, np.nan]])  # never measured
    points, cells = noise_floor(values, top=0.5)  # top half of 4 ranked cells: means >= 90.1
    assert cells == 1 and points == pytest.approx(np.sqrt(2))  # cell 0 only (cell 2 has one seed)
    points, cells = noise_floor(values, top=1.0)
    assert cells == 3 and points == pytest.approx(1.0)  # median of sqrt(2), 0.3464, 1.0
    assert noise_floor(values[2:3], top=1.0) == (pytest.approx(np.nan, nan_ok=True), 0)


def test_strategies_within_the_noise_floor_are_grouped_from_the_best_mean_down():
    means = pd.Series({"a": 93.0, "b": 93.9, "c": 93.5, "d": 92.0, "e": 91.95})
    assert noise_groups(means, 0.5) == [["b", "c"], ["a"], ["d", "e"]]  # 93.9-93.5 < 0.5; 93.9-93.0 is not
    assert pairs_within(means, 0.5) == 2  # b-c 0.4 and d-e 0.05; a-c is 0.5, not smaller
    assert pairs_within(means, 0.51) == 3  # a-c too


def test_a_leaderboard_says_whose_noise_its_floor_is(cifar100):
    means = pd.Series({"x": 73.0, "y": 72.9})
    floor = table_noise_floor(cifar100, "test_acc@200", "valid_acc", means)
    assert (floor["metric"], floor["cells"], floor["note"], floor["groups"]) == ("test_acc@200", 157, "", [["x", "y"]])
    assert floor["points"] == pytest.approx(0.382, abs=1e-3)  # results/nb201-seeds/README.md, top 1%
    c10 = table_noise_floor(ns.open_table("nb201-cifar10"), "test_acc@200", "valid_acc", means)
    assert c10["metric"] == "valid_acc@200" and "test_acc@200 has no per-seed values" in c10["note"]
    assert c10["points"] == pytest.approx(0.115, abs=1e-3)


def test_a_hybrid_benchmark_never_draws_the_published_mean_beside_measured_seeds():
    from nasbench_suite.benchmark import HybridBenchmark
    from nasbench_suite.surrogate import Surrogate

    values = np.full((100, 3, 1), np.nan)
    values[:, 0, 0], values[:, 1, 0], values[:, 2, 0] = 50.0, 40.0, 60.0  # seeds -1, 777, 888
    part = ns.Table(space="nb201", dataset="toy", archs=np.arange(100), seeds=[-1, 777, 888], epochs=[200])
    part.set_metric("valid_acc", values)
    part.set_metric("test_acc", values)
    part.set_column("train_seconds_per_epoch", np.ones(100))
    surrogate = Surrogate(features="onehot", target="valid_acc,test_acc,train_seconds_per_epoch",
                          params={"n_estimators": 2, "max_depth": 2}).fit(part, np.arange(100))
    hybrid = HybridBenchmark(surrogate, part, seed_mode="random")
    rng = np.random.default_rng(0)
    assert {hybrid.evaluate(7, 200, rng).value for _ in range(40)} == {40.0, 60.0}  # before: 50.0 too
