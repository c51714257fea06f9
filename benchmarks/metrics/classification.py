"""Classification metrics."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from benchmarks.metrics import Metric, declare

declare(Metric("accuracy", higher_is_better=True, description="share of test points classified right",
               aliases=("test_accuracy",)))
declare(Metric("train_accuracy", higher_is_better=True, description="share of training points classified right"))


def accuracy_per_example(y_true: Sequence[int], y_pred: Sequence[int]) -> np.ndarray:
    """1.0 where the prediction is right, 0.0 where it is wrong.

    >>> accuracy_per_example([0, 1, 1], [0, 0, 1]).tolist()
    [1.0, 0.0, 1.0]
    """
    truth = np.asarray(y_true)
    predicted = np.asarray(y_pred)
    if truth.shape != predicted.shape:
        raise ValueError(f"predictions have shape {predicted.shape}, truth has {truth.shape}")
    return (truth == predicted).astype(np.float64)


def accuracy(y_true: Sequence[int], y_pred: Sequence[int]) -> float:
    """Share of correct predictions.

    >>> accuracy([0, 1, 1, 0], [0, 0, 1, 0])
    0.75
    """
    values = accuracy_per_example(y_true, y_pred)
    return float(values.mean()) if values.size else float("nan")
