"""Search protocols by name: which metric strategies see, which one scores them, the budget and the seeds.

`nb201-paper` is NAS-Bench-201's simulated protocol; `default` is this suite's recommended setting; `nbgraph` is the
protocol of the NAS-Bench-Graph tables (budget in queries: the source records no training time).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nasbench_suite.errors import UserInputError
from nasbench_suite.table import Table

if TYPE_CHECKING:
    from nasbench_suite.benchmark import Benchmark
    from nasbench_suite.surrogate import Surrogate

BUDGET_UNITS = {"s": "seconds", "q": "queries"}
NOISE = {"seed": "random", "mean": "mean"}  # a preset's noise -> the table benchmark's seed mode
_BUDGET_FORM = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:e[0-9]+)?)\s*(s|q)?\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class Budget:
    """A search budget: simulated seconds (sum of query costs) or a number of queries. A whole amount is stored as
    an int, so `--budget 12000`, "12000s" and the preset's Budget(12000) are one protocol (one hash)."""

    amount: float
    unit: str = "seconds"

    def __post_init__(self) -> None:
        if isinstance(self.amount, float) and self.amount.is_integer():
            object.__setattr__(self, "amount", int(self.amount))
        if self.unit not in BUDGET_UNITS.values():
            raise UserInputError(f"unknown budget unit {self.unit!r}; valid: {', '.join(BUDGET_UNITS.values())}")
        if not 0 < self.amount < math.inf:
            raise UserInputError(f"budget must be a positive finite amount, got {self.amount:g}; expected e.g. "
                                 "12000 (simulated seconds) or 100q (queries)")

    @classmethod
    def parse(cls, text: str | float | Budget) -> Budget:
        """'12000' or '12000s' (simulated seconds), '100q' (queries)."""
        if isinstance(text, Budget):
            return text
        match = _BUDGET_FORM.match(str(text))
        if not match:
            raise UserInputError(f"cannot read budget {text!r}; expected simulated seconds like 12000 or "
                                 "12000s, or a number of queries like 100q")
        unit = BUDGET_UNITS[(match.group(2) or "s").lower()]
        amount = float(match.group(1))
        if unit == "queries" and math.isfinite(amount) and not amount.is_integer():
            raise UserInputError(f"a query budget must be a whole number, got {text!r}")
        return cls(amount, unit)

    @property
    def max_seconds(self) -> float:
        return self.amount if self.unit == "seconds" else float("inf")

    @property
    def max_queries(self) -> int:
        return int(self.amount) if self.unit == "queries" else 2**62

    def __str__(self) -> str:
        return f"{self.amount:g} simulated seconds" if self.unit == "seconds" else f"{int(self.amount)} queries"


@dataclass(frozen=True)
class Preset:
    """A complete simulated-search protocol for a table benchmark."""

    name: str
    description: str
    search_metric: str
    search_fidelity: int  # epochs every single-fidelity strategy queries
    multi_fidelities: tuple[int, ...]  # epochs a multi-fidelity strategy may choose from
    report_metric: str
    report_epoch: int
    budget: Budget
    seeds: int
    noise: str  # "seed": a query returns one measured training seed (where a cell has several); "mean": their mean
    proxy_column: str | None
    strategies: tuple[str, ...] = ()  # specs replacing the same-named registered defaults when none are named

    def __post_init__(self) -> None:
        if self.noise not in NOISE:
            raise UserInputError(f"preset {self.name}: unknown noise {self.noise!r}; valid: {', '.join(NOISE)}")

    def default_strategies(self, registered: Sequence[str]) -> list[str]:
        """Every registered strategy but those run by an optional library (opt-in by name: their extra may be
        missing) and, under a preset without a proxy column, those that need one (name them with --proxy), each with
        this preset's settings where it names some (e.g. hpbandster's schedule for bohb under nb201-paper)."""
        from nasbench_suite.strategies import StrategySpec, get_strategy
        from nasbench_suite.strategies._library import LibraryStrategy

        chosen = {StrategySpec.parse(spec).name: spec for spec in self.strategies}
        return [chosen.get(name, name) for name in sorted(registered)
                if not issubclass(get_strategy(name), LibraryStrategy)
                and (self.proxy_column is not None or not get_strategy(name).needs_proxy)]

    def benchmark(self, table: Table, surrogate: Surrogate | None = None, hybrid: bool = False,
                  noise: bool = True) -> Benchmark:
        """The benchmark this preset searches: the table, or a surrogate fitted on it (`hybrid`: the table where it
        measured, the surrogate elsewhere; `noise=False`: the surrogate answers its predicted mean, not one sampled
        training run; the table's seed noise is this preset's `noise`); a clear error if a needed metric or fidelity
        is missing."""
        from nasbench_suite.benchmark import HybridBenchmark, SurrogateBenchmark, TableBenchmark

        metrics = (self.search_metric, self.report_metric, self.report_epoch)
        fidelities = (self.search_fidelity, *self.multi_fidelities)
        if surrogate is None:
            if hybrid:
                raise UserInputError("a hybrid benchmark needs a surrogate (--surrogate FILE)")
            return TableBenchmark(table, *metrics, NOISE[self.noise], fidelities=fidelities)
        if hybrid:
            benchmark = HybridBenchmark(surrogate, table, *metrics, noise=noise, seed_mode=NOISE[self.noise])
        else:
            benchmark = SurrogateBenchmark(surrogate, table, *metrics, noise=noise)
        for fidelity in fidelities:
            benchmark.check_fidelity(fidelity)
        return benchmark

    def for_table(self, table: Table) -> Preset:
        """This preset with every epoch `table` does not record replaced by the nearest lower one it does (else its
        lowest), e.g. the default preset on a 12-epoch-only table searches and scores at 12 epochs; the description
        says what changed."""
        search_epochs, report_epochs = table.epochs_of(self.search_metric), table.epochs_of(self.report_metric)
        if not search_epochs or not report_epochs:
            return self  # the benchmark names what is missing

        def fit(epoch: int, available: list[int]) -> int:
            return max((e for e in available if e <= epoch), default=available[0])

        search = fit(self.search_fidelity, search_epochs)
        multi = tuple(sorted({fit(f, search_epochs) for f in self.multi_fidelities}))
        report = fit(self.report_epoch, report_epochs)
        if (search, multi, report) == (self.search_fidelity, self.multi_fidelities, self.report_epoch):
            return self
        name = Path(table.path).stem if table.path is not None else "this table"
        note = (f"; on {name}, which records {self.search_metric} at epochs {', '.join(map(str, search_epochs))} "
                f"and {self.report_metric} at {', '.join(map(str, report_epochs))}, single-fidelity strategies "
                f"search at {search} epochs, multi-fidelity ones choose from {', '.join(map(str, multi))}, and the "
                f"score is {self.report_metric}@{report}")
        return replace(self, description=self.description + note, search_fidelity=search, multi_fidelities=multi,
                       report_epoch=report)

    def settings(self) -> dict[str, Any]:
        out = asdict(self)
        out["budget"] = str(self.budget)
        return out


