"""CIFAR-10 loading from the shared JPEG tarball and torchvision's pickles, caching, splits, clear errors."""

import pickle
import shutil
import tarfile

import numpy as np
import pytest

from nasbench_suite.data import CLASSES, DatasetError, fixed_batch, load_cifar10, make_split
from nasbench_suite.data.cifar10 import JPEG75_SHA256

from conftest import CIFAR10_TARBALL as TARBALL


def test_jpeg_tarball_is_the_known_variant(cifar):
    assert cifar.name == "cifar10-jpeg75" and cifar.sha256 == JPEG75_SHA256
    assert cifar.train_images.shape == (50000, 32, 32, 3) and cifar.train_images.dtype == np.uint8
    assert cifar.test_images.shape == (10000, 32, 32, 3)
    assert np.bincount(cifar.train_labels).tolist() == [5000] * 10
    assert np.bincount(cifar.test_labels).tolist() == [1000] * 10
    # real photographs: per-channel means close to the published CIFAR-10 statistics (125.3, 123.0, 113.9)
    assert np.allclose(cifar.train_images.reshape(-1, 3).mean(0), [125.3, 123.0, 113.9], atol=2.0)


@pytest.mark.slow
def test_cache_is_written_and_reused(cifar, tmp_path):
    first = load_cifar10(TARBALL, cache_dir=tmp_path)
    cached = list(tmp_path.glob("*.npz"))
    assert len(cached) == 1 and JPEG75_SHA256[:20] in cached[0].name
    again = load_cifar10(TARBALL, cache_dir=tmp_path)
    assert np.array_equal(again.train_images, first.train_images)
    cached[0].write_bytes(b"garbage")  # a damaged cache is rebuilt
    assert np.array_equal(load_cifar10(TARBALL, cache_dir=tmp_path).test_images, cifar.test_images)


@pytest.mark.slow
def test_batches_py_folder_gives_the_same_arrays(cifar, tmp_path):
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    chw = lambda images: images.transpose(0, 3, 1, 2).reshape(len(images), -1)  # noqa: E731
    for i in range(5):
        part = slice(10000 * i, 10000 * (i + 1))
        batch = {"data": chw(cifar.train_images[part]), "labels": cifar.train_labels[part].tolist()}
        (folder / f"data_batch_{i + 1}").write_bytes(pickle.dumps(batch))
    (folder / "test_batch").write_bytes(pickle.dumps({"data": chw(cifar.test_images),
                                                      "labels": cifar.test_labels.tolist()}))
    data = load_cifar10(tmp_path, cache_dir=tmp_path / "cache")  # the parent folder is found too
    assert data.name == "cifar10-custom" and len(data.sha256) == 64  # not the official pickles' md5s
    assert np.array_equal(data.train_images, cifar.train_images)
    assert np.array_equal(data.test_labels, cifar.test_labels)
    (folder / "test_batch").write_bytes(b"not a pickle")
    with pytest.raises(DatasetError, match="test_batch is not a CIFAR-10 batch"):
        load_cifar10(folder, cache_dir=tmp_path / "cache2")
    (folder / "data_batch_3").unlink()
    with pytest.raises(DatasetError, match="lacks data_batch_3"):
        load_cifar10(folder, cache_dir=tmp_path / "cache2")


@pytest.mark.slow
def test_bad_sources_give_one_clear_error(tmp_path, monkeypatch):
    with pytest.raises(DatasetError, match="not found"):
        load_cifar10(tmp_path / "nope.tar.gz")
    junk = tmp_path / "junk.tar.gz"
    junk.write_bytes(b"this is not a tarball " * 200)
    with pytest.raises(DatasetError, match="not a tar archive"):
        load_cifar10(junk, cache_dir=tmp_path)
    if TARBALL.is_file():
        truncated = tmp_path / "truncated.tar.gz"
        truncated.write_bytes(TARBALL.read_bytes()[:2_000_000])
        with pytest.raises(DatasetError, match="corrupt or truncated"):
            load_cifar10(truncated, cache_dir=tmp_path)
    with pytest.raises(DatasetError, match="not a CIFAR-10 source"):
        load_cifar10(tmp_path, cache_dir=tmp_path)
    monkeypatch.setenv("NASBENCH_SUITE_CIFAR10", str(tmp_path / "missing"))
    with pytest.raises(DatasetError, match="no CIFAR-10 found"):
        load_cifar10()


@pytest.mark.slow
def test_image_folder_reader_checks_classes_and_counts(tmp_path):
    if not TARBALL.is_file():
        pytest.skip("../shared/data/cifar10 is not present")
    with tarfile.open(TARBALL) as tar:
        files = [m for m in tar.getmembers() if m.isfile()]
        members = [m for m in files if m.name.startswith("train/")][:40:4] + [m for m in files if
                                                                          m.name.startswith("test/")][:3]
        tar.extractall(tmp_path / "small", members=members, filter="data")
    small = tmp_path / "small"
    with pytest.raises(DatasetError, match="train split has 10 images, expected 50000"):
        load_cifar10(small, cache_dir=tmp_path)
    shutil.move(small / "train" / "airplane", small / "train" / "spaceship")
    with pytest.raises(DatasetError, match="unknown class folder 'spaceship'"):
        load_cifar10(small, cache_dir=tmp_path)
    assert CLASSES[0] == "airplane"


@pytest.mark.parametrize("name, n_valid", [("train45k", 5000), ("cifar10-valid", 25000)])
def test_splits_are_stratified_disjoint_and_seeded(cifar, name, n_valid):
    split = make_split(cifar, name, seed=3)
    assert len(split["valid"]) == n_valid and len(split["train"]) == 50000 - n_valid
    assert len(np.intersect1d(split["train"], split["valid"])) == 0
    assert np.bincount(cifar.train_labels[split["valid"]]).tolist() == [n_valid // 10] * 10
    assert np.array_equal(split["test"], np.arange(10000))
    assert np.array_equal(make_split(cifar, name, seed=3)["valid"], split["valid"])
    assert not np.array_equal(make_split(cifar, name, seed=4)["valid"], split["valid"])
    with pytest.raises(DatasetError, match="unknown split 'x'"):
        make_split(cifar, "x")


def test_fixed_batch_is_seeded_balanced_and_normalised(cifar):
    x, y = fixed_batch(cifar, 100, seed=1)
    assert x.shape == (100, 3, 32, 32) and x.dtype == np.float32
    assert np.bincount(y).tolist() == [10] * 10
    assert abs(float(x.mean())) < 0.3 and 0.7 < float(x.std()) < 1.3
    assert np.array_equal(fixed_batch(cifar, 100, seed=1)[0], x)
    assert not np.array_equal(fixed_batch(cifar, 100, seed=2)[0], x)
