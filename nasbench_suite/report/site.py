"""A static page of every leaderboard under a results folder: one self-contained index.html (inline CSS, a few lines
of inline JavaScript for sortable columns, the plots as inline SVG; nothing loaded over the network).

Each leaderboard folder (leaderboard.{json,csv,md} and plots/, as `benchmark` and `hw-benchmark` write them) becomes
a section: its protocol header (the bullet lines of leaderboard.md), the table, the figures with their captions,
relative links to its files and the command that reproduces it. The page is a function of those files only (no
dates, sorted folders), so regenerating it from the same results gives the same bytes.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import jinja2
import numpy as np
import pandas as pd
from markupsafe import Markup, escape

from nasbench_suite import jsonio
from nasbench_suite.atomic import write_atomic
from nasbench_suite.errors import UserInputError
from nasbench_suite.report.write import ENVIRONMENT_FILE, LEADERBOARD_JSON, STAGING_DIR, incomplete

SITE_FILE = "index.html"
TEMPLATES = Path(__file__).parent / "templates"
FIGURE = re.compile(r"^!\[([\w-]+)\]\(plots/[\w-]+\.png\)\n\n\*(.+?)\* \(", re.M)
WIDE = ("critical_difference", "devices")  # figures drawn wider than one paper column take a whole row
STRATEGY_ID = re.compile(r'id="strategy=([^"/]+)/[^"]*"')  # plots.py: every strategy artist's SVG id


@dataclass(frozen=True)
class Cell:
    text: str
    sort: str  # what the column sorts by: a number (Infinity for never) or text; empty = missing, sorted last
    title: str = ""


@dataclass(frozen=True)
class Board:
    """One leaderboard folder as the page shows it."""

    slug: str
    title: str
    folder: str  # relative to the results folder's parent, e.g. results/nb201-paper
    facts: list[tuple[str, str]]
    notes: list[str]
    columns: list[tuple[str, bool]]  # (name, numeric)
    rows: list[list[Cell]]
    strategies: list[str]
    figures: list[tuple[str, str, Markup]]  # (name, caption, inline SVG)
    links: list[tuple[str, str]]  # (label, relative href)
    command: str


def leaderboard_folders(results_dir: Path) -> list[Path]:
    """Every folder under `results_dir` with a leaderboard.json (outside stored runs and a set being written),
    shallower first, then by path; one whose set is not complete (`incomplete`) says so on the page."""
    return [p for p in _leaderboard_candidates(results_dir) if (p / LEADERBOARD_JSON).is_file()]


def partial_leaderboards(results_dir: Path) -> list[tuple[Path, str]]:
    """(folder, what is missing) for every leaderboard under `results_dir` whose set of files is not complete: the
    page marks it, or leaves it out while it has no leaderboard.json (e.g. a benchmark is writing it)."""
    return [(folder, why) for folder in _leaderboard_candidates(results_dir) if (why := incomplete(folder))]


def _leaderboard_candidates(results_dir: Path) -> list[Path]:
    """Folders with a leaderboard file or a set being written, outside stored runs, shallower first, then by path."""
    marks = [*results_dir.rglob(LEADERBOARD_JSON), *results_dir.rglob("leaderboard.csv"),
             *results_dir.rglob(STAGING_DIR)]
    found = {p.parent for p in marks if not {"runs", STAGING_DIR} & set(p.parent.relative_to(results_dir).parts)}
    return sorted(found, key=lambda p: (len(p.relative_to(results_dir).parts), p.relative_to(results_dir).as_posix()))


def _cell(value: object) -> Cell:
    if isinstance(value, str):
        return Cell(value, value)
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return Cell("-", "")
    if isinstance(value, float) and np.isinf(value):
        return Cell("never", "Infinity")
    if isinstance(value, (int, np.integer)):
        return Cell(f"{value:,}", str(value))
    number = float(value)
    return Cell(f"{number:,.0f}" if abs(number) >= 1000 else f"{number:.3f}" if abs(number) < 1 else f"{number:.2f}",
                repr(number))


def _table(board: pd.DataFrame) -> tuple[list[tuple[str, bool]], list[list[Cell]]]:
    degenerate = board.pop("degenerate").fillna("") if "degenerate" in board.columns else None
    columns = [("#", True), ("strategy", False)] + [(c, pd.api.types.is_numeric_dtype(board[c])) for c in board]
    rows = []
    for place, (name, values) in enumerate(board.astype(object).iterrows(), start=1):  # ints stay ints
        reason = "" if degenerate is None else degenerate[name]
        label = Cell(f"{name} †", name, f"degenerate under this protocol: {reason}") if reason else Cell(name, name)
        rows.append([_cell(place), label, *(_cell(v) for v in values)])
    return columns, rows


def _svg(path: Path, prefix: str) -> Markup:
    """The SVG file as an inline element: prolog dropped, ids prefixed (several figures share one page), strategy
    ids turned into data-strategy attributes (highlighting restyles them)."""
    text = path.read_text()
    text = text[text.index("<svg"):]
    text = STRATEGY_ID.sub(r'data-strategy="\1"', text)
    text = re.sub(r'(\bid="|xlink:href="#|url\(#)', lambda m: f"{m.group(1)}{prefix}-", text)
    return Markup(text)


def _board(folder: Path, results_dir: Path, out_dir: Path) -> Board:
    rel = folder.relative_to(results_dir).as_posix()
    where = (Path(results_dir.name) / rel).as_posix()  # pathlib drops the "." of the top folder
    slug = "lb-" + (re.sub(r"[^\w-]+", "-", rel) if rel != "." else "top")
    data = jsonio.loads((folder / "leaderboard.json").read_text())
    header = data.get("header") if isinstance(data, dict) else None
    if not isinstance(header, dict):
        raise UserInputError(f"{folder / 'leaderboard.json'} has no \"header\" object; expected the leaderboard.json "
                             "that nasbench-suite benchmark or hw-benchmark writes")
    markdown = (folder / "leaderboard.md").read_text() if (folder / "leaderboard.md").is_file() else ""
    lines = markdown.splitlines()
    title = next((line[2:] for line in lines if line.startswith("# ")), where)
    facts = [tuple(line[2:].split(": ", 1)) for line in lines if line.startswith("- ") and ": " in line]
    facts = [(key, value) for key, value in facts if key != "command"]
    if why := incomplete(folder):  # shown, never silently: the page says what is missing
        facts.insert(0, ("incomplete leaderboard", f"{why}; rerun the command that wrote {where} to complete it"))
    notes = [line for line in lines if line.startswith("Columns:")]
    board = pd.read_csv(folder / "leaderboard.csv", index_col=0)
    columns, rows = _table(board)
    figures = [(name, caption, _svg(folder / "plots" / f"{name}.svg", f"{slug}-{name}"))
               for name, caption in FIGURE.findall(markdown) if (folder / "plots" / f"{name}.svg").is_file()]
    links = [(name, os.path.relpath(folder / name, out_dir).replace(os.sep, "/"))
             for name in ("leaderboard.csv", "leaderboard.json", "leaderboard.md", "plots", ENVIRONMENT_FILE)
             if (folder / name).exists()]  # the environment as a link only: its content differs between machines
    command = f"{header['command']} --out {where}" if "command" in header else ""
    return Board(slug, title, where, facts, notes, columns, rows, list(board.index), figures, links, command)


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True, trim_blocks=True,
                             keep_trailing_newline=True, undefined=jinja2.StrictUndefined)
    env.filters["code"] = lambda text: Markup(re.sub(r"`([^`]+)`", r"<code>\1</code>", str(escape(text))))
    return env


def render_site(results_dir: str | os.PathLike, out_dir: str | os.PathLike | None = None,
                highlight: Sequence[str] = ()) -> str:
    """The page for every leaderboard under `results_dir`, with links relative to `out_dir` (default:
    RESULTS_DIR/site).

    highlight: strategies shown in colour in the plots and marked in the tables; the other strategies are greyed.
    """
    results_dir = Path(results_dir).resolve()
    out_dir = Path(out_dir).resolve() if out_dir is not None else results_dir / "site"
    if not results_dir.is_dir():
        raise UserInputError(f"results folder {results_dir} does not exist; expected a folder holding "
                             "leaderboard.json files (e.g. results)")
    folders = leaderboard_folders(results_dir)
    if not folders:
        raise UserInputError(f"no leaderboard.json under {results_dir}; make one with `nasbench-suite benchmark`")
    boards = [_board(folder, results_dir, out_dir) for folder in folders]
    known = {s for board in boards for s in board.strategies}
    unknown = [h for h in highlight if h not in known]
    if unknown:
        raise UserInputError(f"--highlight {','.join(unknown)}: no leaderboard has such a strategy; expected "
                             f"comma-separated names among {', '.join(sorted(known))}")
    site = os.path.relpath(out_dir, results_dir.parent).replace(os.sep, "/")
    command = f"nasbench-suite report {results_dir.name} --out {site}" + (
        f" --highlight {','.join(highlight)}" if highlight else "")
    return _environment().get_template("site.html.j2").render(boards=boards, highlight=list(highlight),
                                                              command=command, wide=WIDE)


def build_site(results_dir: str | os.PathLike, out_dir: str | os.PathLike | None = None,
               highlight: Sequence[str] = ()) -> Path:
    """Write `out_dir/index.html` (default: RESULTS_DIR/site): see `render_site`."""
    out_dir = Path(out_dir) if out_dir is not None else Path(results_dir) / "site"
    html = render_site(results_dir, out_dir, highlight)
    return write_atomic(out_dir / SITE_FILE, lambda fh: fh.write(html.encode()))
