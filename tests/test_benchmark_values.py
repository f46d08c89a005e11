"""No silently wrong number from a benchmark: cells without a search value, report value or cost are excluded (and
counted), never scored or priced at 0 s; presets fit the epochs a table records; strict JSON in table attributes."""

from __future__ import annotations

import json

import h5py
import numpy as np
import pytest
from click.testing import CliRunner

import nasbench_suite as ns
from nasbench_suite import jsonio
from nasbench_suite.benchmark import HybridBenchmark, SurrogateBenchmark, TableBenchmark
from nasbench_suite.cli import cli
from nasbench_suite.cli import commands  # noqa: F401  (registers every command)
from nasbench_suite.errors import UserInputError
from nasbench_suite.runner import get_preset
from nasbench_suite.surrogate import Surrogate

TOP = 300  # cells whose values the tests blank out


@pytest.fixture(scope="module")
def source():
    return ns.open_table("nb201-cifar10")


def copy_of(source, tmp_path, blank=None, name="t.h5", columns=("train_seconds_per_epoch", "eval_seconds")):
    """A real HDF5 table (valid_acc, test_acc and cost columns of the embedded one) written with the table API;
    `blank` maps a metric@epoch or column name to the official indices set to NaN there."""
    table = ns.Table(space="nb201", dataset="cifar10", archs=source.archs, seeds=source.seeds, epochs=source.epochs,
                     provenance={"kind": "test copy", "nan": float("nan")})
    for metric in ("valid_acc", "test_acc"):
        values = source.metrics[metric].values.copy()
        for key, cells in (blank or {}).items():
            if key.startswith(f"{metric}@"):
                values[cells, :, list(source.epochs).index(int(key.split("@")[1]))] = np.nan
        table.set_metric(metric, values)
    for column in columns:
        values = source.column(column).copy()
        if column in (blank or {}):
            values[blank[column]] = np.nan
        table.set_column(column, values, source.columns[column].description)
    table.save(tmp_path / name)
    return ns.Table.load(tmp_path / name)


def top_cells(source):
    return np.argsort(-source.values("test_acc", 200))[:TOP]


def test_cells_without_a_report_value_stay_searchable_and_out_of_the_optimum(source, tmp_path):
    """The issue's semantics: no search value or no cost excludes a cell; no report value does not (a run whose
    incumbent lacks one is the runner's error, tests/test_runner.py), but the optimum and regret ignore it."""
    top = top_cells(source)
    table = copy_of(source, tmp_path, {"test_acc@200": top})
    benchmark = get_preset("default").benchmark(table)
    assert benchmark.describe()["excluded_cells"] == 0
    observation = benchmark.evaluate(int(top[0]), 200, np.random.default_rng(0))
    assert observation.source == "table" and np.isfinite(observation.value) and observation.cost > 0
    rest = np.delete(source.values("test_acc", 200), top)
    assert benchmark.optimum() == pytest.approx(rest.max())


def test_cells_without_a_cost_are_excluded_not_free(source, tmp_path):
    cells = top_cells(source)[:50]
    table = copy_of(source, tmp_path, {"train_seconds_per_epoch": cells[:30], "eval_seconds": cells[20:]})
    benchmark = TableBenchmark(table, "valid_acc", "test_acc", 200)
    assert benchmark.describe()["excluded_cells"] == 50
    rng = np.random.default_rng(0)
    for cell in cells:
        observation = benchmark.evaluate(int(cell), 12, rng)
        assert observation.source == "excluded" and np.isnan(observation.value) and observation.cost == 0
    priced = [benchmark.evaluate(i, 12, rng) for i in range(200)]
    assert all(o.cost > 0 for o in priced if o.source == "table")
    assert np.isnan(benchmark.report(int(cells[0])))
    with pytest.raises(UserInputError, match="arch index -1 out of range"):
        benchmark.cost(-1, 12)  # not the price of cell 15624


