"""Surrogates on the real nb201-cifar10 table: fit/predict quality, never peeking, files, bad input, benchmarks."""

from __future__ import annotations

import copy
import hashlib
import io
import json
import os
import pickle
import re
import time
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from scipy.stats import kendalltau

from conftest import png_dpi
from nasbench_suite.benchmark import HybridBenchmark, SurrogateBenchmark, TableBenchmark
from nasbench_suite.cli.app import cli
from nasbench_suite.cli import commands  # noqa: F401  (registers the commands)
from nasbench_suite.errors import UserInputError
from nasbench_suite.strategies import Context, get_strategy
from nasbench_suite import jsonio
from nasbench_suite.surrogate import Surrogate, SurrogateFileError, load, table_checksum
from nasbench_suite.surrogate.api import PICKLE_MAGIC
from nasbench_suite.surrogate.evaluation import noise_ceiling, score
from nasbench_suite.surrogate.features import effective_ops, live_edges
from nasbench_suite.table import Series, Table

FAST_XGB = {"members": 2, "n_estimators": 150, "n_jobs": 1}


def subset(table: Table, archs: np.ndarray) -> Table:
    """A real partial table: the embedded table's rows for `archs` only."""
    rows = np.searchsorted(table.archs, np.sort(archs))
    pick = lambda series: Series(series.values[rows], series.description, series.unit, series.source)  # noqa: E731
    return Table(space=table.space, dataset=table.dataset, archs=table.archs[rows], seeds=table.seeds,
                 epochs=table.epochs, protocol=table.protocol, provenance=table.provenance,
                 metrics={k: pick(v) for k, v in table.metrics.items()},
                 columns={k: pick(v) for k, v in table.columns.items()})


@pytest.fixture(scope="module")
def split():
    rng = np.random.default_rng(0)
    order = rng.permutation(15625)
    return order[:300], order[300:1500]


@pytest.fixture(scope="module")
def fitted(nb201_table, split):
    train, _ = split
    return Surrogate(target="valid_acc,test_acc@200", params=FAST_XGB).fit(nb201_table, train)


def test_live_edges_follow_none_cuts():
    # 0->1 none and 0->2 none: nodes 1, 2 are dead, so only the direct 0->3 edge computes something.
    ops = np.array([[0, 0, 3, 3, 3, 3], [3, 3, 3, 3, 3, 3], [3, 0, 0, 0, 3, 2]])
    assert live_edges(ops).tolist() == [[False, False, False, True, False, False], [True] * 6,
                                        [True, False, False, False, True, False]]
    assert effective_ops(ops)[2].tolist() == [3, 0, 0, 0, 3, 0]


def test_live_edges_are_the_edges_on_an_input_to_output_path_of_every_cell():
    """Against a plain reachability search, cell by cell, over the whole space."""
    from nasbench_suite.space import EDGES, NB201

    def reference(ops):
        edges = [e for e, op in zip(EDGES, ops) if op != 0]
        reach, back = {0}, {3}
        for _ in range(3):
            reach |= {d for s, d in edges if s in reach}
            back |= {s for s, d in edges if d in back}
        return [op != 0 and s in reach and d in back for (s, d), op in zip(EDGES, ops)]

    ops = NB201.all_ops()
    live = live_edges(ops)
    assert live.shape == (15625, 6) and live.dtype == bool
    assert live.tolist() == [reference(row) for row in ops.tolist()]


def test_surrogate_features_are_the_documented_columns_in_order():
    from nasbench_suite.space import NB201
    from nasbench_suite.surrogate.features import check_features, encoding_names, feature_matrix

    indices = np.array([0, 5, 15624, 777])
    ops = NB201.ops_of(indices)
    columns = {"params_m": np.arange(15625) / 10.0}
    matrix = feature_matrix(NB201, indices, ["effective_counts", "path", "params_m", "effective_onehot"], columns)
    eff = effective_ops(ops)
    counts = np.stack([(eff == op).sum(axis=1) for op in (1, 2, 3, 4)], axis=1)
    expected = np.concatenate([counts, NB201.encode(ops, "path"), indices[:, None] / 10.0,
                               NB201.encode(eff, "onehot")], axis=1)
    assert matrix.dtype == np.float32 and np.array_equal(matrix, expected.astype(np.float32))
    assert encoding_names() == ["onehot", "adjacency", "path", "sequence", "effective_onehot", "effective_counts"]
    assert check_features(" onehot, params_m ,", ["params_m"]) == ("onehot", "params_m")
    with pytest.raises(UserInputError) as error:
        check_features("onehot,valid_acc", ["params_m"])
    assert str(error.value) == ("unknown feature 'valid_acc': not an encoding (onehot, adjacency, path, sequence, "
                                "effective_onehot, effective_counts) and not a column of the table (params_m)")
    with pytest.raises(UserInputError) as error:
        check_features(["onehot", "onehot"], [])
    assert str(error.value) == "feature list ['onehot', 'onehot'] names a feature twice"
    with pytest.raises(UserInputError) as error:
        check_features(" , ", [])
    assert str(error.value).startswith("a surrogate needs at least one feature; valid: onehot, adjacency, ")
    with pytest.raises(UserInputError, match=r"column of the table \(none\)"):
        check_features(["flops"], [])


def test_fit_predict_ranks_unseen_cells(nb201_table, fitted, split):
    _, unseen = split
    mean, std = fitted.predict(unseen)
    assert mean.shape == std.shape == (len(unseen), 3)
    assert (std >= 0).all() and std.max() > 0
    truth = nb201_table.query_many(unseen, "valid_acc", 200)
    assert kendalltau(mean[:, fitted.output("valid_acc@200")], truth)[0] > 0.7
    single, _ = Surrogate(params=FAST_XGB).fit(nb201_table, split[0]).predict(unseen[:5])
    assert single.shape == (5,)


def test_predict_accepts_any_arch_form(fitted):
    by_index = fitted.predict(np.array([6111]))[0]
    by_string = fitted.predict(["|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+"
                                "|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|"])[0]
    np.testing.assert_array_equal(by_index, by_string)


def test_never_peeks_at_unseen_cells(nb201_table, split):
    train, unseen = split
    changed = copy.deepcopy(nb201_table)
    rows = np.setdiff1d(np.arange(15625), train)
    values = changed.metrics["valid_acc"].values
    values[rows] = np.random.default_rng(1).uniform(0, 100, size=values[rows].shape)
    a = Surrogate(params=FAST_XGB).fit(nb201_table, train).predict(unseen)[0]
    b = Surrogate(params=FAST_XGB).fit(changed, train).predict(unseen)[0]
    np.testing.assert_array_equal(a, b)
    assert table_checksum(changed) != table_checksum(nb201_table)


def test_sample_is_noisy_and_seeded(fitted):
    cells = np.arange(50)
    mean, sd = fitted.observation_sd(cells)
    a = fitted.sample(cells, np.random.default_rng(3))
    assert not np.allclose(a, mean)
    np.testing.assert_array_equal(a, fitted.sample(cells, np.random.default_rng(3)))
    assert np.abs((a - mean) / sd).max() < 6
    # valid_acc@200 has training seeds 777/888/999; epoch 12 and test_acc only a published mean (seed -1)
    assert fitted.metadata()["noise"] == {"valid_acc@12": "ensemble", "valid_acc@200": "seeds",
                                          "test_acc@200": "ensemble"}


def test_seed_noise_where_the_table_has_two_measurements(nb201_table):
    # Two real measurements of each cell (the validation and the valid-test halves) stand in for two seeds.
    cells = nb201_table.archs[:400]
    part = subset(nb201_table, cells)
    pair = np.stack([part.values("valid_acc", 200), part.values("valid_test_acc", 200)], axis=1)
    metric = np.full((len(cells), 2, len(part.epochs)), np.nan)
    metric[:, :, list(part.epochs).index(200)] = pair
    two = Table(space=part.space, dataset=part.dataset, archs=part.archs, seeds=[777, 888], epochs=part.epochs,
                columns=part.columns)
    two.set_metric("valid_acc", metric)
    surrogate = Surrogate(params=FAST_XGB).fit(two, cells[:200])
    expected = np.sqrt(np.mean(np.var(pair[:200], axis=1, ddof=1)))
    assert surrogate.metadata()["noise"] == {"valid_acc@200": "seeds"}
    np.testing.assert_allclose(surrogate.noise_sd_[0], expected, rtol=1e-5)
    ceiling = noise_ceiling(two, "valid_acc@200")
    assert ceiling["kendall_tau"] == pytest.approx(score(pair[:, 1], pair[:, 0])["kendall_tau"], abs=0.02)


def test_save_load_round_trip(nb201_table, fitted, split, tmp_path):
    path = fitted.save(tmp_path / "s.surrogate")
    again = load(path, table=nb201_table)
    cells = np.arange(0, 15625, 97)
    np.testing.assert_array_equal(again.predict(cells)[0], fitted.predict(cells)[0])
    meta = again.metadata()
    assert meta["train_cells"] == split[0].tolist()
    assert meta["table_checksum"] == table_checksum(nb201_table)
    assert meta["features"] == ["effective_onehot", "effective_counts", "params_m", "naswot_score"]
    assert meta["params"]["members"] == 2 and "xgboost" in meta["software"]
    assert not list(tmp_path.glob(".*tmp"))  # atomic write leaves no temporary file
    with zipfile.ZipFile(path) as z:  # XGBoost handles a missing feature value itself: no fill values
        assert "x_fill_" not in np.load(io.BytesIO(z.read("arrays.npz"))).files


@pytest.mark.parametrize("target, message", [("nope@200", "not in the table"), ("valid_acc@7", "at epochs"),
                                             ("", "non-empty")])
def test_target_the_table_lacks(nb201_table, split, target, message):
    with pytest.raises(UserInputError, match=message):
        Surrogate(target=target).fit(nb201_table, split[0])


def test_too_few_cells(nb201_table):
    with pytest.raises(UserInputError, match="needs at least 10 training cells"):
        Surrogate().fit(nb201_table, np.arange(5))


def test_unknown_model_feature_or_setting(nb201_table, split):
    with pytest.raises(UserInputError, match="unknown surrogate model"):
        Surrogate(model="svm")
    with pytest.raises(UserInputError, match="unknown settings"):
        Surrogate(params={"depth": 3})
    with pytest.raises(UserInputError, match="unknown feature 'valid_acc'"):
        Surrogate(features=["onehot", "valid_acc"]).fit(nb201_table, split[0])


