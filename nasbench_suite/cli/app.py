"""The `nasbench-suite` command: a click group; each stage adds its commands from its own module."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import Any

import click

from nasbench_suite import jsonio
from nasbench_suite.errors import UserInputError

EXIT_USAGE = 2


class SuiteGroup(click.Group):
    """Turns a user-input error anywhere below, or a file that cannot be read or written, into one line on stderr
    and exit code 2."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (UserInputError, FileNotFoundError) as exc:
            click.echo(f"error: {exc}", err=True)
        except OSError as exc:  # PermissionError, read-only file system, disk full, a file where a folder should be
            click.echo(f"error: {os_error_line(exc)}", err=True)
        ctx.exit(EXIT_USAGE)


def os_error_line(exc: OSError) -> str:
    """'cannot write PATH: reason; choose another --out' (or 'cannot read' for an existing unreadable file); a file
    that could not be created (e.g. a temporary one) is named by its folder."""
    if exc.filename is None:
        return str(exc)
    path = os.fsdecode(exc.filename)
    if os.path.isfile(path) and not os.access(path, os.R_OK):
        return f"cannot read {path}: {exc.strerror}; check its permissions"
    folder = os.path.dirname(path)
    where = f"in {folder}" if not os.path.exists(path) and os.path.isdir(folder) else path
    return f"cannot write {where}: {exc.strerror}; choose another --out"


@click.group(cls=SuiteGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="nasbench-suite")
def cli() -> None:
    """Build, query and benchmark NAS tables of the NAS-Bench-201 cell space."""


def json_option(func: Callable) -> Callable:
    """The --json flag every command has."""
    return click.option("--json", "as_json", is_flag=True, help="print machine-readable JSON")(func)


def emit(data: Any, as_json: bool, render: Callable[[Any], str]) -> None:
    """Print `data` as strict JSON (null for a missing value) or through `render`."""
    click.echo(jsonio.dumps(data, indent=2) if as_json else render(data))


def int_list(text: str, what: str) -> list[int]:
    """Comma-separated positive integers (e.g. --train-sizes 25,50,100); a one-line error naming the option."""
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise UserInputError(f"{what} must be comma-separated integers, e.g. 25,50,100; got {text!r}") from None
    if not values or min(values) < 1:
        raise UserInputError(f"{what} must be positive integers; got {text!r}")
    return values


def main() -> None:
    """Console-script entry point."""
    from nasbench_suite.cli import commands  # noqa: F401  (registers every command)

    sys.exit(cli.main(standalone_mode=True))
