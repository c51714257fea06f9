"""Hostile plug-ins: a plug-in that reuses a taken id, one that fails to import, answers that break their kind's
contract (NaN, infinities, wrong shapes and types), and a daemon that would outlive its job.

Each case asserts the exit status, the message (one line, naming the files) and what is on disk. The cases of the
issue's classes are data (``DUPLICATES``, ``BROKEN_PLUGINS``, ``BAD_ANSWERS``, ``DAEMONS``), so
``perf/robustness.py`` can count them.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from benchmarks.api import System
from benchmarks.errors import UserError
from benchmarks.records import load_records
from benchmarks.registry import SYSTEMS, Registry
from tests.conftest import REPO, squeeze

CLI = [sys.executable, "-c", "import mock_plugins, sys; from benchmarks.cli import main; sys.exit(main())"]

PLUGIN = '''
"""A test plug-in: system ``{system_id}`` answers the majority class."""

import numpy as np

from benchmarks.api import System
from benchmarks.registry import register_system


@register_system
class Majority{n}(System):
    id = "{system_id}"
    kind = "classifier"
    tasks = ("moons-acc",)

    def fit(self, X, y):
        self.label = int(round(float(np.mean(y))))

    def predict(self, X):
        return np.full(len(X), self.label)
'''


def _cli(args: list[str], cwd: Path, env_extra: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", **(env_extra or {})}
    return subprocess.run([sys.executable, "-m", "benchmarks", *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout)


def _one_line_error(stderr: str) -> str:
    """The single ``error:`` line of a refused command (no traceback around it)."""
    assert "Traceback" not in stderr, stderr
    errors = [line for line in stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, stderr
    return errors[0]


# --- ids registered twice -------------------------------------------------------------------------------------------


def test_registry_refuses_a_second_definition_and_names_both_files() -> None:
    registry: Registry[type] = Registry("system")

    class First:
        pass

    class Second:
        pass

    registry.add("twin", First, "pkg.a.First", "/plugins/a.py")
    registry.add("twin", First, "pkg.a.First", "/plugins/a.py")  # the same class again: one registration
    assert registry.get("twin") is First
    with pytest.raises(UserError) as raised:
        registry.add("twin", Second, "pkg.b.Second", "/plugins/b.py")
    for message in (str(raised.value), registry.conflicts["twin"]):
        assert "/plugins/a.py" in message and "/plugins/b.py" in message and "'twin'" in message
    assert "twin" not in registry and list(registry) == []  # neither definition is used
    with pytest.raises(UserError, match=r"/plugins/a\.py.*/plugins/b\.py"):
        registry.get("twin")
    with pytest.raises(UserError, match=r"/plugins/a\.py.*/plugins/b\.py.*/plugins/c\.py"):  # a third one too
        registry.add("twin", object, "pkg.c.Third", "/plugins/c.py")


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    """A copy of the project (benchmarks/ and systems/), whose systems/ folder a test adds plug-ins to."""
    root = tmp_path / "project"
    for folder in ("benchmarks", "systems"):
        shutil.copytree(REPO / folder, root / folder, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return root


def _entry_point(site: Path, module: str, source: str, name: str, target: str) -> None:
    """An installed distribution (its dist-info, as pip writes it) whose entry point ``name = target`` is in the
    group ``mlsd_bench.systems``, and its module ``module``."""
    site.mkdir(parents=True, exist_ok=True)
    (site / f"{module}.py").write_text(source)
    info = site / f"{module.replace('_', '-')}-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {module.replace('_', '-')}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(f"[mlsd_bench.systems]\n{name} = {target}\n")


@dataclass(frozen=True)
class Duplicate:
    """Two definitions of one id: where each lives, and the id a user then asks for."""

    name: str
    system_id: str
    files: tuple[str, ...]
    """Files written into the project's systems/ folder."""
    entry_point: str = ""
    """``module`` or ``module:Class`` of an installed plug-in defining the id too ("" for none)."""


