"""Strategies run by optional libraries (Syne Tune, Nevergrad, SMAC3, pymoo) and the ConfigSpace export: reproducible
runs that leave numpy's global generator alone, one-line errors naming the extra to install, listing with library and
version.
A test of an adapter whose library is not installed is skipped; the missing-extra errors are tested by blocking the
import (sys.modules[name] = None), so they run with or without the extras."""

from __future__ import annotations

import importlib.util
import json
import math
import os
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
from nasbench_suite.space import NB201, NBGRAPH
from nasbench_suite.space.configspace import arch_of, config_of, parameters, to_configspace
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


@pytest.mark.slow
@pytest.mark.skipif(not all(installed(n) for n in ("synetune-rea", "nevergrad-1plus1")), reason="extras missing")
def test_benchmark_runs_library_strategies_beside_ours(tmp_path):
    out = tmp_path / "lib"
    result = CliRunner().invoke(cli, ["benchmark", "--strategies", "rea,synetune-rea,nevergrad-1plus1", "--seeds", "2",
                                      "--budget", "20q", "--jobs", "1", "--out", str(out), "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads((out / "leaderboard.json").read_text())["leaderboard"]
    assert {row["strategy"] for row in rows} == {"rea", "synetune-rea", "nevergrad-1plus1"}


def test_configspace_names_each_edge_with_the_op_names_and_roundtrips_every_cell():
    assert parameters() == {edge: list(NB201.ops) for edge in ("edge01", "edge02", "edge12", "edge03", "edge13",
                                                                "edge23")}
    for index in range(NB201.size):
        assert NB201.to_index(NB201.to_str(arch_of(config_of(index)))) == index


def test_configspace_export_samples_configs_that_are_cells():
    ConfigSpace = pytest.importorskip("ConfigSpace")
    space = to_configspace(seed=0)
    assert sorted(space) == sorted(NB201.positions)
    for edge in NB201.positions:
        assert isinstance(space[edge], ConfigSpace.CategoricalHyperparameter)
        assert tuple(space[edge].choices) == NB201.ops
    configs = space.sample_configuration(50)
    assert [dict(c) for c in configs] == [dict(c) for c in to_configspace(seed=0).sample_configuration(50)]
    for config in configs:
        index = NB201.to_index(NB201.to_str(arch_of(config)))
        assert config_of(index) == dict(config)


def test_configspace_export_of_nas_bench_graph_roundtrips_every_cell():
    """Positions, not NB201's edges: the link pattern and the 4 node ops of NAS-Bench-Graph (the export read
    `space.edges`, which only NB201 has)."""
    pytest.importorskip("ConfigSpace")
    space = to_configspace(NBGRAPH, seed=0)
    assert sorted(space) == sorted(NBGRAPH.positions)
    for index in range(NBGRAPH.size):
        assert NBGRAPH.to_index(NBGRAPH.to_str(arch_of(config_of(index, NBGRAPH), NBGRAPH))) == index
    for config in space.sample_configuration(20):
        assert config_of(arch_of(config, NBGRAPH), NBGRAPH) == dict(config)


@pytest.mark.parametrize("name", [needs_library(name) for name in FAST])
def test_library_strategies_search_nas_bench_graph(name):
    strategy = make_strategy(name, Context(space=NBGRAPH, rng=np.random.default_rng(0)))
    for _ in range(15):
        trial = strategy.ask()
        NBGRAPH.to_index(trial.arch)  # a valid cell of that space
        strategy.tell(trial, float(sum(trial.arch)))


def test_configspace_errors_name_the_parameter_and_its_values(monkeypatch):
    ops = "none, skip_connect, nor_conv_1x1, nor_conv_3x3, avg_pool_3x3"
    names = "edge01, edge02, edge12, edge03, edge13, edge23"
    with pytest.raises(UserInputError) as error:
        arch_of({"edge01": "conv"})
    expected = f"expected one of {ops} there (parameters: {names})"
    assert str(error.value) == f"configuration has 'conv' for 'edge01'; {expected}"
    with pytest.raises(UserInputError) as error:
        arch_of({"edge01": "none"})
    assert str(error.value) == f"configuration lacks 'edge02'; {expected}"
    monkeypatch.setitem(sys.modules, "ConfigSpace", None)
    with pytest.raises(UserInputError, match=r"pip install 'nasbench-suite\[configspace\]'$"):
        to_configspace()


DIGEST = """import hashlib, sys
import numpy as np
from nasbench_suite.strategies import Context, make_strategy
out = []
for name in sys.argv[1:]:
    strategy = make_strategy(name, Context(rng=np.random.default_rng(0)))
    for _ in range(15):
        trial = strategy.ask()
        out.append(trial.arch)
        strategy.tell(trial, float(np.dot(trial.arch, [3, 1, 4, 1, 5, 9])))
print(hashlib.sha256(repr(out).encode()).hexdigest())
"""


def digest(names: list[str], hash_seed: str) -> str:
    """The trials of a short run of each strategy in a fresh interpreter with this PYTHONHASHSEED."""
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    proc = subprocess.run([sys.executable, "-c", DIGEST, *names], capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


@pytest.mark.slow
def test_runs_are_the_same_in_every_interpreter_whatever_pythons_hash_seed():
    """A run in another process (the runner's workers, a rerun) must ask the same cells: nothing may hang on the
    order of a set of strings."""
    names = [name for name in FAST if installed(name)]
    assert digest(names, "1") == digest(names, "2")


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("smac") is None, reason="smac not installed")
def test_smac_runs_repeat_under_one_hash_seed_only():
    """SMAC 2.4's local search starts from `list(set(configurations))` (acquisition/maximizer/local_search.py,
    `_get_initial_points`), and a Configuration hashes its repr: the order, and so the run, follows Python's string
    hash seed. Under one PYTHONHASHSEED a run repeats bit for bit; results/libraries ran with PYTHONHASHSEED=0."""
    spec = ["smac-hpo:budget=20"]  # an initial design of 5 cells: the local search picks from the 6th query on
    assert digest(spec, "0") == digest(spec, "0") != digest(spec, "5")
