"""The table's rules on hand-made tables: axes, shapes, queries, merges, files and names, each with its exact
error. Written for the mutants of table/ that survived the rest of the suite (results/mutation/README.md)."""

from __future__ import annotations

import os
from pathlib import Path

import h5py
import numpy as np
import pytest

from nasbench_suite.space import NB201
from nasbench_suite.table import Table, TableError, available_tables, open_table, resolve_table
from nasbench_suite.table.table import Series

from test_table import small_table


def toy(archs=(0, 5, 9), seeds=(1,), epochs=(1,), **kwargs) -> Table:
    return Table(space="nb201", dataset="toy", archs=archs, seeds=seeds, epochs=epochs, **kwargs)


def test_unsorted_archs_are_sorted_with_their_rows():
    values = np.array([90.0, 0.0, 50.0])
    table = toy(archs=[9, 0, 5], metrics={"m": Series(values.reshape(3, 1, 1))}, columns={"c": Series(values.copy())})
    assert list(table.archs) == [0, 5, 9] and table.archs.dtype == np.int64
    assert [table.query(a, "m") for a in (0, 5, 9)] == [0.0, 50.0, 90.0]
    assert [table.query(a, "m", seed=1) for a in (0, 5, 9)] == [0.0, 50.0, 90.0]
    np.testing.assert_array_equal(table.column("c"), [0.0, 50.0, 90.0])


@pytest.mark.parametrize("axes", [{"archs": [0, 0]}, {"seeds": [1, 1]}, {"epochs": [2, 2]}, {"archs": [[0], [1]]}])
def test_axes_must_be_one_dimensional_and_distinct(axes):
    name = next(iter(axes))
    with pytest.raises(TableError, match=f"^table axis {name} must be a 1-D array of distinct values$"):
        toy(**axes)


@pytest.mark.parametrize("archs", [[-1, 3], [0, NB201.size]])
def test_archs_must_be_indices_of_the_space(archs):
    with pytest.raises(TableError, match=r"^table archs must be indices 0\.\.15624 of space nb201$"):
        toy(archs=archs)


def test_the_first_and_last_cells_and_an_empty_table_are_accepted():
    table = toy(archs=[0, NB201.size - 1])
    table.set_metric("m", np.array([1.0, 2.0]).reshape(2, 1, 1))
    assert table.query(NB201.size - 1, "m") == 2.0 and table.query(0, "m") == 1.0
    with pytest.raises(TableError, match=r"^arch 0 is not in this table \(it holds 0 of 15625 cells\)$"):
        toy(archs=[]).row(0)


def test_shapes_are_checked_with_the_expected_shape_named():
    with pytest.raises(TableError, match=r"^metric m has shape \(2, 1, 1\), expected \(3, 1, 1\) \(archs, seeds"):
        toy(metrics={"m": Series(np.zeros((2, 1, 1)))})
    with pytest.raises(TableError, match=r"^column c has shape \(2,\), expected \(3,\)"):
        toy(columns={"c": Series(np.zeros(2))})
    table = toy()
    with pytest.raises(TableError, match=r"^metric m has shape \(3, 1\), expected \(3, 1, 1\)"):
        table.set_metric("m", np.zeros((3, 1)))
    with pytest.raises(TableError, match=r"^column c has shape \(3, 1\), expected \(3,\)"):
        table.set_column("c", np.zeros((3, 1)))
    table.set_metric("m", np.arange(3).reshape(3, 1, 1), "what", "%", "where")
    table.set_column("c", np.arange(3, dtype=np.int32), "cw", "s", "cs")
    assert table.metrics["m"].values.dtype == np.float32 and table.columns["c"].values.dtype == np.float64
    assert table.metrics["m"].attrs() == {"description": "what", "unit": "%", "source": "where"}
    assert table.columns["c"].attrs() == {"description": "cw", "unit": "s", "source": "cs"}


def test_queries_by_seed_label_draw_and_list():
    table = small_table()
    values = table.metrics["valid_acc"].values
    values[1, :, 0] = np.nan  # cell 5 unmeasured at epoch 1
    table.set_metric("valid_acc", values)
    assert np.isnan(table.query(5, "valid_acc", 1, seed=np.random.default_rng(0)))
    assert np.isnan(table.query(5, "valid_acc", 1))
    assert table.query(9, "valid_acc", 3, seed=777) == 14.0 and table.query(9, "valid_acc", 3, seed=888) == 17.0
    many = table.query_many([NB201.to_str(9), 0], "valid_acc", 3, seed=888)
    assert many.dtype == np.float64 and list(many) == [17.0, 5.0]
    assert list(table.query_many(np.array([9, 0]), "valid_acc", 3)) == [15.5, 3.5]
    assert list(table.values("valid_acc", 2, seed=777)) == [1.0, 7.0, 13.0]
    with pytest.raises(TableError, match=r"^2 archs are not in this table, e\.g\. 1 \(it holds 3 of 15625 cells\)$"):
        table.query_many([1, 0, 2], "valid_acc", 1)


