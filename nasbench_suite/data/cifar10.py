"""CIFAR-10 from the JPEG tarball, an extracted ImageFolder tree, or the official `cifar-10-batches-py`.

Images are decoded once into uint8 arrays and cached as an .npz keyed by the data's sha256, so every later load
is a file read. The dataset's variant name and checksum travel with the arrays into every table built on them.
`download_cifar10` fetches the official release (md5-checked) into a per-user data folder, the default source.
"""

from __future__ import annotations

import hashlib
import io
import os
import sys
import tarfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nasbench_suite.atomic import atomic_path, write_atomic
from nasbench_suite.errors import UserInputError
from nasbench_suite.restricted_pickle import NUMPY_ARRAYS, restricted_loads

CLASSES: tuple[str, ...] = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship",
                            "truck")
# NAS-Bench-201's normalisation constants (per channel, RGB, on [0, 1] pixels).
MEAN: tuple[float, float, float] = (125.3 / 255, 123.0 / 255, 113.9 / 255)
STD: tuple[float, float, float] = (63.0 / 255, 62.1 / 255, 66.7 / 255)

NUM_TRAIN, NUM_TEST = 50_000, 10_000
ENV_SOURCE = "NASBENCH_SUITE_CIFAR10"
ENV_CACHE = "NASBENCH_SUITE_CACHE"
TARBALL_NAME = "cifar10-jpeg.tar.gz"
BATCHES_DIR = "cifar-10-batches-py"
BATCH_FILES = tuple(f"data_batch_{i}" for i in range(1, 6)) + ("test_batch",)

# Known variants: the shared JPEG tarball (quality 75) and the official pickles (md5s published by torchvision).
JPEG75_NAME = "cifar10-jpeg75"
JPEG75_SHA256 = "45b041e867f5a40f79bfde38d3dd1fd511103d50068c1afecf6445e25234d4db"
OFFICIAL_BATCH_MD5 = {
    "data_batch_1": "c99cafc152244af753f735de768cd75f",
    "data_batch_2": "d4bba439e000b95fd0a9bffe97cbabec",
    "data_batch_3": "54ebc095f3ab1f0389bbae665268c751",
    "data_batch_4": "634d18415352ddfa80567beed471001a",
    "data_batch_5": "482c414d41f54cd18b22e5b47cb7c3cb",
    "test_batch": "40351d587109b95175f43aff81a1287e",
}
# The official release (https://www.cs.toronto.edu/~kriz/cifar.html); md5 as published there and by torchvision.
OFFICIAL_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
OFFICIAL_ARCHIVE = "cifar-10-python.tar.gz"
OFFICIAL_ARCHIVE_MD5 = "c58f30108f718f92721af3b95e74349a"
OFFICIAL_NAME = "cifar10"
SOURCE_FORMS = (f"the JPEG tarball ({TARBALL_NAME}), an extracted ImageFolder folder (train/<class>/*.jpg, "
                f"test/<class>/*.jpg) or a {BATCHES_DIR} folder")


class DatasetError(UserInputError):
    """A CIFAR-10 source that is missing, corrupt or of an unknown form."""


@dataclass(frozen=True)
class Cifar10:
    """CIFAR-10 as uint8 HWC images and int64 labels, with the variant name and checksum to record in tables."""

    name: str
    sha256: str
    train_images: np.ndarray  # uint8 [50000, 32, 32, 3]
    train_labels: np.ndarray  # int64 [50000]
    test_images: np.ndarray  # uint8 [10000, 32, 32, 3]
    test_labels: np.ndarray  # int64 [10000]

    def identity(self) -> dict[str, str]:
        """What a table records about its data."""
        return {"dataset": self.name, "dataset_sha256": self.sha256}


def default_root() -> Path:
    """The per-user data folder `download_cifar10` fills and `load_cifar10` reads by default.

    $XDG_DATA_HOME/nasbench-suite/cifar10, else ~/.local/share/nasbench-suite/cifar10 (%LOCALAPPDATA% on Windows):
    a pip-installed package has no repository folder next to it to hold data.
    """
    if os.environ.get("XDG_DATA_HOME"):
        base = Path(os.environ["XDG_DATA_HOME"])
    elif sys.platform == "win32" and os.environ.get("LOCALAPPDATA"):
        base = Path(os.environ["LOCALAPPDATA"])
    else:
        base = Path.home() / ".local" / "share"
    return base / "nasbench-suite" / "cifar10"


