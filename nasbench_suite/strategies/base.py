"""The ask/tell interface every search strategy implements, its declared hyperparameters, and the registry.

A strategy proposes a cell (and, if it is multi-fidelity, the number of training epochs), is told the value
observed, and proposes again. It never sees a table or a benchmark: only what `tell` gives it, plus the free
context below, so the same strategy runs on a table, a surrogate or a real trainer.

Each strategy declares its hyperparameters (`Strategy.hyperparameters`); a spec string
`NAME[:KEY=VALUE[:KEY=VALUE...]]` (e.g. `reinforce:lr=0.01`) names a strategy with settings, and its canonical
`label` (the name alone for the defaults) is what runs and leaderboards are keyed by.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from nasbench_suite.errors import UserInputError
from nasbench_suite.space import NB201, Ops, Space

# Every count of cells (populations, pools, candidates, startup queries) is at most NB201's 15,625 cells, whatever
# the space: the bound keeps every declared setting runnable on a small machine (2 cores, 24 GB).
CELLS = NB201.size
SIZE = f"[1, {CELLS}]"
FAMILIES = ("sampling", "evolution/local", "RL", "model-based", "multi-fidelity", "zero-cost")
SPEC_FORM = "NAME[:KEY=VALUE[:KEY=VALUE...]], e.g. reinforce:lr=0.01"
_TRUE, _FALSE = ("true", "yes", "1"), ("false", "no", "0")


@dataclass(frozen=True)
class Trial:
    """One proposal: a cell (one value id per position of the space) and the fidelity (training epochs) to evaluate it at."""

    arch: Ops
    fidelity: int


@dataclass
class Context:
    """What a strategy may know besides its observations.

    fidelities: epochs the benchmark can answer, ascending; single-fidelity strategies use `fidelities[-1]`
        unless the runner sets `default_fidelity`.
    proxy: a free per-cell score (e.g. a zero-cost proxy column), or None where the benchmark has none.
    """

    space: Space = NB201
    rng: np.random.Generator | None = None
    fidelities: tuple[int, ...] = (200,)
    default_fidelity: int | None = None
    proxy: Callable[[Ops], float] | None = None

    def __post_init__(self) -> None:
        if self.rng is None:
            raise UserInputError("a strategy needs an explicit numpy Generator (np.random.default_rng(seed))")
        if self.default_fidelity is None:
            self.default_fidelity = self.fidelities[-1]


@dataclass(frozen=True)
class Hyperparameter:
    """A declared strategy setting: default, type, valid values and what it does.

    interval: valid numbers in interval notation, e.g. "(0, 1]" or "[1, inf)"; choices: the valid values.
    A None default means "derived from the context" (the doc says how) and takes `type` explicitly.
    """

    name: str
    default: Any
    doc: str
    type: type | None = None
    interval: str | None = None
    choices: tuple[Any, ...] | None = None

    @property
    def kind(self) -> type:
        return self.type or type(self.default)

    @property
    def valid(self) -> str:
        """The valid values in words, for errors and listings."""
        if self.choices is not None:
            return "one of " + ", ".join(map(str, self.choices))
        if self.kind is object:
            return "a Python object (not settable from a spec string)"
        return f"{self.kind.__name__}{f' in {self.interval}' if self.interval else ''}"

    def coerce(self, value: Any, owner: str) -> Any:
        """`value` (a spec-string text or a Python value) as this setting's type; one-line error if invalid."""
        bad = UserInputError(f"{owner}: {self.name}={value!r} is invalid; expected {self.valid}")
        if value is None and self.default is None:
            return None
        kind = self.kind
        if kind is object:
            if isinstance(value, str):
                raise bad
            return value
        try:
            if kind is bool:
                text = str(value).lower()
                value = True if text in _TRUE else False if text in _FALSE else None
                if value is None:
                    raise ValueError
            elif kind is int:
                number = float(value) if isinstance(value, str) else value
                if isinstance(number, bool) or not float(number).is_integer():
                    raise ValueError
                value = int(number)
            elif kind is float:
                if isinstance(value, bool):
                    raise ValueError
                value = float(value)
            else:
                value = kind(value)
        except (TypeError, ValueError, OverflowError):
            raise bad from None
        if (self.choices is not None and value not in self.choices) or not _in_interval(value, self.interval):
            raise bad
        return value


def _in_interval(value: Any, interval: str | None) -> bool:
    if interval is None:
        return True
    low, high = (float(bound) for bound in interval[1:-1].split(","))
    above = value > low if interval[0] == "(" else value >= low
    below = value < high if interval[-1] == ")" else value <= high
    return bool(above and below) and not (isinstance(value, float) and math.isnan(value))


