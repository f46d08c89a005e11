"""Regressors behind a surrogate: each fits standardised (n, k) targets and predicts a mean and a spread.

The spread is the disagreement of an ensemble (XGBoost with different seeds, the trees of a random forest, MLPs
with different initialisations, GIN networks) or the posterior standard deviation of a Gaussian process.
Every model is multi-output, so one surrogate can predict a whole learning curve.

Saved surrogates hold no pickle (a pickle runs code when read). XGBoost and GIN save their fitted weights as plain
arrays (`state`): XGBoost's own UBJSON model bytes, GIN's torch tensors. The scikit-learn models (rf, gp, mlp)
have no safe, stable weight format, so `restore` re-fits them on the stored training data: a fit is deterministic
(same seed, same data), so predictions after loading equal those before saving on the same library versions, and
loading one takes about as long as fitting it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, ClassVar

import numpy as np

from nasbench_suite.errors import UserInputError


class Model(ABC):
    """A multi-output regressor with uncertainty; `params` are its settings (recorded in surrogate files)."""

    name: ClassVar[str]
    min_cells: ClassVar[int]
    defaults: ClassVar[dict[str, Any]]

    def __init__(self, seed: int = 0, **params: Any) -> None:
        unknown = set(params) - set(self.defaults)
        if unknown:
            raise UserInputError(f"model {self.name!r} got unknown settings: {', '.join(sorted(unknown))}; "
                                 f"valid: {', '.join(self.defaults)}")
        self.seed = int(seed)
        self.params = {**self.defaults, **params}

    @abstractmethod
    def fit(self, X: np.ndarray, Y: np.ndarray, ops: np.ndarray | None = None) -> "Model":
        """Fit (n, d) features to (n, k) standardised targets; `ops` (n, 6) is the cells, for graph models."""

    @abstractmethod
    def predict(self, X: np.ndarray, ops: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(mean, std), each (n, k), in the standardised target units."""

    def state(self) -> dict[str, np.ndarray]:
        """The fitted weights as plain arrays; empty where `restore` re-fits instead."""
        return {}

    def restore(self, state: dict[str, np.ndarray], X: np.ndarray, Y: np.ndarray,
                ops: np.ndarray | None = None) -> "Model":
        """The fitted model again, from `state()` and the training data it was fitted on (default: re-fit)."""
        return self.fit(X, Y, ops)


def _single_or_multi(Y: np.ndarray) -> np.ndarray:
    """scikit-learn wants a 1-D target for a single output."""
    return Y[:, 0] if Y.shape[1] == 1 else Y