def load_cifar10(source: str | os.PathLike | None = None, cache_dir: str | os.PathLike | None = None) -> Cifar10:
    """Load CIFAR-10 from `source` (see SOURCE_FORMS); None = $NASBENCH_SUITE_CIFAR10, else default_root()."""
    path = resolve_source(source)
    kind, name, sha256 = _identify(path)
    cache = _cache_path(cache_dir, sha256)
    if cache.is_file():
        try:
            with np.load(cache) as z:
                return Cifar10(name, sha256, z["train_images"], z["train_labels"], z["test_images"],
                               z["test_labels"])
        except (OSError, KeyError, ValueError, zlib.error):
            cache.unlink(missing_ok=True)  # a damaged cache is rebuilt, never trusted
    arrays = _read_jpeg_tar(path) if kind == "tar" else _read_folder(path) if kind == "folder" else _read_batches(path)
    data = Cifar10(name, sha256, *arrays)
    _validate(data, path)
    _save_cache(cache, data)
    return data


def describe_source(source: str | os.PathLike | None = None) -> dict[str, str]:
    """Where CIFAR-10 is and which variant, without decoding it: {"dataset", "dataset_sha256", "source"}."""
    path = resolve_source(source)
    _, name, sha256 = _identify(path)
    return {"dataset": name, "dataset_sha256": sha256, "source": str(path)}


def resolve_source(source: str | os.PathLike | None) -> Path:
    """The file or folder to read: `source`, else $NASBENCH_SUITE_CIFAR10, else default_root()."""
    path = Path(source or os.environ.get(ENV_SOURCE) or default_root()).expanduser()
    if not path.exists():
        raise DatasetError(f"no CIFAR-10 found at {path}: run `nasbench-suite data cifar10 --download` or set "
                           f"${ENV_SOURCE} to {SOURCE_FORMS}")
    if path.is_dir():
        for candidate in (path / BATCHES_DIR, path / TARBALL_NAME):
            if candidate.exists() and not (path / "train").is_dir() and not (path / "data_batch_1").exists():
                return candidate
    return path


def download_cifar10(root: str | os.PathLike | None = None) -> Path:
    """Fetch the official CIFAR-10 into `root` (default_root()) and return its checked cifar-10-batches-py folder.

    Uses torchvision's CIFAR10 when importable, else urllib; either way the archive's published md5 is checked
    before extraction and every batch's md5 after it, so a corrupt copy is refused, never loaded.
    """
    root = Path(root or default_root()).expanduser()
    batches = root / BATCHES_DIR
    if _is_official(batches):
        return batches
    archive = root / OFFICIAL_ARCHIVE
    if archive.is_file():
        check_md5(archive, OFFICIAL_ARCHIVE_MD5)
    try:
        import torchvision
    except ImportError:
        if not archive.is_file():
            _fetch(OFFICIAL_URL, archive, OFFICIAL_ARCHIVE_MD5)
        _extract_batches(archive, root)
    else:
        try:
            torchvision.datasets.CIFAR10(str(root), train=True, download=True)
        except (RuntimeError, OSError) as exc:
            raise DatasetError(f"downloading CIFAR-10 with torchvision into {root} failed: {exc}") from None
    if not _is_official(batches):
        raise DatasetError(f"{batches} does not match the official CIFAR-10 md5s; delete {root} and download "
                           f"again")
    return batches


def check_md5(path: Path, expected: str) -> None:
    """Refuse (one line) a file whose md5 is not the published one."""
    actual = _md5(path)
    if actual != expected:
        raise DatasetError(f"{path} has md5 {actual}, expected the published {expected}: a corrupt or partial "
                           f"download; delete it and run `nasbench-suite data cifar10 --download` again")


def _md5(path: Path) -> str:
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "md5").hexdigest()


def _is_official(batches: Path) -> bool:
    return all((batches / f).is_file() and _md5(batches / f) == md5 for f, md5 in OFFICIAL_BATCH_MD5.items())


