"""PyTorch models of the NAS-Bench-201 space (needs the `train` extra)."""

from nasbench_suite.model.nb201 import (
    Cell,
    ReLUConvBN,
    ResidualReduction,
    Skeleton,
    Zero,
    build_network,
    count_parameters,
    make_op,
)

__all__ = ["Cell", "ReLUConvBN", "ResidualReduction", "Skeleton", "Zero", "build_network", "count_parameters",
           "make_op"]
