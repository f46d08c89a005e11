"""Training NAS-Bench-201 cells under a protocol: a plain reference loop and a fast path for many cells at once.

Both paths draw the same data: the dataset lives on the device as uint8, and each (seed, epoch) fixes one
permutation and one crop/flip per image, drawn on the CPU from a seeded torch.Generator. Both start each cell
from the same weights (seeded by cell and seed) and use the same loss, SGD and per-step learning rate, so their
first-steps losses agree (tests/test_train.py). The fast path stacks K cells into one `StackedNetwork` (grouped
convs), and on CUDA adds channels_last, the fused SGD kernel and CUDA graphs for forward/backward. The protocol's
`precision` picks the autocast dtype (bf16 is the CUDA default and opt-in on the CPU) and its `resolution` the
image size; `compile=True` runs the training forward through torch.compile (same math, pays on long runs only).
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from nasbench_suite.data import MEAN, STD, Cifar10, make_split
from nasbench_suite.data.augment import crop_flip
from nasbench_suite.model.nb201 import build_network
from nasbench_suite.model.stacked import StackedNetwork
from nasbench_suite.space import NB201
from nasbench_suite.train.protocols import Protocol

METRICS = ("train_loss", "train_acc", "valid_loss", "valid_acc", "test_loss", "test_acc", "train_seconds",
           "eval_seconds", "cpu_seconds")
PAD = 4


@dataclass
class CellResult:
    """Per-epoch records of one cell and seed (NaN after a divergence); step_losses if asked for."""

    arch: int
    seed: int
    records: dict[str, np.ndarray]  # metric -> [epochs]
    diverged: bool = False
    step_losses: list[float] = field(default_factory=list)


def _subset(indices: np.ndarray, labels: np.ndarray, size: int | None, seed: int) -> np.ndarray:
    """A stratified, seeded subset of `indices` (all of them when size is None)."""
    if size is None or size >= len(indices):
        return indices
    rng = np.random.default_rng([seed, 7])
    per_class = [rng.permutation(indices[labels[indices] == c]) for c in range(10)]
    take = [p[: size // 10 + (1 if c < size % 10 else 0)] for c, p in enumerate(per_class)]
    return np.sort(np.concatenate(take))


def downsample(images: np.ndarray, resolution: int) -> np.ndarray:
    """uint8 NHWC images average-pooled to resolution x resolution (an integer factor), rounded back to uint8."""
    factor = images.shape[1] // resolution
    if factor == 1:
        return images
    n, h, w, c = images.shape
    blocks = images.reshape(n, h // factor, factor, w // factor, factor, c).astype(np.float32)
    return np.rint(blocks.mean(axis=(2, 4))).astype(np.uint8)


class DeviceData:
    """A protocol's train/valid/test images as uint8 tensors on the device, with seeded on-device augmentation.

    Images are pooled to the protocol's resolution once, here; the crop padding scales with it (4 pixels at 32).
    `channels_last` (default on) sets the memory format of every batch and network: same fp32 math, other kernels;
    on the CPU it made the reference loop 1.5x faster at C=8 (scripts/bench_train.py), the stacked path slower.
    """

    def __init__(self, data: Cifar10, protocol: Protocol, device: str | torch.device = "cpu",
                 channels_last: bool = True) -> None:
        self.device = torch.device(device)
        self.protocol = protocol
        self.size = protocol.resolution
        self.pad = PAD * self.size // 32
        split = make_split(data, protocol.split, seed=0)
        train = _subset(split["train"], data.train_labels, protocol.train_images, 1)
        valid = _subset(split["valid"], data.train_labels, protocol.valid_images, 2)
        test = _subset(split["test"], data.test_labels, protocol.test_images, 3)
        as_tensor = lambda a: torch.from_numpy(np.ascontiguousarray(a)).to(self.device)  # noqa: E731
        images = lambda a: as_tensor(downsample(a, self.size))  # noqa: E731
        pad = ((0, 0), (self.pad, self.pad), (self.pad, self.pad), (0, 0))
        self.train_x = as_tensor(np.pad(downsample(data.train_images[train], self.size), pad))
        self.train_y = as_tensor(data.train_labels[train])
        self.eval_sets = {"valid": (images(data.train_images[valid]), as_tensor(data.train_labels[valid])),
                          "test": (images(data.test_images[test]), as_tensor(data.test_labels[test]))}
        self.mean = torch.tensor(MEAN, device=self.device).view(1, 3, 1, 1) * 255
        self.std = torch.tensor(STD, device=self.device).view(1, 3, 1, 1) * 255
        self.channels_last = channels_last
        if self.device.type == "cuda":
            torch.backends.cudnn.benchmark = True  # fixed shapes: let cuDNN pick the fastest kernels once

    @property
    def num_train(self) -> int:
        return len(self.train_y)

    def steps_per_epoch(self) -> int:
        n, b = self.num_train, self.protocol.batch_size
        return n // b if self.protocol.drop_last else math.ceil(n / b)

    def _to_float(self, images: torch.Tensor) -> torch.Tensor:
        """uint8 NHWC -> normalised float NCHW (channels_last if asked)."""
        x = (images.permute(0, 3, 1, 2).float() - self.mean) / self.std
        return x.contiguous(memory_format=torch.channels_last if self.channels_last else torch.contiguous_format)

    def train_batches(self, seed: int, epoch: int) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """The (seed, epoch) permutation in batches, each randomly cropped from the zero-padded image and flipped."""
        n, bs = self.num_train, self.protocol.batch_size
        gen = torch.Generator().manual_seed(int(seed) * 1_000_003 + int(epoch))
        perm = torch.randperm(n, generator=gen)
        shift = torch.randint(0, 2 * self.pad + 1, (n, 2), generator=gen)
        flip = torch.randint(0, 2, (n,), generator=gen).bool()
        if not self.protocol.augment:
            shift.fill_(self.pad)
            flip.fill_(False)
        perm, shift, flip = perm.to(self.device), shift.to(self.device), flip.to(self.device)
        for step in range(self.steps_per_epoch()):
            idx = perm[step * bs:(step + 1) * bs]
            images = crop_flip(self.train_x, idx, shift[idx, 0], shift[idx, 1], flip[idx], self.size)
            yield self._to_float(images), self.train_y[idx]

    def eval_batches(self, which: str) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        images, labels = self.eval_sets[which]
        bs = self.protocol.eval_batch_size
        for start in range(0, len(labels), bs):
            yield self._to_float(images[start:start + bs]), labels[start:start + bs]


def init_network(arch: int, seed: int, protocol: Protocol) -> nn.Module:
    """The cell's network with weights fixed by (cell, seed), built on the CPU so every device starts equal."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(seed) * 100_003 + int(arch))
        return build_network(arch, protocol.channels, protocol.cells_per_stage)


