"""The simulator's documented rules on hand-made tables: exact budget edges, NaN never incumbent, the seeding
recipe, and its input errors. Written for the mutants of runner/simulate.py that survived the rest of the suite
(results/mutation/README.md)."""

from __future__ import annotations

import time
import zlib

import numpy as np
import pytest
from test_invariants import SPACE, make_table, saved

from nasbench_suite.benchmark import TableBenchmark
from nasbench_suite.errors import UserInputError
from nasbench_suite.runner import proxy_lookup, run, strategy_rngs
from nasbench_suite.table import Table

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
    assert recorded["table_content_sha256"] == Table.load(tmp_path / "toy.h5").content_sha256()


# ---- runs.py and presets.py ---------------------------------------------------------------------------------
from nasbench_suite.runner import Budget, Run, Runs, get_preset, load_runs
from nasbench_suite.runner.runs import (
    clear_runs,
    fingerprint,
    output_lock,
    run_path,
    save_protocol,
    save_run,
    stored_runs,
)


def toy_run(strategy="a", seed=0, queries=3) -> Run:
    rows = [(i, 12, 10.0 * (i + 1), 50.0 + i, i, 60.0 + i) for i in range(queries)]
    return Run.from_rows(strategy, seed, rows, 1.0, 2.0)


def test_a_run_keeps_its_rows_columns_and_dtypes():
    run_ = toy_run()
    assert (run_.strategy, run_.seed, run_.queries, run_.final) == ("a", 0, 3, 62.0)
    assert run_.elapsed.tolist() == [10.0, 30.0, 60.0] and (run_.wall_seconds, run_.cpu_seconds) == (1.0, 2.0)
    assert [getattr(run_, k).dtype for k in ("arch", "fidelity", "cost", "seen", "incumbent", "reported")] == [
        np.int32, np.int32, np.float64, np.float64, np.int32, np.float64]
    assert run_.seen.tolist() == [50.0, 51.0, 52.0] and run_.incumbent.tolist() == [0, 1, 2]
    assert run_.same_trajectory(toy_run()) and not run_.same_trajectory(toy_run(seed=1))
    assert not run_.same_trajectory(toy_run(strategy="b")) and not run_.same_trajectory(toy_run(queries=2))
    other = toy_run()
    other.reported[-1] = 0.0  # only the last column differs
    assert not run_.same_trajectory(other)


def test_runs_list_strategies_in_protocol_order_and_find_each_run():
    runs = Runs([toy_run("c", 2), toy_run("b", 1), toy_run("c", 0), toy_run("d", 5)], {"strategies": ["x", "c", "b"]})
    assert runs.strategies == ["c", "b", "d"] and runs.seeds == [0, 1, 2, 5] and len(runs) == 4
    assert [r.seed for r in runs.of("c")] == [0, 2] and runs.get("c", 2) is runs.runs[0]
    assert runs.get("c", 1) is None and [r.strategy for r in runs] == ["c", "b", "c", "d"]
    assert Runs([toy_run("b"), toy_run("a")]).strategies == ["b", "a"]


