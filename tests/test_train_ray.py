"""The Ray backend (2 CPU workers on loopback) trains the same cells to the same results as the local backend."""

import json

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("ray")

from nasbench_suite.table import Table  # noqa: E402
from nasbench_suite.train.ray_backend import run_ray  # noqa: E402
from nasbench_suite.train.run import RunSpec, run_local  # noqa: E402
from nasbench_suite.train.shards import merge_shards  # noqa: E402

from conftest import SHARED, TINY  # noqa: E402


@pytest.mark.slow
def test_ray_backend_matches_local(tmp_path, monkeypatch):
    if not (SHARED / "data" / "cifar10").is_dir():
        pytest.skip("../shared/data/cifar10 is not present")
    monkeypatch.setenv("NASBENCH_SUITE_CIFAR10", str(SHARED / "data" / "cifar10"))
    protocol = tmp_path / "tiny.json"
    protocol.write_text(json.dumps(TINY))
    archs = np.array([0, 1462, 6111, 11000])
    spec = RunSpec(str(protocol), archs, [0], tmp_path / "ray", threads=1)
    paths = run_ray(spec, workers=2, progress=False)
    assert len(paths) == 2  # both workers got work and wrote their own shard
    ray_table = merge_shards(paths)
    local = Table.load(run_local(RunSpec(str(protocol), archs, [0], tmp_path / "local", threads=1),
                                 progress=False))
    assert ray_table.archs.tolist() == local.archs.tolist() == archs.tolist()
    for name in ("train_loss", "train_acc", "valid_loss", "valid_acc", "test_loss", "test_acc"):
        np.testing.assert_allclose(ray_table.metrics[name].values, local.metrics[name].values, rtol=1e-5)
    assert run_ray(spec, workers=2, progress=False)  # restart: nothing left to train, shards kept
    assert merge_shards(paths).archs.tolist() == archs.tolist()
