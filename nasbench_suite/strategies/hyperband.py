"""Multi-fidelity strategies: successive halving, Hyperband and BOHB over the fidelities a benchmark has, and BOHB
with hpbandster's schedule as NAS-Bench-201 ran it."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from nasbench_suite.errors import UserInputError
from nasbench_suite.space import Ops
from nasbench_suite.strategies._common import fitness, pop_pending, sample_unseen
from nasbench_suite.strategies.base import SIZE, Context, Hyperparameter, Strategy, Trial, register


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


MAX_RUNGS = 20  # hpbandster schedule: NAS-Bench-201's has 3; 20 at eta 3 span budgets 10^9 apart


def hpbandster_budgets(min_budget: float, max_budget: float, eta: float) -> list[float]:
    """hpbandster's geometric budgets (optimizers/bohb.py): max_budget * eta^-k, k = s_max..0, with
    s_max = -int(log(min_budget / max_budget) / log(eta)); e.g. [22.2, 66.7, 200] for 12, 200, eta 3.
    At most MAX_RUNGS budgets, checked before any is made (a bracket holds up to eta^s_max cells)."""
    with np.errstate(divide="ignore"):  # budgets so far apart that their ratio is 0: infinitely many rungs
        ratio = np.log(min_budget / max_budget) / np.log(eta)
    s_max = -int(ratio) if np.isfinite(ratio) else np.inf
    if s_max + 1 > MAX_RUNGS:
        raise UserInputError(f"bohb: min_budget={min_budget:.10g}, max_budget={max_budget:.10g} and eta={eta:.10g} "
                             f"give {s_max + 1:g} hpbandster rungs; expected at most {MAX_RUNGS} (raise min_budget "
                             "or eta)")
    return [float(b) for b in max_budget * np.power(eta, -np.linspace(s_max, 0, s_max + 1))]


class _Bracket:
    """One successive-halving bracket: evaluate every cell at the first rung, promote the top `sizes[rung + 1]`
    (best first, or in the order they were asked with `keep_order`, as hpbandster does)."""

    def __init__(self, budgets: list, sizes: list[int], keep_order: bool = False) -> None:
        self.budgets, self.sizes, self.keep_order = budgets, sizes, keep_order
        self.rung = 0
        self.queue: list[Ops] = []  # cells still to ask at the current rung
        self.results: list[tuple[Ops, float]] = []
        self.to_sample = sizes[0]  # first-rung cells not yet drawn

    def tell(self, arch: Ops, value: float) -> None:
        self.results.append((arch, value))
        if len(self.results) == self.sizes[self.rung] and self.rung + 1 < len(self.sizes):
            ranked = sorted(range(len(self.results)), key=lambda i: fitness(self.results[i][1]), reverse=True)
            self.rung += 1
            kept = ranked[:self.sizes[self.rung]]
            self.queue = [self.results[i][0] for i in (sorted(kept) if self.keep_order else kept)]
            self.results = []

    @property
    def finished(self) -> bool:
        return not (self.queue or self.to_sample or self.rung + 1 < len(self.sizes)
                    or len(self.results) < self.sizes[self.rung])


@register
class Hyperband(Strategy):
    """Hyperband (Li et al., JMLR 2018): loop over brackets s = s_max..0 of successive halving; bracket s
    starts ceil((s_max + 1) / (s + 1) * eta^s) cells at rung s_max - s of the fidelity ladder and keeps
    the best floor(n / eta) at each next rung. Rungs come from `fidelity_ladder` over the context's
    fidelities. A cell is sampled when its bracket first needs it (uniformly here; BOHB overrides
    `sample`). If every open bracket waits for results, a new bracket opens, so asks never block.
    """

    name = "hyperband"
    family = "multi-fidelity"
    paper = "Li, Jamieson, DeSalvo, Rostamizadeh, Talwalkar, JMLR 2018"
    multi_fidelity = True
    hyperparameters = (
        # at most 100: a bracket's eta^s cells stay a finite number (and above 17, fidelities 12 and 200 are one rung)
        Hyperparameter("eta", 3.0, "keep 1/eta of a rung's cells for the next", interval="(1, 100]"),
        Hyperparameter("min_fidelity", None, "lowest rung's epochs; default the smallest available", type=int,
                       interval="[1, inf)"),
        Hyperparameter("max_fidelity", None, "highest rung's epochs; default the largest available", type=int,
                       interval="[1, inf)"),
    )

    def __init__(self, context: Context, **params) -> None:
        super().__init__(context, **params)
        low = context.fidelities[0] if self.min_fidelity is None else self.min_fidelity
        high = context.fidelities[-1] if self.max_fidelity is None else self.max_fidelity
        self.ladder: list = fidelity_ladder(context.fidelities, self.eta, low, high)
        self.s_max = len(self.ladder) - 1
        self.brackets: list[_Bracket] = []
        self.pending: list[tuple[Trial, tuple[_Bracket, float]]] = []
        self.opened = 0
        self.seen: dict[float, set[Ops]] = {b: set() for b in self.ladder}

    def bracket_plan(self, index: int) -> tuple[list, list[int]]:
        """Rung budgets and sizes of the `index`-th bracket opened."""
        s = self.s_max - index % (self.s_max + 1)
        n = math.ceil((self.s_max + 1) / (s + 1) * self.eta**s)
        sizes = [max(1, math.floor(n * self.eta**-j)) for j in range(s + 1)]
        return self.ladder[self.s_max - s:], sizes

    def new_bracket(self, index: int) -> _Bracket:
        return _Bracket(*self.bracket_plan(index))

    def fidelity(self, budget: float) -> int:
        """The epochs a trial at rung `budget` is asked at (the budget itself here)."""
        return int(budget)

    def sample(self, budget: float) -> Ops:
        """A new cell for a bracket's first rung, at `budget`."""
        return sample_unseen(self.space, self.rng, self.seen[budget])

    def ask(self) -> Trial:
        bracket = next((b for b in self.brackets if b.queue or b.to_sample), None)
        if bracket is None:
            bracket = self.new_bracket(self.opened)
            self.opened += 1
            self.brackets.append(bracket)
        budget = bracket.budgets[bracket.rung]
        if bracket.queue:
            arch = bracket.queue.pop(0)
        else:
            arch = self.sample(budget)
            bracket.to_sample -= 1
        trial = Trial(arch, self.fidelity(budget))
        self.seen[budget].add(arch)
        self.pending.append((trial, (bracket, budget)))
        return trial

    def tell(self, trial: Trial, value: float) -> None:
        bracket, budget = pop_pending(self.pending, trial, self.name)
        self.observe(trial.arch, budget, value)
        bracket.tell(trial.arch, value)
        self.brackets = [b for b in self.brackets if not b.finished]

    def observe(self, arch: Ops, budget: float, value: float) -> None:
        """Hook for model-based variants: every told result, with the rung budget it was asked for."""

    def degenerate(self) -> str | None:
        if self.s_max == 0:
            return f"{self.name} with one fidelity ({self.ladder[0]} epochs) is random search"
        return None


