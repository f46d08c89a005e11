"""NAS-Bench-201's training augmentation, on the device: per image, a window of the zero-padded image (a random
crop) mirrored left-right at random. torch; imported only by the trainers (`train`, `oneshot`)."""

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
