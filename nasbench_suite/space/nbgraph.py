"""NAS-Bench-Graph's macro space of GNNs (Qin et al., NeurIPS 2022 Datasets and Benchmarks).

A cell is 4 computing nodes, node i reading one earlier node (0 = the input), each applying one GNN op; the nodes
without successors feed the output. The 9 link patterns, the op lists and the hash that keys the published results
are those of THUMNLab/NAS-Bench-Graph `architecture.py` (commit 6156ad8ad4d6b53a310b18e9fa7b50d0d88988e9:
`link_list`, `gnn_list`, `gnn_list_proteins`, `Arch.valid_hash`), re-implemented here:

* positions: the link pattern (index into `LINKS`), then the op of nodes 1..4; the grid is what the source's
  `Arch.random_arch` samples, so `size` = 9 * ops**4 (59,049; proteins, with its 5 ops: 5,625);
* a cell's class is the source's `valid_hash`: skip nodes moved first (`move_skip_op`), ops of interchangeable
  nodes sorted (`equalpart_sort`), then link index and ops as digits in base 10 with ops numbered as in the full
  9-op list (proteins too, as its published keys show); `regularize` changes no link of `LINKS`, so it is omitted;
* the 4-skip cells (one per link, an empty network) have no published result: their `source_hash` is -1.

A cell's string is its link digits and its ops, e.g. "0123:gcn,gin,fc,cheb".
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import cached_property

import numpy as np

from nasbench_suite.errors import UserInputError
from nasbench_suite.space.base import ArchLike, Ops, Space

LINKS: tuple[tuple[int, int, int, int], ...] = (
    (0, 0, 0, 0), (0, 0, 0, 1), (0, 0, 1, 1), (0, 0, 1, 2), (0, 0, 1, 3),
    (0, 1, 1, 1), (0, 1, 1, 2), (0, 1, 2, 2), (0, 1, 2, 3))
GNN_OPS = ("gat", "gcn", "gin", "cheb", "sage", "arma", "graph", "fc", "skip")
PROTEINS_OPS = ("gcn", "sage", "arma", "fc", "skip")
NODES = 4
_SKIP = GNN_OPS.index("skip")
_BASE = len(GNN_OPS) + 1  # the source hash's digit base
# nodes whose ops may be swapped without changing the network, per link pattern (the source's `equalpart_sort`)
_INTERCHANGEABLE = {(0, 0, 0, 0): (0, 1, 2, 3), (0, 0, 0, 1): (1, 2), (0, 0, 1, 1): (2, 3), (0, 1, 1, 1): (1, 2, 3),
                    (0, 1, 2, 2): (2, 3)}


def _move_first(k: int, link: list[int], ops: list[int]) -> tuple[list[int], list[int]]:
    """Node k+1 (a skip) moved to the front, every link renumbered (the source's `move_one`)."""
    ops = [ops[k]] + ops[:k] + ops[k + 1:]
    link = list(link)
    for i, father in enumerate(link):
        if father == k + 1:
            link[i] = link[k]
        if father <= k:
            link[i] += 1
    return [0] + link[:k] + link[k + 1:], ops


def _skips_from_input(k: int, link: list[int], ops: list[int]) -> bool:
    """Whether node k+1 and all its ancestors are skips (the source's `check_dim`)."""
    while k > -1:
        if ops[k] != _SKIP:
            return False
        k = link[k] - 1
    return True


def source_hash(link: Sequence[int], ops: Sequence[int]) -> int:
    """The source's `Arch.valid_hash` of a cell given as a link pattern of `LINKS` and 4 ids into `GNN_OPS`;
    -1 for the 4-skip cells, which the source never tabulated."""
    link, ops = list(link), list(ops)
    if all(o == _SKIP for o in ops):
        return -1
    for i in range(NODES):  # move_skip_op
        if ops[i] != _SKIP:
            continue
        son = brother = False
        for j, father in enumerate(link):
            if father == i + 1:
                son = True
            elif j != i and father == link[i]:
                brother = True
        if son or not brother or _skips_from_input(i, link, ops):
            link, ops = _move_first(i, link, ops)
    if link == [0, 1, 2, 1]:
        link, ops = [0, 1, 1, 2], ops[:2] + [ops[3], ops[2]]
    elif link == [0, 1, 1, 3]:
        link, ops = [0, 1, 1, 2], [ops[0], ops[2], ops[1], ops[3]]
    if link == [0, 0, 1, 2]:  # equalpart_sort
        if ops[0] > ops[1] or (ops[0] == ops[1] and ops[2] > ops[3]):
            ops = [ops[1], ops[0], ops[3], ops[2]]
    elif tuple(link) in _INTERCHANGEABLE:
        ids = _INTERCHANGEABLE[tuple(link)]
        for position, op in zip(ids, sorted(ops[i] for i in ids)):
            ops[position] = op
    code = LINKS.index(tuple(link))
    for op in ops:
        code = code * _BASE + op
    return code


class NBGraphSpace(Space):
    """NAS-Bench-Graph's space with one op list (`GNN_OPS`, or `PROTEINS_OPS` for ogbn-proteins)."""

    positions = ("link", "node1", "node2", "node3", "node4")
    encodings = ("onehot", "path")

    def __init__(self, name: str, ops: tuple[str, ...]) -> None:
        self.name, self.ops = name, ops
        self.values = (tuple("".join(map(str, link)) for link in LINKS),) + (ops,) * NODES
        self._place = np.array([len(ops) ** NODES, len(ops) ** 3, len(ops) ** 2, len(ops), 1], dtype=np.int64)
        self.expected = f"LINK:OP,OP,OP,OP with LINK one of {', '.join(self.values[0])} and OP one of {', '.join(ops)}"

    @property
    def size(self) -> int:
        return len(LINKS) * len(self.ops) ** NODES

    # ---- conversions -------------------------------------------------------------------------------
    def to_ops(self, arch: ArchLike) -> Ops:
        if isinstance(arch, str):
            return self._parse(arch)
        if isinstance(arch, np.ndarray) and arch.ndim == 0:
            return self.to_ops(arch[()])
        if isinstance(arch, (int, np.integer)) and not isinstance(arch, bool):
            return tuple(int(v) for v in self.ops_of([arch])[0])
        if isinstance(arch, (tuple, list, np.ndarray)) and len(arch) == len(self.positions):
            return tuple(self._value_id(p, v) for p, v in enumerate(arch))
        raise UserInputError(f"cannot read a {self.name} cell from {arch!r}; give a string ({self.expected}), an "
                             f"index 0..{self.size - 1} or 5 values (link, then 4 ops)")

    def _parse(self, text: str) -> Ops:
        link, sep, ops = text.partition(":")
        names = ops.split(",")
        if not sep or len(names) != NODES:
            raise UserInputError(f"bad {self.name} cell {text!r}; expected {self.expected}")
        return tuple(self._value_id(p, v.strip()) for p, v in enumerate([link.strip()] + names))

    def _value_id(self, position: int, value: int | str) -> int:
        names = self.values[position]
        if isinstance(value, str) and value in names:
            return names.index(value)
        if isinstance(value, (int, np.integer)) and not isinstance(value, bool) and 0 <= value < len(names):
            return int(value)
        raise UserInputError(f"bad {self.positions[position]} {value!r} in a {self.name} cell; expected 0.."
                             f"{len(names) - 1} or one of {', '.join(names)}")

    def to_index(self, arch: ArchLike) -> int:
        return int(np.asarray(self.to_ops(arch)) @ self._place)

    def to_str(self, arch: ArchLike) -> str:
        ops = self.to_ops(arch)
        return f"{self.values[0][ops[0]]}:{','.join(self.ops[o] for o in ops[1:])}"

    def indices_of(self, archs: Iterable[ArchLike]) -> np.ndarray:
        if isinstance(archs, np.ndarray) and archs.dtype.kind in "iu":
            return self.check_ops(archs) @ self._place if archs.ndim == 2 else self.check_indices(archs)
        return np.fromiter((self.to_index(a) for a in archs), dtype=np.int64)

    def ops_of(self, indices: np.ndarray | Sequence[int]) -> np.ndarray:
        indices = self.check_indices(indices)
        return (indices[:, None] // self._place[None, :]) % self.choices[None, :]

    # ---- canonical classes -------------------------------------------------------------------------
    @cached_property
    def source_hashes(self) -> np.ndarray:
        """The source's `valid_hash` of every cell in index order (-1: a 4-skip cell, not tabulated)."""
        full = np.array([GNN_OPS.index(o) for o in self.ops])
        return np.array([source_hash(LINKS[row[0]], full[row[1:]].tolist()) for row in self.all_ops().tolist()],
                        dtype=np.int64)

    @cached_property
    def canonical_indices(self) -> np.ndarray:
        """Cells of one source hash share their lowest index; each 4-skip cell is its own class."""
        hashes = self.source_hashes
        out = np.arange(self.size)
        tabulated = hashes >= 0
        _, first, inverse = np.unique(hashes[tabulated], return_index=True, return_inverse=True)
        out[tabulated] = np.flatnonzero(tabulated)[first][inverse]
        return out

    # ---- encodings ---------------------------------------------------------------------------------
    def encode(self, archs: np.ndarray | Sequence[ArchLike], kind: str = "onehot") -> np.ndarray:
        self._check_encoding(kind)
        ops = self._as_op_matrix(archs)
        return self.onehot(ops) if kind == "onehot" else self._path(ops)

    def _path(self, ops: np.ndarray) -> np.ndarray:
        """BANANAS path encoding: one bit per input->output op sequence (length 1..4) present in the cell; a node
        without successors ends such a path."""
        k = len(self.ops)
        offsets = np.cumsum([0] + [k**length for length in range(1, NODES)])
        out = np.zeros((len(ops), int(offsets[-1] + k**NODES)), dtype=np.float32)
        links = np.array(LINKS)[ops[:, 0]]  # (n, 4) input node of each node
        for row, (link, node_ops) in enumerate(zip(links.tolist(), ops[:, 1:].tolist())):
            for node in range(1, NODES + 1):
                if node in link:  # has a successor: not a leaf
                    continue
                path, current = [], node
                while current:
                    path.append(node_ops[current - 1])
                    current = link[current - 1]
                code = 0
                for op in reversed(path):
                    code = code * k + op
                out[row, offsets[len(path) - 1] + code] = 1
        return out


NBGRAPH = NBGraphSpace("nbgraph", GNN_OPS)
NBGRAPH_PROTEINS = NBGraphSpace("nbgraph-proteins", PROTEINS_OPS)
