"""Weight-sharing search: supernet == discrete network under one-hot weights, finite non-zero architecture
gradients, NB201's step order and schedules, valid derived cells, exact resume after an interruption, logged
entropies, bf16 numerics, the ranking measurement (BN recalibration, pairing), CLI errors."""

import os
from dataclasses import asdict, replace

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from nasbench_suite.errors import UserInputError  # noqa: E402
from nasbench_suite.model import build_network  # noqa: E402
from nasbench_suite.oneshot.methods import GDAS, make_method  # noqa: E402
from nasbench_suite.oneshot.search import SearchConfig, SearchData, run_search  # noqa: E402
from nasbench_suite.oneshot.supernet import Supernet, one_hot  # noqa: E402
from nasbench_suite.space import NB201  # noqa: E402

ARCHS = ["|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|",
         "|none~0|+|avg_pool_3x3~0|skip_connect~1|+|nor_conv_1x1~0|none~1|avg_pool_3x3~2|"]


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)


def _randomise_bn(net: torch.nn.Module, gen: torch.Generator) -> None:
    """Non-trivial BN affine parameters and running statistics, so copying them is really tested."""
    for m in net.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            with torch.no_grad():
                if m.affine:
                    m.weight.copy_(torch.rand(m.weight.shape, generator=gen) + 0.5)
                    m.bias.copy_(torch.randn(m.bias.shape, generator=gen))
                if m.track_running_stats:
                    m.running_mean.copy_(torch.randn(m.running_mean.shape, generator=gen))
                    m.running_var.copy_(torch.rand(m.running_var.shape, generator=gen) + 0.5)


@pytest.mark.parametrize("arch", ARCHS)
def test_one_hot_supernet_computes_the_discrete_network(arch):
    torch.manual_seed(0)
    supernet = Supernet(channels=4, cells_per_stage=2, affine=True, track_running_stats=True)
    _randomise_bn(supernet, torch.Generator().manual_seed(1))
    net = build_network(arch, channels=4, cells_per_stage=2)
    net.load_state_dict(supernet.discrete_state_dict(arch))  # strict: every tensor of the network is matched
    x = torch.randn(8, 3, 32, 32, generator=torch.Generator().manual_seed(2))
    for train in (False, True):
        supernet.train(train)
        net.train(train)
        expected = net(x)
        assert torch.equal(supernet(x, weights=one_hot(arch)), expected)
        assert torch.equal(supernet(x, arch=arch), expected)
        gdas_weights = one_hot(arch).requires_grad_()
        assert torch.equal(supernet(x, weights=gdas_weights, arch=arch), expected)
    # the weights really matter: another cell gives other outputs
    supernet.eval()
    assert not torch.allclose(supernet(x, arch=ARCHS[1 - ARCHS.index(arch)]), net.eval()(x))


def test_search_setting_supernet_matches_network_in_training_mode():
    """NB201's search BN (no affine; running statistics) equals a fresh network's BN in training mode."""
    torch.manual_seed(0)
    supernet = Supernet(channels=4, cells_per_stage=1)
    net = build_network(ARCHS[0], channels=4, cells_per_stage=1)
    net.load_state_dict(supernet.discrete_state_dict(ARCHS[0]), strict=False)
    x = torch.randn(8, 3, 32, 32)
    torch.testing.assert_close(supernet.train()(x, weights=one_hot(ARCHS[0])), net.train()(x))


@pytest.mark.parametrize("name", ["darts", "darts2", "gdas"])
def test_architecture_gradients_are_finite_and_non_zero(name):
    torch.manual_seed(0)
    net = Supernet(channels=4, cells_per_stage=1)
    method = make_method(name, net, epochs=2, steps_per_epoch=1, device=torch.device("cpu"), seed=0)
    method.start_epoch(0)
    gen = torch.Generator().manual_seed(0)
    batch = lambda s: (torch.randn(16, 3, 32, 32, generator=torch.Generator().manual_seed(s)),  # noqa: E731
                       torch.randint(0, 10, (16,), generator=torch.Generator().manual_seed(s)))
    before = method.alphas.detach().clone()
    method.step(batch(1), batch(2), gen)
    grad = method.alphas.grad
    assert grad is not None and torch.isfinite(grad).all() and grad.abs().sum() > 0
    if name == "gdas":  # straight-through: every op's logit gets gradient, not only the sampled one
        assert (grad != 0).sum() > 6
    assert not torch.equal(method.alphas.detach(), before)


