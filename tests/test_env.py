"""Tests for `python -m benchmarks env`: it prints the same record the runner stores with results."""

from __future__ import annotations

import json

import pytest

from benchmarks import cli, environment


def test_env_json_is_the_environment_record(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["env", "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["hardware"] == json.loads(json.dumps(environment.hardware()))
    assert printed["versions"]["numpy"] == environment.versions()["numpy"]
    assert printed["git_sha"] == environment.git_sha()


def test_env_text_names_cpu_cores_and_versions(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["env"]) == 0
    out = capsys.readouterr().out
    assert f"({environment.hardware()['cores']} cores available)" in out
    assert "numpy" in out and "git sha" in out


def test_help_lists_the_comparison_commands(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for command in ("compare", "check", "site", "env"):
        assert f"    {command} " in out
