"""Strategies run by optional libraries (Syne Tune, Nevergrad, SMAC3, pymoo) and the ConfigSpace export: reproducible runs that
leave numpy's global generator alone, one-line errors naming the extra to install, listing with library and version.
A test of an adapter whose library is not installed is skipped; the missing-extra errors are tested by blocking the
import (sys.modules[name] = None), so they run with or without the extras."""

from __future__ import annotations

import importlib.util
import json
import math
import subprocess
import sys

import numpy as np
import pytest
from click.testing import CliRunner

from nasbench_suite.cli import cli
from nasbench_suite.cli import commands  # noqa: F401  (registers the commands)
from nasbench_suite.errors import UserInputError
from nasbench_suite.multiobjective import make_mo_strategy
from nasbench_suite.runner import Experiment
from nasbench_suite.space import NB201
from nasbench_suite.space.configspace import arch_of, config_of, edge_names, to_configspace
from nasbench_suite.strategies import STRATEGIES, Context, get_strategy, make_strategy
from nasbench_suite.strategies._library import LibraryStrategy

LIBRARY = sorted(name for name, cls in STRATEGIES.items() if issubclass(cls, LibraryStrategy))
SLOW = ["smac-hpo", "synetune-bore"]  # a model fit per ask (0.2-0.5 s): short runs
FAST = [name for name in LIBRARY if name not in SLOW]


def installed(name: str) -> bool:
    return importlib.util.find_spec(get_strategy(name).module) is not None


def needs_library(name: str):
    return pytest.param(name, marks=pytest.mark.skipif(not installed(name), reason=f"{name}: library not installed"))


def run(spec: str, seed: int, queries: int = 40) -> list:
    """The trials of one run, telling a made-up value (NaN every 7th) and asking 5 before telling them (in reverse)."""
    strategy = make_strategy(spec, Context(rng=np.random.default_rng(seed)))
    trials = []
    while len(trials) < queries:
        batch = [strategy.ask() for _ in range(5)]
        for trial in reversed(batch):
            strategy.tell(trial, math.nan if len(trials) % 7 == 6 else float(np.dot(trial.arch, [3, 1, 4, 1, 5, 9])))
            trials.append(trial)
    return trials


def test_library_strategies_are_registered_with_library_module_and_extra():
    assert {"synetune-rea", "synetune-bore", "nevergrad-ngopt", "nevergrad-de", "nevergrad-1plus1",
            "smac-hpo"} <= set(LIBRARY)
    for name in LIBRARY:
        cls = get_strategy(name)
        assert cls.library and cls.module and cls.extra and cls.paper, name


@pytest.mark.parametrize("name", [needs_library(name) for name in FAST])
def test_a_run_is_bit_for_bit_reproducible_whatever_numpys_global_generator_holds(name):
    """Syne Tune's REA drew its first population from numpy's global generator (`sample_random_config` ignores its
    random_state), so the same seed gave other cells after another np.random.seed, and the run moved the caller's
    global stream; NGOpt draws from it too. Each library call now runs on a private global state."""
    np.random.seed(1)
    first = run(name, seed=0)
    np.random.seed(2)
    expected_next = np.random.random()
    np.random.seed(2)
    again = run(name, seed=0)
    assert again == first
    assert np.random.random() == expected_next  # the caller's global stream is where it was
    assert run(name, seed=1) != first
    assert all(len(t.arch) == 6 and all(type(op) is int and 0 <= op < 5 for op in t.arch) for t in first)
    assert {t.fidelity for t in first} == {200}


@pytest.mark.parametrize("name", [needs_library(name) for name in SLOW])
def test_model_based_library_strategies_reproduce_on_a_short_run(name):
    assert run(name, seed=0, queries=15) == run(name, seed=0, queries=15) != run(name, seed=1, queries=15)


