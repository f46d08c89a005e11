"""Search-space analysis: what makes a cell good, how rugged the landscape is, how far cheap signals can be trusted.

`analyze(table)` runs everything and writes CSV, figures and a summary; `stats` and `landscape` hold the
statistics as functions of plain arrays. Imports space, table and surrogate; only the CLI imports it.
"""

from nasbench_suite.analysis.run import analyze, check_target

__all__ = ["analyze", "check_target"]
