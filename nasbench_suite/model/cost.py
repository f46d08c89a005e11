"""Parameters and FLOPs of NAS-Bench-201 networks (FLOPs from torch.utils.flop_counter: 2 per multiply-add)."""

from __future__ import annotations

from functools import lru_cache

import torch
from torch.utils.flop_counter import FlopCounterMode

from nasbench_suite.model.nb201 import build_network, count_parameters
from nasbench_suite.space import ArchLike


@lru_cache(maxsize=None)
def network_cost(arch: ArchLike, channels: int = 16, cells_per_stage: int = 5) -> tuple[int, int]:
    """(trainable parameters, forward FLOPs of one 32x32 image) of a cell's network."""
    model = build_network(arch, channels, cells_per_stage).eval()
    counter = FlopCounterMode(display=False)
    with torch.no_grad(), counter:
        model(torch.zeros(1, 3, 32, 32))
    return count_parameters(model), int(counter.get_total_flops())
