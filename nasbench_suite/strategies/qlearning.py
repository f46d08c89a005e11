"""Tabular Q-learning over sequential op choices with epsilon-greedy exploration and experience replay
(MetaQNN, Baker et al. 2017)."""

from __future__ import annotations

import math

import numpy as np

from nasbench_suite.strategies._common import MAX_TRIES
from nasbench_suite.strategies.base import CELLS, SIZE, Context, Hyperparameter, Strategy, Trial, register


@register
class QLearning(Strategy):
    """An agent picks the 6 edge ops in order; the state is (edge, previous op), the reward the told value.

    As in MetaQNN: episodes end in the only non-zero reward, Q is updated with learning rate `alpha` and
    discount 1 by replaying `replay_size` episodes drawn uniformly from the replay memory after every told
    value (each replayed episode's transitions from last to first; the batch is vectorised per step), and
    a cell already evaluated is not asked again: its stored value is replayed and a new episode drawn.
    Epsilon follows MetaQNN's staircase scaled to benchmark budgets: 1.0 for `explore_queries`, then
    0.9, 0.8, ..., 0.1 for `queries_per_epsilon` each, then 0.1. Q starts at the first observed value
    (MetaQNN's 0.5 is mid-range for accuracies in [0, 1]; a benchmark's metric has its own scale). Failed
    (NaN) runs are remembered but not replayed. Defaults: alpha=0.01, replay_size=100 (MetaQNN's),
    explore_queries=50, queries_per_epsilon=10.
    """

    name = "qlearning"
    family = "RL"
    paper = "Baker, Gupta, Naik, Raskar, ICLR 2017 (MetaQNN)"
    hyperparameters = (
        Hyperparameter("alpha", 0.01, "Q-learning rate", interval="(0, 1]"),
        # each told value replays (and allocates about 200 bytes for) every episode: at most 10,000, 100x MetaQNN's
        Hyperparameter("replay_size", 100, "episodes replayed per told value", interval="[1, 10000]"),
        Hyperparameter("explore_queries", 50, "queries at epsilon 1", interval=f"[0, {CELLS}]"),
        Hyperparameter("queries_per_epsilon", 10, "queries per step of the epsilon staircase", interval=SIZE),
    )

    def __init__(self, context: Context, **params) -> None:
        super().__init__(context, **params)
        edges, ops = self.space.num_positions, self.space.max_choices
        self.q: np.ndarray | None = None  # [edge, previous op (ops = start), op]; position p uses ops < choices[p]
        self.shape = (edges, ops + 1, ops)
        self.memory: dict = {}  # cell -> told value
        self.replay_archs = np.empty((64, edges), dtype=np.int64)  # rows [:replayed] are the replay memory
        self.replay_values = np.empty(64)
        self.replayed = 0
        self.asked = 0

    def epsilon(self) -> float:
        """The exploration rate of the next episode."""
        if self.asked < self.explore_queries:
            return 1.0
        step = (self.asked - self.explore_queries) // self.queries_per_epsilon
        return max(0.1, round(0.9 - 0.1 * step, 10))

    def _episode(self) -> tuple[int, ...]:
        epsilon, previous, ops = self.epsilon(), self.space.max_choices, []
        for edge, choices in enumerate(self.space.choices):
            if self.q is None or self.rng.random() < epsilon:
                op = int(self.rng.integers(choices))
            else:
                values = self.q[edge, previous, :choices]
                op = int(self.rng.choice(np.flatnonzero(values == values.max())))
            ops.append(op)
            previous = op
        return tuple(ops)

    def ask(self) -> Trial:
        arch = self._episode()
        for _ in range(MAX_TRIES):
            if arch not in self.memory:
                break
            self._remember(arch, self.memory[arch])
            arch = self._episode()
        self.asked += 1
        return self.trial(arch)

    def tell(self, trial: Trial, value: float) -> None:
        self.memory[trial.arch] = float(value)
        self._remember(trial.arch, float(value))

    def _remember(self, arch: tuple[int, ...], value: float) -> None:
        if math.isnan(value):
            return
        if self.q is None:
            self.q = np.full(self.shape, value)
        if self.replayed == len(self.replay_values):  # grow by doubling: O(1) amortised per remembered episode
            self.replay_archs = np.concatenate([self.replay_archs, np.empty_like(self.replay_archs)])
            self.replay_values = np.concatenate([self.replay_values, np.empty_like(self.replay_values)])
        self.replay_archs[self.replayed], self.replay_values[self.replayed] = arch, value
        self.replayed += 1
        picks = self.rng.integers(self.replayed, size=self.replay_size)
        archs, rewards = self.replay_archs[picks], self.replay_values[picks]
        previous = np.concatenate([np.full((len(picks), 1), self.space.max_choices), archs[:, :-1]], axis=1)
        for edge in reversed(range(self.space.num_positions)):
            if edge == self.space.num_positions - 1:
                target = rewards
            else:
                target = self.q[edge + 1, archs[:, edge], :self.space.choices[edge + 1]].max(axis=1)
            current = self.q[edge, previous[:, edge], archs[:, edge]]
            np.add.at(self.q, (edge, previous[:, edge], archs[:, edge]), self.alpha * (target - current))
