"""`surrogate eval|build|info`: score surrogate models on a table, fit and save one, show a saved one."""

from __future__ import annotations

from pathlib import Path

import click
import numpy as np

from nasbench_suite.cli.app import cli, emit, int_list, json_option, on_interrupt
from nasbench_suite.errors import UserInputError
from nasbench_suite.surrogate import DEFAULT_FEATURES, DEFAULT_TARGET, Surrogate, default_path
from nasbench_suite.surrogate.api import read_metadata
from nasbench_suite.table import open_table


def _names(text: str) -> list[str]:
    return [v.strip() for v in text.split(",") if v.strip()]


@cli.group("surrogate")
def surrogate_group() -> None:
    """Surrogate models: evaluate, build, inspect."""


@surrogate_group.command("eval")
@click.argument("table")
@click.option("--models", default="xgb,rf,gp,mlp", show_default=True, help="comma-separated: xgb, rf, gp, mlp, gin")
@click.option("--train-sizes", default="25,50,100,200,500,1000", show_default=True)
@click.option("--repeats", type=int, default=5, show_default=True)
@click.option("--target", default=DEFAULT_TARGET, show_default=True, help="metric@epoch to predict")
@click.option("--features", default=",".join(DEFAULT_FEATURES), show_default=True,
              help="encodings and/or table columns")
@click.option("--features-from", "feature_table", default=None,
              help="table whose columns give column features for every cell (default: TABLE itself; a table "
              "trained on a sample needs a full-space one, e.g. nb201-cifar10 for its proxy columns)")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default="results/surrogates", show_default=True)
@click.option("--overwrite", is_flag=True, help="delete an evaluation stored in --out under other settings")
@json_option
def eval_command(table: str, models: str, train_sizes: str, repeats: int, target: str, features: str,
                 feature_table: str | None, seed: int, out_dir: str, overwrite: bool, as_json: bool) -> None:
    """Fit on random training sets of each size, score on all unseen cells; CSV, Markdown and plots to --out."""
    from nasbench_suite.surrogate.evaluation import CSV_NAME, evaluate, summary, write_report

    t = open_table(table)
    on_interrupt(lambda: f"every finished fit is saved in {Path(out_dir) / CSV_NAME}; rerun the same command to fit "
                         "only the missing ones")
    frame = evaluate(t, _names(models), int_list(train_sizes, "--train-sizes"), repeats, target,
                     _names(features), seed, out_dir, feature_table=feature_table, overwrite=overwrite)
    title = f"Surrogates on {Path(t.path).stem}: {target}"
    written = write_report(frame, out_dir, title)
    result = {"summary": summary(frame).to_dict("records"), "files": [str(p) for p in written]}
    emit(result, as_json, lambda r: (Path(out_dir) / "surrogate_eval.md").read_text()
         + "\n".join(f"wrote {p}" for p in r["files"]))


@surrogate_group.command("build")
@click.argument("table")
@click.option("--train-size", type=int, required=True, help="number of random training cells")
@click.option("--model", default="xgb", show_default=True)
@click.option("--target", default="valid_acc,test_acc", show_default=True,
              help="metrics (whole curves) / metric@epoch / columns to predict")
@click.option("--features", default=",".join(DEFAULT_FEATURES), show_default=True)
@click.option("--features-from", "feature_table", default=None,
              help="table whose columns give column features for every cell (default: TABLE itself; a table "
              "trained on a sample needs a full-space one, e.g. nb201-cifar10 for its proxy columns)")
@click.option("--seed", type=int, default=0, show_default=True, help="picks the training cells and seeds the model")
@click.option("--out", "out_path", type=click.Path(dir_okay=False), default=None,
              help="default: TABLE_NAME.surrogate in the working directory")
@json_option
def build_command(table: str, train_size: int, model: str, target: str, features: str, feature_table: str | None,
                  seed: int, out_path: str | None, as_json: bool) -> None:
    """Fit a surrogate on --train-size random cells of TABLE and save it (to the working directory by default)."""
    t = open_table(table)
    if not 1 <= train_size <= len(t.archs):
        raise UserInputError(f"--train-size must be 1..{len(t.archs)} (the table's cells); got {train_size}")
    cells = np.sort(np.random.default_rng(seed).choice(t.archs, size=train_size, replace=False))
    surrogate = Surrogate(model=model, features=_names(features), target=target, seed=seed,
                          feature_table=feature_table).fit(t, cells)
    path = surrogate.save(out_path or default_path(t))
    meta = {**surrogate.metadata(), "path": str(path)}
    meta["train_cells"] = len(meta["train_cells"])
    emit(meta, as_json, lambda m: f"wrote {m['path']}: {m['model']} on {m['train_cells']} cells of {m['table']}, "
                                  f"predicts {', '.join(m['targets'])} from {', '.join(m['features'])}")


@surrogate_group.command("info")
@click.argument("path", type=click.Path(dir_okay=False))
@json_option
def info_command(path: str, as_json: bool) -> None:
    """Metadata of a saved surrogate file (model, features, targets, training cells, table checksum)."""
    header = read_metadata(path)
    header["train_cells"] = len(header["train_cells"])
    emit(header, as_json, lambda h: "\n".join(f"{k:<16} {v}" for k, v in h.items()))


@surrogate_group.command("ranking")
@click.option("--config", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="an experiment file (as for `benchmark --config`); flags given with it override its values")
@click.option("--table", "table_name", default=None, help="embedded table name or path (default: nb201-cifar10)")
@click.option("--preset", "preset_name", default=None, help="search protocol (default: default)")
@click.option("--strategies", default=None, help="comma-separated strategy specs; default: the preset's")
@click.option("--seeds", default=None, help="runs per strategy N (seeds 0..N-1) or seeds like 0-4,7; default: the "
              "preset's")
@click.option("--sizes", default="100,300,1000", show_default=True, help="surrogate training cells, comma-separated")
@click.option("--model", default="xgb", show_default=True)
@click.option("--seed", type=int, default=0, show_default=True, help="picks the surrogates' training cells")
@click.option("--jobs", type=click.IntRange(min=1), default=None, help="worker processes; default: all cores")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("results/surrogates/ranking"),
              show_default=True, help="runs, surrogates and the report (rerun to resume)")
@click.option("--overwrite", is_flag=True, help="delete stored runs there made under another protocol")
def ranking_command(config: Path | None, table_name: str | None, preset_name: str | None, strategies: str | None,
                    seeds: str | None, sizes: str, model: str, seed: int, jobs: int | None, out: Path,
                    overwrite: bool) -> None:
    """Do surrogate benchmarks of N cells rank the strategies like the table? Kendall tau per N, sampled and mean
    answers, against a noise ceiling (the table with other seeds); Markdown and CSV to --out."""
    from nasbench_suite.runner import Experiment
    from nasbench_suite.studies.surrogate_ranking import surrogate_ranking

    flags = {"table": table_name, "preset": preset_name, "strategies": strategies, "seeds": seeds}
    given = {key: value for key, value in flags.items() if value is not None}
    experiment = Experiment.from_file(config, **given) if config is not None else Experiment(**given)
    click.echo(surrogate_ranking(experiment, int_list(sizes, "--sizes"), out, model, seed, jobs, overwrite))
