"""Kind ``classifier`` (``moons-acc``): binary classification of points; one served query is one point."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from benchmarks.api import Kind, QueryUnit, TaskData
from benchmarks.kinds.answers import integers

if TYPE_CHECKING:
    import numpy as np


@dataclass
class ClassifierData(TaskData):
    """A classifier task's data: (X, y) for training and for testing; X (n, 2) float64, y (n,) labels in {0, 1}."""

    train: tuple[np.ndarray, np.ndarray]
    test: tuple[np.ndarray, np.ndarray]


@runtime_checkable
class Classifier(Protocol):
    """``moons-acc``: binary classification of points."""

    def fit(self, X: np.ndarray, y: np.ndarray) -> None:
        """X: (n, 2) float64 points; y: (n,) labels in {0, 1}."""

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Return (n,) labels in {0, 1}."""


@runtime_checkable
class ProbabilisticClassifier(Protocol):
    """An optional capability of a classifier (not part of the contract): class-1 probabilities, which the
    decision-boundary pictures show as shades."""

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """X: (n, 2) points; return (n,) probabilities of label 1."""


@runtime_checkable
class ServedClassifier(Protocol):
    """Optional: answer points one query at a time."""

    def serve(self, batch: list[np.ndarray]) -> list[int]:
        """``batch``: points, each a (2,) float64 array → their classes, in order (equal to ``predict``)."""


def serving_queries(data: ClassifierData) -> list[np.ndarray]:
    """The test points, one query each."""
    import numpy as np

    X, _ = data.test
    return list(np.asarray(X, dtype=np.float64))


def serve_by_predict(system: Classifier, queries: list[np.ndarray], k: int | None = None) -> list[int]:
    """The batch path, and a per-point ``serve``: what ``predict`` on all points at once answers for each query."""
    import numpy as np

    return [int(v) for v in np.asarray(system.predict(np.stack(queries))).astype(int).ravel()]


def check_labels(labels: Any, n: int) -> np.ndarray:
    """A classifier's ``predict`` answer as (n,) integer labels in {0, 1} ((n, 1) is accepted and flattened).

    >>> check_labels([0, 1.0, True], 3).tolist()
    [0, 1, 1]
    """
    import numpy as np

    array = np.asarray(labels)
    if array.ndim == 2 and array.shape[1:] == (1,):
        array = array[:, 0]
    return integers(array, "predict()", (n,), 0, 2)


KIND = Kind("classifier", Classifier, ServedClassifier,
            QueryUnit(query="a point (2 float64 coordinates)", answer="its class (0 or 1)", latency_bound_ms=10.0,
                      server=False),
            serving_queries, serve_by_predict)
