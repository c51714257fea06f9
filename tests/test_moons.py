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
def test_every_other_system_bends_around_the_moons(results_dir):
    found = _run(results_dir, "--profile", "smoke", "--seed", "0",
                 "--system", "torch-mlp", "--system", "sklearn-mlp", "--system", "rbf-svm")
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
