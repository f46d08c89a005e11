"""NAS-Bench-201's training augmentation, on the device and batched: per image, a window of the zero-padded image
(a random crop) mirrored left-right at random, in one gather (no per-image Python). torch; imported only by the
trainers (`train`, `oneshot`)."""

from __future__ import annotations

import torch


def crop_flip(padded: torch.Tensor, index: torch.Tensor, dy: torch.Tensor, dx: torch.Tensor, flip: torch.Tensor,
              size: int) -> torch.Tensor:
    """The size x size windows at rows dy.., columns dx.. of the zero-padded NHWC images `padded[index]`, mirrored
    where `flip`. The caller draws dy, dx (0..2 x padding) and flip, so each training loop keeps its random stream."""
    ar = torch.arange(size, device=padded.device)
    rows = dy[:, None] + ar
    cols = torch.where(flip[:, None], dx[:, None] + size - 1 - ar, dx[:, None] + ar)
    return padded[index[:, None, None], rows[:, :, None], cols[:, None, :]]


def random_crop_flip(x: torch.Tensor, pad: int, gen: torch.Generator) -> torch.Tensor:
    """`crop_flip` of the square NCHW batch `x` padded by `pad` pixels, offsets and flips (p = 1/2) drawn from the CPU
    generator `gen`; returns NCHW (a channels-last view)."""
    n, _, size, _ = x.shape
    dy, dx = torch.randint(0, 2 * pad + 1, (2, n), generator=gen).to(x.device)
    flip = (torch.rand(n, generator=gen) < 0.5).to(x.device)
    padded = torch.nn.functional.pad(x, (pad, pad, pad, pad)).permute(0, 2, 3, 1)  # NHWC view
    return crop_flip(padded, torch.arange(n, device=x.device), dy, dx, flip, size).permute(0, 3, 1, 2)