def test_missing_names_list_what_there_is():
    table = small_table()
    with pytest.raises(TableError, match=r"^table has no column 'x'; columns: params_m$"):
        table.column("x")
    with pytest.raises(TableError, match=r"^table has no column 'x'; columns: none$"):
        toy().column("x")
    with pytest.raises(TableError, match=r"^table has no metric 'x'; metrics: none$"):
        toy().query(0, "x")
    with pytest.raises(TableError, match=r"^table has no seed 3; seeds: 777, 888 or 'mean'$"):
        table.values("valid_acc", 1, seed=3)
    with pytest.raises(TableError, match=r"^table has no epoch 4 for 'valid_acc'; epochs with data: 1, 2, 3$"):
        table.query(0, "valid_acc", 4, seed=777)


def test_best_epochs_of_and_coverage_skip_what_was_not_measured():
    table = small_table()
    values = table.metrics["valid_acc"].values
    values[:, :, 2] = np.nan  # epoch 3 never measured
    values[0, 0, 0] = np.nan  # one run missing at epoch 1
    table.set_metric("valid_acc", values)
    assert table.epochs_of("valid_acc") == [1, 2]
    assert table.query(0, "valid_acc") == 2.5  # default epoch: the last with data (2), mean of 1 and 4
    assert table.best("valid_acc", 1) == (9, 13.5) and table.best("valid_acc", 1, maximize=False) == (0, 3.0)
    assert table.coverage() == {"valid_acc": {1: {777: 2 / 3, 888: 1.0}, 2: {777: 1.0, 888: 1.0}}}
    with pytest.raises(TableError, match=r"^metric 'valid_acc' has no measured value at epoch 3$"):
        table.best("valid_acc", 3)
    table.set_metric("valid_acc", np.full_like(values, np.nan))
    with pytest.raises(TableError, match=r"^metric 'valid_acc' has no measured value$"):
        table.query(0, "valid_acc", seed=777)


def test_to_pandas_has_one_row_per_cell_with_every_measured_epoch():
    table = small_table()
    values = table.metrics["valid_acc"].values
    values[:, :, 1] = np.nan
    table.set_metric("valid_acc", values)
    frame = table.to_pandas()
    assert list(frame.columns) == ["arch", "valid_acc@1", "valid_acc@3", "params_m"]
    assert frame.index.name == "index" and list(frame["arch"]) == [NB201.to_str(i) for i in (0, 5, 9)]
    assert list(frame["valid_acc@3"]) == [3.5, 9.5, 15.5] and list(frame["params_m"]) == [0.0, 0.5, 0.9]
    assert list(frame["valid_acc@1"]) == [1.5, 7.5, 13.5]  # each column at its own epoch


def test_merge_keeps_the_first_tables_metadata_and_fills_the_rest():
    a = small_table(archs=(0, 5), seeds=(777,), epochs=(1,))
    a.provenance, a.software, a.hardware = {"kind": "a", "only_a": 1}, {"numpy": "1"}, {"cpu": "a"}
    a.description = ""
    b = small_table(archs=(9,), seeds=(777,), epochs=(1,), offset=100)
    b.provenance, b.software, b.hardware = {"kind": "b", "only_b": 2}, {"numpy": "2", "h5py": "3"}, {"cpu": "b"}
    b.description = "from b"
    b.set_metric("test_acc", np.array([[[42.0]]]), "test accuracy", "%", "b")
    b.set_column("params_m", np.array([0.9]), "other description", "other unit", "b")
    merged = a.merged(b)
    assert merged.provenance == {"kind": "a", "only_a": 1, "only_b": 2}
    assert merged.software == {"numpy": "1", "h5py": "3"} and merged.hardware == {"cpu": "a"}
    assert merged.description == "from b" and merged.dataset_sha256 == a.dataset_sha256
    assert merged.protocol == a.protocol and merged.space == "nb201" and merged.dataset == "toy"
    assert list(merged.metrics) == ["valid_acc", "test_acc"]
    assert merged.metrics["valid_acc"].attrs() == {"description": "validation accuracy", "unit": "%",
                                                   "source": "test"}
    assert merged.columns["params_m"].attrs() == a.columns["params_m"].attrs()
    assert merged.metrics["test_acc"].attrs() == {"description": "test accuracy", "unit": "%", "source": "b"}
    np.testing.assert_array_equal(merged.values("test_acc", 1), [np.nan, np.nan, 42.0])
    np.testing.assert_array_equal(merged.column("params_m"), [0.0, 0.5, 0.9])
    assert merged.values("valid_acc", 1).tolist() == [0.0, 1.0, 100.0]


