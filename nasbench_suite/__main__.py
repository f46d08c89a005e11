"""`python -m nasbench_suite` runs the CLI."""

from nasbench_suite.cli import main

main()