DUPLICATES = [
    Duplicate("a local file reuses a built-in id", "logreg", ("aaa_my_logreg.py",)),
    Duplicate("a local file in a sub-folder reuses a built-in id", "logreg", ("zzz/shadow.py",)),
    Duplicate("two local files share a new id", "twin", ("twin_one.py", "twin_two.py")),
    Duplicate("a local file and an entry-point module share an id", "shared", ("shared_local.py",), "ep_shared"),
    Duplicate("an entry-point class reuses a built-in id", "logreg", (), "ep_logreg:Majority0"),
]


@pytest.mark.integration
@pytest.mark.parametrize("case", DUPLICATES, ids=[c.name for c in DUPLICATES])
def test_an_id_defined_twice_is_refused_naming_both_files(case: Duplicate, project: Path, tmp_path: Path) -> None:
    expected_files = []
    for n, file in enumerate(case.files):
        path = project / "systems" / file
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(PLUGIN.format(system_id=case.system_id, n=n))
        expected_files.append(str(path))
    env = {}
    if case.entry_point:
        site = tmp_path / "site"
        module = case.entry_point.partition(":")[0]
        _entry_point(site, module, PLUGIN.format(system_id=case.system_id, n=0), case.system_id, case.entry_point)
        env["PYTHONPATH"] = os.pathsep.join([str(site), str(project)])
        expected_files.append(str(site / f"{module}.py"))
    if case.system_id == "logreg":
        expected_files.append(str(project / "systems" / "moons" / "logreg.py"))
    results = tmp_path / "results"

    ran = _cli(["run", "--task", "moons-acc", "--system", case.system_id, "--profile", "smoke", "--seed", "0",
                "--results-dir", str(results), "--quiet"], cwd=project, env_extra=env)
    assert ran.returncode == 2, ran.stderr
    error = _one_line_error(ran.stderr)
    assert f"duplicate system id '{case.system_id}'" in error
    for file in expected_files:
        assert file in error, (file, error)
    assert not results.exists()  # nothing written

    listing = _cli(["list"], cwd=project, env_extra=env)
    assert listing.returncode == 1, listing.stderr
    assert all(file in listing.stderr for file in expected_files), listing.stderr
    assert f"    {case.system_id} " not in listing.stdout  # refused: not listed as a usable system
    assert "    rbf-svm " in listing.stdout  # the others still are


@pytest.mark.integration
def test_a_plugin_task_reusing_a_built_in_task_id_is_refused_naming_both_files(project: Path, tmp_path: Path) -> None:
    plugin = project / "systems" / "my_moons_task.py"
    plugin.write_text(textwrap.dedent('''
        from benchmarks.registry import register_task
        from benchmarks.tasks.moons import MoonsAccuracy

        @register_task
        class MyMoons(MoonsAccuracy):
            id = "moons-acc"
        '''))
    results = tmp_path / "results"
    ran = _cli(["run", "--task", "moons-acc", "--profile", "smoke", "--seed", "0", "--results-dir", str(results)], cwd=project)
    assert ran.returncode == 2, ran.stderr
    error = _one_line_error(ran.stderr)
    assert "duplicate task id 'moons-acc'" in error and str(plugin) in error
    assert str(project / "benchmarks" / "tasks" / "moons.py") in error
    assert not results.exists()


# --- plug-ins that fail to import -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BrokenPlugin:
    name: str
    source: str
    error: str
    """Text the error must show (the real exception)."""
    line: int
    """The line of the plug-in's file that the error must name."""


BROKEN_PLUGINS = [
    BrokenPlugin("an import of a missing module", 'import numpy\n\nID = "broken-import"\nimport a_module_nobody_has\n',
                 "ModuleNotFoundError: No module named 'a_module_nobody_has'", 4),
    BrokenPlugin("a SyntaxError", 'ID = "broken-syntax"\n\ndef f(:\n    pass\n', "SyntaxError", 3),
    BrokenPlugin("an exception raised at import", 'ID = "broken-raise"\nx = 1\nraise RuntimeError("plugin exploded")\n',
                 "RuntimeError: plugin exploded", 3),
    BrokenPlugin("an ImportError of a name", 'from os import no_such_name\nID = "broken-name"\n',
                 "ImportError: cannot import name 'no_such_name'", 1),
    BrokenPlugin("a bad registration (unknown kind)", textwrap.dedent('''
        from benchmarks.api import System
        from benchmarks.registry import register_system

        @register_system
        class Bad(System):
            id = "broken-kind"
            kind = "no-such-kind"
        '''), "declares kind 'no-such-kind'", 5),
]