@register
class SuccessiveHalving(Hyperband):
    """Successive halving (Jamieson & Talwalkar, AISTATS 2016), repeated: every bracket is Hyperband's most
    aggressive one, `num_configs` cells (default eta^s_max) at the lowest rung, the best 1/eta promoted
    to each next rung up to the largest fidelity."""

    name = "sh"
    paper = "Jamieson & Talwalkar, AISTATS 2016"
    hyperparameters = (Hyperparameter("num_configs", None, "cells per bracket; default eta^s_max", type=int,
                                      interval=SIZE),)

    def bracket_plan(self, index: int) -> tuple[list, list[int]]:
        n = self.num_configs or round(self.eta**self.s_max)
        return self.ladder, [max(1, math.floor(n * self.eta**-j)) for j in range(self.s_max + 1)]


SCHEDULES = ("suite", "hpbandster")


@register
class BOHB(Hyperband):
    """BOHB (Falkner, Klein, Hutter, ICML 2018): Hyperband whose new cells come from a TPE-like model.

    For the largest budget with a model, told cells are split into the best max(min_points, top_n_percent %
    of n) ("good") and the next max(min_points, rest) ("bad"); each needs more than 6 cells. Each gets a
    product kernel density with the Aitchison-Aitken kernel per edge, bandwidth by statsmodels' normal
    reference rule 1.06 * std * n^(-1/(4+d)), at least min_bandwidth. A new cell is, with probability
    random_fraction, uniform; otherwise the best l(x)/g(x) of `num_samples` draws from the good density
    (keep a good cell's op with probability 1 - bandwidth, else a uniform op). (hpbandster's
    bandwidth_factor, 3 in NAS-Bench-201, scales only continuous dimensions: no role in this space.)

    schedule "suite": rungs are `fidelity_ladder`'s real fidelities; the kernel counts all k values of a position
    as levels (NB201: 5 ops) and the bandwidth is also clipped above at (k-1)/k, where the kernel turns uniform
    (ours).

    schedule "hpbandster": hpbandster 0.7.4 as NAS-Bench-201 ran it (D-X-Y/AutoDL-Projects@ad34af99
    exps/algos/BOHB.py, scripts-search/algos/BOHB.sh; `eta=3, min_budget=12, max_budget=200`,
    `num_samples 4, random_fraction 0`, min_bandwidth 0.3 by its argparse default): virtual budgets
    `hpbandster_budgets(min_budget, max_budget, eta)` (22.2, 66.7, 200), brackets of
    floor((s_max + 1) / (s + 1)) * eta^s cells ([9, 3, 1], [3, 1], [3]), promoted cells asked in the
    order they were first asked; the script's worker ignores the budget, so every trial is asked at the
    context's default fidelity (12 epochs under nb201-paper) and charged for it, while the densities are
    kept per virtual budget. The kernel follows statsmodels exactly: the number of levels of an edge is the
    number of distinct ops in that density's data (hence inf or NaN densities, handled as hpbandster
    does), no upper clip. `recommend` is hpbandster's incumbent: the best result at the largest budget
    (earliest on ties); None before one exists. Differences: a uniform draw never repeats an asked cell
    (ConfigSpace's may), and the search ends with the time budget, not after n_iters=50 iterations (the
    budget ends it first: about 100 queries, about 15 iterations).

    Defaults otherwise hpbandster's: eta=3, top_n_percent=15, min_points=d+1=7.
    """

    name = "bohb"
    paper = "Falkner, Klein, Hutter, ICML 2018; NAS-Bench-201's settings (Dong & Yang, ICLR 2020)"
    hyperparameters = (
        Hyperparameter("schedule", "suite", "rungs at real fidelities (suite) or hpbandster's virtual budgets, "
                       "every trial at the default fidelity (hpbandster, NAS-Bench-201's runs)", choices=SCHEDULES),
        Hyperparameter("min_budget", 12.0, "hpbandster schedule: smallest virtual budget", interval="(0, inf)"),
        Hyperparameter("max_budget", 200.0, "hpbandster schedule: largest virtual budget", interval="(0, inf)"),
        Hyperparameter("num_samples", 4, "draws from the good density scored per new cell", interval=SIZE),
        Hyperparameter("random_fraction", 0.0, "probability a new cell is uniform", interval="[0, 1]"),
        Hyperparameter("top_n_percent", 15.0, "percentage of cells in the good density", interval="(0, 100)"),
        Hyperparameter("min_bandwidth", 0.3, "smallest kernel bandwidth (hpbandster's default is 1e-3)",
                       interval="[0, 1]"),
        Hyperparameter("min_points", None, "least cells per density; default d + 1 = 7", type=int,
                       interval=SIZE),
    )

    def __init__(self, context: Context, **params) -> None:
        super().__init__(context, **params)
        self.hpbandster = self.schedule == "hpbandster"
        if self.hpbandster:
            if self.min_budget >= self.max_budget:
                raise UserInputError(f"bohb needs min_budget < max_budget, got {self.min_budget:g} and "
                                     f"{self.max_budget:g}")
            self.ladder = hpbandster_budgets(self.min_budget, self.max_budget, self.eta)
            self.s_max = len(self.ladder) - 1
            self.seen = {b: set() for b in self.ladder}
        if self.min_points is None:
            self.min_points = self.space.num_positions + 1
        self.data: dict[float, list[tuple[Ops, float]]] = {b: [] for b in self.ladder}
        self.incumbent: tuple[Ops, float] | None = None

    def bracket_plan(self, index: int) -> tuple[list, list[int]]:
        if not self.hpbandster:
            return super().bracket_plan(index)
        s = self.s_max - index % (self.s_max + 1)
        n = int(math.floor((self.s_max + 1) / (s + 1)) * self.eta**s)
        return self.ladder[self.s_max - s:], [max(int(n * self.eta**-j), 1) for j in range(s + 1)]

    def new_bracket(self, index: int) -> _Bracket:
        return _Bracket(*self.bracket_plan(index), keep_order=self.hpbandster)

    def fidelity(self, budget: float) -> int:
        return self.context.default_fidelity if self.hpbandster else int(budget)

    def observe(self, arch: Ops, budget: float, value: float) -> None:
        self.data[budget].append((arch, fitness(value)))
        if budget == self.ladder[-1] and value == value and (self.incumbent is None or value > self.incumbent[1]):
            self.incumbent = (arch, value)

    def recommend(self) -> Ops | None:
        return self.incumbent[0] if self.hpbandster and self.incumbent is not None else None

    def degenerate(self) -> str | None:
        if not self.hpbandster and self.s_max == 0:
            return (f"bohb with one fidelity ({self.ladder[0]} epochs) is a sequential TPE-like sampler without "
                    "successive halving")
        return None

    def _densities(self) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]] | None:
        """((good cells, bandwidths), (bad cells, bandwidths)) at the largest budget with a model."""
        d = self.space.num_positions
        for budget in reversed(self.ladder):
            order = sorted(range(len(self.data[budget])), key=lambda i: -self.data[budget][i][1])
            n = len(order)
            n_good = max(self.min_points, int(self.top_n_percent * n // 100))
            n_bad = max(self.min_points, int((100 - self.top_n_percent) * n // 100))
            cells = np.asarray([self.data[budget][i][0] for i in order], dtype=np.int64).reshape(-1, d)
            good, bad = cells[:n_good], cells[n_good:n_good + n_bad]
            if len(good) > d and len(bad) > d:
                return (good, self._bandwidth(good)), (bad, self._bandwidth(bad))
        return None

    def _bandwidth(self, cells: np.ndarray) -> np.ndarray:
        bw = np.maximum(1.06 * cells.std(axis=0) * len(cells) ** (-1 / (4 + cells.shape[1])), self.min_bandwidth)
        return bw if self.hpbandster else np.minimum(bw, (self.space.choices - 1) / self.space.choices)

    def _pdf(self, x: np.ndarray, density: tuple[np.ndarray, np.ndarray]) -> float:
        """The density at x: mean over cells of the product of per-edge Aitchison-Aitken kernels."""
        cells, bw = density
        if self.hpbandster:  # statsmodels: levels = distinct values in the data column
            levels = np.array([len(np.unique(column)) for column in cells.T], dtype=np.float64)
        else:
            levels = self.space.choices.astype(np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            kernel = np.where(cells == x[None, :], 1 - bw, bw / (levels - 1))
            return float(kernel.prod(axis=1).mean())

    def sample(self, budget: float) -> Ops:
        model = self._densities()
        if model is None or self.rng.random() < self.random_fraction:
            return super().sample(budget)
        good, bad = model
        best, best_score = None, np.inf
        for _ in range(self.num_samples):
            datum = good[0][int(self.rng.integers(len(good[0])))]
            keep = self.rng.random(len(datum)) < 1 - good[1]
            x = np.where(keep, datum, self.rng.integers(self.space.choices))
            l, g = self._pdf(x, good), self._pdf(x, bad)
            score = max(1e-32, g) / max(l, 1e-32)  # hpbandster's argument order: a NaN l(x) gives a NaN score
            if not math.isfinite(score) and math.isfinite(l):
                best = x  # hpbandster: a value the bad density lacks, evaluate it
                break
            if score < best_score:
                best, best_score = x, score
        if best is None:
            return super().sample(budget)
        return tuple(int(o) for o in best)
