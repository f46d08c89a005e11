"""`oneshot`: weight-sharing search (DARTS, GDAS, RSPS, ENAS) on a real NB201 supernet, scored by table lookup;
`oneshot-rank`: how well a search checkpoint's supernet ranks cells (Kendall tau against the table)."""

from __future__ import annotations

from pathlib import Path

import click

from nasbench_suite.atomic import write_atomic
from nasbench_suite.cli.app import cli, emit, json_option, on_interrupt
from nasbench_suite.errors import UserInputError
from nasbench_suite.seeds import parse_seeds
from nasbench_suite.table.registry import DEFAULT_TABLE


@cli.command("oneshot")
@click.option("--method", "methods", default="darts,gdas,rsps,enas", show_default=True,
              help="comma-separated: darts (first order), darts2 (second order), gdas, rsps, enas")
@click.option("--epochs", type=int, default=None,
              help="search epochs; default: 6 for micro, the paper's for cpu and nb201 (DARTS 50, GDAS 240, "
                   "RSPS 250, ENAS 310)")
@click.option("--seeds", default="0", show_default=True, help="seeds, e.g. 0,1,2 or 0-2")
@click.option("--device", default="cpu", show_default=True, help="cpu, cuda or cuda:N")
@click.option("--setting", type=click.Choice(["micro", "cpu", "nb201"]), default="micro", show_default=True,
              help="micro: C=8, N=1, 32 px, 1024+1024 images; cpu: C=8, N=1, 16 px, cifar10-valid 25k+25k, NB201's "
                   "hyperparameters; nb201: C=16, N=5, 32 px, 25k+25k")
@click.option("--precision", type=click.Choice(["fp32", "bf16"]), default="fp32", show_default=True,
              help="bf16: autocast the supernet (faster on CPUs with bf16 units; other numerics)")
@click.option("--data", "data_source", default=None,
              help="CIFAR-10 source; default: $NASBENCH_SUITE_CIFAR10 or ../shared/data/cifar10")
@click.option("--table", "table_name", default=DEFAULT_TABLE, show_default=True, help="table to look cells up in")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("runs/oneshot"),
              show_default=True, help="checkpoints and per-run trajectories (runs resume from here)")
@click.option("--results", type=click.Path(file_okay=False, path_type=Path), default=Path("results/oneshot"),
              show_default=True, help="where the trajectories, summary, leaderboard.md and plot are written")
@click.option("--threads", type=click.IntRange(min=1), default=None, help="torch CPU threads; default: torch's")
@json_option
def oneshot_command(methods: str, epochs: int | None, seeds: str, device: str, setting: str, precision: str,
                    data_source: str | None, table_name: str, out: Path, results: Path, threads: int | None,
                    as_json: bool) -> None:
    """Run weight-sharing searches (each resumable, checkpointed every epoch), then write the report of every
    run found under --out, keeping the runs already reported in --results that --out does not hold."""
    torch = _torch()
    from nasbench_suite.oneshot.search import SearchConfig, load_search_data, run_dir_of, run_search
    from nasbench_suite.oneshot.summary import gather
    from nasbench_suite.table import open_table

    if threads is not None:
        torch.set_num_threads(threads)
    names = [m.strip() for m in methods.split(",") if m.strip()]
    configs = [SearchConfig.from_setting(m, setting, s, epochs, precision) for m in names for s in parse_seeds(seeds)]
    table = open_table(table_name)
    data = load_search_data(configs[0], data_source)
    for config in configs:
        click.echo(f"{config.method} seed {config.seed}: {config.setting}, {config.epochs} epochs on {device} "
                   f"-> {run_dir_of(out, config)}", err=True)
        on_interrupt(lambda config=config: f"finished epochs are saved under {run_dir_of(out, config)}; rerun the "
                                           "same command to resume")
        rows = run_search(config, data, table, run_dir_of(out, config), device=device, progress=not as_json)
        last = rows[-1]
        click.echo(f"  -> {last['arch']} test {last['test_acc_200']:.2f}% after {last['search_seconds']:.0f} s",
                   err=True)
    _report(gather(out, results), results, as_json)


