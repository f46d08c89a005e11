"""The NAS-Bench-201 cell space: 4 nodes, 6 edges, 5 ops, 15,625 cells.

Strings and indices are exactly NAS-Bench-201's, so results keyed by either carry over. Internally a cell is
a tuple of 6 op ids in arch-string edge order: (0->1), (0->2), (1->2), (0->3), (1->3), (2->3).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import cached_property
import io
from importlib import resources

import numpy as np

from nasbench_suite.errors import UserInputError
from nasbench_suite.space.base import ArchLike, Ops, Space

OPS: tuple[str, ...] = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
EDGES: tuple[tuple[int, int], ...] = ((0, 1), (0, 2), (1, 2), (0, 3), (1, 3), (2, 3))
NUM_NODES = 4
NUM_EDGES = len(EDGES)
NUM_OPS = len(OPS)
NUM_ARCHS = NUM_OPS**NUM_EDGES
ORDER_FILE = "nb201_order.npy"  # uint16 base-5 op code of each official index
EXPECTED_FORM = "|op~0|+|op~0|op~1|+|op~0|op~1|op~2| with op in " + ", ".join(OPS)

_OP_ID = {name: i for i, name in enumerate(OPS)}
_PLACE = NUM_OPS ** np.arange(NUM_EDGES - 1, -1, -1)  # base-5 place value of each edge
# The 4 input->output paths, as edge positions: 0->3, 0->1->3, 0->2->3, 0->1->2->3.
_PATHS: tuple[tuple[int, ...], ...] = ((3,), (0, 4), (1, 5), (0, 2, 5))


def parse_arch_str(text: str) -> Ops:
    """Parse an official arch string; raise UserInputError naming the bad part and the expected form."""
    def bad(problem: str) -> UserInputError:
        return UserInputError(f"bad arch string {text!r}: {problem}; expected {EXPECTED_FORM}")

    if not isinstance(text, str):
        raise UserInputError(f"arch string must be a str, got {type(text).__name__}; expected {EXPECTED_FORM}")
    nodes = text.split("+")
    if len(nodes) != NUM_NODES - 1:
        raise bad(f"{len(nodes)} node groups separated by '+', not 3")
    ops: list[int] = []
    for node, group in enumerate(nodes, start=1):
        if not (group.startswith("|") and group.endswith("|") and len(group) > 1):
            raise bad(f"node {node} group {group!r} must start and end with '|'")
        edges = group[1:-1].split("|")
        if len(edges) != node:
            raise bad(f"node {node} group {group!r} has {len(edges)} edges, not {node}")
        for source, edge in enumerate(edges):
            name, sep, src = edge.partition("~")
            if not sep:
                raise bad(f"edge {edge!r} of node {node} lacks '~input'")
            if name not in _OP_ID:
                raise bad(f"unknown op {name!r} in edge {edge!r} (valid ops: {', '.join(OPS)})")
            if src != str(source):
                raise bad(f"edge {edge!r} of node {node} has input {src!r}, not {source}")
            ops.append(_OP_ID[name])
    return tuple(ops)


def format_arch_str(ops: Ops) -> str:
    """The official string of a cell given as 6 op ids."""
    names = [OPS[o] for o in ops]
    return (f"|{names[0]}~0|+|{names[1]}~0|{names[2]}~1|+"
            f"|{names[3]}~0|{names[4]}~1|{names[5]}~2|")


class NB201Space(Space):
    """Conversions, canonical forms, encodings and variation operators of the NAS-Bench-201 cell space."""

    name = "nb201"
    ops = OPS
    edges = EDGES
    positions = tuple(f"edge{src}{dst}" for src, dst in EDGES)
    position_labels = tuple(f"{src}->{dst}" for src, dst in EDGES)
    values = (OPS,) * NUM_EDGES
    encodings = ("onehot", "adjacency", "path", "sequence")  # the keys of ENCODINGS below
    num_edges = NUM_EDGES
    num_ops = NUM_OPS
    size = NUM_ARCHS

    @cached_property
    def _index_to_code(self) -> np.ndarray:
        data = resources.files(__package__).joinpath(ORDER_FILE).read_bytes()
        return np.load(io.BytesIO(data))

    @cached_property
    def _code_to_index(self) -> np.ndarray:
        inverse = np.empty(NUM_ARCHS, dtype=np.int64)
        inverse[self._index_to_code] = np.arange(NUM_ARCHS)
        return inverse

    @cached_property
    def _str_to_index(self) -> dict[str, int]:
        """Every official string -> its index, built on first use: a string lookup is one dict lookup."""
        return {format_arch_str(tuple(ops)): i for i, ops in enumerate(self._index_ops.tolist())}

    @cached_property
    def _index_ops(self) -> np.ndarray:
        """(15625, 6) op ids of every cell in official index order."""
        return ops_from_codes(self._index_to_code)

    # ---- conversions -------------------------------------------------------------------------------
    def to_ops(self, arch: ArchLike) -> Ops:
        """Any accepted form (string, index, 6 op ids or names) as a tuple of 6 op ids."""
        if isinstance(arch, str):
            return parse_arch_str(arch)
        if isinstance(arch, (int, np.integer)) and not isinstance(arch, bool):
            return tuple(int(o) for o in self._index_ops[self._check_index(arch)])
        if isinstance(arch, np.ndarray) and arch.ndim == 0:  # np.array(6111): the scalar it holds
            return self.to_ops(arch[()])
        if isinstance(arch, (float, np.floating)):
            raise UserInputError(f"arch index must be an integer, got {arch} ({type(arch).__name__}); expected "
                                 f"0..{NUM_ARCHS - 1}")
        if isinstance(arch, (tuple, list, np.ndarray)):
            if len(arch) != NUM_EDGES:
                raise UserInputError(f"an op tuple needs {NUM_EDGES} entries (one per edge), got {len(arch)}")
            return tuple(self._op_id(o) for o in arch)
        raise UserInputError(f"cannot read an architecture from {type(arch).__name__}; give an arch string "
                         f"({EXPECTED_FORM}), an index 0..{NUM_ARCHS - 1} or a tuple of 6 ops")

    def to_index(self, arch: ArchLike) -> int:
        """The official NAS-Bench-201 index of a cell."""
        if arch.__class__ is str:  # the common cases first: one dict lookup, or one dot product for op ids
            index = self._str_to_index.get(arch)
            if index is not None:
                return index
        if arch.__class__ is tuple and len(arch) == NUM_EDGES and all(type(o) is int and 0 <= o < NUM_OPS
                                                                      for o in arch):
            return int(self._code_to_index[ops_to_code(arch)])
        if isinstance(arch, (int, np.integer)) and not isinstance(arch, bool):
            return self._check_index(arch)
        if isinstance(arch, np.ndarray) and arch.ndim == 0:
            return self.to_index(arch[()])
        return int(self._code_to_index[ops_to_code(self.to_ops(arch))])

    def to_str(self, arch: ArchLike) -> str:
        """The official arch string of a cell."""
        return format_arch_str(self.to_ops(arch))

    def indices_of(self, archs: Iterable[ArchLike]) -> np.ndarray:
        """Official indices of many cells: a 1-D array of indices, an (n, 6) array of op ids, or any accepted forms
        (vectorised for numeric arrays and for op tuples of ints)."""
        if isinstance(archs, np.ndarray):
            if archs.ndim == 2 and archs.shape[1] == NUM_EDGES:
                return self._indices_of_ops(archs)
            if archs.ndim != 1:
                raise UserInputError(f"an array of archs must be 1-D (indices) or of shape (n, {NUM_EDGES}) (op ids), "
                                     f"got shape {archs.shape}")
            if archs.dtype.kind not in "OSU":
                return self.check_indices(archs)
        archs = list(archs)
        if archs and all(isinstance(a, tuple) and len(a) == NUM_EDGES
                         and all(isinstance(o, (int, np.integer)) and not isinstance(o, bool) for o in a)
                         for a in archs):
            return self._indices_of_ops(np.asarray(archs))
        return np.fromiter((self.to_index(a) for a in archs), dtype=np.int64, count=len(archs))

    def _indices_of_ops(self, ops: np.ndarray) -> np.ndarray:
        """Official indices of an (n, 6) array of op ids."""
        return self._code_to_index[ops_to_code(self.check_ops(ops))]

    def ops_of(self, indices: np.ndarray | Sequence[int]) -> np.ndarray:
        """(n, 6) op ids of cells given by official index."""
        return self._index_ops[self.check_indices(indices)]

    def _check_index(self, index: int) -> int:
        if not 0 <= int(index) < NUM_ARCHS:
            raise UserInputError(f"arch index {index} out of range; expected 0..{NUM_ARCHS - 1}")
        return int(index)

    @staticmethod
    def _op_id(op: int | str) -> int:
        if isinstance(op, str):
            if op not in _OP_ID:
                raise UserInputError(f"unknown op {op!r}; valid ops: {', '.join(OPS)}")
            return _OP_ID[op]
        if isinstance(op, (int, np.integer)) and not isinstance(op, bool) and 0 <= int(op) < NUM_OPS:
            return int(op)
        raise UserInputError(f"op id {op!r} out of range; expected 0..{NUM_OPS - 1} or one of {', '.join(OPS)}")

    # ---- canonical form ----------------------------------------------------------------------------
    def canonical(self, arch: ArchLike) -> str:
        """A key shared by cells that are isomorphic or differ only where `none` cuts the graph.

        Follows NAS-Bench-201's unique-string rule so deduplicated results carry over: each node is the
        sorted list of its incoming terms; `skip_connect` passes its input's term through, `none` (or any op
        on a zero input) gives the zero term `#`, other ops wrap their input. Zero terms stay in a sum, which
        is why the space has 6,466 classes under this rule.
        """
        ops = self.to_ops(arch)
        nodes = ["x"]
        for target in range(1, NUM_NODES):
            terms = []
            for e, (src, dst) in enumerate(EDGES):
                if dst != target:
                    continue
                if ops[e] == 0 or nodes[src] == "#":
                    terms.append("#")
                elif ops[e] == 1:
                    terms.append(nodes[src])
                else:
                    terms.append(f"({nodes[src]})@{OPS[ops[e]]}")
            nodes.append("+".join(sorted(terms)))
        return nodes[-1]

    @cached_property
    def canonical_indices(self) -> np.ndarray:
        """For every official index, the lowest official index computing the same function."""
        first: dict[str, int] = {}
        out = np.empty(NUM_ARCHS, dtype=np.int64)
        for index in range(NUM_ARCHS):
            out[index] = first.setdefault(self.canonical(index), index)
        return out

    # ---- encodings ---------------------------------------------------------------------------------
    def encode(self, archs: np.ndarray | Sequence[ArchLike], kind: str = "onehot") -> np.ndarray:
        """Feature matrix for predictors; kind is one of ENCODINGS."""
        self._check_encoding(kind)
        return ENCODINGS[kind](self._as_op_matrix(archs))

    def disconnected(self, ops: np.ndarray) -> np.ndarray:
        """Cells whose output never sees the input: no live edge (every path is cut by `none`)."""
        return ~live_edges(ops).any(axis=1)

    # ---- variation ---------------------------------------------------------------------------------
    def mutate_structured(self, arch: ArchLike, rng: np.random.Generator) -> Ops:
        """NAS-Bench-201's REA mutation: a uniform node, a uniform incoming edge of it, a uniform different op
        (so node 1's single edge changes more often than each of node 3's three)."""
        node = 1 + int(rng.integers(NUM_NODES - 1))
        edge = [e for e, (_, dst) in enumerate(EDGES) if dst == node][int(rng.integers(node))]
        return self._mutate_at(self.to_ops(arch), edge, rng)


def live_edges(ops: np.ndarray) -> np.ndarray:
    """(n, 6) bool: the edge is not `none` and lies on an input->output path of non-`none` edges.

    EDGES are ordered by target node (NAS-Bench-201's string order), so one pass forwards settles what the input
    reaches and one pass backwards what reaches the output.
    """
    nonzero = ops != 0
    output = max(dst for _, dst in EDGES)
    from_input = np.zeros((len(ops), output + 1), dtype=bool)
    from_input[:, 0] = True
    for e, (src, dst) in enumerate(EDGES):
        from_input[:, dst] |= from_input[:, src] & nonzero[:, e]
    to_output = np.zeros_like(from_input)
    to_output[:, output] = True
    for e, (src, dst) in reversed(list(enumerate(EDGES))):
        to_output[:, src] |= to_output[:, dst] & nonzero[:, e]
    sources, targets = zip(*EDGES)
    return nonzero & from_input[:, list(sources)] & to_output[:, list(targets)]


def ops_to_code(ops: np.ndarray | Ops) -> np.ndarray | int:
    """Base-5 code of op tuples (the first edge is the most significant digit)."""
    arr = np.asarray(ops, dtype=np.int64)
    code = arr @ _PLACE
    return int(code) if arr.ndim == 1 else code


def ops_from_codes(codes: np.ndarray) -> np.ndarray:
    """Inverse of ops_to_code for an array of codes: (n, 6) op ids."""
    codes = np.asarray(codes, dtype=np.int64)
    return (codes[:, None] // _PLACE[None, :]) % NUM_OPS


def _onehot(ops: np.ndarray) -> np.ndarray:
    """6 edges x 5 ops = 30 binary features."""
    return np.eye(NUM_OPS, dtype=np.float32)[ops].reshape(len(ops), -1)


def _adjacency(ops: np.ndarray) -> np.ndarray:
    """Ops-as-nodes graph (input, 6 edge-ops, output): flattened 8x8 adjacency + 8x7 node-label one-hot."""
    n = len(ops)
    adj = np.zeros((8, 8), dtype=np.float32)
    for e, (src, dst) in enumerate(EDGES):
        node = e + 1
        for e_in, (_, dst_in) in enumerate(EDGES):  # edges ending at this edge's source feed it
            if dst_in == src:
                adj[e_in + 1, node] = 1
        if src == 0:
            adj[0, node] = 1
        if dst == NUM_NODES - 1:
            adj[node, 7] = 1
    labels = np.zeros((n, 8, NUM_OPS + 2), dtype=np.float32)
    labels[:, 0, NUM_OPS] = 1  # input
    labels[:, 7, NUM_OPS + 1] = 1  # output
    labels[np.arange(n)[:, None], np.arange(1, 7)[None, :], ops] = 1
    return np.concatenate([np.broadcast_to(adj.ravel(), (n, 64)), labels.reshape(n, -1)], axis=1)


def _path(ops: np.ndarray) -> np.ndarray:
    """BANANAS path encoding: one bit per input->output op sequence (4 + 16 + 64 = 84) present in the cell.

    A path carrying `none` computes nothing and sets no bit.
    """
    real = NUM_OPS - 1  # ops without `none`, renumbered 0..3
    offsets = {1: 0, 2: real, 3: real + real**2}
    out = np.zeros((len(ops), real + real**2 + real**3), dtype=np.float32)
    rows = np.arange(len(ops))
    for path in _PATHS:
        path_ops = ops[:, path] - 1
        alive = (path_ops >= 0).all(axis=1)
        position = offsets[len(path)] + (path_ops.clip(0) @ (real ** np.arange(len(path) - 1, -1, -1)))
        out[rows[alive], position[alive]] = 1
    return out


def _sequence(ops: np.ndarray) -> np.ndarray:
    """Instruction sequence: per edge in string order the tokens (input node, op), 12 integer tokens.

    Tokens 0..2 name the input node, 3..7 the op; a sequence model embeds them.
    """
    sources = np.array([src for src, _ in EDGES], dtype=np.int64)
    seq = np.empty((len(ops), 2 * NUM_EDGES), dtype=np.float32)
    seq[:, 0::2] = sources
    seq[:, 1::2] = ops + 3
    return seq


ENCODINGS = {"onehot": _onehot, "adjacency": _adjacency, "path": _path, "sequence": _sequence}

NB201 = NB201Space()
