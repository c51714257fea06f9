"""Hostile command lines (issue 21, class 3): ``--set`` values that are not finite, bare keys, out-of-range seeds,
timeouts, jobs and retries, unknown names in every command, results folders that are files or missing. Each is
refused in one ``error:`` line (exit 2, no traceback) before anything is created, or accepted as documented.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.cli import build_parser, main
from benchmarks.config import RunRequest, plan
from benchmarks.errors import UserError
from benchmarks.runner import run
from tests.conftest import REPO


def _tree(root: Path) -> dict[str, str]:
    found: dict[str, str] = {}
    for path in sorted(root.rglob("*")):
        key = str(path.relative_to(root))
        found[key] = (hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() and not path.is_symlink()
                      else "dir" if path.is_dir() else "other")
    return found


@pytest.fixture()
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty working folder: the default ``results/`` would appear here."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _refused(here: Path, capsys: pytest.CaptureFixture, argv: list[str], pattern: str) -> str:
    """``argv`` exits 2 with one error line matching ``pattern``; the working folder is unchanged."""
    before = _tree(here)
    code = main(argv)
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2, (argv, err)
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in err, (argv, err)
    assert re.search(pattern, lines[0]), (argv, lines[0])
    assert _tree(here) == before, argv  # nothing created: no results/, no records/
    return lines[0]


# --- --set --------------------------------------------------------------------------------------------------------

NOT_FINITE = ["C=1e309", "C=-1e309", "C=nan", "C=NaN", "C=-nan", "C=inf", "C=-inf", "C=+inf", "C=Infinity",
              "C=INF", "C=(1e309,)", "C=[1, 1e400]", "C={'a': 1e999}", "C=1e309j", "C= 1e309 ", "C=1_0e308"]


@pytest.mark.parametrize("command", ["run", "data-stats"])
def test_set_refuses_values_that_are_not_finite(here: Path, capsys: pytest.CaptureFixture, command: str) -> None:
    for assignment in NOT_FINITE:
        argv = (["run", "--task", "moons-acc", "--system", "logreg", "--profile", "smoke", "--set", assignment]
                if command == "run" else ["data-stats", "--task", "otto-recall20", "--set", assignment.replace("C=", "scale=")])
        line = _refused(here, capsys, argv, r"not a finite number")
        assert "--set" in line


@pytest.mark.parametrize("assignment, pattern", [
    ("C=" + "9" * 400, r"option 'C': expected float"),  # an int no float holds
    ("steps=1e309", r"not a finite number"),
    ("micrograd-mlp.steps=1.5", r"option 'steps': expected int"),
    ("C=true", r"option 'C': expected float"),
    ("learning_rat=0.01", r"did you mean learning_rate"),
    ("lr=0.01", r"has an option 'lr'"),
    ("logreg2.C=1", r"unknown system in --set 'logreg2.C'.*did you mean 'logreg'"),
    ("../x=1", r"unknown system|has an option"),
    ("=1", r"expected key=value"),
    ("C", r"expected key=value"),
    ("task.nosuch=1", r"has no option 'nosuch'"),
])
def test_set_refuses_bad_keys_and_values(here: Path, capsys: pytest.CaptureFixture, assignment: str, pattern: str) -> None:
    _refused(here, capsys, ["run", "--task", "moons-acc", "--profile", "smoke", "--set", assignment], pattern)


def test_a_bare_key_goes_to_every_selected_system_that_has_the_field() -> None:
    grid = plan(RunRequest(task="moons-acc", profile="smoke", seeds=[0], overrides={"learning_rate": 0.01, "C": 2}))
    configs = {job.system: job for job in grid.jobs}
    having = {s for s, job in configs.items() if hasattr(job.config, "learning_rate")}
    assert {"micrograd-mlp", "sklearn-mlp", "torch-mlp"} <= having and "logreg" not in having
    for system, job in configs.items():
        assert getattr(job.config, "learning_rate", None) == (0.01 if system in having else None)
        assert ("learning_rate" in job.config_overrides) == (system in having)
        assert getattr(job.config, "C", None) == (2.0 if system in ("logreg", "rbf-svm") else None)
    with pytest.raises(UserError, match=r"--set 'learning_rate': neither task 'moons-acc' nor a selected system \(logreg\)"):
        plan(RunRequest(task="moons-acc", systems=["logreg"], profile="smoke", overrides={"learning_rate": 0.01}))
    # a task option wins over a system field of the same name; SYSTEM.KEY still targets one
    grid = plan(RunRequest(task="moons-acc", systems=["torch-mlp", "micrograd-mlp"], profile="smoke", seeds=[0],
                           overrides={"learning_rate": 0.5, "torch-mlp.learning_rate": 0.25}))
    assert {job.system: job.config.learning_rate for job in grid.jobs} == {"torch-mlp": 0.25, "micrograd-mlp": 0.5}


# --- numbers ------------------------------------------------------------------------------------------------------

BAD_NUMBERS = {
    "--seed": ["-1", "4294967296", "18446744073709551616", "abc", "1.5", "1e3", "", " ", "0x10", "nan", "٣", "1_0", "３"],
    "--timeout": ["0", "-0", "-1", "nan", "inf", "-inf", "1e309", "abc", "", "0x1p-3000", "١٠", "1_0"],
    "--jobs": ["0", "-1", "1.5", "abc", "", "1e3", "1000001", "99999999999999999999", "nan", "٢"],
    "--retries": ["-1", "abc", "1.5", "", "1e3"],
}


@pytest.mark.parametrize("option", list(BAD_NUMBERS))
def test_numbers_out_of_range_are_refused_before_anything_exists(here: Path, capsys: pytest.CaptureFixture, option: str) -> None:
    for value in BAD_NUMBERS[option]:
        line = _refused(here, capsys, ["run", "--task", "mock-acc", "--profile", "smoke", f"{option}={value}"],
                        rf"argument {option}: expected")
        assert repr(value) in line or value == "", line


@pytest.mark.parametrize("field, value, pattern", [
    ("jobs", 0, r"--jobs 0: expected an integer from 1"), ("jobs", True, r"--jobs True"), ("jobs", 2.0, r"--jobs 2.0"),
    ("retries", -1, r"--retries -1"), ("timeout", float("nan"), r"--timeout nan"), ("timeout", 0, r"--timeout 0"),
    ("timeout", float("inf"), r"--timeout inf"), ("seeds", [2**32], r"--seed 4294967296"), ("seeds", [-1], r"--seed -1"),
    ("profile", "smok", r"unknown --profile 'smok'; did you mean 'smoke'"), ("executor", "rey", r"did you mean 'ray'"),
    ("results_dir", Path("a\x00b"), r"NUL"), ("tasks", ["../x"], r"not an id"), ("systems", ["A"], r"not an id"),
])
def test_a_script_request_is_checked_the_same_way(tmp_path: Path, field: str, value: object, pattern: str) -> None:
    request = RunRequest(task="mock-acc", profile="smoke", results_dir=tmp_path / "results", progress=False)
    setattr(request, field, value)
    with pytest.raises(UserError, match=pattern):
        run(request)
    assert list(tmp_path.iterdir()) == []  # today a bad --jobs created records/ first


def test_numbers_at_their_limits_are_accepted() -> None:
    parser = build_parser()
    args = parser.parse_args(["run", "--task", "mock-acc", "--seed", "0", "--seed", "4294967295", "--timeout", "0.5",
                              "--jobs", "1", "--retries", "0"])
    assert args.seed == [0, 4294967295] and args.timeout == 0.5 and args.jobs == 1 and args.retries == 0
    grid = plan(RunRequest(task="mock-acc", systems=["mock-majority"], seeds=args.seed, profile="smoke",
                           timeout=args.timeout, jobs=args.jobs, retries=args.retries))
    assert [job.seed for job in grid.jobs] == [0, 4294967295]


# --- unknown names: "did you mean" everywhere ----------------------------------------------------------------------

DID_YOU_MEAN = [
    (["run", "--task", "mons-acc"], "moons-acc"),
    (["run", "--task", "moons-acc", "--system", "logre"], "logreg"),
    (["run", "--task", "moons-acc", "--profile", "smok"], "smoke"),
    (["compare", "--task", "mons-acc", "a", "b"], "moons-acc"),
    (["compare", "--task", "mock-acc", "mock-majorty", "mock-threshold"], "mock-majority"),
    (["check", "--task", "mons-acc"], "moons-acc"),
    (["check", "--system", "logre"], "logreg"),
    (["check", "--profile", "smok"], "smoke"),
    (["leaderboard", "--task", "mons-acc"], "moons-acc"),
    (["site", "--task", "mons-acc"], "moons-acc"),
    (["data-stats", "--task", "oto-recall20"], "otto-recall20"),
    (["data-stats", "--task", "hm-map"], "hm-map12"),
    (["score", "--task", "mons-acc", "--predictions", "p", "--truth", "t"], "moons-acc"),
    (["run", "--task", "shakespeare-char-spedrun"], "shakespeare-char-speedrun"),
]


@pytest.mark.parametrize("argv, suggestion", [
    pytest.param(*case, marks=pytest.mark.integration) if case[0][:3] == ["compare", "--task", "mock-acc"] else case
    for case in DID_YOU_MEAN], ids=[" ".join(a[:3]) for a, _ in DID_YOU_MEAN])
def test_every_command_says_did_you_mean(here: Path, capsys: pytest.CaptureFixture, argv: list[str], suggestion: str) -> None:
    if argv[0] == "compare" and argv[2] == "mock-acc":  # a system unknown among the task's records
        assert main(["run", "--task", "mock-acc", "--system", "mock-majority", "--system", "mock-threshold", "--seed", "0",
                     "--profile", "smoke", "--no-isolation", "--quiet"]) == 0
        capsys.readouterr()
    _refused(here, capsys, argv, rf"unknown .*did you mean '{re.escape(suggestion)}'")


# --- the results folder -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("argv", [
    ["run", "--task", "mock-acc", "--profile", "smoke"], ["leaderboard"], ["site"], ["check", "--task", "mock-acc"],
    ["compare", "--task", "mock-acc", "a", "b"],
])
def test_a_results_dir_that_is_a_file_is_refused(here: Path, capsys: pytest.CaptureFixture, argv: list[str]) -> None:
    (here / "results.txt").write_text("not a folder\n")
    (here / "loop").symlink_to(here / "loop")
    _refused(here, capsys, [*argv, "--results-dir", "results.txt"], r"is a file, expected a folder")
    for bad, pattern in (("", "empty"), ("a\x00b", "NUL"), ("x" * 300, "too long"), ("loop/x", "symbolic links"),
                         ("results.txt/sub", "Not a directory|cannot create")):
        _refused(here, capsys, [*argv, "--results-dir", bad], pattern)
    assert (here / "results.txt").read_text() == "not a folder\n"


@pytest.mark.parametrize("argv", [
    pytest.param(["run", "--task", "mock-acc", "--system", "mock-majority", "--seed", "0", "--profile", "smoke",
                  "--no-isolation", "--quiet"], marks=pytest.mark.integration),
    ["leaderboard"], ["site"],
])
def test_a_missing_results_dir_is_created_saying_so(here: Path, capsys: pytest.CaptureFixture, argv: list[str]) -> None:
    target = here / "new" / "deeper"
    assert main([*argv, "--results-dir", str(target)]) == 0
    err = capsys.readouterr().err
    assert f"created --results-dir {target}" in err and target.is_dir()
    assert (target / "README.md").exists() or (target / "site" / "index.html").exists()


# --- one line, never a traceback ----------------------------------------------------------------------------------


@pytest.mark.parametrize("argv, pattern", [
    (["nosuch"], r"invalid choice: 'nosuch'"), (["run"], r"required: --task"), (["run", "--task", "x", "--bogus"], r"unrecognized"),
    (["run", "--task", "moons-acc", "--executor", "rey"], r"invalid choice"), (["compare", "--task", "moons-acc"], r"at least two systems"),
    (["score", "--task", "moons-acc"], r"required"), (["run", "--task", "moons-acc", "--data-dir", "a\x00b"], r"NUL"),
])
def test_argument_errors_are_one_line(here: Path, capsys: pytest.CaptureFixture, argv: list[str], pattern: str) -> None:
    _refused(here, capsys, argv, pattern)


@pytest.mark.integration
@pytest.mark.parametrize("argv", [
    ["run", "--task", "moons-acc", "--jobs", "0"], ["run", "--task", "moons-acc", "--set", "C=1e309"],
    ["run", "--task", "moons-acc", "--seed", "-1"], ["run", "--task", "moons-acc", "--timeout", "nan"],
    ["nosuch"], ["data-stats", "--task", "moons-acc"], ["run", "--task", "mons-acc"],
])
def test_the_real_command_line_gives_one_line_and_creates_nothing(tmp_path: Path, argv: list[str]) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, "-m", "benchmarks", *argv], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=120)
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert done.returncode == 2 and len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    assert "Traceback" not in done.stderr and list(tmp_path.iterdir()) == []
