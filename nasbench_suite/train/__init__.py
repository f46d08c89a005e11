"""Training NB201 cells into tables: protocols (torch-free), trainers, shards, local and Ray runs."""

from nasbench_suite.train.protocols import PROTOCOLS, Protocol, get_protocol

__all__ = ["PROTOCOLS", "Protocol", "get_protocol"]
