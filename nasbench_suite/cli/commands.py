"""Imports every module that adds commands to the `nasbench-suite` group; add yours here."""

from nasbench_suite.cli import tables  # noqa: F401
