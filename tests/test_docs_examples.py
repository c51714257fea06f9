"""Every command example in README.md and CONTRIBUTING.md, taken from the files themselves and checked with the
real argument parser (issue 21, class 3).

Each example is handled one of three ways, listed in :data:`EXAMPLES` (a new example without an entry fails
:func:`test_every_example_is_listed`):

- ``run``: run exactly as written, with the test's temporary folder as the working directory (so ``results/``
  lands there); nothing is added.
- ``plan``: the example needs hours or data this machine may lack (the README's main job takes 4 min 43 s, the
  speedrun and cluster jobs much more): parsed with the real parser and resolved into its jobs by
  ``benchmarks.config.plan`` without running them.
- ``synopsis``: a line of the command-line summary with placeholders (``T``, ``[--json]``, ``smoke|default``):
  every option it names must exist on that command, every value it lists must be accepted, and one concrete
  instance is run (smoke profile where it runs jobs).

Commands that are not MLSD Bench's (``pip``, ``ruff``, ``pytest``, ``ray start``, ``duplicates``) are checked for
what they assume of this project: the extras and pins they name, the pytest markers they select.
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.cli import build_parser, main
from benchmarks.config import RunRequest, plan
from benchmarks.registry import SYSTEMS, discover
from tests.conftest import REPO

DOCS = {name: (REPO / name).read_text(encoding="utf-8") for name in ("README.md", "CONTRIBUTING.md")}
PREFIX = "python -m benchmarks"


def shell_commands(text: str, untagged: bool = True) -> list[str]:
    """Every command in the ``bash`` blocks (and the untagged ones: the command-line summary), with ``\\``
    continuations and indented synopsis lines joined, comments dropped, ``&&`` chains split, whitespace normalised."""
    found = []
    for block in re.findall(r"```(?:bash)?\n(.*?)```" if untagged else r"```bash\n(.*?)```", text, flags=re.S):
        lines: list[str] = []
        for raw in block.replace("\\\n", " ").splitlines():
            line = re.sub(r"\s+#\s.*$", "", raw).rstrip()
            if lines and raw.startswith(" ") and line.strip().startswith("["):
                lines[-1] += " " + line.strip()
            elif line.strip():
                lines.append(line.strip())
        for line in lines:
            found += [" ".join(part.split()) for part in line.split("&&")]
    return found


def examples(text: str) -> list[str]:
    """The ``python -m benchmarks`` commands of a document: in fenced blocks and in inline code."""
    found = [c for c in shell_commands(text) if c.startswith(PREFIX)]
    found += [" ".join(span.split()) for span in re.findall(r"`(python -m benchmarks[^`]*)`", text)]
    return list(dict.fromkeys(found))


def set_fragments(text: str) -> list[str]:
    """Inline ``--set key=value`` examples."""
    return list(dict.fromkeys(re.findall(r"`(--set [^`\s]+)`", text)))


EXAMPLES = {
    "python -m benchmarks run --task moons-acc --task hm-map12 --task otto-recall20": "plan",
    "python -m benchmarks list": "run",
    "python -m benchmarks run --task T… [--system S]… [--seed N]… [--profile smoke|default|full|nanogpt-cpu] "
    "[--device auto|cpu|cuda|mps] [--data-dir D] [--dataset PATH] [--results-dir R] [--timeout SECONDS] "
    "[--set key=value]… [--executor local|ray] [--jobs N] [--address A] [--retries N] [--resume] [--rerun-failed] "
    "[--serve single-stream,offline,server]": "synopsis",
    "python -m benchmarks leaderboard [--task T]": "synopsis",
    "python -m benchmarks score --task T --predictions F --truth G [--json] [--normalize-ids]": "synopsis",
    "python -m benchmarks compare --task T A B [C…] [--json]": "synopsis",
    "python -m benchmarks compare --task T --rank-by p99_ms": "synopsis",
    "python -m benchmarks check [--task T] [--profile P]": "synopsis",
    "python -m benchmarks data-stats --task T [--dataset PATH | --set scale=S] [--json]": "synopsis",
    "python -m benchmarks site": "run",
    "python -m benchmarks env": "run",
    "python -m benchmarks run --task shakespeare-char-speedrun --system char-gpt-modern --seed 0 --seed 1 --seed 2 "
    "--set threads=2": "plan",
    "python -m benchmarks run --task hm-map12 --task otto-recall20 --seed 0 --seed 1 --seed 2 --profile full "
    "--executor ray --address auto --resume": "plan",
    "python -m benchmarks run --task moons-acc --system knn": "run",
    "python -m benchmarks leaderboard": "run",
    "python -m benchmarks data-stats --task T": "synopsis",
    "python -m benchmarks check": "plan",
}

SET_FRAGMENTS = {  # inline `--set` examples: the task they are meant for
    "--set learning_rate=0.01": "moons-acc", "--set micrograd-mlp.steps=50": "moons-acc",
    "--set task.holdout=kaggle": "hm-map12", "--set rotary=false": "shakespeare-char-speedrun",
    "--set scale=S": None,  # the data-stats synopsis' placeholder: checked with that synopsis
}


def test_every_example_is_listed() -> None:
    found = [command for text in DOCS.values() for command in examples(text)]
    assert sorted(set(found)) == sorted(EXAMPLES), "a README/CONTRIBUTING example without a test (or a test without one)"
    fragments = {f for text in DOCS.values() for f in set_fragments(text)}
    assert fragments <= set(SET_FRAGMENTS), fragments - set(SET_FRAGMENTS)


def _argv(command: str) -> list[str]:
    return shlex.split(command.removeprefix(PREFIX))


def _parse(argv: list[str]) -> argparse.Namespace:
    return build_parser().parse_args(argv)


def _request(args: argparse.Namespace) -> RunRequest:
    """What ``run``'s main builds from its arguments (benchmarks/commands/run.py)."""
    from benchmarks.config import parse_assignments

    overrides = parse_assignments(args.set)
    if args.dataset is not None:
        overrides["task.dataset"] = args.dataset
    return RunRequest(tasks=args.task, systems=args.system, seeds=args.seed, profile=args.profile, device=args.device,
                      data_dir=args.data_dir, results_dir=args.results_dir, timeout=args.timeout, overrides=overrides,
                      executor=args.executor, jobs=args.jobs, address=args.address, retries=args.retries,
                      resume=args.resume, rerun_failed=args.rerun_failed)


