"""Simulated search: run strategies x seeds on a benchmark under a budget and record every trajectory."""

from nasbench_suite.runner.experiment import Experiment, Setup
from nasbench_suite.runner.presets import DEFAULT_PRESET, PRESETS, Budget, Preset, get_preset
from nasbench_suite.runner.runs import Run, Runs, load_runs
from nasbench_suite.runner.simulate import execute, proxy_lookup, run, run_one, seed_list, strategy_rngs

__all__ = ["DEFAULT_PRESET", "PRESETS", "Budget", "Experiment", "Preset", "Setup", "Run", "Runs", "get_preset",
           "load_runs", "execute", "proxy_lookup", "run", "run_one", "seed_list", "strategy_rngs"]
