"""Search spaces, each a `Space` (space/base.py): NAS-Bench-201's cell space (`NB201`) and NAS-Bench-Graph's GNN
space (`NBGRAPH`; `NBGRAPH_PROTEINS` with the 5 ops of its proteins dataset).

`get_space` maps the space name a file records (`Table.space`, a surrogate's `space_name_`) to its space object
(`Table.space_obj`); strategies, benchmarks and reports work through that object, never through one space's module.
"""

from nasbench_suite.errors import UserInputError
from nasbench_suite.space.base import Space
from nasbench_suite.space.nbgraph import NBGRAPH, NBGRAPH_PROTEINS, NBGraphSpace
from nasbench_suite.space.nb201 import (
    EDGES,
    ENCODINGS,
    NB201,
    NUM_ARCHS,
    OPS,
    ArchLike,
    NB201Space,
    Ops,
    format_arch_str,
    parse_arch_str,
)

SPACES: dict[str, Space] = {space.name: space for space in (NB201, NBGRAPH, NBGRAPH_PROTEINS)}


def get_space(name: str) -> Space:
    """The space registered under `name`."""
    if name not in SPACES:
        raise UserInputError(f"unknown space {name!r}; valid: {', '.join(SPACES)}")
    return SPACES[name]


__all__ = ["EDGES", "ENCODINGS", "NB201", "NBGRAPH", "NBGRAPH_PROTEINS", "NUM_ARCHS", "OPS", "ArchLike", "NB201Space",
           "NBGraphSpace", "Ops",
           "Space", "format_arch_str", "get_space", "parse_arch_str"]
