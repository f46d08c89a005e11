"""Hardware-aware multi-objective benchmarking: fronts, hypervolume, IGD+, strategies, runs, presets, CLI."""

import itertools

import numpy as np
import pytest
from click.testing import CliRunner

from nasbench_suite import jsonio
from nasbench_suite.cli.app import cli
from nasbench_suite.cli import commands  # noqa: F401  (registers hw-benchmark)
from nasbench_suite.errors import UserInputError
from nasbench_suite.multiobjective import (MO_STRATEGIES, REFERENCE, HWProblem, Objective, attainment,
                                           get_hw_preset, hypervolume, igd_plus, make_mo_strategy, pareto_mask,
                                           run_all, run_constrained, run_pareto)
from nasbench_suite.runner import Budget
from nasbench_suite.strategies import Context


def brute_front(points):
    """Rows no other row dominates, by checking every pair."""
    return np.array([not any(np.all(q <= p) and np.any(q < p) for q in points) for p in points])


def brute_hypervolume(points, reference):
    """Exact volume by a grid on all distinct coordinates: a grid box counts if a point dominates its low corner."""
    points = points[np.all(points < reference, axis=1)]
    axes = [np.unique(np.append(points[:, d], reference[d])) for d in range(points.shape[1])]
    volume = 0.0
    for box in itertools.product(*(range(len(a) - 1) for a in axes)):
        low = np.array([a[i] for a, i in zip(axes, box)])
        if np.any(np.all(points <= low, axis=1)):
            volume += np.prod([a[i + 1] - a[i] for a, i in zip(axes, box)])
    return volume


@pytest.mark.parametrize("k", [2, 3])
def test_pareto_mask_matches_brute_force_with_ties(k):
    rng = np.random.default_rng(k)
    for _ in range(20):
        points = rng.integers(0, 6, size=(40, k)).astype(float)  # many ties and duplicates
        points[rng.integers(40)] = np.nan  # a NaN row is never on the front
        mask = pareto_mask(points)
        finite = np.isfinite(points).all(axis=1)
        assert not mask[~finite].any()
        np.testing.assert_array_equal(mask[finite], brute_front(points[finite]))


@pytest.mark.parametrize("k", [2, 3])
def test_hypervolume_matches_grid_brute_force(k):
    rng = np.random.default_rng(10 + k)
    reference = np.full(k, REFERENCE)
    for n in (1, 2, 5, 12):
        for _ in range(10):
            points = rng.random((n, k)) * 1.3  # some beyond the reference, some dominated
            assert hypervolume(points, REFERENCE) == pytest.approx(brute_hypervolume(points, reference), abs=1e-12)
    assert hypervolume(np.empty((0, k)), REFERENCE) == 0.0


def test_hypervolume_matches_pymoo():
    hv_module = pytest.importorskip("pymoo.indicators.hv")
    rng = np.random.default_rng(3)
    for k in (2, 3):
        for _ in range(10):
            points = rng.random((30, k))
            expected = hv_module.HV(ref_point=np.full(k, REFERENCE))(points)
            assert hypervolume(points, REFERENCE) == pytest.approx(expected, rel=1e-12)


def test_hypervolume_refuses_four_objectives():
    with pytest.raises(ValueError, match="2 or 3 objectives"):
        hypervolume(np.zeros((2, 4)), REFERENCE)


def test_igd_plus_counts_only_inferiority_and_matches_pymoo():
    front = np.array([[0.0, 1.0], [1.0, 0.0]])
    assert igd_plus(front, front) == 0.0
    assert igd_plus(np.array([[1.0, 1.0]]), front) == pytest.approx(1.0)  # worse by 1 in one objective each
    assert igd_plus(np.array([[-5.0, -5.0]]), front) == 0.0  # better than the front: no penalty (IGD would charge)
    assert igd_plus(np.empty((0, 2)), front) == np.inf
    igd = pytest.importorskip("pymoo.indicators.igd_plus")
    rng = np.random.default_rng(4)
    found, ref = rng.random((15, 2)), rng.random((25, 2))
    assert igd_plus(found, ref) == pytest.approx(igd.IGDPlus(ref)(found), rel=1e-12)


