"""The runner end to end on moons-acc: records, failures, timeouts, crashes, interrupts."""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass

import numpy as np
import pytest

from benchmarks import leaderboard, records
from benchmarks.api import System
from benchmarks.errors import UserError
from benchmarks.registry import SYSTEMS, discover, register_system
from benchmarks.runner import RunRequest, run


@dataclass
class FlakyConfig:
    mode: str = "ok"
    """ok | raise | sleep | die | interrupt-parent"""


class FlakySystem(System):
    id = "test-flaky"
    tasks = ("moons-acc",)
    Config = FlakyConfig

    def fit(self, X: np.ndarray, y: np.ndarray) -> None:
        if self.config.mode == "raise":
            raise RuntimeError("boom in fit")
        if self.config.mode == "sleep":
            time.sleep(60)
        if self.config.mode == "die":
            os._exit(3)
        self.majority = int(round(float(np.mean(y))))

    def predict(self, X: np.ndarray) -> np.ndarray:
        return np.full(len(X), self.majority)


class NeedsMissingPackage(System):
    id = "test-needs-missing"
    tasks = ("moons-acc",)
    requires = ("a_package_that_does_not_exist_here",)
    extra = "nonexistent"

    def fit(self, X, y):
        raise AssertionError("must never run")


@pytest.fixture(autouse=True)
def test_systems():
    discover()
    register_system(FlakySystem)
    register_system(NeedsMissingPackage)
    yield
    SYSTEMS.remove(FlakySystem.id)
    SYSTEMS.remove(NeedsMissingPackage.id)


def _request(results_dir, **kwargs):
    base = dict(task="moons-acc", systems=["logreg"], seeds=[0], profile="smoke", results_dir=results_dir, progress=False)
    base.update(kwargs)
    return RunRequest(**base)


def test_record_has_every_required_key(results_dir):
    (outcome,) = run(_request(results_dir))
    assert outcome.status == "ok"
    data = json.loads(outcome.record_path.read_text())
    for key in records.REQUIRED_KEYS:
        assert key in data, key
    assert data["task"] == "moons-acc" and data["system"] == "logreg" and data["seed"] == 0
    assert data["main_metric"] == "test_accuracy" and data["higher_is_better"] is True
    assert 0.8 < data["metrics"]["test_accuracy"] < 0.92
    assert len(data["per_example"]["values"]["test_accuracy"]) == 500
    assert np.mean(data["per_example"]["values"]["test_accuracy"]) == pytest.approx(data["metrics"]["test_accuracy"])
    assert len(data["dataset"]["fingerprint"]) == 64
    assert data["config"] == {"C": 1.0}
    assert data["timings"]["fit_s"] >= 0 and data["peak_rss_mb"] > 0
    assert data["hardware"]["cores"] >= 1 and data["versions"]["numpy"]
    assert data["started_at"] <= data["finished_at"]


def test_same_seed_same_result_and_records_never_overwritten(results_dir):
    first = run(_request(results_dir, systems=["sklearn-mlp"]))[0]
    second = run(_request(results_dir, systems=["sklearn-mlp"]))[0]
    assert first.record_path != second.record_path
    assert first.record_path.exists() and second.record_path.exists()
    assert first.metrics == second.metrics
    with pytest.raises(FileExistsError):
        records.write_record(first.record_path, json.loads(first.record_path.read_text()))


def test_crash_is_recorded_and_the_run_goes_on(results_dir):
    outcomes = run(_request(results_dir, systems=["test-flaky", "logreg"], overrides={"test-flaky.mode": "raise"}))
    by_system = {o.system: o for o in outcomes}
    assert by_system["test-flaky"].status == "failed"
    assert "boom in fit" in by_system["test-flaky"].error
    assert by_system["logreg"].status == "ok"
    failed = json.loads(by_system["test-flaky"].record_path.read_text())
    assert failed["status"] == "failed" and "RuntimeError" in failed["traceback"]
    board = (results_dir / "moons-acc.md").read_text()
    assert "logreg" in board and "boom in fit" in board


def test_timeout_is_recorded(results_dir):
    start = time.monotonic()
    (outcome,) = run(_request(results_dir, systems=["test-flaky"], overrides={"mode": "sleep"}, timeout=2))
    assert outcome.status == "failed" and "timeout" in outcome.error
    assert time.monotonic() - start < 30


def test_worker_that_dies_is_recorded(results_dir):
    (outcome,) = run(_request(results_dir, systems=["test-flaky"], overrides={"mode": "die"}))
    assert outcome.status == "failed" and "exit code 3" in outcome.error


def test_inline_mode_also_records_failures(results_dir):
    outcomes = run(_request(results_dir, systems=["test-flaky"], overrides={"mode": "raise"}, isolate=False))
    assert outcomes[0].status == "failed"


