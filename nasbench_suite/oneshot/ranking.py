"""How well a trained supernet ranks cells: Kendall tau between the supernet's accuracy of sampled cells
(inherited weights, BatchNorm statistics recalibrated per cell) and the cells' NAS-Bench-201 `test_acc@200`.

The measurement weight-sharing studies use to judge a supernet (e.g. Yu et al. 2020, "Evaluating the search
phase of NAS"): a supernet whose accuracies order cells like stand-alone training does is useful for search.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from scipy import stats
from torch import nn

from nasbench_suite.errors import UserInputError
from nasbench_suite.oneshot.methods import Batch
from nasbench_suite.oneshot.search import (
    Batches,
    SearchData,
    build_supernet,
    device_images,
    load_checkpoint,
    resolve_device,
)
from nasbench_suite.oneshot.supernet import Supernet, supernet_logits
from nasbench_suite.space import NB201
from nasbench_suite.table import Table


@dataclass
class Ranking:
    """Per-cell supernet accuracy (%) next to the table's test_acc@200 (%), and their rank correlations."""

    indices: np.ndarray
    supernet_acc: np.ndarray
    test_acc_200: np.ndarray
    kendall_tau: float
    kendall_p: float
    spearman_rho: float

    def rows(self) -> list[dict[str, Any]]:
        return [{"index": int(i), "arch": NB201.to_str(int(i)), "supernet_acc": float(s), "test_acc_200": float(t)}
                for i, s, t in zip(self.indices, self.supernet_acc, self.test_acc_200)]


def sample_cells(n: int, seed: int = 0) -> np.ndarray:
    """`n` distinct canonical cells (one representative per isomorphism class), drawn uniformly with `seed`."""
    unique = NB201.unique_indices()
    if not 2 <= n <= len(unique):
        raise UserInputError(f"--cells must be between 2 and {len(unique)} (canonical NB201 cells), got {n}")
    return np.sort(np.random.default_rng(seed).choice(unique, n, replace=False))


def recalibrate_bn(net: nn.Module, arch: Sequence[int], batches: Sequence[Batch], bf16: bool = False) -> None:
    """Reset every running-statistics BatchNorm and re-estimate it as the plain average over `batches`, computed
    with `arch`'s ops (training-mode forwards, no gradients); the BN momenta are restored afterwards."""
    norms = [m for m in net.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm) and m.track_running_stats]
    if not norms:
        raise UserInputError("the supernet's BatchNorm layers keep no running statistics; nothing to recalibrate")
    momenta = [m.momentum for m in norms]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # cumulative moving average: every batch counts equally
    net.train()
    with torch.no_grad():
        for x, _ in batches:
            supernet_logits(net, x, bf16, arch=arch)
    for m, momentum in zip(norms, momenta):
        m.momentum = momentum


@torch.inference_mode()
def accuracy(net: nn.Module, arch: Sequence[int], batches: Sequence[Batch], bf16: bool = False) -> float:
    """Top-1 accuracy (%) of one cell with the shared weights over `batches`, BN in eval mode."""
    net.eval()
    correct = total = 0
    for x, y in batches:
        correct += int((supernet_logits(net, x, bf16, arch=arch).argmax(1) == y).sum())
        total += len(y)
    return 100.0 * correct / total


def rank_supernet(net: Supernet, cells: np.ndarray, recal: Sequence[Batch], evaluate: Sequence[Batch],
                  table: Table, bf16: bool = False) -> Ranking:
    """Each cell's supernet accuracy on `evaluate` after recalibrating BN on `recal` (the same batches for every
    cell), paired by index with the table's test_acc@200."""
    ours, truth = [], []
    for index in cells:
        arch = NB201.to_ops(int(index))
        recalibrate_bn(net, arch, recal, bf16)
        ours.append(accuracy(net, arch, evaluate, bf16))
        truth.append(table.query(int(index), "test_acc", 200))
    ours_a, truth_a = np.asarray(ours), np.asarray(truth)
    if np.ptp(ours_a) == 0 or np.ptp(truth_a) == 0:  # a constant ranking: the correlations are undefined
        return Ranking(np.asarray(cells), ours_a, truth_a, math.nan, math.nan, math.nan)
    tau, p = stats.kendalltau(ours_a, truth_a)
    return Ranking(np.asarray(cells), ours_a, truth_a, float(tau), float(p),
                   float(stats.spearmanr(ours_a, truth_a).statistic))


def rank_checkpoint(checkpoint: str | os.PathLike, data: SearchData, table: Table, cells: int = 200,
                    seed: int = 0, recal_batches: int = 4, eval_images: int = 1024, device: str = "cpu"
                    ) -> dict[str, Any]:
    """The ranking measurement for a search checkpoint: `cells` canonical cells, BN recalibrated on
    `recal_batches` training batches of the run's batch size, accuracy on `eval_images` fixed valid images
    (un-augmented, at the run's resolution). Returns the figures, the setting and one row per cell."""
    path = Path(checkpoint)
    if not path.is_file():
        raise UserInputError(f"no checkpoint at {path} (expected a run's checkpoint.pt)")
    if recal_batches < 1 or eval_images < 1:
        raise UserInputError("--recal-batches and --eval-images must be >= 1")
    indices = sample_cells(cells, seed)
    dev = resolve_device(device)
    state, config = load_checkpoint(path, dev)
    tic = time.perf_counter()
    num_classes = int(data.labels.max()) + 1
    data = data.subset(config)
    net = build_supernet(config, num_classes, dev)
    net.load_state_dict(state["net"])
    images, labels = device_images(data, config, dev)
    gen = torch.Generator().manual_seed(seed)
    batch = min(config.batch_size, len(data.train))
    train = Batches(images, labels, data.train, batch, gen, False, config.channels_last)
    recal = [next(train) for _ in range(recal_batches)]
    n_eval = min(eval_images, len(data.valid))
    evaluate = [next(Batches(images, labels, data.valid, n_eval, gen, False, config.channels_last))]  # one batch
    ranking = rank_supernet(net, indices, recal, evaluate, table, config.precision == "bf16")
    return {"checkpoint": str(path), "method": config.method, "setting": config.setting, "seed": config.seed,
            "epochs_done": state["epochs_done"], "epochs_planned": config.epochs, "cells": cells,
            "sample_seed": seed, "recal_batches": recal_batches, "recal_batch_size": batch,
            "eval_images": n_eval,
            "kendall_tau": ranking.kendall_tau, "kendall_p": ranking.kendall_p,
            "spearman_rho": ranking.spearman_rho, "seconds": round(time.perf_counter() - tic, 3),
            "rows": ranking.rows()}
