"""Hostile inputs end in one line and exit 2, before anything big is allocated: experiment files and --seeds (huge
counts and seeds, deep nesting, repeated keys), malformed leaderboard.json files and surrogate files (bad meta.json,
zip bombs, lying array headers). Hyperparameter ranges: tests/test_strategy_specs.py."""

from __future__ import annotations

import io
import json
import os
import re
import resource
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from nasbench_suite.cli import (
    cli,
    commands,  # noqa: F401  (registers the commands)
)
from nasbench_suite.errors import UserInputError
from nasbench_suite.seeds import MAX_SEED, MAX_SEEDS, seed_list
from nasbench_suite.surrogate import Surrogate, SurrogateFileError, load
from nasbench_suite.surrogate.api import MAX_ARRAYS_BYTES

LIMIT_BYTES = 2 << 30  # address space a hostile-input command may use: far below what the old code allocated


# The child reports its own peak (VmHWM of its address space, fresh after exec): the rusage of a forked child starts
# from its parent's RSS, so an xdist worker that has loaded tables would be counted as the command's memory.
_PEAK_THEN_CLI = ("import atexit, re, sys; peak = sys.argv[1]; atexit.register(lambda: open(peak, 'w').write("
                  "re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read()).group(1))); "
                  "sys.argv = ['nasbench-suite', *sys.argv[2:]]; from nasbench_suite.cli import main; main()")


def run_limited(*args: str, cwd: Path) -> tuple[int, str, float]:
    """(exit code, stderr, peak RSS in MB) of `nasbench-suite ARGS` in a child whose address space is capped at
    LIMIT_BYTES (and CPU time at 2 minutes), so a command that starts allocating gigabytes fails with a MemoryError
    instead of filling the machine."""
    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (LIMIT_BYTES, LIMIT_BYTES))
        resource.setrlimit(resource.RLIMIT_CPU, (120, 120))

    peak = cwd / "peak_kb.txt"
    with open(cwd / "stderr.txt", "w+") as stderr:
        code = subprocess.run([sys.executable, "-c", _PEAK_THEN_CLI, str(peak), *args], cwd=cwd, preexec_fn=cap,
                              stdout=subprocess.DEVNULL, stderr=stderr, check=False).returncode
        stderr.seek(0)
        return code, stderr.read(), int(peak.read_text()) / 1024


def one_line(result) -> str:
    """The single 'error: ...' line a CLI result printed (asserting exit code 2 and nothing else)."""
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    return lines[0]


def benchmark(*args: str, out: Path):
    return CliRunner().invoke(cli, ["benchmark", *args, "--out", str(out), "--jobs", "1"])


# ---- experiment files and --seeds (issue 30, item 10) ----------------------------------------------------------------

@pytest.mark.parametrize("name, text, message", [
    ("exp.toml", "seeds = 18446744073709551615", "seeds = 18446744073709551615: 18,446,744,073,709,551,615 seeds per "
                                                 f"strategy are above the cap of {MAX_SEEDS:,}"),
    ("exp.json", '{"seeds": [0, 4294967296]}', f"seed 4294967296 is above the cap of {MAX_SEED}"),
    ("exp.json", '{"seeds": ' + "[" * 100_000 + "]" * 100_000 + "}", "nested too deeply"),
    ("exp.toml", "seeds = " + "[" * 100_000 + "]" * 100_000, "nested too deeply"),
    ("exp.json", '{"seeds": 2, "budget": "50q", "seeds": 3}', "the key 'seeds' appears twice in one object"),
    ("exp.toml", 'seeds = 2\nbudget = "50q"\nseeds = 3', r"Cannot overwrite a value \(at .*\) in: seeds = 3"),
    ("exp.toml", "seeds = '\udcff'", "can't decode byte 0xff"),
])
def test_hostile_experiment_files_are_one_line_errors(name, text, message, tmp_path):
    """Were OverflowError and RecursionError tracebacks, a silently kept last key, a seed no generator takes."""
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8", "surrogateescape"))
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


def test_seed_lists_from_python_are_capped_too():
    """The runner's Python API took any number of seeds (and any seed) as well."""
    for seeds, message in ((range(MAX_SEEDS + 1), f"seeds: {MAX_SEEDS + 1:,} seeds per strategy are above the cap"),
                           ([0, MAX_SEED + 1], f"seeds: seed {MAX_SEED + 1} is above the cap of {MAX_SEED}"),
                           (MAX_SEEDS + 1, f"{MAX_SEEDS + 1:,} seeds per strategy")):
        with pytest.raises(UserInputError, match=re.escape(message)):
            seed_list(seeds)
    assert seed_list(range(MAX_SEEDS)) == list(range(MAX_SEEDS)) and seed_list([MAX_SEED, 0, MAX_SEED]) == [MAX_SEED, 0]


