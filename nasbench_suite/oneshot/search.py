"""The search loop: train a supernet with one method, derive and look up the cell after every epoch,
checkpoint every epoch so an interrupted run resumes to the same result."""

from __future__ import annotations

import csv
import io
import os
import platform
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from nasbench_suite.atomic import write_atomic
from nasbench_suite.data import MEAN, STD
from nasbench_suite.data.augment import random_crop_flip
from nasbench_suite.errors import UserInputError
from nasbench_suite.oneshot.methods import METHODS, Batch, SearchMethod, make_method
from nasbench_suite.oneshot.summary import TRAJECTORY
from nasbench_suite.oneshot.supernet import Supernet
from nasbench_suite.report.write import environment
from nasbench_suite.space import NB201
from nasbench_suite.table import Table
from nasbench_suite.train.run import check_device
from nasbench_suite.train.trainer import downsample

# Epochs and batch sizes of NAS-Bench-201's reference runs (AutoDL-Projects configs/nas-benchmark/algos/
# DARTS.config, GDAS.config @ a84f483; RANDOM.config, SETN.config @ 44a0d51; ENAS.config @ 34ba805).
PAPER_EPOCHS = {"darts": 50, "darts2": 50, "gdas": 240, "rsps": 250, "enas": 310}
PAPER_BATCH = {"enas": 128}  # all others 64
PAD = 4  # crop padding at 32 px; scaled with the resolution

SETTINGS: dict[str, dict[str, Any]] = {
    # NAS-Bench-201's search setting: C=16, N=5, 32 px, cifar10-valid (25k weights / 25k architecture).
    "nb201": dict(channels=16, cells_per_stage=5, resolution=32, train_images=None, valid_images=None,
                  batch_size=None, samples=100, controller_steps=50, aggregate=20),
    # NB201's search on a CPU: every hyperparameter, epoch count and both 25k halves kept; only EcoNAS-style
    # reductions (16 px images, C=8, N=1), so one DARTS epoch (390 steps) is about a CPU-minute.
    "cpu": dict(channels=8, cells_per_stage=1, resolution=16, train_images=None, valid_images=None,
                batch_size=None, samples=100, controller_steps=50, aggregate=20),
    # A smoke-test setting: same pipeline and methods, tiny network and data, few epochs.
    "micro": dict(channels=8, cells_per_stage=1, resolution=32, train_images=1024, valid_images=1024,
                  batch_size=64, samples=20, controller_steps=4, aggregate=8),
}
PRECISIONS = ("fp32", "bf16")
DEFAULT_MICRO_EPOCHS = 6
CHECKPOINT = "checkpoint.pt"
FIELDS = ("method", "setting", "seed", "epoch", "epochs_planned", "search_seconds", "cpu_seconds", "arch", "index",
          "test_acc_200", "valid_acc_200", "train_loss", "train_acc", "lr", "entropy_mean", "entropy_edges",
          "device", "hardware")


@dataclass(frozen=True)
class SearchConfig:
    """Everything that decides a search run's result (a checkpoint only resumes under the same config)."""

    method: str
    seed: int
    setting: str
    epochs: int
    channels: int
    cells_per_stage: int
    resolution: int  # image side in pixels (32, or 16/8 by average pooling)
    train_images: int | None  # None = the whole split
    valid_images: int | None
    batch_size: int
    samples: int  # candidates RSPS/ENAS rank when deriving
    controller_steps: int  # ENAS controller updates per epoch, each averaging `aggregate` samples
    aggregate: int
    precision: str = "fp32"  # bf16: autocast (opt-in; other numerics)
    channels_last: bool = True  # memory format of batches and supernet (same math, faster CPU kernels)
    split: str = "cifar10-valid"

    @classmethod
    def from_setting(cls, method: str, setting: str = "micro", seed: int = 0, epochs: int | None = None,
                     precision: str = "fp32") -> "SearchConfig":
        """The config of a named setting (`micro`, `cpu` or `nb201`); epochs default to the paper's (micro: 6)."""
        if method not in METHODS:
            raise UserInputError(f"unknown one-shot method {method!r}; valid: {', '.join(METHODS)}")
        if setting not in SETTINGS:
            raise UserInputError(f"unknown setting {setting!r}; valid: {', '.join(SETTINGS)}")
        if precision not in PRECISIONS:
            raise UserInputError(f"unknown precision {precision!r}; valid: {', '.join(PRECISIONS)}")
        values = dict(SETTINGS[setting])
        if values["batch_size"] is None:
            values["batch_size"] = PAPER_BATCH.get(method, 64)
        if epochs is None:
            epochs = DEFAULT_MICRO_EPOCHS if setting == "micro" else PAPER_EPOCHS[method]
        if epochs < 1:
            raise UserInputError(f"--epochs must be >= 1, got {epochs}")
        return cls(method=method, seed=seed, setting=setting, epochs=epochs, precision=precision, **values)


