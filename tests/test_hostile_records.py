"""Hostile records and resources: records of a schema the code does not understand (newer, mistyped, missing,
truncated), writes that fail (a full disk, a file-size limit, a file where ``records/<task>`` should be) and a
driver killed with SIGKILL.

The rule checked for each: a one-line message naming the file, the job marked failed, the other jobs still run and
are recorded, no torn, empty or temporary file is left, nothing unreadable is ranked, and ``--resume`` finishes the
grid afterwards. Jobs run in real worker processes (the mock task of ``tests/mock_plugins.py``).
"""

from __future__ import annotations

import errno
import json
import os
import resource
import signal
import subprocess
import sys
import time
import uuid
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from benchmarks import leaderboard, records
from benchmarks.config import RunRequest
from benchmarks.records import SCHEMA_VERSION, Record, RecordError, load_records
from benchmarks.runner import STALE_SECONDS, run
from tests.conftest import squeeze

CLI = [sys.executable, "-c", "import mock_plugins, sys; from benchmarks.cli import main; sys.exit(main())"]


def _request(results: Path, **changes: Any) -> RunRequest:
    values: dict[str, Any] = dict(tasks=["mock-acc"], systems=["mock-threshold"], seeds=[0, 1, 2], profile="smoke",
                                  device="cpu", results_dir=results, progress=False)
    values.update(changes)
    return RunRequest(**values)


def _cli(args: list[str], **kwargs: Any) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", **kwargs.pop("env", {})}
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=180, env=env, **kwargs)


def _left_behind(results: Path) -> list[Path]:
    """Temp files, write checks and empty folders under ``results`` (the folder itself excluded)."""
    found = [p for p in results.rglob("*") if p.name.endswith(".tmp") or p.name.startswith(".write-check-")]
    found += [p for p in results.rglob("*") if p.is_dir() and not any(p.iterdir())]
    found += [p for p in results.rglob("*.json") if p.stat().st_size == 0]
    return found


def _valid_records(results: Path) -> list[Record]:
    """Every JSON file under records/ parses as a record (nothing torn), returned by seed."""
    files = sorted(results.glob("records/**/*.json"))
    return sorted((Record.from_dict(json.loads(path.read_text()), path) for path in files), key=lambda r: (r.system, r.seed))


# --- schema versions --------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def one_record(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A real record (mock-threshold, seed 0) as its JSON object."""
    results = tmp_path_factory.mktemp("one") / "results"
    (outcome,) = run(_request(results, seeds=[0], isolate=False, update_leaderboard=False))
    return json.loads(outcome.record_path.read_text())


@dataclass(frozen=True)
class Foreign:
    name: str
    change: dict[str, Any]
    message: str


FOREIGN_SCHEMAS = [
    Foreign("schema 99", {"schema_version": 99}, "schema_version 99 is newer than this harness reads (2)"),
    Foreign("the next schema", {"schema_version": SCHEMA_VERSION + 1}, f"schema_version {SCHEMA_VERSION + 1} is newer"),
    Foreign("a version as a string", {"schema_version": "2"}, "field 'schema_version' is '2', expected a positive integer"),
    Foreign("a version as a float", {"schema_version": 2.0}, "field 'schema_version' is 2.0"),
    Foreign("a version as a bool", {"schema_version": True}, "field 'schema_version' is True"),
    Foreign("a version of 0", {"schema_version": 0}, "field 'schema_version' is 0"),
    Foreign("a negative version", {"schema_version": -1}, "field 'schema_version' is -1"),
    Foreign("a null version", {"schema_version": None}, "field 'schema_version' is None"),
    Foreign("no version at all", {"schema_version": ...}, "no 'schema_version' field"),
    Foreign("a huge version", {"schema_version": 10**30}, "is newer than this harness reads"),
]


def _foreign(data: dict[str, Any], change: dict[str, Any]) -> dict[str, Any]:
    changed = {**data, **change}
    return {k: v for k, v in changed.items() if v is not ...}