def test_gdas_samples_are_hard_and_follow_temperature():
    net = Supernet(channels=4, cells_per_stage=1)
    method = GDAS(net, epochs=5, steps_per_epoch=1, device=torch.device("cpu"))
    method.start_epoch(0)
    assert method.tau == pytest.approx(10.0)
    hard, arch = method.sample(torch.Generator().manual_seed(0))
    assert torch.allclose(hard.detach(), one_hot(arch))
    method.start_epoch(4)
    assert method.tau == pytest.approx(0.1)


@pytest.fixture(scope="module")
def tiny_data():
    """Real CIFAR-10 images if present (a few hundred), else a seeded random stand-in of the same form."""
    from conftest import SHARED

    tarball = SHARED / "data" / "cifar10" / "cifar10-jpeg.tar.gz"
    if tarball.is_file():
        from nasbench_suite.data import load_cifar10, make_split

        data = load_cifar10(tarball)
        split = make_split(data, "cifar10-valid", seed=0)
        return SearchData(data.train_images, data.train_labels, split["train"], split["valid"])
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (400, 32, 32, 3), dtype=np.uint8)
    return SearchData(images, rng.integers(0, 10, 400), np.arange(200), np.arange(200, 400))


def _tiny(method: str) -> SearchConfig:
    config = SearchConfig.from_setting(method, "micro", seed=3, epochs=2)
    return replace(config, channels=2, train_images=32, valid_images=32, batch_size=16, samples=3,
                   controller_steps=1, aggregate=2)


@pytest.mark.parametrize("method", ["darts", "gdas", "rsps", "enas"])  # darts2 keeps the same state as darts
def test_search_derives_valid_cells_and_resumes_exactly(method, tiny_data, nb201_table, tmp_path):
    config = _tiny(method)
    straight = run_search(config, tiny_data, nb201_table, tmp_path / "a", progress=False)
    assert [row["epoch"] for row in straight] == [1, 2]
    for row in straight:
        ops = NB201.to_ops(row["arch"])
        assert NB201.to_index(ops) == row["index"]
        assert row["test_acc_200"] == pytest.approx(nb201_table.query(row["index"], "test_acc", 200))
        assert 0 < row["valid_acc_200"] <= 100 and row["search_seconds"] > 0
    first = run_search(config, tiny_data, nb201_table, tmp_path / "b", stop_after=1, progress=False)
    assert len(first) == 1
    resumed = run_search(config, tiny_data, nb201_table, tmp_path / "b", progress=False)
    keys = ("epoch", "arch", "train_loss", "train_acc")
    assert [{k: r[k] for k in keys} for r in resumed] == [{k: r[k] for k in keys} for r in straight]
    a = torch.load(tmp_path / "a" / "checkpoint.pt", weights_only=True)
    b = torch.load(tmp_path / "b" / "checkpoint.pt", weights_only=True)
    for key, value in a["net"].items():
        assert torch.equal(value, b["net"][key]), key


class _Payload:
    """Unpickling this runs a shell command that creates `marker`."""

    def __init__(self, marker) -> None:
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


def test_checkpoint_that_would_run_code_is_refused(tiny_data, nb201_table, tmp_path):
    marker = tmp_path / "ran"
    config = _tiny("rsps")
    torch.save({"config": asdict(config), "trajectory": _Payload(marker)}, tmp_path / "checkpoint.pt")
    with pytest.raises(UserInputError, match="cannot read checkpoint .*delete it to restart"):
        run_search(config, tiny_data, nb201_table, tmp_path, progress=False)
    assert not marker.exists()


def test_resume_refuses_a_different_config(tiny_data, nb201_table, tmp_path):
    config = _tiny("rsps")
    run_search(config, tiny_data, nb201_table, tmp_path, stop_after=1, progress=False)
    with pytest.raises(UserInputError, match="different config"):
        run_search(replace(config, epochs=3), tiny_data, nb201_table, tmp_path, progress=False)


