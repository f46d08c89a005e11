"""Weight-sharing search methods on the NAS-Bench-201 supernet: DARTS (1st/2nd order), GDAS, RSPS, ENAS.

Each method owns its architecture state (alphas or a controller) and the weight optimizer, and follows the
defaults of NAS-Bench-201's reference runs (AutoDL-Projects `configs/nas-benchmark/algos/*.config`): SGD
Nesterov momentum 0.9, cosine lr to eta_min, weight decay 5e-4, gradient-norm clip 5; architecture Adam
lr 3e-4, betas (0.5, 0.999), weight decay 1e-3. Every random draw uses the `torch.Generator` passed in.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from nasbench_suite.errors import UserInputError
from nasbench_suite.oneshot.supernet import Supernet
from nasbench_suite.space.nb201 import NUM_EDGES, NUM_OPS, Ops

Batch = tuple[torch.Tensor, torch.Tensor]
CLIP = 5.0


@dataclass(frozen=True)
class WeightSchedule:
    """SGD for the shared weights: cosine from `lr` to `eta_min` over the search, per step."""

    lr: float = 0.025
    eta_min: float = 0.001
    weight_decay: float = 5e-4
    momentum: float = 0.9


class SearchMethod:
    """One search method: a weight step per batch pair, an architecture update if it has one, and a rule
    that derives the discrete cell."""

    name = ""
    schedule = WeightSchedule()

    def __init__(self, net: Supernet, epochs: int, steps_per_epoch: int, device: torch.device,
                 seed: int = 0) -> None:
        self.net = net
        self.epochs = epochs
        self.steps_per_epoch = steps_per_epoch
        self.device = device
        s = self.schedule
        self.w_optimizer = torch.optim.SGD(net.weight_parameters(), lr=s.lr, momentum=s.momentum,
                                           weight_decay=s.weight_decay, nesterov=True)
        self.epoch = 0

    # ---- per-epoch / per-step ----------------------------------------------------------------------
    def start_epoch(self, epoch: int) -> None:
        """Called before an epoch's steps (schedules that change per epoch, e.g. GDAS's temperature)."""
        self.epoch = epoch

    def set_lr(self, step: int) -> None:
        """Cosine annealing of the weight lr, updated every step."""
        s = self.schedule
        t = (self.epoch + step / self.steps_per_epoch) / self.epochs
        lr = s.eta_min + 0.5 * (s.lr - s.eta_min) * (1 + math.cos(math.pi * t))
        for group in self.w_optimizer.param_groups:
            group["lr"] = lr

    def step(self, train: Batch, valid: Batch, gen: torch.Generator) -> dict[str, float]:
        """One search step on a train batch (weights) and a valid batch (architecture)."""
        raise NotImplementedError

    def derive(self, valid: Iterator[Batch], gen: torch.Generator) -> Ops:
        """The discrete cell this method picks now."""
        raise NotImplementedError

    def end_epoch(self, valid: Iterator[Batch], gen: torch.Generator) -> dict[str, float]:
        """Work a method does once per epoch after its weight steps (ENAS trains its controller here)."""
        return {}

    # ---- helpers -----------------------------------------------------------------------------------
    def weight_step(self, batch: Batch, weights: torch.Tensor | None = None, arch: Ops | None = None) -> dict:
        x, y = batch
        self.net.train()
        self.w_optimizer.zero_grad(set_to_none=True)
        logits = self.net(x, weights=weights, arch=arch)
        loss = F.cross_entropy(logits, y)
        loss.backward()
        nn.utils.clip_grad_norm_(self.net.weight_parameters(), CLIP)
        self.w_optimizer.step()
        return {"loss": float(loss.detach()), "acc": float((logits.argmax(1) == y).float().mean())}

    @torch.no_grad()
    def accuracy(self, batch: Batch, arch: Ops) -> float:
        """Accuracy of one discrete cell with the shared weights on one batch."""
        self.net.eval()
        x, y = batch
        return float((self.net(x, arch=arch).argmax(1) == y).float().mean())

    def state_dict(self) -> dict[str, Any]:
        return {"w_optimizer": self.w_optimizer.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.w_optimizer.load_state_dict(state["w_optimizer"])

class AlphaMethod(SearchMethod):
    """Methods with [6, 5] architecture logits shared by all cells, trained by Adam; derive = argmax per edge."""

    def __init__(self, net: Supernet, epochs: int, steps_per_epoch: int, device: torch.device,
                 seed: int = 0) -> None:
        super().__init__(net, epochs, steps_per_epoch, device, seed)
        init = torch.Generator().manual_seed(seed)
        self.alphas = nn.Parameter(1e-3 * torch.randn(NUM_EDGES, NUM_OPS, generator=init).to(device))
        self.a_optimizer = torch.optim.Adam([self.alphas], lr=3e-4, betas=(0.5, 0.999), weight_decay=1e-3)

    def derive(self, valid: Iterator[Batch], gen: torch.Generator) -> Ops:
        return tuple(int(o) for o in self.alphas.detach().argmax(dim=1).cpu())

    def state_dict(self) -> dict[str, Any]:
        return {**super().state_dict(), "alphas": self.alphas.detach().clone(),
                "a_optimizer": self.a_optimizer.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        super().load_state_dict(state)
        with torch.no_grad():
            self.alphas.copy_(state["alphas"])
        self.a_optimizer.load_state_dict(state["a_optimizer"])


class DARTS(AlphaMethod):
    """DARTS (Liu et al. 2019): softmax-relaxed edges; first order takes the architecture gradient at the
    current weights, second order through one unrolled weight step (finite-difference Hessian-vector product)."""

    name = "darts"

    def __init__(self, net: Supernet, epochs: int, steps_per_epoch: int, device: torch.device, seed: int = 0,
                 second_order: bool = False) -> None:
        super().__init__(net, epochs, steps_per_epoch, device, seed)
        self.second_order = second_order
        self.name = "darts2" if second_order else "darts"

    def step(self, train: Batch, valid: Batch, gen: torch.Generator) -> dict[str, float]:
        self.net.train()
        self.a_optimizer.zero_grad(set_to_none=True)
        if self.second_order:
            self.alphas.grad = self._unrolled_grad(train, valid)
        else:
            F.cross_entropy(self.net(valid[0], weights=self.alphas.softmax(1)), valid[1]).backward()
        self.a_optimizer.step()
        return self.weight_step(train, weights=self.alphas.softmax(1).detach())

    def _loss(self, batch: Batch) -> torch.Tensor:
        return F.cross_entropy(self.net(batch[0], weights=self.alphas.softmax(1)), batch[1])

    def _unrolled_grad(self, train: Batch, valid: Batch) -> torch.Tensor:
        """d L_val(w - xi grad_w L_train(w, a), a) / d a, with xi = the current weight lr (DARTS eq. 7-8)."""
        params = self.net.weight_parameters()
        group = self.w_optimizer.param_groups[0]
        xi, wd, momentum = group["lr"], group["weight_decay"], group["momentum"]
        backup = [p.detach().clone() for p in params]
        grads = torch.autograd.grad(self._loss(train), params, allow_unused=True)
        with torch.no_grad():  # one virtual SGD step, with the optimizer's momentum as in DARTS
            for p, g in zip(params, grads):
                buf = self.w_optimizer.state.get(p, {}).get("momentum_buffer")
                d = (0 if g is None else g) + wd * p
                p.sub_(xi * (d + (momentum * buf if buf is not None else 0)))
        val_loss = self._loss(valid)
        g_alpha, *g_w = torch.autograd.grad(val_loss, [self.alphas, *params], allow_unused=True)
        g_w = [torch.zeros_like(p) if g is None else g for p, g in zip(params, g_w)]
        eps = 0.01 / torch.sqrt(sum((g * g).sum() for g in g_w)).clamp_min(1e-12)
        hessian = []
        for sign in (1.0, -1.0):  # grad_a L_train at w + eps v and at w - eps v
            with torch.no_grad():
                for p, b, g in zip(params, backup, g_w):
                    p.copy_(b + sign * eps * g)
            hessian.append(torch.autograd.grad(self._loss(train), self.alphas)[0])
        with torch.no_grad():
            for p, b in zip(params, backup):
                p.copy_(b)
        return (g_alpha - xi * (hessian[0] - hessian[1]) / (2 * eps)).detach()


class GDAS(AlphaMethod):
    """GDAS (Dong & Yang 2019): one Gumbel-softmax hard sample per forward (straight-through), only the
    sampled op runs; temperature decays linearly from 10 to 0.1 over the search."""

    name = "gdas"
    tau_max, tau_min = 10.0, 0.1

    def start_epoch(self, epoch: int) -> None:
        super().start_epoch(epoch)
        self.tau = self.tau_max - (self.tau_max - self.tau_min) * epoch / max(self.epochs - 1, 1)

    def sample(self, gen: torch.Generator) -> tuple[torch.Tensor, Ops]:
        """Hard one-hot weights with soft gradients, and the sampled cell."""
        uniform = torch.rand(self.alphas.shape, generator=gen).to(self.device).clamp(1e-10, 1 - 1e-10)
        gumbels = -torch.log(-torch.log(uniform))
        probs = ((self.alphas.log_softmax(1) + gumbels) / self.tau).softmax(1)
        index = probs.argmax(1)
        hard = F.one_hot(index, NUM_OPS).to(probs.dtype) - probs.detach() + probs
        return hard, tuple(int(i) for i in index.cpu())

    def step(self, train: Batch, valid: Batch, gen: torch.Generator) -> dict[str, float]:
        hard, arch = self.sample(gen)
        stats = self.weight_step(train, weights=hard.detach(), arch=arch)
        self.net.train()
        self.a_optimizer.zero_grad(set_to_none=True)
        hard, arch = self.sample(gen)
        F.cross_entropy(self.net(valid[0], weights=hard, arch=arch), valid[1]).backward()
        self.a_optimizer.step()
        return stats

class RSPS(SearchMethod):
    """Random search with parameter sharing (Li & Talwalkar 2019): each step trains one uniformly sampled
    cell; derive = the best of `samples` random cells on one valid batch each (NB201 used 100)."""

    name = "rsps"

    def __init__(self, net: Supernet, epochs: int, steps_per_epoch: int, device: torch.device, seed: int = 0,
                 samples: int = 100) -> None:
        super().__init__(net, epochs, steps_per_epoch, device, seed)
        self.samples = samples

    def step(self, train: Batch, valid: Batch, gen: torch.Generator) -> dict[str, float]:
        return self.weight_step(train, arch=_uniform_arch(gen))

    def derive(self, valid: Iterator[Batch], gen: torch.Generator) -> Ops:
        return _best_on_valid(self, [_uniform_arch(gen) for _ in range(self.samples)], valid)


class Controller(nn.Module):
    """ENAS's LSTM controller for NB201: one op per edge, logits = tanh_constant * tanh(logits / temperature)."""

    def __init__(self, hidden: int = 32, layers: int = 2, tanh_constant: float = 2.5, temperature: float = 5.0,
                 seed: int = 0) -> None:
        super().__init__()
        self.tanh_constant, self.temperature = tanh_constant, temperature
        self.start = nn.Parameter(torch.empty(1, 1, hidden))
        self.lstm = nn.LSTM(hidden, hidden, layers)
        self.embed = nn.Embedding(NUM_OPS, hidden)
        self.pred = nn.Linear(hidden, NUM_OPS)
        gen = torch.Generator().manual_seed(seed)
        with torch.no_grad():
            for p in self.parameters():
                p.copy_(torch.empty_like(p).uniform_(-0.1, 0.1, generator=gen))

    def forward(self, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor, Ops]:
        """Sample a cell: (sum of log-probs, sum of entropies, op ids)."""
        inputs, state = self.start, None
        log_prob, entropy, ops = 0.0, 0.0, []
        for _ in range(NUM_EDGES):
            out, state = self.lstm(inputs, state)
            logits = self.tanh_constant * torch.tanh(self.pred(out[-1, 0]) / self.temperature)
            probs = logits.softmax(-1)
            op = int(torch.multinomial(probs.detach().cpu(), 1, generator=gen))
            log_prob = log_prob + logits.log_softmax(-1)[op]
            entropy = entropy - (probs * logits.log_softmax(-1)).sum()
            ops.append(op)
            inputs = self.embed(torch.tensor([[op]], device=logits.device))
        return log_prob, entropy, tuple(ops)