@pytest.mark.integration
def test_a_plugin_that_fails_to_import_shows_its_real_error(project: Path, tmp_path: Path) -> None:
    for n, case in enumerate(BROKEN_PLUGINS):
        (project / "systems" / f"broken_{n}.py").write_text(case.source)
    listing = _cli(["list"], cwd=project)
    assert listing.returncode == 0, listing.stderr
    assert "    logreg " in listing.stdout  # discovery survives
    for n, case in enumerate(BROKEN_PLUGINS):
        file = project / "systems" / f"broken_{n}.py"
        line = next(row for row in listing.stdout.splitlines() if f"systems.broken_{n} " in row)
        assert f"({file}, line {case.line})" in line and case.error in line, line

    results = tmp_path / "results"
    for n, case in enumerate(BROKEN_PLUGINS):
        system_id = next(part.split('"')[1] for part in case.source.splitlines() if "ID = " in part or "id = " in part)
        ran = _cli(["run", "--task", "moons-acc", "--system", system_id, "--results-dir", str(results), "--quiet"], cwd=project)
        assert ran.returncode == 2, ran.stderr
        error = _one_line_error(ran.stderr)
        assert "unknown system" not in error, error
        assert f"system {system_id!r} could not be loaded" in error and f"systems.broken_{n}" in error, error
        assert f"{project / 'systems' / f'broken_{n}.py'}, line {case.line}" in error and case.error in error, error
    assert not results.exists()


# --- answers that break the kind's contract ---------------------------------------------------------------------------


def _classifier(bad: str, n: int) -> Any:
    return {
        "good": np.zeros(n, dtype=int),
        "all-nan": np.full(n, np.nan),
        "one-nan": np.r_[np.zeros(n - 1), np.nan],
        "inf": np.full(n, np.inf),
        "-inf": np.r_[np.zeros(n - 1), -np.inf],
        "none": [None] * n,
        "strings": ["cat"] * n,
        "numeric-strings": ["1"] * n,
        "short": np.zeros(n - 1, dtype=int),
        "2d": np.zeros((n, 2), dtype=int),
        "fractions": np.full(n, 0.5),
        "label-outside": np.full(n, 2),
        "complex": np.zeros(n, dtype=complex),
        "scalar": 0,
    }[bad]


class HostileClassifier(System):
    id = "hostile-classifier"
    kind = "classifier"
    tasks = ("moons-acc",)
    Config = None

    def fit(self, X: np.ndarray, y: np.ndarray) -> None:
        pass

    def predict(self, X: np.ndarray) -> Any:
        return _classifier(self.config.bad, len(X))


def _log_probs(bad: str, n: int, vocab: int) -> Any:
    uniform = np.full((n, vocab), -np.log(vocab))
    if bad == "good":
        return uniform
    if bad == "all-nan":
        return np.full((n, vocab), np.nan)
    if bad == "+inf":
        uniform[3, 2] = np.inf
        return uniform
    if bad == "all--inf":
        return np.full((n, vocab), -np.inf)
    if bad == "zero-probability-for-the-truth":  # a normalised distribution that excludes everything seen
        rows = np.full((n, vocab), -np.inf)
        rows[:, vocab - 1] = 0.0  # all mass on one character: every other true character has probability 0
        return rows
    if bad == "not-normalised":
        return np.zeros((n, vocab))
    if bad == "rows-missing":
        return uniform[:-5]
    if bad == "strings":
        return np.full((n, vocab), "x")
    if bad == "none":
        return None
    raise KeyError(bad)


class HostileCharModel(System):
    id = "hostile-char-model"
    kind = "char-language-model"
    tasks = ("shakespeare-char-ppl",)
    Config = None
    train_chars_seen = 0

    def fit(self, train_ids: np.ndarray, vocab_size: int, valid_ids: np.ndarray) -> None:
        self.vocab = vocab_size

    def log_probs(self, stream: np.ndarray, start: int) -> Any:
        return _log_probs(self.config.bad, len(stream) - start + 1, self.vocab)

    def num_parameters(self) -> int:
        return 0


