"""``--set key=value``: literal parsing and type checks against the dataclass fields."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import pytest

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
