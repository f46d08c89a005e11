"""Every user value is checked at the edge: unwritable --out, bad protocol files and seed lists give one line
`error: ...` naming the problem and the expected form, exit code 2, and write nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from nasbench_suite.cli import cli
from nasbench_suite.cli import commands  # noqa: F401  (registers every command)
from nasbench_suite.table.registry import resolve_table

UNWRITABLE = Path("/sys/nasbench-suite-test")  # sysfs refuses new entries, even to root


def one_line_error(args: list[str]) -> str:
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    lines = [ln for ln in result.output.splitlines() if ln.startswith("error: ")]
    assert len(lines) == 1, result.output
    return lines[0]


def test_unwritable_out_is_one_line_not_a_traceback(tmp_path):
    if not Path("/sys").is_dir():
        pytest.skip("no /sys here")
    line = one_line_error(["benchmark", "--strategies", "random", "--seeds", "1", "--budget", "3q",
                           "--out", str(UNWRITABLE), "--jobs", "1"])
    assert line.startswith("error: cannot write in /sys: ") and line.endswith("; choose another --out")
    line = one_line_error(["merge", str(resolve_table("nb201-cifar100")), "--out", str(UNWRITABLE / "t.h5")])
    assert "cannot write" in line and "choose another --out" in line


def test_out_below_a_file_is_one_line(tmp_path):
    (tmp_path / "file").write_text("")
    line = one_line_error(["benchmark", "--strategies", "random", "--seeds", "1", "--budget", "3q",
                           "--out", str(tmp_path / "file" / "out"), "--jobs", "1"])
    assert "Not a directory; choose another --out" in line


@pytest.mark.parametrize("field, value", [("epochs", -1), ("batch_size", 0), ("lr", -1), ("channels", 0),
                                          ("train_images", 0)])
def test_train_refuses_a_bad_protocol_file_before_any_work(tmp_path, field, value):
    path = tmp_path / "p.json"
    path.write_text(json.dumps({"name": "p", "epochs": 1, field: value}))
    line = one_line_error(["train", "--protocol", str(path), "--archs", "sample:1", "--out", str(tmp_path / "out")])
    assert f"{field} = {value} is invalid; expected" in line
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("command", [["train", "--protocol", "micro"], ["oneshot"]])
def test_descending_seed_range_is_refused_not_an_empty_shard(tmp_path, command):
    pytest.importorskip("torch")
    line = one_line_error([*command, "--seeds", "2-0", "--out", str(tmp_path / "out")])
    assert "the range 2-0 is empty (descending); expected e.g. 0,1,2" in line
    assert not (tmp_path / "out").exists()
