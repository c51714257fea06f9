"""Task moons-acc and its systems, through the command line as a user runs them."""

from __future__ import annotations

import json
import statistics

import numpy as np
import pytest

from benchmarks.api import RunContext
from benchmarks.cli import main
from benchmarks.metrics.classification import accuracy, accuracy_per_example
from benchmarks.records import Record, load_records
from benchmarks.registry import get_task, systems_for


def test_accuracy_by_hand():
    assert accuracy([0, 1, 1, 0], [0, 0, 1, 0]) == 0.75
    assert accuracy_per_example([1, 1], [1, 0]).tolist() == [1.0, 0.0]
    with pytest.raises(ValueError, match="shape"):
        accuracy([0, 1], [0])


def test_protocol_is_fixed_and_deterministic():
    task = get_task("moons-acc")()
    first = task.prepare(RunContext(task_id="moons-acc", profile="default"))
    second = task.prepare(RunContext(task_id="moons-acc", profile="default"))
    assert first.dataset.fingerprint == second.dataset.fingerprint
    X_train, y_train = first.train
    X_test, y_test = first.test
    assert X_train.shape == (100, 2) and X_test.shape == (2000, 2)
    assert set(np.unique(y_train)) == {0, 1}
    assert not np.isin(X_test[:, 0], X_train[:, 0]).any()  # fresh test points


def test_all_five_systems_are_registered():
    ids = {cls.id for cls in systems_for("moons-acc")}
    assert {"micrograd-mlp", "torch-mlp", "logreg", "sklearn-mlp", "rbf-svm"} <= ids


def _run(results_dir, *args):
    code = main(["run", "--task", "moons-acc", "--results-dir", str(results_dir), "--quiet", *args])
    assert code == 0
    return load_records(results_dir, "moons-acc")


@pytest.mark.integration
def test_micrograd_beats_the_linear_baseline(results_dir):
    found = _run(results_dir, "--system", "micrograd-mlp", "--system", "logreg", "--seed", "0")
    by_system = {r.system: r for r in found}
    assert by_system["micrograd-mlp"].metrics["accuracy"] >= 0.97
    assert by_system["logreg"].metrics["accuracy"] <= 0.90
    for record in found:  # what is on disk reads back as the same record
        assert Record.from_dict(json.loads(record.path.read_text()), path=record.path) == record
    board = (results_dir / "moons-acc.md").read_text()
    assert board.index("micrograd-mlp") < board.index("logreg")  # best first


@pytest.mark.integration
def test_every_other_system_bends_around_the_moons(smoke_run):
    """The smoke-profile records of seed 0 that tests/test_contract.py makes too (one shared run, conftest's
    ``smoke_run``); the command line's own path is what the tests around this one exercise."""
    systems = ("torch-mlp", "sklearn-mlp", "rbf-svm")
    by_system = smoke_run("moons-acc", {}, None, systems)
    found = [by_system[system] for system in systems]
    assert sorted(r.system for r in found) == ["rbf-svm", "sklearn-mlp", "torch-mlp"]
    for record in found:
        assert record.ok
        assert record.metrics["accuracy"] >= 0.95, record.system


@pytest.mark.slow
def test_acceptance_three_seeds_default_profile(results_dir):
    found = _run(results_dir, "--system", "micrograd-mlp", "--system", "logreg")
    values = {}
    for record in found:
        values.setdefault(record.system, []).append(record.metrics["accuracy"])
    assert len(values["micrograd-mlp"]) == 3
    assert statistics.fmean(values["micrograd-mlp"]) >= 0.97
    assert statistics.fmean(values["logreg"]) <= 0.90
    for record in found:  # records are plain JSON that reads back unchanged
        assert Record.from_dict(json.loads(json.dumps(record.to_dict()))) == record


