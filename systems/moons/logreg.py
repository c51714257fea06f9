"""System ``logreg``: scikit-learn logistic regression, the linear baseline that cannot bend
around the moons."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from benchmarks.api import System
from benchmarks.expected import Expected
from benchmarks.kinds.classifier import serve_by_predict
from benchmarks.registry import register_system


@dataclass
class Config:
    C: float = 1.0


@register_system
class LogisticRegressionSystem(System):
    id = "logreg"
    kind = "classifier"
    Config = Config
    # `python -m benchmarks check --profile smoke` reruns this (the smoke data, seed 0).
    expected = (Expected(task="moons-acc", profile="smoke", metric="accuracy", value=0.87, tolerance=0.002,
                         seed=0, dataset_fingerprint="4ba193759a562c60d59b981c048d50006355f55f65b6bd559cef9767d68a064a"),)
    description = "scikit-learn LogisticRegression (linear baseline)"

    def fit(self, X: np.ndarray, y: np.ndarray) -> None:
        from sklearn.linear_model import LogisticRegression

        self.model = LogisticRegression(C=self.config.C, random_state=self.seed).fit(X, y)

    def predict(self, X: np.ndarray) -> np.ndarray:
        return self.model.predict(X)

    def serve(self, batch: list[np.ndarray]) -> list[int]:
        """One class per point, through ``predict`` on the batch (its per-point path)."""
        return serve_by_predict(self, batch)

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """(n,) probabilities of label 1 (``kinds.ProbabilisticClassifier``: shades in the boundary picture)."""
        return self.model.predict_proba(X)[:, 1]
