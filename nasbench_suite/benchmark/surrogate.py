"""Benchmarks answered by a fitted surrogate for every cell, or by the table where it measured and the surrogate
elsewhere. Each Observation names its source ("surrogate" or "table").

Search values: the surrogate's targets `<search_metric>@<epoch>` are the fidelities; with `noise=True` each query
draws one fresh training run (Surrogate.sample). Report values: the surrogate's `<report_metric>@<epoch>` mean
(surrogate mode), or the table's seed-mean where measured and that prediction elsewhere (hybrid mode).
Cost: `epochs * train_seconds_per_epoch + eval_seconds`, from the table's columns where it has them, else from the
surrogate's prediction of those columns (build it with them as targets); eval_seconds recorded nowhere counts 0 (the
description says so). A cell left without a cost is outside the searchable set (see Benchmark).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from nasbench_suite.benchmark.base import EXCLUDED, Benchmark, Observation
from nasbench_suite.benchmark.tabular import EVAL_SECONDS, SEED_MODES, TRAIN_SECONDS, cost_formula
from nasbench_suite.errors import UserInputError
from nasbench_suite.space import ArchLike, get_space
from nasbench_suite.surrogate.api import Surrogate, check_table
from nasbench_suite.table import Table


class SurrogateBenchmark(Benchmark):
    """Every answer from the surrogate; the table (optional) only prices queries and is checked against it."""

    kind = "surrogate"

    def __init__(self, surrogate: Surrogate, table: Table | None = None, search_metric: str = "valid_acc",
                 report_metric: str = "test_acc", report_epoch: int | None = None, noise: bool = True) -> None:
        if table is not None:
            check_table(surrogate, table)
        self.surrogate, self.table, self.noise = surrogate, table, noise
        self.space = get_space(surrogate.space_name_)
        self.search_metric, self.report_metric = search_metric, report_metric
        labels = surrogate.target_labels
        self.fidelities = tuple(sorted(t.epoch for t in surrogate.targets_ if t.name == search_metric))
        if not self.fidelities:
            raise UserInputError(f"the surrogate does not predict {search_metric!r} (it predicts {', '.join(labels)})"
                                 f"; build it with --target {search_metric},{report_metric}")
        report_epochs = [t.epoch for t in surrogate.targets_ if t.name == report_metric]
        if not report_epochs:
            raise UserInputError(f"the surrogate does not predict the report metric {report_metric!r} (it predicts "
                                 f"{', '.join(labels)}); build it with --target {search_metric},{report_metric}")
        self.report_epoch = report_epoch if report_epoch is not None else max(report_epochs)
        self._report_out = surrogate.output(f"{report_metric}@{self.report_epoch}")
        everything = np.arange(self.space.size)
        mean, sd = surrogate.observation_sd(everything)
        self._mean, self._sd = mean.reshape(self.space.size, -1), sd.reshape(self.space.size, -1)
        self._search_out = {f: surrogate.output(f"{search_metric}@{f}") for f in self.fidelities}
        self._report = self._mean[:, self._report_out].copy()
        self._use_table_values(table)
        self._train_seconds, train_src = self._cost_column(TRAIN_SECONDS)
        self._eval_seconds, eval_src = self._cost_column(EVAL_SECONDS)
        self.cost_source = {TRAIN_SECONDS: train_src, EVAL_SECONDS: eval_src}
        self._set_searchable({TRAIN_SECONDS: ~np.isfinite(self._train_seconds),
                              EVAL_SECONDS: ~np.isfinite(self._eval_seconds)})

    def _use_table_values(self, table: Table | None) -> None:
        """Hybrid mode takes the table's measured values here; surrogate mode answers everything itself."""

    def _cost_column(self, name: str) -> tuple[np.ndarray, str]:
        """A cost column for every cell: the table's where it has one, else the surrogate's prediction. Without
        that prediction, cells the table holds with no value stay NaN (excluded); cells it lacks are an error."""
        in_table = self.table is not None and name in self.table.columns
        values = np.full(self.space.size, np.nan)
        if in_table:
            values[self.table.archs] = self.table.column(name)
        missing = ~np.isfinite(values)
        if not missing.any():
            return values, "table"
        if name in self.surrogate.target_labels:
            values[missing] = np.maximum(self._mean[missing, self.surrogate.output(name)], 0.0)
            return values, "table+surrogate" if (~missing).any() else "surrogate"
        if name == EVAL_SECONDS and not in_table:
            return np.zeros(self.space.size), "not recorded"
        unheld = missing.copy()
        if self.table is not None:
            unheld[self.table.archs] = False
        if unheld.any():
            raise UserInputError(f"cannot price {int(unheld.sum())} cells: the table does not hold them and the "
                                 f"surrogate does not predict {name!r}; build it with {name} among its targets")
        return values, "table"

    def _measured(self, index: int, fidelity: int, rng: np.random.Generator) -> float | None:
        """The table's value for this query, or None to ask the surrogate (surrogate mode: always None)."""
        return None

    def evaluate(self, arch: ArchLike, fidelity: int, rng: np.random.Generator) -> Observation:
        index = self._index(arch)
        if fidelity not in self._search_out:
            self.check_fidelity(fidelity)
        if not self._searchable[index]:
            return EXCLUDED
        cost = self.cost(index, fidelity)
        measured = self._measured(index, fidelity, rng)
        if measured is not None:
            return Observation(measured, cost, "table")
        k = self._search_out[fidelity]
        value = self._mean[index, k] + (self._sd[index, k] * rng.standard_normal() if self.noise else 0.0)
        return Observation(float(value), cost, "surrogate")

    def describe(self) -> dict[str, Any]:
        meta = self.surrogate.metadata()
        meta["train_cells"] = len(meta["train_cells"])
        del meta["created"]  # a refit of the same surrogate answers identically: its runs stay reusable
        return {"kind": self.kind, "search_metric": self.search_metric,
                "report_metric": f"{self.report_metric}@{self.report_epoch}", "fidelities": list(self.fidelities),
                "noise": "one sampled training run per query" if self.noise else "none (predicted mean)",
                "cost": cost_formula(self.cost_source[EVAL_SECONDS] != "not recorded"),
                "cost_source": self.cost_source, **self.exclusion(),
                "table": str(self.table.path) if self.table is not None else None, "surrogate": meta,
                **({"dataset": self.table.dataset, "dataset_sha256": self.table.dataset_sha256,
                    "table_provenance": self.table.provenance} if self.table is not None else {})}


