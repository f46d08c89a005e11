"""Shared fixtures: the external published data (../shared) and the embedded table."""

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
EXTERNAL = SHARED / "data" / "external"
CIFAR10_TARBALL = SHARED / "data" / "cifar10" / "cifar10-jpeg.tar.gz"

# A protocol small enough to train a cell in about a second on one CPU thread (the Ray tests).
TINY = {"name": "tiny-ray", "epochs": 1, "batch_size": 50, "channels": 4, "cells_per_stage": 1,
        "train_images": 200, "valid_images": 100, "test_images": 100, "eval_batch_size": 100}

# Tests, and the CLI processes they start, read the shared CIFAR-10 unless the caller points elsewhere (the
# library's own default is a per-user data folder).
if CIFAR10_TARBALL.is_file():
    os.environ.setdefault("NASBENCH_SUITE_CIFAR10", str(CIFAR10_TARBALL.parent))

# One BLAS/OpenMP thread per process: `pytest -n 2` already runs a process per core, and the xdist workers and the
# processes tests start inherit this; more threads only spin against each other on shared cores.
for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")


@pytest.fixture(scope="session")
def external_dir() -> Path:
    if not EXTERNAL.is_dir():
        pytest.skip("../shared/data/external is not present")
    return EXTERNAL


@pytest.fixture(scope="session")
def nb201_table():
    from nasbench_suite import open_table

    return open_table("nb201-cifar10")


@pytest.fixture(scope="session")
def cifar():
    """The real CIFAR-10 (JPEG variant) from ../shared, decoded once per session (cached on disk after that)."""
    from nasbench_suite.data import load_cifar10

    if not CIFAR10_TARBALL.is_file():
        pytest.skip("../shared/data/cifar10 is not present")
    return load_cifar10(CIFAR10_TARBALL)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Slow tests first (a stable sort): `pytest -n 2` hands the long ones out while short ones remain to balance
    the two workers, instead of ending on one long test while the other worker idles."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


def png_dpi(path: Path) -> int:
    """The resolution a PNG records (its pHYs chunk, in pixels per metre), in dots per inch."""
    from PIL import Image

    return round(Image.open(path).info["dpi"][0])