@cli.command("oneshot-report")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("runs/oneshot"),
              show_default=True, help="runs to add (each replaces a reported run of the same setting, method, seed)")
@click.option("--results", type=click.Path(file_okay=False, path_type=Path), default=Path("results/oneshot"),
              show_default=True, help="the report to rewrite: its trajectories.csv and rank-*.json files")
@json_option
def oneshot_report_command(out: Path, results: Path, as_json: bool) -> None:
    """Rewrite the one-shot report in --results without searching: the runs it reports, the runs under --out
    and the `oneshot-rank` results saved there as rank-*.json."""
    from nasbench_suite.oneshot.summary import gather

    _report(gather(out, results), results, as_json)


def _report(trajectories, results: Path, as_json: bool) -> None:
    from nasbench_suite.oneshot.summary import rankings, summarize, write_report

    write_report(trajectories, results)
    summary = summarize(trajectories, rankings(results))
    emit(summary.to_dict(orient="records"), as_json, lambda _: summary.drop(columns=["cells", "hardware"])
         .to_string(index=False, float_format=lambda v: f"{v:.2f}") + f"\n\nwrote {results}/")


@cli.command("oneshot-rank")
@click.argument("checkpoint", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--cells", type=int, default=200, show_default=True, help="canonical cells sampled and ranked")
@click.option("--seed", type=int, default=0, show_default=True, help="seed of the cell sample and the batches")
@click.option("--recal-batches", type=int, default=4, show_default=True,
              help="training batches that re-estimate BN statistics for every cell")
@click.option("--eval-images", type=int, default=1024, show_default=True, help="valid images each cell is scored on")
@click.option("--device", default="cpu", show_default=True, help="cpu, cuda or cuda:N")
@click.option("--data", "data_source", default=None,
              help="CIFAR-10 source; default: $NASBENCH_SUITE_CIFAR10 or ../shared/data/cifar10")
@click.option("--table", "table_name", default=DEFAULT_TABLE, show_default=True, help="table with test_acc@200")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="also write the figures and every cell's pair here (JSON)")
@click.option("--threads", type=click.IntRange(min=1), default=None, help="torch CPU threads; default: torch's")
@json_option
def oneshot_rank_command(checkpoint: Path, cells: int, seed: int, recal_batches: int, eval_images: int, device: str,
                         data_source: str | None, table_name: str, out: Path | None, threads: int | None,
                         as_json: bool) -> None:
    """Kendall tau between a search checkpoint's supernet accuracy of sampled cells (inherited weights, BN
    recalibrated per cell) and the cells' NAS-Bench-201 test_acc@200."""
    torch = _torch()
    from nasbench_suite import jsonio
    from nasbench_suite.oneshot.ranking import rank_checkpoint
    from nasbench_suite.oneshot.search import load_checkpoint, load_search_data
    from nasbench_suite.table import open_table

    if threads is not None:
        torch.set_num_threads(threads)
    if not checkpoint.is_file():
        raise UserInputError(f"no checkpoint at {checkpoint} (expected a run's checkpoint.pt)")
    table = open_table(table_name)
    data = load_search_data(load_checkpoint(checkpoint)[1], data_source)
    result = rank_checkpoint(checkpoint, data, table, cells, seed, recal_batches, eval_images, device)
    if out is not None:
        text = jsonio.dumps(result, indent=2)
        write_atomic(out, lambda fh: fh.write(text.encode()))
    emit({k: v for k, v in result.items() if k != "rows"}, as_json,
         lambda r: f"{r['method']} seed {r['seed']} ({r['setting']}, epoch {r['epochs_done']} of "
                   f"{r['epochs_planned']}): Kendall tau {r['kendall_tau']:.3f} (p {r['kendall_p']:.2g}), Spearman "
                   f"{r['spearman_rho']:.3f} over {r['cells']} cells, {r['seconds']:.0f} s")


def _torch():
    try:
        import torch
    except ImportError:
        raise UserInputError("the oneshot commands need torch: pip install 'nasbench-suite[train]'") from None
    return torch
