"""Graph isomorphism network surrogate (torch, the `train` extra); imported only when model "gin" is asked for.

The cell is read as an ops-as-nodes graph (input, 6 edge ops, output) whose node labels are the effective ops
(`none` where an edge is cut off); the pooled graph embedding is joined with the surrogate's other features.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from nasbench_suite.space import NB201
from nasbench_suite.surrogate.features import effective_ops
from nasbench_suite.surrogate.models import Model, _ensemble_stats

_NODES = 8
_LABELS = NB201.num_ops + 2  # 5 ops + input + output


def _graph_inputs(ops: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    """Adjacency (8, 8) shared by every cell, and (n, 8, 7) one-hot node labels of the effective ops."""
    encoded = NB201.encode(effective_ops(ops), "adjacency")
    adjacency = torch.from_numpy(encoded[0, :_NODES * _NODES].reshape(_NODES, _NODES).copy())
    labels = torch.from_numpy(encoded[:, _NODES * _NODES:].reshape(-1, _NODES, _LABELS).copy())
    return adjacency, labels


class _GIN(nn.Module):
    def __init__(self, extra: int, outputs: int, hidden: int, layers: int) -> None:
        super().__init__()
        dims = [_LABELS] + [hidden] * layers
        self.eps = nn.Parameter(torch.zeros(layers))
        self.layers = nn.ModuleList(nn.Sequential(nn.Linear(a, b), nn.ReLU(), nn.Linear(b, b), nn.ReLU())
                                    for a, b in zip(dims[:-1], dims[1:]))
        self.head = nn.Sequential(nn.Linear(hidden + extra, hidden), nn.ReLU(), nn.Linear(hidden, outputs))

    def forward(self, adjacency: torch.Tensor, labels: torch.Tensor, extra: torch.Tensor) -> torch.Tensor:
        h = labels
        messages = adjacency.T + adjacency  # information flows both ways along the cell's wiring
        for eps, layer in zip(self.eps, self.layers):
            h = layer((1 + eps) * h + messages @ h)
        return self.head(torch.cat([h.sum(dim=1), extra], dim=1))


class GINModel(Model):
    """An ensemble of `members` GINs trained full-batch with Adam; the spread is their disagreement. Saved as
    plain arrays: the feature scaling and each network's state_dict tensors."""

    name = "gin"
    min_cells = 20
    defaults = {"members": 3, "hidden": 64, "layers": 3, "epochs": 300, "lr": 3e-3, "weight_decay": 1e-4,
                "threads": 1}

    def fit(self, X: np.ndarray, Y: np.ndarray, ops: np.ndarray | None = None) -> "GINModel":
        torch.set_num_threads(self.params["threads"])  # tiny tensors: more threads only contend on shared cores
        p = self.params
        self.x_mean_, self.x_std_ = X.mean(axis=0), X.std(axis=0) + 1e-6
        adjacency, labels = _graph_inputs(ops)
        extra = torch.from_numpy(((X - self.x_mean_) / self.x_std_).astype(np.float32))
        target = torch.from_numpy(Y.astype(np.float32))
        self.members_ = []
        for m in range(p["members"]):
            torch.manual_seed(self.seed * 1000 + m)
            net = _GIN(X.shape[1], Y.shape[1], p["hidden"], p["layers"])
            optimiser = torch.optim.Adam(net.parameters(), lr=p["lr"], weight_decay=p["weight_decay"])
            for _ in range(p["epochs"]):
                optimiser.zero_grad()
                loss = nn.functional.mse_loss(net(adjacency, labels, extra), target)
                loss.backward()
                optimiser.step()
            self.members_.append(net.eval())
        return self

    def state(self) -> dict[str, np.ndarray]:
        nets = {f"member{m}/{k}": v.numpy() for m, net in enumerate(self.members_)
                for k, v in net.state_dict().items()}
        return {"x_mean": self.x_mean_, "x_std": self.x_std_, **nets}

    def restore(self, state: dict[str, np.ndarray], X: np.ndarray, Y: np.ndarray,
                ops: np.ndarray | None = None) -> "GINModel":
        p = self.params
        self.x_mean_, self.x_std_ = state["x_mean"], state["x_std"]
        self.members_ = []
        for m in range(p["members"]):
            net = _GIN(X.shape[1], Y.shape[1], p["hidden"], p["layers"])
            prefix = f"member{m}/"
            net.load_state_dict({k[len(prefix):]: torch.from_numpy(v) for k, v in state.items()
                                 if k.startswith(prefix)})
            self.members_.append(net.eval())
        return self

    def predict(self, X: np.ndarray, ops: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        adjacency, labels = _graph_inputs(ops)
        extra = torch.from_numpy(((X - self.x_mean_) / self.x_std_).astype(np.float32))
        with torch.no_grad():
            return _ensemble_stats([net(adjacency, labels, extra).numpy() for net in self.members_])
