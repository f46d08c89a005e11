"""CIFAR-10 loading from the shared JPEG tarball and torchvision's pickles, caching, splits, clear errors."""

import os
import pickle
import shutil
import tarfile

import numpy as np
import pytest

from click.testing import CliRunner

from nasbench_suite.cli import cli
from nasbench_suite.cli import commands  # noqa: F401  (registers the commands)
from nasbench_suite.data import (CLASSES, DatasetError, default_root, describe_source, fixed_batch, load_cifar10,
                                 make_split)
from nasbench_suite.data.cifar10 import JPEG75_SHA256, OFFICIAL_ARCHIVE_MD5, _extract_batches, _read_batches

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
def test_cache_is_reused_and_a_damaged_one_rebuilt(cifar, tmp_path):
    from nasbench_suite.data.cifar10 import _cache_path

    default = _cache_path(None, JPEG75_SHA256)  # written when the session's `cifar` decoded the tarball
    assert default.is_file() and JPEG75_SHA256[:20] in default.name
    cache = _cache_path(tmp_path, JPEG75_SHA256)
    shutil.copyfile(default, cache)
    stamp = cache.stat().st_mtime_ns
    assert np.array_equal(load_cifar10(TARBALL, cache_dir=tmp_path).train_images, cifar.train_images)
    assert cache.stat().st_mtime_ns == stamp  # read, not rewritten
    cache.write_bytes(b"garbage")  # a damaged cache is rebuilt from the source (one decode), never trusted
    assert np.array_equal(load_cifar10(TARBALL, cache_dir=tmp_path).test_images, cifar.test_images)
    stamp = cache.stat().st_mtime_ns
    assert cache.stat().st_size > 10**6  # the rebuilt cache was written ...
    assert np.array_equal(load_cifar10(TARBALL, cache_dir=tmp_path).train_labels, cifar.train_labels)
    assert cache.stat().st_mtime_ns == stamp  # ... and is what the next load reads


class _Payload:
    """Unpickling this runs a shell command that creates `marker`."""

    def __init__(self, marker) -> None:
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


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
    marker = tmp_path / "ran"
    (folder / "test_batch").write_bytes(pickle.dumps(_Payload(marker)))  # a batch that would run a command
    with pytest.raises(DatasetError, match="test_batch is not a CIFAR-10 batch .*names posix.system") as error:
        load_cifar10(folder, cache_dir=tmp_path / "cache2")
    assert "\n" not in str(error.value) and not marker.exists()
    (folder / "data_batch_3").unlink()
    with pytest.raises(DatasetError, match="lacks data_batch_3"):
        load_cifar10(folder, cache_dir=tmp_path / "cache2")


@pytest.mark.slow
def test_bad_sources_give_one_clear_error(tmp_path, monkeypatch):
    with pytest.raises(DatasetError, match="no CIFAR-10 found at .*nope.tar.gz: run `nasbench-suite data cifar10"):
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


def _small_batches(folder, per_batch=50):
    """A cifar-10-batches-py folder in the official pickle layout (dict of CHW-flattened uint8 rows, int labels)."""
    rng = np.random.default_rng(0)
    folder.mkdir(parents=True)
    images = rng.integers(0, 256, (6 * per_batch, 32, 32, 3), dtype=np.uint8)
    labels = np.arange(6 * per_batch) % 10
    for k, name in enumerate([f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]):
        rows = slice(k * per_batch, (k + 1) * per_batch)
        batch = {"batch_label": name, "labels": labels[rows].tolist(),
                 "data": images[rows].transpose(0, 3, 1, 2).reshape(per_batch, 3072),
                 "filenames": [f"{name}_{i}.png" for i in range(per_batch)]}
        (folder / name).write_bytes(pickle.dumps(batch, protocol=2))
    return images, labels


