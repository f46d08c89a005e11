"""Benchmarks: what a simulated search queries (a table, a surrogate, or both)."""

from nasbench_suite.benchmark.base import Benchmark, Observation
from nasbench_suite.benchmark.surrogate import HybridBenchmark, SurrogateBenchmark
from nasbench_suite.benchmark.tabular import TableBenchmark

__all__ = ["Benchmark", "HybridBenchmark", "Observation", "SurrogateBenchmark", "TableBenchmark"]
