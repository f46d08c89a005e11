"""Hostile inputs end in one line and exit 2, before anything big is allocated: experiment files and --seeds (huge
counts and seeds, deep nesting, repeated keys), hyperparameters at the top of their declared ranges, malformed
leaderboard.json files and surrogate files (bad meta.json, a zip bomb)."""

from __future__ import annotations

import os
import re
import resource
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from nasbench_suite.cli import (
    cli,
    commands,  # noqa: F401  (registers the commands)
)
from nasbench_suite.seeds import MAX_SEED, MAX_SEEDS

LIMIT_BYTES = 2 << 30  # address space a hostile-input command may use: far below what the old code allocated


def run_limited(*args: str, cwd: Path) -> tuple[int, str, float]:
    """(exit code, stderr, peak RSS in MB) of `nasbench-suite ARGS` in a child whose address space is capped at
    LIMIT_BYTES (and CPU time at 2 minutes), so a command that starts allocating gigabytes fails with a MemoryError
    instead of filling the machine."""
    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (LIMIT_BYTES, LIMIT_BYTES))
        resource.setrlimit(resource.RLIMIT_CPU, (120, 120))

    with open(cwd / "stderr.txt", "w+") as stderr:
        process = subprocess.Popen([sys.executable, "-m", "nasbench_suite", *args], cwd=cwd, preexec_fn=cap,
                                   stdout=subprocess.DEVNULL, stderr=stderr)
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        stderr.seek(0)
        return process.returncode, stderr.read(), usage.ru_maxrss / 1024


def one_line(result) -> str:
    """The single 'error: ...' line a CLI result printed (asserting exit code 2 and nothing else)."""
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    return lines[0]


def benchmark(*args: str, out: Path):
    return CliRunner().invoke(cli, ["benchmark", *args, "--out", str(out), "--jobs", "1"])


# ---- item 10: experiment files and --seeds ------------------------------------------------------------------------

@pytest.mark.parametrize("name, text, message", [
    ("exp.toml", "seeds = 18446744073709551615", "seeds = 18446744073709551615: 18,446,744,073,709,551,615 seeds per "
                                                 f"strategy are above the cap of {MAX_SEEDS:,}"),
    ("exp.json", '{"seeds": [0, 4294967296]}', f"seed 4294967296 is above the cap of {MAX_SEED}"),
    ("exp.json", '{"seeds": ' + "[" * 100_000 + "]" * 100_000 + "}", "nested too deeply"),
    ("exp.toml", "seeds = " + "[" * 100_000 + "]" * 100_000, "nested too deeply"),
    ("exp.json", '{"seeds": 2, "budget": "50q", "seeds": 3}', "the key 'seeds' appears twice in one object"),
    ("exp.toml", 'seeds = 2\nbudget = "50q"\nseeds = 3', r"Cannot overwrite a value \(at .*\) in: seeds = 3"),
])
def test_hostile_experiment_files_are_one_line_errors(name, text, message, tmp_path):
    """Were OverflowError and RecursionError tracebacks, a silently kept last key, a seed no generator takes."""
    path = tmp_path / name
    path.write_text(text)
    line = one_line(benchmark("--config", str(path), "--strategies", "random", "--budget", "20q",
                              out=tmp_path / "out"))
    assert f"experiment file {path}" in line
    assert re.search(message, line), line


@pytest.mark.parametrize("seeds, file, message", [
    ("0-99999999999", None, f"100,000,000,000 seeds per strategy are above the cap of {MAX_SEEDS:,}"),
    ("10000000", None, f"expected at most {MAX_SEEDS}"),
    ("0-9999,10000-10000", None, f"10,001 seeds per strategy are above the cap of {MAX_SEEDS:,}"),
    ("4294967296-4294967296", None, f"seed 4294967296 is above the cap of {MAX_SEED}"),
    ("9" * 5000, None, "is not a seed or a range; expected a number of runs N <= 10000"),
    (None, "seeds = 10000000", f"seeds = 10000000: 10,000,000 seeds per strategy are above the cap of {MAX_SEEDS:,}"),
    (None, 'seeds = "0-99999999999"', "--seeds '0-99999999999': 100,000,000,000 seeds per strategy"),
])
def test_seeds_above_the_caps_fail_at_once_without_allocating(seeds, file, message, tmp_path):
    """`--seeds 0-99999999999` built a list of 10^11 seeds (11 GB RSS) and `seeds = 10000000` ran ten million
    seeds before any check; now the caps refuse them first: the command runs in an address space of 2 GB and
    ends with the one-line error."""
    (tmp_path / "exp.toml").write_text(file or "")
    given = ["--seeds", seeds] if seeds is not None else ["--config", "exp.toml"]
    code, stderr, peak_mb = run_limited("benchmark", *given, "--strategies", "random", "--budget", "20q",
                                        "--out", str(tmp_path / "out"), cwd=tmp_path)
    lines = stderr.strip().splitlines()
    assert code == 2 and len(lines) == 1 and message in lines[0], stderr
    assert peak_mb < 500, f"{peak_mb:.0f} MB"
