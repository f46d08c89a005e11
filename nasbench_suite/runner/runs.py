"""Trajectories of simulated searches, and their storage: one small .npz per finished (strategy, seed).

Each file is written atomically (temporary file + rename), so an interrupted benchmark keeps every run that
finished, and a resumed one only runs what is missing.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from nasbench_suite import jsonio
from nasbench_suite.atomic import write_atomic
from nasbench_suite.errors import UserInputError
from nasbench_suite.outputs import UNREADABLE, recorded, reuse_or_refuse

RUNS_DIR = "runs"
PROTOCOL_FILE = "protocol.json"
LOCK_FILE = ".lock"
LEADERBOARD_FILE = "leaderboard.json"  # written by the report from these runs; its header records their protocol
REPLACE_RUNS = "delete the stored runs there and start over"
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
    wall_seconds: float = float("nan")  # wall-clock time of the search loop (NaN: not measured in this process)
    cpu_seconds: float = float("nan")  # CPU time of the search loop in its process (kept out of run files)

    @classmethod
    def from_rows(cls, strategy: str, seed: int, rows: list[tuple], wall_seconds: float, cpu_seconds: float) -> Run:
        """A run from its per-query rows (arch, fidelity, cost, seen, incumbent, reported)."""
        columns = list(zip(*rows)) if rows else [()] * len(ARRAYS)
        dtypes = (np.int32, np.int32, np.float64, np.float64, np.int32, np.float64)
        return cls(strategy, int(seed), *(np.asarray(c, dtype=d) for c, d in zip(columns, dtypes)),
                   wall_seconds, cpu_seconds)

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
    """Store one finished run atomically; the same run always gives the same bytes (no measured times in it;
    np.savez stamps its zip members 1980-01-01)."""
    info = jsonio.dumps({"strategy": run.strategy, "seed": run.seed, "protocol": protocol_hash}, sort_keys=True)
    arrays = {"info": np.array(info), **{k: getattr(run, k) for k in ARRAYS}}
    return write_atomic(run_path(out_dir, run.strategy, run.seed), lambda fh: np.savez(fh, **arrays))


def load_run(path: Path) -> tuple[Run, str]:
    """A stored run and the protocol hash it was run under; a damaged file (truncated, not an npz, bad JSON inside)
    is a one-line UserInputError naming it."""
    try:
        with np.load(path) as data:
            info = jsonio.loads(str(data["info"]))
            run = Run(info["strategy"], int(info["seed"]), **{k: data[k] for k in ARRAYS})
            return run, str(info["protocol"])
    except (zipfile.BadZipFile, EOFError, ValueError, KeyError, TypeError) as exc:
        reason = f"{type(exc).__name__}: {str(exc).splitlines()[0]}"
        raise DamagedRun(f"{path} is damaged, not a run file ({reason}); delete that file to run it again") from None


class DamagedRun(UserInputError):
    """A stored run file that cannot be read (e.g. truncated by a full disk or a copy)."""


def save_protocol(out_dir: str | os.PathLike, meta: dict[str, Any]) -> Path:
    text = jsonio.dumps(meta, indent=2, sort_keys=True).encode()
    return write_atomic(Path(out_dir) / RUNS_DIR / PROTOCOL_FILE, lambda fh: fh.write(text))


def _run_files(out_dir: str | os.PathLike) -> list[Path]:
    return sorted((Path(out_dir) / RUNS_DIR).glob("*/seed-*.npz"))


def stored_runs(out_dir: str | os.PathLike, protocol_hash: str, overwrite: bool = False) -> dict[tuple[str, int], Run]:
    """Finished runs under `out_dir` made with this protocol (bit-for-bit what a rerun would compute).

    Runs made under another protocol, damaged run files and a leaderboard.json of another protocol (e.g. a
    committed one whose runs are not there) are an error, or with `overwrite` deleted (the suite's own run files
    only; the leaderboard is rewritten).
    """
    board = Path(out_dir) / LEADERBOARD_FILE
    reuse_or_refuse(recorded(board, "header", "protocol_hash"), protocol_hash, overwrite, f"{board} is a leaderboard "
                    "of another protocol (table, preset, budget or fidelities differ)", "replace it")
    found: dict[tuple[str, int], Run] = {}
    for path in _run_files(out_dir):
        try:
            run, stored_hash = load_run(path)
        except DamagedRun as exc:
            run, stored_hash, refusal = None, UNREADABLE, str(exc)
        else:
            refusal = f"{path} was run under another protocol (table, preset, budget or fidelities differ)"
        if not reuse_or_refuse(stored_hash, protocol_hash, overwrite, refusal, REPLACE_RUNS):
            clear_runs(out_dir)
            return {}
        found[(run.strategy, run.seed)] = run
    return found


def clear_runs(out_dir: str | os.PathLike) -> int:
    """Delete the stored runs and protocol of an output folder (nothing else); returns how many runs there were."""
    paths = _run_files(out_dir)
    for path in [*paths, Path(out_dir) / RUNS_DIR / PROTOCOL_FILE]:
        path.unlink(missing_ok=True)
    return len(paths)


_LOCKS: dict[Path, int] = {}  # output folders this process holds -> nesting depth


@contextmanager
def output_lock(out_dir: str | os.PathLike) -> Iterator[None]:
    """Hold an exclusive lock on an output folder (one writer at a time); re-entrant within this process."""
    path = (Path(out_dir) / RUNS_DIR / LOCK_FILE).resolve()
    if path in _LOCKS:
        _LOCKS[path] += 1
        try:
            yield
        finally:
            _LOCKS[path] -= 1
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise UserInputError(f"{out_dir} is being written by another benchmark process (lock {path}); wait "
                                 "for it to finish or use another --out folder") from None
        _LOCKS[path] = 1
        try:
            yield
        finally:
            del _LOCKS[path]
            fcntl.flock(fh, fcntl.LOCK_UN)


def load_runs(out_dir: str | os.PathLike) -> Runs:
    """Every stored run of an output folder, with the protocol it was run under."""
    protocol_file = Path(out_dir) / RUNS_DIR / PROTOCOL_FILE
    if not protocol_file.is_file():
        raise UserInputError(f"no stored runs in {out_dir} (missing {protocol_file})")
    try:
        meta = jsonio.loads(protocol_file.read_text())
    except ValueError as exc:
        raise UserInputError(f"{protocol_file} is damaged ({exc}); rerun the benchmark that wrote {out_dir} with "
                             "--overwrite") from None
    runs = stored_runs(out_dir, meta["protocol_hash"])
    return Runs(sorted(runs.values(), key=lambda r: (meta["strategies"].index(r.strategy)
                                                      if r.strategy in meta["strategies"] else 1 << 30, r.seed)),
                meta)
