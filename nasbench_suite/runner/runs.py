"""Trajectories of simulated searches, and their storage: one small .npz per finished (strategy, seed).

Each file is written atomically (temporary file + rename), so an interrupted benchmark keeps every run that
finished, and a resumed one only runs what is missing.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from nasbench_suite.atomic import write_atomic
from nasbench_suite.errors import UserInputError

RUNS_DIR = "runs"
PROTOCOL_FILE = "protocol.json"
ARRAYS = ("arch", "fidelity", "cost", "seen", "incumbent", "reported")


@dataclass(eq=False)
class Run:
    """One search: per query, the cell (official index), fidelity, cost, seen value, and then the incumbent
    (the cell with the best seen value so far, -1 before any) with its report metric."""

    strategy: str
    seed: int
    arch: np.ndarray
    fidelity: np.ndarray
    cost: np.ndarray
    seen: np.ndarray
    incumbent: np.ndarray
    reported: np.ndarray
    wall_seconds: float = 0.0  # wall-clock time of the search loop (inflated when the machine is busy)
    cpu_seconds: float = 0.0  # CPU time of the search loop in its process

    @property
    def queries(self) -> int:
        return len(self.arch)

    @property
    def elapsed(self) -> np.ndarray:
        """Simulated time at which each query finished."""
        return np.cumsum(self.cost)

    @property
    def final(self) -> float:
        """Report metric of the final incumbent (NaN if no query fitted the budget)."""
        return float(self.reported[-1]) if len(self.reported) else float("nan")

    def same_trajectory(self, other: Run) -> bool:
        """Bit-for-bit equal trajectories (wall time aside)."""
        return (self.strategy, self.seed) == (other.strategy, other.seed) and all(
            np.array_equal(getattr(self, k), getattr(other, k), equal_nan=True) for k in ARRAYS)


@dataclass
class Runs:
    """All runs of a benchmark plus what they were run under (`meta`: protocol, reference values)."""

    runs: list[Run]
    meta: dict[str, Any] = field(default_factory=dict)

    def __iter__(self) -> Iterator[Run]:
        return iter(self.runs)

    def __len__(self) -> int:
        return len(self.runs)

    @property
    def strategies(self) -> list[str]:
        """Strategy names in the order of the protocol (or of first appearance)."""
        names = list(self.meta.get("strategies", []))
        for run in self.runs:
            if run.strategy not in names:
                names.append(run.strategy)
        present = {run.strategy for run in self.runs}
        return [name for name in names if name in present]

    @property
    def seeds(self) -> list[int]:
        return sorted({r.seed for r in self.runs})

    def of(self, strategy: str) -> list[Run]:
        """Runs of one strategy, by seed."""
        return sorted((r for r in self.runs if r.strategy == strategy), key=lambda r: r.seed)

    def get(self, strategy: str, seed: int) -> Run | None:
        return next((r for r in self.runs if r.strategy == strategy and r.seed == seed), None)


def fingerprint(protocol: dict[str, Any]) -> str:
    """Short stable hash of a protocol: runs are only reused under the identical protocol."""
    return hashlib.sha256(json.dumps(protocol, sort_keys=True, default=str).encode()).hexdigest()[:16]


def run_path(out_dir: str | os.PathLike, strategy: str, seed: int) -> Path:
    return Path(out_dir) / RUNS_DIR / strategy / f"seed-{seed}.npz"


def save_run(run: Run, out_dir: str | os.PathLike, protocol_hash: str) -> Path:
    """Store one finished run atomically."""
    arrays = {k: getattr(run, k) for k in ARRAYS}
    info = json.dumps({"strategy": run.strategy, "seed": run.seed, "wall_seconds": run.wall_seconds,
                       "cpu_seconds": run.cpu_seconds, "protocol": protocol_hash})
    return write_atomic(run_path(out_dir, run.strategy, run.seed),
                        lambda fh: np.savez(fh, info=np.array(info), **arrays))


def load_run(path: Path) -> tuple[Run, str]:
    """A stored run and the protocol hash it was run under."""
    with np.load(path) as data:
        info = json.loads(str(data["info"]))
        run = Run(info["strategy"], int(info["seed"]), **{k: data[k] for k in ARRAYS},
                  wall_seconds=float(info["wall_seconds"]), cpu_seconds=float(info.get("cpu_seconds", "nan")))
    return run, info["protocol"]


def save_protocol(out_dir: str | os.PathLike, meta: dict[str, Any]) -> Path:
    text = json.dumps(meta, indent=2, sort_keys=True, default=str).encode()
    return write_atomic(Path(out_dir) / RUNS_DIR / PROTOCOL_FILE, lambda fh: fh.write(text))


def stored_runs(out_dir: str | os.PathLike, protocol_hash: str) -> dict[tuple[str, int], Run]:
    """Finished runs under `out_dir` made with this protocol; a clear error if others are there."""
    found: dict[tuple[str, int], Run] = {}
    for path in sorted((Path(out_dir) / RUNS_DIR).glob("*/seed-*.npz")):
        run, stored_hash = load_run(path)
        if stored_hash != protocol_hash:
            raise UserInputError(f"{path} was run under another protocol (table, preset, budget or fidelities "
                                 "differ); use another --out folder or run without --resume to start over")
        found[(run.strategy, run.seed)] = run
    return found


def clear_runs(out_dir: str | os.PathLike) -> int:
    """Delete the stored runs of an output folder (a fresh start); returns how many there were."""
    paths = list((Path(out_dir) / RUNS_DIR).glob("*/seed-*.npz"))
    for path in paths:
        path.unlink()
    return len(paths)


def load_runs(out_dir: str | os.PathLike) -> Runs:
    """Every stored run of an output folder, with the protocol it was run under."""
    protocol_file = Path(out_dir) / RUNS_DIR / PROTOCOL_FILE
    if not protocol_file.is_file():
        raise UserInputError(f"no stored runs in {out_dir} (missing {protocol_file})")
    meta = json.loads(protocol_file.read_text())
    runs = stored_runs(out_dir, meta["protocol_hash"])
    return Runs(sorted(runs.values(), key=lambda r: (meta["strategies"].index(r.strategy)
                                                      if r.strategy in meta["strategies"] else 1 << 30, r.seed)),
                meta)
