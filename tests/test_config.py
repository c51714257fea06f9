"""``--set key=value``: literal parsing, type checks against the dataclass fields, and the path to the system."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import pytest

from benchmarks.api import System
from benchmarks.config import build_config, config_to_dict, parse_assignments
from benchmarks.errors import UserError


@dataclass
class Example:
    lr: float = 0.1
    layers: tuple[int, ...] = (16, 16)
    name: str = "adam"
    batch: int | None = None
    flag: bool = False
    mode: Literal["local", "kaggle"] = "local"


def test_parse_literals_and_plain_strings():
    values = parse_assignments(["lr=1e-3", "layers=(8, 8, 8)", "name=sgd", "batch=None", "flag=True", "text='a=b'"])
    assert values == {"lr": 0.001, "layers": (8, 8, 8), "name": "sgd", "batch": None, "flag": True, "text": "a=b"}


def test_parse_rejects_missing_equals():
    with pytest.raises(UserError, match="expected key=value"):
        parse_assignments(["lr"])


def test_build_checks_and_converts_types():
    config = build_config(Example, {"lr": 1, "layers": [4, 4], "batch": 32, "mode": "kaggle"}, owner="x")
    assert config.lr == 1.0 and isinstance(config.lr, float)
    assert config.layers == (4, 4) and config.batch == 32 and config.mode == "kaggle"
    assert config_to_dict(config)["layers"] == [4, 4]


@pytest.mark.parametrize(
    "values, message",
    [
        ({"lr": "fast"}, "option 'lr': expected float"),
        ({"flag": 1}, "option 'flag': expected bool"),
        ({"batch": 2.5}, "option 'batch'"),
        ({"layers": (1, "a")}, "option 'layers'"),
        ({"mode": "remote"}, "option 'mode'"),
        ({"learning_rate": 1.0}, "has no option 'learning_rate'"),
        ({"LR": 1.0}, "did you mean lr"),
    ],
)
def test_build_rejects_bad_values_with_a_clear_message(values, message):
    with pytest.raises(UserError, match=message):
        build_config(Example, values, owner="system 'x'")


@dataclass
class ProbeConfig:
    rate: float = 0.1
    layers: tuple[int, ...] = (4,)
    name: str = "a"


SEEN: list[object] = []


class ConfigProbe(System):
    """Keeps the config it was built with (an in-process run: the test reads it back)."""

    id = "test-config-probe"
    kind = "classifier"
    tasks = ("mock-*",)
    Config = ProbeConfig

    def fit(self, X, y):
        SEEN.append(self.config)

    def predict(self, X):
        return np.zeros(len(X), dtype=int)


def test_a_set_value_reaches_the_system_typed_and_unchanged(tmp_path, monkeypatch):
    """The documented path (benchmarks/config.py): the command line → config.py (parsed, routed, checked into
    the job's typed Config) → jobs.py builds the system with it; the record keeps the same values."""
    from benchmarks import runner
    from benchmarks.cli import main
    from benchmarks.records import load_records
    from benchmarks.registry import SYSTEMS, register_system

    monkeypatch.setattr(runner, "_write_leaderboards", lambda *_: True)  # scipy's import: seconds, and not the point
    register_system(ConfigProbe)
    SEEN.clear()
    try:
        status = main(["run", "--task", "mock-acc", "--system", ConfigProbe.id, "--profile", "smoke", "--seed", "0",
                       "--set", "rate=2", "--set", "test-config-probe.layers=[8, 8]", "--set", "name=b",
                       "--no-isolation", "--quiet", "--results-dir", str(tmp_path / "results")])
    finally:
        SYSTEMS.remove(ConfigProbe.id)
    assert status == 0
    (config,) = SEEN
    assert config == ProbeConfig(rate=2.0, layers=(8, 8), name="b") and isinstance(config.rate, float)
    (record,) = load_records(tmp_path / "results")
    assert record.config == {"rate": 2.0, "layers": [8, 8], "name": "b"}
    assert record.config_overrides == {"rate": 2, "layers": [8, 8], "name": "b"}


def test_set_values_are_parsed_and_checked_in_config_only():
    """No other module of the harness parses, routes or checks a ``--set`` value (the runner and the executors
    carry the typed spec; jobs.py builds from it): the path stays four files long."""
    import benchmarks

    root = Path(benchmarks.__file__).parent
    names = re.compile(r"\b(parse_assignments|route_overrides|build_config|resolve_system_config|literal_eval)\b")
    users = {path.relative_to(root).as_posix() for path in root.rglob("*.py") if names.search(path.read_text())}
    assert users <= {"config.py", "commands/run.py", "commands/data_stats.py"}, users
