"""Adding a system is one file: a new module in systems/, or an installed distribution's
entry point in the group ``mlsd_bench.systems``. Both are checked in fresh processes."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.conftest import REPO

PLUGIN_SYSTEM = '''
"""System ``{system_id}``: predicts the majority class (a test plug-in)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from benchmarks.api import System
from benchmarks.registry import register_system


@dataclass
class Config:
    constant: int = -1


@register_system
class Majority(System):
    id = "{system_id}"
    kind = "classifier"
    tasks = ("moons-acc",)
    Config = Config

    def fit(self, X, y):
        self.label = int(round(float(np.mean(y)))) if self.config.constant < 0 else self.config.constant

    def predict(self, X):
        return np.full(len(X), self.label)
'''


def _cli(args: list[str], cwd: Path, env_extra: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, **(env_extra or {})}
    return subprocess.run([sys.executable, "-m", "benchmarks", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


@pytest.mark.integration
def test_new_file_in_systems_appears_and_runs(tmp_path):
    checkout = tmp_path / "checkout"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for folder in ("benchmarks", "systems"):
        shutil.copytree(REPO / folder, checkout / folder, ignore=ignore)
    (checkout / "datasets").mkdir()
    (checkout / "systems" / "my_majority.py").write_text(PLUGIN_SYSTEM.format(system_id="my-majority"))

    listing = _cli(["list", "--json"], cwd=checkout)
    assert listing.returncode == 0, listing.stderr
    systems = {s["id"]: s for s in json.loads(listing.stdout)["systems"]}
    assert systems["my-majority"]["available"] and systems["my-majority"]["tasks"] == ["moons-acc"]
    assert systems["my-majority"]["origin"].startswith("systems.my_majority")

    results = tmp_path / "results"
    ran = _cli(["run", "--task", "moons-acc", "--system", "my-majority", "--profile", "smoke", "--seed", "0",
                "--results-dir", str(results), "--quiet"], cwd=checkout)
    assert ran.returncode == 0, ran.stderr
    (record_file,) = (results / "records" / "moons-acc" / "my-majority").glob("*.json")
    record = json.loads(record_file.read_text())
    assert record["status"] == "ok" and 0.4 < record["metrics"]["accuracy"] < 0.6
    assert "my-majority" in (results / "moons-acc.md").read_text()


@pytest.mark.integration
def test_entry_point_plugin_from_an_installed_distribution(tmp_path):
    source = tmp_path / "plugin-src"
    (source / "mlsd_majority_plugin").mkdir(parents=True)
    (source / "mlsd_majority_plugin" / "__init__.py").write_text(PLUGIN_SYSTEM.format(system_id="plugin-majority"))
    (source / "pyproject.toml").write_text(textwrap.dedent('''
        [build-system]
        requires = ["setuptools>=61"]
        build-backend = "setuptools.build_meta"

        [project]
        name = "mlsd-majority-plugin"
        version = "0.1.0"

        [project.entry-points."mlsd_bench.systems"]
        plugin-majority = "mlsd_majority_plugin"
    '''))
    site = tmp_path / "site"
    install = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation", "--no-index",
         "--target", str(site), str(source)],
        capture_output=True, text=True, timeout=300,
    )
    assert install.returncode == 0, install.stderr
    assert list(site.glob("mlsd_majority_plugin-0.1.0.dist-info/entry_points.txt"))

    env = {"PYTHONPATH": os.pathsep.join([str(site), str(REPO)])}
    listing = _cli(["list", "--json"], cwd=tmp_path, env_extra=env)
    assert listing.returncode == 0, listing.stderr
    ids = {s["id"] for s in json.loads(listing.stdout)["systems"]}
    assert "plugin-majority" in ids and "logreg" in ids

    results = tmp_path / "results"
    ran = _cli(["run", "--task", "moons-acc", "--system", "plugin-majority", "--profile", "smoke", "--seed", "1",
                "--set", "constant=1", "--results-dir", str(results), "--quiet"], cwd=tmp_path, env_extra=env)
    assert ran.returncode == 0, ran.stderr
    (record_file,) = (results / "records" / "moons-acc" / "plugin-majority").glob("*.json")
    record = json.loads(record_file.read_text())
    assert record["status"] == "ok" and record["config"] == {"constant": 1}


@pytest.mark.integration
@pytest.mark.slow  # covered, and more, in the default tier by test_hostile_plugins.py's
# test_a_plugin_that_fails_to_import_shows_its_real_error (the same missing-module plug-in, `list` and `run`)
def test_a_plugin_that_fails_to_import_does_not_break_discovery(tmp_path):
    checkout = tmp_path / "checkout"
    for folder in ("benchmarks", "systems"):
        shutil.copytree(REPO / folder, checkout / folder, ignore=shutil.ignore_patterns("__pycache__"))
    (checkout / "datasets").mkdir()
    (checkout / "systems" / "broken_one.py").write_text("import a_module_nobody_has\n")
    listing = _cli(["list"], cwd=checkout)
    assert listing.returncode == 0, listing.stderr
    assert "logreg" in listing.stdout
    assert "systems.broken_one" in listing.stdout and "a_module_nobody_has" in listing.stdout