def test_a_sampled_table_takes_column_features_from_a_full_space_table(nb201_table, tmp_path):
    """A table trained on 1,000 cells knows proxies of its own cells only; predicting elsewhere needs them all."""
    sample = subset(nb201_table, nb201_table.archs[::15])
    unseen = np.setdiff1d(np.arange(15625), sample.archs)[:500]
    features = ["effective_onehot", "proxy_naswot"]
    blind = Surrogate(features=features, target="valid_acc@200", params={"members": 1}).fit(sample, sample.archs)
    assert np.isnan(blind.columns_["proxy_naswot"][unseen]).all()  # the cause: NaN features off the sample
    with pytest.raises(UserInputError, match="unknown feature 'proxy_naswot'"):
        Surrogate(features=features, feature_table="cifar10-jpeg75-micro").fit(sample, sample.archs)
    sighted = Surrogate(features=features, target="valid_acc@200", params={"members": 1},
                        feature_table="nb201-cifar10").fit(sample, sample.archs)
    np.testing.assert_array_equal(sighted.columns_["proxy_naswot"], nb201_table.column("proxy_naswot"))
    truth = nb201_table.query_many(unseen, "valid_acc", 200)
    tau = {name: kendalltau(s.predict(unseen)[0], truth)[0] for name, s in (("blind", blind), ("sighted", sighted))}
    assert tau["sighted"] > tau["blind"] + 0.02, tau
    again = load(sighted.save(tmp_path / "s.surrogate"), table=sample)
    assert again.metadata()["feature_table"] == "nb201-cifar10"
    np.testing.assert_array_equal(again.predict(unseen)[0], sighted.predict(unseen)[0])


def test_file_from_another_table(nb201_table, fitted, tmp_path):
    path = fitted.save(tmp_path / "s.surrogate")
    other = subset(nb201_table, nb201_table.archs[:1000])
    with pytest.raises(SurrogateFileError, match="not on this table"):
        load(path, table=other)
    with pytest.raises(SurrogateFileError, match="not on this table"):
        SurrogateBenchmark(fitted, other)


def _flip_in_arrays(data: bytes) -> bytes:
    """One byte changed inside the stored arrays (the zip's CRC no longer matches)."""
    at = data.index(b"arrays.npz") + 2000
    return data[:at] + bytes([data[at] ^ 0xFF]) + data[at + 1:]


@pytest.mark.parametrize("damage, message", [(lambda b: b[:-100], "corrupt surrogate file"),
                                             (lambda b: b"garbage" + b, "wrong magic"),
                                             (lambda b: b[:200], "corrupt surrogate file"),
                                             (_flip_in_arrays, "corrupt surrogate file")])
def test_corrupt_file(fitted, tmp_path, damage, message):
    path = fitted.save(tmp_path / "s.surrogate")
    path.write_bytes(damage(path.read_bytes()))
    with pytest.raises(SurrogateFileError, match=message) as error:
        load(path)
    assert "\n" not in str(error.value)
    with pytest.raises(SurrogateFileError, match="not found"):
        load(tmp_path / "missing.surrogate")


class _Payload:
    """Unpickling this runs a shell command that creates `marker`."""

    def __init__(self, marker) -> None:
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


def test_version_1_pickle_file_is_refused_unread(tmp_path):
    # Exactly what version 1 wrote (magic line, JSON header with a valid payload checksum, pickle): the old loader
    # verified the checksum and unpickled, running the command.
    marker = tmp_path / "ran"
    payload = pickle.dumps(_Payload(marker))
    header = json.dumps({"model": "xgb", "payload_sha256": hashlib.sha256(payload).hexdigest()}).encode()
    path = tmp_path / "old.surrogate"
    path.write_bytes(PICKLE_MAGIC + header + b"\n" + payload)
    with pytest.raises(SurrogateFileError, match="version-1 .* not read; rebuild it with `nasbench-suite surrogate "
                                                  "build") as error:
        load(path)
    assert "\n" not in str(error.value)
    result = CliRunner().invoke(cli, ["surrogate", "info", str(path)])
    assert result.exit_code == 2 and "version-1" in result.output
    assert not marker.exists()


def _rewrite(path, entry: str, content: bytes) -> None:
    """Replace one entry of a surrogate zip, keeping the others (a consistent, deliberately edited file)."""
    with zipfile.ZipFile(path) as z:
        entries = [(info, z.read(info)) for info in z.infolist()]
    with zipfile.ZipFile(path, "w") as z:
        for info, data in entries:
            z.writestr(info, content if info.filename == entry else data)


def test_edited_file_runs_nothing_and_fails_in_one_line(fitted, tmp_path):
    path = fitted.save(tmp_path / "s.surrogate")
    marker = tmp_path / "ran"
    with zipfile.ZipFile(path) as z, np.load(io.BytesIO(z.read("arrays.npz"))) as npz:
        arrays = {k: npz[k] for k in npz.files}
    arrays["y_mean_"] = np.array([_Payload(marker)], dtype=object)  # np.save pickles object arrays
    edited = io.BytesIO()
    np.savez(edited, **arrays)
    _rewrite(path, "arrays.npz", edited.getvalue())
    with pytest.raises(SurrogateFileError, match="corrupt surrogate file .*allow_pickle") as error:
        load(path)
    assert "\n" not in str(error.value) and not marker.exists()
    path = fitted.save(tmp_path / "s.surrogate")
    meta = jsonio.loads(zipfile.ZipFile(path).read("meta.json"))
    _rewrite(path, "meta.json", jsonio.dumps({**meta, "targets": ["valid_acc@200"]}).encode())
    with pytest.raises(SurrogateFileError, match="inconsistent surrogate file .*train_targets has shape") as error:
        load(path)
    assert "\n" not in str(error.value)
    _rewrite(path, "meta.json", jsonio.dumps({**meta, "model": "svm"}).encode())  # settings this version refuses
    with pytest.raises(SurrogateFileError) as error:
        load(path)
    assert str(error.value) == f"{path}: unknown surrogate model 'svm'; valid: xgb, rf, gp, mlp, gin"


@pytest.mark.parametrize("model, params", [("xgb", {"members": 2, "n_estimators": 30}), ("rf", {"n_estimators": 30}),
                                           ("gp", {}), ("mlp", {"members": 2, "hidden": (16,), "max_iter": 50}),
                                           ("gin", {"members": 2, "hidden": 8, "layers": 1, "epochs": 10})])
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_every_model_predicts_the_same_after_loading(nb201_table, split, tmp_path, model, params):
    if model == "gin":
        pytest.importorskip("torch")
    surrogate = Surrogate(model=model, params=params, target="valid_acc,test_acc@200").fit(nb201_table, split[0][:60])
    again = load(surrogate.save(tmp_path / f"{model}.surrogate"), table=nb201_table)
    cells = np.arange(0, 15625, 31)
    for before, after in zip(surrogate.observation_sd(cells), again.observation_sd(cells)):
        np.testing.assert_array_equal(before, after)  # bit for bit
    assert jsonio.dumps(again.metadata()) == jsonio.dumps(surrogate.metadata())


def test_surrogate_benchmark_answers_every_cell(nb201_table, fitted):
    bench = SurrogateBenchmark(fitted, nb201_table)
    assert bench.fidelities == (12, 200) and bench.report_epoch == 200
    obs = bench.evaluate(1234, 200, np.random.default_rng(0))
    assert obs.source == "surrogate"
    table_obs = TableBenchmark(nb201_table).evaluate(1234, 200, np.random.default_rng(0))
    assert obs.cost == pytest.approx(table_obs.cost)  # priced by the table's columns
    assert bench.report(1234) == pytest.approx(fitted.predict(np.array([1234]))[0][0, 2])
    assert bench.optimum() == bench.report_values().max()
    quiet = SurrogateBenchmark(fitted, nb201_table, noise=False)
    values = {quiet.evaluate(7, 12, np.random.default_rng(seed)).value for seed in range(3)}
    assert len(values) == 1 and len({bench.evaluate(7, 12, np.random.default_rng(s)).value for s in range(3)}) == 3
    with pytest.raises(UserInputError, match="fidelity 50"):
        bench.evaluate(7, 50, np.random.default_rng(0))
    with pytest.raises(UserInputError, match="report metric 'train_acc'"):
        SurrogateBenchmark(fitted, nb201_table, report_metric="train_acc")


def test_hybrid_benchmark_says_which_source_answered(nb201_table):
    measured = np.sort(np.random.default_rng(5).choice(15625, 2000, replace=False))
    part = subset(nb201_table, measured)
    targets = "valid_acc,test_acc@200"
    with pytest.raises(UserInputError, match="cannot price"):
        HybridBenchmark(Surrogate(target=targets, params=FAST_XGB).fit(part, measured[:300]), part)
    surrogate = Surrogate(target=targets + ",train_seconds_per_epoch,eval_seconds", params=FAST_XGB)
    bench = HybridBenchmark(surrogate.fit(part, measured[:300]), part)
    rng = np.random.default_rng(0)
    inside, outside = int(measured[1500]), int(np.setdiff1d(np.arange(15625), measured)[0])
    obs = bench.evaluate(inside, 200, rng)
    assert obs.source == "table" and obs.value == pytest.approx(part.query(inside, "valid_acc", 200))
    assert bench.evaluate(outside, 200, rng).source == "surrogate"
    assert bench.report(inside) == pytest.approx(part.query(inside, "test_acc", 200))
    assert bench.describe()["report_from_table"] == 2000
    assert bench.describe()["cost_source"]["train_seconds_per_epoch"] == "table+surrogate"
    assert bench.evaluate(outside, 12, rng).cost > 0


@pytest.mark.parametrize("name", ["rea", "hyperband"])
def test_strategies_run_unchanged_on_a_surrogate_benchmark(nb201_table, fitted, name):
    bench = SurrogateBenchmark(fitted, nb201_table)
    strategy = get_strategy(name)(Context(rng=np.random.default_rng(0), fidelities=bench.fidelities))
    rng, best, spent = np.random.default_rng(1), None, 0.0
    for _ in range(40):
        trial = strategy.ask()
        obs = bench.evaluate(trial.arch, trial.fidelity, rng)
        strategy.tell(trial, obs.value)
        spent += obs.cost
        if trial.fidelity == bench.max_fidelity and (best is None or obs.value > best[1]):
            best = (trial.arch, obs.value)
    assert spent > 0 and best is not None
    assert bench.report(best[0]) <= bench.optimum()


@pytest.mark.parametrize("model", ["rf", "gp", pytest.param("mlp", marks=pytest.mark.slow)])
def test_other_models_rank_unseen_cells(nb201_table, split, model):
    train, unseen = split
    params = {"members": 2, "hidden": (64, 64), "max_iter": 200} if model == "mlp" else {}
    mean, std = Surrogate(model=model, params=params).fit(nb201_table, train[:150]).predict(unseen)
    assert np.isfinite(mean).all() and (std >= 0).all()
    assert kendalltau(mean, nb201_table.query_many(unseen, "valid_acc", 200))[0] > 0.5