def lr_at(protocol: Protocol, step: int, steps_per_epoch: int) -> float:
    """Per-step learning rate: linear warm-up, then cosine annealing to eta_min (NAS-Bench-201 updates per step)."""
    t = step / steps_per_epoch  # epochs done
    if t < protocol.warmup_epochs:
        return protocol.lr * t / protocol.warmup_epochs
    span = max(protocol.epochs - protocol.warmup_epochs, 1e-12)
    progress = (t - protocol.warmup_epochs) / span
    return protocol.eta_min + 0.5 * (protocol.lr - protocol.eta_min) * (1 + math.cos(math.pi * progress))


def _optimizer(params, protocol: Protocol, device: torch.device) -> torch.optim.SGD:
    kwargs = {"fused": True} if device.type == "cuda" else {"foreach": True}
    return torch.optim.SGD(params, lr=protocol.lr, momentum=protocol.momentum, nesterov=protocol.nesterov,
                           weight_decay=protocol.weight_decay, **kwargs)


def _per_model_loss(logits: torch.Tensor, y: torch.Tensor, smoothing: float) -> torch.Tensor:
    """logits [B, K, classes] -> mean cross-entropy of each of the K models [K]."""
    b, k, _ = logits.shape
    ce = F.cross_entropy(logits.float().permute(0, 2, 1), y[:, None].expand(b, k), reduction="none",
                         label_smoothing=smoothing)
    return ce.mean(0)


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _autocast(device: torch.device, precision: str):
    """bf16 autocast when the protocol asks for it (precision auto: on CUDA only), else plain fp32."""
    bf16 = precision == "bf16" or (precision == "auto" and device.type == "cuda")
    return torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16, cache_enabled=False)


