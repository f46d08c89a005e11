"""Search strategies behind one ask/tell interface; importing this package registers them all."""

from nasbench_suite.strategies.base import STRATEGIES, Context, Strategy, Trial, get_strategy, register

__all__ = ["STRATEGIES", "Context", "Strategy", "Trial", "get_strategy", "register"]
