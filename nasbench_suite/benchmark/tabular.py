"""A benchmark answered by lookups in a table that covers the whole space."""

from __future__ import annotations

from typing import Any

import numpy as np

from nasbench_suite.benchmark.base import Benchmark, Observation
from nasbench_suite.errors import UserInputError
from nasbench_suite.space import ArchLike
from nasbench_suite.table import Table, TableError

TRAIN_SECONDS = "train_seconds_per_epoch"
EVAL_SECONDS = "eval_seconds"
SEED_MODES = ("mean", "random")


class TableBenchmark(Benchmark):
    """Each query returns the table's search metric at the asked epoch and costs the recorded training time.

    cost(arch, f) = f * train_seconds_per_epoch(arch) + eval_seconds(arch), NAS-Bench-201's simulated protocol.
    seed_mode "random" draws one measured training seed per query (noisy, like a real run); "mean" averages.
    """

    kind = "table"

    def __init__(self, table: Table, search_metric: str = "valid_acc", report_metric: str = "test_acc",
                 report_epoch: int | None = None, seed_mode: str = "mean") -> None:
        if seed_mode not in SEED_MODES:
            raise UserInputError(f"unknown seed mode {seed_mode!r}; valid: {', '.join(SEED_MODES)}")
        for column in (TRAIN_SECONDS, EVAL_SECONDS):
            table.column(column)  # clear error if the table cannot price a query
        self.table, self.seed_mode = table, seed_mode
        self.search_metric, self.report_metric = search_metric, report_metric
        self.space = table.space_obj
        self.fidelities = tuple(table.epochs_of(search_metric))
        if len(table.archs) != self.space.size:
            raise TableError(f"table covers {len(table.archs)} of {self.space.size} cells; a table benchmark "
                             "needs all of them (use a hybrid benchmark with a surrogate for the rest)")
        self.report_epoch = report_epoch if report_epoch is not None else table.epochs_of(report_metric)[-1]
        self._report = table.values(report_metric, self.report_epoch)
        self._seen_mean = {f: table.values(search_metric, f) for f in self.fidelities}
        self._seen_all = table.metrics[search_metric].values  # [arch, seed, epoch]
        self._epoch_pos = {f: list(table.epochs).index(f) for f in self.fidelities}
        self._train_seconds = np.nan_to_num(table.column(TRAIN_SECONDS))
        self._eval_seconds = np.nan_to_num(table.column(EVAL_SECONDS))

    def evaluate(self, arch: ArchLike, fidelity: int, rng: np.random.Generator) -> Observation:
        index = self._index(arch)
        if fidelity not in self._seen_mean:
            self.check_fidelity(fidelity)
        if self.seed_mode == "random":
            seeds = self._seen_all[index, :, self._epoch_pos[fidelity]]
            measured = seeds[~np.isnan(seeds)]
            value = float(measured[rng.integers(len(measured))]) if len(measured) else np.nan
        else:
            value = float(self._seen_mean[fidelity][index])
        return Observation(value, self.cost(index, fidelity), "table")

    def describe(self) -> dict[str, Any]:
        return {"kind": self.kind, "table": str(self.table.path), "dataset": self.table.dataset,
                "dataset_sha256": self.table.dataset_sha256, "search_metric": self.search_metric,
                "report_metric": f"{self.report_metric}@{self.report_epoch}", "fidelities": list(self.fidelities),
                "seed_mode": self.seed_mode, "cost": f"epochs * {TRAIN_SECONDS} + {EVAL_SECONDS}",
                "table_provenance": self.table.provenance, "table_protocol": self.table.protocol}