@pytest.mark.parametrize("found, expected", [
    # z=(0,3), (1,2): found; (2,1): (1,2) is worse by 1 in y; (3,0): (1,2) or (2.5,2) worse by 2 in y
    ([[0.0, 3.0], [1.0, 2.0], [2.5, 2.0]], (0 + 0 + 1 + 2) / 4),
    # nearest in the IGD+ sense: (0.5,2.5) for the first three front points (0.5, 0.5, 1.5), (4,-1) for (3,0): 1
    ([[0.5, 2.5], [4.0, -1.0]], (0.5 + 0.5 + 1.5 + 1.0) / 4),
    ([[1.0, 3.0]], (1 + 1 + 2 + 3) / 4),  # worse than the front everywhere it is compared
], ids=["two-of-four", "none-between", "one-dominated"])
def test_igd_plus_by_hand_on_fronts_found_in_part(found, expected):
    """IGD+ = mean over the true front's points z of min over found points a of ||max(a - z, 0)||, by hand."""
    front = np.array([[0.0, 3.0], [1.0, 2.0], [2.0, 1.0], [3.0, 0.0]])
    assert igd_plus(np.array(found), front) == pytest.approx(expected, rel=1e-12)


def test_igd_plus_by_hand_in_three_objectives():
    front = np.eye(3)[::-1]  # (0,0,1), (0,1,0), (1,0,0)
    found = np.array([[0.0, 0.0, 1.0], [0.5, 0.5, 0.5]])  # the first front point, and one worse by 0.5 in two
    assert igd_plus(found, front) == pytest.approx((0 + 2 * np.sqrt(0.5)) / 3, rel=1e-12)


def test_attainment_is_the_fraction_of_front_points_found():
    front = np.array([[0.0, 3.0], [1.0, 2.0], [2.0, 1.0], [3.0, 0.0]])
    assert attainment(front[[0, 2]], front) == 0.5
    assert attainment(np.array([[1.5, 1.5]]), front) == 0.0
    assert attainment(np.empty((0, 2)), front) == 0.0


def test_objectives_parse_directions_and_name_valid_columns(nb201_table):
    assert Objective.parse("valid_acc@12", nb201_table) == Objective("valid_acc", 12, True)
    assert Objective.parse("latency_fpga_ms", nb201_table) == Objective("latency_fpga_ms", None, False)
    assert Objective.parse("params_m:max", nb201_table).maximize
    for bad, expected in (("latency_nope_ms", "latency_pixel3_ms"), ("valid_acc@7", "epochs 12, 200"),
                          ("params_m:up", "max or min"), ("params_m@200", "params_m")):
        with pytest.raises(UserInputError, match=expected) as info:
            Objective.parse(bad, nb201_table)
        assert "\n" not in str(info.value)


@pytest.fixture(scope="module")
def pareto_problem(nb201_table):
    return HWProblem(nb201_table, get_hw_preset("hw-pareto"), "nb201-cifar10")


@pytest.fixture(scope="module")
def constrained_problem(nb201_table):
    return HWProblem(nb201_table, get_hw_preset("hw-constrained").with_device("latency_fpga_ms"), "nb201-cifar10")


def test_true_front_is_exact_on_the_whole_table(pareto_problem):
    points, front = pareto_problem.points, pareto_problem.front_cells
    valid = np.flatnonzero(pareto_problem.valid)
    assert len(valid) == 15625
    f = points[front]
    # no cell dominates a front cell, and every other cell is dominated by or equal to a front cell
    dominated = (np.all(points[valid][:, None] <= f[None], axis=2) & np.any(points[valid][:, None] < f[None], axis=2))
    assert not dominated.any()
    rest = np.setdiff1d(valid, front)
    covered = np.all(f[None] <= points[rest][:, None], axis=2).any(axis=1)
    assert covered.all()
    assert np.allclose(f.min(axis=0), 0) and np.allclose(f.max(axis=0), 1)  # normalised: ideal 0, nadir 1
    assert pareto_problem.true_hv == pytest.approx(hypervolume(f, REFERENCE))


