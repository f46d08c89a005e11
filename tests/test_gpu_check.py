"""scripts/gpu_check.sh in its CPU dry run (DRY_RUN=1): every step runs, at toy sizes, while no GPU is at hand."""

import os
import subprocess
import sys

import pytest

from nasbench_suite import jsonio
from nasbench_suite.data.cifar10 import _cache_path
from nasbench_suite.table import Table

from conftest import CIFAR10_TARBALL, REPO


@pytest.mark.slow
def test_cpu_dry_run_goes_through_every_step(tmp_path, cifar):
    env = {**os.environ, "DRY_RUN": "1", "OUT": str(tmp_path), "PY": sys.executable,
           "NASBENCH_SUITE_CIFAR10": str(CIFAR10_TARBALL),
           "NASBENCH_SUITE_CACHE": str(_cache_path(None, cifar.sha256).parent)}  # the decode the fixture cached
    run = subprocess.run(["bash", "scripts/gpu_check.sh"], cwd=REPO, env=env, capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    res = tmp_path / "results" / "gpu-check"
    assert (res / "gpu.txt").read_text().startswith("cpu dry run")
    bench = jsonio.loads((res / "bench.json").read_text())
    assert len(bench["cells"]) == 2 and [lever["lever"] for lever in bench["levers"]] == ["reference", "stacked"]
    assert all(lever["cell_epochs_per_second_wall"] > 0 for lever in bench["levers"])
    table = Table.load(res / "tiny-4.h5")
    assert len(table.archs) == 4 and table.dataset == cifar.name
    assert "Kendall tau" in (res / "tau.txt").read_text()
    assert (res / "tiny_vs_nb201.csv").is_file()
