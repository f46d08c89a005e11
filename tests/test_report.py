"""Leaderboard statistics and report files, checked on a small hand-made set of runs."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from conftest import REPO, png_dpi
from nasbench_suite import jsonio
from nasbench_suite.errors import UserInputError
from nasbench_suite.report import (anytime, critical_difference, final_scores, format_leaderboard, leaderboard,
                                   rank_curves, timing, write_report)
from nasbench_suite.report.stats import common_seeds, ranks
from nasbench_suite.runner import Run, Runs

NAN = float("nan")
# (strategy, seed): (costs, reported value of the incumbent after each query); optimum 10, top-1% at 9, worst 0
TRAJECTORIES = {
    ("A", 0): ([10, 10, 10], [5, 9, 10]),
    ("A", 1): ([20, 20], [8, 9.5]),
    ("B", 0): ([5, 5, 5, 5], [7, 7, 8, 8]),
    ("B", 1): ([50], [10]),
    ("C", 0): ([30], [6]),
    ("C", 1): ([10, 10], [NAN, 4]),
}


def make_runs() -> Runs:
    runs = []
    for (name, seed), (cost, reported) in TRAJECTORIES.items():
        n = len(cost)
        reported = np.array(reported, dtype=float)
        runs.append(Run(name, seed, arch=np.arange(n, dtype=np.int32), fidelity=np.full(n, 12, dtype=np.int32),
                        cost=np.array(cost, dtype=float), seen=reported / 2,
                        incumbent=np.where(np.isnan(reported), -1, 0).astype(np.int32), reported=reported,
                        wall_seconds=0.01 * n, cpu_seconds=0.002 * n))
    protocol = {"benchmark": {"dataset": "hand-made", "search_metric": "seen", "report_metric": "score",
                              "seed_mode": "mean", "cost": "given"},
                "budget": {"amount": 100.0, "unit": "seconds"}, "default_fidelity": 12, "fidelities": [12],
                "rules": {"budget": "no overshoot", "incumbent": "best seen"}, "preset": "hand"}
    meta = {"protocol": protocol, "protocol_hash": "0" * 16, "strategies": ["A", "B", "C"], "seeds": [0, 1],
            "reference": {"optimum": 10.0, "top_fraction": 0.01, "top_threshold": 9.0, "worst": 0.0, "cells": 10}}
    return Runs(runs, meta)


def test_final_scores_and_leaderboard_columns():
    runs = make_runs()
    scores = final_scores(runs)
    assert scores.to_dict() == {"A": {0: 10.0, 1: 9.5}, "B": {0: 8.0, 1: 10.0}, "C": {0: 6.0, 1: 4.0}}
    board = leaderboard(runs)
    assert list(board.index) == ["A", "B", "C"]  # A and B tie on mean rank 1.5; A has the higher mean
    a, b, c = (board.loc[s] for s in "ABC")
    assert a.final_mean == 9.75 and a.final_median == 9.75 and a.regret_mean == pytest.approx(0.25)
    assert a.final_std == pytest.approx(np.sqrt(0.125))
    assert a.final_ci95 == pytest.approx(12.7062047 * np.sqrt(0.125) / np.sqrt(2))
    assert (a.mean_rank, b.mean_rank, c.mean_rank) == (1.5, 1.5, 3.0)
    assert (a.top1_hit, a.top1_queries, a.top1_seconds) == (1.0, 2.0, 30.0)
    assert a.opt_hit == 0.5 and np.isinf(a.opt_queries)  # one run of two never found the optimum
    assert b.top1_hit == 0.5 and np.isinf(b.top1_seconds)
    assert c.regret_median == 5.0 and c.top1_hit == 0.0
    assert a.queries_mean == 2.5 and b.queries_mean == 2.5
    runs.meta["reference"] = runs.meta["reference"] | {"optimum": 9.5}  # both of A's runs reach it
    assert leaderboard(runs).loc["A", ["opt_hit", "opt_queries", "opt_seconds"]].tolist() == [1.0, 2.5, 35.0]
    # log-time grid from 50 s (when every run has a result) to the 100 s budget
    assert (a.regret_auc, b.regret_auc, c.regret_auc) == pytest.approx((0.25, 1.0, 5.0))


def test_anytime_curves_and_ranks_over_queries():
    runs = make_runs()
    curves = anytime(runs, "queries")
    np.testing.assert_array_equal(curves.grid, [1, 2, 3, 4])
    np.testing.assert_array_equal(curves.regret["A"], [[5, 1, 0, 0], [2, 0.5, 0.5, 0.5]])
    np.testing.assert_array_equal(curves.regret["C"], [[4, 4, 4, 4], [10, 6, 6, 6]])  # no incumbent: worst
    ranks = rank_curves(curves, [0, 1])
    assert (ranks["A"][0], ranks["B"][0], ranks["C"][0]) == (2.5, 1.0, 2.5)
    timed = anytime(runs, "time", points=5)
    assert timed.grid[0] == 5 and timed.grid[-1] == 100
    assert timed.regret["B"][1][0] == 10  # B seed 1 has no result before its first query ends at 50 s


def test_friedman_and_nemenyi_by_hand():
    scores = pd.DataFrame({"x": [3, 3, 2, 3], "y": [2, 1, 3, 2], "z": [1, 2, 1, 1]}, dtype=float)
    cd = critical_difference(scores)
    k, n = 3, 4
    mean_ranks = np.array([1.25, 2.0, 2.75])  # x: ranks 1,1,2,1; y: 2,3,1,2; z: 3,2,3,3
    chi2 = 12 * n / (k * (k + 1)) * (np.sum(mean_ranks**2) - k * (k + 1) ** 2 / 4)
    assert cd.statistic == pytest.approx(chi2)
    assert cd.cd == pytest.approx(2.343 * np.sqrt(k * (k + 1) / (6 * n)), abs=1e-3)  # Demsar 2006, table 5
    assert list(cd.mean_ranks.index) == ["x", "y", "z"] and list(cd.mean_ranks) == list(mean_ranks)
    assert critical_difference(scores[["x", "y"]]) is None


def test_timing_is_apart_from_the_leaderboard():
    runs = make_runs()
    assert not {"wall_ms", "cpu_ms"} & set(leaderboard(runs).columns)  # a rerun must give the same leaderboard
    a = timing(runs).loc["A"]
    assert a.runs_timed == 2 and a.wall_ms == pytest.approx(25.0) and a.cpu_ms == pytest.approx(5.0)
    runs.get("A", 0).wall_seconds = float("nan")  # reused from disk: not timed here
    assert timing(runs).loc["A"].runs_timed == 1 and timing(runs).loc["A"].wall_ms == pytest.approx(20.0)


@pytest.mark.slow
def test_report_header_shows_excluded_cells_when_the_benchmark_has_them(tmp_path):
    runs = make_runs()
    write_report(runs, tmp_path / "plain")
    assert "excluded" not in (tmp_path / "plain" / "leaderboard.md").read_text()
    runs.meta["protocol"]["benchmark"] |= {"excluded_cells": 1234, "excluded_reason": "no valid_acc"}
    write_report(runs, tmp_path / "excluded")
    text = (tmp_path / "excluded" / "leaderboard.md").read_text()
    assert "- excluded cells: 1,234 cells of the space are not searchable (no valid_acc)" in text


def test_write_report_files(tmp_path):
    runs = make_runs()
    del runs.meta["protocol"]["preset"]
    runs.meta["degenerate"] = {"C": "random search here"}
    out = write_report(runs, tmp_path, extra={"command": "hand-made"}, timing_extra={"jobs": 3})
    csv = pd.read_csv(tmp_path / "leaderboard.csv", index_col=0)
    assert list(csv.index) == ["A", "B", "C"] and csv.loc["A", "final_mean"] == 9.75
    header = jsonio.loads((tmp_path / "leaderboard.json").read_text())["header"]
    assert not {"software", "hardware", "created"} & set(header)  # they go to environment.json and timing.json
    machine = jsonio.loads((tmp_path / "environment.json").read_text())
    assert machine["software"]["numpy"] == np.__version__ and machine["hardware"]["cores"] >= 1
    measured = jsonio.loads((tmp_path / "timing.json").read_text())
    assert measured["jobs"] == 3 and measured["runs"]["C/1"] == {"wall_seconds": 0.02, "cpu_seconds": 0.004}
    assert measured["strategies"]["A"]["cpu_ms"] == pytest.approx(5.0) and len(measured["load_average_1_5_15min"]) == 3
    assert all(isinstance(x, float) for x in measured["load_average_1_5_15min"])
    assert "preset" not in header["protocol"] and header["friedman"]["seeds"] == 2
    text = (tmp_path / "leaderboard.md").read_text()
    assert format_leaderboard(out["leaderboard"]) in text and "- command: hand-made" in text
    assert csv.loc["C", "degenerate"] == "random search here" and "- † C is degenerate under this protocol" in text
    for name in ("regret_time", "critical_difference"):  # the title, and the dagger in the legend or the labels
        svg = (tmp_path / "plots" / f"{name}.svg").read_text()
        assert "<!-- hand-made, custom protocol -->" in svg and "<!-- 100 simulated s per run, 2 runs each -->" in svg
        assert re.search(r"<!-- C † ", svg), name
    for name in ("regret_time", "regret_queries", "final_scores", "rank_time", "critical_difference"):
        for ext in ("png", "svg", "pdf"):
            assert (tmp_path / "plots" / f"{name}.{ext}").stat().st_size > 1000
    assert png_dpi(tmp_path / "plots" / "regret_time.png") == 300  # print resolution


def test_looks_give_one_hue_per_family_and_a_distinct_style_per_strategy():
    from nasbench_suite.report import plots
    from nasbench_suite.strategies import STRATEGIES

    names = list(STRATEGIES)
    looks = plots.looks(names, plots.families(names, STRATEGIES), degenerate={"sh": "random search here"})
    by_family: dict[str, set] = {}
    for name, look in looks.items():
        by_family.setdefault(STRATEGIES[name].family, set()).add(look.color)
    assert all(len(hues) == 1 for hues in by_family.values())  # tab20's light/dark pairs mixed families
    assert len({hue for hues in by_family.values() for hue in hues}) == len(by_family)
    assert len({(look.color, look.linestyle, look.marker) for look in looks.values()}) == len(names)
    evolution = [look.linestyle for name, look in looks.items() if STRATEGIES[name].family == "evolution/local"]
    assert evolution == [plots.LINESTYLES[k % len(plots.LINESTYLES)] for k in range(len(evolution))]  # per family
    assert looks["sh"].label == "sh †" and looks["bohb"].label == "bohb"
    assert plots.families(["bohb:schedule=hpbandster", "mystery"], STRATEGIES) == {
        "bohb:schedule=hpbandster": "multi-fidelity", "mystery": ""}
    grey = plots.looks(names, plots.families(names, STRATEGIES), highlight=["rea"])
    assert [n for n, look in grey.items() if not look.muted] == ["rea"] and grey["bo"].line["color"] == plots.MUTED
    with pytest.raises(UserInputError, match="--highlight nope: no such strategy"):
        plots.looks(names, {}, highlight=["nope"])


def test_anytime_curves_start_at_the_first_results_not_on_the_clipped_top_edge():
    from nasbench_suite.report import plots

    runs = make_runs()
    curves = anytime(runs, "time")
    assert curves.started["C"][1][curves.grid < 20].sum() == 0  # C seed 1's first result is NaN, its second at 20 s
    palette = plots.looks(runs.strategies, {})
    fig = plots.plot_anytime(curves, palette, "regret", "hand-made")
    lines = {line.get_gid(): line for line in fig.axes[0].lines}
    median = lines["strategy=C/median"].get_ydata()
    half = curves.started["C"].mean(axis=0) >= 0.5
    assert np.isnan(median[~half]).all() and np.isfinite(median[half]).all()
    assert np.nanmax(median) < 10  # never the "no result yet" regret (optimum - worst = 10)
    assert fig.axes[0].get_ylim()[1] > np.nanmax(median)  # headroom: nothing flush on the top edge
    assert np.array_equal(lines["strategy=C/median"].get_xdata(), curves.grid)
    # markers staggered along each curve from its start (a start past 1 would draw none)
    assert [lines[f"strategy={s}/median"].get_markevery() for s in "AC"] == [(0.02, 0.18), (0.02 + 0.026, 0.18)]
    assert tuple(fig.get_size_inches()) == pytest.approx((plots.WIDTH, 2.6 + 0.1 * 3 / 3))  # taller per 3 entries
    legend = fig.legends[0]
    assert [h.get_gid() for h in legend.legend_handles[:3]] == [f"strategy={s}/legend-line" for s in "ABC"]
    assert [t.get_gid() for t in legend.get_texts()[:3]] == [f"strategy={s}/legend-text" for s in "ABC"]
    fig.canvas.draw()
    assert legend.get_window_extent().y1 < fig.axes[0].get_window_extent().y0  # below the axes, not over curves
    plt.close(fig)


def test_colors_of_unregistered_names_are_stable_and_distinct_beyond_ten():
    from nasbench_suite.report import plots

    few, many = plots.colors(list("abc")), plots.colors([f"s{i}" for i in range(11)])
    assert few == {s: plt.get_cmap("tab10")(i) for i, s in enumerate("abc")}
    assert len(set(many.values())) == 11 and many["s10"] == plt.get_cmap("tab20")(10)


@pytest.mark.slow
def test_figures_are_byte_identical_across_processes_in_every_format(tmp_path):
    script = ("import sys; from test_report import make_runs; from nasbench_suite.report import write_report; "
              "write_report(make_runs(), sys.argv[1], highlight=['A'])")
    for out in ("a", "b"):
        done = subprocess.run([sys.executable, "-c", script, str(tmp_path / out)], cwd=REPO, capture_output=True,
                              check=False, text=True, env={**os.environ, "PYTHONPATH": f"{REPO}{os.pathsep}{REPO / 'tests'}"})
        assert done.returncode == 0, done.stderr
    for name in ("regret_time", "final_scores", "critical_difference"):
        for ext in ("png", "svg", "pdf"):
            a, b = ((tmp_path / out / "plots" / f"{name}.{ext}").read_bytes() for out in ("a", "b"))
            assert a == b, f"{name}.{ext}"  # e.g. a PDF CreationDate or random SVG ids
    pdf = (tmp_path / "a" / "plots" / "regret_time.pdf").read_bytes()
    assert b"CreationDate" not in pdf and b"/FontFile2" in pdf  # no date; TrueType fonts embedded
    svg = (tmp_path / "a" / "plots" / "regret_time.svg").read_text()
    assert 'id="strategy=A/median"' in svg and 'id="strategy=B/band"' not in svg  # B greyed: no band

# ---- rules of report/stats.py on hand-made runs, written for its mutation survivors (results/mutation/README.md):
# the time grid's edges, query budgets, missing runs, ranks with ties and failures, Friedman/Nemenyi edge cases


def hand_runs(trajectories: dict, budget: dict) -> Runs:
    """Runs from {(strategy, seed): (costs, reported)}; optimum 10, top-1% threshold 9, worst 0."""
    runs = [Run.from_rows(name, seed, [(i, 12, c, r, i, r) for i, (c, r) in enumerate(zip(cost, reported))],
                          float("nan"), float("nan"))
            for (name, seed), (cost, reported) in trajectories.items()]
    meta = {"protocol": {"budget": budget}, "strategies": sorted({name for name, _ in trajectories}),
            "reference": {"optimum": 10.0, "top_fraction": 0.01, "top_threshold": 9.0, "worst": 0.0, "cells": 10}}
    return Runs(runs, meta)


def test_the_time_grid_counts_a_query_from_the_moment_it_finishes():
    runs = hand_runs({("A", 0): ([10, 90], [4, 8]), ("B", 0): ([40], [6])}, {"amount": 100.0, "unit": "seconds"})
    curves = anytime(runs, "time", points=3)
    np.testing.assert_allclose(curves.grid, [10, np.sqrt(1000), 100])
    np.testing.assert_array_equal(curves.regret["A"], [[6, 6, 2]])  # at 10 s the first query has finished
    np.testing.assert_array_equal(curves.regret["B"], [[10, 10, 4]])  # before its first result: the worst
    assert curves.seeds == {"A": [0], "B": [0]} and curves.axis == "time"
    with pytest.raises(ValueError, match=r"^axis must be 'time' or 'queries', got 'epochs'$"):
        anytime(runs, "epochs")


def test_the_time_grid_reaches_the_last_query_when_it_ends_past_the_budget():
    runs = hand_runs({("A", 0): ([50, 150], [4, 8])}, {"amount": 100.0, "unit": "seconds"})
    assert anytime(runs, "time", points=2).grid.tolist() == [50.0, 200.0]
    queries = hand_runs({("A", 0): ([50, 150], [4, 8])}, {"amount": 2, "unit": "queries"})
    assert anytime(queries, "time", points=2).grid.tolist() == [50.0, 200.0]


def test_a_query_budget_averages_regret_over_queries():
    runs = hand_runs({("A", 0): ([10, 10, 10], [4, 8, 9]), ("B", 0): ([10], [5])}, {"amount": 3, "unit": "queries"})
    board = leaderboard(runs)
    assert board.loc["A", "regret_auc"] == pytest.approx((6 + 2 + 1) / 3)
    assert board.loc["B", "regret_auc"] == 5.0  # its last incumbent holds after it stopped
    assert (board.loc["A", "top1_queries"], board.loc["A", "top1_seconds"]) == (3.0, 30.0)
    assert np.isnan(board.loc["A", "final_std"]) and np.isnan(board.loc["A", "final_ci95"])  # one run


def test_the_log_time_average_starts_once_every_run_has_a_result():
    runs = hand_runs({("A", 0): ([10, 10], [4, 8]), ("B", 0): ([40], [6])}, {"amount": 40.0, "unit": "seconds"})
    board = leaderboard(runs)  # grid from 40 s (B's first result) to the 40 s budget: one point
    assert board.loc["A", "regret_auc"] == 2.0 and board.loc["B", "regret_auc"] == 4.0
    curves = anytime(hand_runs({("B", 0): ([40], [6])}, {"amount": 40.0, "unit": "seconds"}), "time", points=3)
    assert curves.grid.tolist() == [40.0] * 3 and curves.regret["B"].tolist() == [[4.0] * 3]


def test_ranks_compare_strategies_on_common_seeds_only():
    runs = hand_runs({("A", 0): ([10], [9]), ("A", 1): ([10], [2]), ("B", 0): ([10], [7]), ("B", 2): ([10], [3])},
                     {"amount": 100.0, "unit": "seconds"})
    assert common_seeds(runs) == [0]
    scores = final_scores(runs)
    assert list(scores.index) == [0, 1, 2] and np.isnan(scores.loc[1, "B"]) and np.isnan(scores.loc[2, "A"])
    board = leaderboard(runs)
    assert (board.loc["A", "mean_rank"], board.loc["B", "mean_rank"]) == (1.0, 2.0)  # seed 0 only
    assert board.loc["A", "final_mean"] == 5.5 and board.loc["A", "runs"] == 2
    assert common_seeds(Runs([], {})) == []


def test_a_missing_result_ranks_last_and_ties_share_their_ranks():
    scores = pd.DataFrame({"x": [np.nan, 1.0], "y": [5.0, 2.0], "z": [5.0, 3.0]}, index=[4, 7])
    assert ranks(scores).to_dict() == {"x": {4: 3.0, 7: 3.0}, "y": {4: 1.5, 7: 2.0}, "z": {4: 1.5, 7: 1.0}}


def test_friedman_needs_two_seeds_and_alpha_sets_the_critical_difference():
    scores = pd.DataFrame({"x": [3, 3, 2, 3], "y": [2, 1, 3, 2], "z": [1, 2, 1, 1]}, dtype=float)
    assert critical_difference(scores.iloc[:1]) is None
    assert critical_difference(scores.iloc[:2]).blocks == 2
    loose, strict = critical_difference(scores, alpha=0.1), critical_difference(scores)
    assert loose.alpha == 0.1 and loose.cd == pytest.approx(2.052 * np.sqrt(3 * 4 / 24), abs=1e-3)  # Demsar table 5
    assert strict.pvalue == pytest.approx(np.exp(-4.5 / 2))  # chi-square with 2 degrees of freedom: exp(-x/2)


def test_timing_without_measured_runs_is_nan():
    runs = make_runs()
    for run in runs:
        run.wall_seconds = float("nan")
    a = timing(runs).loc["A"]
    assert a.runs_timed == 0 and np.isnan(a.wall_ms) and np.isnan(a.cpu_ms)


def test_leaderboard_tables_print_every_column_as_documented():
    """The hand-made runs' figures (checked by hand in test_final_scores_and_leaderboard_columns) as printed: the
    CI as an interval, hit rates in percent, a median over runs that never got there as "never", a strategy that
    is a simpler one marked †, and a missing figure as "-"."""
    from nasbench_suite.report.write import format_compact
    from nasbench_suite.report.write import format_leaderboard as markdown

    board = leaderboard(make_runs())
    lines = markdown(board).splitlines()
    assert lines[0] == ("| # | strategy | final mean ± std | 95% CI | median | regret | mean rank | regret AUC | "
                        "top-1% hit | queries to top-1% | sim. s to top-1% | optimum hit | queries to opt. | "
                        "sim. s to opt. | queries/run |")
    assert lines[1] == "|" + "---|" * 15
    assert lines[2:] == [
        "| 1 | A | 9.75 ± 0.35 | [6.57, 12.93] | 9.75 | 0.250 | 1.50 | 0.250 | 100% | 2 | 30 | 50% | never | never "
        "| 2.5 |",
        "| 2 | B | 9.00 ± 1.41 | [-3.71, 21.71] | 9.00 | 1.000 | 1.50 | 1.000 | 50% | never | never | 50% | never "
        "| never | 2.5 |",
        "| 3 | C | 5.00 ± 1.41 | [-7.71, 17.71] | 5.00 | 5.000 | 3.00 | 5.000 | 0% | never | never | 0% | never "
        "| never | 1.5 |"]
    assert format_compact(board).splitlines() == [
        "rows by mean rank over seeds (1 = best); final = report metric of the incumbent, mean +- 95% CI",
        " #  strategy                              final  median mean rank queries/run",
        " 1  A                              9.75 +- 3.18    9.75      1.50         2.5",
        " 2  B                             9.00 +- 12.71    9.00      1.50         2.5",
        " 3  C                             5.00 +- 12.71    5.00      3.00         1.5"]
    board["degenerate"] = ["", "is random search here", ""]
    board.loc["C", ["final_std", "final_ci95", "top1_queries"]] = [NAN, NAN, 1234.0]
    assert "| 2 | B † | 9.00 ± 1.41 |" in markdown(board)
    assert "| 3 | C | 5.00 ± - | - | 5.00 | 5.000 | 3.00 | 5.000 | 0% | 1,234 | never |" in markdown(board)
    compact = format_compact(board).splitlines()
    assert compact[3].startswith(" 2  B †  ") and compact[4] == (
        " 3  C                                      5.00    5.00      3.00         1.5")


def test_report_header_lines_name_protocol_table_provenance_and_tests():
    from nasbench_suite.report.write import _markdown, _seed_summary, figure_lines, human_title, in_percent

    runs = make_runs()
    board = leaderboard(runs)
    board["degenerate"] = ["", "", "no proxy here"]
    protocol = runs.meta["protocol"] | {"preset_description": "a hand-made protocol"}
    protocol["benchmark"] = protocol["benchmark"] | {
        "cost_columns": {"train": "seconds per epoch"}, "table_file": "t.h5", "table_content_sha256": "ab12",
        "dataset_sha256": None, "excluded_cells": 1234, "excluded_reason": "no valid_acc",
        "table_provenance": {"kind": "imported", "sources": {
            "a": {"repo": "D-X-Y/NATS-Bench", "commit": "0123456789abcdef"},
            "b": {"repo": "D-X-Y/NATS-Bench", "commit": "0123456789abcdef"},
            "c": {"repo": "other/repo", "commit": "fedcba9876543210"}}}}
    header = {"protocol": protocol, "strategies": ["A", "B", "C"], "seeds": [0, 1, 2, 5], "runs": 12,
              "reference": runs.meta["reference"],
              "friedman": {"seeds": 4, "statistic": 5.25, "pvalue": 0.0724, "alpha": 0.05, "nemenyi_cd": 1.6571},
              "command": "nasbench-suite benchmark"}
    lines = _markdown(header, board, [("final_scores", "Final values.")]).splitlines()
    assert lines[:13] == [
        "# Leaderboard: hand-made, preset `hand`", "",
        "- protocol: a hand-made protocol",
        "- search metric (seen): seen at 12 epochs (multi-fidelity strategies: 12); seed mode mean; report metric "
        "(scored, never seen): score",
        "- budget: 100 seconds; cost: given (train: seconds per epoch); no overshoot; incumbent = best seen",
        "- runs: 12 = 3 strategies x 4 seeds (0, 1, 2, 5)",
        "- reference: optimum 10.0000, top-1% threshold 9.0000, worst 0.0000 over 10 cells",
        "- table: t.h5 content sha256 ab12; dataset hand-made (sha256 none published); provenance: imported: "
        "D-X-Y/NATS-Bench@0123456789 (2 files), other/repo@fedcba9876 (1 file)",
        "- environment: software versions and hardware in environment.json, measured wall and CPU times in "
        "timing.json (kept apart: they differ from machine to machine)",
        "- excluded cells: 1,234 cells of the space are not searchable (no valid_acc)",
        "- command: nasbench-suite benchmark",
        "- † C is degenerate under this protocol: no proxy here",
        "- Friedman test over 4 seeds: chi2 = 5.25, p = 0.0724; Nemenyi critical difference of mean ranks "
        "(alpha 0.05): 1.657"]
    assert lines[-4:] == figure_lines([("final_scores", "Final values.")])
    assert lines[-6:-4] == [
        "Columns: regret = optimum - final (report-metric points); mean rank over seeds of the final value (1 = best); "
        "regret AUC = mean regret over a log-spaced simulated-time grid from when every run has a result to the "
        "budget; queries / simulated seconds to the top 1% or the optimum are medians over runs ('never' when most "
        "runs did not get there).", ""]
    del protocol["preset_description"], protocol["benchmark"]["excluded_reason"]
    bare = _markdown(header, board, []).splitlines()
    assert bare[2] == "- protocol" and "- excluded cells: 1,234 cells of the space are not searchable" in bare
    assert figure_lines([("x", "Cap.")]) == ["![x](plots/x.png)", "", "*Cap.* ([SVG](plots/x.svg), [PDF](plots/x.pdf))",
                                             ""]
    assert _seed_summary([3, 4, 5]) == "3 seeds (3..5)" and _seed_summary([0, 2]) == "2 seeds (0, 2)"
    assert human_title("CIFAR-10", {"amount": 200000, "unit": "seconds"}, 25) == (
        "CIFAR-10\n200,000 simulated s per run, 25 runs each")
    assert human_title("x", {"amount": 100, "unit": "queries"}, 1) == "x\n100 queries per run, 1 runs each"
    assert in_percent("valid_acc@200") and not in_percent("valid_loss") and not in_percent("latency@acc")


def test_critical_difference_diagram_places_labels_bars_and_greys():
    import matplotlib.colors as mcolors

    from nasbench_suite.report import plots
    from nasbench_suite.report.stats import CriticalDifference

    ranks = pd.Series([1.2, 1.9, 3.0, 3.9], index=["a", "b", "c", "d"])
    cd = CriticalDifference(ranks, statistic=7.5, pvalue=0.05, cd=1.0, alpha=0.05, blocks=6)
    palette = plots.looks(list(ranks.index), {}, highlight=["a", "b", "d"])  # c greyed
    fig = plots.plot_cd(cd, "T", palette)
    ax = fig.axes[0]
    labels = {t.get_gid(): t for t in ax.texts if t.get_gid()}
    assert sorted(labels) == [f"strategy={s}/label" for s in "abcd"]
    a, c = labels["strategy=a/label"], labels["strategy=c/label"]
    assert a.get_text() == "a (1.20)" and a.get_position() == pytest.approx((0.45, -0.65)) and a.get_ha() == "right"
    assert c.get_text() == "c (3.00)" and c.get_ha() == "left"
    assert c.get_position() == pytest.approx((4.55, -1.0))  # second from the right end
    assert mcolors.same_color(c.get_color(), plots.MUTED) and mcolors.same_color(a.get_color(), "black")
    leaders = {round(line.get_xdata()[0], 6): line.get_color() for line in ax.lines if len(line.get_xdata()) == 3}
    assert mcolors.same_color(leaders[3.0], plots.MUTED) and mcolors.same_color(leaders[1.2], "black")
    segments = [(np.round(line.get_xdata(), 6).tolist(), np.round(line.get_ydata(), 6).tolist()) for line in ax.lines]
    assert ([1.2, 1.2, 0.5], [0, -0.65, -0.65]) in segments and ([3.0, 3.0, 4.5], [0, -1.0, -1.0]) in segments
    assert ([1, 2.0], [0.55, 0.55]) in segments  # the CD bar, 1.0 long
    assert ([1.0, 4.0], [0.0, 0.0]) in segments  # the rank axis
    assert [t.get_text() for t in ax.texts[:4]] == ["1", "2", "3", "4"] and ax.texts[0].get_fontsize() == 7  # STYLE
    assert [line.get_linewidth() for line in ax.lines if list(line.get_ydata()) == [0.55, 0.55]] == [1.6]
    bars = [s for s in segments if s[1][0] == s[1][1] and s[1][0] < 0 and len(s[0]) == 2]
    assert bars == [([1.17, 1.93], [-0.12, -0.12]), ([2.97, 3.93], [-0.22, -0.22])]  # a~b and c~d only
    plt.close(fig)


def test_final_scores_plot_draws_one_box_per_strategy_best_on_top_with_the_optimum():
    import matplotlib.colors as mcolors

    from nasbench_suite.report import plots

    scores = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [4.0, 5.0, np.nan], "c": [0.0, 0.5, 1.0]})
    palette = plots.looks(["a", "b", "c"], {}, highlight=["a", "b"])
    fig = plots.plot_final(scores, ["b", "a", "c"], palette, "test accuracy", 6.0, "T")
    ax = fig.axes[0]
    assert tuple(fig.get_size_inches()) == pytest.approx((plots.WIDTH, 1.5 + 0.17 * 3))
    assert [t.get_text() for t in ax.get_yticklabels()] == ["c", "a", "b"]  # the first in `order` on top
    medians = {line.get_gid(): line.get_xdata()[0] for line in ax.lines if str(line.get_gid()).endswith("/medians")}
    assert medians == {"strategy=a/medians": 2.0, "strategy=b/medians": 4.5, "strategy=c/medians": 0.5}  # NaN dropped
    boxes = {p.get_gid(): p.get_facecolor()[:3] for p in ax.patches if p.get_gid()}
    assert mcolors.same_color(boxes["strategy=c/boxes"], plots.MUTED)
    assert mcolors.same_color(boxes["strategy=a/boxes"], palette["a"].color)
    optimum = [line for line in ax.lines if line.get_linestyle() == "--"]
    assert len(optimum) == 1 and list(optimum[0].get_xdata()) == [6.0, 6.0]
    legend = fig.legends[0]
    assert [t.get_text() for t in legend.get_texts()] == [
        "median", "mean", "box: quartiles; whiskers: 1.5 x IQR", "optimum (6.00)"]
    fig.canvas.draw()
    left = [round(t.get_window_extent().x0) for t in legend.get_texts()]
    assert left[0] == left[1] != left[2] == left[3]  # two columns of two
    plt.close(fig)


def test_rank_plot_puts_rank_one_on_top_and_staggers_the_markers():
    from nasbench_suite.report import plots

    runs = make_runs()
    curves = anytime(runs, "time")
    mean_ranks = rank_curves(curves, [0, 1])
    fig = plots.plot_ranks(curves, mean_ranks, plots.looks(runs.strategies, {}), "T")
    ax = fig.axes[0]
    assert ax.get_ylim() == (3.5, 0.5)
    lines = {line.get_gid(): line for line in ax.lines}
    marks = [x for s in "ABC" for x in lines[f"strategy={s}/rank"].get_markevery()]
    assert marks == pytest.approx([0.02, 0.18, 0.033, 0.18, 0.046, 0.18])
    started = curves.started["A"].mean(axis=0) >= 0.5
    np.testing.assert_array_equal(lines["strategy=A/rank"].get_ydata(), np.where(started, mean_ranks["A"], np.nan))
    plt.close(fig)


# ---- written for the survivors of the report/stats.py mutation run (eighth session) ------------------------------

def test_runs_without_a_query_have_the_worst_regret_from_the_start():
    runs = hand_runs({("A", 0): ([], []), ("B", 0): ([], [])}, {"amount": 1.0, "unit": "seconds"})
    runs.meta["reference"]["worst"] = 2.0  # regret before any result: optimum - worst = 8
    curves = anytime(runs)  # the time axis by default
    assert curves.axis == "time" and curves.grid.tolist() == [1.0] * 200  # nothing finished: all at the budget
    assert curves.regret["A"].tolist() == [[8.0] * 200] and not curves.started["A"].any()
    assert anytime(runs, "queries").grid.tolist() == []
    nothing = anytime(Runs([], runs.meta), "queries")
    assert (nothing.grid.tolist(), nothing.regret) == ([1], {})


def test_a_budget_of_one_second_averages_regret_over_log_time():
    runs = hand_runs({("A", 0): ([0.1, 0.1], [4, 8])}, {"amount": 1.0, "unit": "seconds"})
    grid = np.geomspace(0.1, 1.0, 200)  # from the first result to the budget
    expected = np.where(grid >= 0.2, 10 - 8, 10 - 4).mean()
    assert leaderboard(runs).loc["A", "regret_auc"] == pytest.approx(expected)  # not (6 + 2) / 2 over queries


def test_friedman_ranks_a_missing_result_last():
    from scipy import stats

    scores = pd.DataFrame({"x": [3, np.nan, 2, 3], "y": [2, 1, 3, 2], "z": [1, 2, 1, 1]}, dtype=float)
    expected = stats.friedmanchisquare([3, 0, 2, 3], [2, 1, 3, 2], [1, 2, 1, 1])  # NaN below every score
    assert critical_difference(scores).statistic == pytest.approx(expected.statistic)


def test_single_runs_and_untimed_runs_give_nan_without_warnings():
    import warnings

    runs = hand_runs({("A", 0): ([10], [4]), ("B", 0): ([10, 10], [6, 9])}, {"amount": 100.0, "unit": "seconds"})
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # numpy warns of a spread of one value or a mean of nothing
        board, times = leaderboard(runs), timing(runs)
    assert board[["final_std", "final_ci95"]].isna().all().all()
    assert times[["wall_ms", "cpu_ms"]].isna().all().all() and times["runs_timed"].tolist() == [0, 0]


# ---- written for the survivors of the report/plots.py mutation run (eighth session) ------------------------------

def test_anytime_plot_draws_median_steps_quartile_bands_and_headroom():
    import matplotlib.colors as mcolors

    from nasbench_suite.report import plots

    runs = make_runs()
    curves = anytime(runs, "time")
    palette = plots.looks(runs.strategies, {}, highlight=["A", "B"])  # C greyed: no band
    fig = plots.plot_anytime(curves, palette, "regret (points)", "T")
    ax = fig.axes[0]
    assert (ax.get_title(), ax.title.get_fontsize()) == ("T", 7)  # STYLE: sized for one paper column
    assert (ax.get_xlabel(), ax.get_ylabel(), ax.get_xscale()) == (plots.TIME_LABEL, "regret (points)", "log")
    assert ax.get_yscale() == "symlog" and ax.yaxis.get_transform().linthresh == plots.LINTHRESH
    lines = {line.get_gid(): line for line in ax.lines}
    bands = {band.get_gid(): band for band in ax.collections}
    assert sorted(bands) == ["strategy=A/band", "strategy=B/band"]
    top = 0.0
    for name in "ABC":
        regret, started = curves.regret[name], curves.started[name].mean(axis=0)
        q25, median, q75 = np.percentile(regret, [25, 50, 75], axis=0)
        line = lines[f"strategy={name}/median"]
        np.testing.assert_array_equal(line.get_ydata(), np.where(started >= 0.5, median, np.nan))
        assert line.get_drawstyle() == "steps-post"
        assert mcolors.same_color(line.get_color(), plots.MUTED if name == "C" else palette[name].color)
        top = max(top, np.nanmax(line.get_ydata(), initial=0))
        if name != "C":
            vertices = bands[f"strategy={name}/band"].get_paths()[0].vertices
            shown = started >= 0.75
            assert vertices[:, 0].min() == curves.grid[shown].min()  # from where three quarters have a result
            assert (vertices[:, 1].min(), vertices[:, 1].max()) == (q25[shown].min(), q75[shown].max())
            assert mcolors.same_color(bands[f"strategy={name}/band"].get_facecolor()[0][:3], palette[name].color)
            top = max(top, q75[shown].max())
    assert ax.get_ylim() == (0, 2 * top)
    assert fig.legends[0].get_texts()[-1].get_text() == plots.BAND
    plt.close(fig)
    queries = plots.plot_anytime(anytime(runs, "queries"), palette, "regret", "T")
    assert queries.axes[0].get_xlabel() == "queries (cells evaluated)"
    plt.close(queries)
    four = hand_runs({("A", seed): ([10.0 * (seed + 1)], [5]) for seed in range(4)}, {"amount": 100.0, "unit": "seconds"})
    staggered = anytime(four, "time")
    fig = plots.plot_anytime(staggered, plots.looks(["A"], {}), "regret", "T")
    band = fig.axes[0].collections[0].get_paths()[0].vertices
    assert band[:, 0].min() == staggered.grid[staggered.grid >= 30].min()  # three of four runs have a result at 30 s
    plt.close(fig)
    for reported, ylim in (([9.9, 9.95], (0, 0.2)), ([10.0], (0, 1))):  # small regrets scale; none at all: 0..1
        small = hand_runs({("A", 0): ([10] * len(reported), reported)}, {"amount": 100.0, "unit": "seconds"})
        fig = plots.plot_anytime(anytime(small, "time"), plots.looks(["A"], {}), "regret", "T")
        assert fig.axes[0].get_ylim() == pytest.approx(ylim)
        plt.close(fig)


@pytest.mark.parametrize("length, columns", [(1, 3), (24, 2), (26, 1)])
def test_legend_columns_fit_the_longest_label(length, columns):
    from nasbench_suite.report import plots

    names = ["a" * length, "b"]
    palette = plots.looks(names, {})
    curves = anytime(hand_runs({(n, 0): ([10], [5]) for n in names}, {"amount": 100.0, "unit": "seconds"}), "time")
    fig = plots.plot_ranks(curves, {n: np.ones(len(curves.grid)) for n in names}, palette, "T")
    assert fig.legends[0]._ncols == columns  # as many as one column's width holds, at most 3
    plt.close(fig)


def test_greyed_strategies_share_one_legend_entry_and_shown_ones_keep_their_style():
    import matplotlib.colors as mcolors

    from nasbench_suite.report import plots

    runs = make_runs()
    curves = anytime(runs, "time")
    palette = plots.looks(runs.strategies, {"A": "model-based"}, highlight=["A"])
    fig = plots.plot_ranks(curves, rank_curves(curves, [0, 1]), palette, "Ranks")
    ax, legend = fig.axes[0], fig.legends[0]
    assert [t.get_text() for t in legend.get_texts()] == ["A", "other strategies"]
    a, other = legend.legend_handles
    assert mcolors.same_color(a.get_color(), plots.FAMILY_COLORS["model-based"]) and a.get_marker() == "o"
    assert mcolors.same_color(other.get_color(), plots.MUTED)
    assert (ax.get_title(), ax.get_ylabel()) == ("Ranks", "mean rank over runs (1 = best)")
    assert tuple(fig.get_size_inches()) == pytest.approx((plots.WIDTH, 2.6 + 0.1 * 3 / 3))
    line = next(line for line in ax.lines if line.get_gid() == "strategy=A/rank")
    assert np.array_equal(line.get_xdata(), curves.grid) and line.get_linestyle() == "-"
    assert mcolors.same_color(line.get_color(), plots.FAMILY_COLORS["model-based"]) and line.get_marker() == "o"
    plt.close(fig)


def test_critical_difference_diagram_geometry_and_maximal_cliques():
    from nasbench_suite.report import plots
    from nasbench_suite.report.stats import CriticalDifference

    ranks = pd.Series([1.0, 1.5, 1.75, 2.75, 4.0], index=list("abcde"))  # c~d differ by exactly the CD: not joined
    fig = plots.plot_cd(CriticalDifference(ranks, 9.0, 0.01, 1.0, 0.05, 8), "T")  # no palette: plain names
    ax = fig.axes[0]
    k, half = 5, 3
    assert tuple(fig.get_size_inches()) == pytest.approx((0.45 * k + 1.8, 1.2 + 0.22 * half))
    assert (ax.get_xlim(), ax.get_ylim(), ax.axison) == ((0.5, k + 0.5), (-0.35 * half - 0.6, 0.9), False)
    segments = [(np.round(line.get_xdata(), 6).tolist(), np.round(line.get_ydata(), 6).tolist()) for line in ax.lines]
    assert [s for s in segments if s[1] == [0, 0.08]] == [([t, t], [0, 0.08]) for t in range(1, k + 1)]  # ticks
    bars = [s for s in segments if len(s[0]) == 2 and s[1][0] == s[1][1] and s[1][0] < 0]
    assert bars == [([0.97, 1.78], [-0.12, -0.12])]  # a..c only: a~b and b~c lie inside it
    texts = {t.get_text(): t for t in ax.texts}
    assert texts["CD = 1.00"].get_position() == pytest.approx((1.5, 0.6))
    assert [texts[str(t)].get_position() for t in range(1, k + 1)] == [(t, 0.14) for t in range(1, k + 1)]
    sides = {name: texts[f"{name} ({rank:.2f})"].get_ha() for name, rank in ranks.items()}
    assert sides == {"a": "right", "b": "right", "c": "right", "d": "left", "e": "left"}
    assert {line.get_color() for line in ax.lines} == {"black"}
    plt.close(fig)


def test_final_scores_plot_names_every_whisker_and_cap_and_its_axes():
    from nasbench_suite.report import plots

    scores = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [4.0, 5.0, 6.0]})
    fig = plots.plot_final(scores, ["b", "a"], plots.looks(["a", "b"], {}), "test accuracy (%)", 6.0, "Final")
    ax = fig.axes[0]
    assert (ax.get_title(), ax.get_xlabel()) == ("Final", "test accuracy (%)")
    gids = sorted(line.get_gid() for line in ax.lines if line.get_gid() and ("whiskers" in line.get_gid()
                                                                              or "caps" in line.get_gid()))
    assert gids == sorted(f"strategy={s}/{part}{j}" for s in "ab" for part in ("whiskers", "caps") for j in (0, 1))
    whisker = next(line for line in ax.lines if line.get_gid() == "strategy=a/whiskers1")
    assert max(whisker.get_xdata()) == 3.0  # a's own upper whisker, not b's
    plt.close(fig)


def test_colors_cycle_after_twenty_names_and_looks_order_by_family():
    from nasbench_suite.report import plots

    ten = plots.colors([f"s{i}" for i in range(10)])
    assert ten["s9"] == plt.get_cmap("tab10")(9)
    many = plots.colors([f"s{i}" for i in range(25)])
    assert many["s21"] == many["s1"] != many["s2"]
    palette = plots.looks(["x", "y", "z"], {"x": "zero-cost", "z": "sampling"})
    assert list(palette) == ["z", "x", "y"]  # family order (FAMILY_COLORS), unknown families last
    with pytest.raises(UserInputError) as error:
        plots.looks(["x", "y"], {}, highlight=["p", "q"])
    assert str(error.value) == "--highlight p,q: no such strategy in this leaderboard; expected comma-separated names " \
                               "among x, y"


# ---- written for the survivors of the report/write.py mutation run (eighth session) ------------------------------

def _figures_of(runs: Runs, out, monkeypatch) -> tuple[dict, dict]:
    """write_report's return value and the figures it would save (kept, not written: the labels are the point)."""
    from nasbench_suite.report import write

    kept: dict = {}
    monkeypatch.setattr(write, "save_figures", lambda figures, where: kept.update(figures))
    return write_report(runs, out), kept


