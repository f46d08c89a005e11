"""`oneshot`: weight-sharing search (DARTS, GDAS, RSPS, ENAS) on a real NB201 supernet, scored by table lookup."""

from __future__ import annotations

from pathlib import Path

import click

from nasbench_suite.cli.app import cli, emit, json_option
from nasbench_suite.errors import UserInputError
from nasbench_suite.table.registry import DEFAULT_TABLE
from nasbench_suite.seeds import parse_seeds

EXIT_INTERRUPTED = 130


@cli.command("oneshot")
@click.option("--method", "methods", default="darts,gdas,rsps,enas", show_default=True,
              help="comma-separated: darts (first order), darts2 (second order), gdas, rsps, enas")
@click.option("--epochs", type=int, default=None,
              help="search epochs; default: 6 for micro, the paper's for nb201 (DARTS 50, GDAS 240, RSPS 250, "
                   "ENAS 310)")
@click.option("--seeds", default="0", show_default=True, help="seeds, e.g. 0,1,2 or 0-2")
@click.option("--device", default="cpu", show_default=True, help="cpu, cuda or cuda:N")
@click.option("--setting", type=click.Choice(["micro", "nb201"]), default="micro", show_default=True,
              help="micro: C=8, N=1, 1024+1024 images; nb201: C=16, N=5, cifar10-valid 25k+25k")
@click.option("--data", "data_source", default=None,
              help="CIFAR-10 source; default: $NASBENCH_SUITE_CIFAR10 or ../shared/data/cifar10")
@click.option("--table", "table_name", default=DEFAULT_TABLE, show_default=True, help="table to look cells up in")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("runs/oneshot"),
              show_default=True, help="checkpoints and per-run trajectories (runs resume from here)")
@click.option("--results", type=click.Path(file_okay=False, path_type=Path), default=Path("results/oneshot"),
              show_default=True, help="where the trajectories, summary, leaderboard.md and plot are written")
@click.option("--threads", type=click.IntRange(min=1), default=None, help="torch CPU threads; default: torch's")
@json_option
def oneshot_command(methods: str, epochs: int | None, seeds: str, device: str, setting: str,
                    data_source: str | None, table_name: str, out: Path, results: Path, threads: int | None,
                    as_json: bool) -> None:
    """Run weight-sharing searches (each resumable, checkpointed every epoch), then write the report of every
    run found under --out."""
    try:
        import torch
    except ImportError:
        raise UserInputError("the oneshot command needs torch: pip install 'nasbench-suite[train]'") from None
    from nasbench_suite.oneshot.search import SearchConfig, load_search_data, run_dir_of, run_search
    from nasbench_suite.oneshot.summary import collect, summarize, write_report
    from nasbench_suite.table import open_table

    if threads is not None:
        torch.set_num_threads(threads)
    names = [m.strip() for m in methods.split(",") if m.strip()]
    configs = [SearchConfig.from_setting(m, setting, s, epochs) for m in names for s in parse_seeds(seeds)]
    table = open_table(table_name)
    data = load_search_data(configs[0], data_source)
    for config in configs:
        click.echo(f"{config.method} seed {config.seed}: {config.setting}, {config.epochs} epochs on {device} "
                   f"-> {run_dir_of(out, config)}", err=True)
        try:
            rows = run_search(config, data, table, run_dir_of(out, config), device=device, progress=not as_json)
        except KeyboardInterrupt:
            click.echo(f"interrupted: finished epochs are saved under {run_dir_of(out, config)}; rerun the same "
                       "command to resume", err=True)
            raise SystemExit(EXIT_INTERRUPTED) from None
        last = rows[-1]
        click.echo(f"  -> {last['arch']} test {last['test_acc_200']:.2f}% after {last['search_seconds']:.0f} s",
                   err=True)
    trajectories = collect(out)
    write_report(trajectories, results)
    summary = summarize(trajectories)
    emit(summary.to_dict(orient="records"), as_json, lambda _: summary.drop(columns=["cells", "hardware"])
         .to_string(index=False, float_format=lambda v: f"{v:.2f}") + f"\n\nwrote {results}/")
