"""Shared fixtures: the external published data (../shared; $NASBENCH_SUITE_SHARED elsewhere, e.g. a missing folder
to test as on a fresh clone), the committed CIFAR-10 sample and the embedded table."""

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("NASBENCH_SUITE_SHARED", REPO.parent / "shared"))
EXTERNAL = SHARED / "data" / "external"
CIFAR10_TARBALL = SHARED / "data" / "cifar10" / "cifar10-jpeg.tar.gz"
CIFAR10_SAMPLE = REPO / "tests" / "data" / "cifar10-sample.tar.gz"  # 300 real images: tests/data/README.md

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


@pytest.fixture(scope="session")
def cifar10_source(tmp_path_factory) -> Path:
    """A CIFAR-10 source `load_cifar10` reads, for tests that need real images but not all of them: ../shared's
    tarball, else the committed sample as a cifar-10-batches-py folder whose classes repeat their images to
    CIFAR-10's 5,000 + 1,000 each (the loader refuses anything smaller)."""
    if CIFAR10_TARBALL.is_file():
        return CIFAR10_TARBALL
    folder = tmp_path_factory.mktemp("cifar10-sample") / "cifar-10-batches-py"
    folder.mkdir()
    _write_sample_batches(folder)
    return folder


@pytest.fixture(scope="session")
def cifar_images(cifar10_source):
    """CIFAR-10 from `cifar10_source`, decoded once (cached on disk after that)."""
    from nasbench_suite.data import load_cifar10

    return load_cifar10(cifar10_source)


def _write_sample_batches(folder: Path) -> None:
    """The committed sample in the official batch format (pickled uint8 CHW rows and labels, protocol 4)."""
    import io
    import pickle
    import tarfile

    import numpy as np
    from PIL import Image

    from nasbench_suite.data.cifar10 import BATCH_FILES, CLASSES, NUM_TEST, NUM_TRAIN

    images: dict[str, list[list[np.ndarray]]] = {"train": [[] for _ in CLASSES], "test": [[] for _ in CLASSES]}
    with tarfile.open(CIFAR10_SAMPLE) as tar:
        for member in sorted((m for m in tar if m.isfile()), key=lambda m: m.name):
            split, label, _ = member.name.split("/")
            with Image.open(io.BytesIO(tar.extractfile(member).read())) as image:
                images[split][CLASSES.index(label)].append(np.asarray(image.convert("RGB")))
    for split, count, files in (("train", NUM_TRAIN, BATCH_FILES[:5]), ("test", NUM_TEST, BATCH_FILES[5:])):
        per_class = count // len(CLASSES)
        rows = np.concatenate([np.resize(np.stack(found), (per_class, 32, 32, 3)) for found in images[split]])
        rows = rows.transpose(0, 3, 1, 2).reshape(count, -1)
        labels = np.repeat(np.arange(len(CLASSES)), per_class)
        for part, name in zip(np.array_split(np.arange(count), len(files)), files):
            batch = {"data": rows[part], "labels": labels[part].tolist()}
            (folder / name).write_bytes(pickle.dumps(batch, protocol=4))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Slow tests first (a stable sort): `pytest -n 2` hands the long ones out while short ones remain to balance
    the two workers, instead of ending on one long test while the other worker idles."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


def png_dpi(path: Path) -> int:
    """The resolution a PNG records (its pHYs chunk, in pixels per metre), in dots per inch."""
    from PIL import Image

    return round(Image.open(path).info["dpi"][0])