def test_write_report_labels_every_figure_by_its_metric_and_dataset(tmp_path, monkeypatch):
    runs = make_runs()
    bench = runs.meta["protocol"]["benchmark"]
    bench["report_metric"], bench["dataset"] = "test_acc", "cifar100"
    out, figures = _figures_of(runs, tmp_path / "nested" / "out", monkeypatch)  # parents made as needed
    assert list(out) == ["header", "leaderboard"]
    axes = {name: fig.axes[0] for name, fig in figures.items()}
    assert sorted(axes) == ["critical_difference", "final_scores", "rank_time", "regret_queries", "regret_time"]
    title = "CIFAR-100, hand protocol\n100 simulated s per run, 2 runs each"
    assert {name: ax.get_title() for name, ax in axes.items() if name != "critical_difference"} == dict.fromkeys(
        ["regret_time", "regret_queries", "final_scores", "rank_time"], title)
    assert axes["critical_difference"].get_title().startswith(title + "\nmean rank over 2 runs")
    assert axes["regret_time"].get_ylabel() == axes["regret_queries"].get_ylabel() == \
        "median regret (test_acc, % points)"
    assert axes["regret_queries"].get_xlabel() == "queries (cells evaluated)"
    assert axes["final_scores"].get_xlabel() == "final test_acc of the incumbent (%)"
    for fig in figures.values():
        plt.close(fig)
    del bench["report_metric"], bench["dataset"]  # not recorded: said so, not made up
    out, figures = _figures_of(runs, tmp_path / "plain", monkeypatch)
    assert figures["regret_time"].axes[0].get_ylabel() == "median regret (report metric)"
    assert figures["final_scores"].axes[0].get_xlabel() == "final report metric of the incumbent"
    assert figures["regret_time"].axes[0].get_title().startswith(", hand protocol\n")
    plt.close("all")


