"""An experiment: the benchmark, protocol, strategies, seeds and budget behind one leaderboard, in one object.

Built from keyword arguments, from the `benchmark` command's flags, or from a small TOML or JSON file
(`Experiment.from_file`, every key and value checked); `run` simulates it. Whichever way it was built, `command()`
is the `nasbench-suite benchmark` line that reproduces it, and the same settings give the same runs and bytes.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nasbench_suite import jsonio
from nasbench_suite.errors import UserInputError
from nasbench_suite.runner.presets import DEFAULT_PRESET, PRESETS, Budget, Preset, get_preset
from nasbench_suite.runner.runs import Runs
from nasbench_suite.runner.simulate import run
from nasbench_suite.seeds import COUNT_FORM, format_seeds, parse_seeds, seed_list
from nasbench_suite.strategies import STRATEGIES, StrategySpec, get_strategy
from nasbench_suite.table import Table, open_table
from nasbench_suite.table.registry import DEFAULT_TABLE

if TYPE_CHECKING:
    import numpy as np

    from nasbench_suite.benchmark import Benchmark

RESULTS_DIR = Path("results")
STRATEGIES_FORM = ('spec strings NAME[:KEY=VALUE...] (one comma-separated string or a list), or tables like '
                   '{name = "reinforce", lr = 0.01}')


@dataclass(frozen=True)
class Experiment:
    """What to simulate; unset settings take the preset's (strategies: every registered one, with the preset's
    settings where it names some). Values are checked and normalised on construction."""

    preset: str = DEFAULT_PRESET
    table: str = DEFAULT_TABLE  # embedded table name or path
    strategies: tuple[str, ...] = ()  # canonical spec labels, e.g. ("rea", "reinforce:lr=0.01")
    seeds: tuple[int, ...] = ()
    budget: Budget | None = None
    proxy: str | None = None  # table column zero-cost strategies rank by; None: the preset's, where the table has it
    surrogate: str | None = None  # a surrogate file (fitted on the table) answers the queries
    hybrid: bool = False  # with a surrogate: the table where it measured, the surrogate elsewhere
    surrogate_noise: bool = True  # with a surrogate: one sampled training run per query; False: the predicted mean

    def __post_init__(self) -> None:
        for key, check in _CHECKS.items():
            object.__setattr__(self, key, check(getattr(self, key)))
        preset = get_preset(self.preset)
        if not self.strategies:
            object.__setattr__(self, "strategies", _strategies(preset.default_strategies(STRATEGIES)))
        if not self.seeds:
            object.__setattr__(self, "seeds", tuple(range(preset.seeds)))
        if self.budget is None:
            object.__setattr__(self, "budget", preset.budget)
        if self.surrogate is None and (self.hybrid or not self.surrogate_noise):
            what = "a hybrid benchmark" if self.hybrid else "surrogate_noise = false (--surrogate-mean)"
            raise UserInputError(f"{what} needs a surrogate (--surrogate FILE, or surrogate = \"FILE\" in an "
                                 "experiment file)")

    @classmethod
    def from_file(cls, path: str | os.PathLike, **overrides: Any) -> Experiment:
        """The experiment a .toml or .json file describes (keys: the fields of this class), with `overrides`
        (e.g. command-line flags) replacing the file's values; one-line errors naming the file, key and form."""
        path = Path(path)
        if path.suffix not in (".toml", ".json"):
            raise UserInputError(f"experiment file {path}: expected a .toml or .json file")
        text = ""
        try:
            text = path.read_text()
            data = tomllib.loads(text) if path.suffix == ".toml" else jsonio.loads(text)
        except (tomllib.TOMLDecodeError, json.JSONDecodeError, ValueError, UnicodeDecodeError) as exc:
            raise UserInputError(f"cannot read experiment file {path}: {str(exc).splitlines()[0]}"
                                 f"{_quoted_line(text, exc)}") from None
        except RecursionError:  # tomllib recurses per nesting level (jsonio turns JSON's into a ValueError)
            raise UserInputError(f"cannot read experiment file {path}: nested too deeply (arrays or tables inside "
                                 "each other hundreds of levels deep); expected a table of settings") from None
        if not isinstance(data, dict):
            raise UserInputError(f"experiment file {path}: expected a table of settings ({', '.join(_CHECKS)})")
        settings = {}
        for key, value in data.items():
            if key not in _CHECKS:
                raise UserInputError(f"experiment file {path}: unknown key {key!r}; valid: {', '.join(_CHECKS)}")
            try:
                settings[key] = _CHECKS[key](value)
            except UserInputError as exc:  # named by its key, unless the message starts with it
                named = str(exc).startswith((f"{key} ", f"{key}:", f"--{key} "))
                raise UserInputError(f"experiment file {path}: {'' if named else key + ': '}{exc}") from None
        return cls(**{**settings, **overrides})

    def default_out(self) -> Path:
        """results/ for the default preset on the default table, else
        results/<preset>[-<table>][-<surrogate|hybrid>]/."""
        kind = "" if self.surrogate is None else "hybrid" if self.hybrid else "surrogate"
        parts = [p for p in (self.preset if self.preset != DEFAULT_PRESET else "",
                             Path(self.table).stem if self.table != DEFAULT_TABLE else "", kind) if p]
        return RESULTS_DIR / "-".join(parts) if parts else RESULTS_DIR

    def prepare(self, table: Table | None = None) -> Setup:
        """Open the table (or take `table`, already opened from `self.table`) and the surrogate, and build the
        benchmark; errors for a missing column, file or fidelity."""
        from nasbench_suite.surrogate import load as load_surrogate

        table = table if table is not None else open_table(self.table)
        preset = get_preset(self.preset).for_table(table)  # e.g. a 12-epoch-only table: search and score at 12
        if self.proxy is not None and self.proxy not in table.columns:
            raise UserInputError(f"proxy {self.proxy!r}: {self.table} has no such per-cell column; expected one such "
                                 f"as naswot_score or proxy_synflow (list them: nasbench-suite info {self.table})")
        surrogate = load_surrogate(self.surrogate, table=table) if self.surrogate is not None else None
        benchmark = preset.benchmark(table, surrogate, self.hybrid, self.surrogate_noise)
        column = self.proxy or preset.proxy_column
        proxy = table.column(column) if column in table.columns else None
        return Setup(self, table, preset, benchmark, column if proxy is not None else None, proxy)

    def run(self, out: str | os.PathLike | None = None, jobs: int | None = None, resume: bool = True,
            overwrite: bool = False, progress: bool = False) -> Runs:
        """Prepare and run (see `Setup.run`)."""
        return self.prepare().run(out, jobs, resume, overwrite, progress)


