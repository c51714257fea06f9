"""Tests for expected scores and `check`: the declared smoke expectations pass, and a changed
expectation is graded OKish within its tolerance and FAIL beyond it."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from benchmarks import cli
from benchmarks.commands.check import _grade_outcome, check, declared
from benchmarks.expected import Expected, grade
from benchmarks.registry import get_system
from benchmarks.runner import RunRequest, run


def test_grade_by_hand() -> None:
    e = Expected(task="t", profile="smoke", metric="m", value=0.5, tolerance=0.01)
    assert grade(e, 0.5) == "OK"
    assert grade(e, 0.5 + 1e-12) == "OK"
    assert grade(e, 0.509) == "OKish"
    assert grade(e, 0.49) == "OKish"
    assert grade(e, 0.52) == "FAIL"
    assert grade(e, None) == "FAIL" and grade(e, float("nan")) == "FAIL"
    assert grade(dataclasses.replace(e, tolerance=0.0), 0.5001) == "FAIL"


def test_every_moons_system_declares_a_smoke_expectation() -> None:
    found = {system.id for system, e in declared(tasks=["moons-acc"], profiles=["smoke"])}
    assert found == {"logreg", "micrograd-mlp", "rbf-svm", "sklearn-mlp", "torch-mlp"}


@pytest.mark.integration
def test_declared_expectations_are_rerun_and_graded(tmp_path: Path) -> None:
    """check() reruns each declared condition through the runner and grades it (the real systems' smoke
    expectations are graded by tests/test_contract.py from its own runs)."""
    conditions = declared(tasks=["mock-acc"], profiles=["smoke"])
    assert [system.id for system, _ in conditions] == ["mock-threshold"]
    (result,) = check(conditions, tmp_path / "results")
    assert result.grade in ("OK", "OKish") and result.observed is not None, result.line()


@pytest.mark.integration
def test_changed_expectations_are_graded_okish_or_fail(tmp_path: Path) -> None:
    (outcome,) = run(RunRequest(task="mock-acc", systems=["mock-threshold"], seeds=[0], profile="smoke",
                                results_dir=tmp_path, progress=False, update_leaderboard=False))
    (_, declared_logreg), = declared(tasks=["mock-acc"], profiles=["smoke"], systems=["mock-threshold"])
    declared_logreg = dataclasses.replace(declared_logreg, value=outcome.metrics["accuracy"])
    assert _grade_outcome("mock-threshold", declared_logreg, outcome).grade == "OK"
    tolerance = declared_logreg.tolerance
    within = dataclasses.replace(declared_logreg, value=declared_logreg.value + tolerance / 2)
    beyond = dataclasses.replace(declared_logreg, value=declared_logreg.value + 2 * tolerance)
    assert _grade_outcome("mock-threshold", within, outcome).grade == "OKish"
    assert _grade_outcome("mock-threshold", beyond, outcome).grade == "FAIL"
    other_data = dataclasses.replace(declared_logreg, dataset_fingerprint="0" * 64)
    result = _grade_outcome("mock-threshold", other_data, outcome)
    assert result.grade == "FAIL" and "other data" in result.reason
    missing_metric = dataclasses.replace(declared_logreg, metric="nope")
    assert _grade_outcome("mock-threshold", missing_metric, outcome).grade == "FAIL"


@pytest.mark.integration
def test_check_command_exits_non_zero_on_fail(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    system_cls = get_system("mock-threshold")
    (good,) = system_cls.expected
    monkeypatch.setattr(system_cls, "expected", (dataclasses.replace(good, value=good.value + 3 * good.tolerance + 0.01),))
    assert cli.main(["check", "--system", "mock-threshold", "--profile", "smoke"]) == 1
    out = capsys.readouterr().out
    assert "[FAIL]" in out and "0 OK, 0 OKish, 1 FAIL" in out
    monkeypatch.setattr(system_cls, "expected", (good,))
    assert cli.main(["check", "--system", "mock-threshold", "--profile", "smoke", "--json"]) == 0
    assert '"grade": "OK' in capsys.readouterr().out


def test_a_condition_that_cannot_run_here_is_skipped_not_failed(monkeypatch: pytest.MonkeyPatch,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    system_cls = get_system("bm25s")
    if system_cls.missing_requirements():
        pytest.skip(system_cls.install_hint())
    # beir-ndcg10 needs --dataset PATH: without it the run cannot start here
    monkeypatch.setattr(system_cls, "expected", (Expected(task="beir-ndcg10", profile="smoke", metric="ndcg@10", value=0.5),))
    assert cli.main(["check", "--system", "bm25s", "--profile", "smoke"]) == 0
    out = capsys.readouterr().out
    assert "[SKIP]" in out and "--dataset PATH" in out and "1 SKIP" in out
    assert cli.main(["check", "--system", "bm25s", "--profile", "smoke", "--strict"]) == 1