def _fetch(url: str, path: Path, md5: str) -> None:
    """Download `url` to `path` through a temporary file, renamed into place only when its md5 is `md5`."""
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=60) as response, atomic_path(path) as tmp:
            with open(tmp, "wb") as fh:
                for block in iter(lambda: response.read(1 << 20), b""):
                    fh.write(block)
            if _md5(tmp) != md5:
                raise DatasetError(f"the download of {url} has md5 {_md5(tmp)}, not the published {md5} "
                                   f"(a corrupt transfer); run `nasbench-suite data cifar10 --download` again")
    except (urllib.error.URLError, OSError) as exc:
        raise DatasetError(f"cannot download {url} ({exc}); fetch it by hand into {path.parent} and rerun "
                           f"`nasbench-suite data cifar10 --root {path.parent} --download`") from None


def _extract_batches(archive: Path, root: Path) -> None:
    """Write the archive's cifar-10-batches-py files (and nothing else) under `root`."""
    try:
        with tarfile.open(archive, "r:gz") as tar:
            for member in tar:
                parts = member.name.split("/")
                if member.isfile() and len(parts) == 2 and parts[0] == BATCHES_DIR and parts[1] not in ("", ".."):
                    raw = tar.extractfile(member).read()
                    write_atomic(root / BATCHES_DIR / parts[1], lambda fh: fh.write(raw))
    except (tarfile.TarError, EOFError, zlib.error) as exc:
        raise DatasetError(f"{archive} is corrupt ({exc}); delete it and download again") from None


def _identify(path: Path) -> tuple[str, str, str]:
    """(reader kind, variant name, sha256) of a source."""
    if path.is_file():
        if not tarfile.is_tarfile(path):
            raise DatasetError(f"{path} is not a tar archive (corrupt or unknown file); expected {SOURCE_FORMS}")
        sha = _sha256_file(path)
        return "tar", JPEG75_NAME if sha == JPEG75_SHA256 else "cifar10-jpeg-custom", sha
    if (path / "data_batch_1").exists():
        missing = [f for f in BATCH_FILES if not (path / f).is_file()]
        if missing:
            raise DatasetError(f"{path} lacks {', '.join(missing)}; a {BATCHES_DIR} folder holds "
                               f"{', '.join(BATCH_FILES)}")
        digest = hashlib.sha256()
        official = True
        for f in BATCH_FILES:
            raw = (path / f).read_bytes()
            digest.update(raw)
            official &= hashlib.md5(raw).hexdigest() == OFFICIAL_BATCH_MD5[f]
        return "batches", OFFICIAL_NAME if official else "cifar10-custom", digest.hexdigest()
    if (path / "train").is_dir() and (path / "test").is_dir():
        digest = hashlib.sha256()
        for file in _folder_files(path):
            digest.update(file.relative_to(path).as_posix().encode())
            digest.update(file.read_bytes())
        sha = digest.hexdigest()
        return "folder", "cifar10-imagefolder", sha
    raise DatasetError(f"{path} is not a CIFAR-10 source; expected {SOURCE_FORMS}")


def _sha256_file(path: Path) -> str:
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def _split_class(rel: str) -> tuple[str, int, str] | None:
    """('train'|'test', label, file name) of an ImageFolder member path, None for folders and other files."""
    parts = rel.strip("/").split("/")
    if len(parts) >= 3 and parts[-3] in ("train", "test") and parts[-1].lower().endswith((".jpg", ".jpeg", ".png")):
        if parts[-2] not in CLASSES:
            raise DatasetError(f"unknown class folder {parts[-2]!r} in {rel}; expected one of {', '.join(CLASSES)}")
        return parts[-3], CLASSES.index(parts[-2]), parts[-1]
    return None


def _decode(raw: bytes, where: str) -> np.ndarray:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(raw)) as im:
            arr = np.asarray(im.convert("RGB"), dtype=np.uint8)
    except (UnidentifiedImageError, OSError, SyntaxError) as exc:
        raise DatasetError(f"corrupt image {where}: {exc}") from None
    if arr.shape != (32, 32, 3):
        raise DatasetError(f"image {where} is {arr.shape[1]}x{arr.shape[0]}, expected 32x32 CIFAR-10 images")
    return arr


