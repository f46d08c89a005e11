"""Protocol pilot: train the SAME cells under candidate protocols, then weigh each protocol's cost against its fidelity.

The cells are canonical NB201 cells drawn once (seeded): a sample stratified over NAS-Bench-201's 200-epoch test
accuracy (one cell per quantile bin, so 60 cells = 6 per decile) and a uniform sample. Each protocol trains them
through the ordinary resumable, sharded run machinery (`run_local`) into OUT/runs/<protocol>/. The report gives, per
protocol and sample, the median CPU-seconds per cell and Kendall tau / Spearman rho of the protocol's final accuracy
against NB201 test_acc@200 and valid_acc@12, next to the zero-cost proxies of the reference table on the same cells.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from nasbench_suite import jsonio, open_table
from nasbench_suite.atomic import write_atomic
from nasbench_suite.errors import UserInputError
from nasbench_suite.space import NB201
from nasbench_suite.train.protocols import Protocol
from nasbench_suite.train.run import RunSpec, canonical_sample, resolve_archs, run_local
from nasbench_suite.train.shards import merge_shards, shard_files

SAMPLES = ("stratified", "uniform")
TARGETS = (("test_acc", 200), ("valid_acc", 12))  # NB201 metric@epoch each protocol is ranked against
PROXIES = ("proxy_naswot", "proxy_synflow")
COLUMNS = ("protocol", "sample", "cells", "cpu_seconds_per_cell", "wall_seconds_per_cell", "tau_test_acc@200",
           "tau_test_acc@200_lo", "tau_test_acc@200_hi", "rho_test_acc@200", "tau_valid_acc@12", "rho_valid_acc@12")
BOOTSTRAP = 1000  # resamples of the cells behind each tau's 90% interval


def pilot_cells(stratified: int = 60, uniform: int = 20, seed: int = 0) -> dict[str, np.ndarray]:
    """Canonical cells: `stratified` over NB201 test_acc@200 quantile bins and `uniform` drawn uniformly (seeded).

    The uniform cells are `canonical:N:SEED`, so a table built from `canonical:500:SEED` contains them.
    """
    unique = np.sort(NB201.unique_indices())
    for name, n in (("stratified", stratified), ("uniform", uniform)):
        if not 1 <= n <= len(unique):
            raise UserInputError(f"pilot --{name} {n}: expected 1..{len(unique)} (the canonical cells)")
    return {"stratified": resolve_archs(f"stratified:{stratified}:{seed}"),
            "uniform": canonical_sample(uniform, seed)}


def _run_dir(out: Path, protocol: Protocol) -> Path:
    if not re.fullmatch(r"[A-Za-z0-9_.+-]+", protocol.name):
        raise UserInputError(f"pilot protocol name {protocol.name!r} is not usable as a folder name; expected "
                             "letters, digits and _ . + -")
    return out / "runs" / protocol.name


def _fix_cells(out: Path, cells: dict[str, np.ndarray]) -> None:
    """Record the pilot's cells in OUT/cells.json; a later call with other cells is refused (resume = same cells)."""
    path = out / "cells.json"
    wanted = {name: [int(a) for a in archs] for name, archs in cells.items()}
    if path.is_file():
        if jsonio.loads(path.read_text()) != wanted:
            raise UserInputError(f"{path} holds other cells than --stratified/--uniform/--sample-seed give now; "
                                 "expected the settings of the first call, or another --out folder")
        return
    text = jsonio.dumps(wanted, indent=1)
    write_atomic(path, lambda fh: fh.write(text.encode()))


def run_pilot(protocols: Sequence[Protocol], out: str | Path, cells: dict[str, np.ndarray],
              seeds: Sequence[int] = (0,), shard: tuple[int, int] = (0, 1), device: str = "cpu",
              trainer: str = "auto", group_size: int = 0, threads: int = 0, progress: bool = True) -> None:
    """Train every cell of `cells` under every protocol (this shard's part), skipping what is already finished."""
    out = Path(out)
    names = [p.name for p in protocols]
    if len(set(names)) != len(names):
        raise UserInputError(f"pilot protocols must have distinct names; got {', '.join(names)}")
    dirs = [_run_dir(out, p) for p in protocols]
    _fix_cells(out, cells)
    archs = np.unique(np.concatenate(list(cells.values())))
    for protocol, folder in zip(protocols, dirs):
        path = out / "protocols" / f"{protocol.name}.json"
        text = jsonio.dumps(protocol.to_json(), indent=1)
        write_atomic(path, lambda fh, text=text: fh.write(text.encode()))
        spec = RunSpec(str(path), archs, list(seeds), folder, device=device, trainer=trainer,
                       group_size=group_size, threads=threads)
        run_local(spec, shard, progress=progress)


def _rank(ours: np.ndarray, theirs: np.ndarray) -> tuple[float, float]:
    from scipy.stats import kendalltau, spearmanr

    ok = np.isfinite(ours) & np.isfinite(theirs)
    if ok.sum() < 3:
        return math.nan, math.nan
    return float(kendalltau(ours[ok], theirs[ok])[0]), float(spearmanr(ours[ok], theirs[ok])[0])


def _tau_interval(ours: np.ndarray, theirs: np.ndarray, seed: int = 0) -> tuple[float, float]:
    """90% percentile-bootstrap interval of Kendall tau over the cells (seeded): how far a few dozen cells decide."""
    from scipy.stats import kendalltau

    ok = np.flatnonzero(np.isfinite(ours) & np.isfinite(theirs))
    if len(ok) < 3:
        return math.nan, math.nan
    rng = np.random.default_rng(seed)
    taus = [kendalltau(ours[pick], theirs[pick])[0] for pick in rng.choice(ok, size=(BOOTSTRAP, len(ok)))]
    return tuple(float(q) for q in np.nanquantile(taus, [0.05, 0.95]))