@pytest.mark.parametrize("name", list(MO_STRATEGIES))
def test_mo_strategy_ask_tell_and_seeding(name, pareto_problem):
    context = Context(rng=np.random.default_rng(0), fidelities=(200,))
    strategy = make_mo_strategy(name, context, 2)
    for step in range(25):
        trial = strategy.ask()
        assert len(trial.arch) == 6 and trial.fidelity == 200
        strategy.tell(trial, np.array([np.nan, np.nan]) if step == 3 else np.array([-step % 7, step % 5], float))
    budget = Budget(40, "queries")
    first, again = (run_pareto(pareto_problem, name, 7, budget) for _ in range(2))
    assert first.run.same_trajectory(again.run) and np.array_equal(first.found, again.found)
    other = run_pareto(pareto_problem, name, 8, budget)
    assert not np.array_equal(first.run.arch, other.run.arch)


def test_pareto_run_scores_the_non_dominated_seen_set(pareto_problem):
    result = run_pareto(pareto_problem, "random", 0, Budget(60_000))
    run = result.run
    assert run.elapsed[-1] <= 60_000
    seen = np.column_stack([-run.seen, pareto_problem.hardware[run.arch, 0]])
    expected = np.unique(run.arch[pareto_mask(seen)])
    np.testing.assert_array_equal(result.found, expected)
    assert run.final == pytest.approx(pareto_problem.score(result.found))
    assert 0 < run.final <= pareto_problem.true_hv


def test_unknown_mo_strategy_and_bad_spec_are_one_line_errors():
    context = Context(rng=np.random.default_rng(0))
    for spec, expected in (("nope", "valid: random, nsga2"), ("nsga2:population_size", "expected NAME"),
                           ("nsga2:population_size=1", r"\[2, 15625\]")):
        with pytest.raises(UserInputError, match=expected):
            make_mo_strategy(spec, context, 2)


@pytest.mark.parametrize("strategy", ["random", "rea", "bo"])
def test_constrained_incumbent_is_feasible_and_regret_non_negative(strategy, constrained_problem):
    result = run_constrained(constrained_problem, strategy, 0, Budget(60_000))
    run, ref = result.run, constrained_problem.reference()
    assert constrained_problem.feasible[run.arch].all()  # latency is free: infeasible cells are never trained
    assert constrained_problem.feasible[run.incumbent[run.incumbent >= 0]].all()
    assert ref["optimum"] - run.final >= 0
    assert result.asks >= result.feasible_asks == run.queries
    best = constrained_problem.best_feasible
    assert constrained_problem.hardware[best, 0] <= constrained_problem.limit
    assert run_constrained(constrained_problem, strategy, 0, Budget(60_000)).run.same_trajectory(run)


def test_constrained_without_free_hardware_trains_and_fails_infeasible_cells(nb201_table):
    preset = get_hw_preset("hw-constrained").with_device("latency_fpga_ms")
    from dataclasses import replace
    problem = HWProblem(nb201_table, replace(preset, hardware_free=False), "nb201-cifar10")
    run = run_constrained(problem, "random", 0, Budget(100_000)).run
    infeasible = ~problem.feasible[run.arch]
    assert infeasible.any() and np.isnan(run.seen[infeasible]).all()  # charged, told as failed
    assert (run.cost[infeasible] > 0).all()
    assert problem.feasible[run.incumbent[run.incumbent >= 0]].all()


