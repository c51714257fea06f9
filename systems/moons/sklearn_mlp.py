"""System ``sklearn-mlp``: scikit-learn's MLPClassifier; its training loss (log loss + L2) per epoch goes to the
task's checkpoint after the fit."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from benchmarks.api import System
from benchmarks.expected import Expected
from benchmarks.kinds.classifier import serve_by_predict
from benchmarks.registry import register_system


@dataclass
class Config:
    hidden: tuple[int, ...] = (16, 16)
    max_iter: int = 2000
    learning_rate: float = 0.01


@register_system
class SklearnMLP(System):
    id = "sklearn-mlp"
    kind = "classifier"
    Config = Config
    # `python -m benchmarks check --profile smoke` reruns this (the smoke data, seed 0).
    expected = (Expected(task="moons-acc", profile="smoke", metric="accuracy", value=0.996, tolerance=0.004,
                         seed=0, dataset_fingerprint="4ba193759a562c60d59b981c048d50006355f55f65b6bd559cef9767d68a064a"),)
    description = "scikit-learn MLPClassifier (Adam)"

    def fit(self, X: np.ndarray, y: np.ndarray) -> None:
        from sklearn.neural_network import MLPClassifier

        self.model = MLPClassifier(
            hidden_layer_sizes=self.config.hidden, max_iter=self.config.max_iter,
            learning_rate_init=self.config.learning_rate, random_state=self.seed,
        ).fit(X, y)

        # scikit-learn offers no callback: its per-epoch losses go through the same checkpoint afterwards
        for epoch, loss in enumerate(self.model.loss_curve_, start=1):
            self.context.checkpoint(epoch, epoch * len(X), float(loss))

    def predict(self, X: np.ndarray) -> np.ndarray:
        return self.model.predict(X)

    def serve(self, batch: list[np.ndarray]) -> list[int]:
        """One class per point, through ``predict`` on the batch (its per-point path)."""
        return serve_by_predict(self, batch)

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """(n,) probabilities of label 1 (``kinds.ProbabilisticClassifier``: shades in the boundary picture)."""
        return self.model.predict_proba(X)[:, 1]
