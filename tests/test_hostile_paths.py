"""Hostile paths (issue 21, class 1): a task id, system id or seed from the command line, a record or a plug-in
never becomes a path outside its folder; every command refuses one in one line, writes nothing, reads nothing
outside; user-controlled text never reaches a leaderboard as markup.

Each case checks the exit status, the message and the whole tree of the test's temporary folder before and
after (the results folder lives inside it, the "outside" targets beside it).
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks import leaderboard, paths, site
from benchmarks.cli import main
from benchmarks.errors import UserError
from benchmarks.registry import SYSTEMS, TASKS, discover
from tests.conftest import REPO

HOSTILE_IDS = [
    "..", ".", "", "../../x", "./x/../../y", "../outside", "x/../../../y", "a/b", "moons-acc/", "..\\..\\x", "a\\b",
    "moons-acc\x00", "moons\x00/../x", "x" * 101, "y" * 5000, "mооns-acc",  # Cyrillic о: a lookalike
    "ｍoons-acc", "moons‐acc",  # fullwidth m; a Unicode hyphen
    "Moons-acc", "MOONS-ACC", "moons acc", " moons-acc", "moons-acc\n", "moons-acc\t", "~/x", "~", "-rf", "_x",
    ".hidden", "a..b", "%2e%2e%2fx", "moons-acc;rm", "moons-acc|x", "<script>", "$(id)", "C:\\x", "\u202eexe",
]
"""Ids that must never pass (the absolute ones are added per test: they point into the test's own folder)."""


def _tree(root: Path) -> dict[str, str]:
    """Every path under ``root`` with its content hash (links by target): a before/after snapshot."""
    found: dict[str, str] = {}
    for path in sorted(root.rglob("*")):
        key = str(path.relative_to(root))
        if path.is_symlink():
            found[key] = "link:" + os.readlink(path)
        elif path.is_file():
            found[key] = hashlib.sha256(path.read_bytes()).hexdigest()
        else:
            found[key] = "dir"
    return found


def _one_error_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ") and "Traceback" not in err, err
    return lines[0]


def _record(task: str, system: str, seed: int = 0, **fields: object) -> dict:
    """A minimal record as the harness writes it (mock task, accuracy)."""
    data = {"schema_version": 2, "task": task, "task_version": "1", "system": system, "seed": seed, "profile": "smoke",
            "status": "ok", "main_metric": "accuracy", "higher_is_better": True,
            "dataset": {"name": "blobs", "fingerprint": "f" * 64, "synthetic": True},
            "metrics": {"accuracy": 0.5 + 0.1 * seed}, "run_id": f"r{seed}", "finished_at": "2026-01-01T00:00:00+00:00",
            "started_at": "2026-01-01T00:00:00+00:00"}
    data.update(fields)
    return data


def _write(folder: Path, name: str, data: dict) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(json.dumps(data))
    return path


@pytest.fixture()
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """cwd = <tmp>/work/deep (so ``../../x`` stays in the snapshot), a results folder with two good records, and an
    outside folder with a decoy record. Returns <tmp>."""
    work = tmp_path / "work" / "deep"
    work.mkdir(parents=True)
    for system in ("mock-majority", "mock-threshold"):
        _write(work / "results" / "records" / "mock-acc" / system, "r0__seed0.json", _record("mock-acc", system))
    _write(tmp_path / "outside" / "records" / "mock-acc" / "mock-decoy", "r__seed0.json", _record("mock-acc", "mock-decoy"))
    monkeypatch.chdir(work)
    discover()
    return tmp_path


COMMANDS = {
    "run": ["run", "--task={}", "--profile", "smoke", "--results-dir", "results", "--quiet"],
    "compare": ["compare", "--task={}", "--results-dir", "results", "--", "mock-majority", "mock-threshold"],
    "check": ["check", "--task={}", "--results-dir", "results"],
    "leaderboard": ["leaderboard", "--task={}", "--results-dir", "results"],
    "site": ["site", "--task={}", "--results-dir", "results"],
    "data-stats": ["data-stats", "--task={}"],
    "score": ["score", "--task={}", "--predictions", "p.csv", "--truth", "t.csv"],
}
"""Every command that takes a task, its results folder the test's own."""


def _refuses(world: Path, capsys: pytest.CaptureFixture, argv: list[str], pattern: str) -> None:
    """``argv`` exits 2 with one error line matching ``pattern``, and the test's whole folder is unchanged."""
    before = _tree(world)
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2, (argv, err)
    line = _one_error_line(err)
    assert re.search(pattern, line), (argv, line)
    assert _tree(world) == before, argv  # nothing written anywhere, the results folder included


@pytest.mark.parametrize("command", list(COMMANDS))
def test_every_command_refuses_a_hostile_task_id(world: Path, capsys: pytest.CaptureFixture, command: str) -> None:
    absolute = [str(world / "abs-target"), str(world / "outside"), str(world / "work" / "deep" / "results" / "x")]
    for task in [*HOSTILE_IDS, *absolute]:
        argv = [a.format(task) for a in COMMANDS[command]]
        _refuses(world, capsys, argv, r"not an id|empty|characters, at most|unknown task")


@pytest.mark.parametrize("command", ["run", "compare", "check"])
def test_commands_refuse_a_hostile_system_id(world: Path, capsys: pytest.CaptureFixture, command: str) -> None:
    for system in [*HOSTILE_IDS, str(world / "outside")]:
        argv = {
            "run": ["run", "--task", "mock-acc", f"--system={system}", "--profile", "smoke", "--results-dir", "results", "--quiet"],
            "compare": ["compare", "--task", "mock-acc", "--results-dir", "results", "--", "mock-majority", system],
            "check": ["check", f"--system={system}", "--results-dir", "results"],
        }[command]
        _refuses(world, capsys, argv, r"not an id|empty|at most|unknown system|SYSTEM@SEED")


@pytest.mark.parametrize("command", [
    ["check", "--task", "moons-acc-x"], ["check", "--system", "logreg2"], ["check", "--profile", "smok"],
    ["check", "--task", "../../x"], ["check", "--system", "../x"], ["check", "--task", "beir-ndcg10"],
])
def test_check_fails_on_an_unknown_or_escaping_selection(world: Path, capsys: pytest.CaptureFixture, command: list[str]) -> None:
    _refuses(world, capsys, [*command, "--results-dir", "kept"], r"did you mean|not an id|no expected scores")


def test_compare_refuses_a_hostile_seed_spec(world: Path, capsys: pytest.CaptureFixture) -> None:
    for seed in ["-1", "4294967296", "18446744073709551616", "x", "1.5", "", "0,,-2", "1e3", "٣", "../0"]:
        argv = ["compare", "--task", "mock-acc", "--results-dir", "results", "--", f"mock-majority@{seed}", "mock-threshold"]
        _refuses(world, capsys, argv, r"SYSTEM@SEED|0 to 4294967295")


def test_hostile_records_are_skipped_and_never_become_paths(world: Path, capsys: pytest.CaptureFixture) -> None:
    results = world / "work" / "deep" / "results"
    bad = [("../../../escaped", "sys", 0), ("mock-acc", "../../../escaped", 0), ("mock-acc", "/abs/x", 0),
           ("mock-acc", "Mock", 0), ("mock-acc", "a b", 0), ("mock-acc", "sys", -1), ("mock-acc", "sys", 2**40),
           ("mock-acc", "sys", True), ("mock-acc", "", 0), ("", "sys", 0), (str(world / "abs"), "sys", 0),
           ("mock-acc", "sys\x00", 0)]
    for index, (task, system, seed) in enumerate(bad):
        _write(results / "records" / "mock-acc" / "mock-other", f"bad{index}__seed0.json", _record(task, system, seed))
    before = {key for key in _tree(world) if not key.startswith("work/deep/results")}
    with pytest.warns(UserWarning) as caught:
        assert main(["leaderboard", "--results-dir", str(results)]) == 0
        assert main(["site", "--results-dir", str(results)]) == 0
    skipped = [str(w.message) for w in caught if "skipping unreadable record" in str(w.message)]
    assert len(skipped) >= len(bad)
    assert any("field 'task'" in m for m in skipped) and any("field 'seed'" in m for m in skipped)
    after = {key for key in _tree(world) if not key.startswith("work/deep/results")}
    assert after == before  # nothing appeared outside the results folder
    assert not list(world.rglob("escaped*")) and not (world / "abs").exists()
    text = (results / "mock-acc.md").read_text()
    assert "mock-majority" in text and "escaped" not in text
    capsys.readouterr()


def test_compare_never_reads_outside_through_a_linked_records_folder(world: Path, capsys: pytest.CaptureFixture) -> None:
    results = world / "work" / "deep" / "results"
    (results / "records" / "moons-acc").symlink_to(world / "outside" / "records" / "mock-acc")
    before = _tree(world)
    code = main(["compare", "--task", "moons-acc", "mock-decoy", "mock-majority", "--results-dir", str(results)])
    line = _one_error_line(capsys.readouterr().err)
    assert code == 2 and "outside" in line
    assert _tree(world) == before


def test_a_linked_record_file_that_leads_out_is_skipped(world: Path) -> None:
    from benchmarks.records import load_records

    results = world / "work" / "deep" / "results"
    link = results / "records" / "mock-acc" / "mock-decoy" / "r__seed0.json"
    link.parent.mkdir()
    link.symlink_to(world / "outside" / "records" / "mock-acc" / "mock-decoy" / "r__seed0.json")
    with pytest.warns(UserWarning, match="links outside"):
        systems = {record.system for record in load_records(results)}
    assert systems == {"mock-majority", "mock-threshold"}


@pytest.mark.parametrize("link", ["mock-acc.md", "README.md", "mock-acc.svg", "site"])
def test_links_inside_the_results_folder_that_lead_out_are_refused(world: Path, capsys: pytest.CaptureFixture, link: str) -> None:
    results = world / "work" / "deep" / "results"
    target = world / "outside" / ("site" if link == "site" else "victim.txt")
    if link == "site":
        target.mkdir()
    else:
        target.write_text("precious\n")
    (results / link).symlink_to(target)
    before = _tree(world)
    command = "site" if link == "site" else "leaderboard"
    code = main([command, "--results-dir", str(results)])
    line = _one_error_line(capsys.readouterr().err)
    assert code == 2 and "outside" in line, line
    after = _tree(world)
    assert {k: v for k, v in after.items() if k.startswith("outside")} == {k: v for k, v in before.items() if k.startswith("outside")}
    if link != "site":
        assert target.read_text() == "precious\n"


@pytest.mark.integration  # runs a real job (in this process)
def test_a_results_folder_that_is_itself_a_link_is_followed(world: Path, capsys: pytest.CaptureFixture) -> None:
    """The user's own choice (results on another disk): records and leaderboards go to the link's target."""
    storage = world / "storage"
    storage.mkdir()
    (world / "work" / "deep" / "linked").symlink_to(storage)
    assert main(["run", "--task", "mock-acc", "--system", "mock-majority", "--seed", "0", "--profile", "smoke",
                 "--results-dir", "linked", "--quiet", "--no-isolation"]) == 0
    assert list((storage / "records" / "mock-acc" / "mock-majority").glob("*.json"))
    assert (storage / "mock-acc.md").exists()
    capsys.readouterr()


def test_site_and_leaderboard_write_only_inside(world: Path, capsys: pytest.CaptureFixture) -> None:
    results = world / "work" / "deep" / "results"
    before = {key for key in _tree(world) if not key.startswith("work/deep/results")}
    assert main(["leaderboard", "--results-dir", str(results)]) == 0
    assert main(["site", "--results-dir", str(results), "--task", "mock-acc"]) == 0
    after = {key for key in _tree(world) if not key.startswith("work/deep/results")}
    assert after == before
    assert (results / "site" / "mock-acc.html").exists() and (results / "mock-acc.md").exists()
    capsys.readouterr()


# --- ids themselves -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [*HOSTILE_IDS, "/etc/passwd", "/tmp", None, 3, ["a"]])
def test_the_id_validator_refuses(value: object) -> None:
    assert not paths.is_id(value)
    with pytest.raises(UserError, match="task"):
        paths.check_id(value, "task")


def test_every_registered_id_is_valid_and_the_limits_hold() -> None:
    discover()
    for name in [*TASKS, *SYSTEMS, "a", "0", "x" * paths.MAX_ID_LENGTH, "beir-scifact-ndcg10", "msmarco-dl19-ndcg10",
                 "a.b_c-d"]:
        assert paths.check_id(name) == name
    assert paths.check_seed(0) == 0 and paths.check_seed(2**32 - 1) == 2**32 - 1
    for seed in (-1, 2**32, True, 1.0, "1", None):
        with pytest.raises(UserError, match="seed"):
            paths.check_seed(seed)


@pytest.mark.parametrize("parts", [("..",), ("../x",), ("a", "..", ".."), ("/etc",), ("x/../../y",)])
def test_inside_refuses_what_resolves_out(tmp_path: Path, parts: tuple[str, ...]) -> None:
    with pytest.raises(UserError, match="outside"):
        paths.inside(tmp_path / "root", *parts)
    assert paths.inside(tmp_path / "root", "a", "b.md") == tmp_path / "root" / "a" / "b.md"


# --- plug-ins ---------------------------------------------------------------------------------------------------


PLUGIN = '''
from benchmarks.api import System, Task
from benchmarks.registry import register_system, register_task


@register_{what}
class Evil({base}):
    id = {id!r}
    kind = "classifier"
    main_metric = "accuracy"

    def fit(self, X, y):
        pass

    def predict(self, X):
        return X
'''


@pytest.mark.parametrize("what", ["system", "task"])
@pytest.mark.parametrize("bad_id", ["../evil", "../../../../tmp/evil", "/tmp/evil", "Evil", "ev il", "évil", "e" * 300, ".."])
def test_a_plugin_registering_a_hostile_id_is_refused_naming_its_file(tmp_path: Path, what: str, bad_id: str) -> None:
    path = tmp_path / f"evil_{what}.py"
    path.write_text(PLUGIN.format(what=what, base="System" if what == "system" else "Task", id=bad_id))
    spec = importlib.util.spec_from_file_location(f"evil_{what}_plugin", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    try:
        with pytest.raises(UserError) as caught:
            spec.loader.exec_module(module)
    finally:
        del sys.modules[spec.name]
    message = str(caught.value)
    assert str(path) in message and "not an id" in message or "at most" in message, message
    assert bad_id not in (TASKS if what == "task" else SYSTEMS)
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]


# --- markup from records and plug-ins -------------------------------------------------------------------------------


SCRIPT = "<script>alert(1)</script>"


def test_markdown_leaderboards_escape_every_user_controlled_string(tmp_path: Path) -> None:
    results = tmp_path / "results"
    hostile = {
        "dataset": {"name": f"blobs {SCRIPT}|x\ny", "fingerprint": f"f`{SCRIPT}", "synthetic": True},
        "profile": f"smoke`{SCRIPT}", "task_version": f"1{SCRIPT}", "finished_at": f"{SCRIPT}|\n",
        "config_overrides": {"note": f"{SCRIPT}|col\nbreak"}, "config": {"note": "x"},
        "hardware": {"cores": 2, "accelerator": {"name": f"gpu{SCRIPT}|"}}, "device": "cuda",
        "metrics": {"accuracy": 0.9, "<img src=x onerror=alert(1)>|m": 0.1},
        "extras": {"sample": f"ROMEO {SCRIPT} ``` | \n", "note": SCRIPT},
    }
    for seed in (0, 1):
        _write(results / "records" / "mock-acc" / "mock-threshold", f"r{seed}__seed{seed}.json",
               _record("mock-acc", "mock-threshold", seed, **hostile))
    _write(results / "records" / "mock-acc" / "mock-fault", "f__seed0.json",
           _record("mock-acc", "mock-fault", 0, status="failed", error=f"boom {SCRIPT} | and\nmore", metrics={},
                   profile=hostile["profile"], dataset=hostile["dataset"]))
    _write(results / "records" / "mock-acc" / "mock-majority", "m__seed0.json",
           _record("mock-acc", "mock-majority", 0, profile=hostile["profile"], dataset=hostile["dataset"]))
    leaderboard.write(results)
    site.write(results)
    for path in [*results.glob("*.md"), *results.glob("*.svg"), *results.rglob("*.html")]:
        text = path.read_text()
        assert "<script>alert" not in text and "<img src=x" not in text, path
    page = (results / "mock-acc.md").read_text()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page  # shown, as text
    table = [line for line in page.splitlines() if line.startswith("| ")]
    header = table[0]
    columns = len(re.findall(r"(?<!\\)\|", header))
    for line in table[1:]:
        if line.startswith("| #") or line.startswith("| task"):
            columns = len(re.findall(r"(?<!\\)\|", line))
            continue
        assert len(re.findall(r"(?<!\\)\|", line)) == columns, line  # no cell breaks its row


@pytest.mark.integration  # runs a real job (in this process)
def test_a_plugin_reporting_markup_never_reaches_the_leaderboard_as_markup(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    from dataclasses import dataclass

    from benchmarks.api import System
    from benchmarks.registry import register_system

    @dataclass
    class ReporterConfig:
        note: str = SCRIPT

    class Reporter(System):
        id = "mock-reporter"
        kind = "classifier"
        tasks = ("mock-*",)
        description = f"reports {SCRIPT}"
        Config = ReporterConfig

        def fit(self, X, y):
            self.answer = 1

        def predict(self, X):
            import numpy as np

            return np.ones(len(X), dtype=int)

        def report(self):
            return {"sample": f"{SCRIPT} | x\ny", "note": SCRIPT, "path": f"../../{SCRIPT}"}

    register_system(Reporter)
    try:
        results = tmp_path / "results"
        code = main(["run", "--task", "mock-acc", "--system", "mock-reporter", "--seed", "0", "--profile", "smoke",
                     "--results-dir", str(results), "--quiet", "--no-isolation", "--set", f"note=<b>{SCRIPT}|"])
        assert code == 0, capsys.readouterr().err
        assert main(["site", "--results-dir", str(results)]) == 0
    finally:
        SYSTEMS.remove("mock-reporter")
    capsys.readouterr()
    written = [*results.glob("*.md"), *results.glob("*.svg"), *results.rglob("*.html")]
    assert written
    for path in written:
        text = path.read_text()
        assert "<script>alert" not in text and "<b><script" not in text, path
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results"]


# --- the command line in a subprocess: no traceback -----------------------------------------------------------------


@pytest.mark.integration
@pytest.mark.parametrize("argv", [
    ["site", "--task", "../../x"], ["site", "--task", "/tmp/mlsd-escape"], ["compare", "--task", "../../x", "a", "b"],
    ["check", "--task", "../../x"], ["check", "--system", "nope"], ["leaderboard", "--task", "./x/../../y"],
    ["run", "--task", "moons-acc", "--system", "../x"],
])
def test_the_real_command_line_refuses_in_one_line(tmp_path: Path, argv: list[str]) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, "-m", "benchmarks", *argv], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    _one_error_line(done.stderr)
    assert list(tmp_path.iterdir()) == [] and not Path("/tmp/mlsd-escape.html").exists()


@pytest.mark.parametrize("suffix", ["../../escaped", "/abs", "a/b", "../", "x\x00y", "ü.txt", "a\\..\\b", "~/x"])
def test_an_artifact_name_never_leaves_the_jobs_folder(tmp_path: Path, suffix: str) -> None:
    from benchmarks.api import RunContext

    folder = tmp_path / "job"
    context = RunContext(task_id="mock-acc", profile="smoke", seed=0, device="cpu", artifacts_dir=folder,
                         artifact_prefix="job")
    with pytest.raises(UserError, match="artifact"):
        context.artifact_path(suffix)
    assert context.artifact_path("run.trec") == folder / "job.run.trec"
    assert context.artifact_path("..") == context.artifact_path("") == folder / "job."  # dots are stripped: still inside
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["job"]
