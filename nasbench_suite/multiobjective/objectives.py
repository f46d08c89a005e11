"""Objectives from table data: any metric at an epoch or any per-cell column, with a direction.

Form: `NAME[@EPOCH][:max|:min]`, e.g. `valid_acc@200`, `latency_pixel3_ms`, `params_m:min`. Without a direction,
accuracies and proxy scores are maximised and everything else (latency, energy, params, FLOPs, losses) minimised.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nasbench_suite.errors import UserInputError
from nasbench_suite.table import Table

OBJECTIVE_FORM = "NAME[@EPOCH][:max|:min], e.g. valid_acc@200 or latency_pixel3_ms"
HARDWARE_PREFIXES = ("latency_", "energy_")
DIRECTIONS = ("max", "min")


@dataclass(frozen=True)
class Objective:
    """A table metric at an epoch (`epoch` set) or a per-cell column (`epoch` None), maximised or minimised."""

    name: str
    epoch: int | None = None
    maximize: bool = False

    @classmethod
    def parse(cls, text: str, table: Table) -> Objective:
        """A validated objective; a one-line error names the valid metrics and columns of `table`."""
        body, _, direction = str(text).strip().partition(":")
        name, at, epoch_text = body.partition("@")
        if direction and direction not in DIRECTIONS:
            raise UserInputError(f"objective {text!r}: direction {direction!r} is not max or min; expected "
                                 f"{OBJECTIVE_FORM}")
        if name in table.metrics:
            epochs = table.epochs_of(name)
            try:
                epoch = int(epoch_text) if at else epochs[-1]
            except ValueError:
                epoch = None
            if epoch not in epochs:
                raise UserInputError(f"objective {text!r}: {name} is recorded at epochs "
                                     f"{', '.join(map(str, epochs))}; expected {OBJECTIVE_FORM}")
        elif name in table.columns and not at:
            epoch = None
        else:
            raise UserInputError(f"objective {text!r}: no such metric or per-cell column; expected {OBJECTIVE_FORM} "
                                 f"with a metric ({', '.join(sorted(table.metrics))}) or a column "
                                 f"({', '.join(sorted(table.columns))})")
        maximize = direction == "max" if direction else default_maximize(name)
        return cls(name, epoch, maximize)

    @property
    def label(self) -> str:
        return f"{self.name}{'' if self.epoch is None else f'@{self.epoch}'}:{'max' if self.maximize else 'min'}"

    def values(self, table: Table) -> np.ndarray:
        """The raw value of every cell of the space in official index order (NaN where the table has none)."""
        out = np.full(table.space_obj.size, np.nan)
        out[table.archs] = table.column(self.name) if self.epoch is None else table.values(self.name, self.epoch)
        return out


def default_maximize(name: str) -> bool:
    """Accuracies and proxy scores go up; latency, energy, size, FLOPs and losses go down."""
    return name.endswith("_acc") or name.startswith(("proxy_", "naswot"))


def minimised(table: Table, objectives: list[Objective]) -> np.ndarray:
    """[cells, objectives] values with maximised objectives negated, so lower is better in every column."""
    return np.stack([(-1 if o.maximize else 1) * o.values(table) for o in objectives], axis=1)


def hardware_columns(table: Table) -> list[str]:
    """The per-cell latency and energy columns of a table (HW-NAS-Bench and HELP measurements)."""
    return sorted(c for c in table.columns if c.startswith(HARDWARE_PREFIXES))


def check_device_metric(table: Table, column: str, table_name: str) -> str:
    """`column` if it is a hardware column of `table`; else a one-line error naming the valid ones."""
    valid = hardware_columns(table)
    if column not in valid:
        raise UserInputError(f"--device-metric {column!r} is not a hardware column of {table_name}; expected one of "
                             f"{', '.join(valid) or 'none (this table has no latency_/energy_ columns)'}")
    return column