def test_stored_runs_are_found_only_under_their_protocol(tmp_path):
    protocol = {"budget": 100, "strategies": ["b", "a"]}
    digest = fingerprint(protocol)
    assert digest == fingerprint({"strategies": ["b", "a"], "budget": 100}) and len(digest) == 16
    assert digest != fingerprint({"budget": 101, "strategies": ["b", "a"]})
    path = save_run(toy_run("a", 3), tmp_path, digest)
    assert path == run_path(tmp_path, "a", 3) == tmp_path / "runs" / "a" / "seed-3.npz"
    save_run(toy_run("b", 1), tmp_path, digest)
    save_protocol(tmp_path, {"protocol_hash": digest, "strategies": ["b", "a"]})
    loaded = load_runs(tmp_path)
    assert [(r.strategy, r.seed) for r in loaded] == [("b", 1), ("a", 3)] and loaded.meta["strategies"] == ["b", "a"]
    assert loaded.get("a", 3).same_trajectory(toy_run("a", 3))
    assert set(stored_runs(tmp_path, digest)) == {("a", 3), ("b", 1)}
    with pytest.raises(UserInputError, match=r"seed-3\.npz was run under another protocol .*use --overwrite"):
        stored_runs(tmp_path, "0" * 16)
    (tmp_path / "runs" / "notes.txt").write_text("kept")
    assert stored_runs(tmp_path, "0" * 16, overwrite=True) == {}
    assert not (tmp_path / "runs" / "a" / "seed-3.npz").exists() and not (tmp_path / "runs" / "protocol.json").exists()
    assert (tmp_path / "runs" / "notes.txt").read_text() == "kept" and clear_runs(tmp_path) == 0
    with pytest.raises(UserInputError, match=r"^no stored runs in .* \(missing .*protocol\.json\)$"):
        load_runs(tmp_path)


def test_the_output_lock_is_exclusive_and_reentrant_within_a_process(tmp_path):
    import fcntl

    def locked_elsewhere() -> bool:
        """Whether another open file description (what another process would hold) cannot take the lock."""
        with open(tmp_path / "runs" / ".lock") as fh:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return True
            fcntl.flock(fh, fcntl.LOCK_UN)
            return False

    with output_lock(tmp_path):
        with output_lock(tmp_path):  # re-entrant
            assert locked_elsewhere()
        assert locked_elsewhere()  # still held after the inner one left
    assert not locked_elsewhere()
    with open(tmp_path / "runs" / ".lock") as fh:  # another process holds it
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(UserInputError, match=r"is being written by another benchmark process \(lock .*\.lock\); "
                                                 "wait for it to finish or use another --out folder$"):
            with output_lock(tmp_path):
                pass
    with output_lock(tmp_path):  # a refused attempt leaves nothing behind
        assert locked_elsewhere()


@pytest.mark.parametrize("text, budget", [("12000", Budget(12000)), (" 7.5 S ", Budget(7.5)), ("3Q", Budget(3, "queries")),
                                          (".5", Budget(0.5)), (Budget(9, "queries"), Budget(9, "queries"))])
def test_budgets_are_read_in_every_documented_form(text, budget):
    assert Budget.parse(text) == budget


@pytest.mark.parametrize("text, message", [
    ("0", r"^budget must be a positive finite amount, got 0; expected e\.g\. 12000"),
    ("1e999", "budget must be a positive finite amount, got inf"),
    ("12 h", r"^cannot read budget '12 h'; expected simulated seconds like 12000 or 12000s, or a number of queries"),
    ("-5", "cannot read budget '-5'"), ("1e999q", "budget must be a positive finite amount, got inf"),
])
def test_budget_errors_name_the_expected_form(text, message):
    with pytest.raises(UserInputError, match=message):
        Budget.parse(text)


def test_budget_limits_and_wording():
    seconds, queries = Budget(12000), Budget(100, "queries")
    assert (seconds.max_seconds, seconds.max_queries) == (12000, 2**62) and str(seconds) == "12000 simulated seconds"
    assert (queries.max_seconds, queries.max_queries) == (float("inf"), 100) and str(queries) == "100 queries"
    assert Budget(1e-9).amount == 1e-9
    with pytest.raises(UserInputError, match=r"^unknown budget unit 'hours'; valid: seconds, queries$"):
        Budget(1, "hours")