def test_boundary_grid_is_fixed_and_probabilities_are_optional():
    """The grid depends on the profile's training data only; a system without predict_proba gets hard regions."""
    from benchmarks.kinds.classifier import ProbabilisticClassifier
    from benchmarks.tasks.moons import boundary_map, grid_points

    task = get_task("moons-acc")()
    X, y = task.prepare(RunContext(task_id="moons-acc", profile="default")).train

    class Hard:
        def predict(self, X):
            return (X[:, 1] < 0.25).astype(int)

    class Soft(Hard):
        def predict_proba(self, X):
            return 1 / (1 + np.exp(8 * (X[:, 1] - 0.25)))

    hard, soft = boundary_map(Hard(), X, y), boundary_map(Soft(), X, y)
    assert not isinstance(Hard(), ProbabilisticClassifier) and isinstance(Soft(), ProbabilisticClassifier)
    assert {k: hard[k] for k in ("x", "y", "labels")} == {k: soft[k] for k in ("x", "y", "labels")}
    assert "proba" not in hard and len(soft["proba"]) == len(soft["labels"]) == 60 * 60
    points = grid_points(hard)  # row by row from the bottom: the cells below y = 0.25 are class 1
    assert [int(c) for c in hard["labels"]] == (points[:, 1] < 0.25).astype(int).tolist()
    assert hard["x"][0] <= X[:, 0].min() - 0.5 and hard["y"][1] >= X[:, 1].max() + 0.5 and len(hard["train"]) == 100


def _boundary_columns(grid: dict) -> list[list[int]]:
    """Per grid row, the columns where the predicted label changes."""
    nx, ny = int(grid["x"][2]), int(grid["y"][2])
    labels = grid["labels"]
    return [[c for c in range(1, nx) if labels[r * nx + c] != labels[r * nx + c - 1]] for r in range(ny)]


@pytest.mark.integration
def test_decision_boundaries_and_curves_from_the_records(results_dir):
    """A smoke run keeps each job's grid and loss curve; the leaderboard draws a panel per system (< 200 KB) and
    the curves. Logistic regression's boundary is one straight line; micrograd's bends."""
    from benchmarks.plots import boundary_of

    found = {r.system: r for r in _run(results_dir, "--profile", "smoke", "--seed", "0", "--system", "logreg",
                                        "--system", "micrograd-mlp", "--system", "sklearn-mlp")}
    grids = {system: boundary_of(record) for system, record in found.items()}
    assert all(grid is not None for grid in grids.values())
    line = _boundary_columns(grids["logreg"])
    crossings = [(row, cols[0]) for row, cols in enumerate(line) if cols]
    assert all(len(cols) <= 1 for cols in line) and len(crossings) > 10
    rows, cols = np.array(crossings, dtype=float).T
    slope, intercept = np.polyfit(rows, cols, 1)
    assert np.abs(rows * slope + intercept - cols).max() <= 1.5  # a straight line, up to the cells
    assert "proba" in grids["logreg"] and "proba" not in grids["micrograd-mlp"]
    curves = found["micrograd-mlp"].extras["curves"]
    assert curves["step"] == list(range(1, 31)) and len(curves["train_loss"]) == 30  # smoke: 30 steps, each reported
    epochs = found["sklearn-mlp"].extras["curves"]["step"]  # its epochs, reported after the fit
    assert epochs[0] == 1 and epochs[-1] > 10 and epochs == sorted(set(epochs))
    svg = results_dir / "moons-acc-boundaries.svg"
    assert svg.stat().st_size < 200_000 and svg.read_text().count("accuracy 0.") == 3 and "(seed 0)" in svg.read_text()
    board = (results_dir / "moons-acc.md").read_text()
    assert "(moons-acc-boundaries.svg)" in board and "(moons-acc-curves.svg)" in board
    assert "computation graph of one neuron" in board  # drawn, or how to get it


def test_doctests():
    import doctest

    from benchmarks.tasks import moons
    from systems.moons.lib.micrograd import graph

    assert doctest.testmod(moons).failed == 0 and doctest.testmod(graph).failed == 0
