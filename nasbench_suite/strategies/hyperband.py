"""Multi-fidelity strategies: successive halving, Hyperband and BOHB over the fidelities a benchmark has."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from nasbench_suite.errors import UserInputError
from nasbench_suite.space import Ops
from nasbench_suite.strategies._common import fitness, pop_pending, sample_unseen
from nasbench_suite.strategies.base import Context, Strategy, Trial, register


def fidelity_ladder(fidelities: Sequence[int], eta: float, min_fidelity: int, max_fidelity: int) -> list[int]:
    """Ascending rung fidelities: max_fidelity / eta^i for i = 0, 1, ... down to min_fidelity, each snapped
    (in log space) to the nearest available fidelity below the previous rung.

    E.g. eta=3 gives [12, 200] for fidelities (12, 200) and [3, 7, 22, 67, 200] for every epoch 1..200.
    """
    available = sorted(f for f in fidelities if min_fidelity <= f <= max_fidelity)
    if max_fidelity not in available:
        raise UserInputError(f"max_fidelity {max_fidelity} is not one of the benchmark's fidelities "
                             f"{', '.join(map(str, fidelities))}")
    ladder, target = [max_fidelity], float(max_fidelity)
    while True:
        target /= eta
        lower = [f for f in available if f < ladder[-1]]
        if not lower or target < min_fidelity:
            return ladder[::-1]
        ladder.append(min(lower, key=lambda f: abs(math.log(f / target))))


class _Bracket:
    """One successive-halving bracket: evaluate every cell at the first rung, promote the top 1/eta."""

    def __init__(self, fidelities: list[int], sizes: list[int]) -> None:
        self.fidelities, self.sizes = fidelities, sizes
        self.rung = 0
        self.queue: list[Ops] = []  # cells still to ask at the current rung
        self.results: list[tuple[Ops, float]] = []
        self.to_sample = sizes[0]  # first-rung cells not yet drawn

    def tell(self, arch: Ops, value: float) -> None:
        self.results.append((arch, value))
        if len(self.results) == self.sizes[self.rung] and self.rung + 1 < len(self.sizes):
            ranked = sorted(self.results, key=lambda r: fitness(r[1]), reverse=True)
            self.rung += 1
            self.queue = [arch for arch, _ in ranked[:self.sizes[self.rung]]]
            self.results = []


@register
class Hyperband(Strategy):
    """Hyperband (Li et al., JMLR 2018): loop over brackets s = s_max..0 of successive halving; bracket s
    starts ceil((s_max + 1) / (s + 1) * eta^s) cells at rung s_max - s of the fidelity ladder and keeps
    the best floor(n / eta) at each next rung. Rungs come from `fidelity_ladder` over the context's
    fidelities. A cell is sampled when its bracket first needs it (uniformly here; BOHB overrides
    `sample`). If every open bracket waits for results, a new bracket opens, so asks never block.
    Defaults: eta=3, min_fidelity and max_fidelity the smallest and largest available.
    """

    name = "hyperband"
    multi_fidelity = True

    def __init__(self, context: Context, eta: float = 3, min_fidelity: int | None = None,
                 max_fidelity: int | None = None, **hyperparameters) -> None:
        super().__init__(context, **hyperparameters)
        if eta <= 1:
            raise UserInputError(f"{self.name} needs eta > 1, got {eta}")
        low = context.fidelities[0] if min_fidelity is None else int(min_fidelity)
        high = context.fidelities[-1] if max_fidelity is None else int(max_fidelity)
        self.eta = float(eta)
        self.ladder = fidelity_ladder(context.fidelities, self.eta, low, high)
        self.s_max = len(self.ladder) - 1
        self.brackets: list[_Bracket] = []
        self.pending: list[tuple[Trial, _Bracket]] = []
        self.opened = 0
        self.seen: dict[int, set[Ops]] = {f: set() for f in self.ladder}

    def bracket_plan(self, index: int) -> tuple[list[int], list[int]]:
        """Rung fidelities and sizes of the `index`-th bracket opened."""
        s = self.s_max - index % (self.s_max + 1)
        n = math.ceil((self.s_max + 1) / (s + 1) * self.eta**s)
        sizes = [max(1, math.floor(n * self.eta**-j)) for j in range(s + 1)]
        return self.ladder[self.s_max - s:], sizes

    def sample(self, fidelity: int) -> Ops:
        """A new cell for a bracket's first rung, at `fidelity`."""
        return sample_unseen(self.space, self.rng, self.seen[fidelity])

    def ask(self) -> Trial:
        bracket = next((b for b in self.brackets if b.queue or b.to_sample), None)
        if bracket is None:
            bracket = _Bracket(*self.bracket_plan(self.opened))
            self.opened += 1
            self.brackets.append(bracket)
        if bracket.queue:
            arch = bracket.queue.pop(0)
        else:
            arch = self.sample(bracket.fidelities[0])
            bracket.to_sample -= 1
        trial = Trial(arch, bracket.fidelities[bracket.rung])
        self.seen[trial.fidelity].add(arch)
        self.pending.append((trial, bracket))
        return trial

    def tell(self, trial: Trial, value: float) -> None:
        bracket = pop_pending(self.pending, trial, self.name)
        self.observe(trial, value)
        bracket.tell(trial.arch, value)
        self.brackets = [b for b in self.brackets if b.queue or b.to_sample or b.rung + 1 < len(b.sizes)
                         or len(b.results) < b.sizes[b.rung]]

    def observe(self, trial: Trial, value: float) -> None:
        """Hook for model-based variants: every told result."""


