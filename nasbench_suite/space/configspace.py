"""A cell space as a ConfigSpace `ConfigurationSpace` (one categorical hyperparameter of op names per edge), so any
ConfigSpace-based optimiser (SMAC, DEHB, HpBandSter, ...) can search it; ConfigSpace is imported only when used
(`pip install ConfigSpace`). `edge_names`/`arch_of`/`config_of` convert without it."""

from __future__ import annotations

from collections.abc import Mapping

from nasbench_suite.errors import UserInputError
from nasbench_suite.space import NB201, NB201Space, Ops


def edge_names(space: NB201Space = NB201) -> list[str]:
    """One hyperparameter name per edge, in the space's edge order: `edge{source}{target}`."""
    return [f"edge{src}{dst}" for src, dst in space.edges]


def to_configspace(space: NB201Space = NB201, seed: int | None = None):
    """The space as a ConfigSpace `ConfigurationSpace` whose sampling is seeded with `seed`."""
    try:
        import ConfigSpace
    except ImportError as error:
        raise UserInputError("the ConfigSpace export needs ConfigSpace, which is not installed: "
                             "pip install 'nasbench-suite[configspace]'") from error
    return ConfigSpace.ConfigurationSpace(
        name=space.name, seed=seed, space={edge: ConfigSpace.Categorical(edge, list(space.ops))
                                           for edge in edge_names(space)})


def arch_of(config: Mapping[str, str], space: NB201Space = NB201) -> Ops:
    """The cell of a configuration ({edge name: op name}, e.g. a ConfigSpace `Configuration`); a one-line error
    naming a missing edge or an unknown op."""
    ops = []
    for edge in edge_names(space):
        op = config.get(edge)
        if op not in space.ops:
            problem = "lacks" if op is None else f"has op {op!r} for"
            raise UserInputError(f"configuration {problem} edge {edge!r}; expected {{{', '.join(edge_names(space))}}}"
                                 f" each one of {', '.join(space.ops)}")
        ops.append(space.ops.index(op))
    return tuple(ops)


def config_of(arch, space: NB201Space = NB201) -> dict[str, str]:
    """A cell (any form the space accepts) as the configuration {edge name: op name}."""
    return {edge: space.ops[op] for edge, op in zip(edge_names(space), space.to_ops(arch))}
