"""Time opening the embedded table and querying it, against plain dict lookups in the same run.

    python scripts/bench_query.py [TABLE]
"""

import platform
import statistics
import sys
import time

import numpy as np

from nasbench_suite import open_table
from nasbench_suite.space import NB201
from nasbench_suite.table import Table, resolve_table

name = sys.argv[1] if len(sys.argv) > 1 else "nb201-cifar10"
path = resolve_table(name)
opens = []
for _ in range(10):
    start = time.perf_counter()
    table = Table.load(path)
    opens.append(time.perf_counter() - start)

rng = np.random.default_rng(0)
indices = rng.integers(0, NB201.size, size=20000)
strings = [NB201.to_str(int(i)) for i in indices]
table.query(0, "test_acc", 200)  # first use computes the seed mean once
NB201.to_index(strings[0])  # and the string -> index dict

plain = {int(i): {"test_acc": {200: float(v)}} for i, v in zip(table.archs, table.values("test_acc", 200))}
plain_str = {NB201.to_str(int(i)): int(i) for i in table.archs}  # what NATS-Bench's API does for a string


def per_call(fn, items) -> float:
    """Time per call, fastest of 20 chunks (as timeit advises: slower chunks measure other load on the machine,
    not the call); the loop itself costs about 0.02 us a call."""
    samples = []
    step = len(items) // 20
    for chunk in (items[k:k + step] for k in range(0, 20 * step, step)):
        start = time.perf_counter()
        for item in chunk:
            fn(item)
        samples.append((time.perf_counter() - start) / len(chunk))
    return min(samples)


index_list = [int(i) for i in indices]
t_index = per_call(lambda i: table.query(i, "test_acc", 200), index_list)
t_string = per_call(lambda s: table.query(s, "test_acc", 200), strings)
t_dict = per_call(lambda i: plain[i]["test_acc"][200], index_list)
t_to_index = per_call(NB201.to_index, strings)
t_str_dict = per_call(lambda s: plain_str[s], strings)
start = time.perf_counter()
for _ in range(20):
    table.query_many(indices, "test_acc", 200)
batched = 20 * len(indices) / (time.perf_counter() - start)

print(f"table {path} ({path.stat().st_size / 1e6:.2f} MB), python {platform.python_version()}, "
      f"{platform.processor() or platform.machine()}")
print(f"{'open + validate (median of 10):':<42}{statistics.median(opens) * 1e3:8.2f} ms")
start = time.perf_counter()
open_table(name)
print(f"{'open_table by name:':<42}{(time.perf_counter() - start) * 1e3:8.2f} ms")
print(f"{'single query by index (fastest):':<42}{t_index * 1e6:8.2f} us")
print(f"{'single query by arch string (fastest):':<42}{t_string * 1e6:8.2f} us")
print(f"{'plain dict-of-dicts lookup (fastest):':<42}{t_dict * 1e6:8.2f} us   (ratio query/dict: by index "
      f"{t_index / t_dict:.1f}x, by string {t_string / t_dict:.1f}x)")
print(f"{'NB201.to_index(arch string) (fastest):':<42}{t_to_index * 1e6:8.2f} us")
print(f"{'plain dict string -> index (fastest):':<42}{t_str_dict * 1e6:8.2f} us   (ratio to_index/dict "
      f"{t_to_index / t_str_dict:.1f}x)")
print(f"{'batched query_many:':<42}{batched / 1e6:8.2f} M queries/s "
      f"({batched * t_dict:.1f}x the dict lookup rate)")
