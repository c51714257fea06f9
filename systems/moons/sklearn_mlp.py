"""System ``sklearn-mlp``: scikit-learn's MLPClassifier."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from benchmarks.api import System
from benchmarks.registry import register_system


@dataclass
class Config:
    hidden: tuple[int, ...] = (16, 16)
    max_iter: int = 2000
    learning_rate: float = 0.01


@register_system
class SklearnMLP(System):
    id = "sklearn-mlp"
    tasks = ("moons-acc",)
    Config = Config
    description = "scikit-learn MLPClassifier (Adam)"

    def fit(self, X: np.ndarray, y: np.ndarray) -> None:
        from sklearn.neural_network import MLPClassifier

        self.model = MLPClassifier(
            hidden_layer_sizes=self.config.hidden, max_iter=self.config.max_iter,
            learning_rate_init=self.config.learning_rate, random_state=self.seed,
        ).fit(X, y)

    def predict(self, X: np.ndarray) -> np.ndarray:
        return self.model.predict(X)