def test_merge_refusals_name_what_differs():
    other = small_table()
    other.dataset_sha256 = "cd" * 32
    with pytest.raises(TableError, match=f"^cannot merge tables with different dataset_sha256: '{'ab' * 32}' vs "
                                         f"'{'cd' * 32}'$"):
        small_table().merged(other)
    other = small_table()
    other.protocol = {"name": "other"}
    with pytest.raises(TableError, match=r"^cannot merge tables with different protocol: \{'name': 'toy', 'epochs': 3\} "
                                         r"vs \{'name': 'other'\}$"):
        small_table().merged(other)


def test_merge_tolerates_only_float_rounding():
    a = small_table(archs=(5,), seeds=(777,), epochs=(1,), offset=50)
    close = small_table(archs=(5,), seeds=(777,), epochs=(1,), offset=50.00002)  # 4e-7 relative: rounding
    assert a.merged(close).query(5, "valid_acc", 1) == pytest.approx(50.00002, abs=1e-6)  # the later value
    far = small_table(archs=(5,), seeds=(777,), epochs=(1,), offset=50.0002)  # 4e-6 relative: a different value
    with pytest.raises(TableError, match=r"^cannot merge: metric valid_acc has 1 conflicting values, e\.g\. 50\.0 vs "
                                         r"50\.000"):
        a.merged(far)
    other_params = small_table(archs=(5,), seeds=(888,), epochs=(1,), offset=50)
    other_params.set_column("params_m", np.array([1.0]))
    with pytest.raises(TableError, match=r"^cannot merge: column params_m has 1 conflicting values"):
        a.merged(other_params)


def test_save_writes_the_documented_layout_and_load_reads_it_back(tmp_path):
    table = small_table()
    table.created, table.description = "2020-01-01T00:00:00+00:00", "a toy"
    path = table.save(tmp_path / "t.h5")
    assert path == tmp_path / "t.h5" and table.path == path and table.created == "2020-01-01T00:00:00+00:00"
    with h5py.File(path) as f:
        assert f.attrs["format"] == "nasbench-suite-table" and f.attrs["schema_version"] == 1
        assert f.attrs["created"] == "2020-01-01T00:00:00+00:00" and f.attrs["description"] == "a toy"
        assert f.attrs["space"] == "nb201" and f.attrs["provenance"] == '{"kind": "test"}'
        assert f["axes/archs"].dtype == np.int32 and f["axes/epochs"].dtype == np.int32
        assert f["axes/seeds"].dtype == np.int64 and list(f["axes/archs"]) == [0, 5, 9]
        assert dict(f["metrics/valid_acc"].attrs) == {"description": "validation accuracy", "unit": "%",
                                                      "source": "test"}
        assert f["metrics/valid_acc"].compression == "gzip" and f["columns/params_m"].dtype == np.float64
    loaded = Table.load(path)
    assert (loaded.created, loaded.description, loaded.space, loaded.path) == (table.created, "a toy", "nb201", path)
    assert loaded.columns["params_m"].attrs() == table.columns["params_m"].attrs()
    with h5py.File(path, "a") as f:
        del f.attrs["schema_version"], f.attrs["description"], f.attrs["hardware"]
        del f["metrics/valid_acc"].attrs["unit"]  # written before units were recorded
    with pytest.raises(TableError, match=r"t\.h5 has table schema -1; this version reads schema 1$"):
        Table.load(path)
    with h5py.File(path, "a") as f:
        f.attrs["schema_version"] = 1
    loaded = Table.load(path)
    assert loaded.description == "" and loaded.hardware == {} and loaded.metrics["valid_acc"].unit == ""


