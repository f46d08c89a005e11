"""Time the main job (`nasbench-suite benchmark`, default preset, every registered strategy, default seeds)
and the `nb201-paper` preset, each as a fresh process writing to a temporary folder; print a Markdown table.

    python scripts/bench_leaderboard.py [--jobs 2] [--paper-seeds 500] [--paper-strategies a,b] [--skip-paper]

Wall seconds are what a user waits (import, runs, report, plots); CPU seconds are user+sys of the command and
its workers, so wall > CPU / jobs shows other load on the machine. The default job's target is <= 60 s wall.
Per-strategy CPU ms per run come from the output's timing.json (robust to other load).
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from nasbench_suite import jsonio

TARGET_SECONDS = 60.0
CLI = [sys.executable, "-c", "from nasbench_suite.cli import main; main()", "benchmark"]


def timed(args: list[str], out: Path) -> tuple[float, float, pd.DataFrame, pd.Series]:
    """(wall s, CPU s, leaderboard, CPU ms per run by strategy) of one benchmark command."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run([*CLI, *args, "--out", str(out)], check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    cpu_ms = pd.Series({name: row["cpu_ms"] for name, row in
                        jsonio.loads((out / "timing.json").read_text())["strategies"].items()}, dtype=float)
    return wall, cpu, pd.read_csv(out / "leaderboard.csv", index_col=0), cpu_ms


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=os.cpu_count())
    parser.add_argument("--paper-seeds", type=int, default=500)
    parser.add_argument("--paper-strategies", default=None, help="comma-separated; default: every registered one")
    parser.add_argument("--skip-paper", action="store_true")
    args = parser.parse_args()
    jobs = ["--jobs", str(args.jobs)]
    jobs_run = [("default (main job)", jobs)]
    if not args.skip_paper:
        chosen = ["--strategies", args.paper_strategies] if args.paper_strategies else []
        jobs_run.append((f"nb201-paper, {args.paper_seeds} seeds",
                         ["--preset", "nb201-paper", "--seeds", str(args.paper_seeds), *chosen, *jobs]))
    print(f"{os.cpu_count()} cores, --jobs {args.jobs}\n")
    print("| job | strategies | runs | wall s | CPU s | runs/s | slowest strategies (CPU ms/run) |")
    print("|---|---|---|---|---|---|---|")
    verdict = ""
    with tempfile.TemporaryDirectory() as tmp:
        for i, (label, extra) in enumerate(jobs_run):
            wall, cpu, board, cpu_ms = timed(extra, Path(tmp) / str(i))
            runs = int(board["runs"].sum())
            slow = ", ".join(f"{s} {ms:,.0f}" for s, ms in cpu_ms.nlargest(3).items())
            print(f"| {label} | {len(board)} | {runs} | {wall:.1f} | {cpu:.1f} | {runs / wall:.1f} | {slow} |")
            if i == 0:
                verdict = (f"default main job: {wall:.1f} s wall, target <= {TARGET_SECONDS:.0f} s: "
                           f"{'OK' if wall <= TARGET_SECONDS else 'TOO SLOW'}")
    print(f"\n{verdict}; load average (1, 5, 15 min) at the end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