def _recommendations(bad: str, n: int, k: int) -> Any:
    return {
        "good": np.zeros((n, k), dtype=np.int32),
        "all-nan": np.full((n, k), np.nan),
        "inf": np.full((n, k), np.inf),
        "fractions": np.full((n, k), 0.5),
        "wrong-k": np.zeros((n, k + 1), dtype=int),
        "rows-missing": np.zeros((n - 1, k), dtype=int),
        "code-too-large": np.full((n, k), 10**9),
        "below-padding": np.full((n, k), -2),
        "strings": np.full((n, k), "a"),
        "none": None,
    }[bad]


class HostileRecommender(System):
    id = "hostile-recommender"
    kind = "recommender"
    tasks = ("hm-map12",)
    Config = None

    def fit(self, train: Any) -> None:
        pass

    def recommend(self, customers: np.ndarray, k: int) -> Any:
        return _recommendations(self.config.bad, len(customers), k)


def _session_answer(bad: str, sessions: np.ndarray, k: int) -> Any:
    n = len(sessions)
    good = {"session": sessions, "clicks": np.zeros((n, k), dtype=np.int32), "carts": np.full((n, k), -1),
            "orders": np.full((n, k), -1)}
    changes: dict[str, Any] = {
        "good": {},
        "all-nan": {"clicks": np.full((n, k), np.nan)},
        "inf": {"carts": np.full((n, k), np.inf)},
        "rows-missing": {"orders": np.zeros((n - 1, k), dtype=int)},
        "too-many-columns": {"clicks": np.zeros((n, k + 1), dtype=int)},
        "strings": {"clicks": np.full((n, k), "x")},
        "nan-session": {"session": np.full(n, np.nan)},
        "session-twice": {"session": np.r_[sessions[:-1], sessions[:1]]},
        "missing-key": {"orders": None},
    }
    if bad == "not-a-dict":
        return [good]
    answer = {**good, **changes[bad]}
    return {key: value for key, value in answer.items() if value is not None}


class HostileSessionRecommender(System):
    id = "hostile-session-recommender"
    kind = "session-recommender"
    tasks = ("otto-recall20",)
    Config = None

    def fit(self, train: Any, test: Any) -> None:
        pass

    def recommend(self, test: Any, k: int) -> Any:
        sessions = np.unique(test["session"].to_numpy())
        return _session_answer(self.config.bad, sessions, k)


def _run(bad: str, queries: dict[str, str]) -> Any:
    qid = next(iter(queries))
    score: Any = {"good": 1.0, "inf": float("inf"), "-inf": float("-inf"), "nan": float("nan"), "none": None,
                  "string": "1.5", "bool": True, "list": [1.0]}.get(bad, 1.0)
    run = {q: {"doc0": 1.0} for q in queries}
    run[qid] = {"doc0": score}
    if bad == "docs-not-a-dict":
        run[qid] = ["doc0"]
    if bad == "not-a-dict":
        return list(run.items())
    return run


class HostileRetriever(System):
    id = "hostile-retriever"
    kind = "retriever"
    tasks = ("beir-ndcg10",)
    Config = None

    def index(self, corpus: Any) -> None:
        pass

    def search(self, queries: dict[str, str], k: int) -> Any:
        return _run(self.config.bad, queries)


@dataclass
class HostileConfig:
    bad: str = "good"


for _cls in (HostileClassifier, HostileCharModel, HostileRecommender, HostileSessionRecommender, HostileRetriever):
    _cls.Config = HostileConfig


@dataclass(frozen=True)
class BadAnswer:
    system: type[System]
    bad: str
    reason: str
    """Text the failed record's error must contain ("" for the good answer, whose record must be ok)."""


