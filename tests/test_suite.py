"""The suite leaderboard's statistics against hand computations, and the `suite` command end to end (issue 32)."""

import json

import numpy as np
import pytest
from click.testing import CliRunner

from nasbench_suite.cli import commands  # noqa: F401  (registers the suite command)
from nasbench_suite.cli.app import cli
from nasbench_suite.report import suite


def test_normalised_score_is_zero_at_the_median_cell_and_one_at_the_best():
    assert suite.normalised(np.array([70.0, 80.0, 75.0]), 70.0, 80.0).tolist() == [0.0, 1.0, 0.5]


def test_iqm_is_the_mean_of_the_middle_half():
    assert suite.iqm(np.arange(1, 9)) == pytest.approx(4.5)  # mean of 3, 4, 5, 6
    assert suite.iqm(np.array([[0.0, 100.0], [1.0, 2.0]])) == pytest.approx(1.5)  # all runs pooled: mean of 1, 2


def test_stratified_bootstrap_resamples_runs_within_each_task():
    # task 0 always scores 0, task 1 always 1: every resample keeps one of each per pair, so the IQM of any resample
    # of 2 x 4 runs is 0.5 exactly; a plain bootstrap over pooled runs would spread around it
    scores = np.array([[0.0] * 4, [1.0] * 4])
    low, high = suite.stratified_bootstrap_ci(scores, np.random.default_rng(0), reps=200)
    assert low == high == 0.5


def test_performance_profile_counts_runs_above_each_threshold():
    scores = np.array([[0.1, 0.5], [0.9, 0.5]])
    assert suite.performance_profile(scores, np.array([0.0, 0.5, 1.0])).tolist() == [1.0, 0.25, 0.0]


def test_probability_of_improvement_counts_ties_half_and_averages_tasks():
    x = np.array([[1.0, 2.0], [0.0, 0.0]])
    y = np.array([[1.0, 0.0], [1.0, 1.0]])
    # task 0: pairs (1>1 tie, 1>0, 2>1, 2>0) -> (0.5 + 1 + 1 + 1) / 4 = 0.875; task 1: 0 -> mean 0.4375
    assert suite.probability_of_improvement(x, y) == pytest.approx(0.4375)


def test_mean_ranks_share_ties_and_the_critical_difference_is_demsars():
    means = np.array([[0.9, 0.5], [0.1, 0.5], [0.5, 0.2]])  # strategies x tasks
    assert suite.mean_ranks(means).tolist() == [1.25, 2.25, 2.5]  # task 1: a tie for ranks 1-2 -> 1.5 each
    assert suite.critical_difference(3, 10) == pytest.approx(2.343 * np.sqrt(3 * 4 / 60), abs=1e-3)  # Table 5


def test_kendall_tau_between_tasks_by_hand():
    means = np.array([[3.0, 3.0, 1.0], [2.0, 2.0, 2.0], [1.0, 1.0, 3.0]])
    assert suite.kendall_between_tasks(means).tolist() == [[1.0, 1.0, -1.0], [1.0, 1.0, -1.0], [-1.0, -1.0, 1.0]]


def test_suite_command_runs_every_task_reruns_byte_identical_and_reuses_stored_runs(tmp_path):
    args = ["suite", "--strategies", "random,rea", "--seeds", "2", "--budget", "10q", "--out", str(tmp_path), "--json"]
    first = CliRunner().invoke(cli, args)
    assert first.exit_code == 0, first.output
    data = json.loads(first.output[first.output.index("{"):])
    assert [r["strategy"] for r in data["leaderboard"]] and (tmp_path / "nbg-proteins" / "runs").is_dir()
    board = (tmp_path / "suite.json").read_bytes()
    summary = json.loads(board)
    assert len(summary["tasks"]) == 12 and len(summary["kendall_tau_between_tasks"]) == 12
    assert CliRunner().invoke(cli, args).exit_code == 0
    assert (tmp_path / "suite.json").read_bytes() == board


def test_suite_command_with_a_seconds_budget_is_one_clear_error(tmp_path):
    result = CliRunner().invoke(cli, ["suite", "--strategies", "random", "--seeds", "1", "--budget", "1000",
                                      "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert result.output.splitlines()[-1] == ("error: budget of 1000 simulated seconds: the suite counts queries on "
                                              "every task (NAS-Bench-Graph records no training time); expected a "
                                              "query budget such as 100q")
