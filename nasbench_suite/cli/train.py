"""`train` and `merge`: build a table by training cells (sharded, resumable, local or Ray) and join its shards."""

from __future__ import annotations

from pathlib import Path

import click

from nasbench_suite.cli.app import cli, emit, json_option, on_interrupt
from nasbench_suite.data import default_root


@cli.command("train")
@click.option("--protocol", "protocol", required=True,
              help="nb201-200, nb201-12, fast, micro, or a protocol .json file")
@click.option("--archs", default="sample:100", show_default=True,
              help="all | unique | sample:N[:SEED] | canonical:N[:SEED] (uniform, canonical cells) | "
              "stratified:N[:SEED] | FILE (one index or arch string a line); A+B: both")
@click.option("--seeds", default="0", show_default=True, help="training seeds, e.g. 0,1,2 or 0-2")
@click.option("--out", "out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="folder of shard files; rerun the same command to resume")
@click.option("--device", default="cpu", show_default=True, help="cpu or cuda[:index]")
@click.option("--shard", default=None, help="i/n: train every n-th cell starting at i (Slurm arrays)")
@click.option("--backend", type=click.Choice(["local", "ray"]), default="local", show_default=True)
@click.option("--address", default=None, help="Ray cluster address (default: start a local Ray)")
@click.option("--workers", type=int, default=0, help="Ray workers (default: one per GPU, else one per CPU)")
@click.option("--trainer", type=click.Choice(["auto", "stacked", "reference"]), default="auto", show_default=True,
              help="stacked: many cells per step (auto on CUDA); reference: one cell at a time (auto on CPU)")
@click.option("--group-size", type=int, default=0,
              help="cells per stacked step (default 16 on CUDA, 8 on CPU)")
@click.option("--data", "dataset", default=None,
              help="CIFAR-10 tarball, ImageFolder or cifar-10-batches-py folder (default: $NASBENCH_SUITE_CIFAR10, "
                   f"else the per-user data folder {default_root()}, which `nasbench-suite data cifar10 --download` "
                   "fills)")
@click.option("--threads", type=int, default=0, help="torch CPU threads per worker (0: torch's default)")
@click.option("--adopt", multiple=True, type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="folder of shards trained with the same settings under another protocol name (a pilot "
              "candidate): copied into --out relabelled, so its finished cells are not trained again; repeatable")
@json_option
def train_command(protocol: str, archs: str, seeds: str, out: Path, device: str, shard: str | None, backend: str,
                  address: str | None, workers: int, trainer: str, group_size: int, dataset: str | None,
                  threads: int, adopt: tuple[Path, ...], as_json: bool) -> None:
    """Train NB201 cells under a protocol into per-worker HDF5 shards (resumable); then `merge` them."""
    from nasbench_suite.train.protocols import get_protocol
    from nasbench_suite.seeds import parse_seeds
    from nasbench_suite.train.run import RunSpec, parse_shard, resolve_archs, run_local
    from nasbench_suite.train.shards import adopt_shard, shard_files

    chosen = get_protocol(protocol)  # fail early on a bad name
    for path in [p for folder in adopt for p in shard_files(folder)]:
        adopt_shard(path, chosen, out)
    spec = RunSpec(protocol, resolve_archs(archs), parse_seeds(seeds), out, device, trainer, group_size, dataset,
                   threads)
    shard_pos = parse_shard(shard)
    on_interrupt(lambda: f"every finished cell is saved in the shards under {out}; rerun the same command to train "
                         "only the missing ones")
    if backend == "ray":
        from nasbench_suite.train.ray_backend import run_ray

        paths = run_ray(spec, shard_pos, address=address, workers=workers)
    else:
        paths = [run_local(spec, shard_pos)]
    emit({"shards": [str(p) for p in paths]}, as_json,
         lambda d: "\n".join(["wrote"] + [f"  {p}" for p in d["shards"]] +
                             [f"next: nasbench-suite merge {out} --out TABLE.h5"]))


@cli.command("merge")
@click.argument("shards", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="the merged table file")
@json_option
def merge_command(shards: tuple[Path, ...], out: Path, as_json: bool) -> None:
    """Join shard files (or folders of them) into one table; refuses mismatched protocol or dataset."""
    from nasbench_suite.train.shards import merge_shards

    table = merge_shards(shards)
    table.save(out)
    emit({"out": str(out), "cells": len(table.archs), "seeds": table.seeds.tolist()}, as_json,
         lambda d: f"wrote {d['out']}: {d['cells']} cells, seeds {d['seeds']}")
