"""Task ``moons-acc``: two interleaving half-moons (scikit-learn's make_moons), test accuracy.

The smallest task, from micrograd's demo: a linear model cannot separate the moons, a small
MLP can. Data are generated, so there is nothing to download.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

import numpy as np

from benchmarks.api import DatasetInfo, Evaluation, RunContext, Task, TaskData
from benchmarks.kinds import Classifier
from benchmarks.metrics.classification import accuracy, accuracy_per_example
from benchmarks.registry import register_task


@dataclass(frozen=True)
class MoonsProtocol:
    n_train: int
    n_test: int
    noise: float
    train_seed: int = 1337
    test_seed: int = 2024


# micrograd's demo: 100 points at noise 0.1. The test set is 2,000 fresh points from another seed.
PROTOCOLS = {
    "smoke": MoonsProtocol(n_train=100, n_test=500, noise=0.1),
    "default": MoonsProtocol(n_train=100, n_test=2000, noise=0.1),
    "full": MoonsProtocol(n_train=100, n_test=2000, noise=0.1),
}


@register_task
class MoonsAccuracy(Task[Classifier]):
    id = "moons-acc"
    version = "1"
    kind = "classifier"
    main_metric = "accuracy"
    description = (
        "Binary classification of scikit-learn's `make_moons`: two interleaving half-circles. "
        "A linear model cannot bend around them (≈0.85–0.88); a small MLP reaches ≈1.0."
    )
    protocol = (
        "Train on 100 points at noise 0.1 (micrograd's demo, `random_state=1337`); test on 2,000 fresh "
        "points drawn with `random_state=2024` (500 in the smoke profile). Main metric: test accuracy; "
        "also train accuracy. Per-example values: correctness of each test point."
    )
    data_source = "generated (sklearn.datasets.make_moons)"
    profiles = {"smoke": "500 test points", "default": "2,000 test points", "full": "same as default"}
    default_seeds = (0, 1, 2)
    leaderboard_columns = ("train_accuracy",)

    def prepare(self, context: RunContext) -> TaskData:
        from sklearn.datasets import make_moons

        spec = PROTOCOLS[context.profile]
        X_train, y_train = make_moons(n_samples=spec.n_train, noise=spec.noise, random_state=spec.train_seed)
        X_test, y_test = make_moons(n_samples=spec.n_test, noise=spec.noise, random_state=spec.test_seed)
        digest = hashlib.sha256()
        for array in (X_train, y_train, X_test, y_test):
            digest.update(np.ascontiguousarray(array).tobytes())
        name = f"make_moons(train={spec.n_train}, test={spec.n_test}, noise={spec.noise})"
        info = DatasetInfo(name=name, fingerprint=digest.hexdigest(), synthetic=False, source=json.dumps(spec.__dict__))
        return TaskData(dataset=info, train=(X_train, y_train), test=(X_test, y_test))

    def fit(self, system: Classifier, data: TaskData, context: RunContext) -> None:
        X, y = data.train
        system.fit(X.copy(), y.copy())

    def predict(self, system: Classifier, data: TaskData, context: RunContext) -> Any:
        X_train, _ = data.train
        X_test, _ = data.test
        return {
            "train": np.asarray(system.predict(X_train.copy())).astype(int).ravel(),
            "test": np.asarray(system.predict(X_test.copy())).astype(int).ravel(),
        }

    def evaluate(self, predictions: Any, data: TaskData, context: RunContext) -> Evaluation:
        _, y_train = data.train
        _, y_test = data.test
        per_point = accuracy_per_example(y_test, predictions["test"])
        return Evaluation(
            metrics={
                "accuracy": accuracy(y_test, predictions["test"]),
                "train_accuracy": accuracy(y_train, predictions["train"]),
            },
            per_example={"accuracy": per_point.tolist()},
            example_ids=[str(i) for i in range(len(y_test))],
        )
