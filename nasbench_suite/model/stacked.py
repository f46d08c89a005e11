"""K NAS-Bench-201 networks of different cells as one network: channels of model k are block k of K.

Every conv becomes a grouped conv (groups = number of models using it), BatchNorm is per channel anyway, and each
cell edge computes each op only for the models whose cell has that op there (channel gather, op, scatter back), so
no FLOP is wasted and one launch serves up to K models. Built from K ordinary `Skeleton`s, it starts from exactly
their weights, which is what lets the fast trainer reproduce the reference loop.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from nasbench_suite.model.nb201 import Cell, ReLUConvBN, ResidualReduction, Skeleton
from nasbench_suite.space import EDGES, OPS


def _stack_conv(convs: Sequence[nn.Conv2d], shared_input: bool = False) -> nn.Conv2d:
    """One conv holding `convs` side by side: grouped, or (shared_input) one input for all outputs."""
    first = convs[0]
    groups = 1 if shared_input else len(convs)
    in_channels = first.in_channels * (1 if shared_input else len(convs))
    out = nn.Conv2d(in_channels, first.out_channels * len(convs), first.kernel_size, stride=first.stride,
                    padding=first.padding, bias=False, groups=groups)
    with torch.no_grad():
        out.weight.copy_(torch.cat([c.weight for c in convs]))
    return out


def _stack_bn(bns: Sequence[nn.BatchNorm2d]) -> nn.BatchNorm2d:
    out = nn.BatchNorm2d(sum(b.num_features for b in bns), eps=bns[0].eps, momentum=bns[0].momentum)
    with torch.no_grad():
        for name in ("weight", "bias", "running_mean", "running_var"):
            getattr(out, name).copy_(torch.cat([getattr(b, name) for b in bns]))
        out.num_batches_tracked.copy_(bns[0].num_batches_tracked)
    return out


def _stack_relu_conv_bn(blocks: Sequence[ReLUConvBN]) -> nn.Sequential:
    return nn.Sequential(nn.ReLU(inplace=False), _stack_conv([b.op[1] for b in blocks]),
                         _stack_bn([b.op[2] for b in blocks]))


class StackedEdge(nn.Module):
    """One cell edge of K models: each op runs on the channel blocks of the models that chose it."""

    def __init__(self, ops: Sequence[int], modules: Sequence[nn.Module], channels: int) -> None:
        super().__init__()
        self.k, self.channels = len(ops), channels
        self.parts = nn.ModuleList()
        self.part_ops: list[int] = []
        order: list[int] = []
        for op in sorted(set(ops) - {0}):
            members = [k for k, o in enumerate(ops) if o == op]
            name = OPS[op]
            if name.startswith("nor_conv"):
                module = _stack_relu_conv_bn([modules[k] for k in members])
            elif name == "avg_pool_3x3":
                module = nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False)
            else:
                module = nn.Identity()
            self.parts.append(module)
            self.part_ops.append(op)
            self.register_buffer(f"index_{len(self.parts) - 1}", self._channels_of(members), persistent=False)
            order += members
        self.num_none = self.k - len(order)
        order += [k for k, o in enumerate(ops) if o == 0]
        self.full = len(self.parts) == 1 and self.num_none == 0
        self.register_buffer("inverse", torch.argsort(self._channels_of(order)), persistent=False)
        self.identity_order = order == list(range(self.k))

    def _channels_of(self, models: Sequence[int]) -> torch.Tensor:
        base = torch.as_tensor(list(models), dtype=torch.long)[:, None] * self.channels
        return (base + torch.arange(self.channels)).flatten()

    def forward(self, x: torch.Tensor) -> torch.Tensor | None:
        if not self.parts:
            return None  # every model has `none` here
        if self.full:
            return self.parts[0](x)
        pieces = [part(x.index_select(1, getattr(self, f"index_{i}"))) for i, part in enumerate(self.parts)]
        if self.num_none:
            shape = (x.shape[0], self.num_none * self.channels, *x.shape[2:])
            pieces.append(x.new_zeros(shape))
        out = torch.cat(pieces, 1)
        return out if self.identity_order else out.index_select(1, self.inverse)


class StackedCell(nn.Module):
    """Cell position i of K models with different cells."""

    def __init__(self, cells: Sequence[Cell], channels: int) -> None:
        super().__init__()
        self.edges = nn.ModuleList(StackedEdge([c.ops[e] for c in cells], [c.edges[e] for c in cells], channels)
                                   for e in range(len(EDGES)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        nodes = [x]
        for target in range(1, 4):
            total = None
            for e, (src, dst) in enumerate(EDGES):
                if dst == target:
                    out = self.edges[e](nodes[src])
                    if out is not None:
                        total = out if total is None else total + out
            nodes.append(total if total is not None else x.mul(0.0))
        return nodes[-1]


class StackedReduction(nn.Module):
    """K residual reduction blocks as grouped convs."""

    def __init__(self, blocks: Sequence[ResidualReduction]) -> None:
        super().__init__()
        self.conv_a = _stack_relu_conv_bn([b.conv_a for b in blocks])
        self.conv_b = _stack_relu_conv_bn([b.conv_b for b in blocks])
        self.downsample = nn.Sequential(nn.AvgPool2d(2, stride=2, padding=0),
                                        _stack_conv([b.downsample[1] for b in blocks]))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.downsample(x) + self.conv_b(self.conv_a(x))


class StackedNetwork(nn.Module):
    """K `Skeleton` networks (same C and N, any cells) as one module: input [B,3,H,W] -> logits [B,K,classes]."""

    def __init__(self, nets: Sequence[Skeleton]) -> None:
        super().__init__()
        self.k = len(nets)
        self.stem = nn.Sequential(_stack_conv([n.stem[0] for n in nets], shared_input=True),
                                  _stack_bn([n.stem[1] for n in nets]))
        layers: list[nn.Module] = []
        for i, layer in enumerate(nets[0].cells):
            if isinstance(layer, ResidualReduction):
                layers.append(StackedReduction([n.cells[i] for n in nets]))
            else:
                layers.append(StackedCell([n.cells[i] for n in nets], _cell_channels(nets, i)))
        self.cells = nn.Sequential(*layers)
        self.head = nn.Sequential(_stack_bn([n.head[0] for n in nets]), nn.ReLU(inplace=False),
                                  nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.weight = nn.Parameter(torch.stack([n.classifier.weight.detach() for n in nets]).clone())
        self.bias = nn.Parameter(torch.stack([n.classifier.bias.detach() for n in nets]).clone())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = self.head(self.cells(self.stem(x)))
        features = features.view(x.shape[0], self.k, -1)
        return torch.einsum("bkc,koc->bko", features, self.weight) + self.bias


def _cell_channels(nets: Sequence[Skeleton], position: int) -> int:
    """Channels entering cell `position` (from the layer's place in the skeleton)."""
    channels = nets[0].stem[0].out_channels
    for layer in list(nets[0].cells)[:position]:
        if isinstance(layer, ResidualReduction):
            channels = layer.conv_b.op[1].out_channels
    return channels