@dataclass(frozen=True)
class Setup:
    """A prepared experiment: its table, its preset fitted to the table, the benchmark and the proxy scores."""

    experiment: Experiment
    table: Table
    preset: Preset
    benchmark: Benchmark
    proxy_column: str | None  # None where the table lacks the column
    proxy: np.ndarray | None

    def protocol(self) -> dict[str, Any]:
        """The settings recorded with (and hashed into) the runs besides the benchmark's own description."""
        return {"preset": self.preset.name, "preset_description": self.preset.description,
                "proxy_column": self.proxy_column}

    def command(self) -> str:
        """The `nasbench-suite benchmark` command line that reproduces this experiment."""
        e, budget = self.experiment, self.experiment.budget
        return (f"nasbench-suite benchmark --preset {e.preset} --table {e.table} --strategies "
                f"{','.join(e.strategies)} --seeds {format_seeds(e.seeds)} --budget {budget.amount:g}{budget.unit[0]}"
                f"{f' --proxy {self.proxy_column}' if self.proxy_column else ''}"
                f"{f' --surrogate {e.surrogate}' if e.surrogate is not None else ''}{' --hybrid' if e.hybrid else ''}"
                f"{'' if e.surrogate_noise else ' --surrogate-mean'}")

    def run(self, out: str | os.PathLike | None = None, jobs: int | None = None, resume: bool = True,
            overwrite: bool = False, progress: bool = False) -> Runs:
        """Every strategy x seed (see `runner.run`): stored under `out` as each finishes, reusing the runs stored
        there under the identical protocol unless `resume` is False; `overwrite` deletes runs of another protocol."""
        e = self.experiment
        return run(self.benchmark, e.strategies, e.seeds, e.budget, default_fidelity=self.preset.search_fidelity,
                   fidelities=self.preset.multi_fidelities, proxy=self.proxy, jobs=jobs, out_dir=out, resume=resume,
                   overwrite=overwrite, progress=progress, protocol=self.protocol())


