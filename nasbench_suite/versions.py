"""Installed versions of the packages results depend on, recorded next to every table, leaderboard and surrogate."""

from __future__ import annotations

import platform
from importlib import metadata

# package -> distributions that install it (on Linux xgboost comes from the CPU-only `xgboost-cpu`)
DISTRIBUTIONS = {"xgboost": ("xgboost", "xgboost-cpu")}


def package_versions(packages: tuple[str, ...]) -> dict[str, str]:
    """Python's version plus each package's ("not installed" where absent)."""
    out = {"python": platform.python_version()}
    for package in packages:
        out[package] = "not installed"
        for distribution in DISTRIBUTIONS.get(package, (package,)):
            try:
                out[package] = metadata.version(distribution)
                break
            except metadata.PackageNotFoundError:
                continue
    return out