def test_gin_surrogate(nb201_table, split):
    pytest.importorskip("torch")
    train, unseen = split
    surrogate = Surrogate(model="gin", params={"members": 1, "epochs": 60}).fit(nb201_table, train[:150])
    mean, _ = surrogate.predict(unseen)
    assert kendalltau(mean, nb201_table.query_many(unseen, "valid_acc", 200))[0] > 0.5


@pytest.mark.slow  # 8.5 s: too slow to rerun for every mutant
def test_cli_build_writes_to_the_working_directory_and_benchmark_reads_what_it_printed(tmp_path, monkeypatch):
    from nasbench_suite.table import resolve_table

    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    result = runner.invoke(cli, ["surrogate", "build", "nb201-cifar10", "--train-size", "30", "--json"])
    assert result.exit_code == 0, result.output
    printed = json.loads(result.output)["path"]
    assert printed == "nb201-cifar10.surrogate" and (tmp_path / printed).is_file()
    assert not resolve_table("nb201-cifar10").with_suffix(".surrogate").exists()  # nothing inside the package
    result = runner.invoke(cli, ["benchmark", "--surrogate", printed, "--strategies", "random", "--seeds", "1",
                                 "--budget", "20q", "--out", "out"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "out" / "leaderboard.md").is_file()


@pytest.mark.slow
def test_cli_build_info_eval(nb201_table, tmp_path, monkeypatch):
    table_path = subset(nb201_table, np.arange(0, 15625, 50)).save(tmp_path / "tables" / "part.h5")
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    result = runner.invoke(cli, ["surrogate", "build", str(table_path), "--train-size", "60"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "part.surrogate").is_file()
    info = runner.invoke(cli, ["surrogate", "info", "part.surrogate", "--json"])
    assert '"train_cells": 60' in info.output
    bad = runner.invoke(cli, ["surrogate", "build", str(table_path), "--train-size", "60", "--target", "x@1"])
    assert bad.exit_code == 2 and "target 'x@1' is not in the table" in bad.output
    out = tmp_path / "eval"
    result = runner.invoke(cli, ["surrogate", "eval", str(table_path), "--models", "xgb", "--train-sizes", "20,40",
                                 "--repeats", "2", "--out", str(out)])
    assert result.exit_code == 0, result.output
    for name in ("surrogate_eval.csv", "surrogate_eval.md", "tau_vs_train_size.png", "tau_vs_train_size.svg",
                 "predicted_vs_true.png"):
        assert (out / name).is_file(), name
    assert (out / "surrogate_eval.csv").read_text().count("\nxgb,") == 4


def test_eval_never_resumes_rows_made_on_another_table(nb201_table, tmp_path):
    """A rerun into the same --out after the table grew must not report the old table's rows as the new one's."""
    from nasbench_suite.surrogate.evaluation import evaluate

    path = tmp_path / "part.h5"
    subset(nb201_table, np.arange(0, 15625, 60)).save(path)
    out = tmp_path / "eval"
    first = evaluate(Table.load(path), ["xgb"], [20], repeats=1, out_dir=out, progress=False)
    again = evaluate(Table.load(path), ["xgb"], [20], repeats=1, out_dir=out, progress=False)
    # same table and settings: the stored row is resumed (its measured fit time too), nothing is refitted; the
    # noise ceiling (the table has training seeds) is recomputed, never stored twice, and has no fit time
    assert again["model"].tolist() == first["model"].tolist() == ["xgb", "noise_ceiling"]
    assert again["fit_seconds"].iloc[0] == first["fit_seconds"].iloc[0]
    assert again["fit_seconds"].iloc[1:].isna().all() and first["fit_seconds"].iloc[1:].isna().all()
    assert np.allclose(again["kendall_tau"], first["kendall_tau"], atol=1e-5)
    with pytest.raises(UserInputError, match=r"other settings \(seed differ\)"):
        evaluate(Table.load(path), ["xgb"], [20], repeats=1, seed=1, out_dir=out, progress=False)
    subset(nb201_table, np.arange(0, 15625, 40)).save(path)  # the table grew
    with pytest.raises(UserInputError, match=r"other settings \(table_sha256 differ\).*--overwrite"):
        evaluate(Table.load(path), ["xgb"], [20], repeats=1, out_dir=out, progress=False)
    grown = evaluate(Table.load(path), ["xgb"], [20], repeats=1, out_dir=out, progress=False, overwrite=True)
    assert int(grown["test_cells"].iloc[0]) == len(np.arange(0, 15625, 40)) - 20 != int(first["test_cells"].iloc[0])


# ---- the regressors against their libraries, built directly with the documented settings ----------------------
@pytest.fixture(scope="module")
def regression_data():
    rng = np.random.default_rng(7)
    X = rng.normal(size=(40, 5)).astype(np.float32)
    Y = np.stack([X[:, 0] - X[:, 1] ** 2, X[:, 2] + 0.1 * rng.normal(size=40)], axis=1)
    return X, Y, rng.normal(size=(9, 5)).astype(np.float32)


def _spread(predictions):
    stack = np.stack([p.reshape(len(p), -1) for p in predictions])
    return stack.mean(axis=0), stack.std(axis=0)


def test_model_defaults_and_minimum_cells_are_the_documented_ones():
    from nasbench_suite.surrogate.models import MODELS, GPModel, MLPEnsembleModel, RandomForestModel, XGBModel

    assert XGBModel.defaults == {"members": 5, "n_estimators": 400, "max_depth": 4, "learning_rate": 0.05,
                                 "subsample": 0.8, "colsample_bytree": 0.8, "min_child_weight": 1.0, "n_jobs": 1}
    assert RandomForestModel.defaults == {"n_estimators": 300, "max_features": 0.5, "min_samples_leaf": 1,
                                          "n_jobs": 1}
    assert GPModel.defaults == {"nu": 2.5, "restarts": 0}
    assert MLPEnsembleModel.defaults == {"members": 5, "hidden": (128, 128), "alpha": 1e-3,
                                         "learning_rate_init": 1e-3, "max_iter": 500}
    assert [(n, MODELS[n].min_cells) for n in ("xgb", "rf", "gp", "mlp")] == [("xgb", 10), ("rf", 5), ("gp", 5),
                                                                              ("mlp", 10)]


def test_make_model_names_bad_names_and_settings_exactly():
    from nasbench_suite.surrogate.models import XGBModel, make_model

    model = make_model("xgb", seed="3", max_depth=2)
    assert type(model) is XGBModel and model.seed == 3 and model.params["max_depth"] == 2
    assert model.params["n_estimators"] == 400  # the other defaults stay
    with pytest.raises(UserInputError) as error:
        make_model("svm")
    assert str(error.value) == "unknown surrogate model 'svm'; valid: xgb, rf, gp, mlp, gin"
    with pytest.raises(UserInputError) as error:
        make_model("rf", depth=3, trees=2)
    assert str(error.value) == ("model 'rf' got unknown settings: depth, trees; valid: n_estimators, max_features, "
                                "min_samples_leaf, n_jobs")


def test_make_model_seeds_like_the_model_class_and_names_the_extra_gin_needs(monkeypatch):
    import sys

    from nasbench_suite.surrogate.models import RandomForestModel, make_model

    assert make_model("rf").seed == RandomForestModel().seed == 0
    monkeypatch.setitem(sys.modules, "torch", None)  # makes `import torch` raise ImportError
    monkeypatch.delitem(sys.modules, "nasbench_suite.surrogate.gin", raising=False)
    with pytest.raises(UserInputError) as error:
        make_model("gin")
    assert str(error.value) == "model 'gin' needs torch: pip install 'nasbench-suite[train]'"


def test_xgb_model_is_an_ensemble_of_seeded_hist_boosters_and_restores_from_its_state(regression_data):
    import xgboost as xgb

    from nasbench_suite.surrogate.models import make_model

    X, Y, test = regression_data
    settings = {"n_estimators": 30, "max_depth": 3, "learning_rate": 0.1, "subsample": 0.7, "colsample_bytree": 0.6,
                "min_child_weight": 2.0, "n_jobs": 1}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = make_model("xgb", seed=2, members=3, **settings).fit(X, Y)
    assert not [str(w.message) for w in caught if "not used" in str(w.message)]  # XGBoost warns of a setting it
    # does not know (e.g. members), as a Python warning (pytest keeps it from stderr)
    reference = [xgb.XGBRegressor(tree_method="hist", random_state=2000 + m, **settings).fit(X, Y).predict(test)
                 for m in range(3)]
    mean, std = model.predict(test)
    expected_mean, expected_std = _spread(reference)
    assert mean.shape == std.shape == (9, 2) and std.min() > 0
    np.testing.assert_allclose(mean, expected_mean, rtol=1e-6)
    np.testing.assert_allclose(std, expected_std, rtol=1e-5, atol=1e-7)
    restored = make_model("xgb", seed=2, members=3, **settings).restore(model.state(), X[:0], Y[:0])
    assert [np.array_equal(a, b) for a, b in zip(restored.predict(test), (mean, std))] == [True, True]
    assert set(model.state()) == {"member0.ubj", "member1.ubj", "member2.ubj"}
    config = json.loads(model.members_[0].save_config())["learner"]["gradient_booster"]["gbtree_train_param"]
    assert config["tree_method"] == "hist"  # set, not left to the version's default
    threads = make_model("xgb", members=1, n_jobs=2).restore(model.state(), X[:0], Y[:0]).members_[0]
    assert json.loads(threads.save_config())["learner"]["generic_param"]["nthread"] == "2"  # n_jobs holds on reload


def test_rf_model_is_the_seeded_forest_with_the_spread_over_its_trees(regression_data):
    import warnings

    from sklearn.ensemble import RandomForestRegressor

    from nasbench_suite.surrogate.models import make_model

    X, Y, test = regression_data
    for targets in (Y, Y[:, :1]):  # a single output is fitted as a 1-D target (a column warns in scikit-learn)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            model = make_model("rf", seed=4, n_estimators=12).fit(X, targets)
        forest = RandomForestRegressor(n_estimators=12, max_features=0.5, min_samples_leaf=1, n_jobs=1,
                                       random_state=4).fit(X, targets if targets.shape[1] > 1 else targets[:, 0])
        mean, std = model.predict(test)
        expected_mean, expected_std = _spread([tree.predict(test) for tree in forest.estimators_])
        assert mean.shape == (9, targets.shape[1])
        np.testing.assert_allclose(mean, expected_mean, rtol=1e-12)
        np.testing.assert_allclose(std, expected_std, rtol=1e-12)
        assert model.forest_.n_jobs == 1 and model.forest_.max_features == 0.5


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")  # the same fit on both sides
def test_gp_model_is_a_matern_plus_noise_gp_on_scaled_features(regression_data):
    from sklearn.gaussian_process import GaussianProcessRegressor
    from sklearn.gaussian_process.kernels import ConstantKernel, Matern, WhiteKernel
    from sklearn.preprocessing import StandardScaler

    from nasbench_suite.surrogate.models import make_model

    X, Y, test = regression_data
    model = make_model("gp", seed=1, nu=0.5, restarts=1).fit(X, Y)  # not sklearn's defaults (1.5, 0)
    scaler = StandardScaler().fit(X)
    kernel = ConstantKernel() * Matern(length_scale=np.sqrt(5), nu=0.5) + WhiteKernel()
    gp = GaussianProcessRegressor(kernel, n_restarts_optimizer=1, random_state=1).fit(scaler.transform(X), Y)
    mean, std = model.predict(test)
    expected_mean, expected_std = gp.predict(scaler.transform(test), return_std=True)
    assert mean.shape == std.shape == (9, 2)
    np.testing.assert_allclose(mean, expected_mean, rtol=1e-9)
    np.testing.assert_allclose(std, expected_std, rtol=1e-9)
    single_mean, single_std = make_model("gp").fit(X, Y[:, :1]).predict(test)
    assert single_mean.shape == single_std.shape == (9, 1)
    # restarts from seeded starting points (on this data every start reaches the same optimum, hence the check)
    assert model.pipeline_[-1].n_restarts_optimizer == 1 and model.pipeline_[-1].random_state == 1


def test_default_restore_refits_on_the_same_data_and_cell_graphs():
    from nasbench_suite.surrogate.models import Model

    class Recorder(Model):
        name, min_cells, defaults = "recorder", 1, {}

        def fit(self, X, Y, ops=None):
            self.seen = (X, Y, ops)
            return self

        def predict(self, X, ops=None):
            raise NotImplementedError

    X, Y, ops = np.zeros((3, 2)), np.ones((3, 1)), np.arange(18).reshape(3, 6)
    model = Recorder()
    assert model.restore({}, X, Y, ops) is model and model.seen[0] is X and model.seen[1] is Y and model.seen[2] is ops


def test_mlp_model_is_an_ensemble_of_differently_seeded_scaled_mlps(regression_data):
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPRegressor
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from nasbench_suite.surrogate.models import make_model

    X, Y, test = regression_data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = make_model("mlp", seed=3, members=2, hidden=[8, 4], alpha=0.01, learning_rate_init=0.01,
                           max_iter=30).fit(X, Y)
        reference = [make_pipeline(StandardScaler(), MLPRegressor(hidden_layer_sizes=(8, 4), alpha=0.01,
                                                                  learning_rate_init=0.01, max_iter=30,
                                                                  random_state=3000 + m)).fit(X, Y).predict(test)
                     for m in range(2)]
    mean, std = model.predict(test)
    expected_mean, expected_std = _spread(reference)
    np.testing.assert_allclose(mean, expected_mean, rtol=1e-12)
    np.testing.assert_allclose(std, expected_std, rtol=1e-12)
    assert std.min() > 0


# ---- surrogate evaluation: scores, noise ceiling, training sets and the summary, on hand-made cases -------------
def test_scores_are_the_rank_error_and_top_fraction_metrics():
    truth = np.arange(200.0)
    pred = truth.copy()
    pred[[0, 199]] = pred[[199, 0]]  # the worst cell predicted best, the best worst
    out = score(truth, pred)
    assert out["kendall_tau"] == pytest.approx(kendalltau(pred, truth)[0], abs=1e-12)
    assert out["spearman"] == pytest.approx(1 - 6 * 2 * 199**2 / (200 * (200**2 - 1)), abs=1e-12)
    assert out["r2"] == pytest.approx(1 - 2 * 199**2 / np.sum((truth - truth.mean()) ** 2), abs=1e-12)
    assert out["mae"] == pytest.approx(2 * 199 / 200, abs=1e-12)
    assert (out["top1_precision"], out["top5_precision"]) == (0.5, 0.9)  # top 2: {198, 0} vs {199, 198}
    small, swapped = np.arange(30.0), np.arange(30.0)
    swapped[[28, 29]] = swapped[[29, 28]]
    out = score(small, swapped)  # top 1%: round(0.3) -> at least 1 cell; top 5%: round(1.5) = 2 cells
    assert (out["top1_precision"], out["top5_precision"]) == (0.0, 1.0)
    assert list(out) == ["kendall_tau", "spearman", "r2", "mae", "top1_precision", "top5_precision"]


def test_noise_ceiling_is_the_median_over_seeds_of_one_seed_predicting_the_others(nb201_table):
    cells = nb201_table.archs[:60]
    part = subset(nb201_table, cells)
    k = list(part.epochs).index(200)
    seeds = np.stack([part.values(m, 200) for m in ("valid_acc", "valid_test_acc", "test_acc")], axis=1)
    seeds[:5, 0] = np.nan  # a seed that did not finish some cells is scored on the rest
    seeds[5:55, 2] = np.nan  # one with only 10 cells left still counts; fewer would not
    metric = np.full((60, 3, len(part.epochs)), np.nan)
    metric[:, :, k] = seeds
    three = Table(space=part.space, dataset=part.dataset, archs=part.archs, seeds=[1, 2, 3], epochs=part.epochs,
                  columns=part.columns)
    three.set_metric("valid_acc", metric)
    rows = []
    for s in range(3):
        others = np.array([np.nanmean(np.delete(row, s)) for row in seeds])
        ok = ~np.isnan(seeds[:, s])
        rows.append(score(others[ok], seeds[ok, s]))
    ceiling = noise_ceiling(three, "valid_acc@200")
    assert ceiling == {m: pytest.approx(np.median([r[m] for r in rows]), abs=1e-12) for m in rows[0]}
    metric[5:56, :, k] = np.nan  # now every seed keeps 9 cells: no ceiling
    three.set_metric("valid_acc", metric)
    assert noise_ceiling(three, "valid_acc@200") is None
    one = Table(space=part.space, dataset=part.dataset, archs=part.archs, seeds=[1], epochs=part.epochs)
    one.set_metric("valid_acc", np.where(np.arange(len(part.epochs)) == k, seeds[:, :1, None], np.nan))
    assert noise_ceiling(one, "valid_acc@200") is None  # one seed (55 cells measured)


def test_a_published_mean_beside_training_seeds_counts_as_no_seed_for_noise_or_ceiling():
    """Seed -1 is a published mean over seeds, not a training run: it must neither make a second seed (seed noise,
    noise ceiling) nor join the seeds it averages."""
    table = _two_seed_table(60)
    values = table.metrics["valid_acc"].values
    published = values.mean(axis=1, keepdims=True) + 0.3  # a mean of other runs, beside the cell's own seeds
    with_mean = Table(space="nb201", dataset="toy", archs=table.archs, seeds=np.array([-1, 0, 1]),
                      epochs=table.epochs)
    with_mean.set_metric("valid_acc", np.concatenate([published, values], axis=1))
    train = table.archs[:30]
    assert _rf().fit(with_mean, train).noise_sd_[0] == pytest.approx(_rf().fit(table, train).noise_sd_[0])
    assert noise_ceiling(with_mean, "valid_acc@12") == pytest.approx(noise_ceiling(table, "valid_acc@12"))
    one = Table(space="nb201", dataset="toy", archs=table.archs, seeds=np.array([-1, 0]), epochs=table.epochs)
    one.set_metric("valid_acc", np.concatenate([published, values[:, :1]], axis=1))
    assert _rf().fit(one, train).metadata()["noise"] == {"valid_acc@12": "ensemble"}
    assert noise_ceiling(one, "valid_acc@12") is None


def test_training_sets_are_sorted_prefixes_of_one_permutation_of_the_measured_cells_per_repeat(nb201_table):
    from nasbench_suite.surrogate.evaluation import training_sets

    part = subset(nb201_table, nb201_table.archs[:50])
    sets = training_sets(part, "valid_acc@200", [5, 20], repeats=2, seed=3)
    assert sorted(sets) == [(5, 0), (5, 1), (20, 0), (20, 1)]
    for r in range(2):
        order = np.random.default_rng([3, r]).permutation(part.archs)
        assert np.array_equal(sets[(5, r)], np.sort(order[:5]))
        assert np.array_equal(sets[(20, r)], np.sort(order[:20]))
    assert not np.array_equal(sets[(20, 0)], sets[(20, 1)])
    with pytest.raises(UserInputError) as error:
        training_sets(part, "valid_acc@200", [50], repeats=1, seed=0)
    assert str(error.value) == "train size 50 leaves no unseen cell to score: the table has 50 measured cells"


def test_summary_and_markdown_give_medians_over_repeats_with_the_tau_range():
    import pandas as pd

    from nasbench_suite.surrogate.evaluation import markdown, summary

    rows = [{"model": "xgb", "train_size": 10, "repeat": r, "kendall_tau": tau, "spearman": 0.5, "r2": r2,
             "mae": 1.0, "top1_precision": 0.0, "top5_precision": 0.25, "fit_seconds": 2.0 + r}
            for r, (tau, r2) in enumerate([(0.2, 0.1), (0.6, 0.3), (0.5, -0.2)])]
    rows.append({"model": "rf", "train_size": 10, "repeat": 0, "kendall_tau": 0.4, "spearman": 0.45, "r2": 0.2,
                 "mae": 2.0, "top1_precision": 1.0, "top5_precision": 0.5, "fit_seconds": 1.0})
    table = summary(pd.DataFrame(rows))
    xgb = table.iloc[0]
    assert list(table["model"]) == ["xgb", "rf"]  # in the order first seen
    assert (xgb.kendall_tau, xgb.tau_min, xgb.tau_max, xgb.r2, xgb.fit_seconds, xgb.repeats) == (
        0.5, 0.2, 0.6, pytest.approx(0.1), 3.0, 3)
    header = ["| model | train cells | Kendall tau (min-max) | Spearman | R^2 | MAE | top-1% prec. | top-5% prec. "
              "| fit s | repeats |", "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
              "| xgb | 10 | 0.500 (0.200-0.600) | 0.500 | 0.100 | 1.000 | 0.000 | 0.250 | 3.00 | 3 |",
              "| rf | 10 | 0.400 (0.400-0.400) | 0.450 | 0.200 | 2.000 | 1.000 | 0.500 | 1.00 | 1 |"]
    assert markdown(pd.DataFrame(rows), "Title") == "\n".join([
        "# Title", "", "Median over repeats, scored on all cells not used for training. The table has one seed per "
        "cell, so there is no noise ceiling (one seed predicting the others).", "", *header]) + "\n"
    ceiling = {"model": "noise_ceiling", "train_size": 0, "repeat": 0, "kendall_tau": 0.9, "spearman": 0.9,
               "r2": 0.8, "mae": 0.1, "top1_precision": 1.0, "top5_precision": 1.0}  # no fit time: an empty cell
    assert markdown(pd.DataFrame(rows + [ceiling]), "Title") == "\n".join([
        "# Title", "", "Median over repeats, scored on all cells not used for training.", "", *header,
        "| noise_ceiling | 0 | 0.900 (0.900-0.900) | 0.900 | 0.800 | 0.100 | 1.000 | 1.000 |  | 1 |"]) + "\n"


def test_surrogate_predicts_in_target_units_from_a_model_fitted_on_standardised_targets(nb201_table):
    """The documented pipeline written out: features (a missing column value filled with the column's minimum over
    the training cells), targets standardised per column, the model's mean and spread mapped back."""
    from nasbench_suite.space import NB201
    from nasbench_suite.surrogate.features import feature_matrix
    from nasbench_suite.surrogate.models import make_model

    train = np.union1d(np.arange(0, 1000, 16), [10, 104])  # 65 cells, two dead (no naswot_score)
    test = np.union1d(np.arange(3, 1000, 37), [12, 74])
    naswot = nb201_table.column("naswot_score")
    assert np.isnan(naswot[train]).any() and np.isnan(naswot[test]).any()
    surrogate = Surrogate(model="rf", features=["onehot", "naswot_score"], target="valid_acc@200,test_acc@200",
                          seed=3, params={"n_estimators": 8}).fit(nb201_table, train)
    Y = np.stack([nb201_table.query_many(train, m, 200) for m in ("valid_acc", "test_acc")], axis=1)
    mu, sd = Y.mean(axis=0), Y.std(axis=0) + 1e-12

    def features(cells):
        X = feature_matrix(NB201, cells, ("onehot", "naswot_score"), {"naswot_score": naswot})
        fill = np.nanmin(feature_matrix(NB201, train, ("onehot", "naswot_score"), {"naswot_score": naswot}), axis=0)
        return np.where(np.isnan(X), fill, X)

    model = make_model("rf", 3, n_estimators=8).fit(features(train), (Y - mu) / sd)
    mean, std = model.predict(features(test))
    got_mean, got_std = surrogate.predict(test)
    np.testing.assert_allclose(got_mean, mean * sd + mu, rtol=1e-12)
    np.testing.assert_allclose(got_std, std * sd, rtol=1e-12)
    assert surrogate.metadata()["params"] == {"n_estimators": 8, "max_features": 0.5, "min_samples_leaf": 1,
                                              "n_jobs": 1}
    # one fresh run: valid_acc@200 has training seeds 777/888/999, so the pooled seed-to-seed sd over the training
    # cells; test_acc@200 has only a published mean (seed -1), so the ensemble's spread
    per_seed = np.stack([nb201_table.query_many(train, "valid_acc", 200, seed) for seed in (777, 888, 999)], axis=1)
    pooled = np.sqrt(np.nanmean(np.nanvar(per_seed, axis=1, ddof=1)))
    observed_mean, observed_sd = surrogate.observation_sd(test)
    assert np.array_equal(observed_mean, got_mean)
    np.testing.assert_allclose(observed_sd[:, 0], pooled, rtol=1e-12)
    assert np.array_equal(observed_sd[:, 1], got_std[:, 1])
    rng = np.random.default_rng(4)
    expected = got_mean + observed_sd * np.random.default_rng(4).standard_normal(got_mean.shape)
    assert np.array_equal(surrogate.sample(test, rng), expected)
    single = Surrogate(model="rf", features=["onehot"], params={"n_estimators": 4}).fit(nb201_table, train)
    assert single.predict(test)[0].shape == (len(test),) and single.target_labels == ["valid_acc@200"]
    with pytest.raises(UserInputError) as error:
        single.output("test_acc@200")
    assert str(error.value) == "this surrogate does not predict 'test_acc@200'; it predicts valid_acc@200"
    with pytest.raises(UserInputError) as error:
        Surrogate().predict(test)
    assert str(error.value) == "this surrogate is not fitted yet: call fit(table, archs) or load a file"


def test_targets_parse_as_documented_with_exact_errors(nb201_table):
    from nasbench_suite.surrogate.api import Target, parse_targets

    assert parse_targets(nb201_table, " valid_acc@200 , params_m") == [Target("valid_acc", 200), Target("params_m")]
    assert parse_targets(nb201_table, ["test_acc"]) == [Target("test_acc", 12), Target("test_acc", 200)]
    assert [t.label for t in parse_targets(nb201_table, "valid_acc@12")] == ["valid_acc@12"]
    assert Target.from_label("valid_acc@12") == Target("valid_acc", 12) and Target.from_label("x").epoch is None
    expected = {
        "valid_acc@7": "target 'valid_acc@7': the table has valid_acc at epochs 12, 200; write it as valid_acc@EPOCH",
        "valid_acc@x": "target 'valid_acc@x': the table has valid_acc at epochs 12, 200; write it as valid_acc@EPOCH",
        " , ": "a surrogate needs a non-empty target, e.g. valid_acc@200",
        "valid_acc@200,valid_acc": "targets ['valid_acc@200', 'valid_acc'] name a quantity twice",
    }
    for target, message in expected.items():
        with pytest.raises(UserInputError) as error:
            parse_targets(nb201_table, target)
        assert str(error.value) == message
    with pytest.raises(UserInputError) as error:
        parse_targets(nb201_table, "nope")
    assert str(error.value).startswith("target 'nope' is not in the table; metrics: test_acc, train_acc, ")
    assert "(as metric@epoch); columns: energy_edgegpu_mj, " in str(error.value)


def test_table_checksum_covers_axes_metrics_and_columns(nb201_table):
    from nasbench_suite.surrogate.api import table_checksum

    part = subset(nb201_table, nb201_table.archs[:30])
    base = table_checksum(part)
    assert base == table_checksum(subset(nb201_table, nb201_table.archs[:30])) and len(base) == 64
    changed = []
    for edit in ("metric", "column", "archs", "epochs"):
        other = subset(nb201_table, nb201_table.archs[:30])
        if edit == "metric":  # a measured value (NaN + 0.01 would leave the table as it was)
            values = other.metrics["valid_acc"].values
            values[tuple(np.argwhere(~np.isnan(values))[0])] += 0.01
        elif edit == "column":
            other.columns["params_m"].values[3] += 1
        elif edit == "archs":
            other = subset(nb201_table, nb201_table.archs[1:31])
        else:
            other.epochs = other.epochs + 1
        changed.append(table_checksum(other) != base)
    assert changed == [True, True, True, True]


def test_surrogate_file_helpers(nb201_table, fitted, tmp_path):
    from nasbench_suite.surrogate.api import _one_line, default_path, read_metadata
    from nasbench_suite.table import TableError

    path = fitted.save(tmp_path / "s.surrogate")
    assert read_metadata(path) == fitted.metadata()
    assert default_path(nb201_table) == Path("nb201-cifar10.surrogate")
    with pytest.raises(TableError) as error:
        default_path(subset(nb201_table, nb201_table.archs[:20]))
    assert str(error.value) == "the table has no file; give the surrogate an explicit path"
    assert _one_line(ValueError("\n  first line \nsecond")) == "ValueError: first line"
    assert _one_line(KeyError()) == "KeyError" and _one_line(OSError("x" * 300)) == "OSError: " + "x" * 200


def test_evaluation_report_writes_the_table_and_the_tau_and_scatter_plots(tmp_path):
    import pandas as pd

    from nasbench_suite.surrogate.evaluation import markdown, write_report

    rows = [{"model": m, "train_size": n, "repeat": r, "kendall_tau": 0.1 * r + n / 1000, "spearman": 0.5, "r2": 0.2,
             "mae": 1.0, "top1_precision": 0.0, "top5_precision": 0.5} for m in ("xgb", "rf") for n in (10, 100)
            for r in (0, 1)]
    ceiling = {"model": "noise_ceiling", "train_size": 0, "repeat": 0, "kendall_tau": 0.9, "spearman": 0.9, "r2": 0.8,
               "mae": 0.1, "top1_precision": 1.0, "top5_precision": 1.0}
    np.savez(tmp_path / "scatter_xgb_n100.npz", true=np.array([1.0, 2, 3, 4]), pred=np.array([1.0, 3, 2, 4]))
    frame = pd.DataFrame(rows + [ceiling])
    written = write_report(frame, tmp_path, "Eval title")
    assert [p.name for p in written] == ["surrogate_eval.md", "tau_vs_train_size.png", "tau_vs_train_size.svg",
                                         "predicted_vs_true.png", "predicted_vs_true.svg"]
    assert (tmp_path / "surrogate_eval.md").read_text() == markdown(frame, "Eval title")
    tau_plot = (tmp_path / "tau_vs_train_size.svg").read_text()  # matplotlib keeps each text as an SVG comment
    for text in ("Eval title", "training cells", "Kendall tau on unseen cells", "xgb", "rf", "noise ceiling"):
        assert f"<!-- {text} -->" in tau_plot, text
    scatter = (tmp_path / "predicted_vs_true.svg").read_text()
    for text in ("xgb_n100: tau 0.667", "true", "predicted"):
        assert f"<!-- {text} -->" in scatter, text
    for name in ("tau_vs_train_size.png", "predicted_vs_true.png"):
        assert png_dpi(tmp_path / name) == 130
    (tmp_path / "scatter_xgb_n100.npz").unlink()
    written = write_report(frame[frame["model"] != "noise_ceiling"], tmp_path / "plain", "T")
    assert [p.name for p in written][-1] == "tau_vs_train_size.svg"  # no scatter data: no scatter plot
    assert "noise ceiling" not in (tmp_path / "plain" / "tau_vs_train_size.svg").read_text()


def test_evaluate_checks_its_settings_and_keeps_the_largest_size_up_to_1000_for_the_scatter(nb201_table, tmp_path):
    from nasbench_suite.surrogate.evaluation import evaluate

    part = subset(nb201_table, nb201_table.archs[:80])
    for kwargs, message in ((dict(train_sizes=[0]), "train sizes and repeats must be positive integers"),
                            (dict(train_sizes=[10], repeats=0), "train sizes and repeats must be positive integers"),
                            (dict(train_sizes=[10], target="valid_acc"),
                             "evaluation scores one target; 'valid_acc' names several")):
        with pytest.raises(UserInputError) as error:
            evaluate(part, ["rf"], progress=False, **kwargs)
        assert str(error.value) == message
    frame = evaluate(part, ["rf"], [10, 20], repeats=1, features=["onehot"], out_dir=tmp_path, progress=False)
    assert [p.name for p in tmp_path.glob("scatter_*.npz")] == ["scatter_rf_n20.npz"]
    # the table has training seeds: a noise-ceiling row (no training set, scored on every cell) ends the frame
    assert list(frame["model"]) == ["rf", "rf", "noise_ceiling"]
    assert list(frame["train_size"]) == [10, 20, 0] and list(frame["test_cells"]) == [70, 60, 80]
    quiet = evaluate(part, ["rf"], [10], repeats=1, features=["onehot"], progress=False)  # no folder: no files
    assert list(quiet["model"]) == ["rf", "noise_ceiling"]
    assert quiet["kendall_tau"].iloc[0] == frame["kendall_tau"].iloc[0]


def test_evaluation_figures_plot_the_medians_bands_ceiling_and_identity_line(tmp_path):
    """The data behind the report's plots, artist by artist (a wrong column or a lost band changes no file name)."""
    import matplotlib.pyplot as plt
    import pandas as pd
    from matplotlib.colors import to_hex

    from nasbench_suite.surrogate.evaluation import scatter_figure, tau_figure

    taus = {("xgb", 10): (0.0, 0.2, 0.1), ("xgb", 100): (0.7, 0.9, 0.8), ("rf", 10): (0.1, 0.3, 0.2),
            ("rf", 100): (0.5, 0.4, 0.6)}
    rows = [{"model": m, "train_size": n, "repeat": r, "kendall_tau": t, "spearman": 0.5, "r2": 0.2, "mae": 1.0,
             "top1_precision": 0.0, "top5_precision": 0.5} for (m, n), ts in taus.items() for r, t in enumerate(ts)]
    ceiling = {**rows[0], "model": "noise_ceiling", "train_size": 0, "kendall_tau": 0.95}
    fig = tau_figure(pd.DataFrame(rows + [ceiling]), "T")
    ax = fig.axes[0]
    lines = {line.get_label(): line for line in ax.get_lines()}
    assert [text.get_text() for text in ax.get_legend().get_texts()] == ["xgb", "rf", "noise ceiling"]  # frame order
    assert lines["rf"].get_xdata().tolist() == [10, 100] and lines["rf"].get_ydata().tolist() == [0.2, 0.5]
    assert lines["xgb"].get_ydata().tolist() == [0.1, 0.8] and lines["xgb"].get_marker() == "o"
    assert list(lines["noise ceiling"].get_ydata()) == [0.95, 0.95]
    assert lines["noise ceiling"].get_linestyle() == "--"
    bands = [np.unique(np.round(c.get_paths()[0].vertices, 6), axis=0).tolist() for c in ax.collections]
    assert bands == [[[10, 0.0], [10, 0.2], [100, 0.7], [100, 0.9]], [[10, 0.1], [10, 0.3], [100, 0.4], [100, 0.6]]]
    assert ax.get_xscale() == "log" and ax.get_title() == "T" and tuple(fig.get_size_inches()) == (6, 4)
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("training cells", "Kendall tau on unseen cells")
    assert to_hex(lines["noise ceiling"].get_color()) == "#000000"  # black: no model's colour
    assert [band.get_alpha() for band in ax.collections] == [0.2, 0.2]  # see-through: no band hides a median
    plt.close(fig)

    for name, pred in (("xgb_n100", [1.0, 3, 2, 4]), ("rf_n10", [4.0, 3, 2, 1])):
        np.savez(tmp_path / f"scatter_{name}.npz", true=np.array([1.0, 2, 3, 5]), pred=np.array(pred))
    fig = scatter_figure(sorted(tmp_path.glob("scatter_*.npz")))
    assert [ax.get_title() for ax in fig.axes] == ["rf_n10: tau -1.000", "xgb_n100: tau 0.667"]
    assert tuple(fig.get_size_inches()) == (6.4, 3.2)
    points = fig.axes[1].collections[0].get_offsets()
    assert points[:, 0].tolist() == [1, 2, 3, 5] and points[:, 1].tolist() == [1, 3, 2, 4]
    identity = fig.axes[1].get_lines()[0]
    assert list(identity.get_xdata()) == [1, 5] and list(identity.get_ydata()) == [1, 5]
    assert to_hex(identity.get_color()) == "#000000"
    assert [(ax.get_xlabel(), ax.get_ylabel()) for ax in fig.axes] == [("true", "predicted")] * 2
    assert fig.axes[1].collections[0].get_rasterized()  # thousands of points stay one image in the SVG
    plt.close(fig)


def _rf(**settings) -> Surrogate:
    """A quick random forest of valid_acc@12 on the one-hot encoding (for the toy tables of `_two_seed_table`)."""
    return Surrogate(**{"model": "rf", "features": ["onehot"], "target": "valid_acc@12", "params": {"n_estimators": 5},
                        **settings})


def _two_seed_table(count: int, seed: int = 4) -> Table:
    """`count` cells with valid_acc at epochs 12 and 200 (different rankings) for two training seeds."""
    from nasbench_suite.space import NB201

    rng = np.random.default_rng(seed)
    archs = np.sort(rng.choice(15625, count, replace=False))
    ops = NB201.ops_of(archs)
    base = 60 + 3 * (ops == 3).sum(axis=1) - 2 * (ops == 0).sum(axis=1)
    at12, at200 = base[:, None] + rng.normal(0, 1, (count, 2)), 100 - base[:, None] + rng.normal(0, 1, (count, 2))
    table = Table(space="nb201", dataset="toy", archs=archs, seeds=np.array([0, 1]), epochs=np.array([12, 200]))
    table.set_metric("valid_acc", np.stack([at12, at200], axis=2))
    return table


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")  # the GP on 20 toy cells
def test_evaluate_scores_the_named_target_with_the_named_model_and_seed_and_adds_the_ceiling(tmp_path, capsys):
    """Each row equals the score of a surrogate fitted directly with the row's model, features, target and repeat
    seed on its training set; the scatter keeps exactly its predictions; the ceiling row is added once."""
    import pandas as pd

    from nasbench_suite.surrogate.evaluation import CEILING, CSV_NAME, evaluate, training_sets

    table = _two_seed_table(150)
    args = dict(target="valid_acc@12", features=["onehot"], seed=5, out_dir=tmp_path)
    start = time.perf_counter()
    frame = evaluate(table, ["rf"], [20], repeats=2, progress=True, **args)
    wall = time.perf_counter() - start
    assert re.search(r"(^|\r)surrogate eval: 100%", capsys.readouterr().err)  # the progress bar, named
    truth = pd.Series(table.values("valid_acc", 12), index=table.archs)
    sets = training_sets(table, "valid_acc@12", [20], 2, 5)
    for r in (0, 1):
        unseen = np.setdiff1d(table.archs, sets[(20, r)])
        direct = Surrogate(model="rf", features=["onehot"], target="valid_acc@12", seed=r).fit(table, sets[(20, r)])
        mean, _ = direct.predict(unseen)
        row = frame[(frame["model"] == "rf") & (frame["repeat"] == r)].iloc[0]
        assert row["kendall_tau"] == score(truth.loc[unseen].to_numpy(), mean)["kendall_tau"]
        assert row["test_cells"] == 130 and row["fit_seconds"] == round(row["fit_seconds"], 3) > 0
        if r == 0:
            scatter = np.load(tmp_path / "scatter_rf_n20.npz")
            np.testing.assert_array_equal(scatter["true"], truth.loc[unseen].to_numpy(np.float32))
            assert scatter["true"].dtype == scatter["pred"].dtype == np.float32
            np.testing.assert_array_equal(scatter["pred"], mean.astype(np.float32))
    assert frame["fit_seconds"].sum() <= wall  # measured fits, within the call that made them
    assert list(frame.index) == [0, 1, 2]  # one index over the rows and the ceiling
    expected = {"model": CEILING, "train_size": 0, "repeat": 0, "test_cells": 150,
                **noise_ceiling(table, "valid_acc@12")}
    for again in (frame, pd.read_csv(tmp_path / CSV_NAME), evaluate(table, ["rf"], [20], repeats=2, progress=False,
                                                                     **args)):
        ceiling = again[again["model"] == CEILING]
        assert len(ceiling) == 1 and ceiling.iloc[0][list(expected)].to_dict() == pytest.approx(expected, abs=1e-5)
        assert list(again["model"]) == ["rf", "rf", CEILING]
    assert capsys.readouterr().err == ""  # progress=False: no bar
    defaults = evaluate(table, ["gp"], [20], target="valid_acc@12", features=["onehot"])  # 5 repeats, a bar
    assert defaults["repeat"].tolist() == [0, 1, 2, 3, 4, 0] and "surrogate eval" in capsys.readouterr().err


def test_evaluate_scatters_the_largest_size_up_to_1000_and_accepts_size_one(tmp_path):
    from nasbench_suite.surrogate.evaluation import evaluate

    table = _two_seed_table(1010)
    evaluate(table, ["rf"], [5, 1000, 1001], repeats=1, features=["onehot"], out_dir=tmp_path / "a", progress=False)
    assert [p.name for p in (tmp_path / "a").glob("scatter_*.npz")] == ["scatter_rf_n1000.npz"]
    evaluate(table, ["rf"], [1002, 1001], repeats=1, features=["onehot"], out_dir=tmp_path / "b", progress=False)
    assert [p.name for p in (tmp_path / "b").glob("scatter_*.npz")] == ["scatter_rf_n1001.npz"]  # else the smallest
    with pytest.raises(UserInputError) as error:  # a size of 1 passes the size check and meets the model's minimum
        evaluate(table, ["rf"], [1], repeats=1, features=["onehot"], progress=False)
    assert "positive integers" not in str(error.value)


def test_evaluation_settings_record_the_tables_target_features_and_seed(tmp_path):
    import pandas as pd

    import nasbench_suite as ns
    from nasbench_suite.surrogate.evaluation import SETTINGS_NAME, evaluate, settings

    table = _two_seed_table(60)
    assert settings(table, "valid_acc@12", ("onehot",), None, 3) == {
        "table_sha256": table_checksum(table), "target": "valid_acc@12", "features": ["onehot"], "seed": 3,
        "features_from": None, "features_from_sha256": None}
    # a feature only the other table has: the evaluation fits with it and records where it came from
    frame = evaluate(table, ["rf"], [20], repeats=1, target="valid_acc@12", features=["onehot", "params_m"],
                     feature_table="nb201-cifar10", out_dir=tmp_path, progress=False)
    assert isinstance(frame, pd.DataFrame) and len(frame) == 2  # rf and the noise ceiling
    assert jsonio.loads((tmp_path / SETTINGS_NAME).read_text()) == {
        "table_sha256": table_checksum(table), "target": "valid_acc@12", "features": ["onehot", "params_m"],
        "seed": 0, "features_from": "nb201-cifar10",
        "features_from_sha256": table_checksum(ns.open_table("nb201-cifar10"))}


def test_loaded_rf_surrogate_keeps_its_seed_features_targets_and_missing_value_fill(nb201_table, tmp_path):
    """A model that re-fits on load (rf) with a non-default seed, features with missing values (dead cells have no
    naswot_score) and two targets: the loaded surrogate is the same object, not the defaults."""
    train = np.union1d(np.arange(0, 3000, 40), [10, 104])  # two dead cells among them
    fitted = Surrogate(model="rf", features=["onehot", "naswot_score"], target="valid_acc@12,test_acc@200", seed=3,
                       params={"n_estimators": 20}).fit(nb201_table, train)
    assert np.isnan(nb201_table.column("naswot_score")[[10, 104]]).all() and fitted.x_fill_.shape == (31,)
    path = fitted.save(tmp_path / "rf.surrogate")
    with zipfile.ZipFile(path) as z:
        assert [(i.filename, i.compress_type) for i in z.infolist()][1:] == [
            ("meta.json", zipfile.ZIP_DEFLATED), ("arrays.npz", zipfile.ZIP_DEFLATED)]
        assert z.read("meta.json").decode().startswith('{\n "model": "rf",\n "params": {')  # indent 1
        assert "x_fill_" in np.load(io.BytesIO(z.read("arrays.npz"))).files
    again = load(path)
    np.testing.assert_array_equal(again.x_fill_, fitted.x_fill_)
    cells = np.union1d(np.arange(1, 15625, 301), [10, 104])
    refit = load(path).fit(nb201_table, train)  # the loaded settings, fitted again: the same surrogate
    for loaded in (again, refit):
        for a, b in zip(loaded.predict(cells), fitted.predict(cells)):
            np.testing.assert_array_equal(a, b)
    assert {k: v for k, v in again.metadata().items() if k != "software"} == {
        k: v for k, v in fitted.metadata().items() if k != "software"}


def test_gin_is_the_gin_update_over_the_cells_wiring_with_a_graph_readout():
    """The network against its definition, written out in numpy: h <- MLP((1 + eps) h + (A + A^T) h) per layer
    (two linear layers, ReLU after each), then sum over nodes, join the extra features, a two-layer head."""
    torch = pytest.importorskip("torch")
    from nasbench_suite.surrogate import gin

    torch.manual_seed(0)
    net = gin._GIN(extra=2, outputs=1, hidden=5, layers=2)
    assert [(k, tuple(v.shape)) for k, v in net.state_dict().items()] == [
        ("eps", (2,)), ("layers.0.0.weight", (5, 7)), ("layers.0.0.bias", (5,)), ("layers.0.2.weight", (5, 5)),
        ("layers.0.2.bias", (5,)), ("layers.1.0.weight", (5, 5)), ("layers.1.0.bias", (5,)),
        ("layers.1.2.weight", (5, 5)), ("layers.1.2.bias", (5,)), ("head.0.weight", (5, 7)), ("head.0.bias", (5,)),
        ("head.2.weight", (1, 5)), ("head.2.bias", (1,))]
    with torch.no_grad():
        net.eps.copy_(torch.tensor([0.3, -0.2]))
    ops = np.array([[3, 0, 2, 1, 4, 3], [1, 1, 0, 3, 2, 2], [0, 0, 0, 0, 0, 0]])
    adjacency, labels = gin._graph_inputs(ops)
    assert gin._graph_inputs(ops[:1])[1].shape == (1, 8, 7)  # one cell is enough
    extra = np.array([[0.5, -1.0], [2.0, 0.1], [0.0, 0.0]], dtype=np.float32)
    w = {k: v.numpy().astype(np.float64) for k, v in net.state_dict().items()}
    relu = lambda z: np.maximum(z, 0)  # noqa: E731
    a = adjacency.numpy().astype(np.float64)
    h = labels.numpy().astype(np.float64)
    for i in range(2):
        z = (1 + w["eps"][i]) * h + (a + a.T) @ h
        z = relu(z @ w[f"layers.{i}.0.weight"].T + w[f"layers.{i}.0.bias"])
        h = relu(z @ w[f"layers.{i}.2.weight"].T + w[f"layers.{i}.2.bias"])
    joined = np.concatenate([h.sum(axis=1), extra], axis=1)
    expected = relu(joined @ w["head.0.weight"].T + w["head.0.bias"]) @ w["head.2.weight"].T + w["head.2.bias"]
    with torch.no_grad():
        got = net(adjacency, labels, torch.from_numpy(extra)).numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


def test_gin_model_standardises_features_and_trains_each_member_as_documented():
    """fit() written out: features standardised with the training mean and std (+1e-6), member m seeded with
    1000 * seed + m and trained full-batch with Adam (lr, weight decay) on MSE; predict() standardises the same way."""
    torch = pytest.importorskip("torch")
    from nasbench_suite.surrogate import gin

    rng = np.random.default_rng(3)
    ops, X, Y = rng.integers(0, 5, (24, 6)), rng.normal(2, 3, (24, 3)), rng.normal(size=(24, 2))
    model = gin.GINModel(seed=3, members=2, hidden=6, layers=2, epochs=4, lr=0.01, weight_decay=0.001).fit(X, Y, ops)
    np.testing.assert_array_equal(model.x_mean_, X.mean(axis=0))
    np.testing.assert_array_equal(model.x_std_, X.std(axis=0) + 1e-6)
    adjacency, labels = gin._graph_inputs(ops)
    extra = torch.from_numpy(((X - X.mean(axis=0)) / (X.std(axis=0) + 1e-6)).astype(np.float32))
    outputs = []
    for m, net in enumerate(model.members_):
        torch.manual_seed(3000 + m)
        ref = gin._GIN(3, 2, 6, 2)
        optimiser = torch.optim.Adam(ref.parameters(), lr=0.01, weight_decay=0.001)
        for _ in range(4):
            optimiser.zero_grad()
            loss = torch.nn.functional.mse_loss(ref(adjacency, labels, extra), torch.from_numpy(Y.astype(np.float32)))
            loss.backward()
            optimiser.step()
        assert all(torch.equal(a, b) for a, b in zip(ref.state_dict().values(), net.state_dict().values())), m
        with torch.no_grad():
            outputs.append(ref(adjacency, labels, extra).numpy())
    mean, std = model.predict(X, ops)
    expected_mean, expected_std = _spread(outputs)
    np.testing.assert_allclose(mean, expected_mean, rtol=1e-6)
    np.testing.assert_allclose(std, expected_std, rtol=1e-5, atol=1e-7)


def test_training_sets_and_noise_ceiling_read_the_targets_epoch():
    """Epoch 12 ranks the cells against epoch 200 and misses 10 cells there: both must be read at 12."""
    from nasbench_suite.surrogate.evaluation import training_sets

    table = _two_seed_table(60)
    values = table.metrics["valid_acc"].values.copy()
    values[:10, :, 0] = np.nan  # the first 10 cells have no 12-epoch result
    table.set_metric("valid_acc", values)
    sets = training_sets(table, "valid_acc@12", [49], repeats=1, seed=0)
    assert np.array_equal(sets[(49, 0)], np.sort(np.random.default_rng([0, 0]).permutation(table.archs[10:])[:49]))
    at12 = values[10:, :, 0]
    rows = [score(at12[:, 1 - s], at12[:, s]) for s in range(2)]
    assert noise_ceiling(table, "valid_acc@12") == {m: pytest.approx(np.median([r[m] for r in rows])) for m in rows[0]}


def test_evaluation_resume_errors_and_files_are_exact(tmp_path):
    """What a user reads when a folder holds another evaluation, and the bytes of the files it keeps."""
    import pandas as pd

    from nasbench_suite.surrogate.evaluation import CSV_NAME, SETTINGS_NAME, _write_csv, evaluate, settings

    table = _two_seed_table(60)
    args = dict(target="valid_acc@12", features=["onehot"], progress=False)
    evaluate(table, ["rf"], [20], repeats=1, out_dir=tmp_path, **args)
    assert (tmp_path / SETTINGS_NAME).read_text() == jsonio.dumps(
        settings(table, "valid_acc@12", ["onehot"], None, 0), indent=2, sort_keys=True) + "\n"
    with pytest.raises(UserInputError) as error:
        evaluate(table, ["rf"], [20], repeats=1, out_dir=tmp_path, seed=1, **{**args, "target": "valid_acc@200"})
    assert str(error.value) == (f"{tmp_path / CSV_NAME} holds an evaluation made under other settings (target, seed "
                                "differ); use --overwrite to delete it and start over, or another --out folder")
    # rows are saved as they finish: a run that fails at its second model keeps the first model's rows
    with pytest.raises(UserInputError, match="unknown surrogate model 'svm'"):
        evaluate(table, ["rf", "svm"], [20, 30], repeats=1, out_dir=tmp_path / "partial", **args)
    saved = pd.read_csv(tmp_path / "partial" / CSV_NAME)
    assert saved[["model", "train_size"]].values.tolist() == [["rf", 20], ["rf", 30]]
    (tmp_path / SETTINGS_NAME).unlink()
    with pytest.raises(UserInputError, match=rf"\(no {SETTINGS_NAME} records them\)"):
        evaluate(table, ["rf"], [20], repeats=1, out_dir=tmp_path, **args)
    assert [p.name for p in tmp_path.glob("scatter_*.npz")] == ["scatter_rf_n20.npz"]
    evaluate(table, ["rf"], [10], repeats=1, out_dir=tmp_path, overwrite=True, **args)
    assert [p.name for p in tmp_path.glob("scatter_*.npz")] == ["scatter_rf_n10.npz"]  # the old one deleted
    _write_csv(pd.DataFrame({"model": ["rf"], "kendall_tau": [1 / 3]}), tmp_path / "x.csv")
    assert (tmp_path / "x.csv").read_text() == "model,kendall_tau\nrf,0.33333\n"


def test_a_surrogate_file_that_fails_to_rebuild_names_the_software_that_saved_it(fitted, tmp_path):
    path = fitted.save(tmp_path / "s.surrogate")
    meta = jsonio.loads(zipfile.ZipFile(path).read("meta.json"))
    # well-formed metadata (so read_file's checks pass) that disagrees with the arrays: one training cell too few
    _rewrite(path, "meta.json", jsonio.dumps({**meta, "train_cells": meta["train_cells"][:-1]}).encode())
    with pytest.raises(SurrogateFileError) as error:
        load(path)
    assert "inconsistent surrogate file (ValueError: train_targets has shape (300, 3), expected (299, 3))" in \
        str(error.value)
    assert f"it was saved with {meta['software']}; " in str(error.value)


def test_surrogate_files_record_the_versions_of_the_packages_they_depend_on():
    import platform

    import sklearn
    import xgboost

    from nasbench_suite.surrogate.api import software_versions

    versions = software_versions()  # the test environment has every one of them (the train and test extras)
    assert set(versions) == {"python", "nasbench-suite", "numpy", "scikit-learn", "xgboost", "torch"}
    assert (versions["python"], versions["numpy"], versions["scikit-learn"], versions["xgboost"]) == (
        platform.python_version(), np.__version__, sklearn.__version__, xgboost.__version__)


def test_seed_noise_is_read_at_the_targets_epoch():
    table = _two_seed_table(60)
    values = table.metrics["valid_acc"].values
    values[:, 1, 1] = values[:, 0, 1] + 5.0  # at epoch 200 the seeds differ by a constant; at 12 by noise
    table.set_metric("valid_acc", values)
    surrogate = _rf()
    surrogate.fit(table, table.archs[:30])
    at12 = values[np.searchsorted(table.archs, np.sort(table.archs[:30])), :, 0]
    assert surrogate.noise_sd_[0] == pytest.approx(np.sqrt(np.mean(np.var(at12, axis=1, ddof=1))))
    np.testing.assert_allclose(surrogate.train_targets_[:, 0], at12.mean(axis=1), rtol=1e-6)  # fitted on epoch 12


def test_feature_errors_list_what_is_valid_exactly():
    from nasbench_suite.surrogate.features import check_features, encoding_names

    encodings = ", ".join(encoding_names())
    for features, columns, message in (
            ("", ["a"], f"a surrogate needs at least one feature; valid: {encodings} or a table column"),
            ("onehot,x", ["a", "b"], f"unknown feature 'x': not an encoding ({encodings}) and not a column of the "
                                     "table (a, b)"),
            (["x"], [], f"unknown feature 'x': not an encoding ({encodings}) and not a column of the table (none)"),
            ("a, a", ["a"], "feature list ['a', 'a'] names a feature twice")):
        with pytest.raises(UserInputError) as error:
            check_features(features, columns)
        assert str(error.value) == message
    assert check_features(" onehot , a ", ["a"]) == ("onehot", "a")
    table = _two_seed_table(40)  # made in memory: no file, so no name
    assert _rf().fit(table, table.archs[:20]).metadata()["table"] == ""


# ---- written for the survivors of the whole-module mutation run (eighth session) ---------------------------------

def test_fit_predict_and_output_errors_are_exact():
    table = _two_seed_table(40)
    cells = table.archs[:20]
    for surrogate, archs, message in (
            (_rf(), np.r_[cells, cells[:1]], "training cells must be distinct"),
            (_rf(target="valid_acc@12,valid_acc@200"), cells[:4],
             "model 'rf' needs at least 5 training cells with measured valid_acc@12, valid_acc@200; got 4"),
            (_rf(target="nope"), cells,  # a table without columns says so
             "target 'nope' is not in the table; metrics: valid_acc (as metric@epoch); columns: none")):
        with pytest.raises(UserInputError) as error:
            surrogate.fit(table, archs)
        assert str(error.value) == message
    fitted = _rf(target="valid_acc@12,valid_acc@200").fit(table, cells)
    with pytest.raises(UserInputError) as error:
        fitted.output("test_acc@200")
    assert str(error.value) == "this surrogate does not predict 'test_acc@200'; it predicts valid_acc@12, valid_acc@200"
    for archs, bad in ((np.array([0, 15625]), 15625), (np.array([-1, 3]), -1)):  # an index array takes the fast path
        with pytest.raises(UserInputError) as error:
            fitted.predict(archs)
        assert str(error.value) == f"1 of 2 arch indices are out of range, e.g. {bad}; expected 0..15624"


def test_a_surrogate_of_another_table_or_space_is_refused_exactly(nb201_table, tmp_path, monkeypatch):
    from nasbench_suite.space import NB201, SPACES
    from nasbench_suite.surrogate.api import check_table

    toy = _two_seed_table(40)
    unnamed = _rf().fit(toy, toy.archs[:20])  # fitted on a table made in memory
    named = _rf(target="valid_acc@200").fit(nb201_table, np.arange(0, 15625, 500))
    assert (unnamed.metadata()["table"], named.metadata()["table"]) == ("", "nb201-cifar10")
    toy_sum, nb201_sum = table_checksum(toy)[:12], table_checksum(nb201_table)[:12]
    monkeypatch.setitem(SPACES, "nb201-copy", NB201)  # a second space, registered as a new space would be
    copy = Table(space="nb201-copy", dataset="toy", archs=toy.archs, seeds=toy.seeds, epochs=toy.epochs,
                 metrics=toy.metrics)
    for surrogate, table, where, message in (
            (unnamed, nb201_table, "surrogate", f"surrogate was fitted on table ? with checksum {toy_sum}, not on "
                                                f"this table (nb201-cifar10, {nb201_sum}); rebuild it for this table"),
            (named, toy, "s.surrogate", f"s.surrogate was fitted on table nb201-cifar10 with checksum {nb201_sum}, "
                                        f"not on this table (in memory, {toy_sum}); rebuild it for this table"),
            (unnamed, copy, "surrogate", "surrogate is for space 'nb201', the table is space 'nb201-copy'")):
        with pytest.raises(SurrogateFileError) as error:
            check_table(surrogate, table) if where == "surrogate" else check_table(surrogate, table, where)
        assert str(error.value) == message
    copy.set_column("params_m", np.linspace(0.1, 1.0, len(copy.archs)))
    path = copy.save(tmp_path / "copy.h5")
    with pytest.raises(UserInputError) as error:
        _rf(features=["params_m"], feature_table=str(path)).fit(toy, toy.archs[:20])
    assert str(error.value) == (f"feature table {path} is of space 'nb201-copy', the fitted table of 'nb201'; "
                                "expected a table of the same space")


def test_surrogate_file_format_errors_are_exact(tmp_path):
    from nasbench_suite.surrogate.api import FORMAT_ENTRY, REBUILD

    toy = _two_seed_table(40)
    surrogate = _rf().fit(toy, toy.archs[:20])
    newer = surrogate.save(tmp_path / "newer.surrogate")
    _rewrite(newer, FORMAT_ENTRY, b"3" * 30)  # a later format: its version shown, cut at 20 bytes
    edited = surrogate.save(tmp_path / "edited.surrogate")
    _rewrite(edited, "meta.json", b"[1, 2]")
    plain = tmp_path / "plain.zip"
    with zipfile.ZipFile(plain, "w") as z:
        z.writestr("other", b"x")
    for path, message in (
            (newer, f"{newer} is surrogate format {b'3' * 20!r}; this nasbench-suite reads format 2: {REBUILD}"),
            (edited, f"{edited} is a corrupt surrogate file (meta.json is not an object); {REBUILD}"),
            (plain, f"{plain} is not a nasbench-suite surrogate file (wrong magic: expected a zip whose first entry "
                    "is nasbench-suite-surrogate)")):
        with pytest.raises(SurrogateFileError) as error:
            load(path)
        assert str(error.value) == message


def test_software_versions_leave_out_packages_that_are_not_installed(monkeypatch):
    from nasbench_suite.surrogate import api

    monkeypatch.setattr(api, "package_versions", lambda names: {"python": "3.11.9", "numpy": "2.1.0",
                                                                "torch": "not installed"})
    assert api.software_versions() == {"python": "3.11.9", "numpy": "2.1.0"}


def test_table_checksum_is_part_of_the_file_format():
    """Saved surrogates record this checksum and are refused when it differs, so the scheme (sha256 over the named
    axes, metrics and columns, in their stored dtypes) must not change without a new format version."""
    table = Table(space="nb201", dataset="toy", archs=np.array([1, 5]), seeds=np.array([0]), epochs=np.array([12]))
    table.set_metric("valid_acc", np.array([[[50.0]], [[60.0]]]))
    table.set_column("params_m", np.array([0.1, 0.2]))
    assert table_checksum(table) == "1c92b7ac133fc0e4da712966fa343d3f076a46eb7cb5724075bded4ad3090724"


def test_seed_noise_skips_columns_and_needs_two_cells_measured_twice():
    table = _two_seed_table(40)
    table.set_column("params_m", np.linspace(0.1, 1.0, 40))
    values = table.metrics["valid_acc"].values.copy()
    values[2:, 1, :] = np.nan  # only the first two cells have a second seed
    table.set_metric("valid_acc", values)
    surrogate = _rf(target="params_m,valid_acc@200").fit(table, table.archs[:20])  # a column first: no seeds
    assert surrogate.metadata()["noise"] == {"params_m": "ensemble", "valid_acc@200": "seeds"}
    assert np.isnan(surrogate.noise_sd_[0])
    assert surrogate.noise_sd_[1] == pytest.approx(np.sqrt(np.mean(np.var(values[:2, :, 1], axis=1, ddof=1))))
    values[1, 1, :] = np.nan  # one cell measured twice is not enough
    table.set_metric("valid_acc", values)
    assert _rf(target="valid_acc@200").fit(table, table.archs[:20]).metadata()["noise"] == {"valid_acc@200": "ensemble"}


def test_a_missing_feature_value_is_the_training_minimum_even_when_no_training_cell_misses_it(nb201_table):
    """Models other than XGBoost see a missing column value (dead cells have no naswot_score) as the column's
    minimum over the training cells. It used to be 0 when no training cell missed it: above every naswot_score
    (all negative), so dead cells looked like the best."""
    naswot = nb201_table.column("naswot_score")
    live, dead = nb201_table.archs[~np.isnan(naswot)], nb201_table.archs[np.isnan(naswot)]
    surrogate = Surrogate(model="rf", features=["naswot_score"], target="valid_acc@200", params={"n_estimators": 5})
    for train in (live[:50], live[50:100]):  # the second fit must not keep the first one's fill
        surrogate.fit(nb201_table, train)
        lowest = train[np.argmin(naswot[np.searchsorted(nb201_table.archs, train)])]
        assert surrogate.x_fill_.tolist() == [np.float32(naswot[np.searchsorted(nb201_table.archs, lowest)])]
        np.testing.assert_array_equal(surrogate.predict(dead[:5])[0], np.repeat(surrogate.predict([lowest])[0], 5))


def test_default_seed_and_creation_time():
    from datetime import datetime, timedelta

    assert Surrogate().seed == 0  # as `surrogate build --seed`'s default
    toy = _two_seed_table(40)
    created = datetime.fromisoformat(_rf().fit(toy, toy.archs[:20]).metadata()["created"])
    assert created.utcoffset() == timedelta(0) and created.microsecond == 0  # UTC, to the second
    assert abs(datetime.now(created.tzinfo) - created) < timedelta(minutes=1)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")  # the GP on 10 toy cells
def test_a_resumed_evaluation_writes_the_file_of_an_uninterrupted_one(tmp_path):
    import pandas as pd

    from nasbench_suite.surrogate.evaluation import CSV_NAME, evaluate

    table = _two_seed_table(60)

    def run(out: Path) -> str:
        evaluate(table, ["rf", "gp"], [10, 20], repeats=2, target="valid_acc@12", features=["onehot"], out_dir=out,
                 progress=False)
        return pd.read_csv(out / CSV_NAME).drop(columns="fit_seconds").to_csv(index=False)

    whole = run(tmp_path / "whole")
    run(tmp_path / "part")
    stored = pd.read_csv(tmp_path / "part" / CSV_NAME)
    assert stored["model"].tolist()[:8] == ["rf"] * 4 + ["gp"] * 4
    stored.drop(index=[0, 5]).to_csv(tmp_path / "part" / CSV_NAME, index=False)  # rows of rf and gp to redo
    assert run(tmp_path / "part") == whole