@register
class SuccessiveHalving(Hyperband):
    """Successive halving (Jamieson & Talwalkar, AISTATS 2016), repeated: every bracket is Hyperband's most
    aggressive one, `num_configs` cells (default eta^s_max) at the lowest rung, the best 1/eta promoted
    to each next rung up to the largest fidelity. Defaults: eta=3, num_configs=eta^s_max."""

    name = "sh"

    def __init__(self, context: Context, num_configs: int | None = None, **hyperparameters) -> None:
        super().__init__(context, **hyperparameters)
        if num_configs is not None and num_configs < 1:
            raise UserInputError(f"sh needs num_configs >= 1, got {num_configs}")
        self.num_configs = num_configs

    def bracket_plan(self, index: int) -> tuple[list[int], list[int]]:
        n = self.num_configs or round(self.eta**self.s_max)
        return self.ladder, [max(1, math.floor(n * self.eta**-j)) for j in range(self.s_max + 1)]


@register
class BOHB(Hyperband):
    """BOHB (Falkner, Klein, Hutter, ICML 2018): Hyperband whose new cells come from a TPE-like model.

    For the largest fidelity with enough results, told cells are split into the best
    max(min_points, top_n_percent % of n) ("good") and the next max(min_points, rest) ("bad"); each gets a
    product kernel density with the Aitchison-Aitken kernel per edge, bandwidth by the normal reference
    rule 1.06 * std * n^(-1/(4+d)) as in statsmodels, clipped to [min_bandwidth, (c-1)/c] (the upper clip,
    ours, is where the kernel becomes uniform; above it statsmodels' kernel goes negative). A new cell
    is, with probability random_fraction, uniform; otherwise the best l(x)/g(x) of `num_samples` draws
    from the good density (keep a good cell's op with probability 1 - bandwidth, else a uniform op).
    Defaults follow NAS-Bench-201's BOHB runs: num_samples=4, random_fraction=0, min_bandwidth=0.3 (its
    script's default; hpbandster's is 1e-3); and hpbandster's: eta=3, top_n_percent=15, min_points=d+1=7. (hpbandster's bandwidth_factor,
    3 in NAS-Bench-201, scales only continuous dimensions, so it has no role in this categorical space.)
    """

    name = "bohb"

    def __init__(self, context: Context, num_samples: int = 4, random_fraction: float = 0.0,
                 top_n_percent: float = 15, min_bandwidth: float = 0.3, min_points: int | None = None,
                 **hyperparameters) -> None:
        super().__init__(context, **hyperparameters)
        if num_samples < 1 or not 0 <= random_fraction <= 1 or not 0 < top_n_percent < 100:
            raise UserInputError("bohb needs num_samples >= 1, 0 <= random_fraction <= 1 and "
                                 f"0 < top_n_percent < 100, got {num_samples}, {random_fraction}, {top_n_percent}")
        self.num_samples, self.random_fraction = int(num_samples), float(random_fraction)
        self.top_n_percent, self.min_bandwidth = float(top_n_percent), float(min_bandwidth)
        self.min_points = self.space.num_edges + 1 if min_points is None else int(min_points)
        self.data: dict[int, list[tuple[Ops, float]]] = {f: [] for f in self.ladder}

    def observe(self, trial: Trial, value: float) -> None:
        self.data[trial.fidelity].append((trial.arch, fitness(value)))

    def _densities(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None:
        """(good cells, good bandwidths, bad cells, bad bandwidths) at the largest fidelity with a model."""
        d = self.space.num_edges
        for fidelity in reversed(self.ladder):
            results = sorted(self.data[fidelity], key=lambda r: r[1], reverse=True)
            n = len(results)
            n_good = max(self.min_points, int(self.top_n_percent * n / 100))
            n_bad = max(self.min_points, int((100 - self.top_n_percent) * n / 100))
            cells = np.asarray([arch for arch, _ in results], dtype=np.int64).reshape(-1, d)
            good, bad = cells[:n_good], cells[n_good:n_good + n_bad]
            if len(good) > d and len(bad) > d:
                return good, self._bandwidth(good), bad, self._bandwidth(bad)
        return None

    def _bandwidth(self, cells: np.ndarray) -> np.ndarray:
        c = self.space.num_ops
        bw = 1.06 * cells.std(axis=0) * len(cells) ** (-1 / (4 + cells.shape[1]))
        return bw.clip(self.min_bandwidth, (c - 1) / c)

    def _pdf(self, x: np.ndarray, cells: np.ndarray, bw: np.ndarray) -> float:
        c = self.space.num_ops
        kernel = np.where(cells == x[None, :], 1 - bw, bw / (c - 1))
        return float(kernel.prod(axis=1).mean())

    def sample(self, fidelity: int) -> Ops:
        model = self._densities()
        if model is None or self.rng.random() < self.random_fraction:
            return super().sample(fidelity)
        good, good_bw, bad, bad_bw = model
        best, best_score = None, np.inf
        for _ in range(self.num_samples):
            datum = good[int(self.rng.integers(len(good)))]
            keep = self.rng.random(len(datum)) < 1 - good_bw
            x = np.where(keep, datum, self.rng.integers(self.space.num_ops, size=len(datum)))
            score = max(1e-32, self._pdf(x, bad, bad_bw)) / max(1e-32, self._pdf(x, good, good_bw))
            if score < best_score:
                best, best_score = x, score
        return tuple(int(o) for o in best)
