"""README.md runs as written: every fenced block is run from a fresh working directory with this checkout importable.

Shell blocks run command by command in one temporary folder (a later command reads what an earlier one wrote);
python blocks run in a fresh interpreter there. Install steps (venv, pip) are not run (no network): they are checked
textually, the test command against exactly what `.ci/run` runs.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import CIFAR10_TARBALL, REPO

README = (REPO / "README.md").read_text()
BLOCKS = re.findall(r"^```(\w*)\n(.*?)^```", README, flags=re.S | re.M)
INSTALL = ("python3 -m venv ", ". .venv/bin/activate", "pip install ")
SUITE = "pytest -n 2"  # the README's test command: this suite itself, so checked against .ci/run, not run

SURROGATE_CPU = ("nasbench-suite surrogate build cifar10-jpeg75-cpu --train-size 553 --target valid_acc,test_acc,"
                 "train_seconds_per_epoch,eval_seconds --features effective_onehot,effective_counts,params_m,"
                 "proxy_naswot,proxy_synflow,proxy_jacob_cov --features-from nb201-cifar10")
HYBRID_CPU = ("nasbench-suite benchmark --table cifar10-jpeg75-cpu --surrogate cifar10-jpeg75-cpu.surrogate --hybrid "
              "--strategies rea,random --budget 150q --out own")
# Commands that take minutes run with the smallest honest variation: README command -> (command run, why).
SHORTER = {
    "nasbench-suite benchmark": ("nasbench-suite benchmark --seeds 2", "25 seeds x 14 strategies: over a minute"),
    "nasbench-suite train --protocol micro --archs sample:200 --seeds 0 --out runs/micro": (
        "nasbench-suite train --protocol micro --archs sample:1 --seeds 0 --out runs/micro",
        "200 cells at 15-25 s each"),
    "nasbench-suite surrogate eval nb201-cifar10": (
        "nasbench-suite surrogate eval nb201-cifar10 --models xgb --train-sizes 25 --repeats 1",
        "4 models x 6 training sizes x 5 repeats: minutes"),
    "nasbench-suite benchmark --surrogate nb201-cifar10.surrogate": (
        "nasbench-suite benchmark --surrogate nb201-cifar10.surrogate --seeds 2", "25 seeds x 14 strategies"),
    "nasbench-suite benchmark --preset hw-pareto --device-metric latency_fpga_ms": (
        "nasbench-suite benchmark --preset hw-pareto --device-metric latency_fpga_ms --seeds 2 --strategies random,pls",
        "6 strategies x 25 seeds: over a minute"),
    "nasbench-suite analyze nb201-cifar10 --compare nb201-cifar100 --compare nb201-imagenet16-120": (
        "nasbench-suite analyze nb201-cifar10 --compare nb201-cifar100 --compare nb201-imagenet16-120 --boot 10",
        "200 bootstrap resamples: half a minute"),
    HYBRID_CPU: (f"{HYBRID_CPU} --seeds 3", "25 seeds x 2 strategies"),
    SURROGATE_CPU: (SURROGATE_CPU.replace("--train-size 553", "--train-size 100"),
                    "XGBoost ensembles for 10 targets on 553 cells: half a minute"),
    "nasbench-suite surrogate eval nbg-cora --target valid_acc@1 --features onehot,path,params_m --models xgb,rf": (
        "nasbench-suite surrogate eval nbg-cora --target valid_acc@1 --features onehot,path,params_m --models xgb "
        "--train-sizes 25 --repeats 1", "2 models x 6 training sizes x 5 repeats on 59,049 cells: minutes"),
    "nasbench-suite benchmark --preset nbgraph --table nbg-cora --seeds 5": (
        "nasbench-suite benchmark --preset nbgraph --table nbg-cora --seeds 1 --strategies random,rea",
        "13 strategies x 5 seeds, BANANAS on the 7,380-feature graph encoding: minutes"),
    "nasbench-suite benchmark --preset hw-pareto --table nbg-cora --device-metric latency_ms --budget 100q": (
        "nasbench-suite benchmark --preset hw-pareto --table nbg-cora --device-metric latency_ms --budget 100q "
        "--seeds 2 --strategies random,pls", "6 strategies x 25 seeds: over a minute"),
    "nasbench-suite oneshot --method darts,gdas,rsps,enas --setting micro": (
        "nasbench-suite oneshot --method rsps --setting micro --epochs 1", "4 methods x 6 epochs: over 15 min"),
}


def _commands(block: str) -> list[str]:
    """The block's commands: one per line, `&&` chains split, comments dropped."""
    lines = [re.sub(r"\s+#.*$", "", line).strip() for line in block.splitlines()]
    return [part.strip() for line in lines if line for part in line.split(" && ")]