def test_bad_inputs_are_one_line_errors():
    with pytest.raises(UserInputError, match="unknown one-shot method"):
        SearchConfig.from_setting("dartz")
    with pytest.raises(UserInputError, match="unknown setting"):
        SearchConfig.from_setting("darts", "huge")
    with pytest.raises(UserInputError, match="epochs"):
        SearchConfig.from_setting("darts", epochs=0)
    if not torch.cuda.is_available():
        from nasbench_suite.oneshot.search import resolve_device

        with pytest.raises(UserInputError, match="no CUDA"):
            resolve_device("cuda")


def test_report_summarises_runs_by_lookup(tiny_data, nb201_table, tmp_path):
    from nasbench_suite.oneshot.search import run_dir_of
    from nasbench_suite.oneshot.summary import (
        collect,
        format_leaderboard,
        keep_reported,
        leaderboard_frame,
        write_report,
    )

    finals = []
    for seed in (0, 1):
        config = replace(_tiny("rsps"), seed=seed, epochs=1)
        finals.append(run_search(config, tiny_data, nb201_table, run_dir_of(tmp_path / "runs", config),
                                 progress=False)[-1])
    trajectories = collect(tmp_path / "runs")
    assert len(trajectories) == 2 and set(trajectories["method"]) == {"rsps"}
    paths = write_report(trajectories, tmp_path / "results")
    assert {p.name for p in paths} >= {"trajectories.csv", "leaderboard.md", "test_acc_vs_epoch.png",
                                       "entropy_vs_epoch.png"}
    board = leaderboard_frame(tmp_path / "results")
    row = board.iloc[0]
    accs = [f["test_acc_200"] for f in finals]
    assert row["runs"] == 2 and row["test_acc_200_mean"] == pytest.approx(np.mean(accs), abs=1e-3)
    assert row["test_acc_200_std"] == pytest.approx(np.std(accs), abs=1e-3)
    assert all(f["arch"] in row["cells"] for f in finals)
    text = format_leaderboard(board)
    assert "| micro | rsps | 2 | 1 |" in text and "| 84.07 +- 3.61 (RSPS) |" in text  # next to NB201's Table 5
    with pytest.raises(UserInputError, match="no one-shot"):
        collect(tmp_path / "nothing")
    # a run folder holding only seed 1 (a fresh checkout) keeps reported seed 0 and replaces seed 1, once
    rerun = trajectories[trajectories["seed"] == 1].assign(test_acc_200=12.5)
    merged = keep_reported(rerun, tmp_path / "results")
    assert list(merged["seed"]) == [0, 1] and list(merged["test_acc_200"]) == pytest.approx([accs[0], 12.5], abs=1e-4)
    assert keep_reported(rerun, tmp_path / "nothing").equals(rerun)


def test_leaderboard_says_from_which_epoch_each_runs_cell_stopped_changing():
    import pandas as pd

    from nasbench_suite.oneshot.summary import fixed_since, format_leaderboard, summarize

    runs = {0: ["a", "b", "a", "a"], 1: ["b", "b", "b", "b"], 2: ["a", "a", "a", "b"]}  # epochs 1-4, logged shuffled
    rows = [{"setting": "cpu", "method": "darts", "seed": seed, "epoch": epoch, "epochs_planned": 4, "arch": arch,
             "test_acc_200": 90.0, "valid_acc_200": 88.0, "search_seconds": 1.0, "hardware": "h"}
            for seed, archs in runs.items() for epoch, arch in reversed(list(enumerate(archs, 1)))]
    frame = pd.DataFrame(rows)
    assert [fixed_since(frame[frame["seed"] == seed]) for seed in runs] == [3, 1, 4]  # 4: never settled
    row = summarize(frame).iloc[0]
    assert (row["fixed_since_mean"], row["fixed_since_std"]) == pytest.approx((8 / 3, np.std([3, 1, 4])))
    assert "| - | 3 +- 1 | - |" in format_leaderboard(summarize(frame))  # entropy, cell fixed from, supernet tau


