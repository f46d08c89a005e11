"""Hardware-aware, multi-objective NAS benchmarking: objectives from table columns, exact Pareto fronts and
hypervolume, multi-objective and constrained strategies, simulated runs, leaderboards and plots.

Only the CLI imports this package; it builds on space, table, benchmark, strategies, runner and report.
"""

from nasbench_suite.multiobjective.objectives import Objective, check_device_metric, hardware_columns, minimised
from nasbench_suite.multiobjective.pareto import REFERENCE, attainment, hypervolume, igd_plus, pareto_mask
from nasbench_suite.multiobjective.presets import HW_PRESETS, HWPreset, get_hw_preset
from nasbench_suite.multiobjective.simulate import HWProblem, HWRun, run_all, run_constrained, run_pareto
from nasbench_suite.multiobjective.strategies import MO_STRATEGIES, MultiObjectiveStrategy, make_mo_strategy
from nasbench_suite.multiobjective import pymoo_adapter  # noqa: F401  (registers pymoo-nsga2)

__all__ = ["HW_PRESETS", "MO_STRATEGIES", "REFERENCE", "HWPreset", "HWProblem", "HWRun", "MultiObjectiveStrategy",
           "Objective", "attainment", "check_device_metric", "get_hw_preset", "hardware_columns", "hypervolume",
           "igd_plus", "make_mo_strategy", "minimised", "pareto_mask", "run_all", "run_constrained", "run_pareto"]