def _available(system: str) -> bool:
    discover()
    return system in SYSTEMS and not SYSTEMS.get(system).missing_requirements()


# --- plan: parsed and resolved, not run ---------------------------------------------------------------------------


def test_the_main_job_plans_every_task_and_system() -> None:
    """README, "Two commands": 4 min 43 s on 2 idle cores, so planned here (the default tier's budget)."""
    args = _parse(_argv("python -m benchmarks run --task moons-acc --task hm-map12 --task otto-recall20"))
    grid = plan(_request(args))
    assert {job.task for job in grid.jobs} == {"moons-acc", "hm-map12", "otto-recall20"}
    assert all(job.profile == "default" for job in grid.jobs)
    moons = {job.system for job in grid.jobs if job.task == "moons-acc"}
    assert {"logreg", "rbf-svm", "micrograd-mlp"} <= moons
    assert sorted({job.seed for job in grid.jobs if job.task == "moons-acc"}) == [0, 1, 2]


@pytest.mark.parametrize("fragment", ["", "--set rotary=false", "--set muon=false", "--set qk_norm=false",
                                      "--set relu2=false", "--set zero_init=false", "--set trapezoid=false"])
def test_the_speedrun_example_plans_three_seeds(fragment: str) -> None:
    """README, "The char-LM speedrun" (and its `--set rotary=false` variants): minutes of training per seed."""
    command = ("python -m benchmarks run --task shakespeare-char-speedrun --system char-gpt-modern --seed 0 --seed 1 "
               "--seed 2 --set threads=2")
    if not _available("char-gpt-modern"):
        pytest.skip("char-gpt-modern needs torch")
    grid = plan(_request(_parse(_argv(f"{command} {fragment}"))))
    assert [job.seed for job in grid.jobs] == [0, 1, 2] and {job.system for job in grid.jobs} == {"char-gpt-modern"}
    assert all(job.config.threads == 2 for job in grid.jobs)
    if fragment:
        name = fragment.removeprefix("--set ").split("=")[0]
        assert all(getattr(job.config, name) is False for job in grid.jobs)


