"""Search strategies behind one ask/tell interface; importing this package registers them all."""

from nasbench_suite.strategies import (  # noqa: F401  (imported to register)
    bananas,
    bo,
    evolution,
    hyperband,
    local_search,
    nevergrad_adapter,
    optuna_adapter,
    qlearning,
    random_search,
    reinforce,
    smac_adapter,
    synetune_adapter,
    tpe,
    zero_cost,
)
from nasbench_suite.strategies.base import (
    FAMILIES,
    STRATEGIES,
    Context,
    Hyperparameter,
    Strategy,
    StrategySpec,
    Trial,
    get_strategy,
    make_strategy,
    register,
)

__all__ = ["FAMILIES", "STRATEGIES", "Context", "Hyperparameter", "Strategy", "StrategySpec", "Trial", "get_strategy",
           "make_strategy", "register"]
