"""Cell-epochs per second of the reference loop and the stacked fast path (training only, real CIFAR-10).

Times `--steps` training steps per path after a warm-up run and extrapolates to one epoch of `--epoch-images`
images (default 50,000), so a full-skeleton measurement fits in minutes. Prints one line per path and the speedup.

    python scripts/bench_train.py                                   # CPU, micro-sized networks
    python scripts/bench_train.py --device cuda --channels 16 --cells-per-stage 5 --batch 256 --cells 32
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch

from nasbench_suite.data import load_cifar10
from nasbench_suite.train.protocols import Protocol
from nasbench_suite.train.run import resolve_archs
from nasbench_suite.train.shards import hardware_info
from nasbench_suite.train.trainer import DeviceData, train_reference, train_stacked


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--channels", type=int, default=8)
    ap.add_argument("--cells-per-stage", type=int, default=1)
    ap.add_argument("--batch", type=int, default=50)
    ap.add_argument("--steps", type=int, default=10, help="timed training steps per run")
    ap.add_argument("--cells", type=int, default=8, help="cells stacked in the fast path")
    ap.add_argument("--reference-cells", type=int, default=2, help="cells timed in the reference loop")
    ap.add_argument("--epoch-images", type=int, default=50_000)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--no-graphs", action="store_true", help="fast path without CUDA graphs")
    ap.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    protocol = Protocol("bench", epochs=1, batch_size=args.batch, channels=args.channels,
                        cells_per_stage=args.cells_per_stage, train_images=args.batch * args.steps,
                        valid_images=10, test_images=10, eval_batch_size=10)
    data = DeviceData(load_cifar10(), protocol, args.device)
    archs = [int(a) for a in resolve_archs(f"stratified:{args.cells}:0")]
    scale = args.epoch_images / (args.batch * args.steps)  # timed steps -> one epoch of epoch_images

    train_reference(archs[0], 0, data)  # warm-up: allocator, cuDNN autotuning
    ref_seconds = np.mean([train_reference(a, 0, data).records["train_seconds"][0]
                           for a in archs[:args.reference_cells]]) * scale
    train_stacked(archs, 1, data, cuda_graphs=not args.no_graphs)  # warm-up
    fast_seconds = train_stacked(archs, 0, data, cuda_graphs=not args.no_graphs)[0].records["train_seconds"][0]
    fast_seconds *= scale
    result = {"device": hardware_info(args.device), "channels": args.channels,
              "cells_per_stage": args.cells_per_stage, "batch": args.batch, "timed_steps": args.steps,
              "epoch_images": args.epoch_images, "stacked_cells": len(archs),
              "reference_seconds_per_cell_epoch": float(ref_seconds),
              "fast_seconds_per_cell_epoch": float(fast_seconds),
              "reference_cell_epochs_per_second": float(1 / ref_seconds),
              "fast_cell_epochs_per_second": float(1 / fast_seconds), "speedup": float(ref_seconds / fast_seconds)}
    print(f"device {args.device} ({result['device'].get('gpu', result['device']['cpu'])}), C={args.channels} "
          f"N={args.cells_per_stage}, batch {args.batch}, {args.epoch_images} images/epoch "
          f"(extrapolated from {args.steps} steps)")
    print(f"reference loop: {result['reference_cell_epochs_per_second']:.4g} cell-epochs/s "
          f"({ref_seconds:.3f} s per cell-epoch)")
    print(f"fast path ({len(archs)} cells stacked): {result['fast_cell_epochs_per_second']:.4g} cell-epochs/s "
          f"({fast_seconds:.3f} s per cell-epoch)")
    print(f"speedup {result['speedup']:.2f}x")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
