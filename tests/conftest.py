"""Shared fixtures: the external published data (../shared) and the embedded table."""

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
EXTERNAL = SHARED / "data" / "external"


@pytest.fixture(scope="session")
def external_dir() -> Path:
    if not EXTERNAL.is_dir():
        pytest.skip("../shared/data/external is not present")
    return EXTERNAL


@pytest.fixture(scope="session")
def nb201_table():
    from nasbench_suite import open_table

    return open_table("nb201-cifar10")
