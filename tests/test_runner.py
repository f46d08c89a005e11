"""The simulated-search runner: determinism, no test-set leak, budget accounting, resume, setup errors, CLI."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from click.testing import CliRunner

import nasbench_suite as ns
from nasbench_suite.benchmark import TableBenchmark
from nasbench_suite.cli import cli
from nasbench_suite.cli import commands  # noqa: F401  (registers the benchmark command)
from nasbench_suite.errors import UserInputError
from nasbench_suite.runner import Budget, get_preset, load_runs, run
from nasbench_suite.strategies import STRATEGIES, Context, Strategy, Trial, register
from nasbench_suite.surrogate import Surrogate


class Walk(Strategy):
    """Test strategy: random cells; records every value it is told."""

    name = "test-walk"
    told: list[tuple[Trial, float]] = []

    def ask(self) -> Trial:
        return self.trial(self.space.sample(self.rng))

    def tell(self, trial: Trial, value: float) -> None:
        Walk.told.append((trial, value))


class TwoFidelity(Walk):
    """Test strategy: odd queries at the lowest fidelity, even ones at the highest."""

    name = "test-mf"
    multi_fidelity = True

    def __init__(self, context: Context, **hp) -> None:
        super().__init__(context, **hp)
        self.count = 0

    def ask(self) -> Trial:
        self.count += 1
        fidelity = self.context.fidelities[0] if self.count % 2 else self.context.fidelities[-1]
        return Trial(self.space.sample(self.rng), fidelity)


class Bomb(Walk):
    """Test strategy that simulates Ctrl-C when its `fuse`-th instance is built."""

    name = "test-bomb"
    built = 0
    fuse = 0

    def __init__(self, context: Context, **hp) -> None:
        super().__init__(context, **hp)
        Bomb.built += 1
        if Bomb.built == Bomb.fuse:
            raise KeyboardInterrupt


class Fault(Walk):
    """Test strategy whose asks raise KeyboardInterrupt with probability 1/50 (which runs do depends on the seed)."""

    name = "test-fault"

    def ask(self) -> Trial:
        if self.rng.random() < 0.02:
            raise KeyboardInterrupt
        return super().ask()


class NeedsProxy(Walk):
    name = "test-proxy"
    needs_proxy = True


class Script(Walk):
    """Test strategy: asks the cells of `Script.cells` (official indices) in turn."""

    name = "test-script"
    cells: list[int] = [0]

    def __init__(self, context: Context, **hp) -> None:
        super().__init__(context, **hp)
        self.count = 0

    def ask(self) -> Trial:
        self.count += 1
        return self.trial(self.space.to_ops(Script.cells[(self.count - 1) % len(Script.cells)]))


class Asks200(Walk):
    """Test strategy: always asks for 200 epochs, whatever the protocol offers."""

    name = "test-200"

    def ask(self) -> Trial:
        return Trial(self.space.sample(self.rng), 200)


class Asks200Multi(Asks200):
    name = "test-200-mf"
    multi_fidelity = True


for cls in (Walk, TwoFidelity, Bomb, Fault, NeedsProxy, Script, Asks200, Asks200Multi):
    if cls.name not in STRATEGIES:
        register(cls)


@pytest.fixture(scope="module")
def table():
    return ns.open_table("nb201-cifar10")


@pytest.fixture(scope="module")
def paper(table):
    return TableBenchmark(table, "valid_acc", "test_acc", 200, "mean")


def test_same_seed_same_trajectory_whatever_the_jobs(paper):
    one = run(paper, ["test-walk", "test-mf"], [3, 4], 3000, default_fidelity=12, jobs=1)
    two = run(paper, ["test-walk", "test-mf"], [3, 4], 3000, default_fidelity=12, jobs=2)
    assert len(one) == len(two) == 4
    assert all(a.same_trajectory(b) for a, b in zip(one, two))
    assert not np.array_equal(one.get("test-walk", 3).arch, one.get("test-walk", 4).arch)


def test_strategy_is_told_the_search_metric_only(paper, table):
    Walk.told.clear()
    runs = run(paper, ["test-walk"], [0], 5000, default_fidelity=12, jobs=1)
    trajectory = runs.get("test-walk", 0)
    told = np.array([value for _, value in Walk.told])
    archs = [ns.NB201.to_index(trial.arch) for trial, _ in Walk.told]
    assert len(told) == trajectory.queries > 10
    np.testing.assert_array_equal(told, [table.query(a, "valid_acc", 12) for a in archs])
    np.testing.assert_array_equal(trajectory.seen, told)
    test_values = np.array([table.query(a, "test_acc", 200) for a in archs])
    assert not np.isin(told, test_values).any()  # the report metric never reached the strategy
    # the reported value is the 200-epoch test accuracy of the best-seen cell so far
    best = np.maximum.accumulate(told)
    np.testing.assert_array_equal(trajectory.seen[trajectory.incumbent >= 0].max(), best[-1])
    incumbent_tests = [table.query(int(i), "test_acc", 200) for i in trajectory.incumbent]
    np.testing.assert_array_equal(trajectory.reported, incumbent_tests)


def test_budget_is_never_exceeded_and_query_budget_is_exact(paper, table):
    budget = 2500.0
    runs = run(paper, ["test-walk", "test-mf"], range(4), budget, default_fidelity=12, fidelities=(12, 200), jobs=1)
    per_epoch, evaluation = table.column("train_seconds_per_epoch"), table.column("eval_seconds")
    cost = 12 * per_epoch + evaluation
    for r in runs:
        assert r.elapsed[-1] <= budget
        np.testing.assert_allclose(r.cost, r.fidelity * per_epoch[r.arch] + evaluation[r.arch])
    assert set(runs.get("test-mf", 0).fidelity) == {12, 200}
    walk = runs.get("test-walk", 0)
    assert budget - walk.elapsed[-1] < cost.max()  # it stopped because the next query did not fit
    counted = run(paper, ["test-walk"], [0], "7q", default_fidelity=200, jobs=1)
    assert counted.get("test-walk", 0).queries == 7


def test_incumbent_prefers_the_highest_fidelity(paper):
    runs = run(paper, ["test-mf"], [1], "6q", default_fidelity=200, fidelities=(12, 200), jobs=1)
    r = runs.get("test-mf", 1)
    assert list(r.fidelity) == [12, 200, 12, 200, 12, 200]
    high = np.flatnonzero(r.fidelity == 200)
    assert r.incumbent[0] == r.arch[0]
    for q in range(1, 6):
        seen_high = high[high <= q]
        assert r.incumbent[q] == r.arch[seen_high[np.argmax(r.seen[seen_high])]]


def test_random_seed_mode_draws_measured_seeds_reproducibly(table):
    noisy = ns.Table(space="nb201", dataset="cifar10", archs=table.archs, seeds=[777, 888], epochs=[12, 200],
                     columns=table.columns)
    base, test = (np.stack([table.values(m, e) for e in table.epochs], 1)[:, None, :]  # seed means [A, 1, E]
                  for m in ("valid_acc", "test_acc"))
    noisy.set_metric("valid_acc", np.concatenate([base - 1.0, base + 1.0], axis=1))
    noisy.set_metric("test_acc", np.repeat(test, 2, axis=1))
    benchmark = TableBenchmark(noisy, "valid_acc", "test_acc", 200, "random")
    a = run(benchmark, ["test-walk"], [5], "40q", default_fidelity=12, jobs=1).get("test-walk", 5)
    b = run(benchmark, ["test-walk"], [5], "40q", default_fidelity=12, jobs=1).get("test-walk", 5)
    assert a.same_trajectory(b)
    mean = table.values("valid_acc", 12)[a.arch]
    offsets = np.round(a.seen - mean, 3)
    assert set(offsets) == {-1.0, 1.0}


def test_interrupted_run_keeps_finished_runs_and_resume_runs_only_the_missing(paper, tmp_path):
    Bomb.built, Bomb.fuse = 0, 5  # one setup check, then seeds 0, 1, 2 finish, the 4th run is "Ctrl-C"
    with pytest.raises(KeyboardInterrupt):
        run(paper, ["test-bomb"], 6, "5q", default_fidelity=12, jobs=1, out_dir=tmp_path)
    assert sorted(p.name for p in (tmp_path / "runs" / "test-bomb").glob("*.npz")) == [
        "seed-0.npz", "seed-1.npz", "seed-2.npz"]
    assert not list((tmp_path / "runs" / "test-bomb").glob(".*tmp"))
    Bomb.built, Bomb.fuse = 0, 0
    resumed = run(paper, ["test-bomb"], 6, "5q", default_fidelity=12, jobs=1, out_dir=tmp_path, resume=True)
    assert Bomb.built == 1 + 3  # setup check + the three missing seeds
    fresh = run(paper, ["test-bomb"], 6, "5q", default_fidelity=12, jobs=1)
    assert all(a.same_trajectory(b) for a, b in zip(resumed, fresh))
    assert len(load_runs(tmp_path)) == 6
    with pytest.raises(UserInputError, match="another protocol"):
        run(paper, ["test-bomb"], 6, "6q", default_fidelity=12, jobs=1, out_dir=tmp_path, resume=True)


def test_interrupt_in_parallel_keeps_finished_runs(paper, tmp_path):
    with pytest.raises(KeyboardInterrupt):
        run(paper, ["test-walk", "test-fault"], 40, 3000, default_fidelity=12, jobs=2, out_dir=tmp_path)
    assert not list((tmp_path / "runs").glob("*/.*.tmp"))
    stored = load_runs(tmp_path)
    assert len(stored) < 80
    for r in stored:  # what was saved is exactly what a run on its own gives
        assert run(paper, [r.strategy], [r.seed], 3000, default_fidelity=12, jobs=1).runs[0].same_trajectory(r)


def test_rerun_keeps_every_stored_run_and_reports_what_was_asked(paper, tmp_path):
    both = run(paper, ["test-walk", "test-mf"], 3, "4q", default_fidelity=12, jobs=1, out_dir=tmp_path)
    files = sorted(p.relative_to(tmp_path) for p in (tmp_path / "runs").glob("*/seed-*.npz"))
    assert len(files) == 6
    stamps = {p: (tmp_path / p).stat().st_mtime_ns for p in files}
    one = run(paper, ["test-walk"], [1], "4q", default_fidelity=12, jobs=1, out_dir=tmp_path)
    assert [(r.strategy, r.seed) for r in one] == [("test-walk", 1)]  # exactly what was asked
    assert one.runs[0].same_trajectory(both.get("test-walk", 1))
    assert {p: (tmp_path / p).stat().st_mtime_ns for p in files} == stamps  # all kept, none recomputed
    again = run(paper, ["test-walk", "test-mf"], 3, "4q", default_fidelity=12, jobs=1, out_dir=tmp_path)
    assert all(a.same_trajectory(b) for a, b in zip(again, both))
    with pytest.raises(UserInputError, match="another protocol .*--overwrite .*another --out"):
        run(paper, ["test-walk"], [0], "5q", default_fidelity=12, jobs=1, out_dir=tmp_path)
    assert len(list((tmp_path / "runs").glob("*/seed-*.npz"))) == 6
    (tmp_path / "notes.txt").write_text("mine")
    run(paper, ["test-walk"], [0], "5q", default_fidelity=12, jobs=1, out_dir=tmp_path, overwrite=True)
    assert [p.name for p in (tmp_path / "runs").glob("*/seed-*.npz")] == ["seed-0.npz"]
    assert (tmp_path / "notes.txt").read_text() == "mine"  # --overwrite deletes only the suite's run files


def test_budget_cap(paper):
    with pytest.raises(UserInputError, match=r"above the cap of 156,250 queries .*expected at most 156250q"):
        run(paper, ["test-walk"], [0], "1e99q", default_fidelity=12, jobs=1)
    with pytest.raises(UserInputError, match=r"above the cap of \d+ simulated seconds .*at 12 epochs"):
        run(paper, ["test-walk"], [0], "1e99", default_fidelity=12, jobs=1)


def test_sample_unseen_draws_once_when_every_cell_was_seen():
    from nasbench_suite.strategies._common import sample_unseen

    everything = set(map(tuple, ns.NB201.all_ops().tolist()))
    rng, reference = np.random.default_rng(0), np.random.default_rng(0)
    assert sample_unseen(ns.NB201, rng, everything) == ns.NB201.sample(reference)
    assert rng.random() == reference.random()  # no wasted draws: the cost of an ask does not grow with a run


@pytest.mark.parametrize("strategy", ["test-200", "test-200-mf"])
def test_a_fidelity_the_protocol_does_not_offer_is_an_error(paper, strategy):
    with pytest.raises(UserInputError, match=f"strategy '{strategy}' asked for 200 epochs; this protocol offers it "
                                             "12 epochs"):
        run(paper, [strategy], [0], "3q", default_fidelity=12, fidelities=(12,), jobs=1)


def test_an_incumbent_without_report_value_is_an_error(table, tmp_path):
    valid = table.values("valid_acc", 200)
    best = int(np.nanargmax(valid))
    report = table.metrics["test_acc"].values.copy()
    report[best] = np.nan
    holed = ns.Table(space="nb201", dataset="cifar10", archs=table.archs, seeds=table.seeds, epochs=table.epochs,
                     columns=table.columns, metrics={"valid_acc": table.metrics["valid_acc"]})
    holed.set_metric("test_acc", report)
    benchmark = TableBenchmark(holed, "valid_acc", "test_acc", 200, "mean")
    Script.cells = [int(np.argsort(valid)[len(valid) // 2]), best]
    named = rf"incumbent cell {best} \(\|.*\|\) has no report value \(test_acc is NaN\)"  # cell and metric
    with pytest.raises(UserInputError, match=named):
        run(benchmark, ["test-script"], [0], "3q", jobs=1)
    path = holed.save(tmp_path / "holed.h5")
    result = invoke("--strategies", "test-script", "--seeds", "1", "--budget", "3q", "--table", str(path),
                    "--out", str(tmp_path / "out"), "--jobs", "1")
    assert result.exit_code == 2 and "has no report value (test_acc is NaN)" in result.output, result.output
    assert not (tmp_path / "out" / "leaderboard.md").exists()


@pytest.mark.parametrize("kwargs, message", [
    ({"strategies": ["nope"]}, "unknown strategy 'nope'; valid: .*test-walk"),
    ({"budget": 30}, "too small for one query: the cheapest query costs 34.3"),
    ({"default_fidelity": 50}, "fidelity 50 epochs is not available .*12, 200"),
    ({"strategies": ["test-proxy"]}, "needs a proxy"),
    ({"budget": "ten"}, "cannot read budget"),
    ({"seeds": [-1]}, "non-negative"),
])
def test_bad_settings_fail_before_any_work(paper, tmp_path, kwargs, message):
    settings = {"strategies": ["test-walk"], "seeds": 2, "budget": 5000, "default_fidelity": 12} | kwargs
    with pytest.raises(UserInputError, match=message):
        run(paper, out_dir=tmp_path, **settings)
    assert not (tmp_path / "runs").exists()


def test_proxy_reaches_the_strategy_as_a_lookup(paper, table):
    proxy = table.column("naswot_score")
    runs = run(paper, ["test-proxy"], [0], "3q", default_fidelity=12, proxy=proxy, jobs=1)
    assert runs.get("test-proxy", 0).queries == 3


def test_budget_parsing():
    assert Budget.parse("12000") == Budget(12000, "seconds") == Budget.parse("1.2e4s")
    assert Budget.parse("100q") == Budget(100, "queries")
    with pytest.raises(UserInputError, match="whole number"):
        Budget.parse("2.5q")


def invoke(*args: str):
    return CliRunner().invoke(cli, ["benchmark", *args])


@pytest.mark.parametrize("args, message", [
    (["--preset", "nope"], "unknown preset 'nope'; valid: nb201-paper, default"),
    (["--strategies", "random,nope"], "unknown strategy 'nope'; valid: "),
    (["--strategies", "test-walk", "--budget", "10"], "too small for one query"),
    (["--strategies", "test-walk", "--budget", "1h"], "cannot read budget '1h'"),
    (["--strategies", "test-walk", "--budget", "1e99q"], "above the cap of 156,250 queries"),
    (["--strategies", "test-proxy", "--proxy", "proxy_nope"], "proxy 'proxy_nope': .* has no such per-cell column"),
])
def test_cli_errors_are_one_line(args, message, tmp_path):
    result = invoke(*args, "--out", str(tmp_path / "out"))
    assert result.exit_code == 2, result.output
    assert "error: " in result.output and len(result.output.strip().splitlines()) <= 2
    assert re.search(message, result.output)
    assert not [p for p in (tmp_path / "out" / "runs").glob("**/*") if p.name != ".lock"]  # nothing but the lock


def test_cli_table_without_the_search_metric(table, tmp_path):
    small = ns.Table(space="nb201", dataset="cifar10", archs=table.archs, seeds=table.seeds, epochs=table.epochs,
                     columns={k: table.columns[k] for k in ("train_seconds_per_epoch", "eval_seconds")},
                     metrics={"test_acc": table.metrics["test_acc"]})
    path = small.save(tmp_path / "no-valid.h5")
    result = invoke("--strategies", "test-walk", "--table", str(path), "--out", str(tmp_path / "out"))
    assert result.exit_code == 2 and "has no metric 'valid_acc'" in result.output


@pytest.mark.slow
def test_cli_runs_writes_and_resumes(tmp_path):
    out = tmp_path / "bench"
    args = ["--strategies", "test-walk,test-mf", "--seeds", "3", "--budget", "20q", "--preset", "default",
            "--out", str(out), "--jobs", "1", "--json"]
    first = invoke(*args)
    assert first.exit_code == 0, first.output
    board = json.loads(first.output[first.output.index("{"):])["leaderboard"]
    assert {row["strategy"] for row in board} == {"test-walk", "test-mf"}
    for name in ("leaderboard.csv", "leaderboard.md", "leaderboard.json", "plots/regret_time.png",
                 "plots/regret_time.svg", "runs/test-mf/seed-2.npz"):
        assert (out / name).is_file(), name
    (out / "runs" / "test-walk" / "seed-1.npz").unlink()
    stamp = (out / "runs" / "test-mf" / "seed-0.npz").stat().st_mtime_ns
    again = invoke(*args, "--resume")
    assert again.exit_code == 0, again.output
    assert (out / "runs" / "test-walk" / "seed-1.npz").is_file()
    assert (out / "runs" / "test-mf" / "seed-0.npz").stat().st_mtime_ns == stamp  # not rerun
    header = json.loads((out / "leaderboard.json").read_text())["header"]
    assert header["protocol"]["preset"] == "default" and "hardware" not in header
    assert json.loads((out / "environment.json").read_text())["hardware"]["cores"] >= 1


@pytest.mark.slow
def test_cli_proxy_option_picks_the_column_the_strategy_ranks_by(tmp_path):
    out = tmp_path / "bench"
    result = invoke("--strategies", "test-proxy", "--seeds", "1", "--budget", "3q", "--proxy", "params_m",
                    "--out", str(out), "--jobs", "1", "--json")
    assert result.exit_code == 0, result.output
    header = json.loads((out / "leaderboard.json").read_text())["header"]
    assert header["protocol"]["proxy_column"] == "params_m" and "--proxy params_m" in header["command"]


@pytest.fixture(scope="module")
def surrogate_file(table, tmp_path_factory):
    cells = np.random.default_rng(0).choice(table.archs, 80, replace=False)
    fitted = Surrogate(model="xgb", target="valid_acc,test_acc", seed=0).fit(table, cells)
    return fitted.save(tmp_path_factory.mktemp("surrogate") / "nb201.surrogate")


@pytest.mark.parametrize("mode", ["surrogate", "hybrid"])
@pytest.mark.slow
def test_cli_runs_on_a_surrogate_and_records_it(surrogate_file, table, mode, tmp_path):
    out = tmp_path / mode
    result = invoke("--strategies", "test-walk", "--seeds", "2", "--budget", "5q", "--surrogate", str(surrogate_file),
                    *(["--hybrid"] if mode == "hybrid" else []), "--out", str(out), "--jobs", "1", "--json")
    assert result.exit_code == 0, result.output
    header = json.loads((out / "leaderboard.json").read_text())["header"]
    described = header["protocol"]["benchmark"]
    assert described["kind"] == mode and described["surrogate"]["train_cells"] == 80
    # the table it is priced on names the dataset (it was missing: "# Leaderboard: , preset ...")
    assert described["dataset"] == "cifar10" and described["dataset_sha256"] == table.dataset_sha256
    assert (out / "leaderboard.md").read_text().startswith("# Leaderboard: cifar10, preset")
    assert f"--surrogate {surrogate_file}" in header["command"]
    assert [r.queries for r in load_runs(out)] == [5, 5]


@pytest.mark.parametrize("args, message", [
    (["--hybrid"], "a hybrid benchmark needs a surrogate"),
    (["--surrogate", "no-such.surrogate"], "surrogate file not found: no-such.surrogate"),
    (["--table", "nb201-cifar100", "--preset", "default"], "was fitted on table nb201-cifar10"),
])
def test_cli_surrogate_errors_are_one_line(surrogate_file, args, message, tmp_path):
    if "--surrogate" not in args and "--hybrid" not in args:
        args = [*args, "--surrogate", str(surrogate_file)]
    result = invoke("--strategies", "test-walk", *args, "--out", str(tmp_path / "out"))
    assert result.exit_code == 2 and len(result.output.strip().splitlines()) <= 2, result.output
    assert message in result.output


def test_presets_match_the_documented_protocols(table):
    paper = get_preset("nb201-paper")
    assert (paper.search_metric, paper.search_fidelity, paper.report_metric, paper.report_epoch) == (
        "valid_acc", 12, "test_acc", 200)
    assert paper.budget == Budget(12000) and paper.seeds == 500
    default = get_preset("default")
    assert default.multi_fidelities == (12, 200) and 25 <= default.seeds <= 50
    assert paper.benchmark(table).fidelities == (12,)  # the epochs the preset searches
