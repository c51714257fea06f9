"""System ``sklearn-mlp``: scikit-learn's MLPClassifier."""

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

    def predict(self, X: np.ndarray) -> np.ndarray:
        return self.model.predict(X)

    def serve(self, batch: list[np.ndarray]) -> list[int]:
        """One class per point, through ``predict`` on the batch (its per-point path)."""
        return serve_by_predict(self, batch)