# ---- leaderboards for compare, surrogate files (issue 30, item 12) ---------------------------------------------------

GOOD_ROWS = [{"strategy": "rea", "runs": 3, "final_mean": 93.5, "final_std": 0.2, "mean_rank": 1.0},
             {"strategy": "random", "runs": 3, "final_mean": 93.1, "final_std": 0.3, "mean_rank": 2.0}]
DROP = object()  # a key left out of a row


def _rows(**change) -> str:
    """GOOD_ROWS with the first row changed."""
    rows = [dict(GOOD_ROWS[0], **change), GOOD_ROWS[1]]
    return json.dumps({"leaderboard": [{k: v for k, v in row.items() if v is not DROP} for row in rows]})


@pytest.mark.parametrize("text, problem", [
    ('{"leaderboard": [', "not readable JSON (Expecting value"),
    ("\udcff", "not readable JSON"),
    ("[1, 2]", 'no "leaderboard" list of rows (JSON objects)'),
    ('{"header": {}}', 'no "leaderboard" list of rows'),
    ('{"leaderboard": {"rea": 1}}', 'no "leaderboard" list of rows'),
    ('{"leaderboard": [[1]]}', 'no "leaderboard" list of rows'),
    ('{"leaderboard": []}', 'no "leaderboard" list of rows'),
    ('{"leaderboard": [], "leaderboard": []}', "the key 'leaderboard' appears twice"),
    (_rows(strategy=DROP), "leaderboard row 1 lacks strategy"),
    (_rows(final_std=DROP), "leaderboard row 1 lacks final_std"),
    (_rows(strategy=5), "leaderboard row 1 has strategy 5, not a strategy name"),
    (_rows(strategy="random"), "leaderboard row 2 repeats strategy 'random'"),
    (_rows(final_mean="high"), "leaderboard row 1 (rea) has final_mean 'high', not a number"),
    (_rows(runs=True), "leaderboard row 1 (rea) has runs True, not a number"),
    (_rows(runs=0), "leaderboard row 1 (rea) has runs 0, not a positive count"),
])
def test_compare_names_the_file_and_what_is_wrong_with_a_malformed_leaderboard(text, problem, tmp_path):
    """Were JSONDecodeError, KeyError, TypeError, AttributeError and ValueError tracebacks (or, for runs = true, a
    comparison computed from a boolean)."""
    (tmp_path / "good.json").write_text(json.dumps({"leaderboard": GOOD_ROWS}))
    bad = tmp_path / "bad.json"
    bad.write_bytes(text.encode("utf-8", "surrogateescape"))
    line = one_line(CliRunner().invoke(cli, ["compare", str(tmp_path / "good.json"), str(bad)]))
    assert line.startswith(f"error: {bad}: ") and problem in line, line
    assert line.endswith("expected the leaderboard.json that nasbench-suite benchmark or hw-benchmark writes"), line


@pytest.fixture(scope="module")
def surrogate_file(nb201_table, tmp_path_factory) -> Path:
    """A real (small) saved surrogate."""
    surrogate = Surrogate(target="valid_acc@200", params={"members": 1, "n_estimators": 20, "n_jobs": 1})
    return surrogate.fit(nb201_table, np.arange(0, 15625, 100)).save(tmp_path_factory.mktemp("s") / "s.surrogate")


def _entries(path: Path) -> list[tuple[zipfile.ZipInfo, bytes]]:
    with zipfile.ZipFile(path) as z:
        return [(info, z.read(info)) for info in z.infolist()]


def _with_meta(source: Path, path: Path, meta: bytes) -> Path:
    """`source` with its meta.json replaced."""
    with zipfile.ZipFile(path, "w") as z:
        for info, data in _entries(source):
            z.writestr(info, meta if info.filename == "meta.json" else data)
    return path


