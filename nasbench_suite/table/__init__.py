"""The HDF5 benchmark table: format, reader/writer, merge, and lookup of embedded tables by name."""

from nasbench_suite.table.registry import DEFAULT_TABLE, available_tables, open_table, resolve_table
from nasbench_suite.table.schema import MEAN_SEED, SCHEMA_VERSION, TableError
from nasbench_suite.table.table import Series, Table

__all__ = ["DEFAULT_TABLE", "MEAN_SEED", "SCHEMA_VERSION", "Series", "Table", "TableError",
           "available_tables", "open_table", "resolve_table"]
