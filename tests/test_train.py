"""Trainer paths, protocols, shards, kill/resume and merge, on real CIFAR-10 images (tiny networks)."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from nasbench_suite.data import load_cifar10  # noqa: E402
from nasbench_suite.errors import UserInputError  # noqa: E402
from nasbench_suite.seeds import parse_seeds  # noqa: E402
from nasbench_suite.space import NB201  # noqa: E402
from nasbench_suite.table import Table  # noqa: E402
from nasbench_suite.table.table import TableError  # noqa: E402
from nasbench_suite.train.protocols import PROTOCOLS, Protocol, get_protocol  # noqa: E402
from nasbench_suite.train.run import RunSpec, parse_shard, pending, resolve_archs, run_local  # noqa: E402
from nasbench_suite.train.shards import adopt_shard, merge_shards  # noqa: E402
from nasbench_suite.train.trainer import DeviceData, downsample, lr_at, train_reference, train_stacked  # noqa: E402

from conftest import REPO, SHARED  # noqa: E402

TINY = {"name": "tiny", "epochs": 1, "batch_size": 50, "channels": 4, "cells_per_stage": 1, "train_images": 200,
        "valid_images": 100, "test_images": 100, "eval_batch_size": 100}
CELLS = [1462, 6111, 11000]


@pytest.fixture(scope="module")
def cifar():
    if not (SHARED / "data" / "cifar10").is_dir():
        pytest.skip("../shared/data/cifar10 is not present")
    torch.set_num_threads(1)
    return load_cifar10()


@pytest.fixture
def tiny_file(tmp_path):
    path = tmp_path / "tiny.json"
    path.write_text(json.dumps(TINY))
    return path


def test_nb201_protocols_have_the_published_hyperparameters():
    p = PROTOCOLS["nb201-200"]
    assert (p.epochs, p.batch_size, p.lr, p.momentum, p.nesterov, p.weight_decay, p.eta_min, p.channels,
            p.cells_per_stage, p.augment) == (200, 256, 0.1, 0.9, True, 5e-4, 0.0, 16, 5, True)
    assert PROTOCOLS["nb201-12"].epochs == 12 and PROTOCOLS["nb201-12"].lr == 0.1
    assert Protocol.from_json(json.loads(json.dumps(PROTOCOLS["fast"].to_json()))) == PROTOCOLS["fast"]
    with pytest.raises(UserInputError, match="unknown protocol 'slow'"):
        get_protocol("slow")
    with pytest.raises(UserInputError, match="unknown: colour"):
        Protocol.from_json({"name": "x", "epochs": 1, "colour": "red"})


@pytest.mark.parametrize("field, value, message", [
    ("epochs", -1, "epochs = -1 is invalid; expected an integer >= 1"),
    ("epochs", 2.5, "epochs = 2.5 is invalid; expected an integer >= 1"),
    ("batch_size", 0, "batch_size = 0 is invalid; expected an integer >= 1"),
    ("lr", -1, "lr = -1 is invalid; expected a number > 0"),
    ("momentum", 1, r"momentum = 1 is invalid; expected a number in \[0, 1\)"),
    ("channels", 0, "channels = 0 is invalid; expected an integer >= 1"),
    ("train_images", 0, "train_images = 0 is invalid; expected null"),
    ("train_images", 20, "batch_size = 50 is invalid with drop_last and 20 training images; expected 1..20"),
    ("split", "all", "split = 'all' is invalid; expected one of train45k, cifar10-valid"),
    ("augment", "yes", "augment = 'yes' is invalid; expected true or false"),
    ("warmup_epochs", 3, r"warmup_epochs = 3 is invalid; expected 0\.\.epochs \(1\)"),
    ("resolution", 12, "resolution = 12 is invalid; expected one of 8, 16, 32"),
    ("resolution", 32.0, "resolution = 32.0 is invalid; expected one of 8, 16, 32"),
    ("precision", "fp16", "precision = 'fp16' is invalid; expected one of auto, fp32, bf16"),
])
def test_protocol_files_are_validated_field_by_field(tmp_path, field, value, message):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({**TINY, field: value}))
    with pytest.raises(UserInputError, match=f"protocol 'tiny': {message}"):
        get_protocol(path)


def test_protocol_files_must_be_strict_json_objects(tmp_path):
    path = tmp_path / "bad.json"
    for text, message in (('{"name": "x", "epochs": 2, "lr": NaN}', "not valid JSON"), ("[1]", "holds a list"),
                          ("{", "not valid JSON")):
        path.write_text(text)
        with pytest.raises(UserInputError, match=message):
            get_protocol(path)


@pytest.mark.parametrize("text", ["2-0", "", "0,,1", "-1", "1.5", "\u0661"])
def test_seeds_refuse_empty_descending_or_non_ascii_lists(text):
    with pytest.raises(UserInputError, match="expected e.g. 0,1,2"):
        parse_seeds(text)


def test_learning_rate_schedule():
    p = PROTOCOLS["nb201-12"]
    assert lr_at(p, 0, 100) == pytest.approx(0.1)
    assert lr_at(p, 600, 100) == pytest.approx(0.05)
    assert lr_at(p, 1200, 100) == pytest.approx(0.0, abs=1e-12)
    warm = Protocol("warm", epochs=4, lr=0.2, warmup_epochs=1)
    assert lr_at(warm, 50, 100) == pytest.approx(0.1) and lr_at(warm, 100, 100) == pytest.approx(0.2)
    assert lr_at(warm, 250, 100) == pytest.approx(0.1)


def test_augmentation_is_seeded_and_crops_the_padded_image(cifar):
    data = DeviceData(cifar, Protocol(**{**TINY, "batch_size": 200}))
    (x1, y1), = data.train_batches(seed=0, epoch=0)
    (x2, _), = data.train_batches(seed=0, epoch=0)
    (x3, _), = data.train_batches(seed=0, epoch=1)
    assert torch.equal(x1, x2) and not torch.equal(x1, x3)
    assert sorted(y1.tolist()) == sorted(data.train_y.tolist())  # a permutation of the training subset
    plain = DeviceData(cifar, Protocol(**{**TINY, "batch_size": 200, "augment": False}))
    (x0, y0), = plain.train_batches(seed=0, epoch=0)
    # with 4-pixel zero padding some crops show padding: exactly the normalised value of a black pixel
    black = (-torch.tensor([125.3, 123.0, 113.9]) / torch.tensor([63.0, 62.1, 66.7]))[None, :, None, None]
    padded_pixels = torch.isclose(x1, black.expand_as(x1), atol=1e-4).all(1)
    assert padded_pixels.any() and not torch.isclose(x0, black.expand_as(x0), atol=1e-4).all(1).any(dim=(1, 2)).all()


@pytest.mark.slow
def test_reference_and_stacked_paths_agree_on_first_steps(cifar):
    data = DeviceData(cifar, Protocol(**TINY))
    stacked = train_stacked(CELLS, seed=5, data=data, record_steps=4)
    for result in stacked:
        ref = train_reference(result.arch, seed=5, data=data, record_steps=4)
        assert len(ref.step_losses) == 4
        # float32 sums run in another order on the two paths and the gap grows with every SGD step: at step 4 it
        # reached 1.3e-4 (relative) on an Intel Xeon, under 1e-4 on an AMD EPYC; the first steps stay tight
        np.testing.assert_allclose(result.step_losses[:2], ref.step_losses[:2], rtol=1e-5)
        np.testing.assert_allclose(result.step_losses, ref.step_losses, rtol=1e-3)
        np.testing.assert_allclose(result.records["valid_loss"], ref.records["valid_loss"], rtol=1e-3)
        assert np.isfinite(ref.records["test_acc"]).all() and not ref.diverged
    # different cells learn differently from the same data
    assert len({round(r.step_losses[-1], 4) for r in stacked}) == len(CELLS)


@pytest.mark.slow
@pytest.mark.parametrize("precision, channels_last, rtol", [
    # the same fp32 math with other oneDNN kernels: step 0 agrees to 1e-6, then lr 0.1 on 50-image batches
    # amplifies the summation-order difference ~10x a step (measured: at most 1e-3 by step 3 on 3 cells)
    ("fp32", True, 3e-3),
    # bf16 rounds every conv input to 8 mantissa bits (unit roundoff 2**-9 = 0.2%); measured at most 4e-3 by
    # step 3 on 3 cells, both paths; the bound leaves 2.5x of that
    ("bf16", False, 1e-2),
    ("bf16", True, 1e-2),
])
def test_cpu_levers_track_the_fp32_reference_loop(cifar, precision, channels_last, rtol):
    base = train_reference(6111, 5, DeviceData(cifar, Protocol(**TINY), channels_last=False), record_steps=4)
    data = DeviceData(cifar, Protocol(**{**TINY, "precision": precision}), channels_last=channels_last)
    for result in [train_reference(6111, 5, data, record_steps=4), *train_stacked([6111, 1462], 5, data, 4)[:1]]:
        np.testing.assert_allclose(result.step_losses, base.step_losses, rtol=rtol)
        if precision == "bf16":  # the lever is really on: bf16 rounding shows in the losses
            assert not np.allclose(result.step_losses, base.step_losses, rtol=1e-5)
        assert np.isfinite(result.records["test_acc"]).all() and (result.records["cpu_seconds"] > 0).all()


def test_resolution_pools_the_images_once_and_scales_the_crop(cifar):
    full = DeviceData(cifar, Protocol(**{**TINY, "batch_size": 200, "augment": False}))
    half = DeviceData(cifar, Protocol(**{**TINY, "batch_size": 200, "augment": False, "resolution": 16}))
    assert half.train_x.shape[1:] == (16 + 4, 16 + 4, 3) and half.eval_sets["test"][0].shape[1:] == (16, 16, 3)
    pooled = full.eval_sets["test"][0].numpy().reshape(-1, 16, 2, 16, 2, 3).mean(axis=(2, 4))
    np.testing.assert_array_equal(half.eval_sets["test"][0].numpy(), np.rint(pooled).astype(np.uint8))
    assert np.array_equal(downsample(full.eval_sets["test"][0].numpy(), 32), full.eval_sets["test"][0].numpy())
    (x_full, y_full), = full.train_batches(seed=0, epoch=0)
    (x_half, y_half), = half.train_batches(seed=0, epoch=0)
    assert x_half.shape == (200, 3, 16, 16) and torch.equal(y_full, y_half)
    # without augmentation the crop is the centre: the pooled image itself, no padding pixel
    np.testing.assert_allclose(torch.nn.functional.avg_pool2d(x_full, 2), x_half, atol=0.02)
    stacked = train_stacked(CELLS[:2], 5, half, record_steps=2)
    for result in stacked:
        np.testing.assert_allclose(result.step_losses, train_reference(result.arch, 5, half, 2).step_losses,
                                   rtol=1e-4)


@pytest.mark.slow
def test_reference_loop_is_deterministic_and_records_every_epoch(cifar):
    data = DeviceData(cifar, Protocol(**{**TINY, "epochs": 2}))
    a, b = train_reference(6111, 0, data), train_reference(6111, 0, data)
    for name in ("train_loss", "train_acc", "valid_acc", "test_loss", "test_acc"):
        assert a.records[name].shape == (2,)
        np.testing.assert_array_equal(a.records[name], b.records[name])
    assert (a.records["train_seconds"] > 0).all() and (a.records["eval_seconds"] > 0).all()
    c = train_reference(6111, 1, data)
    assert not np.array_equal(a.records["train_loss"], c.records["train_loss"])


def test_a_diverging_run_is_recorded_not_raised(cifar):
    data = DeviceData(cifar, Protocol(**{**TINY, "epochs": 2, "lr": 1e30}))
    for result in train_stacked([6111, 1462], seed=0, data=data) + [train_reference(6111, 0, data)]:
        assert result.diverged
        for name in ("train_loss", "train_acc", "valid_acc", "test_acc"):
            assert np.isnan(result.records[name]).all()


def test_run_arguments():
    assert len(resolve_archs("sample:10:3")) == 10 and np.array_equal(resolve_archs("sample:10:3"),
                                                                       resolve_archs("sample:10:3"))
    assert len(resolve_archs("all")) == 15625 and len(resolve_archs("stratified:16")) == 16
    assert parse_seeds("0-2,5") == [0, 1, 2, 5] and parse_shard("1/4") == (1, 4)
    canonical = resolve_archs("canonical:40:1")
    assert len(canonical) == 40 and set(canonical) <= set(NB201.unique_indices().tolist())
    both = resolve_archs("canonical:40:1+stratified:16")
    assert np.array_equal(both, np.union1d(canonical, resolve_archs("stratified:16")))
    for bad, call in (("sample:x", resolve_archs), ("nope", resolve_archs), ("4/4", parse_shard),
                      ("canonical:0", resolve_archs),
                      ("a", parse_seeds)):
        with pytest.raises(UserInputError):
            call(bad)


def _cli(*args, **kwargs):
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen([str(Path(sys.executable).parent / "nasbench-suite"), *args], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kwargs)


@pytest.mark.slow
def test_killed_run_resumes_without_loss_and_shards_merge(cifar, tiny_file, tmp_path):
    cells = tmp_path / "cells.txt"
    cells.write_text("\n".join(map(str, [0, 1462, 6111, 11000])) + "\n")
    out = tmp_path / "run"
    args = ["train", "--protocol", str(tiny_file), "--archs", str(cells), "--out", str(out), "--threads", "1",
            "--shard"]
    proc = _cli(*args, "0/2")
    shard = out / "shard-0-of-2.h5"
    deadline = time.time() + 120
    while not shard.exists() and time.time() < deadline and proc.poll() is None:
        time.sleep(0.2)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    first = Table.load(shard)
    assert len(first.archs) >= 1
    seconds = first.metrics["train_seconds"].values.copy()
    for part in ("0/2", "1/2"):
        done = _cli(*args, part)
        assert done.wait(timeout=300) == 0, done.stderr.read()
    resumed = Table.load(shard)
    assert resumed.archs.tolist() == [0, 6111]
    kept = np.searchsorted(resumed.archs, first.archs)
    np.testing.assert_array_equal(resumed.metrics["train_seconds"].values[kept], seconds)  # not retrained
    # an uninterrupted run of the stacked trainer gives the same numbers (to float tolerance)
    straight = Table.load(run_local(RunSpec(str(tiny_file), np.array([0, 6111]), [0], tmp_path / "straight",
                                            trainer="stacked", threads=1), (0, 1), progress=False))
    assert straight.provenance["trainer"] == "stacked" and resumed.provenance["trainer"] == "reference"
    for name in ("train_loss", "valid_loss", "test_loss"):
        np.testing.assert_allclose(resumed.metrics[name].values, straight.metrics[name].values, rtol=1e-3)
    np.testing.assert_allclose(resumed.metrics["test_acc"].values, straight.metrics["test_acc"].values, atol=2.0)
    merged = tmp_path / "merged.h5"
    rc = _cli("merge", str(out), "--out", str(merged)).wait(timeout=120)
    assert rc == 0
    table = Table.load(merged)
    assert table.archs.tolist() == [0, 1462, 6111, 11000] and table.dataset == cifar.name
    assert table.dataset_sha256 == cifar.sha256 and table.protocol["name"] == "tiny"
    assert {"torch", "numpy", "nasbench-suite"} <= set(table.software) and "cpu" in table.hardware
    assert {"params_m", "flops_m", "train_seconds_per_epoch", "eval_seconds"} <= set(table.columns)
    assert np.isfinite(table.values("test_acc", 1)).all()
    # shards of another protocol are refused
    other = json.loads(tiny_file.read_text())
    other["lr"] = 0.05
    other_file = tmp_path / "other.json"
    other_file.write_text(json.dumps(other))
    run_local(RunSpec(str(other_file), np.array([0]), [0], tmp_path / "other", threads=1), progress=False)
    with pytest.raises(TableError, match="different protocol"):
        merge_shards([out, tmp_path / "other"])
    with pytest.raises(TableError, match="trained with protocol"):
        run_local(RunSpec(str(other_file), np.array([0]), [0], out, threads=1), progress=False)


def test_an_adopted_pilot_shard_counts_for_the_protocol_it_became(cifar, tiny_file, tmp_path):
    pilot = run_local(RunSpec(str(tiny_file), np.array([6111]), [0], tmp_path / "pilot", threads=1), progress=False)
    named = Protocol.from_json({**json.loads(tiny_file.read_text()), "name": "cpu-like", "description": "chosen"})
    adopted = Table.load(adopt_shard(pilot, named, tmp_path / "table"))
    assert adopted.protocol == named.to_json() and "'tiny'" in adopted.provenance["adopted_from"]
    assert adopt_shard(pilot, named, tmp_path / "table") == adopted.path  # made once
    named_file = tmp_path / "cpu-like.json"
    named_file.write_text(json.dumps(named.to_json()))
    spec = RunSpec(str(named_file), np.array([6111, 0]), [0], tmp_path / "table", threads=1)
    assert pending(spec, named, cifar) == [(0, [0])]  # 6111 is finished under the new name
    with pytest.raises(UserInputError, match="differs from 'other'"):
        adopt_shard(pilot, Protocol.from_json({**named.to_json(), "name": "other", "lr": 0.05}), tmp_path / "x")


def test_shards_of_different_seeds_merge_with_cost_columns_over_all_seeds(cifar, tiny_file, tmp_path):
    for seed in (0, 1):  # the cpu table trains its second seed into another folder
        run_local(RunSpec(str(tiny_file), np.array([6111]), [seed], tmp_path / f"seed{seed}", threads=1),
                  progress=False)
    table = merge_shards([tmp_path / "seed0", tmp_path / "seed1"])
    assert table.seeds.tolist() == [0, 1] and np.isfinite(table.metrics["valid_acc"].values).all()
    for column, metric in (("eval_seconds", "eval_seconds"), ("train_seconds_per_epoch", "train_seconds")):
        np.testing.assert_allclose(table.column(column), table.metrics[metric].values.mean(axis=(1, 2)))


def test_cli_reports_bad_input_in_one_line(tmp_path):
    proc = _cli("train", "--protocol", "micro", "--archs", "sample:0", "--out", str(tmp_path))
    assert proc.wait(timeout=120) == 2
    err = proc.stderr.read().strip().splitlines()
    assert len(err) == 1 and "N must be 1..15625" in err[0]


def test_train_help_names_the_per_user_data_folder_the_loader_reads_not_shared(tmp_path):
    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path / "xdg")}
    done = subprocess.run([str(Path(sys.executable).parent / "nasbench-suite"), "train", "--help"], env=env,
                          capture_output=True, text=True, check=True)
    text = "".join(done.stdout.split())  # click wraps the help anywhere
    assert str(tmp_path / "xdg" / "nasbench-suite" / "cifar10") in text and "shared" not in text


def test_a_shard_from_before_a_new_protocol_field_still_resumes_and_merges(tmp_path):
    """Shards written before `resolution`/`precision` existed hold no such keys: they are the defaults, so the same
    protocol (resume and merge go on); a real difference is still refused."""
    from nasbench_suite.train.shards import check_identity

    protocol = Protocol(**TINY)
    old_json = {k: v for k, v in protocol.to_json().items() if k not in ("resolution", "precision")}
    shards = []
    for i, arch in enumerate((0, 6111)):
        values = np.full((1, 1, 1), 50.0 + i)
        table = Table(space="nb201", dataset="d", dataset_sha256="s", archs=np.array([arch]), seeds=np.array([0]),
                      epochs=np.array([1]), protocol=dict(old_json) if i == 0 else protocol.to_json())
        table.set_metric("test_acc", values)
        shards.append(table.save(tmp_path / f"shard{i}.h5"))
    check_identity(Table.load(shards[0]), protocol, "d", "s", shards[0])
    merged = merge_shards(shards)
    assert merged.archs.tolist() == [0, 6111] and merged.protocol == protocol.to_json()
    with pytest.raises(TableError, match="was trained with protocol"):
        check_identity(Table.load(shards[0]), Protocol(**{**TINY, "epochs": 2}), "d", "s", shards[0])