@dataclass
class SearchData:
    """Images (uint8 NHWC) and labels of the training set, and the index arrays of the two search splits."""

    images: np.ndarray
    labels: np.ndarray
    train: np.ndarray
    valid: np.ndarray

    def subset(self, config: SearchConfig) -> "SearchData":
        """The config's fixed-size subsets (drawn with seed 0, so every method and seed sees the same images),
        keeping only the images they use."""
        rng = np.random.default_rng(0)
        train, valid = (idx if n is None or n >= len(idx) else np.sort(rng.choice(idx, n, replace=False))
                        for idx, n in ((self.train, config.train_images), (self.valid, config.valid_images)))
        used = np.union1d(train, valid)
        return SearchData(self.images[used], self.labels[used], np.searchsorted(used, train),
                          np.searchsorted(used, valid))


def load_search_data(config: SearchConfig, source: str | os.PathLike | None = None) -> SearchData:
    """CIFAR-10 through the data module, split as the config says (NAS-Bench-201: cifar10-valid)."""
    from nasbench_suite.data import load_cifar10, make_split

    data = load_cifar10(source)
    split = make_split(data, config.split, seed=0)
    return SearchData(data.train_images, data.train_labels, split["train"], split["valid"])


def hardware(device: torch.device) -> str:
    """One line naming the hardware and software a run used."""
    if device.type == "cuda":
        what = torch.cuda.get_device_name(device)
    else:
        what = f"{environment()['hardware']['cpu']}, {torch.get_num_threads()} thread(s)"
    return f"{what}; torch {torch.__version__}; python {platform.python_version()}"


def resolve_device(name: str) -> torch.device:
    """`cpu`, `cuda` or `cuda:N`; a clear error when CUDA is asked for but absent."""
    return torch.device(check_device(name))


class Batches:
    """Batches from one split, reshuffled every pass, normalised, on the device; with NB201's augmentation (crop
    from the zero-padded image, pad 4 px at 32 px, plus flip) when `augment`."""

    def __init__(self, images: torch.Tensor, labels: torch.Tensor, index: np.ndarray, batch: int,
                 gen: torch.Generator, augment: bool, channels_last: bool = False) -> None:
        self.images, self.labels, self.index = images, labels, torch.as_tensor(index)
        self.batch, self.gen = batch, gen
        self.pad = PAD * images.shape[-1] // 32 if augment else 0
        self.format = torch.channels_last if channels_last else torch.contiguous_format
        self.order = torch.empty(0, dtype=torch.long)
        self.mean = torch.tensor(MEAN, device=images.device).view(1, 3, 1, 1)
        self.std = torch.tensor(STD, device=images.device).view(1, 3, 1, 1)

    def __iter__(self) -> Iterator[Batch]:
        return self

    def __next__(self) -> Batch:
        if len(self.order) < self.batch:
            self.order = self.index[torch.randperm(len(self.index), generator=self.gen)]
        pick, self.order = self.order[:self.batch], self.order[self.batch:]
        pick = pick.to(self.images.device)
        x = self.images[pick].float().div_(255)
        if self.pad:
            x = random_crop_flip(x, self.pad, self.gen)
        return ((x - self.mean) / self.std).contiguous(memory_format=self.format), self.labels[pick]


