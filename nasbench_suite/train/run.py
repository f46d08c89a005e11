"""A resumable training run: which cells, which shard, which trainer, written shard by shard (local backend).

`nasbench-suite train` calls `run_local` (or the Ray backend); both skip (cell, seed) pairs already finished in
any shard of the output folder, so a killed run restarted with the same command loses nothing.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nasbench_suite.errors import UserInputError
from nasbench_suite.space import NB201

ARCHS_FORMS = ("all, unique, sample:N[:SEED], canonical:N[:SEED], stratified:N[:SEED], a file with one index or "
               "arch string a line, or several of these joined by +")


def resolve_archs(spec: str) -> np.ndarray:
    """Official indices of the cells a run trains, sorted; `A+B` is the union of A's and B's cells."""
    if "+" in spec:
        return np.unique(np.concatenate([resolve_archs(part) for part in spec.split("+")]))
    kind, _, rest = spec.partition(":")
    if spec == "all":
        return np.arange(NB201.size)
    if spec == "unique":
        return np.sort(NB201.unique_indices())
    if kind in ("sample", "canonical", "stratified") and rest:
        count, _, seed = rest.partition(":")
        try:
            n, seed_value = int(count), int(seed or 0)
        except ValueError:
            raise UserInputError(f"--archs {spec!r}: N and SEED must be integers; expected {ARCHS_FORMS}") from None
        if not 1 <= n <= NB201.size:
            raise UserInputError(f"--archs {spec!r}: N must be 1..{NB201.size}")
        rng = np.random.default_rng(seed_value)
        if kind == "sample":
            return np.sort(rng.choice(NB201.size, size=n, replace=False))
        if kind == "canonical":
            return canonical_sample(n, seed_value)
        return _stratified(n, rng)
    path = Path(spec)
    if path.is_file():
        lines = [ln.strip() for ln in path.read_text().splitlines() if ln.strip() and not ln.startswith("#")]
        if not lines:
            raise UserInputError(f"--archs file {path} lists no cells; expected one index or arch string a line")
        return np.unique(NB201.indices_of([int(x) if x.isdigit() else x for x in lines]))
    raise UserInputError(f"--archs {spec!r} is not understood; expected {ARCHS_FORMS}")


def canonical_sample(n: int, seed: int = 0) -> np.ndarray:
    """n canonical cells drawn uniformly (seeded), sorted; a larger n extends a smaller one's cells (same seed).

    The draw is a prefix of one seeded permutation, so a 60-cell pilot's cells are part of a 500-cell table's.
    """
    unique = np.sort(NB201.unique_indices())
    if not 1 <= n <= len(unique):
        raise UserInputError(f"canonical:{n}: N must be 1..{len(unique)} (the canonical cells)")
    return np.sort(np.random.default_rng([seed, 1]).permutation(unique)[:n])


def _stratified(n: int, rng: np.random.Generator) -> np.ndarray:
    """n unique cells spread over the published 200-epoch test accuracy: one per accuracy quantile bin."""
    from nasbench_suite import open_table

    table = open_table("nb201-cifar10")
    unique = np.sort(NB201.unique_indices())
    acc = table.query_many(unique, "test_acc", 200)
    order = unique[np.argsort(acc, kind="stable")]
    bins = np.array_split(order, n)
    return np.sort(np.array([rng.choice(b) for b in bins]))


def parse_shard(text: str | None) -> tuple[int, int]:
    """'K/N' -> (K, N) with 0 <= K < N; None -> (0, 1). Shared by every sharded command."""
    if text is None:
        return 0, 1
    k, sep, n = text.partition("/")
    if not (sep and k.isdigit() and n.isdigit() and 0 <= int(k) < int(n)):
        raise UserInputError(f"--shard {text!r}: expected K/N with 0 <= K < N, e.g. 0/2")
    return int(k), int(n)


@dataclass
class RunSpec:
    """Everything a worker needs to train its part of a run."""

    protocol_name: str
    archs: np.ndarray
    seeds: list[int]
    out: Path
    device: str = "cpu"
    trainer: str = "auto"  # stacked | reference | auto (stacked on CUDA, reference on CPU)
    group_size: int = 0  # cells per stacked step; 0 = auto (16 on CUDA, 8 on CPU)
    dataset: str | None = None  # CIFAR-10 source (see load_cifar10)
    threads: int = 0

    def stacked(self) -> bool:
        return self.trainer == "stacked" or (self.trainer == "auto" and self.device.startswith("cuda"))

    def groups(self) -> int:
        return self.group_size or (16 if self.device.startswith("cuda") else 8)


def pending(spec: RunSpec, protocol, data) -> list[tuple[int, list[int]]]:
    """(seed, cells) work items not yet finished in any shard of spec.out, in groups of spec.groups()."""
    from nasbench_suite.train.shards import finished_runs

    done = finished_runs(spec.out, protocol, data.name, data.sha256) if spec.out.is_dir() else set()
    size = spec.groups() if spec.stacked() else 1
    items = []
    for seed in spec.seeds:
        todo = [int(a) for a in spec.archs if (int(a), seed) not in done]
        items += [(seed, todo[i:i + size]) for i in range(0, len(todo), size)]
    return items


def provenance(spec: RunSpec, backend: str, shard: tuple[int, int]) -> dict:
    return {"command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]), "backend": backend,
            "shard": f"{shard[0]}/{shard[1]}", "trainer": "stacked" if spec.stacked() else "reference",
            "group_size": spec.groups() if spec.stacked() else 1}


def run_local(spec: RunSpec, shard: tuple[int, int] = (0, 1), progress: bool = True) -> Path:
    """Train this shard's cells one group at a time, rewriting the shard file after each group."""
    import torch
    from tqdm import tqdm

    from nasbench_suite.data import load_cifar10
    from nasbench_suite.train.protocols import get_protocol
    from nasbench_suite.train.shards import ShardWriter
    from nasbench_suite.train.trainer import DeviceData, train_reference, train_stacked

    if spec.threads:
        torch.set_num_threads(spec.threads)
    protocol = get_protocol(spec.protocol_name)
    device = check_device(spec.device)
    data = load_cifar10(spec.dataset)
    i, n = shard
    spec = RunSpec(**{**spec.__dict__, "archs": np.asarray(spec.archs)[i::n]})
    spec.out.mkdir(parents=True, exist_ok=True)
    work = pending(spec, protocol, data)
    path = spec.out / f"shard-{i}-of-{n}.h5"
    writer = ShardWriter(path, protocol, data.name, data.sha256, spec.seeds, device,
                         provenance(spec, "local", shard))
    device_data = DeviceData(data, protocol, device)
    total = len(spec.archs) * len(spec.seeds)
    with tqdm(total=total, initial=total - sum(len(c) for _, c in work), unit="cell", disable=not progress,
              desc=f"train {protocol.name} shard {i}/{n}", dynamic_ncols=True) as bar:
        for seed, cells in work:
            if spec.stacked():
                results = train_stacked(cells, seed, device_data)
            else:
                results = [train_reference(cells[0], seed, device_data)]
            writer.add(results)
            bar.update(len(cells))
    if not path.exists():
        writer.save()
    return path


def check_device(device: str) -> str:
    """'cpu', 'cuda' or 'cuda:N', the latter only where torch sees a GPU; one clear error otherwise."""
    import torch

    if not re.fullmatch(r"cpu|cuda(:\d+)?", device):
        raise UserInputError(f"--device {device!r}: expected cpu, cuda or cuda:N")
    if device != "cpu" and not torch.cuda.is_available():
        raise UserInputError(f"--device {device}: this torch ({torch.__version__}) sees no CUDA GPU; "
                             "use --device cpu")
    return device