def test_write_report_json_and_csv_are_as_documented(tmp_path, monkeypatch):
    runs = make_runs()
    runs.meta["degenerate"] = {"C": "random search here"}
    out, _ = _figures_of(runs, tmp_path, monkeypatch)
    text = (tmp_path / "leaderboard.json").read_text()
    assert text.startswith('{\n  "header": {\n    "protocol": {')  # indented by 2
    data = jsonio.loads(text)
    assert list(data) == ["header", "leaderboard"] and data["header"]["protocol_hash"] == "0" * 16
    assert [row["strategy"] for row in data["leaderboard"]] == ["A", "B", "C"]
    assert (tmp_path / "leaderboard.csv").read_text() == out["leaderboard"].to_csv(float_format="%.6g")
    assert data["leaderboard"][0]["degenerate"] == "" and data["leaderboard"][2]["degenerate"] == "random search here"
    two = Runs([r for r in runs if r.strategy != "C"], {**runs.meta, "degenerate": {}})
    out, figures = _figures_of(two, tmp_path / "two", monkeypatch)
    assert out["header"]["friedman"] is None and "critical_difference" not in figures  # two strategies: no test
    plt.close("all")


def test_leaderboard_markdown_says_what_the_protocol_does_not_record(tmp_path, monkeypatch):
    runs = make_runs()
    bench, protocol = runs.meta["protocol"]["benchmark"], runs.meta["protocol"]
    del bench["dataset"], protocol["preset"]
    bench["kind"], protocol["fidelities"] = "surrogate", [12, 200]
    out, _ = _figures_of(runs, tmp_path, monkeypatch)
    described = make_runs()
    described.meta["protocol"]["benchmark"].update(cost_columns={"train": "s", "eval": "s"}, dataset_sha256="ab12")
    _figures_of(described, tmp_path / "described", monkeypatch)
    text = (tmp_path / "described" / "leaderboard.md").read_text()
    assert "cost: given (train: s; eval: s);" in text and "dataset hand-made (sha256 ab12)" in text
    lines = (tmp_path / "leaderboard.md").read_text().splitlines()
    assert lines[:8] == [
        "# Leaderboard: surrogate, preset `custom`", "", "- protocol",
        "- search metric (seen): seen at 12 epochs (multi-fidelity strategies: 12, 200); seed mode mean; report "
        "metric (scored, never seen): score",
        "- budget: 100 seconds; cost: given (columns undescribed); no overshoot; incumbent = best seen",
        "- runs: 6 = 3 strategies x 2 seeds (0..1)",
        "- reference: optimum 10.0000, top-1% threshold 9.0000, worst 0.0000 over 10 cells",
        "- table: surrogate content sha256 -; dataset None (sha256 none published); provenance: -: -"]
    assert lines[8].startswith("- environment: ") and "software" not in out["header"]
    board = lines.index(next(line for line in lines if line.startswith("| # |")))
    assert lines[board - 1] == "" and lines[board + 2 + 3] == ""  # the table (header, rule, 3 rows) stands apart
    plt.close("all")


