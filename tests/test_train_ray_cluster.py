"""`train --backend ray --address` on a real two-node Ray cluster started with `ray start`, one node killed mid-build.

The head and a second node run as separate process trees on 127.0.0.1, each with its own --temp-dir and one CPU,
so each holds one of the two workers. Once both workers have written a finished cell, the second node's whole
process tree is killed; the build must still finish, keep the cells already written, train no cell twice and merge
into the same table as a local run. Restarting the finished build then needs no cluster at all.
"""

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest

from nasbench_suite.table import Table
from nasbench_suite.train.protocols import get_protocol
from nasbench_suite.train.ray_backend import run_ray
from nasbench_suite.train.run import RunSpec, run_local
from nasbench_suite.train.shards import finished_runs, merge_shards

from conftest import REPO, SHARED, TINY

pytest.importorskip("torch")

RAY = [sys.executable, "-m", "ray.scripts.scripts"]
ARCHS = [0, 1462, 6111, 11000, 3, 7777, 12345, 15000, 42, 9000]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_node(temp_dir: str, env: dict, *args: str) -> subprocess.Popen:
    """`ray start --block` in a session of its own, which its raylet, agents and workers inherit."""
    ports = ["--dashboard-agent-listen-port", "--dashboard-agent-grpc-port", "--metrics-export-port",
             "--runtime-env-agent-port", "--node-manager-port", "--object-manager-port"]
    cmd = [*RAY, "start", "--block", "--num-cpus=1", "--num-gpus=0", "--object-store-memory=100000000",
           "--node-ip-address=127.0.0.1", f"--temp-dir={temp_dir}", "--disable-usage-stats", *args,
           *(f"{flag}={_free_port()}" for flag in ports)]
    return subprocess.Popen(cmd, env=env, start_new_session=True, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


def _kill_session(proc: subprocess.Popen) -> None:
    """SIGKILL every process still in the session `proc` leads (a node lost without warning)."""
    for pid in (int(p) for p in os.listdir("/proc") if p.isdigit()):
        try:
            if os.getsid(pid) == proc.pid:
                os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            continue
    proc.wait(timeout=30)


def _alive_nodes(address: str, env: dict) -> int:
    out = subprocess.run([*RAY, "status", f"--address={address}"], env=env, capture_output=True, text=True)
    active = out.stdout.split("Active:")[-1].split("Pending:")[0] if "Active:" in out.stdout else ""
    return sum(" node_" in line for line in active.splitlines())


def _finished(shard: Path) -> set[tuple[int, int]]:
    table = Table.load(shard)
    flags = table.metrics["diverged"].values[:, :, -1]
    return {(int(table.archs[i]), int(table.seeds[j])) for i, j in zip(*np.nonzero(~np.isnan(flags)))}


def _assert_matches_a_local_run(ray_table: Table, protocol: Path, archs: list[int], out: Path) -> None:
    """The merged Ray table holds the same cells and the same metrics as `run_local` on the same cells."""
    local = Table.load(run_local(RunSpec(str(protocol), np.array(archs), [0], out, threads=1), progress=False))
    assert ray_table.archs.tolist() == local.archs.tolist() == sorted(archs)
    for name in ("train_loss", "train_acc", "valid_loss", "valid_acc", "test_loss", "test_acc"):
        np.testing.assert_allclose(ray_table.metrics[name].values, local.metrics[name].values, rtol=1e-5)


def test_half_written_shard_of_a_killed_worker_is_ignored(tmp_path, cifar):
    """A worker killed while rewriting its shard leaves the atomic writer's hidden temporary file behind."""
    protocol = tmp_path / "tiny.json"
    protocol.write_text(json.dumps(TINY))
    shard = run_local(RunSpec(str(protocol), np.array([0, 1462]), [0], tmp_path / "out", threads=1), progress=False)
    (shard.parent / f".{shard.stem}.x1y2z3.tmp.h5").write_bytes(shard.read_bytes()[:3000])
    assert finished_runs(shard.parent, get_protocol(str(protocol)), cifar.name, cifar.sha256) == {(0, 0), (1462, 0)}
    assert merge_shards([shard.parent]).archs.tolist() == [0, 1462]


@pytest.mark.slow
def test_local_ray_build_starts_and_stops_its_own_ray_and_matches_a_local_run(tmp_path, cifar):
    """Without --address, run_ray starts a local Ray with one CPU per worker and shuts it down afterwards."""
    ray = pytest.importorskip("ray")
    protocol = tmp_path / "tiny.json"
    protocol.write_text(json.dumps(TINY))
    shards = run_ray(RunSpec(str(protocol), np.array(ARCHS[:2]), [0], tmp_path / "ray", threads=1), workers=1,
                     progress=False)
    assert [p.name for p in shards] == ["ray-shard-0-of-1-worker-0.h5"] and not ray.is_initialized()
    _assert_matches_a_local_run(merge_shards(shards), protocol, ARCHS[:2], tmp_path / "local")


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc").is_dir(), reason="finds a node's processes through /proc (Linux)")
def test_build_survives_a_lost_node(tmp_path, monkeypatch):
    pytest.importorskip("ray")
    if not (SHARED / "data" / "cifar10").is_dir():
        pytest.skip("../shared/data/cifar10 is not present")
    env = {**os.environ, "NASBENCH_SUITE_CIFAR10": str(SHARED / "data" / "cifar10"),
           "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
           # `ray start` turns token authentication on (Ray >= 2.5x): every node, `ray status` and the driver get
           # this cluster's own token, never the user's ~/.ray/auth_token
           "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": secrets.token_hex(32)}
    protocol = tmp_path / "tiny.json"
    protocol.write_text(json.dumps(TINY))
    archs = tmp_path / "archs.txt"
    archs.write_text("\n".join(map(str, ARCHS)) + "\n")
    out = tmp_path / "ray"
    port = _free_port()
    address = f"127.0.0.1:{port}"
    temp_dirs = [tempfile.mkdtemp(prefix="ray-head-", dir="/tmp"), tempfile.mkdtemp(prefix="ray-node-", dir="/tmp")]
    nodes: list[subprocess.Popen] = []
    driver = None
    try:
        nodes.append(_start_node(temp_dirs[0], env, "--head", f"--port={port}", "--include-dashboard=false",
                                 f"--dashboard-port={_free_port()}"))
        deadline = time.monotonic() + 180
        while _alive_nodes(address, env) < 1 and time.monotonic() < deadline:
            time.sleep(1)
        nodes.append(_start_node(temp_dirs[1], env, f"--address={address}"))
        while _alive_nodes(address, env) < 2 and time.monotonic() < deadline:
            time.sleep(1)
        assert _alive_nodes(address, env) == 2, "the two-node cluster did not come up within 3 minutes"

        log = tmp_path / "driver.log"
        with open(log, "w") as fh:  # a file, not a pipe: a chatty driver can never block on a full pipe
            driver = subprocess.Popen([sys.executable, "-m", "nasbench_suite", "train", "--protocol", str(protocol),
                                       "--archs", str(archs), "--out", str(out), "--backend", "ray", "--address",
                                       address, "--workers", "2", "--threads", "1"], env=env, stdout=fh, stderr=fh)
        # both workers have a finished cell on disk, so the doomed node's shard holds work that must be kept
        deadline = time.monotonic() + 300
        while sum(bool(_finished(p)) for p in out.glob("ray-shard-*.h5")) < 2:
            assert driver.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        _kill_session(nodes[1])
        assert driver.wait(timeout=300) == 0, log.read_text()
    finally:
        if driver is not None and driver.poll() is None:
            driver.kill()
            driver.wait()
        for node in nodes:
            if node.poll() is None:
                _kill_session(node)
        for temp_dir in temp_dirs:
            shutil.rmtree(temp_dir, ignore_errors=True)

    assert "a Ray worker was lost" in log.read_text()  # the lost worker's group went back to the queue
    shards = sorted(out.glob("ray-shard-*.h5"))
    assert len(shards) == 2  # the lost worker's shard is kept; its replacement found no room and wrote nothing
    per_shard = [_finished(p) for p in shards]
    assert sum(map(len, per_shard)) == len(set().union(*per_shard)) == len(ARCHS)  # each cell trained once
    _assert_matches_a_local_run(merge_shards(shards), protocol, ARCHS, tmp_path / "local")
    # a restart of the finished build trains nothing and never contacts the (now stopped) cluster
    stamps = [p.stat().st_mtime_ns for p in shards]
    monkeypatch.setenv("NASBENCH_SUITE_CIFAR10", env["NASBENCH_SUITE_CIFAR10"])
    assert run_ray(RunSpec(str(protocol), np.array(ARCHS), [0], out, threads=1), address=address,
                   progress=False) == shards
    assert [p.stat().st_mtime_ns for p in shards] == stamps
