"""REINFORCE (Williams 1992) with a per-edge categorical policy, as in NAS-Bench-201's baseline."""

from __future__ import annotations

import math

import numpy as np

from nasbench_suite.errors import UserInputError
from nasbench_suite.strategies.base import Context, Strategy, Trial, register


@register
class Reinforce(Strategy):
    """A policy of independent softmaxes, one per edge over the 5 ops, trained by REINFORCE.

    Following NAS-Bench-201's script: logits start at 1e-3 * N(0, 1) (near uniform), the reward is the told
    value, the baseline is a bias-corrected exponential moving average of rewards updated *before* the
    advantage is taken, and one Adam step (learning rate `lr`, betas 0.9/0.999) follows each told reward on the loss
    -log pi(cell) * (reward - baseline). The gradient is taken at the current policy. A failed (NaN) run
    makes no update. Defaults are NAS-Bench-201's: lr=0.5, momentum=0.9.
    """

    name = "reinforce"

    def __init__(self, context: Context, lr: float = 0.5, momentum: float = 0.9, **hyperparameters) -> None:
        super().__init__(context, **hyperparameters)
        if lr <= 0 or not 0 <= momentum < 1:
            raise UserInputError(f"reinforce needs lr > 0 and 0 <= momentum < 1, got {lr} and {momentum}")
        self.lr, self.momentum = float(lr), float(momentum)
        shape = (self.space.num_edges, self.space.num_ops)
        self.logits = 1e-3 * self.rng.standard_normal(shape)
        self._m, self._v, self._steps = np.zeros(shape), np.zeros(shape), 0
        self._ema_sum, self._ema_weight = 0.0, 0.0

    def probabilities(self) -> np.ndarray:
        """(edges, ops) probabilities of the current policy."""
        z = np.exp(self.logits - self.logits.max(axis=1, keepdims=True))
        return z / z.sum(axis=1, keepdims=True)

    def ask(self) -> Trial:
        cumulative = self.probabilities().cumsum(axis=1)
        u = self.rng.random(self.space.num_edges)[:, None]
        ops = (u > cumulative).sum(axis=1).clip(max=self.space.num_ops - 1)
        return self.trial(tuple(int(o) for o in ops))

    def tell(self, trial: Trial, value: float) -> None:
        if math.isnan(value):
            return
        self._ema_sum = self.momentum * self._ema_sum + (1 - self.momentum) * value
        self._ema_weight = self.momentum * self._ema_weight + (1 - self.momentum)
        advantage = value - self._ema_sum / self._ema_weight
        chosen = np.eye(self.space.num_ops)[list(trial.arch)]
        grad = -(chosen - self.probabilities()) * advantage  # d(-log pi * advantage) / d logits
        self._steps += 1
        self._m = 0.9 * self._m + 0.1 * grad
        self._v = 0.999 * self._v + 0.001 * grad**2
        m_hat, v_hat = self._m / (1 - 0.9**self._steps), self._v / (1 - 0.999**self._steps)
        self.logits -= self.lr * m_hat / (np.sqrt(v_hat) + 1e-8)