def test_presets_name_their_settings_and_strategies(tmp_path):
    paper = get_preset("nb201-paper")
    assert paper.default_strategies(["rea", "bohb", "zero-cost"]) == ["bohb:schedule=hpbandster", "rea", "zero-cost"]
    settings = paper.settings()
    assert settings["budget"] == "12000 simulated seconds" and settings["multi_fidelities"] == (12,)
    assert settings["search_metric"] == "valid_acc" and settings["noise"] == "seed"
    with pytest.raises(UserInputError, match=r"^a hybrid benchmark needs a surrogate \(--surrogate FILE\)$"):
        paper.benchmark(make_table(np.arange(SPACE), {"valid_acc": VALID}), hybrid=True)
    with pytest.raises(UserInputError, match=r"^unknown preset 'x'; valid: nb201-paper, default, default-noise-free, nbgraph$"):
        get_preset("x")


def test_a_preset_moves_each_epoch_to_the_nearest_lower_one_the_table_records(tmp_path):
    values = np.stack([VALID, VALID + 1, VALID + 2], 1)
    table = saved(make_table(np.arange(SPACE), {"valid_acc": values, "test_acc": values}, epochs=(5, 100, 150)),
                  tmp_path)
    fitted = get_preset("default").for_table(table)
    assert (fitted.search_fidelity, fitted.multi_fidelities, fitted.report_epoch) == (150, (5, 150), 150)
    assert fitted.description.endswith(
        "; on toy, which records valid_acc at epochs 5, 100, 150 and test_acc at 5, 100, 150, single-fidelity "
        "strategies search at 150 epochs, multi-fidelity ones choose from 5, 150, and the score is test_acc@150")
    low = make_table(np.arange(SPACE), {"valid_acc": VALID, "test_acc": VALID}, epochs=(300,))
    fitted = get_preset("nb201-paper").for_table(low)
    assert (fitted.search_fidelity, fitted.multi_fidelities, fitted.report_epoch) == (300, (300,), 300)
    assert "; on this table, which records" in fitted.description
    empty = make_table(np.arange(SPACE), {"valid_acc": np.full(SPACE, np.nan), "test_acc": VALID})
    assert get_preset("default").for_table(empty) is get_preset("default")


# ---- written for the surviving mutants of runner/ (results/mutation/README.md) -------------------------------------
def test_a_run_with_a_failed_query_is_the_same_trajectory_as_its_rerun():
    """A failed query is stored as NaN; a resumed leaderboard compares it with its rerun (NaN == NaN there)."""
    rows = [(0, 12, 10.0, float("nan"), -1, float("nan")), (1, 12, 20.0, 51.0, 1, 61.0)]
    assert Run.from_rows("a", 0, rows, 1.0, 2.0).same_trajectory(Run.from_rows("a", 0, rows, 3.0, 4.0))


def test_loaded_runs_follow_the_protocols_strategy_order_then_seed_and_unlisted_strategies_come_last(tmp_path):
    digest = fingerprint({"x": 1})
    for strategy, seed in (("a", 0), ("b", 5), ("z", 0), ("b", 2)):
        save_run(toy_run(strategy, seed), tmp_path, digest)
    save_protocol(tmp_path, {"protocol_hash": digest, "strategies": ["b", "a"]})
    assert [(r.strategy, r.seed) for r in load_runs(tmp_path)] == [("b", 2), ("b", 5), ("a", 0), ("z", 0)]


def test_a_proxy_lookup_answers_floats_whatever_the_scores_were_given_as(benchmark):
    lookup = proxy_lookup(benchmark, list(range(SPACE)))
    cell = tuple(benchmark.space.all_ops()[7].tolist())
    assert lookup(cell) == 7.0 and type(lookup(cell)) is float


def test_stored_files_are_sorted_indented_json_so_a_rerun_writes_the_same_bytes(tmp_path):
    path = save_run(toy_run("a", 3), tmp_path, "f" * 16)
    with np.load(path) as data:
        assert str(data["info"]) == '{"protocol": "ffffffffffffffff", "seed": 3, "strategy": "a"}'
    written = save_protocol(tmp_path, {"strategies": ["a"], "protocol_hash": "f" * 16})
    assert written.read_text() == '{\n  "protocol_hash": "ffffffffffffffff",\n  "strategies": [\n    "a"\n  ]\n}'
    with pytest.raises(UserInputError) as error:
        stored_runs(tmp_path, "0" * 16)
    assert str(error.value) == (f"{path} was run under another protocol (table, preset, budget or fidelities differ); "
                                "use --overwrite to delete the stored runs there and start over, or another --out "
                                "folder")