def _runnable(block: str) -> list[str]:
    return [c for c in _commands(block) if not c.startswith(INSTALL) and c != SUITE]


def _env() -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(REPO), "PATH": f"{Path(sys.executable).parent}{os.pathsep}"
           f"{os.environ.get('PATH', '')}", "NASBENCH_SUITE_CIFAR10": str(CIFAR10_TARBALL)}
    env.pop("NASBENCH_SUITE_TABLES", None)  # names resolve to the embedded tables only
    return env


def _needs_cifar(block: str) -> bool:
    return any(c.startswith(("nasbench-suite train", "nasbench-suite proxies", "nasbench-suite oneshot",
                             "nasbench-suite data"))
               for c in _runnable(block))


SHELL = [block for lang, block in BLOCKS if lang == "bash" and _runnable(block)]
PYTHON = [block for lang, block in BLOCKS if lang == "python"]


def test_every_block_is_checked():
    assert {lang for lang, _ in BLOCKS} == {"bash", "python"}
    install_only = [block for lang, block in BLOCKS if lang == "bash" and not _runnable(block)]
    assert len(SHELL) + len(PYTHON) + len(install_only) == len(BLOCKS) and len(SHELL) >= 5
    written = {c for block in SHELL for c in _runnable(block)}
    assert set(SHORTER) <= written, set(SHORTER) - written  # no stale variation


def test_install_and_test_commands_are_what_ci_runs():
    ci = (REPO / ".ci" / "run").read_text().splitlines()
    ci_steps = [step.replace(" -q", "") for line in ci if line.startswith("pip install")
                for step in line.split(" || ")[0].split(" && ")] + [line for line in ci if line.startswith("pytest")]
    test_block = next(block for _, block in BLOCKS if SUITE in block)
    assert [c for c in _commands(test_block) if c.startswith(("pip install", "pytest"))] == ci_steps
    extras = re.search(r"\[project\.optional-dependencies\](.*?)\n\[", (REPO / "pyproject.toml").read_text(), re.S)
    for command in (c for _, block in BLOCKS for c in _commands(block) if c.startswith("pip install -e")):
        for extra in re.findall(r"\.\[([\w,]+)\]", command.replace('"', "")):
            assert all(re.search(rf"^{e} = ", extras.group(1), re.M) for e in extra.split(",")), command


@pytest.mark.slow
@pytest.mark.parametrize("block", SHELL, ids=[_runnable(b)[0][:50] for b in SHELL])
def test_shell_block_runs_as_written(block, tmp_path):
    if _needs_cifar(block) and not CIFAR10_TARBALL.is_file():
        pytest.skip("needs ../shared/data/cifar10")
    for command in _runnable(block):
        run = SHORTER.get(command, (command,))[0]
        done = subprocess.run(run, shell=True, cwd=tmp_path, env=_env(), capture_output=True, text=True,
                              timeout=900)
        assert done.returncode == 0, f"{run}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"


@pytest.mark.parametrize("block", PYTHON, ids=[b.splitlines()[0][:50] for b in PYTHON])
def test_python_block_runs_as_written(block, tmp_path):
    done = subprocess.run([sys.executable, "-c", block], cwd=tmp_path, env=_env(), capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]


def test_figures_in_the_query_example(nb201_table):
    from nasbench_suite import NB201

    block = next(block for block in PYTHON if "t.query(" in block)
    accuracy = re.search(r"# (\d+\.\d+); archs as string, index \((\d+)\)", block)
    arch = re.search(r't\.query\("([^"]+)"', block).group(1)
    assert NB201.to_index(NB201.to_ops(arch)) == int(accuracy.group(2))
    assert round(nb201_table.query(arch, "test_acc", 200), 2) == float(accuracy.group(1))
    classes = re.search(r"# ([\d,]+) classes", block).group(1)
    assert len(np.unique(NB201.canonical_indices)) == int(classes.replace(",", ""))