def test_only_the_searched_fidelities_decide_the_searchable_set(source, tmp_path):
    table = copy_of(source, tmp_path, {"valid_acc@200": np.arange(100)})
    assert TableBenchmark(table, fidelities=(12,), report_epoch=200).describe()["excluded_cells"] == 0
    searched = get_preset("default").benchmark(table).describe()
    assert searched["excluded_cells"] == 100 and "valid_acc@200" in searched["excluded_reason"]


def test_a_table_with_nothing_searchable_is_refused(source, tmp_path):
    table = copy_of(source, tmp_path, {"train_seconds_per_epoch": np.arange(source.space_obj.size)})
    with pytest.raises(UserInputError, match="no cell can be searched: 15625 cells have no train_seconds_per_epoch"):
        TableBenchmark(table)


@pytest.mark.parametrize("kind", [SurrogateBenchmark, HybridBenchmark])
def test_surrogate_benchmarks_exclude_cells_the_table_cannot_price(source, tmp_path, kind):
    cells = top_cells(source)[:40]
    table = copy_of(source, tmp_path, {"train_seconds_per_epoch": cells})
    fitted = Surrogate(model="xgb", target="valid_acc,test_acc", features="onehot", seed=0)
    fitted.fit(table, np.arange(0, 15625, 200))
    benchmark = kind(fitted, table)
    assert benchmark.describe()["excluded_cells"] == 40
    observation = benchmark.evaluate(int(cells[0]), 200, np.random.default_rng(0))
    assert observation.source == "excluded" and observation.cost == 0
    assert benchmark.evaluate(int(np.delete(np.arange(15625), cells)[0]), 200, np.random.default_rng(0)).cost > 0


def test_a_table_without_eval_seconds_prices_training_and_says_so(source, tmp_path):
    table = copy_of(source, tmp_path, columns=("train_seconds_per_epoch",))
    benchmark = TableBenchmark(table, "valid_acc", "test_acc", 200)
    assert benchmark.cost(5, 12) == pytest.approx(12 * source.column("train_seconds_per_epoch")[5])
    assert "evaluation time is not recorded" in benchmark.describe()["cost"]


@pytest.mark.parametrize("name", ["nb201-cifar10", "nb201-cifar100", "nb201-imagenet16-120"])
def test_the_default_preset_searches_and_scores_every_nb201_table_at_200_epochs(name):
    table = ns.open_table(name)
    assert get_preset("default").for_table(table) is get_preset("default")
    described = get_preset("default").benchmark(table).describe()
    assert (described["search_metric"], described["report_metric"], described["fidelities"]) == (
        "valid_acc", "test_acc@200", [12, 200])


@pytest.mark.slow  # 5-6 s each (opening the table): too slow to rerun for every mutant
@pytest.mark.parametrize("name", ["nb201-cifar100", "nb201-imagenet16-120"])
def test_every_listed_nb201_table_can_be_benchmarked(name, tmp_path):
    out = tmp_path / name
    result = CliRunner().invoke(cli, ["benchmark", "--table", name, "--strategies", "random", "--seeds", "2",
                                      "--out", str(out), "--jobs", "1"])
    assert result.exit_code == 0, result.output
    header = jsonio.loads((out / "leaderboard.json").read_text())["header"]
    assert header["protocol"]["benchmark"]["report_metric"] == "test_acc@200"
    assert "noise = seed" in header["protocol"]["preset_description"] and header["noise_floor"]["cells"] > 100
    assert header["protocol"]["benchmark"]["seed_mode"].startswith("random (valid_acc@12: one value per cell")
    assert "evaluation time is not recorded" in header["protocol"]["benchmark"]["cost"]
    assert (out / "leaderboard.md").is_file()


def test_table_attributes_are_strict_json_and_old_nan_attributes_still_load(source, tmp_path):
    table = copy_of(source, tmp_path)  # provenance holds a NaN
    with h5py.File(table.path, "r") as f:
        assert jsonio.loads(f.attrs["provenance"])["nan"] is None
    with h5py.File(table.path, "r+") as f:  # what json.dumps wrote before
        f.attrs["provenance"] = json.dumps({"kind": "old", "score": float("nan")})
    assert np.isnan(ns.Table.load(table.path).provenance["score"])