def test_a_worker_arms_death_with_its_parent_and_exits_if_the_parent_is_already_gone():
    """Workers must never outlive an interrupted or killed run (they would go on burning the CPU unseen)."""
    import ctypes
    import os
    import signal

    from nasbench_suite.runner import simulate

    def worker_exit_code(parent: int) -> int:
        pid = os.fork()
        if pid == 0:
            try:
                simulate._init_worker(print, {}, parent)
                armed = ctypes.c_int()
                ctypes.CDLL(None).prctl(2, ctypes.byref(armed))  # PR_GET_PDEATHSIG
                os._exit(100 + armed.value)
            except BaseException:  # noqa: BLE001  (a forked child must never return into pytest)
                os._exit(3)
        return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])

    assert worker_exit_code(os.getpid()) == 100 + signal.SIGKILL
    assert worker_exit_code(os.getpid() + 1_000_000) == 1  # not its parent: it is gone, exit at once


def test_run_meta_names_its_parts_and_the_strategies_that_degenerate():
    from test_benchmark_rules import two_seed_table

    runs = run(TableBenchmark(two_seed_table()), ["random", "hyperband", "rea"], [0], "3q", default_fidelity=12,
               fidelities=[12], jobs=1)
    assert runs.meta["degenerate"] == {"hyperband": "hyperband with one fidelity (12 epochs) is random search"}
    assert sorted(runs.meta) == ["degenerate", "protocol", "protocol_hash", "reference", "seeds", "strategies",
                                 "table_path"]
    assert runs.meta["seeds"] == [0] and sorted(runs.meta["reference"]) == ["cells", "optimum", "top_fraction",
                                                                            "top_threshold", "worst"]


def test_the_protocol_hashes_proxy_scores_as_floats_and_paths_as_text(benchmark):
    as_ints = run(benchmark, ["random"], [0], "2q", proxy=list(range(SPACE)), jobs=1).meta["protocol_hash"]
    as_floats = run(benchmark, ["random"], [0], "2q", proxy=np.arange(SPACE, dtype=float), jobs=1)
    assert as_ints == as_floats.meta["protocol_hash"]
    from pathlib import Path

    assert fingerprint({"table": Path("tables/a.h5")}) == fingerprint({"table": "tables/a.h5"})


def test_a_budget_of_exactly_the_cap_is_accepted_and_one_second_more_is_not(benchmark):
    from nasbench_suite.runner import simulate

    most = simulate.MAX_QUERIES_PER_CELL * SPACE * 200  # the cheapest query costs 200 s
    assert simulate._check_setup(benchmark, ["random"], Budget(most), 200, (200,), None) == {}
    with pytest.raises(UserInputError, match=f"above the cap of {most} simulated seconds"):
        simulate._check_setup(benchmark, ["random"], Budget(most + 1), 200, (200,), None)


def test_no_strategy_is_an_error_and_the_progress_bar_counts_runs(benchmark, capsys):
    with pytest.raises(UserInputError) as error:
        run(benchmark, [], [0], "2q")
    assert str(error.value) == "need at least one strategy and one seed"
    run(benchmark, ["random"], [0, 1], "2q", jobs=1, progress=True)
    err = capsys.readouterr().err
    assert "runs: 100%" in err and "2/2" in err and "run/s" in err


def test_a_non_positive_budget_names_the_expected_form_exactly():
    with pytest.raises(UserInputError) as error:
        Budget(0)
    assert str(error.value) == ("budget must be a positive finite amount, got 0; expected e.g. 12000 (simulated "
                                "seconds) or 100q (queries)")
