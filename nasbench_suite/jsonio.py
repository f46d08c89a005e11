"""Strict JSON out: every JSON the suite prints or writes parses with a strict parser (RFC 8259).

Python's `json` writes `NaN` and `Infinity`, which strict parsers (JavaScript's JSON.parse, jq, Go, Rust) reject.
Here a missing or non-finite number becomes `null`, numpy values become plain numbers and lists, and anything
else that JSON cannot hold is an error rather than a silent `str()`.
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Mapping
from pathlib import PurePath
from typing import Any

import numpy as np


def to_builtin(value: Any) -> Any:
    """`value` as plain JSON types; NaN and +-inf become None (JSON null)."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.ndarray):
        return to_builtin(value.tolist())
    if isinstance(value, Mapping):
        return {str(k): to_builtin(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [to_builtin(v) for v in (sorted(value) if isinstance(value, (set, frozenset)) else value)]
    if isinstance(value, PurePath):
        return str(value)
    raise TypeError(f"cannot write {type(value).__name__} as JSON: {value!r}")


def dumps(value: Any, *, indent: int | None = None, sort_keys: bool = False) -> str:
    """Strict JSON text of `value` (see `to_builtin`)."""
    return json.dumps(to_builtin(value), indent=indent, sort_keys=sort_keys, allow_nan=False)


def loads(text: str | bytes) -> Any:
    """Parse JSON strictly: `NaN`/`Infinity` and repeated keys in an object are refused (a strict parser's choice;
    Python's would silently keep the last), and nesting too deep to parse is a ValueError, not a RecursionError."""
    def refuse(constant: str) -> Any:
        raise ValueError(f"not strict JSON: {constant}")

    def unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise ValueError(f"not strict JSON: the key {key!r} appears twice in one object")
            seen.add(key)
        return dict(pairs)

    try:
        return json.loads(text, parse_constant=refuse, object_pairs_hook=unique)
    except RecursionError:
        raise ValueError("not readable JSON: nested too deeply (arrays or objects inside each other more than "
                         f"about {sys.getrecursionlimit()} levels)") from None
