"""The cell search space: NAS-Bench-201's (`NB201`, an `NB201Space`), the only one; modules import it directly.

`SPACES`/`get_space` are no plug-in point: they check the space name a file records (`Table.space`, a surrogate's
`space_name_`), so a file of another space is refused by name; `Table.space_obj` is that name's space object.
"""

from nasbench_suite.errors import UserInputError
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

SPACES = {"nb201": NB201}


def get_space(name: str) -> NB201Space:
    """The space registered under `name`."""
    if name not in SPACES:
        raise UserInputError(f"unknown space {name!r}; valid: {', '.join(SPACES)}")
    return SPACES[name]


__all__ = ["EDGES", "ENCODINGS", "NB201", "NUM_ARCHS", "OPS", "ArchLike", "NB201Space", "Ops",
           "format_arch_str", "get_space", "parse_arch_str"]
