"""Provenance recorded next to every table, leaderboard and surrogate: the installed versions of the packages results
depend on, and the machine (CPU model, cores, platform)."""

from __future__ import annotations

import os
import platform
from importlib import metadata
from pathlib import Path
from typing import Any

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


def cpu_model() -> str:
    """The CPU's model name (Linux: /proc/cpuinfo), else what `platform` knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine() -> dict[str, Any]:
    """The CPU model, core count and platform this process runs on."""
    return {"cpu": cpu_model(), "cores": os.cpu_count(), "platform": platform.platform()}