def test_cli_parses_seeds_and_reports_bad_input_in_one_line():
    from click.testing import CliRunner

    from nasbench_suite.cli.app import cli
    from nasbench_suite.cli.oneshot import parse_seeds

    assert parse_seeds("0-2,5,1") == [0, 1, 2, 5]
    with pytest.raises(UserInputError, match="expected e.g."):
        parse_seeds("a,b")
    result = CliRunner().invoke(cli, ["oneshot", "--method", "darts,bogus", "--epochs", "1"])
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == ["error: unknown one-shot method 'bogus'; valid: darts, darts2, "
                                                  "gdas, rsps, enas"]


def _batch(seed: int, n: int = 16, size: int = 32):
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(n, 3, size, size, generator=gen), torch.randint(0, 10, (n,), generator=gen)


def test_darts_first_order_takes_the_architecture_gradient_after_the_weight_step():
    """DARTS-V1.py: weight step first, then the architecture gradient at the *updated* weights."""
    torch.manual_seed(0)
    net = Supernet(channels=4, cells_per_stage=1)
    method = make_method("darts", net, epochs=2, steps_per_epoch=1, device=torch.device("cpu"), seed=0)
    method.start_epoch(0)
    alphas = method.alphas.detach().clone()
    valid = _batch(2)
    method.step(_batch(1), valid, torch.Generator())
    probe = method.alphas.detach().clone().copy_(alphas).requires_grad_()
    net.train()
    torch.nn.functional.cross_entropy(net(valid[0], weights=probe.softmax(1)), valid[1]).backward()
    torch.testing.assert_close(method.alphas.grad, probe.grad)


def test_weight_lr_follows_nb201_per_epoch_cosine():
    from nasbench_suite.oneshot.methods import DARTS, ENAS

    assert DARTS.schedule.lr_at(0, 50) == pytest.approx(0.025)
    assert DARTS.schedule.lr_at(25, 50) == pytest.approx((0.025 + 0.001) / 2)
    # ENAS.config names T_max 10: the cosine reaches eta_min at epoch 10 and is back at lr by epoch 20
    assert ENAS.schedule.lr_at(10, 310) == pytest.approx(0.0005)
    assert ENAS.schedule.lr_at(20, 310) == pytest.approx(0.05)


def test_cpu_setting_keeps_nb201_hyperparameters():
    darts, enas = SearchConfig.from_setting("darts", "cpu"), SearchConfig.from_setting("enas", "cpu")
    assert (darts.epochs, darts.batch_size, enas.epochs, enas.batch_size) == (50, 64, 310, 128)
    assert (darts.resolution, darts.channels, darts.cells_per_stage) == (16, 8, 1)
    assert darts.train_images is None and darts.valid_images is None and darts.split == "cifar10-valid"
    assert (enas.samples, enas.controller_steps, enas.aggregate) == (100, 50, 20)


def test_random_crop_flip_is_a_crop_of_the_padded_image():
    from nasbench_suite.data.augment import random_crop_flip

    x = torch.arange(4 * 3 * 8 * 8, dtype=torch.float32).view(4, 3, 8, 8)
    out = random_crop_flip(x, 2, torch.Generator().manual_seed(0))
    dy, dx = torch.randint(0, 5, (2, 4), generator=torch.Generator().manual_seed(0))
    padded = torch.nn.functional.pad(x, (2, 2, 2, 2))
    for i in range(4):
        crop = padded[i, :, dy[i]:dy[i] + 8, dx[i]:dx[i] + 8]
        assert torch.equal(out[i], crop) or torch.equal(out[i], crop.flip(-1))
    assert not torch.equal(out, x)


def test_bf16_losses_stay_close_to_fp32_but_differ():
    losses = {}
    for precision in ("fp32", "bf16"):
        torch.manual_seed(0)
        net = Supernet(channels=4, cells_per_stage=1)
        method = make_method("darts", net, epochs=2, steps_per_epoch=3, device=torch.device("cpu"), seed=0,
                             precision=precision)
        method.start_epoch(0)
        losses[precision] = [method.step(_batch(s, size=16), _batch(s + 10, size=16), torch.Generator())["loss"]
                             for s in range(3)]
    assert np.allclose(losses["fp32"], losses["bf16"], atol=0.05)
    assert losses["fp32"] != losses["bf16"]  # autocast really ran