NB201_PAPER = Preset(
    name="nb201-paper",
    description="NAS-Bench-201's simulated protocol (Dong & Yang 2020): search on 12-epoch validation accuracy "
                "(cifar10-valid), each query costs 12 training epochs plus one validation pass (NATS-Bench's "
                "per-epoch times of the cell, one figure per cell whatever the schedule), 12,000 simulated seconds, "
                "score = 200-epoch CIFAR-10 test accuracy of the incumbent, 500 runs per method; zero-cost ranks by "
                "NASWOT (Mellor et al. ICML 2021, proxy_naswot); noise = seed as the paper's searches, but the "
                "12-epoch results hold one published mean per cell (no per-seed data), so queries are noise-free",
    search_metric="valid_acc", search_fidelity=12, multi_fidelities=(12,), report_metric="test_acc",
    report_epoch=200, budget=Budget(12000), seeds=500, noise="seed", proxy_column="proxy_naswot",
    # the paper's four searchers with its scripts' settings (each strategy's docstring cites them);
    # REINFORCE answers with the best cell seen (93.75 +- 0.34 over 500 runs here); the script's own
    # answer, the policy's argmax (reinforce:incumbent=policy), scores 93.02 +- 0.96
    strategies=("random", "rea", "reinforce", "bohb:schedule=hpbandster"))
DEFAULT = Preset(
    name="default",
    description="full-fidelity search: single-fidelity strategies see 200-epoch validation accuracy "
                "(cifar10-valid on CIFAR-10, x-valid elsewhere), multi-fidelity ones choose 12 or 200 epochs; "
                "200,000 simulated seconds (about 110 full CIFAR-10 trainings); score = 200-epoch test accuracy "
                "of the incumbent, the cell with the best observed value, averaged over its training seeds; "
                "zero-cost ranks by NASWOT (Mellor et al. ICML 2021, proxy_naswot); noise = seed: a 200-epoch "
                "query returns one of the cell's 2-3 measured training seeds, drawn by the run's seeded generator "
                "(as NAS-Bench-201's API does), a 12-epoch query the published mean (no per-seed data)",
    search_metric="valid_acc", search_fidelity=200, multi_fidelities=(12, 200), report_metric="test_acc",
    report_epoch=200, budget=Budget(200_000), seeds=25, noise="seed", proxy_column="proxy_naswot")
NBGRAPH = Preset(
    name="nbgraph",
    description="NAS-Bench-Graph (Qin et al. 2022) tables nbg-<dataset>: search on the published validation "
                "performance, score = its test performance of the incumbent (both x 100: accuracy, ROC-AUC for "
                "proteins); budget = 100 queries, because the source publishes no training time per architecture "
                "(queries cost nothing here and no time is invented); one published value per cell, so queries are "
                "noise-free; no zero-cost proxy column",
    search_metric="valid_acc", search_fidelity=1, multi_fidelities=(1,), report_metric="test_acc", report_epoch=1,
    budget=Budget(100, "queries"), seeds=25, noise="mean", proxy_column=None)
PRESETS: dict[str, Preset] = {p.name: p for p in (
    NB201_PAPER, DEFAULT,
    replace(DEFAULT, name="default-noise-free", noise="mean",
            description=DEFAULT.description.split("; noise = seed")[0] + "; noise = mean: every query returns the "
            "seed mean (the default preset without training noise, for comparison: results/noise/README.md)"),
    NBGRAPH,
)}
DEFAULT_PRESET = "default"


def get_preset(name: str) -> Preset:
    """The named preset, or a clear error listing the valid names."""
    if name not in PRESETS:
        raise UserInputError(f"unknown preset {name!r}; valid: {', '.join(PRESETS)}")
    return PRESETS[name]