@pytest.mark.parametrize("hardware_free", [True, False], ids=["latency-known", "latency-after-training"])
def test_constrained_local_search_climbs_past_infeasible_neighbours_and_never_keeps_one(nb201_table, hardware_free):
    """Infeasible cells are told as failed runs (NaN), often before a better feasible neighbour: local search must
    rank them last and climb (replayed here from its asks and told values), and the incumbent is the best feasible
    value seen so far (a failed run never is)."""
    from dataclasses import replace

    from nasbench_suite.space import NB201
    from nasbench_suite.strategies import StrategySpec, make_strategy
    from nasbench_suite.strategies._common import fitness

    preset = replace(get_hw_preset("hw-constrained").with_device("latency_fpga_ms"), hardware_free=hardware_free)
    problem = HWProblem(nb201_table, preset, "nb201-cifar10")
    told: list[tuple[tuple, float]] = []
    original = make_strategy

    def spying(spec, context):  # records every tell, the free rejections included
        strategy = original(spec, context)
        tell = strategy.tell
        strategy.tell = lambda trial, value: (told.append((trial.arch, value)), tell(trial, value))[1]
        return strategy

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("nasbench_suite.multiobjective.simulate.make_strategy", spying)
        run = run_constrained(problem, StrategySpec.parse("local-search").label, 0, Budget(300, "queries")).run
    values = dict(told)
    position, climbs_past_failures = 0, 0
    while position < len(told):
        current = told[position][0]  # a (re)start cell
        position += 1
        while True:
            neighbourhood = NB201.neighbours(current)
            fresh = [n for n in neighbourhood if n not in {a for a, _ in told[:position]}]
            asked = [a for a, _ in told[position:position + len(fresh)]]
            assert asked == fresh[:len(asked)]  # the unasked neighbourhood, in order
            position += len(fresh)
            if position > len(told):
                break  # the budget ended inside this neighbourhood
            best = max(neighbourhood, key=lambda n: fitness(values[n]))
            if fitness(values[best]) <= fitness(values[current]):
                break  # a local optimum: restart
            climbs_past_failures += any(np.isnan(values[n]) for n in neighbourhood[:neighbourhood.index(best)])
            current = best
    assert climbs_past_failures >= 3
    seen = np.where(problem.feasible[run.arch], run.seen, np.nan)
    best_so_far = [run.arch[int(np.nanargmax(seen[:q + 1]))] if np.isfinite(seen[:q + 1]).any() else -1
                   for q in range(run.queries)]
    np.testing.assert_array_equal(run.incumbent, best_so_far)


def test_run_all_same_results_for_any_number_of_jobs(pareto_problem):
    budget = Budget(20, "queries")
    one, _ = run_all(pareto_problem, ["random", "mo-rea"], 2, budget, jobs=1)
    two, _ = run_all(pareto_problem, ["random", "mo-rea"], 2, budget, jobs=2)
    assert all(a.same_trajectory(b) for a, b in zip(one, two))


def invoke(*args):
    return CliRunner().invoke(cli, list(args))