@pytest.mark.parametrize("name", [needs_library("synetune-rea")])
def test_synetune_rea_tournament_keeps_the_best_told_cells(name):
    """After its population of 10 random cells Syne Tune's REA mutates one edge of a tournament winner: most children
    differ from some earlier cell in exactly one edge (the values are told as maximised, not minimised)."""
    trials = run(name, seed=0, queries=60)
    archs = [t.arch for t in trials]
    one_edge = [any(sum(a != b for a, b in zip(child, earlier)) == 1 for earlier in archs[:i])
                for i, child in enumerate(archs) if i >= 10]
    assert np.mean(one_edge) > 0.9
    score = [float(np.dot(a, [3, 1, 4, 1, 5, 9])) for a in archs]
    assert np.mean(score[30:]) > np.mean(score[:10])  # it climbs the told value


@pytest.mark.parametrize("name", LIBRARY)
def test_a_missing_library_is_one_line_naming_the_extra_to_install(name, monkeypatch):
    cls = get_strategy(name)
    monkeypatch.setitem(sys.modules, cls.module, None)
    with pytest.raises(UserInputError) as error:
        make_strategy(name, Context(rng=np.random.default_rng(0)))
    assert str(error.value) == (f"strategy {name!r} needs {cls.library}, which is not installed: "
                                f"pip install 'nasbench-suite[{cls.extra}]'")