def _ensemble_stats(predictions: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    stack = np.stack([p.reshape(len(p), -1) for p in predictions])
    return stack.mean(axis=0), stack.std(axis=0)


class XGBModel(Model):
    """Gradient-boosted trees (XGBoost); an ensemble of `members` row/column-subsampled boosters, saved in
    XGBoost's own UBJSON model format."""

    name = "xgb"
    min_cells = 10
    defaults = {"members": 5, "n_estimators": 400, "max_depth": 4, "learning_rate": 0.05, "subsample": 0.8,
                "colsample_bytree": 0.8, "min_child_weight": 1.0, "n_jobs": 1}

    def fit(self, X: np.ndarray, Y: np.ndarray, ops: np.ndarray | None = None) -> "XGBModel":
        import xgboost as xgb

        settings = {k: v for k, v in self.params.items() if k != "members"}
        self.members_ = [xgb.XGBRegressor(tree_method="hist", random_state=self.seed * 1000 + m, **settings)
                         .fit(X, Y).get_booster() for m in range(self.params["members"])]
        return self

    def predict(self, X: np.ndarray, ops: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        return _ensemble_stats([booster.inplace_predict(X) for booster in self.members_])

    def state(self) -> dict[str, np.ndarray]:
        return {f"member{m}.ubj": np.frombuffer(booster.save_raw("ubj"), dtype=np.uint8)
                for m, booster in enumerate(self.members_)}

    def restore(self, state: dict[str, np.ndarray], X: np.ndarray, Y: np.ndarray,
                ops: np.ndarray | None = None) -> "XGBModel":
        import xgboost as xgb

        self.members_ = []
        for m in range(self.params["members"]):
            booster = xgb.Booster(params={"nthread": self.params["n_jobs"]})
            booster.load_model(bytearray(state[f"member{m}.ubj"].tobytes()))
            self.members_.append(booster)
        return self


class RandomForestModel(Model):
    """scikit-learn random forest; the spread is the standard deviation over its trees."""

    name = "rf"
    min_cells = 5
    defaults = {"n_estimators": 300, "max_features": 0.5, "min_samples_leaf": 1, "n_jobs": 1}

    def fit(self, X: np.ndarray, Y: np.ndarray, ops: np.ndarray | None = None) -> "RandomForestModel":
        from sklearn.ensemble import RandomForestRegressor

        self.forest_ = RandomForestRegressor(random_state=self.seed, **self.params).fit(X, _single_or_multi(Y))
        return self

    def predict(self, X: np.ndarray, ops: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        return _ensemble_stats([tree.predict(X) for tree in self.forest_.estimators_])


class GPModel(Model):
    """Gaussian process (Matern 5/2 + white noise, hyperparameters by marginal likelihood) on scaled features."""

    name = "gp"
    min_cells = 5
    defaults = {"nu": 2.5, "restarts": 0}

    def fit(self, X: np.ndarray, Y: np.ndarray, ops: np.ndarray | None = None) -> "GPModel":
        from sklearn.gaussian_process import GaussianProcessRegressor
        from sklearn.gaussian_process.kernels import ConstantKernel, Matern, WhiteKernel
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        kernel = ConstantKernel() * Matern(length_scale=np.sqrt(X.shape[1]), nu=self.params["nu"]) + WhiteKernel()
        gp = GaussianProcessRegressor(kernel, n_restarts_optimizer=self.params["restarts"], random_state=self.seed)
        self.pipeline_ = make_pipeline(StandardScaler(), gp).fit(X, Y)
        return self

    def predict(self, X: np.ndarray, ops: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        scaled = self.pipeline_[:-1].transform(X)
        mean, std = self.pipeline_[-1].predict(scaled, return_std=True)
        return mean.reshape(len(X), -1), std.reshape(len(X), -1)


class MLPEnsembleModel(Model):
    """`members` scikit-learn MLPs with different initialisations; the spread is their disagreement."""

    name = "mlp"
    min_cells = 10
    defaults = {"members": 5, "hidden": (128, 128), "alpha": 1e-3, "learning_rate_init": 1e-3, "max_iter": 500}

    def fit(self, X: np.ndarray, Y: np.ndarray, ops: np.ndarray | None = None) -> "MLPEnsembleModel":
        from sklearn.neural_network import MLPRegressor
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        p = self.params
        self.members_ = [make_pipeline(StandardScaler(), MLPRegressor(
            hidden_layer_sizes=tuple(p["hidden"]), alpha=p["alpha"], learning_rate_init=p["learning_rate_init"],
            max_iter=p["max_iter"], random_state=self.seed * 1000 + m)).fit(X, _single_or_multi(Y))
            for m in range(p["members"])]
        return self

    def predict(self, X: np.ndarray, ops: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        return _ensemble_stats([m.predict(X) for m in self.members_])


def _gin_class() -> type[Model]:
    from nasbench_suite.surrogate.gin import GINModel  # torch: imported only when asked for

    return GINModel


MODELS: dict[str, type[Model] | Any] = {"xgb": XGBModel, "rf": RandomForestModel, "gp": GPModel,
                                        "mlp": MLPEnsembleModel, "gin": _gin_class}


def make_model(name: str, seed: int = 0, **params: Any) -> Model:
    """A fresh model by name; GIN needs the `train` extra (torch)."""
    if name not in MODELS:
        raise UserInputError(f"unknown surrogate model {name!r}; valid: {', '.join(MODELS)}")
    cls = MODELS[name]
    if name == "gin":
        try:
            cls = cls()
        except ImportError:
            raise UserInputError("model 'gin' needs torch: pip install 'nasbench-suite[train]'") from None
    return cls(seed=seed, **params)

