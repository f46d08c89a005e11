"""Experiments: a TOML/JSON file gives the bytes of the equivalent flags, flags override the file, every bad key or
value is a one-line error, the committed experiment files describe the committed leaderboards, one seeds grammar."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import REPO

from nasbench_suite.cli import (
    cli,
    commands,  # noqa: F401  (registers the commands)
)
from nasbench_suite.errors import UserInputError
from nasbench_suite.runner import Budget, Experiment, get_preset
from nasbench_suite.runner.runs import fingerprint, load_runs
from nasbench_suite.seeds import COUNT_FORM, format_seeds, parse_seeds

TOML = """preset = "nb201-paper"
strategies = ["random", { name = "rea", population_size = 5 }, "reinforce:lr=0.01"]
seeds = "0-1"
budget = "20q"
"""
FLAGS = ["--preset", "nb201-paper", "--strategies", "random,rea:population_size=5,reinforce:lr=0.01", "--seeds", "2",
         "--budget", "20"]
BOARD = ("leaderboard.csv", "leaderboard.md", "leaderboard.json")


def invoke(*args: str):
    return CliRunner().invoke(cli, ["benchmark", *args, "--jobs", "1"])


def written(out: Path) -> dict[str, bytes]:
    return {name: (out / name).read_bytes() for name in BOARD}


@pytest.mark.slow
def test_toml_and_json_files_give_the_bytes_of_the_same_flags(tmp_path):
    """Catches any drift between the two routes: labels, seeds or budget (20q vs 20) recorded or hashed differently."""
    (tmp_path / "exp.toml").write_text(TOML)
    (tmp_path / "exp.json").write_text(json.dumps({"preset": "nb201-paper", "budget": "20q", "seeds": [0, 1],
                                                   "strategies": "random,rea:population_size=5,reinforce:lr=0.01"}))
    boards = {}
    for name, args in (("flags", FLAGS[:-1] + ["20q"]), ("toml", ["--config", str(tmp_path / "exp.toml")]),
                       ("json", ["--config", str(tmp_path / "exp.json")])):
        result = invoke(*args, "--out", str(tmp_path / name))
        assert result.exit_code == 0, result.output
        boards[name] = written(tmp_path / name)
    assert boards["toml"] == boards["flags"] == boards["json"]
    header = json.loads(boards["toml"]["leaderboard.json"])["header"]
    assert header["strategies"] == ["random", "rea:population_size=5", "reinforce:lr=0.01"]
    assert header["command"].endswith("--seeds 2 --budget 20q --proxy proxy_naswot")


@pytest.mark.slow
def test_flags_given_with_a_file_override_it(tmp_path):
    (tmp_path / "exp.toml").write_text(TOML)
    result = invoke("--config", str(tmp_path / "exp.toml"), "--seeds", "7-7", "--strategies", "random",
                    "--out", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    header = json.loads((tmp_path / "out" / "leaderboard.json").read_text())["header"]
    assert header["seeds"] == [7] and header["strategies"] == ["random"]
    assert header["protocol"]["preset"] == "nb201-paper"  # from the file


@pytest.mark.parametrize("text, message", [
    ('seed = 3', "unknown key 'seed'; valid: preset, table, strategies, seeds"),
    ('seeds = "a"', "exp.toml: --seeds 'a': 'a' is not a seed or a range"),
    ('seeds = 2.5', "seeds = 2.5: expected a number of runs N"),
    ('seeds = 0', "need at least one"),
    ('strategies = ["rea", "nope"]', "strategies: unknown strategy 'nope'"),
    ('strategies = ["reinforce:lr=-1"]', "strategies: reinforce: lr='-1' is invalid; expected float in"),
    ('strategies = [{ name = "rea", pop = 3 }]', "rea got unknown hyperparameters: pop; valid: population_size"),
    ('strategies = [{ lr = 3 }]', "has no name"),
    ('strategies = []', "strategies = \\[\\]: expected spec strings"),
    ('preset = 3', "preset = 3: expected a preset name: nb201-paper, default"),
    ('preset = "nope"', "preset: unknown preset 'nope'"),
    ('budget = "1h"', "cannot read budget '1h'"),
    ('budget = true', "budget = True: expected simulated seconds"),
    ('hybrid = "yes"', "hybrid = 'yes': expected true or false"),
    ('hybrid = true', "a hybrid benchmark needs a surrogate"),
    ('table = ""', "table = '': expected a name or path"),
    ('preset = ', "cannot read experiment file"),
    ('proxy = "proxy_nope"', "proxy 'proxy_nope': nb201-cifar10 has no such per-cell column"),
    ('table = "no-such-table"', "no-such-table"),
])
def test_bad_files_are_one_line_errors_naming_the_key(text, message, tmp_path):
    path = tmp_path / "exp.toml"
    path.write_text(text + "\n")
    result = invoke("--config", str(path), "--out", str(tmp_path / "out"))
    assert result.exit_code == 2, result.output
    assert len(result.output.strip().splitlines()) == 1 and result.output.startswith("error: "), result.output
    assert re.search(message, result.output), result.output
    assert not (tmp_path / "out" / "runs").exists() or not list((tmp_path / "out" / "runs").glob("*/*.npz"))


@pytest.mark.parametrize("name, text", [("exp.yaml", "seeds: 2"), ("exp.json", "[1, 2]"), ("exp.json", "{")])
def test_a_file_must_be_a_toml_or_json_table(name, text, tmp_path):
    (tmp_path / name).write_text(text)
    with pytest.raises(UserInputError, match=f"experiment file .*{name}"):
        Experiment.from_file(tmp_path / name)


@pytest.mark.parametrize("name, out", [("default", "results"), ("nb201-paper", "results/nb201-paper")])
def test_committed_experiment_files_describe_the_committed_leaderboards(name, out):
    """The files reproduce the committed leaderboards: same command line, same protocol hash (checked on one cheap
    run; strategies and seeds are not hashed), same default output folder."""
    path = REPO / "experiments" / f"{name}.toml"
    header = json.loads((REPO / out / "leaderboard.json").read_text())["header"]
    experiment = Experiment.from_file(path)
    assert experiment.prepare().command() == header["command"] and experiment.default_out() == Path(out)
    cheap = Experiment.from_file(path, strategies="random", seeds=1).run(jobs=1)
    assert cheap.meta["protocol_hash"] == header["protocol_hash"]


def test_a_budget_is_one_protocol_however_it_is_written():
    """`--budget 12000` once hashed as 12000.0 and the preset's as 12000: stored runs were refused as another
    protocol."""
    preset = get_preset("nb201-paper").budget
    for text in ("12000", "12000s", "1.2e4", 12000.0):
        assert fingerprint({"budget": Budget.parse(text).amount}) == fingerprint({"budget": preset.amount})
    assert Experiment(preset="nb201-paper", budget="12000s") == Experiment(preset="nb201-paper")


def test_one_seeds_grammar():
    assert parse_seeds("25", count=True) == list(range(25)) and parse_seeds("25") == [25]
    assert parse_seeds("3-4,7", count=True) == [3, 4, 7] == parse_seeds("7,3-4")
    for seeds in ([0, 1, 2], [3, 4, 7], [5]):
        assert parse_seeds(format_seeds(seeds), count=True) == seeds
    assert Experiment(seeds=3).seeds == Experiment(seeds="0-2").seeds == (0, 1, 2)
    assert Experiment(seeds=[2, 0, 2]).seeds == (2, 0)  # the order given, each seed once


def test_proxy_report_needs_proxy_columns(tmp_path):
    result = CliRunner().invoke(cli, ["proxy-report", "--table", "nb201-cifar100", "--out", str(tmp_path)])
    assert result.exit_code == 2 and result.output.strip() == ("error: nb201-cifar100 has no proxy_* columns; run "
                                                               "`nasbench-suite proxies` first")


@pytest.mark.slow
def test_surrogate_ranking_runs_the_experiment_the_benchmark_command_runs(tmp_path):
    """The study's table runs are the `benchmark` command's (same protocol hash, same finals): it no longer unpacks
    the preset by hand (as a script it recorded another protocol, so its stored runs were not the benchmark's)."""
    result = CliRunner().invoke(cli, ["surrogate", "ranking", "--preset", "nb201-paper", "--strategies", "random,bohb",
                                      "--seeds", "1", "--sizes", "30", "--jobs", "1", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    summary = (tmp_path / "ranking-1seeds_summary.csv").read_text().splitlines()
    assert summary[0].startswith("benchmark,train_cells,tau_final_mean") and len(summary) == 4
    bench = invoke("--preset", "nb201-paper", "--strategies", "random,bohb", "--seeds", "1", "--out",
                   str(tmp_path / "bench"))
    assert bench.exit_code == 0, bench.output
    study, direct = load_runs(tmp_path / "table"), load_runs(tmp_path / "bench")
    assert study.meta["protocol_hash"] == direct.meta["protocol_hash"]
    assert study.strategies == ["random", "bohb"]
    assert all(a.same_trajectory(b) for a, b in zip(study, direct))


# ---- written for the surviving mutants of runner/experiment.py (results/mutation/README.md) ------------------------
def test_a_json_file_is_read_as_json_and_a_broken_one_says_why(tmp_path):
    (tmp_path / "exp.json").write_text('{"preset": "nb201-paper", "seeds": "0-1", "budget": "20q"}')
    assert Experiment.from_file(tmp_path / "exp.json") == Experiment(preset="nb201-paper", seeds=2, budget="20q")
    (tmp_path / "bad.json").write_text('{"seeds": }')
    with pytest.raises(UserInputError, match=r"^cannot read experiment file .*bad\.json: Expecting value: line 1"):
        Experiment.from_file(tmp_path / "bad.json")
    (tmp_path / "list.json").write_text("[1, 2]")
    with pytest.raises(UserInputError) as error:
        Experiment.from_file(tmp_path / "list.json")
    assert str(error.value) == (f"experiment file {tmp_path / 'list.json'}: expected a table of settings (preset, "
                                "table, strategies, seeds, budget, proxy, surrogate, hybrid, surrogate_noise)")


def test_default_out_names_preset_table_and_kind():
    assert Experiment().default_out() == Path("results")
    assert Experiment(preset="nb201-paper").default_out() == Path("results/nb201-paper")
    assert Experiment(table="tables/own.h5").default_out() == Path("results/own")
    assert Experiment(surrogate="s.surrogate").default_out() == Path("results/surrogate")
    assert Experiment(preset="nb201-paper", table="own", surrogate="s.surrogate", hybrid=True).default_out() == Path(
        "results/nb201-paper-own-hybrid")


def test_run_hands_every_setting_to_the_runner_with_the_documented_defaults(tmp_path, monkeypatch):
    from nasbench_suite.runner import experiment as module

    seen = []
    real = module.run
    monkeypatch.setattr(module, "run", lambda *args, **kwargs: seen.append(kwargs) or real(*args, **kwargs))
    small = Experiment(preset="nb201-paper", strategies="random", seeds=1, budget="3q")
    small.run(tmp_path, 1, False, True, True)
    asked = ("out_dir", "jobs", "resume", "overwrite", "progress", "fidelities", "default_fidelity")
    assert {k: seen[0][k] for k in asked} == {"out_dir": tmp_path, "jobs": 1, "resume": False, "overwrite": True,
                                              "progress": True, "fidelities": (12,), "default_fidelity": 12}
    assert (tmp_path / "runs" / "random" / "seed-0.npz").is_file()
    monkeypatch.setattr(module, "run", lambda *args, **kwargs: seen.append(kwargs))  # the defaults only
    small.run()
    small.prepare().run()
    defaults = {"out_dir": None, "jobs": None, "resume": True, "overwrite": False, "progress": False}
    assert [{k: call[k] for k in defaults} for call in seen[1:]] == [defaults, defaults]


def test_path_flag_seeds_and_strategies_settings_are_checked_and_normalised():
    from nasbench_suite.runner import experiment as module

    table, surrogate = module._path("table", optional=False), module._path("surrogate", optional=True)
    assert surrogate(None) is None and surrogate(Path("a/s.surrogate")) == "a/s.surrogate"
    assert table(Path("a/t.h5")) == "a/t.h5" and table("nb201-cifar10") == "nb201-cifar10"
    assert module._flag("hybrid")(True) is True and module._flag("hybrid")(False) is False
    for check, value, message in [
            (table, None, "table = None: expected a name or path"), (table, 3, "table = 3: expected a name or path"),
            (table, "  ", "table = '  ': expected a name or path"),
            (surrogate, "", "surrogate = '': expected a file path"),
            (module._flag("hybrid"), "yes", "hybrid = 'yes': expected true or false"),
            (module._flag("surrogate_noise"), 1, "surrogate_noise = 1: expected true or false"),
            (module._seeds, ["a"], f"seeds = ['a']: expected {COUNT_FORM}, or a list of seeds"),
            (module._seeds, [True], f"seeds = [True]: expected {COUNT_FORM}, or a list of seeds"),
            (module._strategies, [3], f"strategies: 3 is not a strategy; expected {module.STRATEGIES_FORM}")]:
        with pytest.raises(UserInputError) as error:
            check(value)
        assert str(error.value) == message


@pytest.fixture(scope="module")
def toy_files(tmp_path_factory):
    """A full toy table with a proxy column on disk, and a small surrogate fitted on it."""
    import numpy as np
    from test_benchmark_rules import SPACE, TINY_XGB, two_seed_table

    from nasbench_suite.surrogate import Surrogate
    from nasbench_suite.table import Table

    folder = tmp_path_factory.mktemp("toy")
    table = two_seed_table()
    table.set_column("proxy_naswot", np.arange(SPACE, dtype=float))
    table.set_column("proxy_synflow", -np.arange(SPACE, dtype=float))
    table = Table.load(table.save(folder / "toy.h5"))
    fitted = Surrogate(features="onehot", target="valid_acc,test_acc,train_seconds_per_epoch", params=TINY_XGB)
    fitted.fit(table, np.arange(0, SPACE, 78)[:200]).save(folder / "toy.surrogate")
    return str(folder / "toy.h5"), str(folder / "toy.surrogate")


def test_a_surrogate_experiment_builds_the_benchmark_and_the_command_it_names(toy_files):
    table, surrogate = toy_files
    small = {"strategies": "random", "seeds": 1, "budget": "10q"}
    hybrid = Experiment(table=table, surrogate=surrogate, hybrid=True, surrogate_noise=False, **small).prepare()
    assert (hybrid.benchmark.kind, hybrid.benchmark.noise, hybrid.benchmark.seed_mode) == ("hybrid", False, "random")
    assert hybrid.table.path.name == "toy.h5" and hybrid.benchmark.table is hybrid.table
    assert (hybrid.benchmark.search_metric, hybrid.benchmark.report_metric, hybrid.benchmark.report_epoch) == (
        "valid_acc", "test_acc", 200)
    assert hybrid.command() == (f"nasbench-suite benchmark --preset default --table {table} --strategies random "
                                f"--seeds 1 --budget 10q --proxy proxy_naswot --surrogate {surrogate} --hybrid "
                                "--surrogate-mean")
    plain = Experiment(table=table, surrogate=surrogate, **small).prepare()
    assert (plain.benchmark.kind, plain.benchmark.noise) == ("surrogate", True)
    assert plain.benchmark.cost_source == {"train_seconds_per_epoch": "table", "eval_seconds": "table"}
    assert plain.command().endswith(f"--proxy proxy_naswot --surrogate {surrogate}")
    assert get_preset("default").benchmark(plain.table, plain.benchmark.surrogate).noise is True
    assert get_preset("default").benchmark(plain.table, plain.benchmark.surrogate, noise=False).noise is False
    from dataclasses import replace

    at_12 = replace(get_preset("default"), report_epoch=12)  # a user's preset: every metric setting is passed on
    for hybrid in (True, False):
        assert at_12.benchmark(plain.table, plain.benchmark.surrogate, hybrid).report_epoch == 12


def test_the_proxy_is_the_one_asked_for_else_the_presets_where_the_table_has_it(toy_files):
    from nasbench_suite.table import Table

    table, _ = toy_files
    opened = Table.load(table)
    default = Experiment(table=table).prepare(opened)
    assert default.table is opened and default.proxy_column == "proxy_naswot" and default.proxy[5] == 5.0
    asked = Experiment(table=table, proxy="proxy_synflow").prepare()
    assert asked.proxy_column == "proxy_synflow" and asked.proxy[5] == -5.0
    without = Experiment(table="nb201-cifar100").prepare()  # it has no proxy columns
    assert without.proxy_column is None and without.proxy is None
    assert without.command() == ("nasbench-suite benchmark --preset default --table nb201-cifar100 --strategies "
                                 f"{','.join(without.experiment.strategies)} --seeds 25 --budget 200000s")


NEEDS_A_SURROGATE = 'needs a surrogate (--surrogate FILE, or surrogate = "FILE" in an experiment file)'


def test_unset_settings_take_the_presets_and_the_errors_are_exact():
    preset = get_preset("nb201-paper")
    from nasbench_suite.strategies import STRATEGIES

    assert Experiment(preset="nb201-paper").strategies == tuple(
        dict.fromkeys(str(s) for s in preset.default_strategies(STRATEGIES)))
    assert Experiment(seeds="3").seeds == (0, 1, 2) and Experiment(seeds="3-4").seeds == (3, 4)
    for settings, message in [
        ({"surrogate_noise": False}, f"surrogate_noise = false (--surrogate-mean) {NEEDS_A_SURROGATE}"),
        ({"hybrid": True}, f"a hybrid benchmark {NEEDS_A_SURROGATE}"),
        ({"budget": [1]}, 'budget = [1]: expected simulated seconds like 12000 or "12000s", or queries like "100q"'),
        ({"proxy": 3}, "proxy = 3: expected a table column name such as proxy_synflow"),
        ({"proxy": " "}, "proxy = ' ': expected a table column name such as proxy_synflow")]:
        with pytest.raises(UserInputError) as error:
            Experiment(**settings)
        assert str(error.value) == message


def test_a_surrogate_fitted_on_another_table_is_refused_naming_its_file(toy_files, tmp_path):
    import numpy as np
    from test_benchmark_rules import two_seed_table

    from nasbench_suite.surrogate.api import SurrogateFileError

    other = two_seed_table()
    other.set_metric("valid_acc", other.metrics["valid_acc"].values + 1)
    other.save(tmp_path / "other.h5")
    _, surrogate = toy_files
    with pytest.raises(SurrogateFileError, match=rf"^{re.escape(surrogate)} was fitted on table toy with checksum"):
        Experiment(table=str(tmp_path / "other.h5"), surrogate=surrogate).prepare()
    assert np.isfinite(Experiment(table=toy_files[0], surrogate=surrogate).prepare().benchmark.report(5))