BAD_ANSWERS = [
    *[BadAnswer(HostileClassifier, bad, reason) for bad, reason in [
        ("good", ""), ("all-nan", "all values are NaN or infinite"), ("one-nan", "1 of 100 values are NaN or infinite"),
        ("inf", "NaN or infinite"), ("-inf", "NaN or infinite"), ("none", "expected numbers, got dtype object"),
        ("strings", "expected numbers, got dtype <U3"), ("numeric-strings", "expected numbers"),
        ("short", "shape (99,), expected (100,)"), ("2d", "shape (100, 2)"), ("fractions", "expected whole numbers"),
        ("label-outside", "value 2 outside [0, 2)"), ("complex", "expected numbers, got dtype complex"),
        ("scalar", "shape ()")]],
    *[BadAnswer(HostileCharModel, bad, reason) for bad, reason in [
        ("good", ""), ("all-nan", "NaN or +inf"), ("+inf", "NaN or +inf"), ("all--inf", "-inf everywhere"),
        ("zero-probability-for-the-truth", "probability 0"), ("not-normalised", "not a distribution"),
        ("rows-missing", "shape"), ("strings", "dtype <U1, expected floats"), ("none", "dtype object")]],
    *[BadAnswer(HostileRecommender, bad, reason) for bad, reason in [
        ("good", ""), ("all-nan", "all values are NaN or infinite"), ("inf", "NaN or infinite"),
        ("fractions", "expected whole numbers"), ("wrong-k", "expected ({n}, 12)"),
        ("rows-missing", "shape"), ("code-too-large", "outside [-1,"), ("below-padding", "value -2 outside"),
        ("strings", "expected numbers"), ("none", "expected numbers, got dtype object")]],
    *[BadAnswer(HostileSessionRecommender, bad, reason) for bad, reason in [
        ("good", ""), ("all-nan", "['clicks']: all values are NaN or infinite"), ("inf", "['carts']: all values"),
        ("rows-missing", "['orders']: shape"), ("too-many-columns", "21 columns, expected at most 20"),
        ("strings", "['clicks']: expected numbers"), ("nan-session", "['session']: all values are NaN"),
        ("session-twice", "a session is listed twice"), ("missing-key", "missing key(s) 'orders'"),
        ("not-a-dict", "expected a dict of arrays, got list")]],
    *[BadAnswer(HostileRetriever, bad, reason) for bad, reason in [
        ("good", ""), ("inf", "the score inf"), ("-inf", "the score -inf"), ("nan", "the score nan"),
        ("none", "the score None (NoneType)"), ("string", "the score '1.5' (str)"), ("bool", "the score True (bool)"),
        ("list", "(list)"), ("docs-not-a-dict", "expected {docid: score}, got list"),
        ("not-a-dict", "got list")]],
]

_TASK_OF = {HostileClassifier: "moons-acc", HostileCharModel: "shakespeare-char-ppl", HostileRecommender: "hm-map12",
            HostileSessionRecommender: "otto-recall20", HostileRetriever: "beir-ndcg10"}


def _task_overrides(task_id: str, folder: Path) -> dict[str, Any]:
    """Tiny local data for each task (no shared data needed)."""
    if task_id == "shakespeare-char-ppl":
        text = folder / "tiny.txt"
        rng = np.random.default_rng(0)
        text.write_text("".join(rng.choice(list("abcdefgh \n"), 30_000)))
        return {"task.dataset": str(text), "task.sample_chars": 5}
    if task_id == "hm-map12":
        return {"task.source": "synthetic"}
    if task_id == "beir-ndcg10":
        from benchmarks.kinds.retriever import toy_collection

        return {"task.dataset": str(toy_collection(folder / "toy"))}
    return {}


