"""The NAS-Bench-201 supernet: every edge holds all five ops; the skeleton is the trainer's `Skeleton`.

A forward pass takes the architecture as an argument, in one of three forms, so one set of shared weights
serves every method:

* ``weights`` [6, 5] alone: each edge outputs the weighted sum of its five ops (DARTS);
* ``arch`` (6 op ids) alone: each edge runs only its chosen op, i.e. the discrete network (RSPS, ENAS);
* both: each edge runs only ``arch``'s op, scaled by its weight, plus the other weights (zero-valued but
  differentiable), GDAS's straight-through hard sampling.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from nasbench_suite.model.nb201 import Skeleton, make_op
from nasbench_suite.space.nb201 import EDGES, NB201, NUM_EDGES, NUM_OPS, OPS, ArchLike


class MixedCell(nn.Module):
    """A cell whose 6 edges each hold all 5 ops; node j = sum over i<j of edge_ij(node i)."""

    def __init__(self, channels: int, affine: bool = False, track_running_stats: bool = True) -> None:
        super().__init__()
        self.edges = nn.ModuleList(
            nn.ModuleList(make_op(name, channels, affine, track_running_stats) for name in OPS)
            for _ in range(NUM_EDGES))

    def forward(self, x: torch.Tensor, weights: torch.Tensor | None = None,
                arch: Sequence[int] | None = None) -> torch.Tensor:
        nodes = [x]
        for target in range(1, 4):
            nodes.append(sum(self._edge(e, nodes[src], weights, arch)
                             for e, (src, dst) in enumerate(EDGES) if dst == target))
        return nodes[-1]

    def _edge(self, e: int, x: torch.Tensor, weights: torch.Tensor | None,
              arch: Sequence[int] | None) -> torch.Tensor:
        ops = self.edges[e]
        if weights is None:
            return ops[arch[e]](x)
        if arch is None:
            return sum(weights[e, o] * op(x) for o, op in enumerate(ops))
        chosen = arch[e]
        return sum(weights[e, o] * ops[o](x) if o == chosen else weights[e, o] for o in range(NUM_OPS))


class Supernet(nn.Module):
    """`Skeleton` with `MixedCell`s; BN in the cells without affine parameters but with running statistics, as
    NAS-Bench-201's searches ran (AutoDL-Projects scripts-search/algos/*.sh @ 654015b: --track_running_stats 1)."""

    def __init__(self, channels: int = 16, cells_per_stage: int = 5, num_classes: int = 10, affine: bool = False,
                 track_running_stats: bool = True) -> None:
        super().__init__()
        self.skeleton = Skeleton(lambda c: MixedCell(c, affine, track_running_stats), channels, cells_per_stage,
                                 num_classes)

    def forward(self, x: torch.Tensor, weights: torch.Tensor | None = None,
                arch: ArchLike | None = None) -> torch.Tensor:
        if weights is None and arch is None:
            raise ValueError("a supernet forward needs architecture weights, a discrete arch, or both")
        ops = None if arch is None else NB201.to_ops(arch)
        if weights is not None and tuple(weights.shape) != (NUM_EDGES, NUM_OPS):
            raise ValueError(f"architecture weights must have shape ({NUM_EDGES}, {NUM_OPS}), got "
                             f"{tuple(weights.shape)}")
        net = self.skeleton
        x = net.stem(x)
        for layer in net.cells:
            x = layer(x, weights, ops) if isinstance(layer, MixedCell) else layer(x)
        return net.classifier(net.head(x))

    def weight_parameters(self) -> list[nn.Parameter]:
        """The shared network weights (the architecture parameters live in the search method)."""
        return list(self.parameters())

    def discrete_state_dict(self, arch: ArchLike) -> dict[str, torch.Tensor]:
        """The state dict of `build_network(arch, ...)` holding this supernet's weights for that cell."""
        ops = NB201.to_ops(arch)
        out: dict[str, torch.Tensor] = {}
        for key, value in self.skeleton.state_dict().items():
            parts = key.split(".")
            if parts[0] == "cells" and parts[2] == "edges":  # cells.<l>.edges.<e>.<op>.rest
                edge, op = int(parts[3]), int(parts[4])
                if op != ops[edge]:
                    continue
                key = ".".join(parts[:4] + parts[5:])
            out[key] = value
        return out


def supernet_logits(net: Supernet, x: torch.Tensor, bf16: bool = False, weights: torch.Tensor | None = None,
           arch: ArchLike | None = None) -> torch.Tensor:
    """The supernet's fp32 logits, computed under bf16 autocast when `bf16` (an opt-in: other numerics)."""
    with torch.autocast(x.device.type, dtype=torch.bfloat16, enabled=bf16):
        return net(x, weights=weights, arch=arch).float()


def one_hot(arch: ArchLike, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """[6, 5] one-hot architecture weights of a cell."""
    return torch.nn.functional.one_hot(torch.tensor(NB201.to_ops(arch)), NUM_OPS).to(dtype)