def test_the_cluster_example_plans_on_ray_without_a_cluster() -> None:
    """README, "Run on a cluster": the full profile on Ray (`ray start` is Ray's own command, not checked here)."""
    args = _parse(_argv("python -m benchmarks run --task hm-map12 --task otto-recall20 --seed 0 --seed 1 --seed 2 "
                        "--profile full --executor ray --address auto --resume"))
    assert args.executor == "ray" and args.address == "auto" and args.resume
    grid = plan(_request(args))
    assert {job.task for job in grid.jobs} == {"hm-map12", "otto-recall20"}
    assert {job.seed for job in grid.jobs} == {0, 1, 2} and {job.profile for job in grid.jobs} == {"full"}


def test_check_with_no_selection_plans_every_declared_condition() -> None:
    """CONTRIBUTING: `python -m benchmarks check` reruns every declared score (minutes): its conditions are planned."""
    from benchmarks.commands.check import declared

    args = _parse(_argv("python -m benchmarks check"))
    conditions = declared(args.task, args.profile, args.system)
    assert {expected.task for _, expected in conditions} >= {"moons-acc", "beir-scifact-ndcg10"}
    for system_cls, expected in conditions:
        if system_cls.missing_requirements():
            continue
        request = RunRequest(task=expected.task, systems=[system_cls.id], seeds=[expected.seed], profile=expected.profile,
                             device="cpu", overrides={f"{system_cls.id}.{k}": v for k, v in expected.overrides.items()})
        (job,) = plan(request).jobs
        assert (job.task, job.system, job.seed) == (expected.task, system_cls.id, expected.seed)


@pytest.mark.parametrize("fragment", [f for f, task in SET_FRAGMENTS.items() if task])
def test_set_fragments_resolve_on_their_task(fragment: str) -> None:
    """README, "Configs": each inline `--set` example is accepted and lands where the README says."""
    task = SET_FRAGMENTS[fragment]
    args = _parse(["run", "--task", task, "--profile", "smoke", *shlex.split(fragment)])
    if task == "shakespeare-char-speedrun" and not _available("char-gpt-modern"):
        pytest.skip("the char-LM systems need torch")
    grid = plan(_request(args))
    key, value = fragment.removeprefix("--set ").split("=")
    if key.startswith("task."):
        assert {str(getattr(job.task_options, key.removeprefix("task."))) for job in grid.jobs} == {value}
    elif "." in key:
        system, name = key.split(".")
        assert [getattr(job.config, name) for job in grid.jobs if job.system == system] == [int(value)] * 3
    else:  # a bare key: every selected system that has the field, and only those
        having = [job for job in grid.jobs if key in job.config_overrides]
        assert having and all(str(getattr(job.config, key)).lower() == value for job in having)
        assert all(not hasattr(job.config, key) for job in grid.jobs if job not in having)


# --- synopsis lines -----------------------------------------------------------------------------------------------


def _synopsis_options(command: str) -> list[tuple[str, list[str]]]:
    """(option, listed values) for each ``--option`` a synopsis names (``smoke|default`` lists values)."""
    found = []
    for option, value in re.findall(r"(--[a-z-]+)(?:[ =]([^\s\]]+))?", command):
        found.append((option, value.split("|") if value and "|" in value else []))
    return found


