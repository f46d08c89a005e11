"""The simulator's documented rules on hand-made tables: exact budget edges, NaN never incumbent, the seeding
recipe, and its input errors. Written for the mutants of runner/simulate.py that survived the rest of the suite
(results/mutation/README.md)."""

from __future__ import annotations

import hashlib
import time
import zlib

import numpy as np
import pytest

from nasbench_suite.benchmark import TableBenchmark
from nasbench_suite.errors import UserInputError
from nasbench_suite.runner import proxy_lookup, run, strategy_rngs

from test_invariants import SPACE, make_table, saved

VALID = 40 + 50 * np.random.default_rng(0).permutation(SPACE) / SPACE


@pytest.fixture(scope="module")
def benchmark():
    """Every query costs 200 s (200 epochs at 1 s); validation accuracy is NaN on even cells."""
    valid = VALID.copy()
    valid[::2] = np.nan
    return TableBenchmark(make_table(np.arange(SPACE), {"valid_acc": valid, "test_acc": 130 - VALID}),
                          "valid_acc", "test_acc")


@pytest.mark.parametrize("budget, queries", [("1000", 5), ("999.9", 4), ("200", 1)])
def test_a_query_that_exactly_fits_the_budget_is_run(benchmark, budget, queries):
    (r,) = run(benchmark, ["random"], [0], budget, jobs=1)
    charged = r.cost > 0  # the NaN cells are outside the searchable set: answered at no cost
    assert charged.sum() == queries and r.elapsed[-1] == 200 * queries and (r.cost[charged] == 200).all()


def test_nan_is_never_incumbent_and_before_any_value_there_is_none(benchmark):
    runs = run(benchmark, ["random"], range(6), "12q", jobs=1)
    starts_with_nan = 0
    for r in runs:
        finite = np.isfinite(r.seen)
        first = int(np.argmax(finite))
        assert (r.incumbent[:first] == -1).all() and np.isnan(r.reported[:first]).all()
        assert np.isfinite(VALID[r.incumbent[first:]]).all() and (r.incumbent[first:] % 2 == 1).all()
        starts_with_nan += first > 0
    assert starts_with_nan >= 1  # the case the rule is about occurred


def test_seeding_recipe_gives_the_strategy_and_the_noise_separate_streams():
    """The documented recipe: SeedSequence([seed, crc32(strategy)]).spawn(2) -> (strategy rng, noise rng)."""
    strategy_rng, noise_rng = strategy_rngs("rea", 7)
    children = np.random.SeedSequence([7, zlib.crc32(b"rea")]).spawn(2)
    assert strategy_rng.random() == np.random.default_rng(children[0]).random()
    assert noise_rng.random() == np.random.default_rng(children[1]).random()
    with pytest.raises(UserInputError, match="seeds must be non-negative integers, got -1"):
        strategy_rngs("rea", -1)


def test_a_proxy_of_the_wrong_length_names_the_expected_one(benchmark):
    with pytest.raises(UserInputError, match=r"a proxy needs one score per cell \(15625\), got shape \(3,\)"):
        proxy_lookup(benchmark, np.zeros(3))


def test_a_tie_keeps_the_first_incumbent():
    """Every cell has the same validation accuracy: the first cell stays incumbent (best seen, not last best)."""
    flat = make_table(np.arange(SPACE), {"valid_acc": np.full(SPACE, 70.0), "test_acc": 130 - VALID})
    (r,) = run(TableBenchmark(flat, "valid_acc", "test_acc"), ["random"], [1], "10q", jobs=1)
    assert (r.incumbent == r.arch[0]).all()


def test_a_first_query_over_the_budget_gives_an_empty_run():
    """Cell 0 costs 100 s, every other 200 s; with 150 s the random first cell does not fit: no query is run."""
    table = make_table(np.arange(SPACE), {"valid_acc": VALID, "test_acc": 130 - VALID})
    table.set_column("train_seconds_per_epoch", np.where(np.arange(SPACE) == 0, 0.5, 1.0))
    (r,) = run(TableBenchmark(table, "valid_acc", "test_acc"), ["random"], [0], "150", jobs=1)
    assert r.queries == 0 and np.isnan(r.final) and r.arch.dtype == np.int32 and r.reported.dtype == np.float64


def test_timings_are_durations_of_the_search(benchmark):
    start = time.perf_counter()
    (r,) = run(benchmark, ["random"], [0], "20q", jobs=1)
    elapsed = time.perf_counter() - start
    assert 0 <= r.wall_seconds <= elapsed and 0 < r.cpu_seconds <= elapsed + 0.05


def test_runs_record_the_table_file_they_ran_on(tmp_path):
    table = saved(make_table(np.arange(SPACE), {"valid_acc": VALID, "test_acc": 130 - VALID}), tmp_path)
    runs = run(TableBenchmark(table, "valid_acc", "test_acc"), ["random"], [0], "3q", jobs=1)
    recorded = runs.meta["protocol"]["benchmark"]
    assert recorded["table_file"] == "toy.h5" and runs.meta["table_path"] == str(tmp_path / "toy.h5")
    assert recorded["table_file_sha256"] == hashlib.sha256((tmp_path / "toy.h5").read_bytes()).hexdigest()
