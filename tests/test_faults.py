"""`nasbench-suite benchmark` as real processes: killed parents leave no workers, a second writer is refused, reruns
reproduce every output file byte for byte, and everything JSON it writes or prints is strict."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

import nasbench_suite as ns
from nasbench_suite import jsonio
from nasbench_suite.cli import cli
from nasbench_suite.cli import commands  # noqa: F401  (registers the benchmark command)
from nasbench_suite.runner import get_preset, load_runs, run

REPO = Path(__file__).resolve().parents[1]
# a few seconds of work on 2 busy cores, saved run by run
SEEDS = 24
WORKLOAD = ["--preset", "default", "--strategies", "random,rea", "--seeds", str(SEEDS), "--budget", "3000q"]


def start(out: Path, *extra: str) -> subprocess.Popen:
    """The benchmark command as its own process group (its fork workers join the group)."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen([sys.executable, "-m", "nasbench_suite", "benchmark", *WORKLOAD, "--out", str(out),
                             *extra], cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)


def saved(out: Path) -> int:
    return len(list((out / "runs").glob("*/seed-*.npz")))


def wait_for(condition, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def group_members(pgid: int) -> list[int]:
    """Live (not zombie) processes of a process group, from /proc."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            members.append(int(stat.parent.name))
    return members


@pytest.fixture(scope="session")  # session: xdist tears module fixtures down between modules
def uninterrupted():
    """The 2 x SEEDS runs `start` asks for, computed in this process without interruption (shared by both signals)."""
    preset = get_preset("default")
    table = ns.open_table("nb201-cifar10")
    return run(preset.benchmark(table), ["random", "rea"], SEEDS, "3000q", default_fidelity=preset.search_fidelity,
               fidelities=preset.multi_fidelities, proxy=table.column(preset.proxy_column), jobs=1)


@pytest.mark.slow
@pytest.mark.xdist_group("killed-benchmark")  # one worker runs both, so `uninterrupted` is computed once
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize("signum, code", [(signal.SIGKILL, -signal.SIGKILL), (signal.SIGTERM, 143)])
def test_killed_benchmark_leaves_no_worker_and_a_rerun_completes_identically(signum, code, uninterrupted,
                                                                             tmp_path):
    out = tmp_path / "out"
    parent = start(out, "--jobs", "2")
    wait_for(lambda: saved(out) >= 3 or parent.poll() is not None)
    assert parent.poll() is None, "the workload finished before it could be killed; make it longer"
    parent.send_signal(signum)
    _, err = parent.communicate(timeout=60)
    assert parent.returncode == code, err
    if signum == signal.SIGTERM:
        assert f"interrupted by SIGTERM: {saved(out)} finished runs are saved" in err
    wait_for(lambda: not group_members(parent.pid), timeout=10)  # the workers died with their parent
    kept = saved(out)
    assert 3 <= kept < 2 * SEEDS
    again = start(out, "--jobs", "2", "--resume")
    assert again.wait(timeout=300) == 0, again.stderr.read()
    stored = load_runs(out)
    assert len(stored) == 2 * SEEDS
    assert all(stored.get(r.strategy, r.seed).same_trajectory(r) for r in uninterrupted)


@pytest.mark.slow
def test_a_second_writer_is_refused(tmp_path):
    out = tmp_path / "out"
    first = start(out, "--jobs", "1")
    try:
        wait_for(lambda: saved(out) >= 1 or first.poll() is not None)
        assert first.poll() is None, "the workload finished before the second writer came; make it longer"
        second = subprocess.run([sys.executable, "-m", "nasbench_suite", "benchmark", "--strategies", "random",
                                 "--seeds", "1", "--budget", "5q", "--out", str(out)], cwd=REPO,
                                env={**os.environ, "PYTHONPATH": str(REPO)}, capture_output=True, text=True,
                                timeout=120)
        assert second.returncode == 2, second.stderr
        assert second.stderr.strip().splitlines()[1:] == [  # after the one-line banner
            f"error: {out} is being written by another benchmark process (lock {out.resolve() / 'runs' / '.lock'}); "
            "wait for it to finish or use another --out folder"]
        assert first.poll() is None  # untouched by the refused writer
    finally:
        first.send_signal(signal.SIGTERM)
        first.communicate(timeout=60)
    assert first.returncode == 143


def outputs(folder: Path) -> dict[str, bytes]:
    """Every output file's bytes, except measured times and the lock file."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and p.name not in ("timing.json", ".lock")}


@pytest.mark.slow
def test_reruns_are_byte_identical_and_all_json_is_strict(tmp_path):
    args = ["benchmark", "--strategies", "random,rea,local-search", "--seeds", "3", "--budget", "20000",
            "--preset", "default", "--json"]
    first = CliRunner().invoke(cli, [*args, "--out", str(tmp_path / "a"), "--jobs", "1"])
    second = CliRunner().invoke(cli, [*args, "--out", str(tmp_path / "b"), "--jobs", "2"])
    assert first.exit_code == second.exit_code == 0, first.output + second.output
    printed = jsonio.loads(first.stdout)  # `benchmark --json` prints strict JSON (no Infinity for "never")
    assert {row["strategy"] for row in printed["leaderboard"]} == {"random", "rea", "local-search"}
    a, b = outputs(tmp_path / "a"), outputs(tmp_path / "b")
    assert "plots/regret_time.svg" in a and "plots/regret_time.pdf" in a and "runs/random/seed-2.npz" in a and "runs/protocol.json" in a
    assert sorted(a) == sorted(b)
    assert [name for name in a if a[name] != b[name]] == []
    for path in [*(tmp_path / "a").rglob("*.json"), *(tmp_path / "b").rglob("*.json")]:
        jsonio.loads(path.read_text())
    timing = jsonio.loads((tmp_path / "b" / "timing.json").read_text())
    assert timing["jobs"] == 2 and timing["strategies"]["rea"]["runs_timed"] == 3
    assert len(timing["runs"]) == 9 and timing["runs"]["random/0"]["cpu_seconds"] > 0
    measured = jsonio.loads((tmp_path / "a" / "timing.json").read_text())["runs"]
    rerun = CliRunner().invoke(cli, [*args, "--out", str(tmp_path / "a"), "--jobs", "1"])  # all 9 runs reused
    assert rerun.exit_code == 0, rerun.output
    assert outputs(tmp_path / "a") == a
    assert jsonio.loads((tmp_path / "a" / "timing.json").read_text())["runs"] == measured  # reused runs keep theirs
