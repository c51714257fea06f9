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


def test_declared_smoke_expectations_pass(tmp_path: Path) -> None:
    """What CI relies on: every declared smoke-profile expectation reruns OK or OKish."""
    conditions = declared(profiles=["smoke"])
    assert conditions
    results = check(conditions, tmp_path / "results")
    failed = [r.line() for r in results if r.grade == "FAIL"]
    assert not failed, "\n".join(failed)
    assert all(r.observed is not None for r in results)


def test_changed_expectations_are_graded_okish_or_fail(tmp_path: Path) -> None:
    (outcome,) = run(RunRequest(task="moons-acc", systems=["logreg"], seeds=[0], profile="smoke",
                                results_dir=tmp_path, progress=False, update_leaderboard=False))
    (_, declared_logreg), = declared(tasks=["moons-acc"], profiles=["smoke"], systems=["logreg"])
    assert _grade_outcome("logreg", declared_logreg, outcome).grade == "OK"
    tolerance = declared_logreg.tolerance
    within = dataclasses.replace(declared_logreg, value=declared_logreg.value + tolerance / 2)
    beyond = dataclasses.replace(declared_logreg, value=declared_logreg.value + 2 * tolerance)
    assert _grade_outcome("logreg", within, outcome).grade == "OKish"
    assert _grade_outcome("logreg", beyond, outcome).grade == "FAIL"
    other_data = dataclasses.replace(declared_logreg, dataset_fingerprint="0" * 64)
    result = _grade_outcome("logreg", other_data, outcome)
    assert result.grade == "FAIL" and "other data" in result.reason
    missing_metric = dataclasses.replace(declared_logreg, metric="nope")
    assert _grade_outcome("logreg", missing_metric, outcome).grade == "FAIL"


def test_check_command_exits_non_zero_on_fail(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    system_cls = get_system("logreg")
    (good,) = system_cls.expected
    monkeypatch.setattr(system_cls, "expected", (dataclasses.replace(good, value=good.value + 3 * good.tolerance + 0.01),))
    assert cli.main(["check", "--system", "logreg", "--profile", "smoke"]) == 1
    out = capsys.readouterr().out
    assert "[FAIL]" in out and "0 OK, 0 OKish, 1 FAIL" in out
    monkeypatch.setattr(system_cls, "expected", (good,))
    assert cli.main(["check", "--system", "logreg", "--profile", "smoke", "--json"]) == 0
    assert '"grade": "OK"' in capsys.readouterr().out
