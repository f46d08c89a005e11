"""Surrogate models: predict (with uncertainty) and sample the cells a table did not measure, and score them."""

from nasbench_suite.surrogate.api import (
    DEFAULT_TARGET,
    Surrogate,
    SurrogateFileError,
    Target,
    check_table,
    default_path,
    load,
    parse_targets,
    table_checksum,
)
from nasbench_suite.surrogate.features import DEFAULT_FEATURES, encoding_names
from nasbench_suite.surrogate.models import MODELS

__all__ = ["DEFAULT_FEATURES", "DEFAULT_TARGET", "MODELS", "Surrogate", "SurrogateFileError", "Target",
           "check_table", "default_path", "encoding_names", "load", "parse_targets", "table_checksum"]
