"""CIFAR-10 loading (JPEG tarball, ImageFolder, cifar-10-batches-py), official download, cached decode, splits."""

from nasbench_suite.data.cifar10 import (CLASSES, MEAN, STD, Cifar10, DatasetError, default_root, describe_source,
                                         download_cifar10, load_cifar10)
from nasbench_suite.data.splits import SPLITS, fixed_batch, make_split, normalize

__all__ = ["CLASSES", "MEAN", "SPLITS", "STD", "Cifar10", "DatasetError", "default_root", "describe_source",
           "download_cifar10", "fixed_batch", "load_cifar10", "make_split", "normalize"]
