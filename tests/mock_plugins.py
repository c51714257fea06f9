"""A mock task and mock systems for tests and for trying the harness: instant, deterministic, no data.

As MTEB ships tiny mock tasks, this module gives the runner, executors, leaderboards, ``compare``,
``check`` and the site something to run that costs milliseconds instead of training real models.
Importing it registers them (discovery does not: they never appear in ``list`` unless imported).

* ``mock-acc``: a classifier task on 400 points of two noisy blobs (200 in ``smoke``); main metric
  ``accuracy``, with per-example values.
* ``mock-threshold``: a learned threshold on the first feature (accuracy ≈ 0.9).
* ``mock-majority``: predicts the majority class (accuracy ≈ 0.5): clearly worse.
* ``mock-noisy``: the threshold with a seed-dependent share of flipped answers (seeds differ).
* ``mock-fault``: misbehaves on purpose, as its ``mode`` says (see :class:`FaultConfig`); it declares
  0.25 GB of memory, so ``mode=memory`` past that is an out-of-memory kill.
* ``mock-gpu``: the majority answer, from a system that declares one GPU (where Ray places it).
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.api import DatasetInfo, Evaluation, Resources, RunContext, System, Task
from benchmarks.expected import Expected
from benchmarks.kinds import classifier
from benchmarks.kinds.classifier import Classifier, ClassifierData, check_labels
from benchmarks.registry import SYSTEMS, TASKS, register_system, register_task

MOCK_SIZES = {"smoke": 200, "default": 400, "full": 400}


@dataclass
class MockOptions:
    """Options of ``mock-acc``."""

    noise: float = 1.0
    """Spread of the two blobs (their centres are 3 apart)."""
    save_submission: bool = False
    """Write the predictions next to the record (an artifact)."""


class MockAccuracy(Task):
    """Two blobs, classify the points: a task that runs in milliseconds."""

    id = "mock-acc"
    version = "1"
    kind = classifier.KIND
    main_metric = "accuracy"
    description = "A mock task for tests: two noisy blobs, test accuracy."
    protocol = "Fixed random points (seed 7); half for training, half for testing."
    data_source = "generated (tests/mock_plugins.py)"
    default_seeds = (0, 1, 2)
    Options = MockOptions

    def prepare(self, context: RunContext) -> ClassifierData:
        n = MOCK_SIZES[context.profile]
        rng = np.random.default_rng(7)
        y = rng.integers(0, 2, n)
        X = rng.normal(0.0, self.options.noise, (n, 2)) + np.where(y[:, None] == 1, 1.5, -1.5)
        digest = hashlib.sha256(X.tobytes() + y.tobytes()).hexdigest()
        half = n // 2
        info = DatasetInfo(name=f"mock blobs (n={n}, noise={self.options.noise:g})", fingerprint=digest, synthetic=True)
        return ClassifierData(info, train=(X[:half], y[:half]), test=(X[half:], y[half:]))

    def fit(self, system: Classifier, data: ClassifierData, context: RunContext) -> None:
        system.fit(*data.train)

    def predict(self, system: Classifier, data: ClassifierData, context: RunContext) -> Any:
        return check_labels(system.predict(data.test[0]), len(data.test[0]))

    def evaluate(self, predictions: Any, data: ClassifierData, context: RunContext) -> Evaluation:
        correct = (predictions == data.test[1]).astype(float)
        return Evaluation(metrics={"accuracy": float(correct.mean())}, per_example={"accuracy": correct.tolist()},
                          example_ids=[f"p{i}" for i in range(len(correct))])

    def save_predictions(self, predictions: Any, data: ClassifierData, context: RunContext) -> list[Path]:
        path = context.artifact_path("predictions.txt") if self.options.save_submission else None
        if path is None:
            return []
        path.write_text("\n".join(str(int(p)) for p in predictions) + "\n")
        return [path]


@dataclass
class ThresholdConfig:
    flip: float = 0.0
    """Share of answers flipped at random (seeded): 0 is the plain threshold."""


class MockThreshold(System):
    id = "mock-threshold"
    kind = "classifier"
    tasks = ("mock-*",)
    Config = ThresholdConfig
    expected = (Expected(task="mock-acc", profile="smoke", metric="accuracy", value=0.9, tolerance=0.1, seed=0),)

    def fit(self, X: np.ndarray, y: np.ndarray) -> None:
        self.cut = float((X[y == 0, 0].mean() + X[y == 1, 0].mean()) / 2)

    def predict(self, X: np.ndarray) -> np.ndarray:
        answers = (X[:, 0] > self.cut).astype(int)
        if self.config.flip:
            flip = np.random.default_rng(self.seed).random(len(answers)) < self.config.flip
            answers = np.where(flip, 1 - answers, answers)
        return answers


class MockNoisy(MockThreshold):
    id = "mock-noisy"
    Config = ThresholdConfig
    profile_overrides = {"smoke": {"flip": 0.05}, "default": {"flip": 0.05}, "full": {"flip": 0.05}}
    expected = ()


class MockMajority(System):
    id = "mock-majority"
    kind = "classifier"
    tasks = ("mock-*",)

    def fit(self, X: np.ndarray, y: np.ndarray) -> None:
        self.answer = int(round(float(np.mean(y))))

    def predict(self, X: np.ndarray) -> np.ndarray:
        return np.full(len(X), self.answer)


@dataclass
class FaultConfig:
    mode: str = "ok"
    """ok | raise | exit (os._exit) | sigkill (kills itself) | sleep | grandchild (a child that outlives it, then
    sleep) | memory (allocates ``megabytes`` and holds them ``seconds``) | bad-report (report() returns numpy, paths,
    sets and an object) | exit-on-seed (``os._exit`` on seed 1 only) | daemon (a double-forked ``setsid`` daemon that
    ignores SIGTERM and keeps the job's stdout and stderr open, then the job goes on and ends ok) | big-report
    (report() returns ``megabytes`` of text: a record too large for a small file-size limit)"""
    seconds: float = 60.0
    megabytes: int = 50
    pid_file: str = ""
    """Where ``grandchild`` and ``daemon`` write their stray process's pid (so a test can check it is gone)."""
    fail: bool = False
    """Raise at the end of ``fit``, after the fault (a failed job that misbehaved first)."""


class MockFault(System):
    id = "mock-fault"
    kind = "classifier"
    tasks = ("mock-*",)
    Config = FaultConfig
    resources = Resources(memory_gb=0.25)

    def fit(self, X: np.ndarray, y: np.ndarray) -> None:
        mode = self.config.mode
        if mode == "raise":
            raise RuntimeError("boom in fit")
        if mode == "exit" or (mode == "exit-on-seed" and self.seed == 1):
            os._exit(3)
        if mode == "sigkill":
            os.kill(os.getpid(), signal.SIGKILL)
        if mode == "sleep":
            time.sleep(self.config.seconds)
        if mode == "grandchild":
            child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
            if self.config.pid_file:
                Path(self.config.pid_file).write_text(str(child.pid))
            time.sleep(self.config.seconds)
        if mode == "daemon":
            _start_daemon(self.config.pid_file, self.config.seconds)
        if mode == "memory":
            self.ballast = np.ones(self.config.megabytes * 2**20 // 8)  # touched: resident
            time.sleep(min(self.config.seconds, 2.0))
        if self.config.fail:
            raise RuntimeError(f"failing on purpose after mode={mode}")
        self.answer = int(round(float(np.mean(y))))

    def predict(self, X: np.ndarray) -> np.ndarray:
        return np.full(len(X), self.answer)

    def report(self) -> dict[str, Any]:
        if self.config.mode == "big-report":
            return {"padding": "x" * (self.config.megabytes * 2**20)}
        if self.config.mode != "bad-report":
            return {}
        return {"count": np.int64(3), "ratio": np.float32(0.5), "where": Path("/tmp/x"), "tags": {"b", "a"},
                "thing": object()}


def _start_daemon(pid_file: str, seconds: float) -> None:
    """Double fork and ``setsid``, as a daemon does: the grandchild leaves the job's process group and session, is
    orphaned, ignores SIGTERM and holds the inherited stdout and stderr; it writes its pid to ``pid_file``."""
    child = os.fork()
    if child == 0:
        try:
            os.setsid()
            if os.fork() == 0:
                signal.signal(signal.SIGTERM, signal.SIG_IGN)
                if pid_file:
                    Path(pid_file).write_text(str(os.getpid()))
                time.sleep(seconds)
        finally:
            os._exit(0)
    os.waitpid(child, 0)
    for _ in range(100):  # the pid file says the daemon is running
        if not pid_file or Path(pid_file).exists():
            break
        time.sleep(0.05)


class MockGPU(MockMajority):
    id = "mock-gpu"
    resources = Resources(cpus=1, gpus=1)


def install() -> None:
    """Register the mock task and systems (idempotent)."""
    if MockAccuracy.id not in TASKS:
        register_task(MockAccuracy)
    for cls in (MockThreshold, MockNoisy, MockMajority, MockFault, MockGPU):
        if cls.id not in SYSTEMS:
            register_system(cls)


install()
