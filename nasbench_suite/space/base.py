"""The contract every search space fulfils, so strategies, benchmarks, surrogates and reports never assume one.

A cell is a tuple of small ints, one per *position* (NB201: its 6 edges; NAS-Bench-Graph: its link pattern and
4 node ops); position `p` takes `choices[p]` values. Every space has an official index `0..size-1` per cell (the
rows of its tables), a string form, a canonical class per cell (cells computing the same function share it), and
feature encodings for predictors. The variation operators below are generic over positions and consume random
numbers exactly as NAS-Bench-201's originals did, so NB201 runs are unchanged.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from functools import cached_property
from typing import Any, ClassVar, Union

import numpy as np

from nasbench_suite.errors import UserInputError

Ops = tuple[int, ...]
ArchLike = Union[str, int, np.integer, Sequence[Union[int, str]]]


class Space(ABC):
    """A finite space of cells: conversions, canonical classes, encodings and variation operators.

    Subclasses set `name`, `positions`, `values` (the names of each position's values) and `encodings`, and
    implement the conversions, `canonical_indices` and `encode`.
    """

    name: ClassVar[str]
    positions: tuple[str, ...]  # what each entry of a cell decides (identifiers, e.g. optimiser parameter names)
    values: tuple[tuple[str, ...], ...]  # the names of each position's values
    ops: tuple[str, ...]  # the values of the positions that choose an op (all of NB201's, 4 of NAS-Bench-Graph's)
    encodings: tuple[str, ...]  # kinds `encode` accepts

    @cached_property
    def choices(self) -> np.ndarray:
        """How many values each position takes (int64 array, one entry per position)."""
        return np.array([len(v) for v in self.values], dtype=np.int64)

    @property
    def position_labels(self) -> tuple[str, ...]:
        """The positions as reports name them."""
        return self.positions

    @property
    def op_positions(self) -> list[int]:
        """The positions whose values are `ops`."""
        return [p for p, values in enumerate(self.values) if values == self.ops]

    @property
    def num_positions(self) -> int:
        return len(self.positions)

    @property
    def max_choices(self) -> int:
        """The most values any position takes: the width of per-position tables (op counts, policies)."""
        return int(self.choices.max())

    @cached_property
    def value_mask(self) -> np.ndarray:
        """(positions, max_choices) bool: which values each position can take."""
        return np.arange(self.max_choices)[None, :] < self.choices[:, None]

    @property
    @abstractmethod
    def size(self) -> int:
        """The number of cells (official indices 0..size-1)."""

    # ---- conversions -------------------------------------------------------------------------------
    @abstractmethod
    def to_ops(self, arch: ArchLike) -> Ops:
        """Any accepted form (string, index, value ids) as a tuple of value ids, one per position."""

    @abstractmethod
    def to_index(self, arch: ArchLike) -> int:
        """The official index of a cell."""

    @abstractmethod
    def to_str(self, arch: ArchLike) -> str:
        """The string form of a cell (parses back with `to_ops`)."""

    @abstractmethod
    def indices_of(self, archs: Iterable[ArchLike]) -> np.ndarray:
        """Official indices of many cells (a 1-D index array, an (n, positions) value array, or any forms)."""

    @abstractmethod
    def ops_of(self, indices: np.ndarray | Sequence[int]) -> np.ndarray:
        """(n, positions) value ids of cells given by official index."""

    def all_ops(self) -> np.ndarray:
        """(size, positions) value ids in official index order."""
        return self.ops_of(np.arange(self.size))

    def check_indices(self, indices: np.ndarray | Sequence[int]) -> np.ndarray:
        """`indices` as an int64 array, or one UserInputError if any is not an integer in 0..size-1."""
        indices = np.asarray(indices)
        if indices.dtype.kind not in "iu":
            raise UserInputError(f"arch indices must be integers, got {indices.dtype} values; expected integers "
                                 f"0..{self.size - 1}")
        indices = indices.astype(np.int64, copy=False)
        if indices.size and (indices.min() < 0 or indices.max() >= self.size):
            bad = indices[(indices < 0) | (indices >= self.size)]
            raise UserInputError(f"{bad.size} of {indices.size} arch indices are out of range, e.g. "
                                 f"{int(bad.flat[0])}; expected 0..{self.size - 1}")
        return indices

    def check_ops(self, ops: np.ndarray) -> np.ndarray:
        """An (n, positions) int64 array of value ids, or one UserInputError naming an out-of-range id."""
        ops = np.asarray(ops)
        if ops.dtype.kind not in "iu" or ops.ndim != 2 or ops.shape[1] != self.num_positions:
            raise UserInputError(f"op ids must be an integer array of shape (n, {self.num_positions}), got "
                                 f"{ops.dtype} of shape {ops.shape}")
        ops = ops.astype(np.int64, copy=False)
        bad = (ops < 0) | (ops >= self.choices[None, :])
        if bad.any():
            position = int(np.argwhere(bad)[0, 1])
            raise UserInputError(f"op id {int(ops[bad][0])} out of range; expected 0..{self.choices[position] - 1} "
                                 f"at position {self.positions[position]}")
        return ops

    # ---- canonical classes -------------------------------------------------------------------------
    @property
    @abstractmethod
    def canonical_indices(self) -> np.ndarray:
        """For every official index, the lowest official index of its class (cells computing the same function)."""

    def unique_indices(self) -> np.ndarray:
        """One representative (lowest index) per class, sorted."""
        return np.flatnonzero(self.canonical_indices == np.arange(self.size))

    def disconnected(self, ops: np.ndarray) -> np.ndarray:
        """(n,) bool: cells (value ids) whose output never sees the input; none where the space cannot cut a path."""
        return np.zeros(len(ops), dtype=bool)

    # ---- encodings ---------------------------------------------------------------------------------
    @abstractmethod
    def encode(self, archs: np.ndarray | Sequence[ArchLike], kind: str = "onehot") -> np.ndarray:
        """Feature matrix for predictors; kind is one of `encodings` ("onehot" and "path" in every space)."""

    def _check_encoding(self, kind: str) -> None:
        if kind not in self.encodings:
            raise UserInputError(f"unknown encoding {kind!r}; valid: {', '.join(self.encodings)}")

    def _as_op_matrix(self, archs: np.ndarray | Sequence[ArchLike]) -> np.ndarray:
        """(n, positions) value ids of cells given as a value array, an index array or any accepted forms."""
        if isinstance(archs, np.ndarray) and archs.ndim == 2:
            return self.check_ops(archs)
        if isinstance(archs, np.ndarray) and archs.ndim == 1:
            return self.ops_of(archs)
        return np.asarray([self.to_ops(a) for a in archs], dtype=np.int64).reshape(-1, self.num_positions)

    def onehot(self, ops: np.ndarray) -> np.ndarray:
        """One binary feature per (position, value): sum(choices) features."""
        eye = np.eye(self.max_choices, dtype=np.float32)[ops]  # (n, positions, max_choices)
        return eye[:, self.value_mask]

    # ---- variation ---------------------------------------------------------------------------------
    def sample(self, rng: np.random.Generator) -> Ops:
        """One cell drawn uniformly from the whole space (one draw per position)."""
        return tuple(int(o) for o in rng.integers(self.choices))

    def neighbours(self, arch: ArchLike) -> list[Ops]:
        """All cells that differ from `arch` at exactly one position."""
        ops = self.to_ops(arch)
        return [ops[:p] + (o,) + ops[p + 1:] for p in range(self.num_positions) for o in range(self.choices[p])
                if o != ops[p]]

    def mutate(self, arch: ArchLike, rng: np.random.Generator) -> Ops:
        """A uniform position set to a uniform different value."""
        return self._mutate_at(self.to_ops(arch), int(rng.integers(self.num_positions)), rng)

    def mutate_structured(self, arch: ArchLike, rng: np.random.Generator) -> Ops:
        """The mutation of the space's published regularized-evolution baseline; `mutate` where it has none."""
        return self.mutate(arch, rng)

    def _mutate_at(self, ops: Ops, position: int, rng: np.random.Generator) -> Ops:
        k = int(self.choices[position])
        return ops[:position] + ((ops[position] + 1 + int(rng.integers(k - 1))) % k,) + ops[position + 1:]

    def crossover_one_point(self, a: ArchLike, b: ArchLike, rng: np.random.Generator) -> Ops:
        """Positions before a random cut point from `a`, the rest from `b`."""
        cut = int(rng.integers(1, self.num_positions))
        return self.to_ops(a)[:cut] + self.to_ops(b)[cut:]

    def crossover_uniform(self, a: ArchLike, b: ArchLike, rng: np.random.Generator) -> Ops:
        """Each position from `a` or `b` with probability 1/2."""
        pick = rng.random(self.num_positions) < 0.5
        return tuple(x if p else y for x, y, p in zip(self.to_ops(a), self.to_ops(b), pick))

    def describe(self) -> dict[str, Any]:
        """Name, size and positions, for reports."""
        return {"name": self.name, "size": self.size, "positions": list(self.positions),
                "choices": self.choices.tolist()}