class _Run:
    """Trains K models that share one forward (K=1: the reference loop) and records them epoch by epoch."""

    def __init__(self, model: nn.Module, archs: Sequence[int], seed: int, data: DeviceData,
                 forward: Callable[[torch.Tensor], torch.Tensor], record_steps: int = 0) -> None:
        self.model, self.archs, self.seed, self.data = model, list(archs), seed, data
        self.forward = forward
        self.protocol = data.protocol
        self.device = data.device
        self.optimizer = _optimizer(model.parameters(), self.protocol, self.device)
        self.record_steps = record_steps
        k, epochs = len(self.archs), self.protocol.epochs
        self.records = {m: np.full((k, epochs), np.nan) for m in METRICS}
        self.step_losses: list[list[float]] = [[] for _ in range(k)]
        self.alive = np.ones(k, dtype=bool)

    def run(self) -> list[CellResult]:
        steps = self.data.steps_per_epoch()
        for epoch in range(self.protocol.epochs):
            if not self.alive.any():
                break
            _sync(self.device)
            start, cpu_start = time.perf_counter(), time.process_time()
            loss_sum, correct = self._train_epoch(epoch, steps)
            _sync(self.device)
            train_seconds = (time.perf_counter() - start) / len(self.archs)
            n = steps * self.protocol.batch_size if self.protocol.drop_last else self.data.num_train
            train_loss = loss_sum.cpu().numpy() / steps
            self.alive &= np.isfinite(train_loss)
            start = time.perf_counter()
            evals = {which: self._evaluate(which) for which in ("valid", "test")}
            eval_seconds = (time.perf_counter() - start) / len(self.archs)
            cpu_seconds = (time.process_time() - cpu_start) / len(self.archs)
            values = {"train_loss": train_loss, "train_acc": 100.0 * correct.cpu().numpy() / n,
                      "train_seconds": np.full(len(self.archs), train_seconds),
                      "eval_seconds": np.full(len(self.archs), eval_seconds),
                      "cpu_seconds": np.full(len(self.archs), cpu_seconds)}
            for which, (loss, acc) in evals.items():
                values[f"{which}_loss"], values[f"{which}_acc"] = loss, acc
            for name, value in values.items():
                self.records[name][self.alive, epoch] = value[self.alive]
        return [CellResult(int(a), int(self.seed), {m: v[i] for m, v in self.records.items()},
                           diverged=not bool(self.alive[i]), step_losses=self.step_losses[i])
                for i, a in enumerate(self.archs)]

    def _train_epoch(self, epoch: int, steps: int) -> tuple[torch.Tensor, torch.Tensor]:
        self.model.train()
        k = len(self.archs)
        loss_sum = torch.zeros(k, device=self.device)
        correct = torch.zeros(k, device=self.device, dtype=torch.long)
        for i, (x, y) in enumerate(self.data.train_batches(self.seed, epoch)):
            for group in self.optimizer.param_groups:
                group["lr"] = lr_at(self.protocol, epoch * steps + i, steps)
            with _autocast(self.device, self.protocol.precision):
                logits = self.forward(x)
            losses = _per_model_loss(logits, y, self.protocol.label_smoothing)
            self.optimizer.zero_grad(set_to_none=True)
            losses.sum().backward()
            self.optimizer.step()
            loss_sum += losses.detach()
            correct += (logits.detach().argmax(-1) == y[:, None]).sum(0)
            if epoch * steps + i < self.record_steps:
                for j, value in enumerate(losses.detach().cpu().tolist()):
                    self.step_losses[j].append(value)
        return loss_sum, correct

    @torch.inference_mode()
    def _evaluate(self, which: str) -> tuple[np.ndarray, np.ndarray]:
        self.model.eval()
        k = len(self.archs)
        loss_sum = torch.zeros(k, device=self.device, dtype=torch.float64)
        correct = torch.zeros(k, device=self.device, dtype=torch.long)
        count = 0
        for x, y in self.data.eval_batches(which):
            with _autocast(self.device, self.protocol.precision):
                logits = self.model_eval(x)
            loss_sum += _per_model_loss(logits, y, 0.0).double() * len(y)
            correct += (logits.argmax(-1) == y[:, None]).sum(0)
            count += len(y)
        return loss_sum.cpu().numpy() / count, 100.0 * correct.cpu().numpy() / count

    def model_eval(self, x: torch.Tensor) -> torch.Tensor:
        out = self.model(x)
        return out if out.dim() == 3 else out[:, None]


