"""Helpers shared by several strategies: NaN handling, unseen sampling, the batch model-based base class."""

from __future__ import annotations

import math
from abc import abstractmethod
from collections.abc import Collection

import numpy as np

from nasbench_suite.errors import UserInputError
from nasbench_suite.space import Ops, Space
from nasbench_suite.strategies._models import one_thread
from nasbench_suite.strategies.base import SIZE, Context, Hyperparameter, Strategy, Trial

MAX_TRIES = 100  # draws before accepting a repeated cell (the space is finite)


def fitness(value: float) -> float:
    """A told value as a selection key: NaN (a failed run) ranks below everything."""
    return -math.inf if math.isnan(value) else float(value)


def pop_pending(pending: list, trial: Trial, name: str):
    """Remove and return the bookkeeping stored with an asked trial; a trial never asked is a clear error."""
    position = next((i for i, (t, _) in enumerate(pending) if t == trial), None)
    if position is None:
        raise UserInputError(f"{name} was told a trial it did not ask: {trial}")
    return pending.pop(position)[1]


def sample_unseen(space: Space, rng: np.random.Generator, seen: Collection[Ops]) -> Ops:
    """A uniform cell not in `seen`, or a repeat after MAX_TRIES draws (the space is finite); once every cell
    is in `seen`, the first draw (no MAX_TRIES wasted draws per ask: a long run stays O(1) per query)."""
    arch = space.sample(rng)
    if len(seen) >= space.size:
        return arch
    for _ in range(MAX_TRIES):
        if arch not in seen:
            break
        arch = space.sample(rng)
    return arch


def standardise(y: np.ndarray) -> np.ndarray:
    """Zero-mean unit-variance targets (NaNs become the worst finite value) so models see one scale."""
    y = np.asarray(y, dtype=np.float64)
    finite = np.isfinite(y)
    y = np.where(finite, y, y[finite].min() if finite.any() else 0.0)
    std = y.std()
    return (y - y.mean()) / (std if std > 0 else 1.0)


class BatchStrategy(Strategy):
    """Base for model-based strategies: `num_init` uniform cells, then batches of `batch_size` cells from
    `propose`, refitting the model once per batch. Never asks a cell twice."""

    family = "model-based"
    hyperparameters = (
        Hyperparameter("num_init", 10, "uniform cells before the first model", interval=SIZE),
        Hyperparameter("batch_size", 1, "cells asked per model fit", interval=SIZE),
    )

    def __init__(self, context: Context, **params) -> None:
        super().__init__(context, **params)
        self.archs: list[Ops] = []
        self.values: list[float] = []
        self.asked: set[Ops] = set()
        self.queue: list[Ops] = []

    @abstractmethod
    def propose(self) -> list[Ops]:
        """Up to batch_size unasked cells chosen by the model fit on (self.archs, self.values)."""

    def ask(self) -> Trial:
        if not self.queue:
            if len(self.archs) >= self.num_init and np.isfinite(self.values).sum() >= 2:
                with one_thread():
                    self.queue = self.propose()
            if not self.queue:
                self.queue = [sample_unseen(self.space, self.rng, self.asked)]
        arch = self.queue.pop(0)
        self.asked.add(arch)
        return self.trial(arch)

    def tell(self, trial: Trial, value: float) -> None:
        self.archs.append(trial.arch)
        self.values.append(float(value))

    def top(self, count: int) -> list[Ops]:
        """The `count` best cells told so far."""
        order = sorted(range(len(self.archs)), key=lambda i: fitness(self.values[i]), reverse=True)
        return [self.archs[i] for i in order[:count]]
