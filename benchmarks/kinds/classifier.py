"""Kind ``classifier`` (``moons-acc``): binary classification of points; one served query is one point."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, runtime_checkable

from benchmarks.kinds.query_unit import QueryUnit

if TYPE_CHECKING:
    import numpy as np


@runtime_checkable
class Classifier(Protocol):
    """``moons-acc``: binary classification of points."""

    def fit(self, X: np.ndarray, y: np.ndarray) -> None:
        """X: (n, 2) float64 points; y: (n,) labels in {0, 1}."""

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Return (n,) labels in {0, 1}."""


QUERY_UNIT = QueryUnit(query="a point (2 float64 coordinates)", answer="its class (0 or 1)")


@runtime_checkable
class ServedClassifier(Protocol):
    """Optional: answer points one query at a time."""

    def serve(self, batch: list[np.ndarray]) -> list[int]:
        """``batch``: points, each a (2,) float64 array → their classes, in order (equal to ``predict``)."""


PROTOCOL = Classifier
SERVED = ServedClassifier