@pytest.mark.parametrize("command", [c for c, how in EXAMPLES.items() if how == "synopsis"])
def test_synopsis_options_exist_and_listed_values_are_accepted(command: str) -> None:
    name = command.removeprefix(PREFIX).split()[0]
    subparsers = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    parser = subparsers.choices[name]
    options = {option: action for action in parser._actions for option in action.option_strings}
    for option, values in _synopsis_options(command):
        assert option in options, f"{command}: {option} is not an option of {name}"
        for value in values:
            action = options[option]
            if action.choices is not None:
                assert value in action.choices, (option, value)
            elif option == "--profile":
                from benchmarks.api import PROFILES

                assert value in PROFILES, value
            elif option == "--device":
                from benchmarks.environment import resolve_device

                if value in ("auto", "cpu"):
                    assert resolve_device(value) in ("cpu", "cuda", "mps")


@pytest.fixture()
def cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _records(cwd: Path, capsys: pytest.CaptureFixture) -> None:
    """Smoke records of two moons systems in ./results (the setup the leaderboard/compare examples assume)."""
    assert main(["run", "--task", "moons-acc", "--system", "logreg", "--system", "rbf-svm", "--seed", "0", "--seed", "1",
                 "--profile", "smoke", "--quiet", "--no-isolation"]) == 0
    capsys.readouterr()


@pytest.mark.integration
def test_run_synopsis_instance_runs_on_the_smoke_profile(cwd: Path, capsys: pytest.CaptureFixture) -> None:
    """One instance of every option of the run synopsis that runs here (local executor; --address, --dataset and
    --rerun-failed are checked by the parser above and by their own tests)."""
    code = main(["run", "--task", "moons-acc", "--system", "logreg", "--seed", "0", "--profile", "smoke", "--device",
                 "cpu", "--data-dir", str(cwd), "--results-dir", "r", "--timeout", "120", "--set", "C=2.0",
                 "--executor", "local", "--jobs", "1", "--retries", "1", "--resume", "--quiet", "--no-isolation"])
    assert code == 0, capsys.readouterr().err
    assert "moons-acc: 1 ok, 0 failed; leaderboard: r/moons-acc.md" in capsys.readouterr().out
    assert (cwd / "r" / "moons-acc.md").exists()


@pytest.mark.integration
def test_leaderboard_compare_site_examples_run(cwd: Path, capsys: pytest.CaptureFixture) -> None:
    _records(cwd, capsys)
    for argv in (["leaderboard"], ["leaderboard", "--task", "moons-acc"], ["site"]):  # exactly as written
        assert main(argv) == 0, argv
    out = capsys.readouterr().out
    assert "results/moons-acc.md" in out and (cwd / "results" / "site" / "index.html").exists()
    assert main(["compare", "--task", "moons-acc", "logreg", "rbf-svm"]) == 0
    table = capsys.readouterr().out
    assert re.search(r"\|\s*a\s*\|\s*logreg\s*\|", table) and re.search(r"\|\s*b\s*\|\s*rbf-svm\s*\|", table), table
    assert main(["compare", "--task", "moons-acc", "logreg", "rbf-svm", "--json"]) == 0
    assert '"comparisons"' in capsys.readouterr().out


def test_score_example_runs_on_a_tiny_trec_run(cwd: Path, capsys: pytest.CaptureFixture) -> None:
    (cwd / "run.trec").write_text("q1 Q0 d1 1 2.0 x\nq1 Q0 d2 2 1.0 x\nq2 Q0 d3 1 1.0 x\n")
    (cwd / "qrels.tsv").write_text("query-id\tcorpus-id\tscore\nq1\td2\t1\nq2\td3\t1\n")
    assert main(["score", "--task", "beir-scifact-ndcg10", "--predictions", "run.trec", "--truth", "qrels.tsv", "--json"]) == 0
    import json
    import math

    result = json.loads(capsys.readouterr().out)
    # q1: the one relevant doc at rank 2 → 1/log2(3); q2: at rank 1 → 1 (nDCG@10, binary gains)
    assert result["metrics"]["ndcg@10"] == pytest.approx((1 / math.log2(3) + 1) / 2, abs=1e-4)


