"""`data cifar10`: say where the CIFAR-10 the trainer reads is (variant, sha256), or fetch the official release."""

from __future__ import annotations

import os
from pathlib import Path

import click

from nasbench_suite.cli.app import cli, emit, json_option


@cli.group("data")
def data_group() -> None:
    """Datasets the trainer reads."""


@data_group.command("cifar10")
@click.option("--root", type=click.Path(path_type=Path), default=None,
              help="a CIFAR-10 source or the folder to download into (default: $NASBENCH_SUITE_CIFAR10, else "
                   "the per-user data folder)")
@click.option("--download", is_flag=True, help="fetch the official CIFAR-10 (md5-checked) into --root")
@json_option
def cifar10_command(root: Path | None, download: bool, as_json: bool) -> None:
    """Print the CIFAR-10 variant, sha256 and source `train` would use; --download fetches the official one."""
    from nasbench_suite.data import default_root, describe_source, download_cifar10
    from nasbench_suite.data.cifar10 import ENV_SOURCE

    if download:
        root = root or default_root()
        info = describe_source(download_cifar10(root))
        env = os.environ.get(ENV_SOURCE)
        if env and Path(env).expanduser().resolve() not in (root.resolve(), Path(info["source"]).resolve()):
            info["note"] = f"${ENV_SOURCE} ({env}) still takes precedence; unset it to use this download"
    else:
        info = describe_source(root)
    emit(info, as_json, lambda d: "\n".join([f"{d['dataset']} at {d['source']}", f"sha256 {d['dataset_sha256']}"]
                                            + ([f"note: {d['note']}"] if "note" in d else [])))
