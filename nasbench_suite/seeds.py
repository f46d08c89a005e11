"""Seeds, one grammar for every command and file: `0,1,2`, `0-2` or a mix; where a number of runs is asked for
(`benchmark`, experiment files), a lone number N is a count: seeds 0..N-1 (write `7-7` for seed 7 alone)."""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from nasbench_suite.errors import UserInputError

SEEDS_FORM = "e.g. 0,1,2 or 0-2 or 0-2,5 (seeds >= 0, ranges ascending)"
COUNT_FORM = "a number of runs N (seeds 0..N-1) or seeds like 0-4,7"
_PART = re.compile(r"\s*([0-9]+)\s*(?:-\s*([0-9]+)\s*)?")


def parse_seeds(text: str, count: bool = False) -> list[int]:
    """'0,1,2', '0-2' or a mix -> sorted distinct seeds; with `count`, a lone number N -> 0..N-1. Refuses an empty
    list, a descending range or a negative seed."""
    if count and re.fullmatch(r"\s*[0-9]+\s*", text):
        return seed_list(int(text))
    seeds: set[int] = set()
    for part in text.split(","):
        match = _PART.fullmatch(part)
        if not match:
            raise UserInputError(f"--seeds {text!r}: {part.strip()!r} is not a seed or a range; expected "
                                 f"{COUNT_FORM if count else SEEDS_FORM}")
        lo, hi = int(match.group(1)), int(match.group(2) or match.group(1))
        if hi < lo:
            raise UserInputError(f"--seeds {text!r}: the range {lo}-{hi} is empty (descending); expected {SEEDS_FORM}")
        seeds.update(range(lo, hi + 1))
    return sorted(seeds)


def seed_list(seeds: int | Sequence[int]) -> list[int]:
    """A count n (seeds 0..n-1) or explicit seeds, as distinct non-negative ints in order; an error if none."""
    seeds = list(range(seeds)) if isinstance(seeds, (int, np.integer)) else list(dict.fromkeys(map(int, seeds)))
    if not seeds:
        raise UserInputError("need at least one strategy and one seed")
    if min(seeds) < 0:
        raise UserInputError(f"seeds must be non-negative integers, got {min(seeds)}")
    return seeds


def format_seeds(seeds: Sequence[int]) -> str:
    """Seeds as `parse_seeds(..., count=True)` reads them back: the count for 0..N-1, else comma-separated."""
    seeds = list(seeds)
    if seeds == list(range(len(seeds))):
        return str(len(seeds))
    return f"{seeds[0]}-{seeds[0]}" if len(seeds) == 1 else ",".join(map(str, seeds))
