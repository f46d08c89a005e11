"""Declared hyperparameters, spec strings (NAME[:KEY=VALUE...]) and canonical labels, the recommend hook in the
runner, NAS-Bench-201's REINFORCE settings, hpbandster's BOHB schedule, and degenerate multi-fidelity settings."""

from __future__ import annotations

import inspect
import json
import tracemalloc

import numpy as np
import pytest
from click.testing import CliRunner

from nasbench_suite.benchmark import TableBenchmark
from nasbench_suite.cli import cli
from nasbench_suite.cli import commands  # noqa: F401  (registers the commands)
from nasbench_suite.errors import UserInputError
from nasbench_suite.multiobjective.strategies import MO_STRATEGIES
from nasbench_suite.runner import Budget, run, run_one
from nasbench_suite.strategies import (
    FAMILIES,
    STRATEGIES,
    Context,
    Strategy,
    StrategySpec,
    Trial,
    make_strategy,
    register,
)
from nasbench_suite.strategies._library import LibraryStrategy
from nasbench_suite.strategies.base import CELLS
from nasbench_suite.strategies.hyperband import MAX_RUNGS, hpbandster_budgets

# the package's own strategies, less those run by an optional library (tests/test_library_adapters.py tests them)
PACKAGED = sorted(n for n, c in STRATEGIES.items()
                  if c.__module__.startswith("nasbench_suite.") and not issubclass(c, LibraryStrategy))


def context(fidelities=(12, 200), default_fidelity=None, seed=0) -> Context:
    return Context(rng=np.random.default_rng(seed), fidelities=fidelities, default_fidelity=default_fidelity,
                   proxy=lambda arch: float(sum(arch)))


@pytest.mark.parametrize("name", PACKAGED)
def test_every_strategy_declares_family_paper_and_valid_defaults(name: str) -> None:
    """One way to declare settings: class-level Hyperparameters, no keyword arguments of __init__'s own."""
    cls = STRATEGIES[name]
    assert cls.family in FAMILIES and cls.paper
    assert set(inspect.signature(cls.__init__).parameters) == {"self", "context", "params"}
    for h in cls.declared().values():
        assert h.coerce(h.default, name) == h.default or h.default is None
    strategy = cls(context())
    assert set(strategy.params) == set(cls.declared())


def test_spec_parses_types_and_labels_only_non_default_settings_sorted() -> None:
    spec = StrategySpec.parse(" rea:sample_size=5:population_size=20 ")
    assert spec.params == {"sample_size": 5, "population_size": 20}
    assert spec.label == "rea:population_size=20:sample_size=5"
    assert StrategySpec.parse("reinforce:lr=0.001:momentum=0.9").label == "reinforce"  # the defaults
    assert StrategySpec.parse("random:unique=false").params == {"unique": False}
    assert StrategySpec.parse("hyperband:eta=2.0").label == "hyperband:eta=2"
    for text in ("reinforce:lr=0.01", "bohb:num_samples=64:schedule=hpbandster", "ga:mutation_rate=0.1"):
        label = StrategySpec.parse(text).label
        assert StrategySpec.parse(label).label == label


@pytest.mark.parametrize("text, pieces", [
    ("no-such", ["unknown strategy 'no-such'", "valid:", "reinforce"]),
    ("reinforce:learning_rate=0.1", ["unknown hyperparameters: learning_rate", "valid: lr, momentum, incumbent"]),
    ("reinforce:lr=fast", ["lr='fast' is invalid", "expected float in (0, inf)"]),
    ("reinforce:lr=0", ["expected float in (0, inf)"]),
    ("rea:population_size=2.5", ["expected int in [1, 15625]"]),
    ("bananas:predictor=svm", ["expected one of xgb, mlp, rf"]),
    ("reinforce:lr", ["has 'lr'", "expected NAME[:KEY=VALUE"]),
    ("reinforce:lr=0.1:lr=0.2", ["repeats 'lr'"]),
    ("optuna-tpe:sampler=tpe", ["not settable from a spec string"]),
])
def test_bad_specs_are_one_line_errors_naming_the_expected_form(text: str, pieces: list[str]) -> None:
    with pytest.raises(UserInputError) as error:
        make_strategy(text, context())
    message = str(error.value)
    assert "\n" not in message and all(piece in message for piece in pieces), message


@pytest.fixture(scope="module")
def paper(nb201_table) -> TableBenchmark:
    return TableBenchmark(nb201_table, "valid_acc", "test_acc", 200, "random")


def test_default_spec_is_the_plain_name_and_keeps_its_trajectory(paper: TableBenchmark) -> None:
    """Runs are keyed and seeded by the canonical label, so spelling out a default changes nothing."""
    plain = run_one(paper, "rea", 3, Budget(3000), 12, (12,))
    spelled = run_one(paper, "rea:population_size=10:sample_size=3", 3, Budget(3000), 12, (12,))
    other = run_one(paper, "rea:sample_size=5", 3, Budget(3000), 12, (12,))
    assert spelled.strategy == "rea" and plain.same_trajectory(spelled)
    assert other.strategy == "rea:sample_size=5" and not np.array_equal(other.arch, plain.arch)
    runs = run(paper, ["reinforce", "reinforce:lr=0.001", "reinforce:lr=0.01"], 1, 2000, default_fidelity=12,
               fidelities=(12,), jobs=1)
    assert [r.strategy for r in runs.runs] == ["reinforce", "reinforce:lr=0.01"]