def _quoted_line(text: str, exc: Exception) -> str:
    """' in: LINE' for a TOML error's 'at line N' (e.g. a key given twice: TOML's message names no key)."""
    where = re.search(r"\(at (?:line (\d+),|end of document)", str(exc))
    if not isinstance(exc, tomllib.TOMLDecodeError) or not where or not text.strip():
        return ""
    lines = text.splitlines()
    line = lines[min(int(where.group(1) or len(lines)), len(lines)) - 1].strip()
    return f" in: {line[:80]}" if line else ""


def _preset(value: Any) -> str:
    if not isinstance(value, str):
        raise UserInputError(f"preset = {value!r}: expected a preset name: {', '.join(PRESETS)}")
    return get_preset(value).name


def _path(key: str, optional: bool) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        if value is None and optional:
            return None
        if not isinstance(value, (str, os.PathLike)) or not str(value).strip():
            raise UserInputError(f"{key} = {value!r}: expected a {'file path' if optional else 'name or path'}")
        return os.fspath(value)
    return check


def _strategies(value: Any) -> tuple[str, ...]:
    """Spec strings, a comma-separated string of them, or {name = ..., KEY = VALUE} tables -> canonical labels."""
    if value is None or value == ():
        return ()
    items = [s for s in value.split(",") if s.strip()] if isinstance(value, str) else value
    if not isinstance(items, (list, tuple)) or not items:
        raise UserInputError(f"strategies = {value!r}: expected {STRATEGIES_FORM}")
    labels = []
    for item in items:
        if isinstance(item, Mapping):
            params = dict(item)
            name = params.pop("name", None)
            if not isinstance(name, str):
                raise UserInputError(f"strategies: {item!r} has no name; expected {STRATEGIES_FORM}")
            strategy = get_strategy(name)
            item = StrategySpec(strategy.name, strategy.check_params(params))
        elif not isinstance(item, (str, StrategySpec)):
            raise UserInputError(f"strategies: {item!r} is not a strategy; expected {STRATEGIES_FORM}")
        labels.append(StrategySpec.parse(item).label)
    return tuple(dict.fromkeys(labels))


def _seeds(value: Any) -> tuple[int, ...]:
    """A count N (seeds 0..N-1), a text like '0-4,7', or a list of seeds."""
    if value is None or value == ():
        return ()
    if isinstance(value, str):
        return tuple(parse_seeds(value, count=True))
    if isinstance(value, bool) or not (isinstance(value, int) or (isinstance(value, (list, tuple)) and all(
            isinstance(s, int) and not isinstance(s, bool) for s in value))):
        raise UserInputError(f"seeds = {value!r}: expected {COUNT_FORM}, or a list of seeds")
    return tuple(seed_list(value, f"seeds = {value}" if isinstance(value, int) else "seeds"))


def _budget(value: Any) -> Budget | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, float, Budget)):
        raise UserInputError(f"budget = {value!r}: expected simulated seconds like 12000 or \"12000s\", or "
                             "queries like \"100q\"")
    return Budget.parse(value)


def _proxy(value: Any) -> str | None:
    if value is not None and (not isinstance(value, str) or not value.strip()):
        raise UserInputError(f"proxy = {value!r}: expected a table column name such as proxy_synflow")
    return value


def _flag(key: str) -> Callable[[Any], bool]:
    def check(value: Any) -> bool:
        if not isinstance(value, bool):
            raise UserInputError(f"{key} = {value!r}: expected true or false")
        return value
    return check


_CHECKS: dict[str, Callable[[Any], Any]] = {
    "preset": _preset, "table": _path("table", optional=False), "strategies": _strategies, "seeds": _seeds,
    "budget": _budget, "proxy": _proxy, "surrogate": _path("surrogate", optional=True), "hybrid": _flag("hybrid"),
    "surrogate_noise": _flag("surrogate_noise")}
