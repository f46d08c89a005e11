"""The one rule of every command that writes results into a folder (benchmark, hw-benchmark, analyze, surrogate
eval): what the folder holds from the same settings is reused, from other settings refused unless --overwrite."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from nasbench_suite import jsonio
from nasbench_suite.errors import UserInputError

UNREADABLE = "unreadable"  # what a damaged record holds: never the current settings


def recorded(path: Path, *keys: str) -> Any:
    """The value at `keys` in the JSON file `path` that records a folder's settings (None: no such file;
    UNREADABLE: a damaged file, or one without those keys)."""
    if not path.is_file():
        return None
    try:
        value = jsonio.loads(path.read_text())
        for key in keys:
            value = value[key]
    except (ValueError, KeyError, TypeError):
        return UNREADABLE
    return value


def reuse_or_refuse(recorded: Any, current: Any, overwrite: bool, refusal: str, replace: str) -> bool:
    """True when the folder's `recorded` settings are `current` (reuse what is there); False when nothing is
    recorded, or with `overwrite` when they differ (the caller replaces it). Otherwise a one-line UserInputError:
    '<refusal>; use --overwrite to <replace>, or another --out folder'."""
    if recorded is None or recorded == current:
        return recorded is not None
    if overwrite:
        return False
    raise UserInputError(f"{refusal}; use --overwrite to {replace}, or another --out folder")


def differing(recorded: Mapping[str, Any], current: Mapping[str, Any]) -> str:
    """'seed, compare differ': the keys whose values differ, for a refusal message."""
    return ", ".join(k for k in dict.fromkeys([*current, *recorded]) if recorded.get(k) != current.get(k)) + " differ"