def test_interrupt_keeps_finished_records(results_dir, monkeypatch):
    import benchmarks.runner as runner_module

    calls = {"n": 0}
    real = runner_module._run_isolated

    def interrupt_on_second(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(runner_module, "_run_isolated", interrupt_on_second)
    with pytest.raises(KeyboardInterrupt):
        run(_request(results_dir, systems=["logreg", "rbf-svm"]))
    saved = records.load_records(results_dir, "moons-acc")
    assert [r.data["system"] for r in saved] == ["logreg"]
    assert "logreg" in (results_dir / "moons-acc.md").read_text()


def test_unavailable_system_is_skipped_with_hint(results_dir, capsys):
    with pytest.raises(UserError, match=r"nonexistent"):
        run(_request(results_dir, systems=["test-needs-missing"]))


def test_bad_set_values_are_rejected_before_anything_runs(results_dir):
    with pytest.raises(UserError, match="did you mean C"):
        run(_request(results_dir, overrides={"c": 2.0}))
    with pytest.raises(UserError, match="expected float"):
        run(_request(results_dir, overrides={"C": "big"}))
    assert not (results_dir / "records").exists()


def test_set_value_is_saved_and_labels_the_row(results_dir):
    (outcome,) = run(_request(results_dir, overrides={"C": 0.5}))
    data = json.loads(outcome.record_path.read_text())
    assert data["config"]["C"] == 0.5 and data["config_overrides"] == {"C": 0.5}
    assert "logreg (C=0.5)" in (results_dir / "moons-acc.md").read_text()


def test_unknown_names_suggest_close_matches(results_dir):
    with pytest.raises(UserError, match="did you mean 'moons-acc'"):
        run(_request(results_dir, task="moons-ac"))
    with pytest.raises(UserError, match="did you mean 'logreg'"):
        run(_request(results_dir, systems=["logrek"]))


def test_leaderboard_survives_a_corrupt_record(results_dir):
    run(_request(results_dir))
    junk = records.records_dir(results_dir, "moons-acc") / "logreg" / "broken.json"
    junk.write_text("{ not json")
    with pytest.warns(UserWarning, match="unreadable record"):
        leaderboard.write(results_dir, ["moons-acc"])
    assert "logreg" in (results_dir / "moons-acc.md").read_text()


def test_profiles_never_share_a_table(results_dir):
    run(_request(results_dir, profile="smoke"))
    run(_request(results_dir, profile="default"))
    text = (results_dir / "moons-acc.md").read_text()
    assert text.count("| 1 | logreg |") == 2
    assert "profile `smoke`" in text and "profile `default`" in text


def test_real_ctrl_c_keeps_finished_records(tmp_path):
    import signal
    import subprocess
    import sys

    results = tmp_path / "results"
    process = subprocess.Popen(
        [sys.executable, "-m", "benchmarks", "run", "--task", "moons-acc", "--system", "logreg", "--system", "micrograd-mlp",
         "--seed", "0", "--results-dir", str(results), "--quiet"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    logreg_dir = results / "records" / "moons-acc" / "logreg"
    deadline = time.monotonic() + 120
    while not list(logreg_dir.glob("*.json")) and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.2)
    time.sleep(1.0)  # micrograd-mlp is now training (it takes ~15 s)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert "interrupted" in err
    saved = records.load_records(results, "moons-acc")
    assert [r.data["system"] for r in saved] == ["logreg"] and saved[0].data["status"] == "ok"
    assert "logreg" in (results / "moons-acc.md").read_text()
    assert not list(results.rglob("*.tmp"))


def test_spawned_workers_give_the_same_result_as_forked_ones(results_dir):
    forked = run(_request(results_dir, systems=["sklearn-mlp"], start_method="fork"))[0]
    spawned = run(_request(results_dir, systems=["sklearn-mlp"], start_method="spawn"))[0]
    assert forked.status == spawned.status == "ok"
    assert forked.metrics == spawned.metrics


def test_fork_is_avoided_once_a_fork_unsafe_library_is_loaded(monkeypatch):
    import sys
    import types

    from benchmarks.runner import FORK_UNSAFE_MODULES, choose_start_method

    for name in FORK_UNSAFE_MODULES:
        monkeypatch.delitem(sys.modules, name, raising=False)
    assert choose_start_method("auto") == "fork"
    monkeypatch.setitem(sys.modules, "polars", types.ModuleType("polars"))
    assert choose_start_method("auto") == "spawn"
    assert choose_start_method("fork") == "fork"
    with pytest.raises(UserError, match="expected auto, fork or spawn"):
        choose_start_method("thread")


def test_every_task_and_context_pickles_for_spawned_workers():
    import pickle

    from benchmarks.api import RunContext
    from benchmarks.registry import TASKS

    discover()
    for task_id, task_cls in TASKS.items():
        task = task_cls()
        context = RunContext(task_id=task_id, task_options=task.options)
        task_copy, context_copy = pickle.loads(pickle.dumps((task, context)))
        assert type(task_copy) is task_cls and task_copy.options == task.options, task_id
        assert context_copy.task_options == task.options