class HybridBenchmark(SurrogateBenchmark):
    """The table answers where it measured the asked value, the surrogate everywhere else (search and report)."""

    kind = "hybrid"

    def __init__(self, surrogate: Surrogate, table: Table, search_metric: str = "valid_acc",
                 report_metric: str = "test_acc", report_epoch: int | None = None, noise: bool = True,
                 seed_mode: str = "mean") -> None:
        if seed_mode not in SEED_MODES:
            raise UserInputError(f"unknown seed mode {seed_mode!r}; valid: {', '.join(SEED_MODES)}")
        self.seed_mode = seed_mode
        super().__init__(surrogate, table, search_metric, report_metric, report_epoch, noise)

    def _use_table_values(self, table: Table | None) -> None:
        size = self.space.size
        self._table_search = {}  # fidelity -> [cell, seed] values that stand for the cell (`Table.seed_values`)
        for f in self.fidelities:
            values = np.full((size, len(table.seeds)), np.nan)
            if f in table.epochs_of(self.search_metric):
                values[table.archs] = table.seed_values(self.search_metric, f)
            self._table_search[f] = values
        measured_report = np.full(size, np.nan)  # the surrogate was fitted on this table, so it has the metric
        measured_report[table.archs] = table.values(self.report_metric, self.report_epoch)
        self.report_from_table = ~np.isnan(measured_report)
        self._report = np.where(self.report_from_table, measured_report, self._report)

    def _measured(self, index: int, fidelity: int, rng: np.random.Generator) -> float | None:
        seeds = self._table_search[fidelity][index]
        measured = seeds[~np.isnan(seeds)]
        if not len(measured):
            return None
        if self.seed_mode == "random":
            return float(measured[rng.integers(len(measured))])
        return float(measured.mean())

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "seed_mode": self.seed_mode,
                "search_from_table": {f: int((~np.isnan(v).all(axis=1)).sum()) for f, v in self._table_search.items()},
                "report_from_table": int(self.report_from_table.sum())}
