"""Batched on-tensor augmentation: NAS-Bench-201's random crop of the zero-padded image plus horizontal flip,
drawn per image but applied to the whole batch in one gather (no per-image Python loop)."""

from __future__ import annotations

import torch


def random_crop_flip(x: torch.Tensor, pad: int, gen: torch.Generator) -> torch.Tensor:
    """Each image of the NCHW batch `x` cropped at a random offset from its `pad`-pixel zero padding, then
    flipped left-right with probability 1/2; draws come from the CPU generator `gen` (seeded, reproducible)."""
    n, c, h, w = x.shape
    dy, dx = torch.randint(0, 2 * pad + 1, (2, n), generator=gen).to(x.device)
    flip = (torch.rand(n, generator=gen) < 0.5).to(x.device)
    padded = torch.nn.functional.pad(x, (pad, pad, pad, pad))
    rows = dy[:, None] + torch.arange(h, device=x.device)[None]  # [n, h]
    cols = dx[:, None] + torch.arange(w, device=x.device)[None]  # [n, w]
    cols = torch.where(flip[:, None], cols.flip(1), cols)
    batch = torch.arange(n, device=x.device)[:, None, None, None]
    chan = torch.arange(c, device=x.device)[None, :, None, None]
    return padded[batch, chan, rows[:, None, :, None], cols[:, None, None, :]]