@pytest.mark.parametrize("case", FOREIGN_SCHEMAS, ids=[c.name for c in FOREIGN_SCHEMAS])
def test_a_record_of_a_schema_the_code_does_not_know_is_refused(case: Foreign, one_record: dict[str, Any]) -> None:
    assert Record.from_dict(one_record).schema_version == SCHEMA_VERSION  # the same record, unchanged, loads
    with pytest.raises(RecordError) as raised:
        Record.from_dict(_foreign(one_record, case.change))
    assert case.message in str(raised.value) and "\n" not in str(raised.value)


def test_records_of_the_first_schema_still_load(one_record: dict[str, Any]) -> None:
    old = {k: v for k, v in one_record.items() if k != "schema_version"}
    old["record_format"] = 1
    assert Record.from_dict(old).schema_version == SCHEMA_VERSION


def _plant(results: Path, data: dict[str, Any], system: str, text: str | None = None) -> Path:
    """A record file of ``system`` (its run id ``planted``): ``data`` as JSON, or ``text`` as it is."""
    path = records.record_path(results, "mock-acc", system, "planted", int(data.get("seed", 0)))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text if text is not None else json.dumps({**data, "system": system, "run_id": "planted"}))
    return path


UNREADABLE = [
    *[(case.name, case.change, None) for case in FOREIGN_SCHEMAS],
    ("truncated JSON", {}, lambda text: text[: len(text) // 2]),
    ("an empty file", {}, lambda text: ""),
    ("a JSON list", {}, lambda text: "[1, 2]"),
    ("not UTF-8", {}, lambda text: "\udcff"),
]


@pytest.fixture()
def board(tmp_path: Path, one_record: dict[str, Any]) -> Path:
    """A results folder with one real ok record of mock-threshold."""
    results = tmp_path / "results"
    _plant(results, one_record, "mock-threshold")
    return results


@pytest.mark.parametrize("name,change,text", UNREADABLE, ids=[u[0] for u in UNREADABLE])
def test_an_unreadable_record_is_skipped_by_every_reader_with_a_warning_naming_it(
        name: str, change: dict[str, Any], text: Any, board: Path, one_record: dict[str, Any]) -> None:
    """Leaderboard, compare, site and --resume read records through ``iter_records``: the file is skipped with a
    warning that names it, and never ranked (a better score in it must not lead)."""
    data = _foreign({**one_record, "metrics": {**one_record["metrics"], "accuracy": 1.0}}, change)
    body = json.dumps({**data, "system": "mock-future", "run_id": "planted"})
    if text is not None:
        body = text(body)
    planted = records.record_path(board, "mock-acc", "mock-future", "planted", 0)
    planted.parent.mkdir(parents=True)
    planted.write_bytes(body.encode("utf-8", errors="surrogateescape"))
    before = planted.read_bytes()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        loaded = load_records(board, "mock-acc")
        written = leaderboard.write(board, ["mock-acc"])
    assert [r.system for r in loaded] == ["mock-threshold"]
    messages = [str(w.message) for w in caught if str(planted) in str(w.message)]
    assert messages and all(m.startswith(f"skipping unreadable record {planted}: ") for m in messages), messages
    page = squeeze((board / "mock-acc.md").read_text())
    assert board / "mock-acc.md" in written and "mock-future" not in page and "| 1 | mock-threshold |" in page
    assert planted.read_bytes() == before  # left as it is, for a newer harness or the user


@pytest.mark.integration
def test_the_commands_skip_a_newer_record_with_one_line_naming_it(board: Path, one_record: dict[str, Any]) -> None:
    future = _plant(board, {**one_record, "schema_version": 99, "metrics": {"accuracy": 1.0}}, "mock-noisy")
    before = future.read_bytes()
    shown = _cli(["leaderboard", "--task", "mock-acc", "--results-dir", str(board)])
    assert shown.returncode == 0, shown.stderr
    lines = [line for line in shown.stderr.splitlines() if str(future) in line]
    assert lines == [f"warning: skipping unreadable record {future}: schema_version 99 is newer than this harness reads "
                     f"({SCHEMA_VERSION}); upgrade MLSD Bench to use this record"], shown.stderr
    assert "Traceback" not in shown.stderr and "mock-noisy" not in (board / "mock-acc.md").read_text()

    compared = _cli(["compare", "--task", "mock-acc", "mock-threshold", "mock-noisy", "--results-dir", str(board)])
    assert compared.returncode == 2, compared.stderr
    assert f"warning: skipping unreadable record {future}" in compared.stderr and "Traceback" not in compared.stderr

    # --resume does not count it as done: the job runs again, beside it (the newer file is kept as it is)
    resumed = _cli(["run", "--task", "mock-acc", "--system", "mock-noisy", "--seed", "0", "--profile", "smoke",
                    "--results-dir", str(board), "--resume", "--quiet"])
    assert resumed.returncode == 0, resumed.stderr
    assert f"warning: skipping unreadable record {future}" in resumed.stderr
    assert "1 to run" in resumed.stderr and future.read_bytes() == before
    with pytest.warns(UserWarning, match="schema_version 99 is newer"):
        assert sorted(r.system for r in load_records(board, "mock-acc")) == ["mock-noisy", "mock-threshold"]


# --- writes that fail -------------------------------------------------------------------------------------------------


def _failing_writes(monkeypatch: pytest.MonkeyPatch, code: int, matches: Any, where: str = "write") -> list[str]:
    """Make the driver's atomic writes of files whose name ``matches`` fail with ``OSError(code)``: at the start of
    the write (``write``), or after part of the temp file is written (``fsync``: a torn temp file to clean up).
    Returns the names that failed."""
    failed: list[str] = []
    real_write, real_fsync = records.atomic_write_bytes, os.fsync
    current: dict[str, str] = {}

    def write(path: Path, data: bytes, overwrite: bool = True) -> None:
        current["name"] = Path(path).name
        if where == "write" and matches(Path(path).name):
            failed.append(Path(path).name)
            raise OSError(code, os.strerror(code))
        real_write(path, data, overwrite)

    def fsync(fd: int) -> None:
        if matches(current.get("name", "")):
            failed.append(current["name"])
            raise OSError(code, os.strerror(code))
        real_fsync(fd)

    monkeypatch.setattr(records, "atomic_write_bytes", write)
    if where == "fsync":
        monkeypatch.setattr(records.os, "fsync", fsync)
    return failed


@dataclass(frozen=True)
class WriteFault:
    name: str
    code: int
    matches: Any
    where: str = "write"
    failed_record: bool = False
    """A small failed record could still be written in place of the lost one."""


WRITE_FAULTS = [
    WriteFault("disk full for one job (ENOSPC)", errno.ENOSPC, lambda name: "seed1" in name),
    WriteFault("disk full mid-write: a torn temp file (ENOSPC)", errno.ENOSPC, lambda name: "seed1" in name, "fsync"),
    WriteFault("file too large for the record only (EFBIG)", errno.EFBIG,
               lambda name: "seed1" in name and name.endswith(".json") and "failed" not in name, failed_record=True),
    WriteFault("file too large for an artifact (EFBIG)", errno.EFBIG, lambda name: name.endswith("seed1.predictions.txt"),
               failed_record=True),
    WriteFault("read-only folder (EROFS)", errno.EROFS, lambda name: "seed1" in name),
    WriteFault("quota exceeded (EDQUOT)", errno.EDQUOT, lambda name: "seed1" in name),
]


@pytest.mark.integration
@pytest.mark.parametrize("fault", WRITE_FAULTS, ids=[f.name for f in WRITE_FAULTS])
def test_a_write_that_fails_fails_its_job_only_and_resume_finishes(fault: WriteFault, tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch,
                                                                    capsys: pytest.CaptureFixture) -> None:
    results = tmp_path / "results"
    request = _request(results, overrides={"task.save_submission": True})
    once = {"done": False}

    def matches(name: str) -> bool:  # the fallback (a small failed record) may be written, when the fault allows
        if fault.failed_record and once["done"]:
            return False
        hit = fault.matches(name)
        once["done"] |= hit
        return hit

    failed = _failing_writes(monkeypatch, fault.code, matches, fault.where)
    outcomes = run(request)
    monkeypatch.undo()
    assert failed, "the fault was not injected"
    by_seed = {o.seed: o for o in outcomes}
    assert sorted(by_seed) == [0, 1, 2]  # the jobs after the failed one ran
    assert by_seed[0].status == by_seed[2].status == "ok"
    lost = by_seed[1]
    assert lost.status == "failed" and not lost.recorded
    assert f"({errno.errorcode[fault.code]})" in lost.error and os.strerror(fault.code) in lost.error
    assert str(lost.record_path) in lost.error and "--resume" in lost.error and "\n" not in lost.error
    err = capsys.readouterr().err
    assert f"mock-acc · mock-threshold seed 1: FAILED: {lost.error}" in err and "Traceback" not in err
    on_disk = _valid_records(results)  # every file parses: nothing torn
    assert [(r.seed, r.status) for r in on_disk] == ([(0, "ok"), (1, "failed"), (2, "ok")] if fault.failed_record
                                                     else [(0, "ok"), (2, "ok")])
    artifacts = sorted(p.name for p in results.glob("records/mock-acc/mock-threshold/*.txt"))
    assert [name[-len("seedK.predictions.txt"):] for name in artifacts] == ["seed0.predictions.txt", "seed2.predictions.txt"]
    assert _left_behind(results) == []
    assert "| 1 | mock-threshold |" in squeeze((results / "mock-acc.md").read_text())

    resumed = run(_request(results, overrides={"task.save_submission": True}, resume=True))
    assert [(o.seed, o.status) for o in resumed] == [(1, "ok")]  # only the lost job runs again
    assert sorted(r.seed for r in _valid_records(results) if r.ok) == [0, 1, 2]
    assert _left_behind(results) == []


@pytest.mark.integration
def test_records_task_being_a_file_fails_its_jobs_and_not_the_others(tmp_path: Path) -> None:
    results = tmp_path / "results"
    (results / "records").mkdir(parents=True)
    blocker = results / "records" / "mock-acc"
    blocker.write_text("not a folder\n")
    ran = _cli(["run", "--task", "mock-acc", "--system", "mock-threshold", "--seed", "0", "--seed", "1", "--profile",
                "smoke", "--results-dir", str(results), "--quiet"])
    assert ran.returncode == 1, ran.stderr
    assert "Traceback" not in ran.stderr
    failures = [line for line in ran.stderr.splitlines() if ": FAILED: " in line]
    assert len(failures) == 2, ran.stderr
    for line in failures:
        assert "Not a directory (ENOTDIR)" in line and f"{blocker} is a file where a folder is expected" in line
    assert "2 job(s) could not be recorded" in ran.stderr
    assert blocker.read_text() == "not a folder\n"
    blocker.unlink()
    resumed = _cli(["run", "--task", "mock-acc", "--system", "mock-threshold", "--seed", "0", "--seed", "1", "--profile",
                    "smoke", "--results-dir", str(results), "--quiet", "--resume"])
    assert resumed.returncode == 0, resumed.stderr
    assert [(r.seed, r.status) for r in _valid_records(results)] == [(0, "ok"), (1, "ok")]


def _limit_file_size(limit: int) -> Any:
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


@pytest.mark.integration
def test_a_real_file_size_limit_fails_the_big_record_only(tmp_path: Path) -> None:
    """``ulimit -f``: the driver gets EFBIG (SIGXFSZ would kill it): the 1 MB record fails, in one line, a small
    failed record takes its place, the other job is recorded, and --resume without the limit finishes the grid."""
    results = tmp_path / "results"
    args = ["run", "--task", "mock-acc", "--system", "mock-threshold", "--system", "mock-fault", "--seed", "0",
            "--profile", "smoke", "--set", "mock-fault.mode=big-report", "--set", "mock-fault.megabytes=1",
            "--results-dir", str(results), "--quiet"]
    limited = _cli(args, preexec_fn=_limit_file_size(256 * 1024))
    assert limited.returncode == 1, limited.stderr
    assert "Traceback" not in limited.stderr
    (failure,) = [line for line in limited.stderr.splitlines() if ": FAILED: " in line]
    assert failure.startswith("[2/2] mock-acc · mock-fault seed 0: FAILED: could not write the record ")
    assert "File too large (EFBIG)" in failure and "ulimit -f" in failure
    saved = {r.system: r for r in _valid_records(results)}
    assert saved["mock-threshold"].ok and saved["mock-fault"].status == "failed"
    assert "File too large (EFBIG)" in saved["mock-fault"].error
    assert _left_behind(results) == []
    resumed = _cli([*args, "--resume"])
    assert resumed.returncode == 0, resumed.stderr
    saved = [r for r in _valid_records(results) if r.system == "mock-fault"]
    assert sorted(r.status for r in saved) == ["failed", "ok"]
    assert len(next(r for r in saved if r.ok).extras["padding"]) == 2**20


# --- a driver killed with SIGKILL -------------------------------------------------------------------------------------


@pytest.mark.integration
@pytest.mark.parametrize("when", ["before any record", "after one record"])
def test_after_sigkill_of_the_driver_no_empty_folder_is_left_and_resume_finishes(when: str, tmp_path: Path) -> None:
    from tests.test_faults import _marked_processes

    results, tmp, mark = tmp_path / "results", tmp_path / "tmp", uuid.uuid4().hex
    tmp.mkdir()
    systems = ["--system", "mock-fault"] if when == "before any record" else ["--system", "mock-threshold", "--system", "mock-fault"]
    args = ["run", "--task", "mock-acc", *systems, "--seed", "0", "--profile", "smoke", "--results-dir", str(results),
            "--quiet", "--set", "mock-fault.mode=sleep", "--set", "mock-fault.seconds=2"]
    env = {**os.environ, "MLSD_FAULT_MARK": mark, "TMPDIR": str(tmp)}
    driver = subprocess.Popen([*CLI, *args, "--set", "mock-fault.seconds=120"], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, env=env)
    deadline = time.monotonic() + 120
    job_folders: list[Path] = []
    while time.monotonic() < deadline and driver.poll() is None:
        job_folders = list(tmp.glob("mlsd-job-*"))
        done = list(results.glob("records/mock-acc/mock-threshold/*.json"))
        if job_folders and (when == "before any record" or done):
            break
        time.sleep(0.1)
    time.sleep(0.5)  # mock-fault is sleeping in its worker
    driver.send_signal(signal.SIGKILL)
    driver.communicate(timeout=30)
    for _ in range(100):  # its worker sees it gone within a second, and ends the job
        if not _marked_processes(mark) and not list(tmp.glob("mlsd-job-*")):
            break
        time.sleep(0.1)
    assert job_folders, "the job never started"
    assert not _marked_processes(mark), "a worker outlived its driver"
    assert not list(tmp.glob("mlsd-job-*"))
    assert _left_behind(results) == []
    assert [r.system for r in _valid_records(results)] == ([] if when == "before any record" else ["mock-threshold"])

    resumed = _cli([*args, "--resume"], env={"TMPDIR": str(tmp)})
    assert resumed.returncode == 0, resumed.stderr
    assert [(r.system, r.status) for r in _valid_records(results)] == (
        [("mock-fault", "ok")] if when == "before any record" else [("mock-fault", "ok"), ("mock-threshold", "ok")])
    assert _left_behind(results) == [] and not list(tmp.glob("mlsd-job-*"))


def test_a_run_removes_the_leftovers_of_a_killed_run_and_nothing_younger(tmp_path: Path) -> None:
    """What a driver killed mid-write leaves (a temp file, an empty system folder) is removed when the next run
    starts, once older than a live writer's; a concurrent run's fresh temp file is left alone."""
    results = tmp_path / "results"
    folder = results / "records" / "mock-acc"
    (folder / "ghost").mkdir(parents=True)
    (folder / "half").mkdir()
    torn = folder / "half" / ".20260101T000000Z-abc__seed0.json.x1y2.tmp"
    torn.write_text('{"task": "mock-ac')
    fresh = folder / ".live.json.a1.tmp"
    fresh.write_text("{")
    old = time.time() - STALE_SECONDS - 5
    for path in (torn, folder / "half", folder / "ghost"):
        os.utime(path, (old, old))
    outcomes = run(_request(results, seeds=[0], isolate=False, resume=True, update_leaderboard=False))
    assert [o.status for o in outcomes] == ["ok"]
    assert not torn.exists() and not (folder / "half").exists() and not (folder / "ghost").exists()
    assert fresh.exists()  # younger than STALE_SECONDS: maybe another run's write in progress
