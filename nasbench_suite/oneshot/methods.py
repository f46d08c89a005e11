"""Weight-sharing search methods on the NAS-Bench-201 supernet: DARTS (1st/2nd order), GDAS, RSPS, ENAS.

Each method owns its architecture state (alphas or a controller) and the weight optimizer, and follows
NAS-Bench-201's reference code (D-X-Y/AutoDL-Projects; configs/nas-benchmark/algos/*.config @ a84f483 and
44a0d51, exps/algos/*.py @ 0630867 and 233a829, scripts-search/algos/*.sh @ 654015b): SGD Nesterov momentum
0.9, weight decay 5e-4, gradient-norm clip 5, lr cosine-annealed *per epoch* (lib/procedures/optimizers.py
CosineAnnealingLR @ 0c56a72: constant within an epoch, T_max = the epochs unless a config names it);
architecture Adam lr 3e-4, betas (0.5, 0.999), weight decay 1e-3. Every random draw uses the generator passed in.
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
from nasbench_suite.oneshot.supernet import Supernet, supernet_logits
from nasbench_suite.space.nb201 import NUM_EDGES, NUM_OPS, Ops

Batch = tuple[torch.Tensor, torch.Tensor]
CLIP = 5.0


@dataclass(frozen=True)
class WeightSchedule:
    """SGD for the shared weights: lr at epoch e = eta_min + (lr - eta_min) (1 + cos(pi e / T_max)) / 2, held for
    the epoch (AutoDL-Projects' CosineAnnealingLR); `t_max` None = the search's epochs."""

    lr: float = 0.025
    eta_min: float = 0.001
    weight_decay: float = 5e-4
    momentum: float = 0.9
    t_max: int | None = None

    def lr_at(self, epoch: int, epochs: int) -> float:
        """The weight lr of a (0-based) epoch."""
        t_max = self.t_max or epochs
        return self.eta_min + 0.5 * (self.lr - self.eta_min) * (1 + math.cos(math.pi * epoch / t_max))


class SearchMethod:
    """One search method: a weight step per batch pair, an architecture update if it has one, and a rule
    that derives the discrete cell."""

    name = ""
    schedule = WeightSchedule()

    def __init__(self, net: Supernet, epochs: int, steps_per_epoch: int, device: torch.device,
                 seed: int = 0, precision: str = "fp32") -> None:
        self.net = net
        self.epochs = epochs
        self.steps_per_epoch = steps_per_epoch
        self.device = device
        self.bf16 = precision == "bf16"
        s = self.schedule
        self.w_optimizer = torch.optim.SGD(net.weight_parameters(), lr=s.lr, momentum=s.momentum,
                                           weight_decay=s.weight_decay, nesterov=True)
        self.epoch = 0

    # ---- per-epoch / per-step ----------------------------------------------------------------------
    def start_epoch(self, epoch: int) -> None:
        """Called before an epoch's steps: sets the epoch's weight lr (and per-epoch schedules, e.g. GDAS's tau)."""
        self.epoch = epoch
        for group in self.w_optimizer.param_groups:
            group["lr"] = self.schedule.lr_at(epoch, self.epochs)

    def step(self, train: Batch, valid: Batch, gen: torch.Generator) -> dict[str, float]:
        """One search step on a train batch (weights) and a valid batch (architecture)."""
        raise NotImplementedError

    def derive(self, valid: Iterator[Batch], gen: torch.Generator) -> Ops:
        """The discrete cell this method picks now."""
        raise NotImplementedError

    def end_epoch(self, valid: Iterator[Batch], gen: torch.Generator) -> dict[str, float]:
        """Work a method does once per epoch after its weight steps (ENAS trains its controller here)."""
        return {}

    def edge_entropy(self, gen: torch.Generator) -> list[float]:
        """Entropy (nats) of the method's op distribution on each of the 6 edges; log 5 = uniform. RSPS samples
        uniformly by design, so its entropy stays log 5."""
        return [math.log(NUM_OPS)] * NUM_EDGES

    # ---- helpers -----------------------------------------------------------------------------------
    def forward(self, x: torch.Tensor, weights: torch.Tensor | None = None, arch: Ops | None = None
                ) -> torch.Tensor:
        """Supernet logits (fp32), under bf16 autocast when the run asked for it."""
        return supernet_logits(self.net, x, self.bf16, weights=weights, arch=arch)

    def weight_step(self, batch: Batch, weights: torch.Tensor | None = None, arch: Ops | None = None) -> dict:
        x, y = batch
        self.net.train()
        self.w_optimizer.zero_grad(set_to_none=True)
        logits = self.forward(x, weights=weights, arch=arch)
        loss = F.cross_entropy(logits, y)
        loss.backward()
        nn.utils.clip_grad_norm_(self.net.weight_parameters(), CLIP)
        self.w_optimizer.step()
        return {"loss": float(loss.detach()), "acc": float((logits.argmax(1) == y).float().mean())}

    @torch.inference_mode()
    def accuracy(self, batch: Batch, arch: Ops) -> float:
        """Accuracy (fraction) of one discrete cell with the shared weights on one batch, BN in eval mode."""
        self.net.eval()
        x, y = batch
        return float((self.forward(x, arch=arch).argmax(1) == y).float().mean())

    def state_dict(self) -> dict[str, Any]:
        return {"w_optimizer": self.w_optimizer.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.w_optimizer.load_state_dict(state["w_optimizer"])

class AlphaMethod(SearchMethod):
    """Methods with [6, 5] architecture logits shared by all cells, trained by Adam; derive = argmax per edge."""

    def __init__(self, net: Supernet, epochs: int, steps_per_epoch: int, device: torch.device,
                 seed: int = 0, precision: str = "fp32") -> None:
        super().__init__(net, epochs, steps_per_epoch, device, seed, precision)
        init = torch.Generator().manual_seed(seed)
        self.alphas = nn.Parameter(1e-3 * torch.randn(NUM_EDGES, NUM_OPS, generator=init).to(device))
        self.a_optimizer = torch.optim.Adam([self.alphas], lr=3e-4, betas=(0.5, 0.999), weight_decay=1e-3)

    def derive(self, valid: Iterator[Batch], gen: torch.Generator) -> Ops:
        return tuple(int(o) for o in self.alphas.detach().argmax(dim=1).cpu())

    def edge_entropy(self, gen: torch.Generator) -> list[float]:
        return entropy(self.alphas.detach().float().cpu().log_softmax(1)).tolist()

    def state_dict(self) -> dict[str, Any]:
        return {**super().state_dict(), "alphas": self.alphas.detach().clone(),
                "a_optimizer": self.a_optimizer.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        super().load_state_dict(state)
        with torch.no_grad():
            self.alphas.copy_(state["alphas"])
        self.a_optimizer.load_state_dict(state["a_optimizer"])


class DARTS(AlphaMethod):
    """DARTS (Liu et al. 2019): softmax-relaxed edges. First order (DARTS-V1.py @ 0630867): a weight step on the
    train batch, then an architecture step on the valid batch at the updated weights. Second order (DARTS-V2.py
    @ 0630867): the architecture step first, through one unrolled weight step (finite-difference
    Hessian-vector product), then the weight step."""

    name = "darts"

    def __init__(self, net: Supernet, epochs: int, steps_per_epoch: int, device: torch.device, seed: int = 0,
                 precision: str = "fp32", second_order: bool = False) -> None:
        super().__init__(net, epochs, steps_per_epoch, device, seed, precision)
        self.second_order = second_order
        self.name = "darts2" if second_order else "darts"

    def step(self, train: Batch, valid: Batch, gen: torch.Generator) -> dict[str, float]:
        if not self.second_order:  # V1: weights, then the architecture at the updated weights
            stats = self.weight_step(train, weights=self.alphas.softmax(1).detach())
            self._arch_step(train, valid)
            return stats
        self._arch_step(train, valid)  # V2: the architecture through the unrolled step, then the weights
        return self.weight_step(train, weights=self.alphas.softmax(1).detach())

    def _arch_step(self, train: Batch, valid: Batch) -> None:
        self.net.train()
        self.a_optimizer.zero_grad(set_to_none=True)
        if self.second_order:
            self.alphas.grad = self._unrolled_grad(train, valid)
        else:
            self._loss(valid).backward()
        self.a_optimizer.step()

    def _loss(self, batch: Batch) -> torch.Tensor:
        return F.cross_entropy(self.forward(batch[0], weights=self.alphas.softmax(1)), batch[1])

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
    """GDAS (Dong & Yang 2019; exps/algos/GDAS.py @ 233a829): one Gumbel-softmax hard sample per forward
    (straight-through), only the sampled op runs; a weight step then an architecture step per batch; tau per
    epoch = 10 - (10 - 0.1) * epoch / (epochs - 1) (scripts-search/algos/GDAS.sh @ 44a0d51)."""

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
        F.cross_entropy(self.forward(valid[0], weights=hard, arch=arch), valid[1]).backward()
        self.a_optimizer.step()
        return stats

class RSPS(SearchMethod):
    """Random search with parameter sharing (Li & Talwalkar 2019; exps/algos/RANDOM-NAS.py @ da2575c): each
    step trains one uniformly sampled cell; derive = the best of `samples` random cells on one valid batch each
    (search_find_best, select_num 100)."""

    name = "rsps"

    def __init__(self, net: Supernet, epochs: int, steps_per_epoch: int, device: torch.device, seed: int = 0,
                 precision: str = "fp32", samples: int = 100) -> None:
        super().__init__(net, epochs, steps_per_epoch, device, seed, precision)
        self.samples = samples

    def step(self, train: Batch, valid: Batch, gen: torch.Generator) -> dict[str, float]:
        return self.weight_step(train, arch=_uniform_arch(gen))

    def derive(self, valid: Iterator[Batch], gen: torch.Generator) -> Ops:
        return _best_on_valid(self, [_uniform_arch(gen) for _ in range(self.samples)], valid)


class Controller(nn.Module):
    """ENAS's LSTM controller for NB201 (AutoDL-Projects lib/models/cell_searchs/search_model_enas_utils.py):
    one op per edge, logits = tanh_constant * tanh(logits / temperature), parameters uniform in [-0.1, 0.1]."""

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
        """Sample a cell: (sum of log-probs, entropy of each edge's distribution [6], op ids)."""
        inputs, state = self.start, None
        log_prob, entropies, ops = 0.0, [], []
        for _ in range(NUM_EDGES):
            out, state = self.lstm(inputs, state)
            log_probs = (self.tanh_constant * torch.tanh(self.pred(out[-1, 0]) / self.temperature)).log_softmax(-1)
            op = int(torch.multinomial(log_probs.detach().exp().cpu(), 1, generator=gen))
            log_prob = log_prob + log_probs[op]
            entropies.append(entropy(log_probs))
            ops.append(op)
            inputs = self.embed(torch.tensor([[op]], device=log_probs.device))
        return log_prob, torch.stack(entropies), tuple(ops)


class ENAS(SearchMethod):
    """ENAS (Pham et al. 2018) as NAS-Bench-201 ran it (exps/algos/ENAS.py @ 233a829, ENAS.config @ 44a0d51,
    scripts-search/algos/ENAS.sh @ 654015b): shared weights trained on controller samples for an epoch (lr 0.05
    -> 0.0005 with T_max 10, wd 2.5e-4, batch 128), then `controller_steps` x `aggregate` REINFORCE samples on
    valid batches: reward = accuracy + 1e-4 * entropy, baseline = b - (1 - 0.99) (b - reward) from the baseline b
    the previous epoch ended with (the first epoch: the sample's accuracy), Adam lr 1e-3 betas (0, 0.999) eps 1e-3,
    clip 5. Derive = best of 10 controller samples on one valid batch each, `samples` in the final epoch."""

    name = "enas"
    schedule = WeightSchedule(lr=0.05, eta_min=0.0005, weight_decay=2.5e-4, t_max=10)
    epoch_samples = 10  # get_best_arch's default, used after every epoch but the last

    def __init__(self, net: Supernet, epochs: int, steps_per_epoch: int, device: torch.device, seed: int = 0,
                 precision: str = "fp32", controller_steps: int = 50, aggregate: int = 20, samples: int = 100
                 ) -> None:
        super().__init__(net, epochs, steps_per_epoch, device, seed, precision)
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
        self.c_optimizer.zero_grad(set_to_none=True)
        start = self.baseline
        for step in range(self.controller_steps * self.aggregate):
            log_prob, entropies, arch = self.controller(gen)
            accuracy = self.accuracy(next(valid), arch)
            reward = accuracy + self.entropy_weight * entropies.sum()
            baseline = accuracy if start is None else start - (1 - self.baseline_decay) * (start - reward)
            (-log_prob * (reward - baseline) / self.aggregate).backward()
            rewards.append(float(reward.detach()))
            if (step + 1) % self.aggregate == 0:
                nn.utils.clip_grad_norm_(self.controller.parameters(), CLIP)
                self.c_optimizer.step()
                self.c_optimizer.zero_grad(set_to_none=True)
            self.baseline = float(baseline.detach()) if torch.is_tensor(baseline) else baseline
        return {"controller_reward": sum(rewards) / max(len(rewards), 1)}

    def derive(self, valid: Iterator[Batch], gen: torch.Generator) -> Ops:
        n = self.samples if self.epoch == self.epochs - 1 else min(self.epoch_samples, self.samples)
        with torch.no_grad():
            candidates = [self.controller(gen)[2] for _ in range(n)]
        return _best_on_valid(self, candidates, valid)

    def edge_entropy(self, gen: torch.Generator) -> list[float]:
        """Per-edge entropy of the controller's conditional distributions, averaged over `aggregate` samples."""
        with torch.no_grad():
            return torch.stack([self.controller(gen)[1] for _ in range(self.aggregate)]).mean(0).tolist()

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
                samples: int = 100, controller_steps: int = 50, aggregate: int = 20, precision: str = "fp32"
                ) -> SearchMethod:
    """A search method by name (one of METHODS); `samples` is the number of candidates RSPS/ENAS rank."""
    args = (net, epochs, steps_per_epoch, device, seed, precision)
    if name in ("darts", "darts2"):
        return DARTS(*args, second_order=name == "darts2")
    if name == "gdas":
        return GDAS(*args)
    if name == "rsps":
        return RSPS(*args, samples=samples)
    if name == "enas":
        return ENAS(*args, controller_steps=controller_steps, aggregate=aggregate, samples=samples)
    raise UserInputError(f"unknown one-shot method {name!r}; valid: {', '.join(METHODS)}")


def entropy(log_probs: torch.Tensor) -> torch.Tensor:
    """Entropy (nats) of categorical distributions given as log-probabilities over the last dimension."""
    return -(log_probs.exp() * log_probs).sum(-1)


def _uniform_arch(gen: torch.Generator) -> Ops:
    return tuple(int(o) for o in torch.randint(NUM_OPS, (NUM_EDGES,), generator=gen))


def _best_on_valid(method: SearchMethod, candidates: list[Ops], valid: Iterator[Batch]) -> Ops:
    """The candidate with the highest shared-weight accuracy, each on its own next valid batch (first wins ties)."""
    scores = [method.accuracy(next(valid), arch) for arch in candidates]
    return candidates[max(range(len(scores)), key=scores.__getitem__)]