def test_benchmark_with_a_missing_extra_exits_2_with_one_line(tmp_path):
    """Through the real console entry point in a fresh interpreter where syne_tune cannot be imported."""
    code = ("import sys; sys.modules['syne_tune'] = None; from nasbench_suite.cli.app import main; "
            "sys.argv[0] = 'nasbench-suite'; main()")
    proc = subprocess.run([sys.executable, "-c", code, "benchmark", "--strategies", "synetune-rea", "--seeds", "1",
                           "--budget", "5q", "--jobs", "1", "--out", str(tmp_path / "out")],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip().splitlines()[-1] == ("error: strategy 'synetune-rea' needs syne-tune, which is not "
                                                    "installed: pip install 'nasbench-suite[synetune]'")
    assert "Traceback" not in proc.stderr


def test_strategies_command_lists_library_and_installed_version(monkeypatch):
    from importlib.metadata import PackageNotFoundError, version

    def installed_version(cls) -> str | None:
        try:
            return version(cls.library)
        except PackageNotFoundError:
            return None

    rows = {row["name"]: row for row in json.loads(CliRunner().invoke(cli, ["strategies", "--json"]).output)}
    for name in LIBRARY:
        cls = get_strategy(name)
        assert (rows[name]["library"], rows[name]["library_version"], rows[name]["extra"]) == (
            cls.library, installed_version(cls), cls.extra)
    assert rows["rea"]["library"] is None
    monkeypatch.setattr(LibraryStrategy, "library_version", classmethod(lambda cls: None))
    text = CliRunner().invoke(cli, ["strategies"]).output
    assert "    library: nevergrad not installed: pip install 'nasbench-suite[nevergrad]'" in text


def test_leaderboard_environment_records_each_librarys_version():
    """A leaderboard with library rows says which version ran them (environment.json beside it)."""
    from nasbench_suite.report.write import environment

    software = environment()["software"]
    for name in LIBRARY:
        cls = get_strategy(name)
        assert software[cls.library] == (cls.library_version() or "not installed")


def test_default_strategy_list_leaves_library_strategies_out():
    """`benchmark` without --strategies runs every registered strategy: library ones are opt-in by name, so a plain
    run never needs an extra and the default leaderboard's protocol does not change when one is installed."""
    default = Experiment().strategies
    assert "rea" in default and "optuna-tpe" in default
    assert not set(LIBRARY) & {spec.split(":")[0] for spec in default}


@pytest.mark.skipif(not all(installed(n) for n in ("synetune-rea", "nevergrad-1plus1")), reason="extras missing")
def test_benchmark_runs_library_strategies_beside_ours(tmp_path):
    out = tmp_path / "lib"
    result = CliRunner().invoke(cli, ["benchmark", "--strategies", "rea,synetune-rea,nevergrad-1plus1", "--seeds", "2",
                                      "--budget", "20q", "--jobs", "1", "--out", str(out), "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads((out / "leaderboard.json").read_text())["leaderboard"]
    assert {row["strategy"] for row in rows} == {"rea", "synetune-rea", "nevergrad-1plus1"}


def test_configspace_names_each_edge_with_the_op_names_and_roundtrips_every_cell():
    assert edge_names() == ["edge01", "edge02", "edge12", "edge03", "edge13", "edge23"]
    for index in range(NB201.size):
        assert NB201.to_index(NB201.to_str(arch_of(config_of(index)))) == index


def test_configspace_export_samples_configs_that_are_cells():
    ConfigSpace = pytest.importorskip("ConfigSpace")
    space = to_configspace(seed=0)
    assert sorted(space) == sorted(edge_names())
    for edge in edge_names():
        assert isinstance(space[edge], ConfigSpace.CategoricalHyperparameter)
        assert tuple(space[edge].choices) == NB201.ops
    configs = space.sample_configuration(50)
    assert [dict(c) for c in configs] == [dict(c) for c in to_configspace(seed=0).sample_configuration(50)]
    for config in configs:
        index = NB201.to_index(NB201.to_str(arch_of(config)))
        assert config_of(index) == dict(config)


def test_configspace_errors_name_the_edge_and_the_expected_form(monkeypatch):
    expected = ("expected {edge01, edge02, edge12, edge03, edge13, edge23} each one of none, skip_connect, "
                "nor_conv_1x1, nor_conv_3x3, avg_pool_3x3")
    with pytest.raises(UserInputError) as error:
        arch_of({"edge01": "conv"})
    assert str(error.value) == f"configuration has op 'conv' for edge 'edge01'; {expected}"
    with pytest.raises(UserInputError) as error:
        arch_of({"edge01": "none"})
    assert str(error.value) == f"configuration lacks edge 'edge02'; {expected}"
    monkeypatch.setitem(sys.modules, "ConfigSpace", None)
    with pytest.raises(UserInputError, match=r"pip install 'nasbench-suite\[configspace\]'$"):
        to_configspace()


def mo_run(seed: int, queries: int = 60) -> list:
    """pymoo-nsga2's trials told two made-up objectives (both NaN every 7th cell)."""
    strategy = make_mo_strategy("pymoo-nsga2", Context(rng=np.random.default_rng(seed)), 2)
    trials = []
    for step in range(queries):
        trial = strategy.ask()
        value = np.array([sum(trial.arch), -trial.arch[0] * trial.arch[5]], float)
        strategy.tell(trial, np.full(2, np.nan) if step % 7 == 6 else value)
        trials.append(trial)
    return trials


@pytest.mark.skipif(importlib.util.find_spec("pymoo") is None, reason="pymoo not installed")
def test_pymoo_nsga2_reproduces_bit_for_bit_and_evolves_generations():
    np.random.seed(1)
    first = mo_run(0)
    np.random.seed(2)
    assert mo_run(0) == first and mo_run(1) != first
    assert len(set(first[:20])) == 20  # a generation holds no duplicate
    strategy = make_mo_strategy("pymoo-nsga2:population_size=4", Context(rng=np.random.default_rng(0)), 2)
    generation = [strategy.ask() for _ in range(4)]
    extra = strategy.ask()  # the generation is not told yet: a uniform filler cell pymoo never sees
    for trial in [extra, *reversed(generation)]:
        strategy.tell(trial, np.array([1.0, 2.0]))
    assert strategy.algorithm.n_gen == 2 and strategy.generation is None


def test_pymoo_missing_is_one_line_naming_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "pymoo", None)
    with pytest.raises(UserInputError) as error:
        make_mo_strategy("pymoo-nsga2", Context(rng=np.random.default_rng(0)), 2)
    assert str(error.value) == ("strategy 'pymoo-nsga2' needs pymoo, which is not installed: "
                                "pip install 'nasbench-suite[pymoo]'")