def device_images(data: SearchData, config: SearchConfig, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """The images as uint8 NCHW at the config's resolution (average-pooled once) and the labels, on the device."""
    images = downsample(data.images, config.resolution)
    return (torch.as_tensor(images).permute(0, 3, 1, 2).contiguous().to(device),
            torch.as_tensor(data.labels).to(device))


def build_supernet(config: SearchConfig, num_classes: int, device: torch.device) -> Supernet:
    """The config's supernet, initialised from the run's seed, in the config's memory format."""
    torch.manual_seed(config.seed)  # module initialisation draws from the global generator
    net = Supernet(config.channels, config.cells_per_stage, num_classes).to(device)
    return net.to(memory_format=torch.channels_last) if config.channels_last else net


def _epoch_generator(seed: int, epoch: int, stream: int) -> torch.Generator:
    state = np.random.SeedSequence([seed, epoch, stream]).generate_state(1, dtype=np.uint64)[0]
    return torch.Generator().manual_seed(int(state))


def run_dir_of(root: str | os.PathLike, config: SearchConfig) -> Path:
    """Where a run keeps its checkpoint and trajectory: <root>/<setting>/<method>/seed<k>."""
    return Path(root) / config.setting / config.method / f"seed{config.seed}"


def run_search(config: SearchConfig, data: SearchData, table: Table, out_dir: str | os.PathLike,
               device: str = "cpu", stop_after: int | None = None, progress: bool = True) -> list[dict[str, Any]]:
    """Run (or resume) one search; returns the trajectory, one row per finished epoch.

    After every epoch the method derives its cell, the cell's 200-epoch test/valid accuracy is looked up in
    `table`, and the checkpoint (weights, optimizers, architecture state, trajectory, search seconds) is
    written atomically. `stop_after` ends the call after that many epochs in all (the run stays resumable).
    """
    dev = resolve_device(device)
    folder = Path(out_dir)
    num_classes = int(data.labels.max()) + 1
    data = data.subset(config)
    batch = min(config.batch_size, len(data.train))
    steps = len(data.train) // batch
    if steps < 1 or len(data.valid) < 1:
        raise UserInputError(f"the search splits are too small ({len(data.train)} train, {len(data.valid)} valid "
                             f"images) for batch size {config.batch_size}")
    net = build_supernet(config, num_classes, dev)
    method = make_method(config.method, net, config.epochs, steps, dev, config.seed, config.samples,
                         config.controller_steps, config.aggregate, config.precision)
    trajectory, seconds, cpu_seconds, start = _resume(folder, config, net, method)
    images, labels = device_images(data, config, dev)
    where = hardware(dev)
    last = config.epochs if stop_after is None else min(stop_after, config.epochs)
    bar = tqdm(total=(last - start) * steps, desc=f"{config.method} seed {config.seed}", unit="step",
               disable=not progress or last <= start, leave=False)
    for epoch in range(start, last):
        gen = _epoch_generator(config.seed, epoch, 0)
        train = Batches(images, labels, data.train, batch, gen, True, config.channels_last)
        valid = Batches(images, labels, data.valid, batch, gen, True, config.channels_last)
        tic, cpu_tic = time.perf_counter(), time.process_time()
        method.start_epoch(epoch)
        lr = method.w_optimizer.param_groups[0]["lr"]
        losses, accs = [], []
        for _ in range(steps):
            stats = method.step(next(train), next(valid), gen)
            losses.append(stats["loss"])
            accs.append(stats["acc"])
            bar.update()
        method.end_epoch(valid, gen)
        derive_gen = _epoch_generator(config.seed, epoch, 1)
        arch = method.derive(Batches(images, labels, data.valid, batch, derive_gen, False, config.channels_last),
                             derive_gen)
        entropies = method.edge_entropy(_epoch_generator(config.seed, epoch, 2))
        if dev.type == "cuda":
            torch.cuda.synchronize(dev)
        seconds += time.perf_counter() - tic
        cpu_seconds += time.process_time() - cpu_tic
        trajectory.append({
            "method": config.method, "setting": config.setting, "seed": config.seed, "epoch": epoch + 1,
            "epochs_planned": config.epochs, "search_seconds": round(seconds, 3),
            "cpu_seconds": round(cpu_seconds, 3), "arch": NB201.to_str(arch), "index": NB201.to_index(arch),
            "test_acc_200": table.query(arch, "test_acc", 200), "valid_acc_200": table.query(arch, "valid_acc", 200),
            "train_loss": float(np.mean(losses)), "train_acc": float(np.mean(accs)), "lr": lr,
            "entropy_mean": float(np.mean(entropies)), "entropy_edges": " ".join(f"{e:.7f}" for e in entropies),
            "device": str(dev), "hardware": where})
        bar.set_postfix(test=f"{trajectory[-1]['test_acc_200']:.2f}", H=f"{np.mean(entropies):.3f}")
        _save(folder, config, net, method, trajectory, seconds, cpu_seconds, epoch + 1)
    bar.close()
    return trajectory


def load_checkpoint(path: str | os.PathLike, device: torch.device | str = "cpu") -> tuple[dict[str, Any], SearchConfig]:
    """A run's checkpoint (tensors only: no code runs on load) and the config it was made with."""
    try:
        state = torch.load(path, map_location=device, weights_only=True)
        return state, SearchConfig(**state["config"])
    except Exception as exc:  # a truncated or foreign file: say so instead of a stack trace
        raise UserInputError(f"cannot read checkpoint {path} ({type(exc).__name__}); delete it to restart") from None


def _resume(folder: Path, config: SearchConfig, net: Supernet, method: SearchMethod
            ) -> tuple[list[dict[str, Any]], float, float, int]:
    path = folder / CHECKPOINT
    if not path.is_file():
        return [], 0.0, 0.0, 0
    state, saved = load_checkpoint(path, next(net.parameters()).device)
    if saved != config:
        diff = {k: (v, getattr(config, k)) for k, v in asdict(saved).items() if getattr(config, k) != v}
        raise UserInputError(f"checkpoint {path} was made with a different config (saved, now: {diff}); use "
                             "another --out folder or delete the checkpoint")
    net.load_state_dict(state["net"])
    method.load_state_dict(state["method"])
    return state["trajectory"], state["seconds"], state["cpu_seconds"], state["epochs_done"]


def _save(folder: Path, config: SearchConfig, net: Supernet, method: SearchMethod,
          trajectory: list[dict[str, Any]], seconds: float, cpu_seconds: float, epochs_done: int) -> None:
    buffer = io.BytesIO()
    torch.save({"config": asdict(config), "net": net.state_dict(), "method": method.state_dict(),
                "trajectory": trajectory, "seconds": seconds, "cpu_seconds": cpu_seconds,
                "epochs_done": epochs_done}, buffer)
    write_atomic(folder / CHECKPOINT, lambda fh: fh.write(buffer.getvalue()))
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=FIELDS)
    writer.writeheader()
    writer.writerows(trajectory)
    write_atomic(folder / TRAJECTORY, lambda fh: fh.write(text.getvalue().encode()))
