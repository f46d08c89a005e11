"""Seeds, one grammar for every command and file: `0,1,2`, `0-2` or a mix; where a number of runs is asked for
(`benchmark`, experiment files), a lone number N is a count: seeds 0..N-1 (write `7-7` for seed 7 alone).

Seeds are capped like budgets (at most MAX_SEEDS of them, each at most MAX_SEED), checked before any list is built,
so `--seeds 0-99999999999` fails at once instead of allocating gigabytes."""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from nasbench_suite.errors import UserInputError

MAX_SEEDS = 10_000  # 20x the 500 runs per method of NAS-Bench-201's paper protocol
MAX_SEED = 2**32 - 1  # the largest seed every random generator of the suite (numpy, torch) accepts
SEEDS_FORM = f"e.g. 0,1,2 or 0-2 or 0-2,5 (seeds 0..{MAX_SEED}, at most {MAX_SEEDS:,}, ranges ascending)"
COUNT_FORM = f"a number of runs N <= {MAX_SEEDS} (seeds 0..N-1) or seeds like 0-4,7 (each <= {MAX_SEED})"
_NUMBER = r"\s*([0-9]{1,20})\s*"  # 20 digits hold every uint64; longer is not a seed (and int() is never slow)
_PART = re.compile(_NUMBER + r"(?:-" + _NUMBER + r")?")


def parse_seeds(text: str, count: bool = False) -> list[int]:
    """'0,1,2', '0-2' or a mix -> sorted distinct seeds; with `count`, a lone number N -> 0..N-1. Refuses an empty
    list, a descending range, a negative seed, or more seeds or a larger seed than the caps, before building them."""
    what = f"--seeds {text[:40]!r}{'...' if len(text) > 40 else ''}"
    if count and re.fullmatch(_NUMBER, text):
        return seed_list(int(text), what)
    seeds: set[int] = set()
    for part in text.split(","):
        match = _PART.fullmatch(part)
        if not match:
            raise UserInputError(f"{what}: {part.strip()[:40]!r} is not a seed or a range; expected "
                                 f"{COUNT_FORM if count else SEEDS_FORM}")
        lo, hi = int(match.group(1)), int(match.group(2) or match.group(1))
        if hi < lo:
            raise UserInputError(f"{what}: the range {lo}-{hi} is empty (descending); expected {SEEDS_FORM}")
        _check_caps(hi - lo + 1, hi, what)
        seeds.update(range(lo, hi + 1))
        _check_caps(len(seeds), hi, what)
    return sorted(seeds)


def seed_list(seeds: int | Sequence[int], what: str = "seeds") -> list[int]:
    """A count n (seeds 0..n-1) or explicit seeds, as distinct non-negative ints in order; an error if none, or if
    they exceed the caps (a count is checked before its list is built)."""
    if isinstance(seeds, (int, np.integer)):
        _check_caps(int(seeds), int(seeds) - 1, what)
        seeds = list(range(seeds))
    else:
        distinct: dict[int, None] = {}
        for seed in map(int, seeds):  # checked as they come: range(10**12) stops after MAX_SEEDS + 1
            distinct[seed] = None
            _check_caps(len(distinct), seed, what)
        seeds = list(distinct)
    if not seeds:
        raise UserInputError("need at least one strategy and one seed")
    if min(seeds) < 0:
        raise UserInputError(f"seeds must be non-negative integers, got {min(seeds)}")
    return seeds


def _check_caps(count: int, largest: int, what: str) -> None:
    """One-line errors for more than MAX_SEEDS seeds or a seed above MAX_SEED (the caps, like budgets')."""
    if count > MAX_SEEDS:
        raise UserInputError(f"{what}: {count:,} seeds per strategy are above the cap of {MAX_SEEDS:,} (20x the 500 "
                             f"runs per method of NAS-Bench-201's paper protocol); expected at most {MAX_SEEDS}")
    if largest > MAX_SEED:
        raise UserInputError(f"{what}: seed {largest} is above the cap of {MAX_SEED} (2^32 - 1, the largest seed "
                             f"every random generator here accepts); expected seeds 0..{MAX_SEED}")


def format_seeds(seeds: Sequence[int]) -> str:
    """Seeds as `parse_seeds(..., count=True)` reads them back: the count for 0..N-1, else comma-separated."""
    seeds = list(seeds)
    if seeds == list(range(len(seeds))):
        return str(len(seeds))
    return f"{seeds[0]}-{seeds[0]}" if len(seeds) == 1 else ",".join(map(str, seeds))