def test_small_official_layout_is_read_but_recorded_as_unofficial(tmp_path):
    root = tmp_path / "root"
    images, labels = _small_batches(root / "cifar-10-batches-py")
    train_x, train_y, test_x, test_y = _read_batches(root / "cifar-10-batches-py")
    np.testing.assert_array_equal(train_x, images[:250])  # CHW rows come back as the HWC images written
    np.testing.assert_array_equal(test_x, images[250:])
    assert train_y.tolist() == labels[:250].tolist() and test_y.tolist() == labels[250:].tolist()
    # md5s differ from the official release: never named `cifar10`, whatever the folder is called
    assert describe_source(root)["dataset"] == "cifar10-custom"
    result = CliRunner().invoke(cli, ["data", "cifar10", "--root", str(root)])
    assert result.exit_code == 0 and result.output.startswith("cifar10-custom at ")
    with pytest.raises(DatasetError, match="train split has 250 images, expected 50000"):
        load_cifar10(root, cache_dir=tmp_path)


def test_default_location_is_the_user_data_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("NASBENCH_SUITE_CIFAR10", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert default_root() == tmp_path / "xdg" / "nasbench-suite" / "cifar10"
    _small_batches(default_root() / "cifar-10-batches-py")
    info = describe_source()
    assert info["source"] == str(default_root() / "cifar-10-batches-py") and info["dataset"] == "cifar10-custom"
    monkeypatch.setenv("NASBENCH_SUITE_CIFAR10", str(tmp_path / "elsewhere"))  # the env var still wins
    with pytest.raises(DatasetError, match="elsewhere"):
        describe_source()


def test_download_refuses_a_corrupt_archive_before_any_fetch(tmp_path):
    archive = tmp_path / "cifar-10-python.tar.gz"
    archive.write_bytes(b"a truncated download" * 100)
    result = CliRunner().invoke(cli, ["data", "cifar10", "--root", str(tmp_path), "--download"])
    assert result.exit_code == 2
    assert result.output.count("\n") == 1 and result.output.startswith(f"error: {archive} has md5 ")
    assert f"expected the published {OFFICIAL_ARCHIVE_MD5}" in result.output
    assert not (tmp_path / "cifar-10-batches-py").exists()


def test_extraction_writes_only_the_batch_files(tmp_path):
    archive = tmp_path / "cifar-10-python.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        for name in ("cifar-10-batches-py/data_batch_1", "cifar-10-batches-py/../../evil", "../evil", "readme.html"):
            source = tmp_path / "member"
            source.write_bytes(name.encode())
            tar.add(source, arcname=name)
    _extract_batches(archive, tmp_path / "root")
    files = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    assert [str(f) for f in files] == ["cifar-10-python.tar.gz", "member", "root/cifar-10-batches-py/data_batch_1"]


def test_missing_data_says_how_to_get_it(tmp_path, monkeypatch):
    monkeypatch.delenv("NASBENCH_SUITE_CIFAR10", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    train = ["train", "--protocol", "micro", "--archs", "sample:1", "--out", str(tmp_path / "o")]
    for args in (["data", "cifar10"], train):
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == 2, result.output
        assert result.output == (f"error: no CIFAR-10 found at {default_root()}: run `nasbench-suite data cifar10 "
                                 "--download` or set $NASBENCH_SUITE_CIFAR10 to the JPEG tarball "
                                 "(cifar10-jpeg.tar.gz), an extracted ImageFolder folder (train/<class>/*.jpg, "
                                 "test/<class>/*.jpg) or a cifar-10-batches-py folder\n")


def test_fetch_over_http_keeps_only_a_download_with_the_published_md5(tmp_path):
    """The download path (no network here) against a real HTTP server on loopback: a right md5 is renamed into
    place, a wrong one is refused in one line and leaves nothing behind."""
    import functools
    import hashlib
    import http.server
    import threading

    from nasbench_suite.data.cifar10 import DatasetError, _fetch

    served = tmp_path / "served"
    served.mkdir()
    payload = bytes(range(256)) * 4096
    (served / "archive.tar.gz").write_bytes(payload)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/archive.tar.gz"
        good = tmp_path / "good" / "archive.tar.gz"
        good.parent.mkdir()
        _fetch(url, good, hashlib.md5(payload).hexdigest())
        assert good.read_bytes() == payload
        bad = tmp_path / "bad" / "archive.tar.gz"
        bad.parent.mkdir()
        with pytest.raises(DatasetError) as err:
            _fetch(url, bad, "0" * 32)
        assert "\n" not in str(err.value) and "md5" in str(err.value)
        assert list(bad.parent.iterdir()) == []
    finally:
        server.shutdown()
        server.server_close()