@pytest.mark.parametrize("method", ["darts", "rsps"])
def test_trajectory_logs_edge_entropies_of_the_run_state(method, tiny_data, nb201_table, tmp_path):
    from nasbench_suite.oneshot.methods import entropy

    rows = run_search(replace(_tiny(method), epochs=1), tiny_data, nb201_table, tmp_path, progress=False)
    logged = np.array([float(v) for v in rows[-1]["entropy_edges"].split()])
    assert logged.shape == (6,) and rows[-1]["entropy_mean"] == pytest.approx(logged.mean(), abs=1e-6)
    assert rows[-1]["cpu_seconds"] > 0
    if method == "rsps":  # uniform sampling by design
        assert np.allclose(logged, np.log(5))
        return
    alphas = torch.load(tmp_path / "checkpoint.pt", weights_only=True)["method"]["alphas"]
    assert np.allclose(logged, entropy(alphas.log_softmax(1)).numpy(), rtol=0, atol=1e-6)
    assert (logged < np.log(5)).all()


def test_bn_recalibration_reestimates_running_stats_as_the_batch_average():
    from nasbench_suite.oneshot.ranking import recalibrate_bn

    torch.manual_seed(0)
    net = Supernet(channels=4, cells_per_stage=1)
    stem_bn = net.skeleton.stem[1]
    stem_bn.running_mean.fill_(7.0)
    momentum = stem_bn.momentum
    batches = [_batch(s, n=8, size=16) for s in range(3)]
    arch = NB201.to_ops(ARCHS[0])
    recalibrate_bn(net, arch, batches)
    with torch.no_grad():
        expected = torch.stack([net.skeleton.stem[0](x).mean((0, 2, 3)) for x, _ in batches]).mean(0)
    torch.testing.assert_close(stem_bn.running_mean, expected)
    assert stem_bn.momentum == momentum and int(stem_bn.num_batches_tracked) == 3
    edge = net.skeleton.cells[0].edges[0]  # ARCHS[0] puts nor_conv_3x3 (op 3) on edge 0; nor_conv_1x1 is unused
    assert arch[0] == 3 and int(edge[3].op[2].num_batches_tracked) == 3
    assert int(edge[2].op[2].num_batches_tracked) == 0


def test_ranking_pairs_each_cell_with_its_own_table_value(tiny_data, nb201_table, tmp_path):
    from scipy import stats

    from nasbench_suite.oneshot.ranking import rank_checkpoint, sample_cells

    run_search(replace(_tiny("rsps"), epochs=1), tiny_data, nb201_table, tmp_path, progress=False)
    result = rank_checkpoint(tmp_path / "checkpoint.pt", tiny_data, nb201_table, cells=6, seed=1,
                             recal_batches=1, eval_images=32)
    rows = result["rows"]
    assert [r["index"] for r in rows] == list(sample_cells(6, seed=1))
    assert len({NB201.canonical(r["index"]) for r in rows}) == 6
    for r in rows:
        assert r["test_acc_200"] == nb201_table.query(r["index"], "test_acc", 200)
        assert NB201.to_index(r["arch"]) == r["index"] and 0 <= r["supernet_acc"] <= 100
    tau = stats.kendalltau([r["supernet_acc"] for r in rows], [r["test_acc_200"] for r in rows]).statistic
    assert result["kendall_tau"] == pytest.approx(tau, nan_ok=True)
    assert result["eval_images"] == 32 and result["epochs_done"] == 1
    with pytest.raises(UserInputError, match="--cells"):
        rank_checkpoint(tmp_path / "checkpoint.pt", tiny_data, nb201_table, cells=1)


