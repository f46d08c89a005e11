"""The NAS-Bench-201 network ("infer.tiny"): stem, 3 stages of N cells, 2 residual reductions, classifier.

`Skeleton` takes a cell factory, so the discrete network (`build_network`) and a supernet share every layer
outside the cell. Parameter counts equal the published ones (`params_m` of the imported table).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from nasbench_suite.space import EDGES, NB201, OPS, ArchLike


class ReLUConvBN(nn.Module):
    """ReLU -> Conv(k, no bias) -> BatchNorm, NAS-Bench-201's `nor_conv_kxk`."""

    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int = 1, affine: bool = True,
                 track_running_stats: bool = True) -> None:
        super().__init__()
        self.op = nn.Sequential(
            nn.ReLU(inplace=False),
            nn.Conv2d(c_in, c_out, kernel, stride=stride, padding=kernel // 2, bias=False),
            nn.BatchNorm2d(c_out, affine=affine, track_running_stats=track_running_stats),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.op(x)


class Zero(nn.Module):
    """`none`: outputs zeros of the input's shape."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mul(0.0)


def make_op(name: str, channels: int, affine: bool = True, track_running_stats: bool = True) -> nn.Module:
    """One NAS-Bench-201 op at stride 1 with `channels` in and out."""
    if name == "none":
        return Zero()
    if name == "skip_connect":
        return nn.Identity()
    if name == "nor_conv_1x1":
        return ReLUConvBN(channels, channels, 1, affine=affine, track_running_stats=track_running_stats)
    if name == "nor_conv_3x3":
        return ReLUConvBN(channels, channels, 3, affine=affine, track_running_stats=track_running_stats)
    if name == "avg_pool_3x3":
        return nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False)
    raise ValueError(f"unknown op {name!r}; valid: {', '.join(OPS)}")


class Cell(nn.Module):
    """A discrete cell: node j = sum over i<j of op_ij(node i); output = node 3."""

    def __init__(self, arch: ArchLike, channels: int) -> None:
        super().__init__()
        self.ops = tuple(NB201.to_ops(arch))
        self.edges = nn.ModuleList(make_op(OPS[o], channels) for o in self.ops)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        nodes = [x]
        for target in range(1, 4):
            nodes.append(sum(self.edges[e](nodes[src]) for e, (src, dst) in enumerate(EDGES) if dst == target))
        return nodes[-1]


class ResidualReduction(nn.Module):
    """ResNet basic block with stride 2 (channels double), NAS-Bench-201's reduction cell."""

    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.conv_a = ReLUConvBN(c_in, c_out, 3, stride=2)
        self.conv_b = ReLUConvBN(c_out, c_out, 3)
        self.downsample = nn.Sequential(nn.AvgPool2d(2, stride=2, padding=0),
                                        nn.Conv2d(c_in, c_out, 1, bias=False))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.downsample(x) + self.conv_b(self.conv_a(x))


class Skeleton(nn.Module):
    """Stem (3x3 conv + BN), stages of N cells at C, 2C, 4C with residual reductions, BN-ReLU-GAP-linear."""

    def __init__(self, cell_factory: Callable[[int], nn.Module], channels: int = 16, cells_per_stage: int = 5,
                 num_classes: int = 10) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, channels, 3, padding=1, bias=False), nn.BatchNorm2d(channels))
        layers: list[nn.Module] = []
        c = channels
        for stage in range(3):
            if stage > 0:
                layers.append(ResidualReduction(c, 2 * c))
                c *= 2
            layers.extend(cell_factory(c) for _ in range(cells_per_stage))
        self.cells = nn.Sequential(*layers)
        self.head = nn.Sequential(nn.BatchNorm2d(c), nn.ReLU(inplace=False), nn.AdaptiveAvgPool2d(1),
                                  nn.Flatten())
        self.classifier = nn.Linear(c, num_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Pooled features before the classifier."""
        return self.head(self.cells(self.stem(x)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))


def build_network(arch: ArchLike, channels: int = 16, cells_per_stage: int = 5, num_classes: int = 10) -> Skeleton:
    """The NAS-Bench-201 network of one cell (C=16, N=5 by default)."""
    ops = NB201.to_ops(arch)
    return Skeleton(lambda c: Cell(ops, c), channels, cells_per_stage, num_classes)


def count_parameters(model: nn.Module) -> int:
    """Trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