@pytest.mark.parametrize("edit, problem", [
    (lambda meta: b"{not json", "corrupt surrogate file (JSONDecodeError: Expecting property name"),
    (lambda meta: b"[1, 2]", "meta.json is not an object"),
    (lambda meta: json.dumps({k: v for k, v in meta.items() if k != "train_cells"}).encode(), "lacks train_cells"),
    (lambda meta: json.dumps({**meta, "train_cells": 5}).encode(),
     "meta.json has train_cells 5, expected a list of cell indices"),
    (lambda meta: json.dumps({**meta, "train_cells": ["a"]}).encode(), "has train_cells ['a'], expected a list"),
    (lambda meta: json.dumps({**meta, "model": 5}).encode(), "meta.json has model 5, expected text"),
    (lambda meta: json.dumps({**meta, "targets": "valid_acc@200"}).encode(), "has targets 'valid_acc@200', expected"),
    (lambda meta: json.dumps({**meta, "noise": []}).encode(), "meta.json has noise [], expected a JSON object"),
    (lambda meta: b'{"model": "xgb", "model": "rf"}', "the key 'model' appears twice"),
])
def test_surrogate_info_on_a_bad_meta_json_is_one_line(edit, problem, surrogate_file, tmp_path):
    """A missing or mistyped key was a KeyError or TypeError traceback, or shown as if valid."""
    meta = json.loads(zipfile.ZipFile(surrogate_file).read("meta.json"))
    path = _with_meta(surrogate_file, tmp_path / "bad.surrogate", edit(meta))
    line = one_line(CliRunner().invoke(cli, ["surrogate", "info", str(path)]))
    assert line.startswith(f"error: {path} is a corrupt surrogate file (") and problem in line, line
    assert line.endswith("rebuild it with `nasbench-suite surrogate build TABLE --train-size N`"), line


def _write_bomb(z: zipfile.ZipFile, name: str, size: int) -> None:
    """A deflated member of `size` zero bytes (about 1/250 of that on disk), written 1 MiB at a time."""
    with z.open(name, "w", force_zip64=True) as member:
        chunk = bytes(1 << 20)
        for _ in range(size >> 20):
            member.write(chunk)


@pytest.mark.parametrize("where", ["arrays.npz", "inside arrays.npz"])
def test_a_zip_bombed_surrogate_is_refused_before_it_is_decompressed(where, surrogate_file, tmp_path):
    """A few MB whose arrays.npz (or one array inside it) declares more than MAX_ARRAYS_BYTES: read whole, it
    reached 6.4 GB RSS before its error; now the declared sizes are refused first, in a 2 GB address space."""
    bomb = tmp_path / "bomb.surrogate"
    size = MAX_ARRAYS_BYTES + (1 << 20)
    inner = tmp_path / "arrays.npz"
    if where != "arrays.npz":
        with zipfile.ZipFile(inner, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as npz:
            _write_bomb(npz, "y_mean_.npy", size)
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        for info, data in _entries(surrogate_file):
            if info.filename != "arrays.npz":
                z.writestr(info, data)
            elif where == "arrays.npz":
                _write_bomb(z, "arrays.npz", size)
            else:
                z.writestr(info, inner.read_bytes())
    assert bomb.stat().st_size < 20e6
    code, stderr, peak_mb = run_limited("surrogate", "info", str(bomb), cwd=tmp_path)
    what = "arrays.npz" if where == "arrays.npz" else "arrays.npz's arrays"
    assert code == 2 and stderr.strip() == (
        f"error: {bomb}: {what} declares {size:,} bytes, above the cap of {MAX_ARRAYS_BYTES:,} for a surrogate file "
        "(a zip bomb?); refused unread; rebuild it with `nasbench-suite surrogate build TABLE --train-size N`"), stderr
    assert peak_mb < 400, f"{peak_mb:.0f} MB"


def test_an_array_whose_header_declares_more_than_its_bytes_is_refused_unread(surrogate_file, tmp_path):
    """A .npy header can declare any shape: numpy allocated the declared 8 GB before finding 8 bytes there."""
    lying = io.BytesIO()
    np.lib.format.write_array_header_1_0(lying, {"descr": "<f8", "fortran_order": False, "shape": (10**9,)})
    lying.write(bytes(8))
    npz = io.BytesIO()
    with zipfile.ZipFile(surrogate_file) as z, zipfile.ZipFile(io.BytesIO(z.read("arrays.npz"))) as arrays, \
            zipfile.ZipFile(npz, "w") as edited:
        for info in arrays.infolist():
            edited.writestr(info, lying.getvalue() if info.filename == "y_mean_.npy" else arrays.read(info))
    path = tmp_path / "lying.surrogate"
    with zipfile.ZipFile(path, "w") as z:
        for info, content in _entries(surrogate_file):
            z.writestr(info, npz.getvalue() if info.filename == "arrays.npz" else content)
    with pytest.raises(SurrogateFileError) as error:
        load(path)
    assert str(error.value).startswith(f"{path}: arrays.npz's y_mean_.npy declares shape ({10**9},) of float64 but "
                                       f"holds {len(lying.getvalue())} bytes; refused unread")
