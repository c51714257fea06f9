"""Faults injected through real plugin systems (tests/mock_plugins.py's ``mock-fault``) in real worker processes,
run through the command line as a user runs it. After every case: every finished record is present and valid,
the failure is recorded with its cause, no worker or grandchild is left, no temp file remains, and the
leaderboard lists every ok system.

The cases are data (``CASES``), so ``perf/robustness.py`` can count them for results/perf/robustness.md.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from benchmarks.records import load_records
from tests.conftest import squeeze

pytestmark = pytest.mark.integration

CLI = [sys.executable, "-c", "import mock_plugins, sys; from benchmarks.cli import main; sys.exit(main())"]


@dataclass(frozen=True)
class Fault:
    """One injected fault: mock-fault's settings, how the run is disturbed, and what must be recorded."""

    name: str
    settings: tuple[str, ...] = ()
    cause: str = ""
    """Text the failed record's error must contain ("" when the faulty job must succeed)."""
    timeout: float | None = None
    signals: tuple[int, ...] = ()
    """Signals sent to the CLI once the ok job's record exists (the faulty job is then running)."""
    extra: dict = field(default_factory=dict)


CASES = [
    Fault("exception in fit", ("mode=raise",), cause="RuntimeError: boom in fit"),
    Fault("os._exit in the worker", ("mode=exit",), cause="exit code 3"),
    Fault("SIGKILL of the worker", ("mode=sigkill",), cause="killed by SIGKILL"),
    Fault("out of memory under the declared limit", ("mode=memory", "megabytes=700", "seconds=3"), cause="out of memory"),
    Fault("timeout with a grandchild", ("mode=grandchild", "seconds=120"), cause="timeout", timeout=4),
    Fault("report() returns numpy, a path, a set and an object", ("mode=bad-report",)),
    Fault("Ctrl-C twice", ("mode=sleep", "seconds=120"), signals=(signal.SIGINT, signal.SIGINT)),
    Fault("SIGTERM", ("mode=sleep", "seconds=120"), signals=(signal.SIGTERM,)),
]


def _marked_processes(mark: str) -> list[int]:
    """Processes (not zombies) whose environment carries ``mark``: the CLI, its workers and their children."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if mark.encode() in (entry / "environ").read_bytes() and (entry / "stat").read_text().split()[2] != "Z":
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def _launch(results: Path, tmp: Path, mark: str, fault: Fault) -> subprocess.Popen:
    settings = [a for s in fault.settings for a in ("--set", f"mock-fault.{s}")]
    pid_file = tmp / "grandchild.pid"
    if "mode=grandchild" in fault.settings:
        settings += ["--set", f"mock-fault.pid_file={pid_file}"]
    command = [*CLI, "run", "--task", "mock-acc", "--system", "mock-threshold", "--system", "mock-fault", "--seed", "0",
               "--results-dir", str(results), "--quiet", *settings]
    if fault.timeout:
        command += ["--timeout", str(fault.timeout)]
    env = {**os.environ, "MLSD_FAULT_MARK": mark, "TMPDIR": str(tmp)}
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def _assert_clean(results: Path, tmp: Path, mark: str) -> None:
    for _ in range(100):  # workers and grandchildren go within seconds
        if not _marked_processes(mark):
            break
        time.sleep(0.2)
    assert not _marked_processes(mark), "a worker or its child outlived the run"
    leftovers = [p for p in results.rglob("*") if p.name.endswith(".tmp") or p.name.startswith(".write-check-")]
    leftovers += [p for p in tmp.iterdir() if p.name.startswith(("mlsd-job-", "tmp"))]
    assert not leftovers, leftovers


def _valid_svg(path: Path) -> bool:
    """A whole SVG document (a torn write would lose its end): it parses as XML with an <svg> root."""
    import xml.etree.ElementTree as ElementTree

    try:
        return ElementTree.parse(path).getroot().tag.endswith("svg")
    except ElementTree.ParseError:
        return False


@pytest.mark.parametrize("fault", CASES, ids=[c.name for c in CASES])
def test_a_fault_is_survived(fault: Fault, tmp_path: Path) -> None:
    results, tmp, mark = tmp_path / "results", tmp_path / "tmp", uuid.uuid4().hex
    tmp.mkdir()
    process = _launch(results, tmp, mark, fault)
    if fault.signals:
        done = results / "records" / "mock-acc" / "mock-threshold"
        deadline = time.monotonic() + 120
        while not list(done.glob("*.json")) and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.2)
        time.sleep(1.0)  # mock-fault is now running
        for sig in fault.signals:
            process.send_signal(sig)
            time.sleep(0.05)
    _, err = process.communicate(timeout=180)
    saved = {r.system: r for r in load_records(results, "mock-acc")}
    assert saved["mock-threshold"].ok, err  # the finished record survives every fault
    board = squeeze((results / "mock-acc.md").read_text())
    assert "| 1 | mock-threshold |" in board and _valid_svg(results / "mock-acc.svg")
    if fault.signals:
        assert process.returncode == 130, err
        assert "finished records are saved and the leaderboards are up to date" in err
        assert "mock-fault" not in saved  # it was stopped, not recorded as if it had finished
    elif fault.cause:
        assert process.returncode == 0, err
        assert not saved["mock-fault"].ok and fault.cause in saved["mock-fault"].error, saved["mock-fault"].error
        assert "`mock-fault` seed 0: " in board  # the failure is listed with its cause
    else:
        assert saved["mock-fault"].ok, saved["mock-fault"].error
        extras = saved["mock-fault"].extras
        assert extras["count"] == 3 and extras["ratio"] == 0.5 and extras["where"] == "/tmp/x" and extras["tags"] == ["a", "b"]
        assert extras["thing"].startswith("<object object at")
        assert any("not JSON data" in warning for warning in extras["warnings"])
    _assert_clean(results, tmp, mark)


REPEATS = 4
"""Repeats give a race more chances to show; the first stays in the default tier, the others are the slow tier's."""


@pytest.mark.parametrize("repeat", [0, *(pytest.param(n, marks=pytest.mark.slow) for n in range(1, REPEATS))])
def test_two_concurrent_runs_on_one_results_dir(repeat: int, tmp_path: Path) -> None:
    results, tmp, mark = tmp_path / "results", tmp_path / "tmp", uuid.uuid4().hex
    tmp.mkdir()
    env = {**os.environ, "MLSD_FAULT_MARK": mark, "TMPDIR": str(tmp)}
    runs = [subprocess.Popen([*CLI, "run", "--task", "mock-acc", "--system", system, "--seed", "0", "--seed", "1",
                              "--results-dir", str(results), "--quiet"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, env=env)
            for system in ("mock-threshold", "mock-majority")]
    for process in runs:
        _, err = process.communicate(timeout=180)
        assert process.returncode == 0, err
    saved = load_records(results, "mock-acc")
    assert sorted((r.system, r.seed) for r in saved) == [("mock-majority", 0), ("mock-majority", 1),
                                                         ("mock-threshold", 0), ("mock-threshold", 1)]
    # the leaderboard written last lists both (each run renders from all records on disk)
    from benchmarks import leaderboard

    leaderboard.write(results, ["mock-acc"])
    board = (results / "mock-acc.md").read_text()
    assert "mock-threshold" in board and "mock-majority" in board
    images = list(results.glob("*.svg"))
    assert images
    for image in images:
        assert _valid_svg(image), image
    assert oct((results / "mock-acc.md").stat().st_mode & 0o777) == oct(0o666 & ~_umask())
    _assert_clean(results, tmp, mark)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