def test_markdown_table_and_terminal_columns_are_exact():
    from nasbench_suite.report import format_compact, markdown_table

    frame = pd.DataFrame({"name": ["a", "b"], "tau": [0.5, 0.25], "n": [3, 4]})
    assert markdown_table(frame) == "| name | tau | n |\n|---|---|---|\n| a | 0.500 | 3 |\n| b | 0.250 | 4 |"
    runs = hand_runs({("x" * 30, 0): ([10, 10], [8, 10]), ("y", 0): ([10], [10]), ("y", 1): ([10], [10]),
                      ("x" * 30, 1): ([10, 10, 10], [4, 9, 10])}, {"amount": 100.0, "unit": "seconds"})
    board = leaderboard(runs)
    assert ("x" * 17 + "…" + "x" * 8 + " ") in format_compact(board)  # names cut to 26 characters, marked
    row = next(line for line in format_leaderboard(board).splitlines() if "| " + "x" * 30 + " |" in line)
    assert row.split(" | ")[-3:-1] == ["2", "25"]  # median queries (2.5) and simulated seconds to the optimum, whole


def test_terminal_leaderboard_marks_cut_labels_and_keeps_two_long_labels_apart():
    from nasbench_suite.report import format_compact

    policy, best = "reinforce:lr=0.001,incumbent=policy", "reinforce:lr=0.001,incumbent=best"
    middle = "a" * 20 + "{}" + "a" * 20  # differ only where a cut label has its '…'
    runs = hand_runs({(policy, 0): ([10], [9]), (best, 0): ([10], [8]), (middle.format("x"), 0): ([10], [7]),
                      (middle.format("y"), 0): ([10], [6]), ("rea", 0): ([10], [5])},
                     {"amount": 100.0, "unit": "seconds"})
    board = leaderboard(runs)
    board["degenerate"] = ["", "", "", "", "is random search here"]
    rows = format_compact(board).splitlines()[2:]
    labels = [row[4:30].rstrip() for row in rows]
    assert labels == ["reinforce:lr=0.00…t=policy", "reinforce:lr=0.00…ent=best", "aaaaaaaaaaaaaaaaaaaaxaa…#3",
                      "aaaaaaaaaaaaaaaaaaaayaa…#4", "rea †"]
    assert len({len(row) for row in rows}) == 1  # the columns after the label stay aligned