def test_data_stats_example_runs_on_a_tiny_twin(cwd: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["data-stats", "--task", "otto-recall20", "--set", "scale=0.001", "--json"]) == 0
    assert '"figures"' in capsys.readouterr().out


def test_check_synopsis_instance_plans(cwd: Path) -> None:
    args = _parse(["check", "--task", "moons-acc", "--profile", "smoke"])
    from benchmarks.commands.check import declared

    assert {e.task for _, e in declared(args.task, args.profile, args.system)} == {"moons-acc"}


# --- run exactly --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["python -m benchmarks list", "python -m benchmarks env"])
def test_listing_examples_run(cwd: Path, capsys: pytest.CaptureFixture, command: str) -> None:
    assert main(_argv(command)) == 0
    out = capsys.readouterr().out
    assert ("moons-acc" in out) if "list" in command else ("git sha" in out)
    assert list(cwd.iterdir()) == []


@pytest.mark.integration
@pytest.mark.slow
def test_the_knn_example_runs_as_written(tmp_path: Path) -> None:
    """README, "Adding a system": the module from the README, then `python -m benchmarks run --task moons-acc
    --system knn` exactly (the default profile, seeds 0, 1, 2), in a fresh process whose workers can import it."""
    source = next(block for block in re.findall(r"```python\n(.*?)```", DOCS["README.md"], flags=re.S)
                  if "register_system" in block)
    (tmp_path / "readme_knn.py").write_text(source)
    argv = _argv("python -m benchmarks run --task moons-acc --system knn")
    script = f"import sys, readme_knn; from benchmarks.cli import main; sys.exit(main({argv!r}))"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), str(tmp_path)])}
    done = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "moons-acc: 3 ok, 0 failed" in done.stdout
    assert len(list((tmp_path / "results" / "records" / "moons-acc" / "knn").glob("*.json"))) == 3


# --- commands that are not ours -----------------------------------------------------------------------------------


def test_install_and_test_commands_name_what_the_project_has() -> None:
    """pip extras and pins, pytest marker expressions, ruff: what the README and CONTRIBUTING commands assume
    (pytest is not run from inside pytest; `ray start` and `duplicates` are other projects' commands)."""
    import tomllib
    from _pytest.mark.expression import Expression
    from packaging.specifiers import SpecifierSet

    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    extras = project["project"]["optional-dependencies"]
    markers = {m.split(":")[0] for m in project["tool"]["pytest"]["ini_options"]["markers"]}
    commands = [c for text in DOCS.values() for c in shell_commands(text, untagged=False)]
    assert commands
    for command in commands:
        words = shlex.split(command)
        if words[:2] == ["pip", "install"]:
            for word in words[2:]:
                if "[" in word:
                    for extra in re.search(r"\[(.*)\]", word).group(1).split(","):
                        assert extra in extras, (command, extra)
                elif word.startswith("torch=="):
                    torch_range = next(r for r in extras["torch"] if r.startswith("torch"))
                    assert SpecifierSet(torch_range.removeprefix("torch")).contains(word.split("==")[1]), command
        elif words[:3] == ["python", "-m", "pytest"] and "-m" in words[3:]:
            expression = words[words.index("-m", 3) + 1]
            names = set(re.findall(r"[a-z_]+", expression)) - {"not", "and", "or"}
            assert names <= markers, (command, names - markers)
            Expression.compile(expression)
        elif words[:2] == ["ruff", "check"]:
            assert (REPO / "pyproject.toml").read_text().count("[tool.ruff") >= 1
        else:
            assert words[0] in ("python", "ray", "duplicates"), command
