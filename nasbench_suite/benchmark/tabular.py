"""A benchmark answered by lookups in a table that covers the whole space."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from nasbench_suite.benchmark.base import EXCLUDED, Benchmark, Observation
from nasbench_suite.errors import UserInputError
from nasbench_suite.space import ArchLike
from nasbench_suite.table import Table, TableError

TRAIN_SECONDS = "train_seconds_per_epoch"
EVAL_SECONDS = "eval_seconds"
SEED_MODES = ("mean", "random")
UNPRICED = "none: the table records no training time, so a search's budget is a number of queries"


class TableBenchmark(Benchmark):
    """Each query returns the table's search metric at the asked epoch and costs the recorded training time.

    cost(arch, f) = f * train_seconds_per_epoch(arch) + eval_seconds(arch), NAS-Bench-201's simulated protocol; a
    table without an eval_seconds column (evaluation time not recorded) prices f * train_seconds_per_epoch and
    says so in `describe()`; a table without training times (NAS-Bench-Graph's) is unpriced: queries cost 0 and
    only a query budget can bound a search (the runner refuses a seconds budget). seed_mode "random": a query of a cell with several measured training seeds at that epoch
    returns one of them, drawn from the run's noise generator (noisy, like NAS-Bench-201's API); "mean" (and a cell
    with one value, e.g. a published mean) answers the seed mean (`Table.seed_values`). The report metric is
    always the seed mean. `fidelities`: the epochs a search will ask (default: every one the table has).
    """

    kind = "table"

    def __init__(self, table: Table, search_metric: str = "valid_acc", report_metric: str = "test_acc",
                 report_epoch: int | None = None, seed_mode: str = "mean",
                 fidelities: Sequence[int] | None = None) -> None:
        if seed_mode not in SEED_MODES:
            raise UserInputError(f"unknown seed mode {seed_mode!r}; valid: {', '.join(SEED_MODES)}")
        self.table, self.seed_mode = table, seed_mode
        self.search_metric, self.report_metric = search_metric, report_metric
        self.space = table.space_obj
        if len(table.archs) != self.space.size:
            raise TableError(f"table covers {len(table.archs)} of {self.space.size} cells; a table benchmark "
                             "needs all of them (use a hybrid benchmark with a surrogate for the rest)")
        self.fidelities = tuple(table.epochs_of(search_metric))
        if fidelities is not None:
            self.fidelities = tuple(sorted({self.check_fidelity(f) for f in fidelities}))
        self.report_epoch = report_epoch if report_epoch is not None else table.epochs_of(report_metric)[-1]
        self._report = table.values(report_metric, self.report_epoch)
        self._seen_mean = {f: table.values(search_metric, f) for f in self.fidelities}
        self._draws = {f: [tuple(v[~np.isnan(v)].tolist()) for v in table.seed_values(search_metric, f)]
                       for f in self.fidelities}  # per cell, the values one query may return
        self.priced = TRAIN_SECONDS in table.columns
        self._train_seconds = table.column(TRAIN_SECONDS) if self.priced else np.zeros(self.space.size)
        self.eval_recorded = EVAL_SECONDS in table.columns
        self._eval_seconds = table.column(EVAL_SECONDS) if self.eval_recorded else np.zeros(self.space.size)
        missing = {f"{search_metric}@{f}": ~np.isfinite(v) for f, v in self._seen_mean.items()}
        if self.priced:
            missing[TRAIN_SECONDS] = ~np.isfinite(self._train_seconds)
        missing[EVAL_SECONDS] = ~np.isfinite(self._eval_seconds)
        self._set_searchable(missing)

    def evaluate(self, arch: ArchLike, fidelity: int, rng: np.random.Generator) -> Observation:
        index = self._index(arch)
        if fidelity not in self._seen_mean:
            self.check_fidelity(fidelity)
        if not self._searchable[index]:
            return EXCLUDED
        draws = self._draws[fidelity][index]
        if self.seed_mode == "random" and len(draws) > 1:
            value = draws[rng.integers(len(draws))]
        else:
            value = float(self._seen_mean[fidelity][index])
        return Observation(value, self.cost(index, fidelity), "table")

    def describe(self) -> dict[str, Any]:
        columns = self.table.columns
        return {"kind": self.kind, "table": str(self.table.path), "dataset": self.table.dataset,
                "dataset_sha256": self.table.dataset_sha256, "search_metric": self.search_metric,
                "report_metric": f"{self.report_metric}@{self.report_epoch}", "fidelities": list(self.fidelities),
                "seed_mode": self._seed_mode_described(),
                "cost": cost_formula(self.eval_recorded) if self.priced else UNPRICED,
                "cost_columns": {name: columns[name].description for name in (TRAIN_SECONDS, EVAL_SECONDS)
                                 if name in columns},
                **self.exclusion(), "table_provenance": self.table.provenance, "table_protocol": self.table.protocol}

    def _seed_mode_described(self) -> str:
        """The seed mode, and for "random" at which fidelities queries are noisy (several values per cell)."""
        if len(self.table.seeds) == 1:
            return f"{self.seed_mode} (the table holds one training seed per cell, so queries are noise-free)"
        if self.seed_mode != "random":
            return self.seed_mode
        counts = {f: sorted({len(d) for d in draws}) for f, draws in self._draws.items()}
        return f"{self.seed_mode} (" + "; ".join(
            f"{self.search_metric}@{f}: one of {c[0]}-{c[-1]} measured seeds per query" if c[-1] > 1 else
            f"{self.search_metric}@{f}: one value per cell, noise-free" for f, c in counts.items()) + ")"


def cost_formula(eval_recorded: bool) -> str:
    """How a query is priced, in words for the leaderboard header."""
    if eval_recorded:
        return f"epochs * {TRAIN_SECONDS} + {EVAL_SECONDS}"
    return f"epochs * {TRAIN_SECONDS} (evaluation time is not recorded for this table and not counted)"