def _row(name: str, sample: str, scores: np.ndarray, targets: dict[str, np.ndarray], cpu: float,
         wall: float) -> dict[str, Any]:
    row: dict[str, Any] = {"protocol": name, "sample": sample, "cells": int(np.isfinite(scores).sum()),
                           "cpu_seconds_per_cell": cpu, "wall_seconds_per_cell": wall}
    for target, values in targets.items():
        row[f"tau_{target}"], row[f"rho_{target}"] = _rank(scores, values)
    first = TARGETS[0]
    row[f"tau_{first[0]}@{first[1]}_lo"], row[f"tau_{first[0]}@{first[1]}_hi"] = _tau_interval(
        scores, targets[f"{first[0]}@{first[1]}"])
    return row


def pilot_report(out: str | Path, metric: str = "valid_acc", reference: str = "nb201-cifar10") -> list[dict[str, Any]]:
    """One row per (protocol or proxy, sample): cells ranked, median CPU/wall seconds per cell, tau and rho.

    A protocol's score is `metric` at its last epoch (mean over seeds); cells not finished yet are left out.
    """
    out = Path(out)
    if not (out / "cells.json").is_file():
        raise UserInputError(f"{out} holds no pilot (no cells.json); expected the --out folder of a pilot run")
    cells = {k: np.asarray(v, dtype=np.int64) for k, v in jsonio.loads((out / "cells.json").read_text()).items()}
    ref = open_table(reference)
    rows = []
    folders = sorted(p for p in (out / "runs").glob("*") if p.is_dir() and shard_files(p))
    for sample, archs in cells.items():
        targets = {f"{m}@{e}": ref.query_many(archs, m, e) for m, e in TARGETS}
        for folder in folders:
            table = merge_shards([folder])
            row_of = {int(a): i for i, a in enumerate(table.archs)}
            rows_here = np.array([row_of.get(int(a), -1) for a in archs])
            have = rows_here >= 0
            scores = np.full(len(archs), np.nan)
            scores[have] = table.values(metric, table.epochs_of(metric)[-1])[rows_here[have]]
            cost = {}
            for name, parts in (("cpu", ("cpu_seconds",)), ("wall", ("train_seconds", "eval_seconds"))):
                per_cell = sum(np.nanmean(table.metrics[p].values, axis=1).sum(axis=1) for p in parts)
                finished = per_cell[rows_here[have & np.isfinite(scores)]]
                cost[name] = float(np.median(finished)) if len(finished) else math.nan
            rows.append(_row(table.protocol["name"], sample, scores, targets, cost["cpu"], cost["wall"]))
        for proxy in PROXIES:
            rows.append(_row(proxy, sample, ref.column(proxy)[[ref.row(int(a)) for a in archs]], targets,
                             math.nan, math.nan))
    return rows


def write_report(rows: list[dict[str, Any]], prefix: str | Path) -> list[Path]:
    """PREFIX.csv (every row) and PREFIX.png/.svg: tau vs NB201 test_acc@200 against CPU-seconds per cell."""
    prefix = Path(prefix)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: ("" if isinstance(v, float) and not math.isfinite(v) else
                             f"{v:.4g}" if isinstance(v, float) else v) for k, v in row.items()})
    paths = [write_atomic(prefix.with_suffix(".csv"), lambda fh: fh.write(buffer.getvalue().encode()))]
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import NullFormatter, ScalarFormatter

    from nasbench_suite.figures import save_figure

    fig, ax = plt.subplots(figsize=(7, 4.5))
    plotted = False
    for sample, marker in zip(SAMPLES, "os"):
        trained = [r for r in rows if r["sample"] == sample and math.isfinite(r["cpu_seconds_per_cell"])
                   and math.isfinite(r["tau_test_acc@200"])]
        plotted = plotted or bool(trained)
        tau = np.array([r["tau_test_acc@200"] for r in trained])
        spread = np.array([[r["tau_test_acc@200_lo"] for r in trained], [r["tau_test_acc@200_hi"] for r in trained]])
        ax.errorbar([r["cpu_seconds_per_cell"] for r in trained], tau, yerr=np.abs(spread - tau), fmt=marker,
                    capsize=3, label=f"protocols, {sample} cells (90% bootstrap interval)")
        for r in trained:
            ax.annotate(r["protocol"], (r["cpu_seconds_per_cell"], r["tau_test_acc@200"]), fontsize=7,
                        xytext=(3, 3), textcoords="offset points")
        for proxy, style in zip(PROXIES, ("--", ":")):
            tau = [r["tau_test_acc@200"] for r in rows if r["protocol"] == proxy and r["sample"] == sample]
            if tau and math.isfinite(tau[0]):
                ax.axhline(tau[0], linestyle=style, linewidth=1, color="grey" if sample == "stratified" else "k",
                           label=f"{proxy} ({sample})")
    if plotted:  # a log axis needs points: none before 3 cells of a protocol finish
        ax.set_xscale("log")
        ax.xaxis.set_major_formatter(ScalarFormatter())
        ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel("median CPU-seconds per cell (training + evaluation)")
    ax.set_ylabel("Kendall tau vs NB201 test_acc@200")
    ax.legend(fontsize=7)
    fig.tight_layout()
    return paths + save_figure(fig, prefix.parent, prefix.name, dpi=120)