def test_timing_keeps_the_times_of_runs_reused_from_disk(tmp_path):
    from datetime import datetime, timedelta

    from nasbench_suite.report.write import write_timing

    runs = make_runs()
    write_timing(runs, tmp_path)
    first = jsonio.loads((tmp_path / "timing.json").read_text())
    for run in runs:  # loaded again from disk: their times are unknown to this process
        run.wall_seconds = run.cpu_seconds = float("nan")
    runs.runs[0].wall_seconds, runs.runs[0].cpu_seconds = 5.0, 4.0  # one rerun, timed now
    first["runs"]["C/1"] = {"wall_seconds": None, "cpu_seconds": None}  # not measured back then (NaN in JSON)
    (tmp_path / "timing.json").write_text(jsonio.dumps(first))
    text = write_timing(runs, tmp_path).read_text()
    again = jsonio.loads(text)
    assert text.startswith('{\n  "created": "')
    assert again["runs"] == {**first["runs"], "A/0": {"wall_seconds": 5.0, "cpu_seconds": 4.0}}
    assert again["strategies"]["B"]["runs_timed"] == 2 and again["strategies"]["B"]["wall_ms"] == pytest.approx(25.0)
    assert again["strategies"]["C"]["runs_timed"] == 1  # C/1's unknown time stays unknown, not zero
    created = datetime.fromisoformat(again["created"])
    assert created.utcoffset() == timedelta(0) and all(round(x, 2) == x for x in again["load_average_1_5_15min"])


