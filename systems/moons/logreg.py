"""System ``logreg``: scikit-learn logistic regression, the linear baseline that cannot bend
around the moons."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from benchmarks.api import System
from benchmarks.registry import register_system


@dataclass
class Config:
    C: float = 1.0


@register_system
class LogisticRegressionSystem(System):
    id = "logreg"
    tasks = ("moons-acc",)
    Config = Config
    description = "scikit-learn LogisticRegression (linear baseline)"

    def fit(self, X: np.ndarray, y: np.ndarray) -> None:
        from sklearn.linear_model import LogisticRegression

        self.model = LogisticRegression(C=self.config.C, random_state=self.seed).fit(X, y)

    def predict(self, X: np.ndarray) -> np.ndarray:
        return self.model.predict(X)
