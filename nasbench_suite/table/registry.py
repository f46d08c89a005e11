"""Finding tables by name: the embedded ones shipped with the package, or any path."""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

from nasbench_suite.table.table import Table, TableError

DEFAULT_TABLE = "nb201-cifar10"
SUFFIX = ".h5"
EXTRA_DIRS_ENV = "NASBENCH_SUITE_TABLES"  # os.pathsep-separated folders searched after the embedded ones


def table_dirs() -> list[Path]:
    """Folders searched for named tables, embedded first."""
    dirs = [Path(str(resources.files("nasbench_suite.tables")))]
    dirs += [Path(p) for p in os.environ.get(EXTRA_DIRS_ENV, "").split(os.pathsep) if p]
    return dirs


def available_tables() -> dict[str, Path]:
    """Name -> path of every table found in `table_dirs()`."""
    found: dict[str, Path] = {}
    for folder in table_dirs():
        if folder.is_dir():
            for path in sorted(folder.glob(f"*{SUFFIX}")):
                found.setdefault(path.stem, path)
    return found


def resolve_table(name_or_path: str | os.PathLike) -> Path:
    """The file behind an embedded table name or a path."""
    text = str(name_or_path)
    if text.endswith(SUFFIX) or os.sep in text or Path(text).is_file():
        return Path(text)
    tables = available_tables()
    if text not in tables:
        raise TableError(f"unknown table {text!r}; embedded tables: {', '.join(tables) or 'none'} "
                         f"(or give a path to a {SUFFIX} file)")
    return tables[text]


def open_table(name_or_path: str | os.PathLike = DEFAULT_TABLE) -> Table:
    """Open a table by embedded name (e.g. "nb201-cifar10") or by path."""
    return Table.load(resolve_table(name_or_path))