class ENAS(SearchMethod):
    """ENAS (Pham et al. 2018): shared weights trained on controller samples for an epoch, then the controller
    by REINFORCE on valid-batch accuracy (entropy bonus 1e-4, EMA baseline decay 0.99, Adam lr 1e-3 betas (0, 0.999)
    eps 1e-3); derive = best of `samples` controller samples on one valid batch each."""

    name = "enas"
    schedule = WeightSchedule(lr=0.05, eta_min=0.0005, weight_decay=2.5e-4)

    def __init__(self, net: Supernet, epochs: int, steps_per_epoch: int, device: torch.device, seed: int = 0,
                 controller_steps: int = 50, aggregate: int = 20, samples: int = 100) -> None:
        super().__init__(net, epochs, steps_per_epoch, device, seed)
        self.controller = Controller(seed=seed).to(device)
        self.c_optimizer = torch.optim.Adam(self.controller.parameters(), lr=1e-3, betas=(0.0, 0.999), eps=1e-3)
        self.controller_steps, self.aggregate, self.samples = controller_steps, aggregate, samples
        self.baseline: float | None = None
        self.entropy_weight, self.baseline_decay = 1e-4, 0.99

    def step(self, train: Batch, valid: Batch, gen: torch.Generator) -> dict[str, float]:
        with torch.no_grad():
            arch = self.controller(gen)[2]
        return self.weight_step(train, arch=arch)

    def end_epoch(self, valid: Iterator[Batch], gen: torch.Generator) -> dict[str, float]:
        rewards = []
        self.controller.train()
        for _ in range(self.controller_steps):
            self.c_optimizer.zero_grad(set_to_none=True)
            for _ in range(self.aggregate):
                log_prob, entropy, arch = self.controller(gen)
                reward = self.accuracy(next(valid), arch) + self.entropy_weight * float(entropy.detach())
                self.baseline = reward if self.baseline is None else (
                    self.baseline_decay * self.baseline + (1 - self.baseline_decay) * reward)
                (-log_prob * (reward - self.baseline) / self.aggregate).backward()
                rewards.append(reward)
            nn.utils.clip_grad_norm_(self.controller.parameters(), CLIP)
            self.c_optimizer.step()
        return {"controller_reward": sum(rewards) / max(len(rewards), 1)}

    def derive(self, valid: Iterator[Batch], gen: torch.Generator) -> Ops:
        with torch.no_grad():
            candidates = [self.controller(gen)[2] for _ in range(self.samples)]
        return _best_on_valid(self, candidates, valid)

    def state_dict(self) -> dict[str, Any]:
        return {**super().state_dict(), "controller": self.controller.state_dict(),
                "c_optimizer": self.c_optimizer.state_dict(), "baseline": self.baseline}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        super().load_state_dict(state)
        self.controller.load_state_dict(state["controller"])
        self.c_optimizer.load_state_dict(state["c_optimizer"])
        self.baseline = state["baseline"]