def test_cli_device_metric_and_preset_errors_are_one_line(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the default --out is relative: never the checkout's committed results/hw
    result = invoke("hw-benchmark", "--device-metric", "latency_bogus_ms")
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert lines[-1].startswith("error: --device-metric 'latency_bogus_ms'") and "latency_fpga_ms" in lines[-1]
    result = invoke("hw-benchmark", "--preset", "hw-nope")
    assert result.exit_code == 2 and "valid: hw-pareto, hw-constrained" in result.output
    result = invoke("hw-benchmark", "--budget", "10", "--seeds", "1", "--strategies", "random")
    assert result.exit_code == 2 and "too small for one query" in result.output


@pytest.mark.slow
def test_cli_writes_strict_json_leaderboard_and_reproducible_plots(tmp_path):
    outputs = []
    for name in ("a", "b"):
        out = tmp_path / name
        result = invoke("hw-benchmark", "--preset", "hw-pareto", "--device-metric", "latency_eyeriss_ms",
                        "--strategies", "random,pls,mo-rea", "--seeds", "3", "--budget", "15q", "--jobs", "1",
                        "--out", str(out), "--json")
        assert result.exit_code == 0, result.output
        data = jsonio.loads(result.output[result.output.index("{"):])
        assert [row["strategy"] for row in data["leaderboard"]] and data["reference"]["front_cells"] > 0
        jsonio.loads((out / "leaderboard.json").read_text())  # strict: inf IGD+ etc. written as null
        outputs.append(out)
    for path in sorted((outputs[0] / "plots").iterdir()):
        assert path.read_bytes() == (outputs[1] / "plots" / path.name).read_bytes(), path.name
    assert {p.name for p in (outputs[0] / "plots").iterdir()} >= {"fronts.png", "fronts.svg", "hv_regret_time.svg"}


def test_cli_constrained_leaderboard(tmp_path):
    result = invoke("hw-benchmark", "--preset", "hw-constrained", "--device-metric", "latency_1080ti_1_ms",
                    "--strategies", "random,rea,bo", "--seeds", "3", "--budget", "20000", "--jobs", "1",
                    "--out", str(tmp_path), "--json")
    assert result.exit_code == 0, result.output
    data = jsonio.loads(result.output[result.output.index("{"):])
    rows = {row["strategy"]: row for row in data["leaderboard"]}
    assert set(rows) == {"random", "rea", "bo"}
    assert all(0 <= row["feasible_ask_rate"] <= 1 and row["regret_mean"] >= 0 for row in rows.values())
    assert (tmp_path / "plots" / "devices.svg").is_file() and (tmp_path / "leaderboard.md").is_file()


def test_cli_hw_front_is_the_exact_front_for_any_objective_set(nb201_table):
    result = invoke("hw-front", "test_acc@200,latency_fpga_ms,params_m", "--json")
    assert result.exit_code == 0, result.output
    data = jsonio.loads(result.output)
    objectives = [Objective.parse(o, nb201_table) for o in ("test_acc@200", "latency_fpga_ms", "params_m")]
    points = np.stack([(-1 if o.maximize else 1) * o.values(nb201_table) for o in objectives], axis=1)
    front = sorted(row["index"] for row in data["front"])
    # every front cell: nothing dominates it; every other cell: some front cell is no worse everywhere
    f = points[front]
    assert not (np.all(points[:, None] <= f[None], axis=2) & np.any(points[:, None] < f[None], axis=2)).any()
    assert np.all(f[None] <= points[:, None], axis=2).any(axis=1).all()
    assert invoke("hw-front", "test_acc@200").exit_code == 2


def test_three_objective_pareto_run_and_extra_objective_errors(nb201_table):
    problem = HWProblem(nb201_table, get_hw_preset("hw-pareto"), "nb201-cifar10",
                        [Objective.parse("params_m", nb201_table)])
    result = run_pareto(problem, "parego", 0, Budget(30, "queries"))
    assert result.run.final == pytest.approx(hypervolume(problem.points[result.found], REFERENCE))
    assert result.run.final > 0 and problem.points.shape[1] == 3
    for args, expected in ((("--extra-objectives", "params_m,flops_m"), "at most one"),
                           (("--preset", "hw-constrained", "--extra-objectives", "params_m"), "takes none")):
        result = invoke("hw-benchmark", *args)
        assert result.exit_code == 2 and expected in result.output


def test_objectives_of_a_partial_table_are_placed_by_cell_index():
    # a 200-cell table: metric values must land on their cells' official indices, as per-cell columns do
    from nasbench_suite import open_table
    table = open_table("cifar10-jpeg75-micro")
    values = Objective.parse("test_acc", table).values(table)
    assert values.shape == (15625,) and np.isfinite(values).sum() == len(table.archs)
    np.testing.assert_array_equal(values[table.archs], table.values("test_acc", table.epochs_of("test_acc")[-1]))
    result = invoke("hw-front", "test_acc,params_m", "--table", "cifar10-jpeg75-micro", "--json")
    assert result.exit_code == 0, result.output
    assert {row["index"] for row in jsonio.loads(result.output)["front"]} <= set(table.archs.tolist())


def test_cli_hardware_after_training_charges_infeasible_cells(tmp_path):
    result = invoke("hw-benchmark", "--preset", "hw-constrained", "--device-metric", "latency_fpga_ms",
                    "--strategies", "random", "--seeds", "2", "--budget", "15q", "--jobs", "1", "--out", str(tmp_path),
                    "--hardware-after-training", "--json")
    assert result.exit_code == 0, result.output
    row = jsonio.loads(result.output[result.output.index("{"):])["leaderboard"][0]
    assert row["queries_mean"] == row["asks_mean"] == 15  # nothing rejected for free: every ask is trained
    assert row["feasible_ask_rate"] < 1
    assert "--hardware-after-training" in (tmp_path / "leaderboard.md").read_text()
