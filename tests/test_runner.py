"""The runner end to end on the mock task: records, failures, timeouts, crashes, interrupts, resume."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest

from benchmarks import leaderboard, paths, records
from benchmarks.api import System
from benchmarks.config import RunRequest
from benchmarks.errors import UserError
from benchmarks.registry import SYSTEMS, register_system
from benchmarks.runner import Interrupted, run
from tests.conftest import squeeze


class NeedsMissingPackage(System):
    id = "test-needs-missing"
    kind = "classifier"
    tasks = ("mock-*",)
    requires = ("a_package_that_does_not_exist_here",)
    extra = "nonexistent"

    def fit(self, X, y):
        raise AssertionError("must never run")

    def predict(self, X):
        raise AssertionError("must never run")


@pytest.fixture(autouse=True)
def unavailable_system():
    register_system(NeedsMissingPackage)
    yield
    SYSTEMS.remove(NeedsMissingPackage.id)


def _request(results_dir, **kwargs):
    base = dict(tasks=["mock-acc"], systems=["mock-threshold"], seeds=[0], profile="smoke", results_dir=results_dir,
                progress=False)
    base.update(kwargs)
    return RunRequest(**base)


@pytest.mark.integration
def test_record_has_every_field_and_its_numbers_agree(results_dir):
    (outcome,) = run(_request(results_dir))
    assert outcome.status == "ok"
    data = json.loads(outcome.record_path.read_text())
    record = records.Record.from_dict(data)
    assert data["schema_version"] == records.SCHEMA_VERSION
    assert (record.task, record.system, record.seed, record.main_metric) == ("mock-acc", "mock-threshold", 0, "accuracy")
    assert record.higher_is_better is True and record.status == "ok"
    assert 0.85 < record.metrics["accuracy"] < 1.0
    values = record.per_example.values["accuracy"]
    assert len(values) == 100 and np.mean(values) == pytest.approx(record.metrics["accuracy"])
    assert len(record.dataset.fingerprint) == 64 and record.dataset.synthetic
    assert record.config == {"flip": 0.0}
    assert {"fit_s", "predict_s", "eval_s"} <= set(record.timings)
    assert record.peak_memory_mb > 0 and "outside" in record.memory_method
    assert record.hardware["cores"] >= 1 and record.versions["numpy"]
    assert record.started_at <= record.finished_at
    assert len(record.conditions["load_start"]) == 3 and record.conditions["executor"] == "local"
    assert record.job_key and len(record.job_key) == 64


@pytest.mark.integration
def test_same_seed_same_result_and_records_never_overwritten(results_dir):
    first = run(_request(results_dir, systems=["mock-noisy"]))[0]
    second = run(_request(results_dir, systems=["mock-noisy"]))[0]
    assert first.record_path != second.record_path
    assert first.record_path.exists() and second.record_path.exists()
    assert first.metrics == second.metrics
    with pytest.raises(FileExistsError):
        records.write_record(first.record_path, records.Record.from_dict(json.loads(first.record_path.read_text())))


@pytest.mark.integration
def test_crash_is_recorded_and_the_run_goes_on(results_dir):
    outcomes = run(_request(results_dir, systems=["mock-fault", "mock-threshold"], overrides={"mock-fault.mode": "raise"}))
    by_system = {o.system: o for o in outcomes}
    assert by_system["mock-fault"].status == "failed"
    assert "boom in fit" in by_system["mock-fault"].error
    assert by_system["mock-threshold"].status == "ok"
    failed = json.loads(by_system["mock-fault"].record_path.read_text())
    assert failed["status"] == "failed" and "RuntimeError" in failed["traceback"]
    board = (results_dir / "mock-acc.md").read_text()
    assert "mock-threshold" in board and "boom in fit" in board


@pytest.mark.integration
def test_timeout_is_recorded(results_dir):
    start = time.monotonic()
    (outcome,) = run(_request(results_dir, systems=["mock-fault"], overrides={"mode": "sleep"}, timeout=2))
    assert outcome.status == "failed" and outcome.timed_out and "timeout" in outcome.error
    assert time.monotonic() - start < 30


@pytest.mark.integration
def test_worker_that_dies_is_recorded(results_dir):
    (outcome,) = run(_request(results_dir, systems=["mock-fault"], overrides={"mode": "exit"}))
    assert outcome.status == "failed" and "exit code 3" in outcome.error


def test_in_process_mode_also_records_failures(results_dir):
    outcomes = run(_request(results_dir, systems=["mock-fault"], overrides={"mode": "raise"}, isolate=False))
    assert outcomes[0].status == "failed" and "boom" in outcomes[0].error


@pytest.mark.integration
def test_interrupt_keeps_finished_records(results_dir, monkeypatch):
    import benchmarks.runner as runner_module

    real = runner_module._finish
    calls = {"n": 0}

    def interrupt_after_first(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(runner_module, "_finish", interrupt_after_first)
    with pytest.raises(Interrupted) as caught:
        run(_request(results_dir, systems=["mock-threshold", "mock-majority"]))
    assert caught.value.leaderboards_written
    saved = records.load_records(results_dir, "mock-acc")
    assert [r.system for r in saved] == ["mock-threshold"]
    assert "mock-threshold" in (results_dir / "mock-acc.md").read_text()


def test_unavailable_system_is_refused_with_hint(results_dir):
    with pytest.raises(UserError, match=r"nonexistent"):
        run(_request(results_dir, systems=["test-needs-missing"]))


def test_bad_set_values_are_rejected_before_anything_runs(results_dir):
    with pytest.raises(UserError, match="did you mean flip"):
        run(_request(results_dir, overrides={"flp": 0.2}))
    with pytest.raises(UserError, match="expected float"):
        run(_request(results_dir, overrides={"flip": "some"}))
    with pytest.raises(UserError, match="no such folder"):
        run(_request(results_dir, data_dir=results_dir / "missing"))
    assert not (results_dir / "records").exists()


def test_results_dir_is_checked_before_any_job(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(UserError, match="is a file"):
        run(_request(blocker))
    readonly = tmp_path / "readonly"
    readonly.mkdir()
    readonly.chmod(0o500)
    try:
        import os

        if os.access(readonly, os.W_OK):  # root ignores permissions
            pytest.skip("running as root: a read-only folder is writable")
        with pytest.raises(UserError, match="cannot write"):
            run(_request(readonly / "results"))
    finally:
        readonly.chmod(0o700)


@pytest.mark.integration
def test_set_value_is_saved_and_labels_the_row(results_dir):
    (outcome,) = run(_request(results_dir, overrides={"flip": 0.5}))
    data = json.loads(outcome.record_path.read_text())
    assert data["config"]["flip"] == 0.5 and data["config_overrides"] == {"flip": 0.5}
    assert "mock-threshold (flip=0.5)" in (results_dir / "mock-acc.md").read_text()


def test_unknown_names_suggest_close_matches(results_dir):
    with pytest.raises(UserError, match="did you mean 'mock-acc'"):
        run(_request(results_dir, tasks=["mock-ac"]))
    with pytest.raises(UserError, match="did you mean 'mock-threshold'"):
        run(_request(results_dir, systems=["mock-treshold"]))


def test_a_system_of_another_kind_is_refused(results_dir):
    with pytest.raises(UserError, match="is a char-language-model and does not run task 'mock-acc'"):
        run(_request(results_dir, systems=["uniform"]))


@pytest.mark.integration
def test_leaderboard_survives_a_corrupt_record(results_dir):
    run(_request(results_dir))
    junk = paths.record_dir(results_dir, "mock-acc") / "mock-threshold" / "broken.json"
    junk.write_text("{ not json")
    with pytest.warns(UserWarning, match="unreadable record"):
        leaderboard.write(results_dir, ["mock-acc"])
    assert "mock-threshold" in (results_dir / "mock-acc.md").read_text()


@pytest.mark.integration
def test_profiles_never_share_a_table(results_dir):
    run(_request(results_dir, profile="smoke"))
    run(_request(results_dir, profile="default"))
    text = squeeze((results_dir / "mock-acc.md").read_text())
    assert text.count("| 1 | mock-threshold |") == 2
    assert "profile `smoke`" in text and "profile `default`" in text


@pytest.mark.integration
def test_artifacts_come_back_and_sit_beside_the_record(results_dir):
    (outcome,) = run(_request(results_dir, overrides={"task.save_submission": True}))
    data = json.loads(outcome.record_path.read_text())
    artifact = outcome.record_path.with_name(outcome.record_path.name.replace(".json", ".predictions.txt"))
    assert data["artifacts"] == [artifact.name]
    assert len(artifact.read_text().split()) == 100
    assert ".." not in artifact.name


@pytest.mark.integration
def test_a_grid_of_several_tasks_and_systems_runs_in_parallel_and_resumes(results_dir):
    request = _request(results_dir, systems=["mock-threshold", "mock-majority"], seeds=[0, 1], jobs=2)
    first = run(request)
    assert sorted((o.system, o.seed) for o in first) == [("mock-majority", 0), ("mock-majority", 1),
                                                          ("mock-threshold", 0), ("mock-threshold", 1)]
    assert run(_request(results_dir, systems=["mock-threshold", "mock-majority"], seeds=[0, 1], resume=True)) == []
    # a changed config is another key: it runs again; the other system is done
    changed = run(_request(results_dir, systems=["mock-threshold", "mock-majority"], seeds=[0, 1], resume=True,
                           overrides={"mock-threshold.flip": 0.1}))
    assert sorted((o.system, o.seed) for o in changed) == [("mock-threshold", 0), ("mock-threshold", 1)]


@pytest.mark.integration
def test_parallel_jobs_get_one_thread_each_unless_the_user_says_otherwise(results_dir, monkeypatch):
    """--jobs 2 caps each job's thread pools at its system's declared CPUs (1), as Ray does; --jobs 1 leaves them,
    and a variable the user set wins."""
    from benchmarks.environment import THREAD_VARIABLES

    for name in THREAD_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    run(_request(results_dir, systems=["mock-threshold"], seeds=[0, 1], jobs=2))
    capped = [r.conditions["threads"] for r in records.load_records(results_dir)]
    assert len(capped) == 2 and all(t.get(name) == "1" for t in capped for name in THREAD_VARIABLES)
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    run(_request(results_dir / "user", systems=["mock-threshold"], seeds=[0, 1], jobs=2))
    chosen = [r.conditions["threads"] for r in records.load_records(results_dir / "user")]
    assert all(t["OMP_NUM_THREADS"] == "3" and t["MKL_NUM_THREADS"] == "1" for t in chosen)
    monkeypatch.delenv("OMP_NUM_THREADS")
    run(_request(results_dir / "serial", systems=["mock-threshold"], seeds=[0], jobs=1))
    (serial,) = [r.conditions["threads"] for r in records.load_records(results_dir / "serial")]
    assert "OMP_NUM_THREADS" not in serial


@pytest.mark.integration
def test_rerun_failed_runs_only_the_jobs_whose_latest_record_failed(results_dir):
    run(_request(results_dir, systems=["mock-fault"], seeds=[0, 1], overrides={"mode": "exit-on-seed"}))
    again = run(_request(results_dir, systems=["mock-fault"], seeds=[0, 1], overrides={"mode": "exit-on-seed"},
                         rerun_failed=True))
    assert [(o.seed, o.status) for o in again] == [(1, "failed")]


@pytest.mark.integration
def test_real_ctrl_c_keeps_finished_records(tmp_path):
    import signal
    import subprocess
    import sys

    results = tmp_path / "results"
    process = subprocess.Popen(
        [sys.executable, "-c", "import mock_plugins, sys; from benchmarks.cli import main; sys.exit(main())",
         "run", "--task", "mock-acc", "--system", "mock-threshold", "--system", "mock-fault", "--set", "mock-fault.mode=sleep",
         "--seed", "0", "--results-dir", str(results), "--quiet"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    done_dir = results / "records" / "mock-acc" / "mock-threshold"
    deadline = time.monotonic() + 120
    while not list(done_dir.glob("*.json")) and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.2)
    time.sleep(1.0)  # mock-fault is now sleeping
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert "interrupted: finished records are saved and the leaderboards are up to date" in err
    saved = records.load_records(results, "mock-acc")
    assert [r.system for r in saved] == ["mock-threshold"] and saved[0].status == "ok"
    assert "mock-threshold" in (results / "mock-acc.md").read_text()
    assert not list(results.rglob("*.tmp"))


@pytest.mark.integration
def test_forked_and_spawned_workers_give_the_same_result(results_dir):
    forked = run(_request(results_dir, systems=["mock-noisy"], start_method="fork"))[0]
    spawned = run(_request(results_dir, systems=["mock-noisy"], start_method="spawn"))[0]
    served = run(_request(results_dir, systems=["mock-noisy"], start_method="forkserver"))[0]
    assert forked.status == spawned.status == served.status == "ok"
    assert forked.metrics == spawned.metrics == served.metrics


def test_fork_is_avoided_once_a_fork_unsafe_library_is_loaded(monkeypatch):
    import sys
    import types

    from benchmarks.executors.local import FORK_UNSAFE_MODULES, choose_start_method

    for name in FORK_UNSAFE_MODULES:
        monkeypatch.delitem(sys.modules, name, raising=False)
    assert choose_start_method("auto") == "fork"
    monkeypatch.setitem(sys.modules, "polars", types.ModuleType("polars"))
    assert choose_start_method("auto") == "forkserver"
    assert choose_start_method("fork") == "fork"
    with pytest.raises(UserError, match="expected auto, fork, forkserver, spawn"):
        choose_start_method("thread")


def test_job_specs_are_frozen_typed_and_picklable():
    """A worker gets the task's Options and the system's Config as instances (spawned: pickled by reference)."""
    import dataclasses
    import pickle

    from benchmarks.api import Resources
    from benchmarks.config import plan

    (spec, *_) = plan(_request("unused")).jobs
    assert dataclasses.is_dataclass(spec.task_options) and isinstance(spec.config, spec.system_cls.Config)
    assert isinstance(spec.resources, Resources)
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.seed = 1  # type: ignore[misc]
    assert pickle.loads(pickle.dumps(spec)) == spec
    assert spec.key("1", "f" * 64) != spec.key("2", "f" * 64) != spec.key("1", "e" * 64)


@pytest.mark.integration
def test_with_several_slots_the_longest_known_jobs_start_first(results_dir):
    """Jobs never run before keep the front (grid order); the others follow by their earlier wall time, longest
    first; the key is task, system and profile (a record of another profile says nothing)."""
    from benchmarks.config import plan
    from benchmarks.runner import longest_first

    run(_request(results_dir, systems=["mock-threshold", "mock-majority"], seeds=[0]))
    for record in records.load_records(results_dir):
        seconds = {"mock-threshold": 10, "mock-majority": 100}[record.system]
        record.started_at, record.finished_at = "2026-01-01T00:00:00+00:00", f"2026-01-01T00:{seconds // 60:02d}:{seconds % 60:02d}+00:00"
        record.path.unlink()
        records.write_record(record.path, record)
    jobs = plan(_request(results_dir, systems=["mock-threshold", "mock-majority", "mock-fault"], seeds=[0, 1])).jobs
    order = [(spec.system, spec.seed) for spec in longest_first(jobs, results_dir)]
    assert order == [("mock-fault", 0), ("mock-fault", 1), ("mock-majority", 0), ("mock-majority", 1),
                     ("mock-threshold", 0), ("mock-threshold", 1)]
    other_profile = plan(_request(results_dir, systems=["mock-threshold", "mock-majority"], seeds=[0], profile="default")).jobs
    assert longest_first(other_profile, results_dir) == other_profile


class FreezeProbe(System):
    """Reports how many objects the garbage collector had set aside while it was fitted."""

    id = "test-freeze-probe"
    kind = "classifier"
    tasks = ("mock-*",)

    def fit(self, X, y):
        import gc

        self.frozen = gc.get_freeze_count()

    def predict(self, X):
        return np.zeros(len(X), dtype=int)

    def report(self):
        return {"frozen": self.frozen}


def test_the_harness_objects_are_out_of_the_collectors_way_during_a_job(results_dir):
    """run_job (every executor's, in-process here: a worker would not know this test's system) freezes what is
    alive before the system is built (Ray's workers did, local ones did not: micrograd-mlp fitted in 8.6 s under
    Ray and 14 s locally), and a process that runs several jobs gets it back."""
    import gc

    register_system(FreezeProbe)
    try:
        (outcome,) = run(_request(results_dir, systems=[FreezeProbe.id], isolate=False))
        (record,) = records.load_records(results_dir)
        assert outcome.status == "ok" and record.extras["frozen"] > 1000
        assert gc.get_freeze_count() == 0
    finally:
        SYSTEMS.remove(FreezeProbe.id)


@pytest.mark.integration
def test_a_worker_whose_driver_is_killed_ends_and_leaves_no_folder(tmp_path):
    """SIGKILL of the driver (nothing of it runs any more): its worker notices within seconds, removes its
    artifacts folder and ends its process group."""
    import os
    import subprocess
    import sys

    temp = tmp_path / "tmp"
    temp.mkdir()
    pid_file = tmp_path / "grandchild.pid"
    driver = subprocess.Popen(
        [sys.executable, "-c", "import mock_plugins, sys; from benchmarks.cli import main; sys.exit(main())",
         "run", "--task", "mock-acc", "--system", "mock-fault", "--set", "mock-fault.mode=grandchild",
         "--set", f"mock-fault.pid_file={pid_file}", "--seed", "0", "--results-dir", str(tmp_path / "results"), "--quiet"],
        env={**os.environ, "TMPDIR": str(temp)}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while not pid_file.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert list(temp.glob("mlsd-job-*")) and pid_file.exists()
    driver.kill()
    driver.wait()
    grandchild = int(pid_file.read_text())
    deadline = time.monotonic() + 20
    while (list(temp.glob("mlsd-job-*")) or _alive(grandchild)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not list(temp.glob("mlsd-job-*")) and not _alive(grandchild)


def _alive(pid: int) -> bool:
    import psutil

    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
