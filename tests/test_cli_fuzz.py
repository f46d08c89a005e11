"""Property-based: whatever `query`, `info` and `benchmark` are given, they exit 0 or 2 with no traceback, and their
--json output (on success) is strict JSON.

Values mix valid ones with random text, numbers and undecodable bytes (as a POSIX shell hands them over:
surrogate-escaped). NUL is left out: no real command line can hold it. Benchmark work stays tiny so each example
finishes in a few seconds: valid budgets above 5 queries or 5,000 simulated seconds and more than 3 seeds are left
out (valid, but long, searches).
"""

from __future__ import annotations

import re
import tempfile

import pytest

from click.testing import CliRunner
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from nasbench_suite import jsonio
from nasbench_suite.cli import cli
from nasbench_suite.cli import commands  # noqa: F401  (registers every command)
from nasbench_suite.errors import UserInputError
from nasbench_suite.runner import Budget
from nasbench_suite.space import NB201
from nasbench_suite.strategies import STRATEGIES

FUZZ = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
TABLES = ["nb201-cifar10", "nb201-cifar100", "nb201-imagenet16-120", "cifar10-jpeg75-micro"]

text = st.text(st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)), max_size=30)
raw = st.binary(max_size=20).map(lambda b: b.decode("utf-8", "surrogateescape").replace("\x00", ""))
numbers = st.one_of(st.integers(-10**20, 10**20), st.floats(allow_nan=True, allow_infinity=True)).map(str)
tricky = st.sampled_from(["\u00b2", "\u0661\u0662", "-0", "+5", " 5", "5 ", "1e3", "5.0", "0x10", "nan", "inf",
                          "", " ", "-", "mean ", "\udcff"])  # unicode digits, signs, spaces, surrogate escapes
junk = st.one_of(text, raw, numbers, tricky)


def mostly(valid: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """A value from `valid` about 4 times in 5, else junk: enough examples pass one check to reach the next."""
    return st.sampled_from((True, True, True, True, False)).flatmap(lambda ok: valid if ok else junk)


def pick(*valid: str) -> st.SearchStrategy[str]:
    return mostly(st.sampled_from(valid))


archs = mostly(st.one_of(st.integers(0, NB201.size - 1).map(NB201.to_str), st.integers(-5, NB201.size + 5).map(str)))
metrics = pick("test_acc", "valid_acc", "train_loss", "valid_test_acc", "train_acc")
epochs = pick("12", "200", "0", "-1", "99999999999999999999")
seeds = pick("mean", "-1", "0", "777")


def small_budget(text: str) -> bool:
    try:
        budget = Budget.parse(text)
    except UserInputError:
        return True
    return budget.amount <= (5 if budget.unit == "queries" else 5_000)


def few_seeds(text: str) -> bool:
    return not re.fullmatch(r"\s*\+?[0-9]+\s*", text) or int(text) <= 3


budgets = mostly(st.one_of(st.sampled_from(["3q", "1q", "0q", "2.5q", "-3q", "1e400", "1e400q", "nan", "inf",
                                            "5000", "4000s", ".5", "12000", "3Q", " 2q "]),
                           st.from_regex(r"-?[0-9]{0,4}(\.[0-9]{1,2})?[qQsS]?", fullmatch=True))).filter(small_budget)
strategy_lists = mostly(st.one_of(st.lists(st.sampled_from(sorted(STRATEGIES)), min_size=1, max_size=2).map(",".join),
                                  st.sampled_from(["random,", ",", "random,nope", " random "])))


def options(draw, pairs: dict[str, st.SearchStrategy[str]]) -> list[str]:
    """Each option present or not, with a drawn value."""
    args: list[str] = []
    for name, values in pairs.items():
        if draw(st.booleans()):
            args += [name, draw(values)]
    return args


def check(args: list[str]) -> None:
    result = CliRunner().invoke(cli, args)
    event(f"{args[0]} exit {result.exit_code}")
    assert result.exit_code in (0, 2), (args, result.exit_code, result.output)
    assert result.exception is None or isinstance(result.exception, SystemExit), (args, repr(result.exception))
    assert "Traceback" not in result.output, (args, result.output)
    if result.exit_code == 0 and "--json" in args:
        jsonio.loads(result.stdout)


@settings(FUZZ, max_examples=150)
@given(st.data())
def test_query_never_tracebacks(data):
    draw = data.draw
    args = ["query", draw(pick(*TABLES)), draw(archs), *options(draw, {"--metric": metrics, "--epoch": epochs,
                                                                      "--seed": seeds})]
    check(args + (["--json"] if draw(st.booleans()) else []))


@settings(FUZZ, max_examples=12)
@given(table=pick(*TABLES), as_json=st.booleans())
def test_info_never_tracebacks(table, as_json):
    check(["info", table] + (["--json"] if as_json else []))


@pytest.mark.slow
@settings(FUZZ, max_examples=18)  # each valid draw writes a leaderboard with 15 figures (about 0.6 s each)
@given(st.data())
def test_benchmark_never_tracebacks(data):
    draw = data.draw
    with tempfile.TemporaryDirectory() as out:
        args = ["benchmark", "--strategies", draw(strategy_lists), "--budget", draw(budgets),
                "--seeds", draw(pick("1", "2", "0", "-1").filter(few_seeds)),
                "--jobs", "1",
                "--out", out, "--json",
                *options(draw, {"--preset": pick("default", "nb201-paper"), "--table": pick(*TABLES),
                                "--proxy": pick("proxy_naswot", "params_m", "proxy_synflow", "eval_seconds")})]
        check(args)
