"""Hardware-aware protocols: `hw-pareto` (accuracy vs one device's latency) and `hw-constrained` (best accuracy
under a latency limit), each for any of the table's latency/energy columns (`--device-metric`)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any

from nasbench_suite.errors import UserInputError
from nasbench_suite.multiobjective.strategies import DEFAULT_CONSTRAINED, DEFAULT_PARETO
from nasbench_suite.runner import Budget
from nasbench_suite.table import Table

KINDS = ("pareto", "constrained")


@dataclass(frozen=True)
class HWPreset:
    """A hardware-aware simulated-search protocol on a table benchmark.

    Strategies see `search_metric`@`search_epoch` (one measured training seed per query) and the device column;
    runs are scored by `report_metric`@`report_epoch`, which no strategy sees. A query costs
    epochs x train_seconds_per_epoch + eval_seconds, as in the single-objective runner. `hardware_free`: the
    device metric is measured without training, so it is known for every cell before any query (in
    hw-constrained an infeasible cell is then rejected at no cost; otherwise it is trained, charged and told as
    failed). `limit_quantile`: hw-constrained's limit is this quantile of the device metric over all cells.
    """

    name: str
    kind: str
    description: str
    device_metric: str
    search_metric: str = "valid_acc"
    search_epoch: int = 200
    report_metric: str = "test_acc"
    report_epoch: int = 200
    budget: Budget = Budget(200_000)
    seeds: int = 25
    strategies: tuple[str, ...] = ()
    hardware_free: bool = True
    limit_quantile: float | None = None

    def with_device(self, device_metric: str) -> HWPreset:
        return replace(self, device_metric=device_metric)

    def for_table(self, table: Table) -> HWPreset:
        """This preset with a search or report epoch the table does not record replaced by its last one (e.g.
        NAS-Bench-Graph's tables, one value per cell); unchanged where the table lacks the metric (the benchmark
        then says so)."""
        search, report = table.epochs_of(self.search_metric), table.epochs_of(self.report_metric)
        if not search or not report:
            return self
        return replace(self, search_epoch=self.search_epoch if self.search_epoch in search else search[-1],
                       report_epoch=self.report_epoch if self.report_epoch in report else report[-1])

    def settings(self) -> dict[str, Any]:
        out = asdict(self)
        out["budget"] = str(self.budget)
        return out


HW_PRESETS: dict[str, HWPreset] = {p.name: p for p in (
    HWPreset(name="hw-pareto", kind="pareto", device_metric="latency_pixel3_ms", strategies=DEFAULT_PARETO,
             description="two objectives: maximise 200-epoch validation accuracy (cifar10-valid, seen) and minimise "
                         "the device's latency (HW-NAS-Bench / HELP, free and known for every cell); the found set "
                         "(non-dominated among queried cells by what was seen) is scored by 200-epoch CIFAR-10 test "
                         "accuracy vs latency against the table's exact Pareto front; 200,000 simulated seconds "
                         "(about 110 full trainings)"),
    HWPreset(name="hw-constrained", kind="constrained", device_metric="latency_pixel3_ms",
             strategies=DEFAULT_CONSTRAINED, limit_quantile=0.25,
             description="best accuracy under a latency limit: maximise 200-epoch validation accuracy (seen) over "
                         "cells whose device latency is at most its 25% quantile over all cells; latency is free and "
                         "known before training, so an infeasible cell is told as failed at no cost; score = "
                         "200-epoch CIFAR-10 test accuracy of the best feasible cell seen; 200,000 simulated seconds"),
)}


def get_hw_preset(name: str) -> HWPreset:
    """The named hardware preset, or a one-line error listing the valid names."""
    if name not in HW_PRESETS:
        raise UserInputError(f"unknown hardware preset {name!r}; valid: {', '.join(HW_PRESETS)}")
    return HW_PRESETS[name]
