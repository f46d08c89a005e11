"""The `nasbench-suite` command: a click group; each stage adds its commands from its own module."""

from __future__ import annotations

import errno
import os
import signal
import sys
from collections.abc import Callable
from typing import Any, NoReturn

import click

from nasbench_suite import jsonio
from nasbench_suite.errors import UserInputError

EXIT_USAGE = 2
EXIT_CODES = {signal.SIGINT: 130, signal.SIGTERM: 143}  # 128 + signal number, as a shell reports it
KEPT = "nasbench_suite.kept"  # ctx.meta key: what an interrupted command keeps (see `on_interrupt`)
KEPT_BY_DEFAULT = ("every file written so far is complete (each is written whole, then renamed); rerun the same "
                   "command to finish")


class Terminated(KeyboardInterrupt):
    """SIGTERM, handled like Ctrl-C."""


def _terminate(signum: int, frame: object) -> None:
    raise Terminated


def on_interrupt(kept: Callable[[], str]) -> None:
    """Tell the CLI what the running command keeps when interrupted, e.g. '3 finished runs are saved under X;
    rerun the same command to run only the missing ones' (default: KEPT_BY_DEFAULT)."""
    click.get_current_context().meta[KEPT] = kept


def interrupted(exc: KeyboardInterrupt, kept: str) -> NoReturn:
    """The one convention for Ctrl-C and SIGTERM: 'interrupted by SIGINT: <what is kept>' on stderr, exit 130
    (SIGINT) or 143 (SIGTERM); never click's 'Aborted!' with exit 1."""
    signum = signal.SIGTERM if isinstance(exc, Terminated) else signal.SIGINT
    click.echo(f"interrupted by {signum.name}: {kept}", err=True)
    raise SystemExit(EXIT_CODES[signum])


class SuiteGroup(click.Group):
    """Turns a user-input error anywhere below, or a file that cannot be read or written, into one line on stderr
    and exit code 2; Ctrl-C or SIGTERM into one line and exit 130 or 143 (`interrupted`)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt as exc:
            interrupted(exc, ctx.meta.get(KEPT, lambda: KEPT_BY_DEFAULT)())
        except (UserInputError, FileNotFoundError) as exc:
            click.echo(f"error: {exc}", err=True)
        except OSError as exc:  # PermissionError, read-only file system, disk full, a file where a folder should be
            click.echo(f"error: {os_error_line(exc)}", err=True)
        ctx.exit(EXIT_USAGE)


def os_error_line(exc: OSError) -> str:
    """'cannot write PATH: reason; choose another --out' (or 'cannot read' for an existing unreadable file, 'the disk
    is full' for ENOSPC); a file that could not be created (e.g. a temporary one) is named by its folder."""
    if exc.errno == errno.ENOSPC:
        where = "" if exc.filename is None else f" {os.fsdecode(exc.filename)}"
        return f"cannot write{where}: the disk is full ({exc.strerror}); free some space or choose another --out"
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
    """Build, query and benchmark NAS tables: NAS-Bench-201 cells and NAS-Bench-Graph GNNs."""


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
    """Console-script entry point; SIGTERM is handled like Ctrl-C from the start."""
    signal.signal(signal.SIGTERM, _terminate)
    try:
        from nasbench_suite.cli import commands  # noqa: F401  (registers every command)
    except KeyboardInterrupt as exc:
        interrupted(exc, "nothing was started")
    sys.exit(cli.main(standalone_mode=True))
