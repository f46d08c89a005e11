"""Weight-sharing search (DARTS, GDAS, RSPS, ENAS) on a NAS-Bench-201 supernet, scored against the tables.

Needs the `train` extra (torch) except for `summary`, which only reads result files.
"""