def test_names_resolve_to_embedded_tables_first_then_extra_folders(tmp_path, monkeypatch):
    extra, here = tmp_path / "extra", tmp_path / "here"
    extra.mkdir(), here.mkdir()
    small_table().save(extra / "nb201-cifar10.h5")  # shadows an embedded name: the embedded one wins
    small_table().save(extra / "mine.h5")
    small_table().save(here / "stray.h5")  # in the working folder, which an empty entry must not add
    (here / "plain").write_bytes((extra / "mine.h5").read_bytes())
    monkeypatch.chdir(here)
    monkeypatch.setenv("NASBENCH_SUITE_TABLES", f"{tmp_path / 'missing'}::{extra}")
    tables = available_tables()
    assert tables["mine"] == extra / "mine.h5" and tables["nb201-cifar10"].parent.name == "tables"
    assert "stray" not in tables and list(tables)[-1] == "mine"
    assert list(open_table("mine").archs) == [0, 5, 9]
    assert resolve_table("elsewhere.h5") == Path("elsewhere.h5")  # a path, even before it exists
    assert resolve_table(f"sub{os.sep}name") == Path("sub", "name") and resolve_table("plain") == Path("plain")


# Written for the whole-module mutation run of table/ (2026-12-02, results/mutation/README.md).

def _scored(values=(90.0, 0.0, 50.0)) -> Table:
    test = np.array(values).reshape(3, 1, 1)
    return toy(metrics={"test_acc": Series(test), "valid_acc": Series(test[::-1].copy())})


def test_test_acc_is_the_default_metric_of_every_lookup():
    table = _scored()
    assert table.query(5) == table.query(5, "test_acc") == 0.0
    assert table.query_many([0, 9]).tolist() == [90.0, 50.0]
    assert table.best() == (0, 90.0)


def test_best_minimises_when_asked():
    assert _scored().best("test_acc", maximize=False) == (5, 0.0)
    assert _scored((10.0, 60.0, 30.0)).best(maximize=False) == (0, 10.0)


def test_missing_metric_and_column_list_what_there_is_exactly():
    table = toy(metrics={"a": Series(np.zeros((3, 1, 1))), "b": Series(np.zeros((3, 1, 1)))},
                columns={"c": Series(np.zeros(3)), "d": Series(np.zeros(3))})
    with pytest.raises(TableError, match=r"^table has no metric 'x'; metrics: a, b$"):
        table.query(0, "x")
    with pytest.raises(TableError, match=r"^table has no column 'x'; columns: c, d$"):
        table.column("x")


def test_an_unknown_table_lists_the_embedded_ones_exactly():
    with pytest.raises(TableError, match="embedded tables: " + ", ".join(available_tables()).replace("+", r"\+") + " "):
        resolve_table("no-such-table")


def test_series_set_without_metadata_have_empty_description_unit_and_source():
    table = toy()
    table.set_metric("m", np.zeros((3, 1, 1)))
    table.set_column("c", np.zeros(3))
    for series in (table.metrics["m"], table.columns["c"]):
        assert (series.description, series.unit, series.source) == ("", "", "")


def test_json_attributes_are_written_with_sorted_keys(tmp_path):
    """Sorted keys make a rebuilt table byte-identical whatever order its dicts were filled in."""
    path = toy(provenance={"zeta": 1, "alpha": 2}, protocol={"name": "p", "epochs": 1}).save(tmp_path / "t.h5")
    with h5py.File(path, "r") as f:
        assert f.attrs["provenance"] == '{"alpha": 2, "zeta": 1}'
        assert f.attrs["protocol"] == '{"epochs": 1, "name": "p"}'


def test_merging_never_overwrites_a_measured_value_with_a_missing_one():
    first = toy(archs=(0,), epochs=(1, 2), metrics={"m": Series(np.array([[[70.0, np.nan]]]))})
    second = toy(archs=(0,), epochs=(1, 2), metrics={"m": Series(np.array([[[np.nan, 80.0]]]))})
    for merged in (first.merged(second), second.merged(first)):
        np.testing.assert_array_equal(merged.metrics["m"].values, [[[70.0, 80.0]]])


def test_a_seed_that_is_neither_mean_a_label_nor_a_generator_is_named():
    with pytest.raises(TableError, match=r"^seed must be 'mean', a seed label or a numpy Generator, got 'median'$"):
        _scored().query(0, seed="median")


def test_a_table_without_metrics_or_columns_round_trips(tmp_path):
    loaded = Table.load(toy().save(tmp_path / "empty.h5"))
    assert loaded.metrics == {} and loaded.columns == {} and loaded.archs.tolist() == [0, 5, 9]
