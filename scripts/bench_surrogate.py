"""Speed check: fit the default surrogate on 1,000 random cells of a table and predict all 15,625.

    python scripts/bench_surrogate.py [TABLE] [--train-size 1000] [--repeats 3]

Target: under 10 s (fit + predict) on 2 cores. Prints each repeat and the median.
"""

import argparse
import os
import time

import numpy as np

from nasbench_suite import open_table
from nasbench_suite.surrogate import Surrogate

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("table", nargs="?", default="nb201-cifar10")
parser.add_argument("--train-size", type=int, default=1000)
parser.add_argument("--repeats", type=int, default=3)
args = parser.parse_args()

table = open_table(args.table)
everything = np.arange(table.space_obj.size)
totals = []
for repeat in range(args.repeats):
    cells = np.random.default_rng(repeat).choice(table.archs, size=args.train_size, replace=False)
    start = time.perf_counter()
    surrogate = Surrogate(seed=repeat).fit(table, cells)
    fitted = time.perf_counter()
    mean, std = surrogate.predict(everything)
    done = time.perf_counter()
    totals.append(done - start)
    print(f"repeat {repeat}: fit {fitted - start:.2f} s on {args.train_size} cells, predict {done - fitted:.2f} s "
          f"for {len(mean)} cells, total {done - start:.2f} s")
print(f"median total {np.median(totals):.2f} s (target < 10 s); cpus available: {len(os.sched_getaffinity(0))}, "
      f"load average {os.getloadavg()[0]:.1f}; model {surrogate.model} {surrogate.metadata()['params']}")
