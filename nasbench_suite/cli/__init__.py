"""Command-line interface (`nasbench-suite ...`)."""

from nasbench_suite.cli.app import cli, main

__all__ = ["cli", "main"]
