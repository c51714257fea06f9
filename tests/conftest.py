"""Shared fixtures: where real data lives, fresh results folders, and the mock task and systems.

Worker processes always come from a fork server in tests (``MLSD_START_METHOD``): otherwise the first test that
imports polars or LightGBM would switch every later test from fork to another start method, and the suite's
timing (and what it exercises) would depend on the order the tests run in.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Collection
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

os.environ["MLSD_START_METHOD"] = "forkserver"
# CLI subprocesses and Ray workers import tests/mock_plugins.py by name, as pytest does here
os.environ["PYTHONPATH"] = os.pathsep.join([str(REPO / "tests"), os.environ.get("PYTHONPATH", str(REPO))])

import mock_plugins  # noqa: E402,F401  (registers mock-acc and the mock systems)


def shared_data_dir() -> Path | None:
    """``$MLSD_DATA_DIR`` if set, else ``../shared/data`` beside the checkout, if present."""
    if os.environ.get("MLSD_DATA_DIR"):
        return Path(os.environ["MLSD_DATA_DIR"]).expanduser().resolve()  # tests may chdir or link into it
    candidate = REPO.parent / "shared" / "data"
    return candidate if candidate.is_dir() else None


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The real-data folder. Skips when absent, but fails under ``MLSD_REQUIRE_DATA=1`` (CI)."""
    found = shared_data_dir()
    if found is None or not found.is_dir():
        message = "real data not found: set MLSD_DATA_DIR or put shared/data beside the checkout"
        if os.environ.get("MLSD_REQUIRE_DATA") == "1":
            pytest.fail(message + " (MLSD_REQUIRE_DATA=1)")
        pytest.skip(message)
    return found


@pytest.fixture()
def results_dir(tmp_path: Path) -> Path:
    path = tmp_path / "results"
    path.mkdir()
    return path


@pytest.fixture(scope="session")
def smoke_run(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., dict]:
    """``smoke_run(task_id, overrides, data_dir, systems=None)``: the task's available systems (``systems``: only
    those; None: every one) on the smoke profile, seed 0, each run once per session (the contract test and the
    families' smoke tests share it); returns each system's ``Record`` run so far."""
    from benchmarks.config import RunRequest
    from benchmarks.records import Record
    from benchmarks.registry import TASKS, systems_for
    from benchmarks.runner import run

    found: dict[str, dict[str, Record]] = {}
    root = tmp_path_factory.mktemp("contract")

    def get(task_id: str, overrides: dict, data_dir: Path | None,
            systems: Collection[str] | None = None) -> dict[str, Record]:
        done = found.setdefault(task_id, {})
        missing = [s.id for s in systems_for(TASKS.get(task_id)) if not s.missing_requirements()
                   and s.id not in done and (systems is None or s.id in systems)]
        if missing:
            outcomes = run(RunRequest(tasks=[task_id], systems=missing, seeds=[0], profile="smoke", device="cpu",
                                      data_dir=data_dir, results_dir=root / "results", overrides=overrides, jobs=2,
                                      progress=False, update_leaderboard=False))
            done.update((o.system, Record.from_dict(json.loads(o.record_path.read_text()))) for o in outcomes)
        return done

    return get


def squeeze(markdown: str) -> str:
    """A generated markdown page with its tables' padding removed (tabulate pads cells to the column's width), so a
    test can look for a row as ``| 1 | system |``."""
    return re.sub(r" +\|", " |", markdown)


def synthetic_text(n_chars: int = 20_000, seed: int = 0) -> str:
    """About ``n_chars`` of deterministic play-like text (speaker lines of a tiny vocabulary)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    words = ["the", "king", "is", "dead", "long", "live", "queen", "my", "lord", "good", "night", "sweet", "prince", "and", "to"]
    speakers = ["HAMLET:", "OPHELIA:", "KING:"]
    parts: list[str] = []
    size = 0
    while size < n_chars:
        line = speakers[rng.integers(len(speakers))] + "\n" + " ".join(words[i] for i in rng.integers(len(words), size=8)) + ".\n\n"
        parts.append(line)
        size += len(line)
    return "".join(parts)
