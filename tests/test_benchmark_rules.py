"""The benchmarks' rules on hand-made tables: what a query returns and costs, which cells are searchable, the
settings each records, and the exact input errors. Written for the mutants of benchmark/ that survived the rest
of the suite (results/mutation/README.md)."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from nasbench_suite.benchmark import TableBenchmark
from nasbench_suite.errors import UserInputError
from nasbench_suite.runner.presets import Budget
from nasbench_suite.runner.simulate import check_priced
from nasbench_suite.space import NB201
from nasbench_suite.table import Table, TableError

SPACE = NB201.size
CELLS = np.arange(SPACE)
TRAIN = 1.0 + CELLS % 7  # seconds per epoch
VALID = np.stack([CELLS % 100, CELLS % 100 + 2.0], 1)  # [cell, seed] at epoch 12; 200: + 10
TEST = 50 + 40 * ((CELLS * 7919) % SPACE) / SPACE  # one best cell, unrelated to the validation order


def two_seed_table(columns=("train_seconds_per_epoch", "eval_seconds")) -> Table:
    table = Table(space="nb201", dataset="toy", archs=CELLS, seeds=[3, 4], epochs=[12, 200],
                  provenance={"kind": "toy"}, protocol={"name": "toy"})
    table.set_metric("valid_acc", np.stack([VALID, VALID + 10], 2))
    table.set_metric("test_acc", np.repeat(np.stack([TEST - 5, TEST], 1)[:, None, :], 2, 1))
    values = {"train_seconds_per_epoch": TRAIN, "eval_seconds": np.full(SPACE, 0.5)}
    for name in columns:
        table.set_column(name, values[name], f"{name} measured")
    return table


@pytest.fixture(scope="module")
def table():
    return two_seed_table()


def test_a_query_returns_the_seed_mean_or_one_measured_seed_and_costs_the_recorded_time(table):
    mean = TableBenchmark(table)
    assert mean.fidelities == (12, 200) and mean.max_fidelity == 200 and mean.report_epoch == 200
    for fidelity, shift in ((12, 0), (200, 10)):
        observation = mean.evaluate(1234, fidelity, np.random.default_rng(0))
        assert observation.value == 34 + 1 + shift and observation.source == "table"
        assert observation.cost == fidelity * TRAIN[1234] + 0.5 == mean.cost(1234, fidelity)
    noisy = TableBenchmark(table, seed_mode="random")
    rng = np.random.default_rng(0)
    assert {noisy.evaluate(1234, 12, rng).value for _ in range(30)} == {34.0, 36.0}
    assert mean.report(1234) == pytest.approx(TEST[1234]) and mean.report(NB201.to_str(1234)) == mean.report(1234)
    np.testing.assert_allclose(mean.report_values(), TEST, rtol=1e-6)
    assert TableBenchmark(table, report_epoch=12).report(1234) == pytest.approx(TEST[1234] - 5)
    assert mean.optimum() == pytest.approx(TEST.max())
    assert mean.top_fraction_threshold(0.01) == pytest.approx(np.quantile(TEST, 0.99), rel=1e-6)


def test_every_form_of_a_cell_is_the_same_query(table):
    benchmark = TableBenchmark(table)
    ops = NB201.to_ops(4321)
    forms = [4321, np.int64(4321), ops, tuple(np.int64(o) for o in ops), list(ops), NB201.to_str(4321)]
    assert {benchmark.report(form) for form in forms} == {benchmark.report(4321)}
    for bad in ((5, 0, 0, 0, 0, 0), (-1, 0, 0, 0, 0, 0), (0, 0, 0, 0, 0, 0, 0)):
        with pytest.raises(UserInputError):
            benchmark.report(bad)
    with pytest.raises(UserInputError, match=r"^arch index 15625 out of range; expected 0\.\.15624$"):
        benchmark.cost(SPACE, 12)
    assert benchmark.cost(SPACE - 1, 12) == 12 * TRAIN[-1] + 0.5 and benchmark.cost(0, 1) == TRAIN[0] + 0.5


def test_fidelities_are_checked_sorted_and_named(table):
    benchmark = TableBenchmark(table, fidelities=[200, 12, 200])
    assert benchmark.fidelities == (12, 200) and benchmark.check_fidelity(np.int64(12)) == 12
    assert TableBenchmark(table, fidelities=[12]).max_fidelity == 12
    with pytest.raises(UserInputError, match=r"^fidelity 13 epochs is not available for 'valid_acc'; "
                                             r"available: 12, 200$"):
        benchmark.evaluate(0, 13, np.random.default_rng(0))
    with pytest.raises(UserInputError, match="fidelity 200 epochs is not available for 'valid_acc'; available: 12$"):
        TableBenchmark(table, fidelities=[12]).evaluate(0, 200, np.random.default_rng(0))


def test_settings_errors_name_the_expected_form(table):
    with pytest.raises(UserInputError, match=r"^unknown seed mode 'median'; valid: mean, random$"):
        TableBenchmark(table, seed_mode="median")
    unpriced = TableBenchmark(two_seed_table(columns=()))  # no training times (NAS-Bench-Graph): queries cost 0
    assert not unpriced.priced and unpriced.evaluate(0, 200, np.random.default_rng(0)).cost == 0
    with pytest.raises(UserInputError, match=r"^budget of 1000 simulated seconds cannot bound this search"):
        check_priced(unpriced, Budget(1000))
    part = Table(space="nb201", dataset="toy", archs=[0, 1], seeds=[0], epochs=[1])
    part.set_column("train_seconds_per_epoch", np.ones(2))
    with pytest.raises(TableError, match=r"^table covers 2 of 15625 cells; a table benchmark needs all of them"):
        TableBenchmark(part)


def test_excluded_cells_are_counted_by_reason_and_answered_at_no_cost():
    table = two_seed_table()
    valid = table.metrics["valid_acc"].values
    valid[:3, :, 0] = np.nan  # no search value at 12 for cells 0..2
    table.set_metric("valid_acc", valid)
    eval_seconds = table.column("eval_seconds").copy()
    eval_seconds[[2, 7]] = np.nan
    table.set_column("eval_seconds", eval_seconds)
    benchmark = TableBenchmark(table)
    assert benchmark.exclusion() == {"excluded_cells": 4, "excluded_reason":
                                     "3 cells have no valid_acc@12; 2 cells have no eval_seconds"}
    for cell in (0, 2, 7):
        assert benchmark.evaluate(cell, 200, np.random.default_rng(0)) == benchmark.evaluate(cell, 12, None)
        assert np.isnan(benchmark.report(cell))
    excluded = benchmark.evaluate(7, 12, None)
    assert np.isnan(excluded.value) and (excluded.cost, excluded.source) == (0.0, "excluded")
    assert TableBenchmark(table, fidelities=[200]).exclusion() == {"excluded_cells": 2, "excluded_reason":
                                                                   "2 cells have no eval_seconds"}
    assert TableBenchmark(two_seed_table()).exclusion() == {"excluded_cells": 0, "excluded_reason": "none"}


def test_describe_records_what_the_leaderboard_needs(table):
    table.path = None
    described = TableBenchmark(table, fidelities=[12]).describe()
    assert described == {
        "kind": "table", "table": "None", "dataset": "toy", "dataset_sha256": "", "search_metric": "valid_acc",
        "report_metric": "test_acc@200", "fidelities": [12], "seed_mode": "mean",
        "cost": "epochs * train_seconds_per_epoch + eval_seconds",
        "cost_columns": {"train_seconds_per_epoch": "train_seconds_per_epoch measured",
                         "eval_seconds": "eval_seconds measured"},
        "excluded_cells": 0, "excluded_reason": "none", "table_provenance": {"kind": "toy"},
        "table_protocol": {"name": "toy"}}
    one_seed = Table(space="nb201", dataset="toy", archs=CELLS, seeds=[0], epochs=[12])
    one_seed.set_metric("valid_acc", VALID[:, :1, None])
    one_seed.set_metric("test_acc", TEST[:, None, None])
    one_seed.set_column("train_seconds_per_epoch", TRAIN)
    described = TableBenchmark(one_seed, seed_mode="random").describe()
    assert described["seed_mode"] == ("random (the table holds one training seed per cell, so queries are "
                                      "noise-free)")
    assert described["cost"] == ("epochs * train_seconds_per_epoch (evaluation time is not recorded for this "
                                 "table and not counted)")
    assert described["cost_columns"] == {"train_seconds_per_epoch": ""}
    assert TableBenchmark(one_seed).cost(3, 12) == 12 * TRAIN[3]


# ---- surrogate and hybrid benchmarks (benchmark/surrogate.py) ----------------------------------------------------
from nasbench_suite.benchmark import HybridBenchmark, SurrogateBenchmark
from nasbench_suite.surrogate import Surrogate

TINY_XGB = {"members": 2, "n_estimators": 10, "n_jobs": 1}


@pytest.fixture(scope="module")
def surrogate(table):
    """valid_acc at 12 and 200, test_acc at 12 and 200 and the training time, from 200 cells."""
    return Surrogate(features="onehot", target="valid_acc,test_acc,train_seconds_per_epoch", params=TINY_XGB).fit(
        table, np.arange(0, SPACE, SPACE // 200)[:200])


def test_a_surrogate_answers_its_mean_plus_its_sd_times_one_normal_draw(surrogate, table):
    noisy, quiet = SurrogateBenchmark(surrogate, table), SurrogateBenchmark(surrogate, table, noise=False)
    assert noisy.fidelities == (12, 200) and noisy.report_epoch == 200 and noisy.kind == "surrogate"
    mean, sd = surrogate.observation_sd(np.array([777]))
    labels = surrogate.target_labels
    k = labels.index("valid_acc@12")
    z = np.random.default_rng(5).standard_normal()
    observation = noisy.evaluate(777, 12, np.random.default_rng(5))
    assert observation.value == pytest.approx(mean[0, k] + sd[0, k] * z, rel=1e-12) and observation.source == "surrogate"
    assert sd[0, k] > 0 and quiet.evaluate(777, 12, np.random.default_rng(5)).value == pytest.approx(mean[0, k])
    assert observation.cost == 12 * TRAIN[777] + 0.5  # the table's columns price it
    assert noisy.report(777) == pytest.approx(mean[0, labels.index("test_acc@200")])
    assert SurrogateBenchmark(surrogate, table, report_epoch=12).report(777) == pytest.approx(
        mean[0, labels.index("test_acc@12")])
    assert noisy.cost_source == {"train_seconds_per_epoch": "table", "eval_seconds": "table"}


def test_a_surrogate_refitted_identically_keeps_the_protocol_so_stored_runs_are_reused(surrogate, table):
    """Only when it was made differs; a protocol holding the time refused every stored run after a rebuild."""
    refit = copy.deepcopy(surrogate)
    refit.created_ = "2000-01-01T00:00:00+00:00"
    assert SurrogateBenchmark(refit, table).describe() == SurrogateBenchmark(surrogate, table).describe()
    other = copy.deepcopy(surrogate)
    other.seed = surrogate.seed + 1  # what does change the answers still changes the protocol
    assert SurrogateBenchmark(other, table).describe() != SurrogateBenchmark(surrogate, table).describe()


def test_without_a_table_the_surrogate_prices_training_and_evaluation_is_not_counted(surrogate):
    benchmark = SurrogateBenchmark(surrogate, noise=False)
    mean, _ = surrogate.observation_sd(np.arange(SPACE))
    predicted = np.maximum(mean[:, surrogate.target_labels.index("train_seconds_per_epoch")], 0.0)
    assert benchmark.cost(9, 200) == pytest.approx(200 * predicted[9]) and (predicted >= 0).all()
    assert benchmark.cost_source == {"train_seconds_per_epoch": "surrogate", "eval_seconds": "not recorded"}
    described = benchmark.describe()
    assert described["table"] is None and described["noise"] == "none (predicted mean)"
    assert described["cost"].startswith("epochs * train_seconds_per_epoch (evaluation time is not recorded")
    assert described["surrogate"]["train_cells"] == 200 and described["report_metric"] == "test_acc@200"
    assert SurrogateBenchmark(surrogate).describe()["noise"] == "one sampled training run per query"
    assert (described["kind"], described["fidelities"], described["excluded_cells"]) == ("surrogate", [12, 200], 0)


def test_surrogate_benchmark_errors_name_what_to_build(surrogate, table):
    with pytest.raises(UserInputError, match=r"^the surrogate does not predict 'train_acc' \(it predicts valid_acc@12, "
                                             r".*\); build it with --target train_acc,test_acc$"):
        SurrogateBenchmark(surrogate, table, search_metric="train_acc")
    with pytest.raises(UserInputError, match=r"^the surrogate does not predict the report metric 'train_acc' \(it "
                                             r"predicts valid_acc@12, .*\); build it with --target valid_acc,train_acc$"):
        SurrogateBenchmark(surrogate, table, report_metric="train_acc")
    no_cost = Surrogate(features="onehot", target="valid_acc@12,test_acc@200", params=TINY_XGB).fit(table, np.arange(0, SPACE, 100))
    with pytest.raises(UserInputError, match=r"^cannot price 15625 cells: the table does not hold them and the "
                                             r"surrogate does not predict 'train_seconds_per_epoch'; build it with"):
        SurrogateBenchmark(no_cost)
    with pytest.raises(UserInputError, match=r"^unknown seed mode 'x'; valid: mean, random$"):
        HybridBenchmark(surrogate, table, seed_mode="x")


def test_a_hybrid_answers_from_the_table_where_it_measured(table):
    part = Table(space="nb201", dataset="toy", archs=np.arange(100), seeds=[3, 4], epochs=[12, 200])
    valid = table.metrics["valid_acc"].values[:100].copy()
    valid[50:, :, 1] = np.nan  # cells 50..99 measured at 12 epochs only
    part.set_metric("valid_acc", valid)
    part.set_metric("test_acc", table.metrics["test_acc"].values[:100])
    part.set_column("train_seconds_per_epoch", TRAIN[:100])
    surrogate = Surrogate(features="onehot", target="valid_acc,test_acc,train_seconds_per_epoch",
                          params=TINY_XGB).fit(part, np.arange(50))
    hybrid = HybridBenchmark(surrogate, part, noise=False)
    noisy = HybridBenchmark(surrogate, part, seed_mode="random")
    rng = np.random.default_rng(0)
    assert hybrid.evaluate(60, 12, rng) == hybrid.evaluate(60, 12, rng)
    observation = hybrid.evaluate(60, 12, rng)
    assert (observation.value, observation.source) == (61.0, "table")  # mean of the seeds 60 and 62
    assert {noisy.evaluate(60, 12, rng).value for _ in range(30)} == {60.0, 62.0}
    from_surrogate = hybrid.evaluate(60, 200, rng)
    mean, _ = surrogate.observation_sd(np.array([60, 5000]))
    assert from_surrogate.source == "surrogate" and from_surrogate.value == pytest.approx(
        mean[0, surrogate.target_labels.index("valid_acc@200")])
    assert hybrid.report(60) == pytest.approx(TEST[60]) and hybrid.report(5000) == pytest.approx(
        mean[1, surrogate.target_labels.index("test_acc@200")])
    assert hybrid.evaluate(5000, 12, rng).source == "surrogate"
    described = hybrid.describe()
    assert described["search_from_table"] == {12: 100, 200: 50} and described["report_from_table"] == 100
    assert described["seed_mode"] == "mean" and described["kind"] == "hybrid"
    assert described["cost_source"] == {"train_seconds_per_epoch": "table+surrogate", "eval_seconds": "not recorded"}


# ---- written for the surviving mutants of benchmark/ (results/mutation/README.md) ----------------------------------
def test_nothing_searchable_names_what_a_table_needs_in_one_line(table):
    no_cost = two_seed_table(columns=("eval_seconds",))
    no_cost.set_column("train_seconds_per_epoch", np.full(SPACE, np.nan))
    with pytest.raises(UserInputError) as error:
        TableBenchmark(no_cost)
    assert str(error.value) == ("no cell can be searched: 15625 cells have no train_seconds_per_epoch; use a table "
                                "that has the search metric, the report metric and a cost for some cells")


def test_a_surrogate_benchmark_describes_its_table_and_settings_exactly(surrogate, table, tmp_path):
    table.path = tmp_path / "toy.h5"
    described = SurrogateBenchmark(surrogate, table, noise=False).describe()
    meta = surrogate.metadata()
    del meta["created"]
    meta["train_cells"] = 200
    assert described == {
        "kind": "surrogate", "search_metric": "valid_acc", "report_metric": "test_acc@200", "fidelities": [12, 200],
        "noise": "none (predicted mean)", "cost": "epochs * train_seconds_per_epoch + eval_seconds",
        "cost_source": {"train_seconds_per_epoch": "table", "eval_seconds": "table"},
        "excluded_cells": 0, "excluded_reason": "none", "table": str(tmp_path / "toy.h5"), "surrogate": meta,
        "dataset": "toy", "dataset_sha256": "", "table_provenance": {"kind": "toy"}}


def test_cells_the_table_holds_without_a_cost_are_excluded_and_the_cost_still_comes_from_the_table():
    holes = two_seed_table()
    eval_seconds = holes.column("eval_seconds").copy()
    eval_seconds[[2, 7]] = np.nan  # the surrogate does not predict eval_seconds: these two cannot be priced
    holes.set_column("eval_seconds", eval_seconds)
    fitted = Surrogate(features="onehot", target="valid_acc@12,test_acc@200", params=TINY_XGB).fit(
        holes, np.arange(0, SPACE, 100))
    benchmark = SurrogateBenchmark(fitted, holes)
    assert benchmark.cost_source == {"train_seconds_per_epoch": "table", "eval_seconds": "table"}
    assert benchmark.exclusion() == {"excluded_cells": 2, "excluded_reason": "2 cells have no eval_seconds"}
    assert benchmark.evaluate(7, 12, np.random.default_rng(0)).source == "excluded"


def test_a_predicted_cost_is_clipped_at_zero_not_higher():
    """Sub-second epochs (small cells on a GPU) must keep their predicted price; only a negative one is clipped."""
    fast = two_seed_table(columns=())
    fast.set_column("train_seconds_per_epoch", TRAIN / 100)
    fitted = Surrogate(features="onehot", target="valid_acc,test_acc,train_seconds_per_epoch",
                       params=TINY_XGB).fit(fast, np.arange(0, SPACE, SPACE // 200)[:200])
    benchmark = SurrogateBenchmark(fitted, noise=False)
    mean, _ = fitted.observation_sd(np.arange(SPACE))
    predicted = mean[:, fitted.target_labels.index("train_seconds_per_epoch")]
    assert predicted.max() < 1
    assert [benchmark.cost(i, 1) for i in (0, 5, 6000)] == pytest.approx(np.maximum(predicted[[0, 5, 6000]], 0))


def test_a_hybrid_keeps_its_report_epoch_and_its_noise(surrogate, table):
    at_12 = HybridBenchmark(surrogate, table, report_epoch=12)
    assert at_12.report_epoch == 12 and at_12.report(60) == pytest.approx(TEST[60] - 5)  # the table's test_acc@12
    half = Table(space="nb201", dataset="toy", archs=np.arange(100), seeds=[3, 4], epochs=[12, 200])
    half.set_metric("valid_acc", table.metrics["valid_acc"].values[:100])
    half.set_metric("test_acc", table.metrics["test_acc"].values[:100])
    half.set_column("train_seconds_per_epoch", TRAIN[:100])
    fitted = Surrogate(features="onehot", target="valid_acc,test_acc,train_seconds_per_epoch",
                       params=TINY_XGB).fit(half, np.arange(100))
    noisy = HybridBenchmark(fitted, half)  # cell 5000 is not in the table: the surrogate samples it
    mean, sd = fitted.observation_sd(np.array([5000]))
    k = fitted.target_labels.index("valid_acc@12")
    z = np.random.default_rng(1).standard_normal()
    assert sd[0, k] > 0
    assert noisy.evaluate(5000, 12, np.random.default_rng(1)).value == pytest.approx(mean[0, k] + sd[0, k] * z)
    assert noisy.describe()["noise"] == "one sampled training run per query"
