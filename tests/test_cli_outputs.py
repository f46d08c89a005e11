"""Commands that write results follow one rule (nasbench_suite.outputs): what an output folder holds from the same
settings is reused, from other settings refused without --overwrite, and they say where they wrote; a damaged run
file or a partial leaderboard is named in one line (issue 30, items 7, 8, 9). Run in temporary working folders."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from nasbench_suite.cli import cli
from nasbench_suite.cli import commands  # noqa: F401  (registers every command)

REPO = Path(__file__).resolve().parents[1]
SMALL = ["--strategies", "random,rea", "--seeds", "2", "--budget", "50q", "--jobs", "1"]


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args))


def error_line(result) -> str:
    """The one `error: ...` line of a refused command (exit 2)."""
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.startswith("error: ")]
    assert len(lines) == 1, result.output
    return lines[0]


def contents(folder: Path) -> dict[str, bytes]:
    """Every file's bytes but the writers' lock."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and p.name != ".lock"}


# ---- item 7: a damaged run file ----------------------------------------------------------------------------------

@pytest.mark.parametrize("damage", ["truncated", "not an npz", "bad JSON inside"])
def test_a_damaged_run_file_is_one_line_naming_it_and_what_to_do(tmp_path, monkeypatch, damage):
    monkeypatch.chdir(tmp_path)
    assert invoke("benchmark", *SMALL, "--out", "out").exit_code == 0
    path = Path("out/runs/rea/seed-1.npz")
    if damage == "truncated":
        path.write_bytes(path.read_bytes()[:300])
    elif damage == "not an npz":
        path.write_text("hello")
    else:
        with np.load(path) as data:
            arrays = dict(data)
        np.savez(path, **{**arrays, "info": np.array('{"strategy": "rea", "seed": 1, ')})
    line = error_line(invoke("benchmark", *SMALL, "--out", "out"))
    assert line.startswith(f"error: {path} is damaged, not a run file (")
    assert line.endswith("); delete that file to run it again; use --overwrite to delete the stored runs there and "
                         "start over, or another --out folder")
    assert path.exists()  # deleted only when asked
    path.unlink()
    rerun = invoke("benchmark", *SMALL, "--out", "out")
    assert rerun.exit_code == 0, rerun.output
    assert path.is_file() and Path("out/leaderboard.md").is_file()


def test_overwrite_replaces_the_runs_of_a_folder_with_a_damaged_run_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert invoke("benchmark", *SMALL, "--out", "out").exit_code == 0
    Path("out/runs/random/seed-0.npz").write_bytes(b"PK\x03\x04")
    result = invoke("benchmark", *SMALL, "--out", "out", "--overwrite")
    assert result.exit_code == 0, result.output
    assert len(list(Path("out/runs").glob("*/seed-*.npz"))) == 4


# ---- item 8: one rule for every command that writes results --------------------------------------------------------

def test_analyze_refuses_to_replace_a_committed_analysis_made_under_other_settings(tmp_path, monkeypatch):
    """The committed results/analysis/cifar10-jpeg75-micro compares with nb201-cifar10: `analyze` without
    --compare used to overwrite it (and drop those rows) in silence."""
    committed = REPO / "results" / "analysis" / "cifar10-jpeg75-micro"
    folder = tmp_path / "results" / "analysis" / "cifar10-jpeg75-micro"
    shutil.copytree(committed, folder)
    before = contents(folder)
    monkeypatch.chdir(tmp_path)
    line = error_line(invoke("analyze", "cifar10-jpeg75-micro"))
    assert line == ("error: results/analysis/cifar10-jpeg75-micro holds an analysis under other settings (compare "
                    "differ); use --overwrite to replace it, or another --out folder")
    assert error_line(invoke("analyze", "cifar10-jpeg75-micro", "--compare", "nb201-cifar10", "--seed", "1")).endswith(
        "(seed differ); use --overwrite to replace it, or another --out folder")
    assert contents(folder) == before