class Fixed(Strategy):
    """Test strategy: walks through cells 0, 1, 2, ... but recommends cell #6111 (the table's best) throughout."""

    name = "test-recommends"
    family = "sampling"

    def __init__(self, context: Context, **params) -> None:
        super().__init__(context, **params)
        self.asked = 0

    def ask(self) -> Trial:
        self.asked += 1
        return self.trial(self.space.to_ops(self.asked))

    def tell(self, trial: Trial, value: float) -> None:
        pass

    def recommend(self):
        return self.space.to_ops(6111)


if Fixed.name not in STRATEGIES:
    register(Fixed)


def test_runner_reports_a_strategys_recommendation(paper: TableBenchmark) -> None:
    searched = run_one(paper, "test-recommends", 0, Budget.parse("5q"), 12, (12,))
    assert searched.incumbent.tolist() == [6111] * 5
    assert searched.reported.tolist() == pytest.approx([paper.report(6111)] * 5)
    assert 6111 not in searched.arch.tolist()


def test_reinforce_defaults_are_nas_bench_201s() -> None:
    """scripts-search/algos/REINFORCE.sh: --learning_rate 0.001 --EMA_momentum 0.9 (0.5 collapsed the policy)."""
    assert STRATEGIES["reinforce"].defaults() == {"lr": 0.001, "momentum": 0.9, "incumbent": "best"}


def test_reinforce_policy_incumbent_is_the_argmax_cell() -> None:
    strategy = make_strategy("reinforce:lr=0.05:incumbent=policy", context(seed=1))
    assert make_strategy("reinforce", context()).recommend() is None
    for _ in range(300):  # reward: number of edges with op 3
        trial = strategy.ask()
        strategy.tell(trial, float(sum(op == 3 for op in trial.arch)))
    assert strategy.recommend() == tuple(int(o) for o in strategy.logits.argmax(axis=1)) == (3,) * 6


def test_hpbandster_budgets_and_bracket_sizes() -> None:
    """hpbandster 0.7.4 with eta 3, budgets 12..200: s_max 2, budgets 22.2/66.7/200, brackets [9,3,1], [3,1], [3]."""
    assert hpbandster_budgets(12, 200, 3) == pytest.approx([200 / 9, 200 / 3, 200])
    strategy = make_strategy("bohb:schedule=hpbandster", context(fidelities=(12,), default_fidelity=12))
    plans = [strategy.bracket_plan(i) for i in range(4)]
    assert [sizes for _, sizes in plans] == [[9, 3, 1], [3, 1], [3], [9, 3, 1]]
    assert [len(budgets) for budgets, _ in plans] == [3, 2, 1, 3]


def test_hpbandster_schedule_asks_everything_at_the_real_fidelity_and_promotes_in_asked_order() -> None:
    strategy = make_strategy("bohb:schedule=hpbandster", context(fidelities=(12, 200), default_fidelity=12))
    value = {}
    trials = []
    for step in range(20):  # one full round of brackets: 13 + 4 + 3 trials
        trial = strategy.ask()
        trials.append(trial)
        value.setdefault(trial.arch, float((step * 7) % 11))  # a promoted cell keeps its 12-epoch value
        strategy.tell(trial, value[trial.arch])
        if step == 8:
            assert strategy.recommend() is None  # nothing at the largest budget yet
    assert {t.fidelity for t in trials} == {12}
    first = [t.arch for t in trials[:9]]
    top3 = sorted(range(9), key=lambda i: -value[first[i]])[:3]
    assert [t.arch for t in trials[9:12]] == [first[i] for i in sorted(top3)]  # asked order, not rank order
    assert trials[12].arch == max(trials[9:12], key=lambda t: value[t.arch]).arch
    best_at_max = max([trials[12], trials[16], *trials[17:20]], key=lambda t: value[t.arch])
    assert strategy.recommend() == best_at_max.arch


def test_hpbandster_densities_match_statsmodels() -> None:
    """The KDE of hpbandster's BOHB is statsmodels' KDEMultivariate, var_type 'u', normal-reference bandwidths
    clipped below at min_bandwidth: its Aitchison-Aitken kernel counts a column's distinct values as levels."""
    sm = pytest.importorskip("statsmodels.api")
    strategy = make_strategy("bohb:schedule=hpbandster", context(fidelities=(12,), default_fidelity=12))
    rng = np.random.default_rng(0)
    cells = rng.integers(5, size=(9, 6))
    cells[:, 0] = 2  # one level: statsmodels divides by zero there
    cells[:, 1] = cells[:, 1] % 2  # two levels
    kde = sm.nonparametric.KDEMultivariate(data=cells.astype(float), var_type="u" * 6, bw="normal_reference")
    bw = strategy._bandwidth(cells)
    assert bw == pytest.approx(np.clip(kde.bw, 0.3, None))
    kde.bw = bw
    for x in rng.integers(5, size=(20, 6)):
        x[0] = 2  # keep column 0 finite
        assert strategy._pdf(x, (cells, bw)) == pytest.approx(float(kde.pdf(x.astype(float))))


