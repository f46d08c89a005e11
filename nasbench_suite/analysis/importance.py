"""SHAP values of the suite's XGBoost surrogate, summed per edge: a model-based check of the exact Shapley values
that `stats.fanova` gives on a full table."""

from __future__ import annotations

import numpy as np

from nasbench_suite.surrogate.models import make_model


def tree_shap(ops: np.ndarray, values: np.ndarray, num_ops: int, rows: np.ndarray, seed: int = 0) -> np.ndarray:
    """(len(rows), k) TreeSHAP contribution of each edge to the prediction for the cells `rows`.

    One XGBoost member with the surrogate's settings is fitted on the one-hot ops of every measured cell; an edge's
    contribution is the sum over its one-hot columns. (TreeSHAP costs about 2 ms a cell here, hence `rows`.)
    """
    import xgboost as xgb

    ops = np.asarray(ops)
    n, k = ops.shape
    X = np.eye(num_ops, dtype=np.float32)[ops].reshape(n, k * num_ops)
    keep = ~np.isnan(values)
    booster = make_model("xgb", seed, members=1).fit(X[keep], np.asarray(values)[keep]).members_[0]
    contributions = booster.predict(xgb.DMatrix(X[rows]), pred_contribs=True)[:, :-1]
    return contributions.reshape(len(rows), k, num_ops).sum(axis=2)
