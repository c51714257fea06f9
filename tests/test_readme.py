"""The README's commands and example are the real ones."""

from __future__ import annotations

import importlib.util
import re
import sys

from benchmarks.registry import SYSTEMS, discover
from benchmarks.runner import RunRequest, run
from tests.conftest import REPO

README = (REPO / "README.md").read_text()


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README, flags=re.S)


def test_ci_runs_the_readme_test_command():
    commands = [line.strip() for block in _blocks("bash") for line in block.splitlines() if line.strip()]
    test_command = next(c for c in commands if "pytest" in c)
    ci_script = (REPO / ".ci" / "run").read_text()
    assert test_command in ci_script


def test_readme_main_command_names_real_tasks():
    discover()
    from benchmarks.registry import TASKS

    main_command = next(line for block in _blocks("bash") for line in block.splitlines() if "benchmarks run" in line)
    for task in re.findall(r"--task (\S+)", main_command):
        assert task in TASKS, task


def test_readme_system_example_runs(tmp_path):
    source = next(block for block in _blocks("python") if "register_system" in block)
    path = tmp_path / "readme_knn.py"
    path.write_text(source)
    discover()
    spec = importlib.util.spec_from_file_location("readme_knn", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["readme_knn"] = module  # dataclasses look their module up
    try:
        spec.loader.exec_module(module)
        (outcome,) = run(RunRequest(task="moons-acc", systems=["knn"], seeds=[0], profile="smoke",
                                    results_dir=tmp_path / "results", progress=False, overrides={"k": 5},
                                    isolate=False))  # the module lives in a temp file a spawned worker cannot import
        assert outcome.status == "ok" and outcome.metrics["accuracy"] > 0.95
    finally:
        SYSTEMS.remove("knn")
        del sys.modules["readme_knn"]
