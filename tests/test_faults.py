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


# ---- a full disk, damaged run files, signals to every long command (issue 30, items 5, 7, 14) --------------------

SMALL = ["--strategies", "random,rea", "--seeds", "2", "--budget", "50q", "--jobs", "1"]
FULL_DISK = """
import json, os, subprocess, sys
disk, report = sys.argv[1], sys.argv[2]
def bench(*extra):
    return subprocess.run([sys.executable, "-m", "nasbench_suite", "benchmark", *extra], cwd=disk, capture_output=True,
                          text=True)
def files():
    return {os.path.relpath(os.path.join(d, f), disk): open(os.path.join(d, f), "rb").read().hex()
            for d, _, names in os.walk(os.path.join(disk, "b")) for f in names
            if "runs" not in d and f not in ("timing.json", "environment.json")}
first = bench(*json.loads(sys.argv[3]), "--out", "b")
before = files()
free = os.statvfs(disk).f_bavail * os.statvfs(disk).f_frsize
with open(os.path.join(disk, "filler"), "wb") as fh:  # leave room for the runs, not for the plots
    fh.write(b"0" * max(0, free - 150_000))
second = bench(*json.loads(sys.argv[3]), "--budget", "60q", "--overwrite", "--out", "b")
fresh = bench(*json.loads(sys.argv[3]), "--out", "fresh")
json.dump({"first": first.returncode, "second": [second.returncode, second.stderr], "before": before,
           "after": files(), "left": sorted(os.listdir(os.path.join(disk, "b"))),
           "fresh": [fresh.returncode, fresh.stderr, sorted(os.listdir(os.path.join(disk, "fresh")))]},
          open(report, "w"))
"""


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="mounts a small tmpfs in a user namespace")
def test_benchmark_on_a_full_disk_names_the_file_and_keeps_the_previous_complete_leaderboard(tmp_path):
    """The second benchmark fills the disk while writing its plots: one line naming the file and the full disk, and
    the previous leaderboard stays whole (never a leaderboard.json without its .md and plots); a first one into a
    new folder leaves its runs and no leaderboard file at all."""
    disk, report = tmp_path / "disk", tmp_path / "report.json"
    disk.mkdir()
    mount = (f'mount -t tmpfs -o size=1200k tmpfs "{disk}" && exec "{sys.executable}" -c "$0" "$@"')
    env = {**os.environ, "PYTHONPATH": str(REPO), "MPLCONFIGDIR": str(tmp_path / "mpl")}
    try:
        done = subprocess.run(["unshare", "-Urm", "sh", "-c", mount, FULL_DISK, str(disk), str(report),
                               jsonio.dumps(SMALL)], env=env, capture_output=True, text=True, timeout=600)
    except FileNotFoundError:
        pytest.skip("no unshare(1) here")
    if done.returncode != 0 and "mount" in done.stderr + done.stdout:
        pytest.skip(f"cannot mount a tmpfs in a user namespace here: {done.stderr.strip()}")
    assert done.returncode == 0, done.stderr
    seen = jsonio.loads(report.read_text())
    assert seen["first"] == 0 and "b/leaderboard.md" in seen["before"] and "b/plots/regret_time.svg" in seen["before"]
    code, err = seen["second"]
    assert code == 2 and err.splitlines()[-1].startswith("error: cannot write b/plots/"), err
    assert err.splitlines()[-1].endswith(": the disk is full (No space left on device); free some space or choose "
                                         "another --out")
    assert seen["after"] == seen["before"]  # the previous complete set, byte for byte
    assert ".leaderboard.partial" not in seen["left"]
    code, err, left = seen["fresh"]
    assert code == 2 and "the disk is full" in err.splitlines()[-1] and left == ["runs"], err


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far, from /proc (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize("signum, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
@pytest.mark.parametrize("command", ["surrogate build", "analyze"])
def test_every_long_command_ends_on_ctrl_c_or_sigterm_with_one_line_and_130_or_143(tmp_path, command, signum, code):
    """Not click's 'Aborted!' with exit 1 (SIGINT) or a silent death (SIGTERM): the benchmark's convention, from
    the CLI group, for every command. Signalled once well inside the command (CPU time past the start-up, or its
    first file written)."""
    if command == "analyze":
        args, started = ["analyze", "nb201-cifar10", "--boot", "100000", "--out", str(tmp_path / "a")], \
            lambda pid: (tmp_path / "a" / "op_distribution.csv").is_file()
    else:
        args, started = ["surrogate", "build", "nb201-cifar10", "--train-size", "15000", "--out",
                         str(tmp_path / "s.surrogate")], lambda pid: cpu_seconds(pid) > 3
    process = subprocess.Popen([sys.executable, "-m", "nasbench_suite", *args], cwd=tmp_path,
                               env={**os.environ, "PYTHONPATH": str(REPO)}, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    wait_for(lambda: started(process.pid) or process.poll() is not None)
    assert process.poll() is None, "the command finished before it could be interrupted; make it longer"
    process.send_signal(signum)
    _, err = process.communicate(timeout=120)
    assert process.returncode == code, err
    assert err.splitlines()[-1] == (f"interrupted by {signum.name}: every file written so far is complete (each is "
                                    "written whole, then renamed); rerun the same command to finish")
    assert "Aborted!" not in err and "Traceback" not in err
