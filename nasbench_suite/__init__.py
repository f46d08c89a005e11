"""nasbench-suite: build, query and benchmark NAS tables of the NAS-Bench-201 cell space."""

from nasbench_suite.errors import UserInputError
from nasbench_suite.space import NB201
from nasbench_suite.table import Table, TableError, available_tables, open_table

__version__ = "0.1.0"

__all__ = ["NB201", "Table", "TableError", "UserInputError", "__version__", "available_tables", "open_table"]