def test_degenerate_multi_fidelity_settings_say_why() -> None:
    single = context(fidelities=(12,), default_fidelity=12)
    assert "random search" in make_strategy("hyperband", single).degenerate()
    assert "random search" in make_strategy("sh", single).degenerate()
    assert "without successive halving" in make_strategy("bohb", single).degenerate()
    assert make_strategy("bohb:schedule=hpbandster", single).degenerate() is None
    assert all(make_strategy(name, context()).degenerate() is None for name in PACKAGED)


def test_strategies_command_lists_family_paper_and_hyperparameters() -> None:
    result = CliRunner().invoke(cli, ["strategies", "--json"])
    assert result.exit_code == 0, result.output
    rows = {row["name"]: row for row in json.loads(result.output)}
    assert set(PACKAGED) <= set(rows)
    reinforce = rows["reinforce"]
    assert reinforce["family"] == "RL" and "Williams" in reinforce["paper"]
    assert {"name": "lr", "default": 0.001, "valid": "float in (0, inf)"}.items() <= reinforce["hyperparameters"][0].items()
    text = CliRunner().invoke(cli, ["strategies"]).output
    assert "lr=0.001" in text and "schedule=suite" in text and "KEY=VALUE" in text


def test_nb201_paper_lists_valid_specs_of_the_papers_four_searchers() -> None:
    from nasbench_suite.runner import get_preset

    specs = [StrategySpec.parse(spec) for spec in get_preset("nb201-paper").strategies]
    assert [spec.name for spec in specs] == ["random", "rea", "reinforce", "bohb"]
    assert specs[3].params == {"schedule": "hpbandster"}
    single = context(fidelities=(12,), default_fidelity=12)
    assert all(make_strategy(spec, single).degenerate() is None for spec in specs)


FIDELITY_CHOICES = ("min_fidelity", "max_fidelity")  # pick one of the benchmark's own fidelities: allocate nothing


def _upper(interval: str) -> float:
    return float(interval[1:-1].split(",")[1])


def _counts(cls: type[Strategy]) -> list:
    """The settings that size something: every int one but the fidelity choices, and Hyperband's eta."""
    return [h for h in cls.declared().values()
            if (h.kind is int and h.name not in FIDELITY_CHOICES) or h.name == "eta"]


@pytest.mark.parametrize("cls", [*(STRATEGIES[n] for n in PACKAGED), *MO_STRATEGIES.values()], ids=lambda c: c.name)
def test_every_size_hyperparameter_has_a_finite_bound_within_the_space(cls: type[Strategy]) -> None:
    """Sizes were declared up to inf, so qlearning:replay_size=1e9 and bo:num_random=1e9 were valid and allocated
    7 and 45 GiB at the first query; every count is now at most the space's 15,625 cells."""
    for h in _counts(cls):
        assert h.interval is not None and _upper(h.interval) <= CELLS, f"{cls.name}:{h.name} in {h.interval}"


TOP_OF_RANGE = [f"{name}:{h.name}={_upper(h.interval):g}" for name in PACKAGED for h in _counts(STRATEGIES[name])
                if h.interval[-1] == "]"]


@pytest.mark.parametrize("spec", TOP_OF_RANGE)
def test_the_top_of_every_declared_size_runs_in_little_memory(spec: str, paper: TableBenchmark) -> None:
    """A declared range is a promise that its values run: each size at its upper bound searches 25 queries with
    under 200 MB of Python and numpy allocations (tracemalloc)."""
    tracemalloc.start()
    try:
        searched = run_one(paper, spec, 0, Budget.parse("25q"), 200, (12, 200), proxy=lambda arch: float(sum(arch)))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert len(searched.arch) == 25 and peak < 200e6, f"{peak / 1e6:.0f} MB"


@pytest.mark.parametrize("spec, bound", [("qlearning:replay_size=1e9", "expected int in [1, 10000]"),
                                         ("bo:num_random=1e9", f"expected int in [0, {CELLS}]"),
                                         ("rea:sample_size=1e9", f"expected int in [1, {CELLS}]"),
                                         ("bohb:schedule=hpbandster:eta=1.0001", f"expected at most {MAX_RUNGS}")])
def test_sizes_beyond_the_declared_range_are_refused_by_the_cli(spec: str, bound: str, tmp_path) -> None:
    """Were accepted and died allocating 7.45 GiB (replay_size) or 44.7 GiB (num_random) at the first query."""
    result = CliRunner().invoke(cli, ["benchmark", "--strategies", spec, "--seeds", "1", "--budget", "20q",
                                      "--out", str(tmp_path), "--jobs", "1"])
    error = [line for line in result.output.splitlines() if line.startswith("error: ")]
    assert result.exit_code == 2 and len(error) == 1 and bound in error[0], result.output