def format_value(value: Any) -> str:
    """A setting as it is written in a spec string and a label (parses back to the same value)."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e16 else repr(value)
    return str(value)


class Strategy(ABC):
    """Base class: subclasses set `name`, `family`, `paper` and `hyperparameters`, and implement ask/tell.

    Declared hyperparameters are validated and set as attributes (`self.lr`) before the subclass's own
    `__init__` code runs; the full resolved settings are in `self.params`.
    """

    name: ClassVar[str]
    family: ClassVar[str] = ""  # one of FAMILIES
    paper: ClassVar[str] = ""  # citation of the method (and of the defaults' source)
    hyperparameters: ClassVar[tuple[Hyperparameter, ...]] = ()
    multi_fidelity: ClassVar[bool] = False
    needs_proxy: ClassVar[bool] = False

    def __init__(self, context: Context, **params: Any) -> None:
        if self.needs_proxy and context.proxy is None:
            raise UserInputError(f"strategy {self.name!r} needs a proxy score column, which this benchmark lacks")
        self.params = {**self.defaults(), **self.check_params(params)}
        for key, value in self.params.items():
            setattr(self, key, value)
        self.context = context
        self.space = context.space
        self.rng = context.rng

    @classmethod
    def declared(cls) -> dict[str, Hyperparameter]:
        """Every hyperparameter by name, a subclass's declaration overriding its base's."""
        out: dict[str, Hyperparameter] = {}
        for klass in reversed(cls.__mro__):
            out.update((h.name, h) for h in vars(klass).get("hyperparameters", ()))
        return out

    @classmethod
    def defaults(cls) -> dict[str, Any]:
        return {name: h.default for name, h in cls.declared().items()}

    @classmethod
    def check_params(cls, params: Mapping[str, Any]) -> dict[str, Any]:
        """`params` with each value coerced to its declared type; one-line errors naming the valid keys/values."""
        declared = cls.declared()
        unknown = [key for key in params if key not in declared]
        if unknown:
            raise UserInputError(f"{cls.name} got unknown hyperparameters: {', '.join(unknown)}; valid: "
                                 f"{', '.join(declared) or 'none'}")
        return {key: declared[key].coerce(value, cls.name) for key, value in params.items()}

    @abstractmethod
    def ask(self) -> Trial:
        """The next cell (and fidelity) to evaluate."""

    @abstractmethod
    def tell(self, trial: Trial, value: float) -> None:
        """The observed search-metric value of a trial (higher is better; NaN for a failed run)."""

    def recommend(self) -> Ops | None:
        """The strategy's own answer so far, or None for the runner's rule (best seen at the highest fidelity)."""
        return None

    def degenerate(self) -> str | None:
        """Why this strategy, with these settings and this context, is really a simpler one; None if it is not."""
        return None

    def trial(self, arch: Ops) -> Trial:
        """A trial at the context's default fidelity."""
        return Trial(tuple(arch), self.context.default_fidelity)


STRATEGIES: dict[str, type[Strategy]] = {}


def register(cls: type[Strategy]) -> type[Strategy]:
    """Class decorator adding a strategy to the registry under `cls.name`."""
    if cls.name in STRATEGIES:
        raise ValueError(f"strategy name {cls.name!r} registered twice")
    if cls.family and cls.family not in FAMILIES:
        raise ValueError(f"strategy {cls.name!r} has family {cls.family!r}; valid: {', '.join(FAMILIES)}")
    clash = [name for name in cls.declared() if callable(getattr(cls, name, None))]
    if clash:
        raise ValueError(f"strategy {cls.name!r}: hyperparameters {clash} shadow methods")
    STRATEGIES[cls.name] = cls
    return cls


def get_strategy(name: str) -> type[Strategy]:
    """The registered strategy class of a name (or of a spec's name part); a clear error listing valid names."""
    name = name.split(":", 1)[0].strip()
    if name not in STRATEGIES:
        raise UserInputError(f"unknown strategy {name!r}; valid: {', '.join(sorted(STRATEGIES))}")
    return STRATEGIES[name]


def split_spec(text: str) -> tuple[str, dict[str, str]]:
    """The name and the raw KEY=VALUE texts of a spec `NAME[:KEY=VALUE...]`; a one-line error for a malformed part
    or a repeated key (values are checked by the strategy's declared hyperparameters)."""
    name, *parts = text.strip().split(":")
    raw: dict[str, str] = {}
    for part in parts:
        key, sep, value = part.partition("=")
        key = key.strip()
        if not sep or not key or key in raw:
            problem = f"repeats {key!r}" if key in raw else f"has {part!r}"
            raise UserInputError(f"strategy spec {text!r} {problem}; expected {SPEC_FORM}")
        raw[key] = value.strip()
    return name, raw


@dataclass(frozen=True)
class StrategySpec:
    """A strategy name with hyperparameter settings, parsed from `NAME[:KEY=VALUE[:KEY=VALUE...]]`.

    No commas, so specs nest in a comma-separated list. `label` is canonical: the name alone for the
    defaults, else `name:key=value` with only non-default settings, sorted by key.
    """

    name: str
    params: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def parse(cls, text: str | StrategySpec) -> StrategySpec:
        """A validated spec (unknown name or key, bad value or form: one-line UserInputError)."""
        if isinstance(text, StrategySpec):
            return text
        name, raw = split_spec(str(text))
        strategy = get_strategy(name)
        return cls(strategy.name, strategy.check_params(raw))

    @property
    def label(self) -> str:
        defaults = get_strategy(self.name).defaults()
        changed = sorted((k, v) for k, v in self.params.items() if v != defaults[k])
        return ":".join([self.name, *(f"{k}={format_value(v)}" for k, v in changed)])


def make_strategy(spec: str | StrategySpec, context: Context) -> Strategy:
    """The strategy a spec string names, built with its settings on `context`."""
    spec = StrategySpec.parse(spec)
    return get_strategy(spec.name)(context, **spec.params)