@pytest.mark.slow
def test_analyze_reuses_a_folder_of_the_same_settings_and_replaces_one_only_with_overwrite(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    first = invoke("analyze", "cifar10-jpeg75-micro", "--compare", "nb201-cifar10")
    assert first.exit_code == 0, first.output
    assert first.stderr.splitlines()[-1] == "wrote 20 files to results/analysis/cifar10-jpeg75-micro/"
    folder = tmp_path / "results" / "analysis" / "cifar10-jpeg75-micro"
    written = contents(folder)
    again = invoke("analyze", "cifar10-jpeg75-micro", "--compare", "nb201-cifar10")
    assert again.exit_code == 0, again.output
    assert contents(folder) == written
    (folder / "pareto.csv").unlink()  # listed in the summary: the replacement deletes the old files first
    (folder / "notes.txt").write_text("mine")
    replaced = invoke("analyze", "cifar10-jpeg75-micro", "--overwrite", "--out", str(folder))
    assert replaced.exit_code == 0, replaced.output
    assert "nb201-cifar10" not in (folder / "rank_correlations.csv").read_text()
    assert (folder / "notes.txt").read_text() == "mine" and (folder / "pareto.csv").is_file()


def test_benchmark_refuses_to_replace_a_leaderboard_of_another_protocol_without_its_runs(tmp_path, monkeypatch):
    """A committed leaderboard has no stored runs: `benchmark` with another budget used to overwrite it silently."""
    results = tmp_path / "results"
    results.mkdir()
    for name in ("leaderboard.json", "leaderboard.csv", "leaderboard.md"):
        shutil.copy(REPO / "results" / name, results / name)
    before = contents(results)
    monkeypatch.chdir(tmp_path)
    line = error_line(invoke("benchmark", *SMALL))
    assert line == ("error: results/leaderboard.json is a leaderboard of another protocol (table, preset, budget or "
                    "fidelities differ); use --overwrite to replace it, or another --out folder")
    assert contents(results) == before
    replaced = invoke("benchmark", *SMALL, "--overwrite")
    assert replaced.exit_code == 0, replaced.output
    assert "wrote results/leaderboard.{csv,md,json}" in replaced.stdout


def test_hw_benchmark_refuses_to_replace_a_committed_leaderboard_of_another_command(tmp_path, monkeypatch):
    """hw-benchmark stores no runs: a leaderboard made by another command (here fewer seeds and strategies) used
    to be overwritten in silence."""
    folder = tmp_path / "results" / "hw" / "latency_fpga_ms" / "hw-pareto"
    shutil.copytree(REPO / "results" / "hw" / "latency_fpga_ms" / "hw-pareto", folder)
    before = contents(folder)
    monkeypatch.chdir(tmp_path)
    args = ["--preset", "hw-pareto", "--device-metric", "latency_fpga_ms", "--strategies", "random,pls", "--seeds",
            "2", "--budget", "50q", "--jobs", "1"]
    line = error_line(invoke("benchmark", *args))
    assert line == ("error: results/hw/latency_fpga_ms/hw-pareto/leaderboard.json is a leaderboard of another "
                    "hw-benchmark command (preset, device metric, table, strategies, seeds or budget differ); use "
                    "--overwrite to replace it, or another --out folder")
    assert contents(folder) == before
    replaced = invoke("hw-benchmark", *args, "--overwrite")
    assert replaced.exit_code == 0, replaced.output
    written = contents(folder)
    again = invoke("hw-benchmark", *args)  # the same command: rewritten, byte for byte but the measured times
    assert again.exit_code == 0, again.output
    assert {k: v for k, v in contents(folder).items() if k != "timing.json"} == {
        k: v for k, v in written.items() if k != "timing.json"}
    assert "wrote results/hw/latency_fpga_ms/hw-pareto/leaderboard.{csv,md,json}" in again.stdout


def test_benchmark_with_a_surrogate_writes_in_the_working_directory_under_the_same_rule(tmp_path, monkeypatch):
    """`benchmark --surrogate FILE` writes to ./results/surrogate of the working directory (never the checkout's),
    says so, and refuses a folder of another surrogate's runs without --overwrite."""
    pytest.importorskip("xgboost")
    checkout = REPO / "results" / "surrogate"
    existed = checkout.exists()
    monkeypatch.chdir(tmp_path)
    for seed in ("0", "1"):
        built = invoke("surrogate", "build", "nb201-cifar10", "--train-size", "30", "--model", "rf", "--seed", seed,
                       "--out", f"s{seed}.surrogate")
        assert built.exit_code == 0, built.output
    result = invoke("benchmark", *SMALL, "--surrogate", "s0.surrogate")
    assert result.exit_code == 0, result.output
    assert "wrote results/surrogate/leaderboard.{csv,md,json}" in result.stdout
    assert (tmp_path / "results" / "surrogate" / "leaderboard.md").is_file()
    assert checkout.exists() == existed
    line = error_line(invoke("benchmark", *SMALL, "--surrogate", "s1.surrogate"))
    assert "another protocol" in line and line.endswith("use --overwrite to replace it, or another --out folder")


# ---- item 9: a partial leaderboard is never shown in silence ------------------------------------------------------

def test_report_warns_about_a_partial_leaderboard_and_marks_it_on_the_page(tmp_path):
    """A leaderboard folder with leaderboard.json but without its .md and plots (as a benchmark killed mid-write
    left it) and one a benchmark is writing (its staging folder, no leaderboard.json yet)."""
    results = tmp_path / "results"
    shutil.copytree(REPO / "results" / "nb201-paper", results / "paper")
    shutil.copytree(REPO / "results" / "nb201-paper", results / "whole")
    (results / "paper" / "leaderboard.md").unlink()
    shutil.rmtree(results / "paper" / "plots")
    (results / "writing" / "runs").mkdir(parents=True)
    (results / "writing" / ".leaderboard.partial" / "plots").mkdir(parents=True)
    result = invoke("report", str(results))
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines() == [
        f"warning: {results / 'paper'} is not a complete leaderboard (leaderboard.md missing; a benchmark may still "
        "be writing it): marked incomplete on the page",
        f"warning: {results / 'writing'} is not a complete leaderboard (no leaderboard.json yet; a benchmark may still "
        "be writing it): left out"]
    html = (results / "site" / "index.html").read_text()
    assert html.count("<dt>incomplete leaderboard</dt>") == 1
    assert "leaderboard.md missing; rerun the command that wrote results/paper to complete it" in html


def test_a_leaderboard_missing_a_plot_it_links_to_is_incomplete(tmp_path):
    from nasbench_suite.report.write import incomplete

    folder = tmp_path / "paper"
    shutil.copytree(REPO / "results" / "nb201-paper", folder)
    assert incomplete(folder) is None
    (folder / "plots" / "rank_time.pdf").unlink()
    assert incomplete(folder) == "plots/rank_time.pdf missing"
