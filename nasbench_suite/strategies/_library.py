"""Base of the strategies that wrap an optional library: its lazy import (a one-line error naming the extra to
install), its installed version for listings, a seed drawn from the strategy's rng, numpy's global generator kept
private."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from contextlib import contextmanager
from importlib.metadata import PackageNotFoundError, version
from types import ModuleType
from typing import ClassVar

import numpy as np

from nasbench_suite.errors import UserInputError
from nasbench_suite.space.configspace import parameters
from nasbench_suite.strategies.base import Context, Strategy


@contextmanager
def private_global_rng(state: np.random.RandomState) -> Iterator[None]:
    """numpy's global generator runs from `state` inside the block; the caller's global state is restored after."""
    saved = np.random.get_state()
    np.random.set_state(state.get_state())
    try:
        yield
    finally:
        state.set_state(np.random.get_state())
        np.random.set_state(saved)


class LibraryStrategy(Strategy):
    """A strategy run by a third-party optimiser: `library` is its distribution (as pip names it), `module` its import
    name and `extra` the nasbench-suite extra that installs it. Calls into the library belong under
    `private_global_rng(self.global_rng)`: some draw from numpy's global generator."""

    library: ClassVar[str]
    module: ClassVar[str]
    extra: ClassVar[str]

    def __init__(self, context: Context, **params) -> None:
        super().__init__(context, **params)
        self.lib = self.import_library()
        self.seed = int(self.rng.integers(2**31 - 1))  # every library RNG derives from this: one run per seed
        self.global_rng = np.random.RandomState(self.seed)
        self.parameters = parameters(self.space)  # position -> its value names, as the library sees them

    @classmethod
    def import_library(cls) -> ModuleType:
        try:
            return importlib.import_module(cls.module)
        except ImportError as error:
            raise UserInputError(f"strategy {cls.name!r} needs {cls.library}, which is not installed: "
                                 f"pip install 'nasbench-suite[{cls.extra}]'") from error

    @classmethod
    def library_version(cls) -> str | None:
        """The installed version of the library, or None where it is not installed."""
        try:
            return version(cls.library)
        except PackageNotFoundError:
            return None