def _placed(model: nn.Module, data: DeviceData) -> nn.Module:
    model = model.to(data.device)
    return model.to(memory_format=torch.channels_last) if data.channels_last else model


def train_reference(arch: int, seed: int, data: DeviceData, record_steps: int = 0,
                    compile: bool = False) -> CellResult:
    """The reference loop: one plain NAS-Bench-201 network, trained and evaluated epoch by epoch."""
    arch = NB201.to_index(arch)
    model = _placed(init_network(arch, seed, data.protocol), data)
    forward = torch.compile(model) if compile else model
    return _Run(model, [arch], seed, data, lambda x: forward(x)[:, None], record_steps).run()[0]


def train_stacked(archs: Sequence[int], seed: int, data: DeviceData, record_steps: int = 0,
                  cuda_graphs: bool = True, compile: bool = False) -> list[CellResult]:
    """The fast path: all `archs` in one StackedNetwork, one step trains them all."""
    archs = [NB201.to_index(a) for a in archs]
    model = _placed(StackedNetwork([init_network(a, seed, data.protocol) for a in archs]), data)
    forward: Callable[[torch.Tensor], torch.Tensor] = torch.compile(model) if compile else model
    if cuda_graphs and data.device.type == "cuda" and not compile:
        forward = _graphed(model, data)
    return _Run(model, archs, seed, data, forward, record_steps).run()


def _graphed(model: nn.Module, data: DeviceData) -> Callable[[torch.Tensor], torch.Tensor]:
    """Forward and backward of the training step captured as CUDA graphs (eager if capture fails)."""
    x = torch.zeros(data.protocol.batch_size, 3, data.size, data.size, device=data.device)
    x = x.contiguous(memory_format=torch.channels_last).requires_grad_(False)
    buffers = {name: b.clone() for name, b in model.named_buffers()}
    try:
        model.train()
        with _autocast(data.device, data.protocol.precision):
            graphed = torch.cuda.make_graphed_callables(model, (x,))
    except Exception as exc:  # noqa: BLE001 - any capture problem falls back to the same math, eagerly
        warnings.warn(f"CUDA graph capture failed ({exc}); training eagerly", RuntimeWarning, stacklevel=2)
        graphed = model
    with torch.no_grad():  # the capture's warm-up steps must not count as training
        for name, b in model.named_buffers():
            b.copy_(buffers[name])
    model.zero_grad(set_to_none=True)
    return graphed


def train_cells(archs: Sequence[int], seed: int, data: DeviceData, fast: bool = True,
                group_size: int = 16) -> Iterator[CellResult]:
    """Train every cell with one seed, `group_size` cells per stacked step (fast) or one by one (reference)."""
    if not fast:
        for arch in archs:
            yield train_reference(arch, seed, data)
        return
    for start in range(0, len(archs), group_size):
        yield from train_stacked(archs[start:start + group_size], seed, data)