METHODS: dict[str, str] = {
    "darts": "DARTS, first order (DARTS-V1)",
    "darts2": "DARTS, second order (DARTS-V2)",
    "gdas": "GDAS, Gumbel-softmax hard sampling",
    "rsps": "random sampling with parameter sharing (Li & Talwalkar)",
    "enas": "ENAS, LSTM controller with shared weights",
}


def make_method(name: str, net: Supernet, epochs: int, steps_per_epoch: int, device: torch.device, seed: int = 0,
                samples: int = 100, controller_steps: int = 50, aggregate: int = 20) -> SearchMethod:
    """A search method by name (one of METHODS); `samples` is the number of candidates RSPS/ENAS rank."""
    args = (net, epochs, steps_per_epoch, device, seed)
    if name in ("darts", "darts2"):
        return DARTS(*args, second_order=name == "darts2")
    if name == "gdas":
        return GDAS(*args)
    if name == "rsps":
        return RSPS(*args, samples=samples)
    if name == "enas":
        return ENAS(*args, controller_steps=controller_steps, aggregate=aggregate, samples=samples)
    raise UserInputError(f"unknown one-shot method {name!r}; valid: {', '.join(METHODS)}")


def _uniform_arch(gen: torch.Generator) -> Ops:
    return tuple(int(o) for o in torch.randint(NUM_OPS, (NUM_EDGES,), generator=gen))


def _best_on_valid(method: SearchMethod, candidates: list[Ops], valid: Iterator[Batch]) -> Ops:
    """The candidate with the highest shared-weight accuracy, each on its own next valid batch (first wins ties)."""
    scores = [method.accuracy(next(valid), arch) for arch in candidates]
    return candidates[max(range(len(scores)), key=scores.__getitem__)]
