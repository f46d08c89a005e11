"""Two leaderboards side by side (e.g. the table vs a surrogate, NB201's protocol vs the default): how well they
agree on the order of the strategies (Kendall's tau) and how far each strategy's mean final score moved, with a Welch
confidence interval computed from each leaderboard's mean, standard deviation and run count (the two leaderboards'
runs are independent samples; the runs themselves are not needed, so committed leaderboards compare as they are).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from nasbench_suite import jsonio
from nasbench_suite.errors import UserInputError
from nasbench_suite.strategies.base import split_spec

SCORES = (("final_mean", "final_std"), ("score_mean", "score_std"))  # benchmark's / hw-benchmark's columns
EXPECTED = "expected the leaderboard.json that nasbench-suite benchmark or hw-benchmark writes"


@dataclass
class Comparison:
    """`table`: one row per strategy both have (B's name after '~' when only the base names match): mean_a, mean_b,
    diff (B - A), ci_low, ci_high (Welch), rank_a, rank_b (mean ranks); taus over those strategies."""

    a: str
    b: str
    level: float
    table: pd.DataFrame
    tau_rank: float
    p_rank: float
    tau_score: float
    p_score: float
    only_a: list[str]
    only_b: list[str]


def load_leaderboard(path: str | os.PathLike) -> pd.DataFrame:
    """A leaderboard.json (or a folder holding one) as [strategy x (mean, std, runs, mean_rank)]; a one-line error
    naming the file and what is wrong for anything else (not JSON, another shape, missing keys, wrong types)."""
    path = Path(path)
    file = path / "leaderboard.json" if path.is_dir() else path
    if not file.is_file():
        raise UserInputError(f"{path}: no leaderboard here; expected a leaderboard.json or a folder holding one "
                             "(e.g. results/nb201-paper)")
    try:
        data = jsonio.loads(file.read_bytes())
    except (ValueError, UnicodeDecodeError) as exc:  # json's errors are ValueErrors
        raise UserInputError(f"{file}: not readable JSON ({str(exc).splitlines()[0][:120]}); {EXPECTED}") from None
    rows = data.get("leaderboard") if isinstance(data, dict) else None
    if not isinstance(rows, list) or not rows or not all(isinstance(row, dict) for row in rows):
        raise UserInputError(f"{file}: no \"leaderboard\" list of rows (JSON objects); {EXPECTED}")
    mean, std = next(((m, s) for m, s in SCORES if m in rows[0]), (None, None))
    if mean is None or "mean_rank" not in rows[0]:
        raise UserInputError(f"{file}: not a leaderboard of nasbench-suite benchmark or hw-benchmark (no final_mean "
                             "or score_mean and mean_rank columns)")
    columns = ("strategy", mean, std, "runs", "mean_rank")
    names = set()
    for number, row in enumerate(rows, 1):
        problem = _row_problem(row, columns, names)
        if problem:
            raise UserInputError(f"{file}: leaderboard row {number} {problem}; {EXPECTED}")
        names.add(row["strategy"])
    frame = pd.DataFrame([[row[c] for c in columns[1:]] for row in rows], index=[row["strategy"] for row in rows],
                         columns=["mean", "std", "runs", "mean_rank"])
    return frame.rename_axis("strategy").astype(float)


def _row_problem(row: dict, columns: tuple[str, ...], names: set[str]) -> str | None:
    """What is wrong with one leaderboard row (a missing key, a repeated or non-text strategy, a value that is not a
    number or null, runs not a positive count), or None."""
    missing = [c for c in columns if c not in row]
    if missing:
        return f"lacks {', '.join(missing)}"
    name = row["strategy"]
    if not isinstance(name, str) or not name.strip():
        return f"has strategy {name!r}, not a strategy name"
    if name in names:
        return f"repeats strategy {name!r}"
    for column in columns[1:]:
        value = row[column]
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
            return f"({name}) has {column} {value!r}, not a number"
    if not isinstance(row["runs"], int) or row["runs"] < 1:
        return f"({name}) has runs {row['runs']!r}, not a positive count"
    return None


def pair_strategies(a: list[str], b: list[str]) -> list[tuple[str, str]]:
    """Strategies of A and B that are the same: equal names, then equal base names where each side has exactly one
    left (e.g. bohb and bohb:schedule=hpbandster)."""
    pairs = [(name, name) for name in a if name in b]
    base_a, base_b = _by_base([n for n in a if n not in b]), _by_base([n for n in b if n not in a])
    return pairs + [(base_a[k][0], base_b[k][0]) for k in base_a
                    if k in base_b and len(base_a[k]) == len(base_b[k]) == 1]


def _by_base(names: list[str]) -> dict[str, list[str]]:
    groups: dict[str, list[str]] = {}
    for name in names:
        groups.setdefault(split_spec(name)[0], []).append(name)
    return groups


def welch_interval(a: pd.Series, b: pd.Series, level: float) -> tuple[float, float]:
    """Half-width and degrees of freedom of Welch's interval for mean B - mean A (Series: mean, std, runs)."""
    va, vb = a["std"] ** 2 / a["runs"], b["std"] ** 2 / b["runs"]
    df = (va + vb) ** 2 / (va ** 2 / (a["runs"] - 1) + vb ** 2 / (b["runs"] - 1))
    return float(stats.t.ppf(0.5 + level / 2, df) * np.sqrt(va + vb)), float(df)


def compare(a: str | os.PathLike, b: str | os.PathLike, level: float = 0.95) -> Comparison:
    """Compare leaderboard A with B (files or folders); rows in A's order (best mean rank first)."""
    board_a, board_b = load_leaderboard(a), load_leaderboard(b)
    pairs = pair_strategies(list(board_a.index), list(board_b.index))
    rows = []
    for name_a, name_b in pairs:
        ra, rb = board_a.loc[name_a], board_b.loc[name_b]
        half, _ = welch_interval(ra, rb, level)
        diff = rb["mean"] - ra["mean"]
        rows.append({"strategy": name_a if name_a == name_b else f"{name_a} ~ {name_b}", "mean_a": ra["mean"],
                     "mean_b": rb["mean"], "diff": diff, "ci_low": diff - half, "ci_high": diff + half,
                     "rank_a": ra["mean_rank"], "rank_b": rb["mean_rank"]})
    columns = ["strategy", "mean_a", "mean_b", "diff", "ci_low", "ci_high", "rank_a", "rank_b"]
    table = pd.DataFrame(rows, columns=columns).set_index("strategy").sort_values("rank_a", kind="stable")
    tau_rank, p_rank = stats.kendalltau(table["rank_a"], table["rank_b"]) if len(table) > 1 else (np.nan, np.nan)
    tau_score, p_score = stats.kendalltau(table["mean_a"], table["mean_b"]) if len(table) > 1 else (np.nan, np.nan)
    paired_a, paired_b = {p[0] for p in pairs}, {p[1] for p in pairs}
    return Comparison(str(a), str(b), level, table, float(tau_rank), float(p_rank), float(tau_score), float(p_score),
                      [n for n in board_a.index if n not in paired_a], [n for n in board_b.index if n not in paired_b])


def summary_lines(c: Comparison) -> list[str]:
    """What was compared and the rank agreement, one fact a line."""
    return [f"A: {c.a}", f"B: {c.b}",
            f"Kendall tau over {len(c.table)} shared strategies: {c.tau_rank:.2f} (p = {c.p_rank:.2g}) between mean "
            f"ranks,", f"{c.tau_score:.2f} (p = {c.p_score:.2g}) between mean final scores",
            f"B - A = difference of the mean final score, {c.level:.0%} Welch interval; rows by A's mean rank"]


def format_comparison(c: Comparison) -> str:
    """The comparison for a terminal (under 100 columns)."""
    lines = [*summary_lines(c), f"{'strategy':<28} {'mean A':>7} {'mean B':>7} {'B - A':>7} {'interval':>17} "
                                f"{'rank A':>6} {'rank B':>6}"]
    for name, r in c.table.iterrows():
        interval = f"[{r.ci_low:+.2f}, {r.ci_high:+.2f}]"
        lines.append(f"{name[:28]:<28} {r.mean_a:>7.2f} {r.mean_b:>7.2f} {r['diff']:>+7.2f} {interval:>17} "
                     f"{r.rank_a:>6.2f} {r.rank_b:>6.2f}")
    lines += [f"only in {side}: {', '.join(names)}" for side, names in (("A", c.only_a), ("B", c.only_b)) if names]
    return "\n".join(lines)
