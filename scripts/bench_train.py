"""Training speed of each CPU/GPU lever against the reference loop, measured in ONE run so the ratios compare.

Every lever (trainer path, threads, precision, channels_last, torch.compile) trains real cells on real CIFAR-10
under the same protocol (default: `micro` cut to 1 epoch of --images training images). The levers run interleaved
(A, B, C, A, B, C, ...) for --rounds rounds after one untimed warm-up each, and the table reports medians: training
images/s (wall), cell-epochs/s by wall and by CPU-seconds (time.process_time, all threads: the figure that matters
on a shared machine), and each lever's ratio to the first row. A compiled lever's warm-up time is its compile time.

    nice -n 10 python scripts/bench_train.py                                  # CPU, micro-sized networks
    python scripts/bench_train.py --device cuda --protocol fast --images 5120 --cells 16 --levers stacked
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path

import numpy as np
import torch

from nasbench_suite import jsonio
from nasbench_suite.atomic import write_atomic
from nasbench_suite.data import load_cifar10
from nasbench_suite.train.protocols import get_protocol
from nasbench_suite.train.run import resolve_archs
from nasbench_suite.train.shards import hardware_info
from nasbench_suite.train.trainer import DeviceData, train_reference, train_stacked

# name -> (stacked?, threads, precision, channels_last, compile); the first is the baseline of every ratio
LEVERS = {
    "reference": (False, 1, "fp32", False, False),
    "reference 2 threads": (False, 2, "fp32", False, False),
    "reference channels_last": (False, 1, "fp32", True, False),
    "reference bf16": (False, 1, "bf16", False, False),
    "reference bf16 channels_last": (False, 1, "bf16", True, False),
    "reference compile": (False, 1, "fp32", False, True),
    "stacked": (True, 1, "fp32", False, False),
    "stacked channels_last": (True, 1, "fp32", True, False),
    "stacked bf16": (True, 1, "bf16", False, False),
    "stacked bf16 channels_last": (True, 1, "bf16", True, False),
    "stacked 2 threads": (True, 2, "fp32", False, False),
}


def measure(lever: str, archs: list[int], datas: dict, seed: int) -> dict[str, float]:
    """Train `archs` (one by one, or stacked) under one lever; per-cell wall, CPU and training seconds."""
    stacked, threads, precision, channels_last, compile_ = LEVERS[lever]
    torch.set_num_threads(threads)
    data = datas[(precision, channels_last)]
    wall, cpu = time.perf_counter(), time.process_time()
    if stacked:
        results = train_stacked(archs, seed, data, compile=compile_)
    else:
        results = [train_reference(a, seed, data, compile=compile_) for a in archs]
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    train = float(np.mean([r.records["train_seconds"].sum() for r in results]))
    return {"wall": wall / len(archs), "cpu": cpu / len(archs), "train": train,
            "test_acc": float(np.mean([r.records["test_acc"][-1] for r in results]))}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--protocol", default="micro", help="a protocol name or .json file (epochs are set to 1)")
    ap.add_argument("--images", type=int, default=500, help="training images of the timed epoch")
    ap.add_argument("--cells", type=int, default=8, help="cells per run (stacked: one group)")
    ap.add_argument("--rounds", type=int, default=3, help="interleaved timed rounds; the table shows medians")
    ap.add_argument("--levers", nargs="+", default=[n for n in LEVERS if "compile" not in n], metavar="LEVER",
                    help=f"some of: {', '.join(LEVERS)} (the first is the baseline of the ratios; default: all "
                    "but compile, whose first step alone takes minutes on a small CPU)")
    ap.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = ap.parse_args()
    unknown = set(args.levers) - set(LEVERS)
    if unknown:
        ap.error(f"unknown levers {', '.join(sorted(unknown))}; choose from {', '.join(LEVERS)}")
    levers = args.levers
    protocol = dataclasses.replace(get_protocol(args.protocol), name="bench", epochs=1, train_images=args.images)
    cifar = load_cifar10()
    datas = {(p, cl): DeviceData(cifar, dataclasses.replace(protocol, precision=p), args.device, channels_last=cl)
             for p in ("fp32", "bf16") for cl in (False, True)}
    archs = [int(a) for a in resolve_archs(f"stratified:{args.cells}:0")]
    warmup = {lever: measure(lever, archs[:2], datas, seed=1)["wall"] * 2 for lever in levers}
    runs: dict[str, list[dict[str, float]]] = {lever: [] for lever in levers}
    for _ in range(args.rounds):
        for lever in levers:
            runs[lever].append(measure(lever, archs, datas, seed=0))
    images = protocol.batch_size * (args.images // protocol.batch_size)
    rows = []
    for lever in levers:
        med = {k: float(np.median([r[k] for r in runs[lever]])) for k in runs[lever][0]}
        rows.append({"lever": lever, "images_per_second": images / med["train"],
                     "cell_epochs_per_second_wall": 1 / med["wall"], "cell_epochs_per_second_cpu": 1 / med["cpu"],
                     "cpu_seconds_per_cell_epoch": med["cpu"], "warmup_seconds": warmup[lever],
                     "test_acc": med["test_acc"]})
    base = rows[0]
    print(f"device {args.device} ({hardware_info(args.device).get('gpu', hardware_info(args.device)['cpu'])}); "
          f"protocol {args.protocol}: C={protocol.channels} N={protocol.cells_per_stage} batch {protocol.batch_size}"
          f", {images} training + {protocol.valid_images}+{protocol.test_images} eval images, {len(archs)} cells, "
          f"median of {args.rounds} interleaved rounds")
    print(f"{'lever':30s} {'img/s':>8s} {'x ref':>6s} {'cell-ep/s wall':>15s} {'cell-ep/s CPU':>14s} "
          f"{'x ref CPU':>9s} {'warm-up s':>9s} {'test acc':>8s}")
    for row in rows:
        row["ratio_wall"] = row["images_per_second"] / base["images_per_second"]
        row["ratio_cpu"] = row["cell_epochs_per_second_cpu"] / base["cell_epochs_per_second_cpu"]
        print(f"{row['lever']:30s} {row['images_per_second']:8.0f} {row['ratio_wall']:6.2f} "
              f"{row['cell_epochs_per_second_wall']:15.3f} {row['cell_epochs_per_second_cpu']:14.3f} "
              f"{row['ratio_cpu']:9.2f} {row['warmup_seconds']:9.1f} {row['test_acc']:8.2f}")
    if args.json:
        text = jsonio.dumps({"device": hardware_info(args.device), "protocol": protocol.to_json(), "cells": archs,
                             "rounds": args.rounds, "levers": rows}, indent=2)
        write_atomic(args.json, lambda fh: fh.write(text.encode()))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
