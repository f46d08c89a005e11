"""`proxies`: zero-cost proxies of a table's cells as `proxy_<name>` columns (torch, imported when run)."""

from __future__ import annotations

from pathlib import Path

import click

from nasbench_suite.cli.app import cli, emit, int_list, json_option, on_interrupt
from nasbench_suite.table import Table, resolve_table

DEFAULT_PROXIES = "synflow,naswot,snip,grad_norm,jacob_cov,fisher,grasp"


@cli.command("proxies")
@click.argument("table")
@click.option("--archs", default="all", show_default=True,
              help="cells: all, unique (one per canonical class), random:N, or indices/ranges like 0-99,6111")
@click.option("--proxies", "proxy_names", default=DEFAULT_PROXIES, show_default=True, help="comma-separated")
@click.option("--batch-size", type=click.IntRange(min=2), default=64, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True, help="minibatch choice and visiting order")
@click.option("--init-seed", type=int, default=0, show_default=True, help="weight init, the same for every cell")
@click.option("--device", default="cpu", show_default=True, help="cpu or cuda[:N]")
@click.option("--data", "data_source", default=None, help="CIFAR-10 source (default: $NASBENCH_SUITE_CIFAR10 or "
              "../shared/data/cifar10)")
@click.option("--cache-dir", type=click.Path(file_okay=False, path_type=Path), default=Path("runs/proxies"),
              show_default=True, help="resumable per-cell results")
@click.option("--shard", default="0/1", show_default=True, help="K/N: compute every N-th missing class from K")
@click.option("--time-limit", type=click.FloatRange(min=0), default=None, help="stop computing after SECONDS")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="write the table here; default: in place, or for an embedded table a copy in the working directory")
@click.option("--threads", type=click.IntRange(min=1), default=1, show_default=True, help="torch CPU threads")
@click.option("--no-write", is_flag=True, help="only compute into the cache; leave the table alone")
@json_option
def proxies_command(table: str, archs: str, proxy_names: str, batch_size: int, seed: int, init_seed: int,
                    device: str, data_source: str | None, cache_dir: Path, shard: str, time_limit: float | None,
                    output: Path | None, threads: int, no_write: bool, as_json: bool) -> None:
    """Add zero-cost proxy columns to TABLE (a path, or an embedded name: then to a copy in the working
    directory); rerun to resume."""
    import torch

    from nasbench_suite.data import load_cifar10
    from nasbench_suite.proxies.measures import check_proxies
    from nasbench_suite.proxies.runner import ProxySettings, run_proxies, select_archs, write_columns
    from nasbench_suite.train.run import check_device, parse_shard

    names = check_proxies(proxy_names)
    shard_ids = parse_shard(shard)
    device = check_device(device)
    path = resolve_table(table)
    loaded = Table.load(path)
    cells = select_archs(loaded, archs, seed)
    torch.set_num_threads(threads)
    data = load_cifar10(data_source)
    settings = ProxySettings(proxies=names, batch_size=batch_size, seed=seed, init_seed=init_seed, device=device,
                             dataset=data.name, dataset_sha256=data.sha256)
    on_interrupt(lambda: f"finished cells are saved under {cache_dir}; rerun the same command to resume")
    summary = run_proxies(loaded, cells, settings, data, cache_dir, shard=shard_ids, time_limit=time_limit)
    if not no_write:
        summary["written"] = write_columns(path, cells, settings, cache_dir, output)
    emit(summary, as_json, _render)


def _render(s: dict) -> str:
    lines = [f"classes {s['classes']}: {s['already_done']} already done, {s['computed_now']} computed now, "
             f"{s['left_in_shard']} left in this shard"
             + (" (stopped by --time-limit)" if s["stopped_by_time_limit"] else ""),
             f"median seconds per class this run: {s['seconds_per_class_median']}", f"store: {s['store']}"]
    if "written" in s:
        w = s["written"]
        lines.append(f"wrote {w['cells_written']} cells to {w['table']}; fraction of them computed: "
                     + ", ".join(f"{k} {v:.3f}" for k, v in w["coverage"].items()))
        if w["copy_of"]:
            lines.append(f"(a copy: the embedded {w['copy_of']} is left as it is; give {w['table']} as TABLE to "
                         "add to this copy)")
    return "\n".join(lines)


@cli.command("proxy-report")
@click.option("--table", "table_name", default="nb201-cifar10", show_default=True,
              help="a table with proxy_* columns (embedded name or path)")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("results/proxies"),
              show_default=True)
@click.option("--sizes", default="25,100,400", show_default=True, help="surrogate training cells, comma-separated")
@click.option("--repeats", type=click.IntRange(min=2), default=5, show_default=True,
              help="random training sets per size")
@click.option("--preset", default="nb201-paper", show_default=True, help="protocol of the guided-search experiments")
@click.option("--seeds", type=click.IntRange(min=2), default=500, show_default=True,
              help="runs per guide in the guided-search experiments")
@click.option("--jobs", type=click.IntRange(min=1), default=None, help="worker processes; default: all cores")
def proxy_report_command(table_name: str, out: Path, sizes: str, repeats: int, preset: str, seeds: int,
                         jobs: int | None) -> None:
    """Report on a table's zero-cost proxy columns: correlations with accuracy next to the published ones, a
    cross-check against the published NASWOT score, scatter plots, surrogate gain and proxy-guided search."""
    from nasbench_suite.studies.proxy_report import write_proxy_report

    click.echo(write_proxy_report(table_name, out, int_list(sizes, "--sizes"), repeats, preset, seeds, jobs))