@pytest.mark.slow
@pytest.mark.parametrize("args", [["--strategies", "random,rea", "--budget", "20q"],
                                  ["--preset", "hw-pareto", "--strategies", "random,mo-rea", "--budget", "20q"]],
                         ids=["benchmark", "hw-benchmark"])
def test_leaderboard_files_are_the_same_bytes_on_a_machine_with_other_software_and_hardware(args, tmp_path,
                                                                                          monkeypatch):
    """The committed leaderboards, plots and site must not change when the README's main command runs elsewhere:
    the software versions and the hardware go to environment.json only."""
    from click.testing import CliRunner

    from nasbench_suite.cli import cli, commands  # noqa: F401  (registers the commands)
    from nasbench_suite.report import write
    from nasbench_suite.report.site import render_site

    def benchmark(machine: str) -> Path:
        out = tmp_path / machine / "results"
        done = CliRunner().invoke(cli, ["benchmark", *args, "--seeds", "2", "--jobs", "1", "--out", str(out)])
        assert done.exit_code == 0, done.output
        return out

    here = benchmark("here")
    monkeypatch.setattr(write, "package_versions", lambda packages: {p: "0.0-elsewhere" for p in packages})
    monkeypatch.setattr(write, "machine", lambda: {"cpu": "another CPU", "cores": 64, "platform": "elsewhere"})
    there = benchmark("there")
    assert jsonio.loads((there / "environment.json").read_text())["hardware"]["cpu"] == "another CPU"
    compared = sorted(p.relative_to(here) for p in here.rglob("*") if p.is_file() and "runs" not in p.parts
                      and p.name not in ("timing.json", "environment.json"))
    assert {"leaderboard.md", "leaderboard.json", "leaderboard.csv"} <= {p.as_posix() for p in compared}
    assert len([p for p in compared if p.parent.name == "plots"]) >= 6
    for name in compared:
        assert (here / name).read_bytes() == (there / name).read_bytes(), name
    assert render_site(here) == render_site(there) and 'href="../environment.json"' in render_site(here)  # a link
    plt.close("all")