@pytest.fixture(scope="module")
def hostile_jobs(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """``job(system_cls, bad)``: the job's spec and its task's data (prepared once per task)."""
    from benchmarks.api import RunContext
    from benchmarks.config import RunRequest, plan
    from benchmarks.registry import register_system

    for cls in _TASK_OF:
        if cls.id not in SYSTEMS:
            register_system(cls)
    prepared: dict[str, Any] = {}
    folder = tmp_path_factory.mktemp("hostile-data")

    def job(system_cls: type[System], bad: str) -> tuple[Any, Any]:
        task_id = _TASK_OF[system_cls]
        overrides = {**_task_overrides(task_id, folder), f"{system_cls.id}.bad": bad}
        (spec,) = plan(RunRequest(tasks=[task_id], systems=[system_cls.id], seeds=[0], profile="smoke", device="cpu",
                                  results_dir=folder / "results", overrides=overrides)).jobs
        if task_id not in prepared:
            task = spec.task_cls(spec.task_options)
            prepared[task_id] = task.prepare(RunContext(task_id=task_id, profile="smoke", cache_dir=spec.cache_dir,
                                                        task_options=task.options))
        return spec, prepared[task_id]

    import contextlib

    from benchmarks import jobs

    with pytest.MonkeyPatch.context() as patch:  # the job's gc.freeze costs 0.4 s a job here (a whole test session's heap)
        patch.setattr(jobs, "_harness_objects_frozen", contextlib.nullcontext)
        yield job
    for cls in _TASK_OF:
        SYSTEMS.remove(cls.id)


@pytest.mark.parametrize("case", BAD_ANSWERS, ids=[f"{c.system.kind}:{c.bad}" for c in BAD_ANSWERS])
def test_an_answer_that_breaks_the_contract_fails_the_job_with_the_reason(case: BadAnswer, hostile_jobs: Any) -> None:
    from benchmarks.jobs import run_job

    spec, data = hostile_jobs(case.system, case.bad)
    result = run_job(spec, data)
    if not case.reason:
        assert result.status == "ok", result.error
        return
    assert result.status == "failed", f"{case.bad} was scored: {result.metrics}"
    reason = case.reason.replace("{n}", str(len(data.customers))) if case.system is HostileRecommender else case.reason
    assert reason in result.error, result.error
    assert "\n" not in result.error and not result.metrics


@pytest.mark.integration
def test_nan_predictions_give_a_failed_record_on_disk(tmp_path: Path) -> None:
    """Through the command line and a real worker: the record says failed, with the reason, and is not ranked."""
    results = tmp_path / "results"
    plugin = tmp_path / "nan_plugin.py"
    plugin.write_text(textwrap.dedent('''
        import numpy as np
        from benchmarks.api import System
        from benchmarks.registry import register_system

        @register_system
        class NaNs(System):
            id = "nan-answers"
            kind = "classifier"
            tasks = ("mock-*",)

            def fit(self, X, y):
                pass

            def predict(self, X):
                return np.full(len(X), np.nan)
        '''))
    command = [sys.executable, "-c", "import mock_plugins, nan_plugin, sys; from benchmarks.cli import main; sys.exit(main())",
               "run", "--task", "mock-acc", "--system", "nan-answers", "--system", "mock-threshold", "--seed", "0",
               "--results-dir", str(results), "--quiet"]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", str(REPO))])}
    ran = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert ran.returncode == 0, ran.stderr  # one job ok, one failed
    saved = {r.system: r for r in load_records(results, "mock-acc")}
    assert saved["mock-threshold"].ok
    failed = saved["nan-answers"]
    assert failed.status == "failed" and "predict(): all values are NaN or infinite" in failed.error
    assert failed.metrics == {}
    board = squeeze((results / "mock-acc.md").read_text())
    assert "| 1 | mock-threshold |" in board and "| 2 | nan-answers" not in board


# --- daemons ---------------------------------------------------------------------------------------------------------


def _gone(pid: int, seconds: float = 5.0) -> bool:
    """True once ``pid`` is dead (a SIGKILLed process in uninterruptible sleep dies only when that ends: on a loaded
    machine, a moment after the kill)."""
    deadline = time.monotonic() + seconds
    while _alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def _alive(pid: int) -> bool:
    import psutil

    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


@dataclass(frozen=True)
class Daemon:
    name: str
    options: tuple[str, ...] = ()
    fail: bool = False


DAEMONS = [
    Daemon("a daemon from an ok job (fork server)", ("--start-method", "forkserver")),
    Daemon("a daemon from a failed job (fork server)", ("--start-method", "forkserver"), fail=True),
    Daemon("a daemon from an ok job (fork)", ("--start-method", "fork")),
    Daemon("a daemon from a job among two at once", ("--jobs", "2")),
    pytest.param(Daemon("a daemon from a job of the Ray executor", ("--executor", "ray")), marks=pytest.mark.slow),
]


@pytest.mark.integration
@pytest.mark.parametrize("case", DAEMONS, ids=[getattr(c, "values", [c])[0].name for c in DAEMONS])
def test_a_daemon_does_not_outlive_its_job(case: Daemon, tmp_path: Path) -> None:
    """A double-forked, setsid daemon that ignores SIGTERM and holds the run's stdout and stderr: the run still ends
    (``communicate`` returns: no pipe is held), the daemon is gone, and the record names it."""
    results, pid_file, mark = tmp_path / "results", tmp_path / "daemon.pid", uuid.uuid4().hex
    command = [*CLI, "run", "--task", "mock-acc", "--system", "mock-fault", "--system", "mock-threshold", "--seed", "0",
               "--results-dir", str(results), "--quiet", "--set", "mock-fault.mode=daemon", "--set", "mock-fault.seconds=600",
               "--set", f"mock-fault.pid_file={pid_file}", "--set", f"mock-fault.fail={case.fail}", *case.options]
    started = time.monotonic()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "MLSD_FAULT_MARK": mark})
    try:
        _, err = process.communicate(timeout=240)  # a daemon holding the pipes would block this for 600 s
    finally:
        if pid_file.exists() and _alive(int(pid_file.read_text())):
            os.kill(int(pid_file.read_text()), 9)
    assert process.returncode == 0, err
    assert time.monotonic() - started < 240
    daemon = int(pid_file.read_text())
    assert _gone(daemon), "the daemon outlived its job"
    saved = {r.system: r for r in load_records(results, "mock-acc")}
    record = saved["mock-fault"]
    assert record.status == ("failed" if case.fail else "ok"), record.error
    if case.fail:
        assert "failing on purpose after mode=daemon" in record.error
    killed = record.conditions["stray_processes_killed"]
    assert any(entry.startswith(f"pid {daemon}:") for entry in killed), killed
    assert any("process(es) running at its end" in warning for warning in record.extras["warnings"])
    assert saved["mock-threshold"].ok and "stray_processes_killed" not in saved["mock-threshold"].conditions
    from tests.test_faults import _marked_processes

    assert not _marked_processes(mark)


