"""Cell search spaces. NAS-Bench-201's is the one the suite's tables use."""

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
