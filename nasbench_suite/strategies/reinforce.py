"""REINFORCE (Williams 1992) with a per-edge categorical policy, as in NAS-Bench-201's baseline."""

from __future__ import annotations

import math

import numpy as np

from nasbench_suite.space import Ops
from nasbench_suite.strategies.base import Context, Hyperparameter, Strategy, Trial, register

INCUMBENTS = ("best", "policy")


@register
class Reinforce(Strategy):
    """A policy of independent softmaxes, one per edge over the 5 ops, trained by REINFORCE.

    As NAS-Bench-201's exps/algos/reinforce.py (D-X-Y/AutoDL-Projects@28e4b840): logits start at
    1e-3 * N(0, 1) (near uniform), the reward is the told value, the baseline is a bias-corrected exponential
    moving average of rewards (momentum 0.9) updated *before* the advantage is taken, and one Adam step
    (torch's defaults: betas 0.9/0.999, eps 1e-8) follows each told reward on the loss
    -log pi(cell) * (reward - baseline). A failed (NaN) run makes no update.

    lr: 0.001, the paper's: scripts-search/algos/REINFORCE.sh hard-codes `--learning_rate 0.001` at
    D-X-Y/AutoDL-Projects@1d5e8deb (later, @bb2f4059, it takes the rate as an argument, usage example
    0.001); NATS-Bench's exps/NATS-algos/reinforce.py is run with 0.01 (`reinforce:lr=0.01`).
    incumbent: "best" is the runner's rule (best seen value; NATS-Bench's version); "policy" answers with
    the policy's most likely cell, `policy.genotype()`, as the NAS-Bench-201 paper's script does (NATS-Bench
    calls it "first version"). Under nb201-paper (500 runs, lr 0.001) "best" scores 93.75 +- 0.34 test accuracy
    and "policy" 93.02 +- 0.96: after 105 steps of lr 0.001 no op has probability above 0.21 (uniform: 0.2).
    """

    name = "reinforce"
    family = "RL"
    paper = "Williams, Machine Learning 1992; settings of Dong & Yang, ICLR 2020 (NAS-Bench-201)"
    hyperparameters = (
        Hyperparameter("lr", 0.001, "Adam learning rate of the policy logits", interval="(0, inf)"),
        Hyperparameter("momentum", 0.9, "EMA momentum of the reward baseline", interval="[0, 1)"),
        Hyperparameter("incumbent", "best", "answer: best seen cell (runner's rule) or the policy's argmax",
                       choices=INCUMBENTS),
    )

    def __init__(self, context: Context, **params) -> None:
        super().__init__(context, **params)
        shape = (self.space.num_positions, self.space.max_choices)
        self.logits = np.where(self.space.value_mask, 1e-3 * self.rng.standard_normal(shape), -np.inf)
        self._m, self._v, self._steps = np.zeros(shape), np.zeros(shape), 0
        self._ema_sum, self._ema_weight = 0.0, 0.0

    def probabilities(self) -> np.ndarray:
        """(edges, ops) probabilities of the current policy."""
        z = np.exp(self.logits - self.logits.max(axis=1, keepdims=True))
        return z / z.sum(axis=1, keepdims=True)

    def ask(self) -> Trial:
        cumulative = self.probabilities().cumsum(axis=1)
        u = self.rng.random(self.space.num_positions)[:, None]
        ops = np.minimum((u > cumulative).sum(axis=1), self.space.choices - 1)
        return self.trial(tuple(int(o) for o in ops))

    def tell(self, trial: Trial, value: float) -> None:
        if math.isnan(value):
            return
        self._ema_sum = self.momentum * self._ema_sum + (1 - self.momentum) * value
        self._ema_weight = self.momentum * self._ema_weight + (1 - self.momentum)
        advantage = value - self._ema_sum / self._ema_weight
        chosen = np.eye(self.space.max_choices)[list(trial.arch)]
        grad = -(chosen - self.probabilities()) * advantage  # d(-log pi * advantage) / d logits
        self._steps += 1
        self._m = 0.9 * self._m + 0.1 * grad
        self._v = 0.999 * self._v + 0.001 * grad**2
        m_hat, v_hat = self._m / (1 - 0.9**self._steps), self._v / (1 - 0.999**self._steps)
        self.logits -= self.lr * m_hat / (np.sqrt(v_hat) + 1e-8)

    def recommend(self) -> Ops | None:
        if self.incumbent == "policy":
            return tuple(int(o) for o in self.logits.argmax(axis=1))
        return None