def _assemble(items: list[tuple[str, int, str, np.ndarray]]) -> tuple[np.ndarray, ...]:
    """Sort by (split, label, file name) so the arrays do not depend on archive order."""
    items.sort(key=lambda t: (t[0], t[1], t[2]))
    out: list[np.ndarray] = []
    for split in ("train", "test"):
        chosen = [t for t in items if t[0] == split]
        images = np.stack([t[3] for t in chosen]) if chosen else np.zeros((0, 32, 32, 3), np.uint8)
        out += [images, np.array([t[1] for t in chosen], dtype=np.int64)]
    return tuple(out)


def _read_jpeg_tar(path: Path) -> tuple[np.ndarray, ...]:
    items = []
    try:
        with tarfile.open(path, "r:*") as tar:
            for member in tar:
                key = _split_class(member.name) if member.isfile() else None
                if key is not None:
                    items.append((*key, _decode(tar.extractfile(member).read(), f"{member.name} in {path}")))
    except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
        raise DatasetError(f"{path} is corrupt or truncated ({exc}); expected {SOURCE_FORMS}") from None
    return _assemble(items)


def _folder_files(path: Path) -> list[Path]:
    return sorted(p for split in ("train", "test") for p in (path / split).glob("*/*") if p.is_file())


def _read_folder(path: Path) -> tuple[np.ndarray, ...]:
    items = []
    for file in _folder_files(path):
        key = _split_class(file.relative_to(path).as_posix())
        if key is not None:
            items.append((*key, _decode(file.read_bytes(), str(file))))
    return _assemble(items)


# what a CIFAR-10 batch pickle may load: numpy arrays, and bytes in pickles written by Python 3
BATCH_GLOBALS = NUMPY_ARRAYS | {("_codecs", "encode")}


def _read_batches(path: Path) -> tuple[np.ndarray, ...]:
    out: list[np.ndarray] = []
    for files in (BATCH_FILES[:5], BATCH_FILES[5:]):
        images, labels = [], []
        for f in files:
            try:
                batch = restricted_loads((path / f).read_bytes(), BATCH_GLOBALS, str(path / f), encoding="latin1")
                data = np.asarray(batch["data"], dtype=np.uint8).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
                images.append(data)
                labels.append(np.asarray(batch["labels"], dtype=np.int64))
            except (UserInputError, KeyError, ValueError, TypeError) as exc:
                raise DatasetError(f"{path / f} is not a CIFAR-10 batch (corrupt or unknown format: "
                                   f"{type(exc).__name__}: {exc})") from None
        out += [np.ascontiguousarray(np.concatenate(images)), np.concatenate(labels)]
    return tuple(out)


def _validate(data: Cifar10, path: Path) -> None:
    for split, images, labels, n in (("train", data.train_images, data.train_labels, NUM_TRAIN),
                                     ("test", data.test_images, data.test_labels, NUM_TEST)):
        if images.shape != (n, 32, 32, 3) or labels.shape != (n,):
            raise DatasetError(f"{path}: {split} split has {len(images)} images, expected {n} "
                               f"({n // 10} per class) of 32x32x3")
        counts = np.bincount(labels, minlength=10)
        if len(counts) != 10 or (counts != n // 10).any():
            raise DatasetError(f"{path}: {split} split has per-class counts {counts.tolist()}, expected "
                               f"{n // 10} each")


def _cache_path(cache_dir: str | os.PathLike | None, sha256: str) -> Path:
    folder = Path(cache_dir or os.environ.get(ENV_CACHE) or Path.home() / ".cache" / "nasbench-suite")
    return folder / f"cifar10-{sha256[:20]}.npz"


def _save_cache(path: Path, data: Cifar10) -> None:
    """Atomic; an unwritable cache only costs a re-decode next time."""
    try:
        write_atomic(path, lambda fh: np.savez(fh, train_images=data.train_images, train_labels=data.train_labels,
                                               test_images=data.test_images, test_labels=data.test_labels))
    except OSError:
        return
