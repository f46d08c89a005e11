"""`nasbench-suite tables|info|query`: output, --json, one-line errors with exit code 2."""

import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

from nasbench_suite import jsonio
from nasbench_suite.cli import cli
from nasbench_suite.cli import commands  # noqa: F401  (registers the commands)


def invoke(*args):
    return CliRunner().invoke(cli, list(args))


def test_tables_lists_the_embedded_ones():
    result = invoke("tables", "--json")
    assert result.exit_code == 0
    names = {row["name"] for row in json.loads(result.output)}
    assert {"nb201-cifar10", "nb201-cifar100", "nb201-imagenet16-120"} <= names


def test_info_reports_coverage_best_and_provenance():
    summary = json.loads(invoke("info", "nb201-cifar10", "--json").output)
    assert summary["cells"] == 15625
    assert summary["best"]["test_acc@200"]["index"] == 6111
    assert summary["coverage"]["valid_acc"]["12"]["-1"] == 1.0
    assert "naswot" in summary["provenance"]["sources"]
    text = invoke("info", "nb201-cifar10").output
    assert "94.3733" in text and "BayesWatch/nas-without-training" in text


def test_query_by_string_and_index_agree():
    by_index = json.loads(invoke("query", "nb201-cifar10", "6111", "--metric", "test_acc", "--json").output)
    arch = by_index["arch"]
    by_string = json.loads(invoke("query", "nb201-cifar10", arch, "--metric", "test_acc", "--json").output)
    assert by_index == by_string
    assert by_index["values"]["test_acc@200"] == pytest.approx(94.3733, abs=1e-3)


def test_json_output_is_strict_with_null_for_unmeasured_values():
    result = invoke("query", "nb201-cifar10", "0", "--metric", "train_acc", "--epoch", "12", "--json")
    assert result.exit_code == 0, result.output
    assert jsonio.loads(result.output)["values"] == {"train_acc@12": None}
    assert "not measured" in invoke("query", "nb201-cifar10", "0", "--metric", "train_acc", "--epoch", "12").output
    summary = jsonio.loads(invoke("info", "nb201-cifar10", "--json").output)
    assert summary["cells"] == 15625


@pytest.mark.parametrize("args, message", [
    (("query", "nb201-cifar10", "|nor_conv_3x3~0|"), "bad arch string"),
    (("query", "nb201-cifar10", "20000"), "out of range"),
    (("query", "nb201-cifar10", "--", "-3"), "arch index -3 out of range"),
    (("query", "nb201-cifar10", "\u00b2"), "bad arch string"),
    (("query", "nb201-cifar10", "0", "--seed", "\u00b2"), "seed must be 'mean'"),
    (("query", "nb201-cifar10", "0", "--metric", "nope"), "has no metric 'nope'"),
    (("query", "nb201-cifar10", "0", "--metric", "test_acc", "--epoch", "7"), "epochs with data: 12, 200"),
    (("info", "missing-table"), "unknown table"),
    (("info", "/nonexistent/t.h5"), "not found"),
])
def test_errors_are_one_line_with_exit_code_2(args, message):
    proc = subprocess.run([sys.executable, "-m", "nasbench_suite", *args], capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and message in proc.stderr and proc.stderr.startswith("error: ")
