"""The protocol pilot end to end on a tiny scale: real training processes, real shards, real NB201 reference table."""

import csv
import json
import os
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("torch")
from scipy.stats import kendalltau  # noqa: E402

from nasbench_suite.space import NB201  # noqa: E402
from nasbench_suite.train.pilot import pilot_cells  # noqa: E402
from nasbench_suite.train.run import resolve_archs  # noqa: E402
from nasbench_suite.train.shards import merge_shards  # noqa: E402

from conftest import CIFAR10_TARBALL, REPO  # noqa: E402

TINY = {"name": "tiny", "epochs": 1, "batch_size": 50, "channels": 4, "cells_per_stage": 1, "train_images": 200,
        "valid_images": 100, "test_images": 100, "eval_batch_size": 100}


def test_pilot_cells_are_canonical_seeded_and_spread_over_accuracy(nb201_table):
    cells = pilot_cells(20, 10, seed=3)
    assert len(cells["stratified"]) == 20 and len(cells["uniform"]) == 10
    both = np.concatenate(list(cells.values()))
    assert set(both) <= set(NB201.unique_indices().tolist())
    assert all(np.array_equal(cells[k], pilot_cells(20, 10, seed=3)[k]) for k in cells)
    assert not np.array_equal(cells["uniform"], pilot_cells(20, 10, seed=4)["uniform"])
    # a table's larger uniform sample (canonical:N:SEED) holds the pilot's uniform cells
    assert np.isin(cells["uniform"], resolve_archs("canonical:300:3")).all()
    # two stratified cells per accuracy decile of the canonical cells
    unique = np.sort(NB201.unique_indices())
    edges = np.quantile(nb201_table.query_many(unique, "test_acc", 200), np.linspace(0, 1, 11))
    acc = nb201_table.query_many(cells["stratified"], "test_acc", 200)
    counts = np.histogram(acc, edges)[0]
    assert counts.min() >= 1 and counts.max() <= 3


def _pilot(*args):
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.run([sys.executable, str(REPO / "scripts" / "protocol_pilot.py"), *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=600, check=False)


@pytest.mark.slow
def test_pilot_trains_the_same_cells_resumes_and_reports_cost_and_tau(tmp_path, nb201_table):
    if not CIFAR10_TARBALL.is_file():
        pytest.skip("../shared/data/cifar10 is not present")
    files = []
    for extra in ({}, {"name": "tiny-16px", "resolution": 16, "precision": "bf16"}):
        path = tmp_path / f"{extra.get('name', 'tiny')}.json"
        path.write_text(json.dumps({**TINY, **extra}))
        files.append(str(path))
    out = tmp_path / "pilot"
    args = [*files, "--out", str(out), "--stratified", "4", "--uniform", "2", "--threads", "1"]
    first = _pilot(*args, "--shard", "0/2")
    assert first.returncode == 0, first.stderr
    done = _pilot(*args, "--shard", "1/2")
    assert done.returncode == 0, done.stderr
    cells = json.loads((out / "cells.json").read_text())
    archs = sorted(set(cells["stratified"]) | set(cells["uniform"]))
    for name in ("tiny", "tiny-16px"):
        table = merge_shards([out / "runs" / name])
        assert table.archs.tolist() == archs and table.protocol["name"] == name
        assert (table.values("cpu_seconds", 1) > 0).all()
    assert merge_shards([out / "runs" / "tiny-16px"]).protocol["resolution"] == 16
    # resuming trains nothing: the shards are not rewritten
    stamps = {p: p.stat().st_mtime_ns for p in (out / "runs").rglob("*.h5")}
    again = _pilot(*args, "--shard", "0/2")
    assert again.returncode == 0, again.stderr
    assert {p: p.stat().st_mtime_ns for p in (out / "runs").rglob("*.h5")} == stamps
    rows = list(csv.DictReader((out / "pilot.csv").open()))
    assert {(r["protocol"], r["sample"]) for r in rows} == {
        (p, s) for p in ("tiny", "tiny-16px", "proxy_naswot", "proxy_synflow") for s in ("stratified", "uniform")}
    assert (out / "pilot.png").stat().st_size > 0 and (out / "pilot.svg").read_text().lstrip().startswith("<?xml")
    # each tau is the protocol's own ranking of exactly the sample's cells
    strat = np.array(cells["stratified"])
    truth = nb201_table.query_many(strat, "test_acc", 200)
    table = merge_shards([out / "runs" / "tiny"])
    ours = table.values("valid_acc", 1)[np.searchsorted(table.archs, strat)]
    row = next(r for r in rows if r["protocol"] == "tiny" and r["sample"] == "stratified")
    assert float(row["tau_test_acc@200"]) == pytest.approx(kendalltau(ours, truth)[0], abs=1e-3)
    assert int(row["cells"]) == 4 and float(row["cpu_seconds_per_cell"]) > 0
    naswot = nb201_table.column("proxy_naswot")[[nb201_table.row(int(a)) for a in strat]]
    row = next(r for r in rows if r["protocol"] == "proxy_naswot" and r["sample"] == "stratified")
    assert float(row["tau_test_acc@200"]) == pytest.approx(kendalltau(naswot, truth)[0], abs=1e-3)
    assert row["cpu_seconds_per_cell"] == ""
    # other cells in the same folder are refused in one line, exit 2
    other = _pilot(*args[:-4], "--stratified", "5", "--uniform", "2", "--threads", "1")
    assert other.returncode == 2 and other.stderr.strip().count("\n") == 0 and "cells.json" in other.stderr