def test_rank_cli_reports_the_figures_and_refuses_bad_input(tiny_data, nb201_table, tmp_path):
    import json

    from click.testing import CliRunner
    from conftest import CIFAR10_TARBALL

    from nasbench_suite.cli import commands  # noqa: F401  (registers every command)
    from nasbench_suite.cli.app import cli

    missing = CliRunner().invoke(cli, ["oneshot-rank", str(tmp_path / "none.pt")])
    assert missing.exit_code == 2 and missing.output.strip().splitlines() == [
        f"error: no checkpoint at {tmp_path / 'none.pt'} (expected a run's checkpoint.pt)"]
    if not CIFAR10_TARBALL.is_file():
        pytest.skip("../shared/data/cifar10 is not present")
    run_search(replace(_tiny("darts"), epochs=1), tiny_data, nb201_table, tmp_path, progress=False)
    args = ["oneshot-rank", str(tmp_path / "checkpoint.pt"), "--cells", "3", "--recal-batches", "1",
            "--eval-images", "16", "--data", str(CIFAR10_TARBALL), "--out", str(tmp_path / "rank.json")]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert "darts seed 3 (micro, epoch 1 of 1): Kendall tau" in result.output and "over 3 cells" in result.output
    saved = json.loads((tmp_path / "rank.json").read_text())
    assert len(saved["rows"]) == 3 and saved["eval_images"] == 16
    bad = CliRunner().invoke(cli, [*args[:2], "--cells", "1", "--data", str(CIFAR10_TARBALL)])
    assert bad.exit_code == 2 and bad.output.strip().startswith("error: --cells must be between 2 and")


def test_report_adds_the_supernet_ranking_and_final_entropy_and_rewrites_without_searching(
        tiny_data, nb201_table, tmp_path):
    from click.testing import CliRunner

    from nasbench_suite import jsonio
    from nasbench_suite.cli import commands  # noqa: F401  (registers the commands)
    from nasbench_suite.cli.app import cli
    from nasbench_suite.oneshot.search import run_dir_of
    from nasbench_suite.oneshot.summary import format_leaderboard, gather, leaderboard_frame, rankings, write_report

    for seed in (0, 1):
        config = replace(_tiny("darts"), seed=seed, epochs=1)
        run_search(config, tiny_data, nb201_table, run_dir_of(tmp_path / "runs", config), progress=False)
    results = tmp_path / "results"
    results.mkdir()
    for seed, tau in ((0, 0.25), (1, -0.05)):
        record = {"setting": "micro", "method": "darts", "seed": seed, "cells": 20, "kendall_tau": tau,
                  "spearman_rho": tau, "rows": []}
        (results / f"rank-darts-seed{seed}.json").write_text(jsonio.dumps(record))
    trajectories = gather(tmp_path / "runs", results)
    write_report(trajectories, results)
    row = leaderboard_frame(results).iloc[0]
    assert (row["ranked"], row["kendall_tau_mean"], row["kendall_tau_std"]) == (2, 0.1, pytest.approx(0.15))
    assert row["entropy_mean"] == pytest.approx(trajectories["entropy_mean"].mean(), abs=1e-4)  # CSV: 4 decimals
    assert 0 < row["entropy_mean"] <= np.log(5) + 1e-6
    text = format_leaderboard(leaderboard_frame(results))
    assert f"| {row['entropy_mean']:.3f} +- {row['entropy_std']:.3f} | 1 +- 0 | 0.100 +- 0.150 (2) |" in text
    assert len(rankings(tmp_path / "runs")) == 0  # no rank files there: an empty frame, no error

    before = (results / "leaderboard.md").read_bytes()
    result = CliRunner().invoke(cli, ["oneshot-report", "--out", str(tmp_path / "none"), "--results", str(results)])
    assert result.exit_code == 0, result.output
    assert (results / "leaderboard.md").read_bytes() == before  # the same report from what it reported
    (results / "rank-bad.json").write_text(jsonio.dumps({"method": "darts"}))
    result = CliRunner().invoke(cli, ["oneshot-report", "--out", str(tmp_path / "none"), "--results", str(results)])
    assert result.exit_code == 2 and "rank-bad.json is not an `oneshot-rank` result: it lacks setting, seed" in \
        result.output
    result = CliRunner().invoke(cli, ["oneshot-report", "--out", str(tmp_path / "none"), "--results",
                                      str(tmp_path / "empty")])
    assert result.exit_code == 2 and "no one-shot runs under" in result.output
