"""Task ``moons-acc``: two interleaving half-moons (scikit-learn's make_moons), test accuracy.

Besides the scores, each job keeps what the pictures need: the training loss per step (``RunContext.checkpoint``)
and, off the clock, the predictions on a fixed grid (``<record>.boundary.jsonl``, one JSON line).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.api import DatasetInfo, Evaluation, RunContext, Task
from benchmarks.kinds import classifier
from benchmarks.kinds.classifier import Classifier, ClassifierData, ProbabilisticClassifier, check_labels
from benchmarks.metrics.classification import accuracy, accuracy_per_example
from benchmarks.registry import register_task


@dataclass(frozen=True)
class MoonsProtocol:
    n_train: int = 100  # micrograd's demo: 100 points at noise 0.1
    n_test: int = 2000  # fresh points from another seed
    noise: float = 0.1
    train_seed: int = 1337
    test_seed: int = 2024


PROTOCOLS = {"smoke": MoonsProtocol(n_test=500), "default": MoonsProtocol(), "full": MoonsProtocol()}


GRID_CELLS = 60
"""Cells per side of the decision-boundary grid."""
GRID_MARGIN = 0.5
"""Room around the training points' bounding box, in data units."""
CURVE_POINTS = 200
"""At most this many points of a training curve are kept (evenly thinned, the last always)."""
CURVE_LABEL = "training loss per example, the system's objective: hinge + L2 (micrograd-mlp), log loss in nats (others)"


def boundary_grid(X: np.ndarray, cells: int = GRID_CELLS, margin: float = GRID_MARGIN) -> dict[str, list[float]]:
    """The decision-boundary grid: ``cells`` × ``cells`` cell centres over the bounding box of ``X`` plus ``margin``,
    rounded to 0.01 so it reads the same everywhere (the same grid for every system and seed of a profile).

    >>> boundary_grid(np.array([[0.0, 0.0], [1.0, 2.0]]), cells=3, margin=0.5)
    {'x': [-0.5, 1.5, 3], 'y': [-0.5, 2.5, 3]}
    """
    low, high = np.floor((X.min(axis=0) - margin) * 100) / 100, np.ceil((X.max(axis=0) + margin) * 100) / 100
    return {"x": [float(low[0]), float(high[0]), cells], "y": [float(low[1]), float(high[1]), cells]}


def grid_points(grid: dict[str, list[float]]) -> np.ndarray:
    """(cells_y * cells_x, 2) cell centres, row by row from the bottom (y ascending), x ascending within a row."""
    (x0, x1, nx), (y0, y1, ny) = grid["x"], grid["y"]
    xs = x0 + (np.arange(int(nx)) + 0.5) * (x1 - x0) / nx
    ys = y0 + (np.arange(int(ny)) + 0.5) * (y1 - y0) / ny
    gx, gy = np.meshgrid(xs, ys)  # (ny, nx) each
    return np.column_stack([gx.ravel(), gy.ravel()])


def boundary_map(system: Classifier, X_train: np.ndarray, y_train: np.ndarray) -> dict[str, Any]:
    """What a decision-boundary picture needs: the grid, the predicted label of each cell (a string of 0/1), the
    probability of class 1 in tenths (a string of digits 0-9) where the system has ``predict_proba``, and the
    training points."""
    grid = boundary_grid(X_train)
    points = grid_points(grid)
    labels = np.asarray(system.predict(points.copy())).astype(int).ravel()
    found: dict[str, Any] = {"version": 1, **grid, "labels": "".join("1" if v == 1 else "0" for v in labels)}
    if isinstance(system, ProbabilisticClassifier):
        proba = np.clip(np.asarray(system.predict_proba(points.copy()), dtype=np.float64).ravel(), 0.0, 1.0)
        found["proba"] = "".join(str(int(min(9, v * 10))) for v in proba)
    found["train"] = [[round(float(x), 3), round(float(y), 3), int(label)] for (x, y), label in zip(X_train, y_train)]
    return found


