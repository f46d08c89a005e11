"""Paired effect of training noise per strategy: for each seed, the noisy run's final score minus the noise-free run's
(same seed, so the same strategy random stream: the two differ only by the seeds the noisy table drew). Writes
results/noise/paired.csv and results/noise/paired.png; needs the runs results/noise/run.sh stores.

    python results/noise/paired.py
"""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from scipy import stats  # noqa: E402

from nasbench_suite.atomic import write_atomic  # noqa: E402
from nasbench_suite.report.stats import final_scores  # noqa: E402
from nasbench_suite.runner.runs import load_runs  # noqa: E402

HERE = Path(__file__).resolve().parent
PAIRS = {"nb201-cifar10": ("nb201-cifar10-mean", "nb201-cifar10-seed"),
         "nb201-cifar100": ("nb201-cifar100-mean", "../nb201-cifar100"),
         "nb201-imagenet16-120": ("nb201-imagenet16-120-mean", "../nb201-imagenet16-120")}
rows = []
for table, (mean_dir, seed_dir) in PAIRS.items():
    mean, seed = (final_scores(load_runs(HERE / d)) for d in (mean_dir, seed_dir))
    for strategy in mean.columns:
        diff = (seed[strategy] - mean[strategy]).dropna()
        half = stats.t.ppf(0.975, len(diff) - 1) * diff.std(ddof=1) / np.sqrt(len(diff))
        rows.append({"table": table, "strategy": strategy, "runs": len(diff), "mean_free": mean[strategy].mean(),
                     "mean_noisy": seed[strategy].mean(), "paired_diff": diff.mean(), "ci95": half,
                     "runs_changed": int((diff != 0).sum())})
frame = pd.DataFrame(rows)
write_atomic(HERE / "paired.csv", lambda fh: fh.write(frame.to_csv(index=False, float_format="%.4f").encode()))
fig, axes = plt.subplots(1, 3, figsize=(10, 4), sharey=True)
order = frame[frame.table == "nb201-cifar10"].sort_values("paired_diff").strategy.tolist()
for ax, (table, group) in zip(axes, frame.groupby("table", sort=False)):
    group = group.set_index("strategy").reindex(order).dropna(subset=["paired_diff"])
    y = [order.index(s) for s in group.index]
    ax.errorbar(group.paired_diff, y, xerr=group.ci95, fmt="o", color="black", capsize=2)
    ax.axvline(0, color="grey", lw=0.8)
    ax.set_title(table, fontsize=9)
    ax.set_xlabel("noisy - noise-free final score (points)", fontsize=8)
axes[0].set_yticks(range(len(order)), order, fontsize=8)
fig.tight_layout()
fig.savefig(HERE / "paired.png", dpi=150, metadata={"Software": None})
print(frame.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