@pytest.fixture(scope="module")
def holed_table(tmp_path_factory) -> Path:
    """A toy table at epochs 25, 50 and 300: no valid_acc for cells 0-99 (not searchable), no test_acc for cells
    0-9 and 100-149 (50 searchable cells without a report value), 1 s per epoch."""
    from test_invariants import SPACE, make_table

    valid = np.repeat((40 + 50 * np.random.default_rng(1).permutation(SPACE) / SPACE)[:, None], 3, axis=1)
    test = 130 - valid
    valid[:100] = np.nan
    test[:10] = test[100:150] = np.nan
    table = make_table(np.arange(SPACE), {"valid_acc": valid, "test_acc": test}, epochs=(25, 50, 300))
    return table.save(tmp_path_factory.mktemp("holed") / "holed.h5")


def _header_lines(table: Path, out: Path, *args: str) -> list[str]:
    from click.testing import CliRunner

    from nasbench_suite.cli import cli, commands  # noqa: F401  (registers the commands)

    done = CliRunner().invoke(cli, ["benchmark", "--table", str(table), "--strategies", "random,rea", "--seeds", "2",
                                    "--budget", "5q", "--jobs", "1", "--out", str(out), *args])
    assert done.exit_code == 0, done.output
    plt.close("all")
    return [line for line in (out / "leaderboard.md").read_text().splitlines() if line.startswith("- ")]