class LossLog:
    """The task's ``RunContext.checkpoint_callback`` on moons: keeps the training loss each checkpoint reports."""

    def __init__(self) -> None:
        self.steps: list[int] = []
        self.losses: list[float] = []

    def __call__(self, step: int, train_examples: int, train_loss: float | None = None) -> bool:
        if train_loss is not None and np.isfinite(train_loss):
            self.steps.append(int(step))
            self.losses.append(float(train_loss))
        return True

    def curves(self, limit: int = CURVE_POINTS) -> dict[str, list[Any]]:
        """``{"step", "train_loss"}``, thinned evenly to at most ``limit`` points (the last one kept)."""
        keep = sorted({*np.linspace(0, len(self.steps) - 1, min(limit, len(self.steps))).round().astype(int).tolist()})
        return {"step": [self.steps[i] for i in keep], "train_loss": [round(self.losses[i], 5) for i in keep],
                "y_label": CURVE_LABEL}


@register_task
class MoonsAccuracy(Task):
    id = "moons-acc"
    version = "1"
    kind = classifier.KIND
    main_metric = "accuracy"
    description = (
        "Binary classification of scikit-learn's `make_moons`: two interleaving half-circles. "
        "A linear model cannot bend around them (≈0.85–0.88); a small MLP reaches ≈1.0."
    )
    protocol = (
        "Train on 100 points at noise 0.1 (micrograd's demo, `random_state=1337`); test on 2,000 fresh "
        "points drawn with `random_state=2024` (500 in the smoke profile). Main metric: test accuracy; "
        "also train accuracy. Per-example values: correctness of each test point. Off the clock, each job also "
        f"predicts a fixed {GRID_CELLS} × {GRID_CELLS} grid over the training points' bounding box (margin "
        f"{GRID_MARGIN}) for the decision-boundary pictures, and systems with a training loop report their training "
        "loss per step (each its own objective) for the curves."
    )
    data_source = "generated (sklearn.datasets.make_moons)"
    profiles = {"smoke": "500 test points", "default": "2,000 test points", "full": "same as default"}
    default_seeds = (0, 1, 2)
    leaderboard_columns = ("train_accuracy",)

    def prepare(self, context: RunContext) -> ClassifierData:
        from sklearn.datasets import make_moons

        spec = PROTOCOLS[context.profile]
        X_train, y_train = make_moons(n_samples=spec.n_train, noise=spec.noise, random_state=spec.train_seed)
        X_test, y_test = make_moons(n_samples=spec.n_test, noise=spec.noise, random_state=spec.test_seed)
        digest = hashlib.sha256()
        for array in (X_train, y_train, X_test, y_test):
            digest.update(np.ascontiguousarray(array).tobytes())
        name = f"make_moons(train={spec.n_train}, test={spec.n_test}, noise={spec.noise})"
        info = DatasetInfo(name=name, fingerprint=digest.hexdigest(), synthetic=False, source=json.dumps(spec.__dict__))
        return ClassifierData(info, train=(X_train, y_train), test=(X_test, y_test))

    def fit(self, system: Classifier, data: ClassifierData, context: RunContext) -> None:
        X, y = data.train
        self._loss_log = LossLog()
        context.checkpoint_callback = self._loss_log
        try:
            system.fit(X.copy(), y.copy())
        finally:
            context.checkpoint_callback = None

    def predict(self, system: Classifier, data: ClassifierData, context: RunContext) -> Any:
        predictions = {name: check_labels(system.predict(X.copy()), len(X))
                       for name, (X, _) in (("train", data.train), ("test", data.test))}
        with context.untimed():  # for the pictures only: never part of the score or the clock
            predictions["boundary"] = boundary_map(system, *data.train)
        return predictions

    def evaluate(self, predictions: Any, data: ClassifierData, context: RunContext) -> Evaluation:
        (_, y_train), (_, y_test) = data.train, data.test
        per_point = accuracy_per_example(y_test, predictions["test"])
        log = getattr(self, "_loss_log", None)
        return Evaluation(
            metrics={"accuracy": accuracy(y_test, predictions["test"]),
                     "train_accuracy": accuracy(y_train, predictions["train"])},
            per_example={"accuracy": per_point.tolist()},
            example_ids=[str(i) for i in range(len(y_test))],
            extras={"curves": log.curves()} if log is not None and log.steps else {},
        )

    def save_predictions(self, predictions: Any, data: ClassifierData, context: RunContext) -> list[Path]:
        path = context.artifact_path("boundary.jsonl")
        if path is None or "boundary" not in predictions:
            return []
        path.write_text(json.dumps(predictions["boundary"], separators=(",", ":")))
        return [path]
