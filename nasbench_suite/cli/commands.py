"""Imports every module that adds commands to the `nasbench-suite` group; add yours here."""

from nasbench_suite.cli import tables  # noqa: F401
from nasbench_suite.cli import benchmark  # noqa: F401
from nasbench_suite.cli import surrogate  # noqa: F401
from nasbench_suite.cli import oneshot  # noqa: F401
from nasbench_suite.cli import proxies  # noqa: F401
from nasbench_suite.cli import train  # noqa: F401
from nasbench_suite.cli import strategies  # noqa: F401
from nasbench_suite.cli import data  # noqa: F401
from nasbench_suite.cli import analyze  # noqa: F401
from nasbench_suite.cli import hw  # noqa: F401
from nasbench_suite.cli import report  # noqa: F401
from nasbench_suite.cli import suite  # noqa: F401
