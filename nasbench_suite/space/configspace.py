"""A cell space as a ConfigSpace `ConfigurationSpace` (one categorical hyperparameter per position, valued by the
position's names: NB201's 6 edges of op names, NAS-Bench-Graph's link pattern and 4 node ops), so any
ConfigSpace-based optimiser (SMAC, DEHB, HpBandSter, ...) can search it. ConfigSpace is imported only when used
(`pip install 'nasbench-suite[configspace]'`); `parameters`, `arch_of` and `config_of` convert without it."""

from __future__ import annotations

from collections.abc import Mapping

from nasbench_suite.errors import UserInputError
from nasbench_suite.space import NB201, ArchLike, Ops, Space


def parameters(space: Space = NB201) -> dict[str, list[str]]:
    """Each position's name -> the names of its values: the categorical parameters every optimiser library sees."""
    return {position: list(values) for position, values in zip(space.positions, space.values)}


def to_configspace(space: Space = NB201, seed: int | None = None):
    """The space as a ConfigSpace `ConfigurationSpace` whose sampling is seeded with `seed`."""
    try:
        import ConfigSpace
    except ImportError as error:
        raise UserInputError("the ConfigSpace export needs ConfigSpace, which is not installed: "
                             "pip install 'nasbench-suite[configspace]'") from error
    return ConfigSpace.ConfigurationSpace(
        name=space.name, seed=seed,
        space={name: ConfigSpace.Categorical(name, values) for name, values in parameters(space).items()})


def arch_of(config: Mapping[str, str], space: Space = NB201) -> Ops:
    """The cell of a configuration ({position: value name}, e.g. a ConfigSpace `Configuration`); a one-line error
    naming a missing position or an unknown value."""
    arch = []
    for name, values in parameters(space).items():
        value = config.get(name)
        if value not in values:
            problem = "lacks" if value is None else f"has {value!r} for"
            raise UserInputError(f"configuration {problem} {name!r}; expected one of {', '.join(values)} there "
                                 f"(parameters: {', '.join(space.positions)})")
        arch.append(values.index(value))
    return tuple(arch)


def config_of(arch: ArchLike, space: Space = NB201) -> dict[str, str]:
    """A cell (any form the space accepts) as the configuration {position: value name}."""
    return {name: values[v] for (name, values), v in zip(parameters(space).items(), space.to_ops(arch))}
