#!/usr/bin/env python3
"""Kill rate of a seeded random sample of one module's mutants against the named test files: a quick estimate,
and a lower bound (fewer tests than scripts/mutation.sh runs), for when a whole-module run does not fit the CPU.

    nice -n 10 scripts/mutation_sample.py MODULE COUNT|NAMES_FILE TEST_FILE[::TEST_NAME]...
    e.g.  nice -n 10 scripts/mutation_sample.py table 120 tests/test_table_rules.py tests/test_table.py
          nice -n 10 scripts/mutation_sample.py table survivors.txt tests/test_table_rules.py  (those mutants)

MODULE as for scripts/mutation.sh (table, benchmark/tabular, ...); it needs the mutants that `mutmut run` (run by
scripts/mutation.sh) generated in ./mutants. The sample is the same on every call (seed 0). Each mutant runs
`pytest -x` on the test files in a child forked after the imports; over 5 minutes counts as killed (timeout).
Prints every mutant not killed (`mutmut show NAME` prints its diff) and the kill rate.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sys
import time
from pathlib import Path

TIMEOUT_S = 300
PYTEST_ARGS = ["-x", "-q", "-p", "no:cacheprovider", "-m", "not slow"]


def mutant_names(mutants: Path, module: str) -> list[str]:
    path = mutants / "nasbench_suite" / module
    metas = sorted(path.rglob("*.py.meta")) if path.is_dir() else [Path(f"{path}.py.meta")]
    return sorted(name for meta in metas for name in json.loads(meta.read_text())["exit_code_by_key"])


def run_tests(mutant: str, tests: list[str]) -> str:
    """'killed', 'survived', 'timeout' or 'error N' for one mutant ("" = no mutant: the clean run)."""
    pid = os.fork()
    if pid == 0:
        os.setsid()
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1), os.dup2(devnull, 2)
        os.environ["MUTANT_UNDER_TEST"] = mutant
        import pytest

        os._exit(int(pytest.main(PYTEST_ARGS + tests)))
    deadline = time.monotonic() + TIMEOUT_S
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            code = os.waitstatus_to_exitcode(status)
            return {0: "survived", 1: "killed"}.get(code, "killed" if code < 0 else f"error {code}")
        time.sleep(0.1)
    os.killpg(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    return "timeout"


def main() -> None:
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    module, which = sys.argv[1].removesuffix(".py").removeprefix("nasbench_suite/"), sys.argv[2]
    repo = Path(__file__).resolve().parents[1]
    tests = [str(Path(file).resolve()) + sep + name for file, sep, name in (t.partition("::") for t in sys.argv[3:])]
    mutants = repo / "mutants"
    names = mutant_names(mutants, module)
    if which.isdigit():
        sample = sorted(random.Random(0).sample(names, min(int(which), len(names))))
    else:
        sample = Path(which).read_text().split()
    os.chdir(mutants)
    sys.path[:0] = [str(mutants), str(repo / "tests")]  # the mutated copy, never the checkout
    import nasbench_suite.benchmark, nasbench_suite.report, nasbench_suite.surrogate  # noqa: E401, F401
    for test in tests:  # imported once here, not in every child
        __import__(Path(test.partition("::")[0]).stem)

    assert Path(nasbench_suite.__file__).is_relative_to(mutants), nasbench_suite.__file__
    start = time.monotonic()
    if (clean := run_tests("", tests)) != "survived":
        sys.exit(f"the tests fail without a mutant ({clean}); fix them first")
    results = {}
    for name in sample:
        results[name] = run_tests(name, tests)
        if results[name] != "killed":
            print(f"  {results[name]:10s} {name}", flush=True)
    killed = sum(r in ("killed", "timeout") for r in results.values())
    print(f"nasbench_suite.{module.replace('/', '.')}: {killed}/{len(sample)} sampled mutants killed "
          f"({100 * killed / max(len(sample), 1):.1f}%) of {len(names)}; "
          f"{(time.monotonic() - start) / 60:.0f} min; tests: {' '.join(tests)}")


if __name__ == "__main__":
    main()