@pytest.mark.integration
def test_a_daemon_of_an_in_process_job_is_killed_too(tmp_path: Path) -> None:
    """``--no-isolation``: the job runs in the driver, and what it leaves running is found by its token."""
    from benchmarks.config import RunRequest
    from benchmarks.runner import run

    pid_file = tmp_path / "daemon.pid"
    overrides = {"mock-fault.mode": "daemon", "mock-fault.seconds": 600, "mock-fault.pid_file": str(pid_file)}
    try:
        (outcome,) = run(RunRequest(tasks=["mock-acc"], systems=["mock-fault"], seeds=[0], profile="smoke", device="cpu",
                                    results_dir=tmp_path / "results", overrides=overrides, isolate=False, progress=False,
                                    update_leaderboard=False))
    finally:
        if pid_file.exists() and _alive(int(pid_file.read_text())):
            os.kill(int(pid_file.read_text()), 9)
    daemon = int(pid_file.read_text())
    assert outcome.status == "ok" and _gone(daemon)
    record = json.loads(outcome.record_path.read_text())
    assert [entry.split(":")[0] for entry in record["conditions"]["stray_processes_killed"]] == [f"pid {daemon}"]
    from benchmarks.executors.local import TOKEN_VARIABLE

    assert TOKEN_VARIABLE not in os.environ  # the driver's environment is as it was


@pytest.mark.integration
def test_kill_tree_finds_a_process_by_its_token_outside_the_tree(tmp_path: Path) -> None:
    """The token net alone (no subreaper, not a descendant, another session): the process is found and killed."""
    from benchmarks.executors.local import TOKEN_VARIABLE, job_processes, kill_tree

    token = uuid.uuid4().hex
    worker = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"], start_new_session=True)
    stray = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"], start_new_session=True,
                             env={**os.environ, TOKEN_VARIABLE: token})
    unrelated = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"], start_new_session=True)
    try:
        assert stray.pid in [p.pid for p in job_processes(worker.pid, token)]
        assert unrelated.pid not in [p.pid for p in job_processes(worker.pid, token)]
        killed = kill_tree(worker.pid, token)
        assert [entry.split(":")[0] for entry in killed] == [f"pid {stray.pid}"]
        assert stray.wait(timeout=10) == -9 and worker.wait(timeout=10) == -9
        assert unrelated.poll() is None
    finally:
        for process in (worker, stray, unrelated):
            process.kill()
            process.wait()
    assert json.dumps(killed)  # plain strings: they go into the record
