"""Speed of the one-shot supernet's CPU levers against the reference, measured in ONE run so the ratios compare.

Every training lever runs real DARTS (first order) search steps (a weight step plus an architecture step, batch
64, crop/flip included) on the `cpu` setting's supernet (C=8, N=1) and real CIFAR-10; the reference is the
path the search took before the levers existed: 32 px images, NCHW, fp32. The levers run interleaved
(A, B, C, A, B, C, ...) for --rounds rounds after an untimed warm-up, and the table reports medians of
training images/s by CPU-seconds (time.process_time: the figure that matters on a shared machine) and by wall
time, each as a ratio to the reference. Separately: the crop/flip of one batch, batched (data/augment.py)
against a per-image Python loop, and evaluation forwards under torch.no_grad against torch.inference_mode.
Last, numerics: the per-step loss of fp32 and bf16 runs from the same weights and batches.

    nice -n 10 python scripts/bench_oneshot.py --out results/oneshot/bench_oneshot
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from pathlib import Path

import numpy as np
import torch

from nasbench_suite import jsonio
from nasbench_suite.atomic import write_atomic
from nasbench_suite.data.augment import random_crop_flip
from nasbench_suite.oneshot.methods import make_method
from nasbench_suite.oneshot.search import (Batches, SearchConfig, build_supernet, device_images, hardware,
                                           load_search_data)
from nasbench_suite.oneshot.supernet import supernet_logits
from nasbench_suite.space import NB201

# name -> (resolution, channels_last, precision); the first is the baseline of every ratio
LEVERS = {
    "reference: 32 px, NCHW, fp32": (32, False, "fp32"),
    "32 px channels_last": (32, True, "fp32"),
    "16 px": (16, False, "fp32"),
    "16 px channels_last": (16, True, "fp32"),
    "16 px bf16": (16, False, "bf16"),
    "16 px channels_last bf16 (all levers)": (16, True, "bf16"),
}
DEVICE = torch.device("cpu")


def setup(base: SearchConfig, lever: str, data, seed: int = 0):
    """A DARTS method and its train/valid batch streams under one lever, from the same initial weights."""
    resolution, channels_last, precision = LEVERS[lever]
    config = dataclasses.replace(base, resolution=resolution, channels_last=channels_last, precision=precision)
    net = build_supernet(config, 10, DEVICE)
    method = make_method("darts", net, config.epochs, 1, DEVICE, seed=seed, precision=precision)
    method.start_epoch(0)
    images, labels = device_images(data, config, DEVICE)
    gen = torch.Generator().manual_seed(seed)
    streams = [Batches(images, labels, idx, config.batch_size, gen, True, channels_last)
               for idx in (data.train, data.valid)]
    return method, streams


def train_speed(method, streams, steps: int) -> tuple[float, float]:
    """(CPU seconds, wall seconds) of `steps` search steps, batches drawn and augmented inside the timing."""
    train, valid = streams
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(steps):
        method.step(next(train), next(valid), torch.Generator())
    return time.process_time() - cpu, time.perf_counter() - wall


def per_image_crop_flip(x: torch.Tensor, pad: int, gen: torch.Generator) -> torch.Tensor:
    """The per-image loop batched augmentation replaces (same draws, same result)."""
    n, _, h, w = x.shape
    dy, dx = torch.randint(0, 2 * pad + 1, (2, n), generator=gen)
    flip = torch.rand(n, generator=gen) < 0.5
    padded = torch.nn.functional.pad(x, (pad, pad, pad, pad))
    out = []
    for i in range(n):
        crop = padded[i, :, dy[i]:dy[i] + h, dx[i]:dx[i] + w]
        out.append(crop.flip(-1) if flip[i] else crop)
    return torch.stack(out)


def timed(fn, repeats: int) -> float:
    cpu = time.process_time()
    for _ in range(repeats):
        fn()
    return time.process_time() - cpu


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=8, help="timed search steps per lever and round")
    ap.add_argument("--rounds", type=int, default=3, help="interleaved timed rounds; the table shows medians")
    ap.add_argument("--loss-steps", type=int, default=20, help="steps of the fp32-vs-bf16 loss comparison")
    ap.add_argument("--out", type=Path, default=None, help="also write OUT.json and OUT.txt")
    args = ap.parse_args()
    torch.set_num_threads(1)
    base = SearchConfig.from_setting("darts", "cpu")
    data = load_search_data(base).subset(dataclasses.replace(base, train_images=2048, valid_images=2048))
    lines = [f"{hardware(DEVICE)}; DARTS-V1 steps on the cpu setting's supernet (C={base.channels}, "
             f"N={base.cells_per_stage}), batch {base.batch_size}, real CIFAR-10; median of {args.rounds} "
             f"interleaved rounds of {args.steps} steps; ratios to the first row (machine shared: ratios only)"]
    setups = {lever: setup(base, lever, data) for lever in LEVERS}
    for lever, (method, streams) in setups.items():
        train_speed(method, streams, 2)  # warm-up
    runs: dict[str, list[tuple[float, float]]] = {lever: [] for lever in LEVERS}
    for _ in range(args.rounds):
        for lever, (method, streams) in setups.items():
            runs[lever].append(train_speed(method, streams, args.steps))
    images = 2 * args.steps * base.batch_size  # a weight batch and an architecture batch per step
    rows = []
    for lever in LEVERS:
        cpu, wall = (float(np.median([r[k] for r in runs[lever]])) for k in (0, 1))
        rows.append({"lever": lever, "images_per_cpu_second": images / cpu, "images_per_second_wall": images / wall})
    for row in rows:
        row["ratio_cpu"] = row["images_per_cpu_second"] / rows[0]["images_per_cpu_second"]
        row["ratio_wall"] = row["images_per_second_wall"] / rows[0]["images_per_second_wall"]
    lines.append(f"{'training lever':40s} {'img/CPU-s':>9s} {'x ref':>6s} {'img/s wall':>10s} {'x ref':>6s}")
    lines += [f"{r['lever']:40s} {r['images_per_cpu_second']:9.0f} {r['ratio_cpu']:6.2f} "
              f"{r['images_per_second_wall']:10.0f} {r['ratio_wall']:6.2f}" for r in rows]

    x = setups["16 px"][1][0].images[:64].float()
    reps = 50
    aug = {"per-image loop": timed(lambda: per_image_crop_flip(x, 2, torch.Generator().manual_seed(0)), reps),
           "batched (data/augment.py)": timed(lambda: random_crop_flip(x, 2, torch.Generator().manual_seed(0)), reps)}
    assert torch.equal(per_image_crop_flip(x, 2, torch.Generator().manual_seed(0)),
                       random_crop_flip(x, 2, torch.Generator().manual_seed(0)))
    lines.append("crop/flip of a 64-image 16 px batch (same output): " + ", ".join(
        f"{k} {64 * reps / v:.0f} img/CPU-s" for k, v in aug.items())
        + f"; batched x{aug['per-image loop'] / aug['batched (data/augment.py)']:.1f}")

    method, streams = setups["16 px channels_last"]
    net, batch = method.net.eval(), next(streams[1])
    arch = NB201.to_ops("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|"
                        "nor_conv_1x1~2|")

    def evaluate(context) -> None:
        with context():
            supernet_logits(net, batch[0], arch=arch)

    evals = {name: [] for name in ("no_grad", "inference_mode")}
    for _ in range(args.rounds):
        for name, context in (("no_grad", torch.no_grad), ("inference_mode", torch.inference_mode)):
            evals[name].append(timed(lambda: evaluate(context), 20))
    ev = {k: 20 * len(batch[1]) / float(np.median(v)) for k, v in evals.items()}
    lines.append(f"eval forward of one cell, 16 px channels_last: no_grad {ev['no_grad']:.0f} img/CPU-s, "
                 f"inference_mode {ev['inference_mode']:.0f} img/CPU-s (x{ev['inference_mode'] / ev['no_grad']:.2f})")

    losses = {}
    for precision, lever in (("fp32", "16 px channels_last"), ("bf16", "16 px channels_last bf16 (all levers)")):
        method, streams = setup(base, lever, data, seed=1)
        losses[precision] = [method.step(next(streams[0]), next(streams[1]), torch.Generator())["loss"]
                             for _ in range(args.loss_steps)]
    diff = np.abs(np.array(losses["fp32"]) - np.array(losses["bf16"]))
    lines.append(f"numerics, {args.loss_steps} steps from the same weights and batches: fp32 loss "
                 f"{losses['fp32'][0]:.4f} -> {losses['fp32'][-1]:.4f}, bf16 {losses['bf16'][0]:.4f} -> "
                 f"{losses['bf16'][-1]:.4f}; max |difference| {diff.max():.4f}, mean {diff.mean():.4f}")
    text = "\n".join(lines) + "\n"
    print(text, end="")
    if args.out:
        report = {"header": lines[0], "training": rows, "augmentation_cpu_seconds_per_50_batches": aug,
                  "eval_images_per_cpu_second": ev, "losses": losses}
        write_atomic(args.out.with_suffix(".json"), lambda fh: fh.write(jsonio.dumps(report, indent=2).encode()))
        write_atomic(args.out.with_suffix(".txt"), lambda fh: fh.write(text.encode()))


if __name__ == "__main__":
    main()
