"""Saving figures: PNG and SVG (and PDF on request) side by side, atomically, and byte-identical for the same figure.

Matplotlib stamps SVG and PDF files with a date and its version, SVG files with random element ids, and PNG files
with its version; a result folder that changes bytes on every rerun cannot be checked against its committed copy,
so those stamps are removed here.
"""

from __future__ import annotations

import io
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from nasbench_suite.atomic import write_atomic  # noqa: E402

FORMATS = ("png", "svg")
SVG_HASH_SALT = "nasbench-suite"  # fixed SVG element ids (random per process otherwise)
METADATA = {"png": {"Software": None}, "svg": {"Date": None},
            "pdf": {"CreationDate": None, "Creator": None, "Producer": None}}  # no dates, no versions
PDF_FONTS = {"pdf.fonttype": 42}  # embedded TrueType, not Type 3: what publishers' checks ask for


def save_figure(fig: plt.Figure, out_dir: str | Path, name: str, dpi: int = 150,
                style: dict | None = None, formats: tuple[str, ...] = FORMATS) -> list[Path]:
    """Write `out_dir/name.<format>` for each of `formats` (png, svg, pdf) atomically, without dates or random ids;
    close the figure.

    style: rcParams in force while drawing (text that matplotlib lays out at draw time, e.g. tick labels, uses them).
    """
    paths = []
    for fmt in formats:
        buffer = io.BytesIO()
        with matplotlib.rc_context({**(style or {}), **PDF_FONTS, "svg.hashsalt": SVG_HASH_SALT}):
            fig.savefig(buffer, format=fmt, dpi=dpi, bbox_inches="tight", metadata=METADATA[fmt])
        paths.append(write_atomic(Path(out_dir) / f"{name}.{fmt}", lambda fh: fh.write(buffer.getvalue())))
    plt.close(fig)
    return paths