def test_header_counts_the_searchable_cells_with_a_report_value_when_some_lack_one(holed_table, tmp_path):
    lines = _header_lines(holed_table, tmp_path)
    reference = next(line for line in lines if line.startswith("- reference: "))
    assert reference.endswith(" over 15475 cells")  # 15,625 - 100 not searchable - 50 searchable without test_acc
    assert ("- excluded cells: 100 cells of the space are not searchable (100 cells have no valid_acc@25; 100 cells "
            "have no valid_acc@50)") in lines


def test_a_preset_epoch_below_every_recorded_epoch_moves_to_the_lowest_one(holed_table, tmp_path):
    """nb201-paper searches at 12 epochs and scores at 200; the table records 25, 50 and 300: it searches at 25
    (the lowest; no lower one exists) and scores at 50 (the nearest lower one), never at 300."""
    lines = _header_lines(holed_table, tmp_path, "--preset", "nb201-paper")
    assert lines[1].startswith("- search metric (seen): valid_acc at 25 epochs (multi-fidelity strategies: 25); ")
    assert lines[1].endswith("report metric (scored, never seen): test_acc@50")
    assert lines[0].endswith("single-fidelity strategies search at 25 epochs, multi-fidelity ones choose from 25, "
                             "and the score is test_acc@50")
