"""The command line: help on every command, list, errors that speak to the user."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from benchmarks.cli import _command_modules, main


@pytest.mark.parametrize("command", [m.NAME for m in _command_modules()])
def test_help_on_every_command(command, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([command, "--help"])
    assert exit_info.value.code == 0
    assert "usage" in capsys.readouterr().out


def test_list_shows_tasks_and_systems(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "moons-acc" in out and "accuracy ↑" in out
    assert "micrograd-mlp" in out and "[available]" in out


def test_list_json(capsys):
    assert main(["list", "--json"]) == 0
    found = json.loads(capsys.readouterr().out)
    assert any(t["id"] == "moons-acc" for t in found["tasks"])


def test_user_errors_exit_2_without_traceback(capsys, tmp_path):
    assert main(["run", "--task", "moons-accc", "--results-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "did you mean 'moons-acc'" in err and "Traceback" not in err
    assert main(["run", "--task", "moons-acc", "--device", "tpu", "--results-dir", str(tmp_path)]) == 2
    assert "expected auto, cpu, cuda or mps" in capsys.readouterr().err


def test_cuda_requested_without_a_gpu_is_a_clear_error(capsys, tmp_path):
    from benchmarks.environment import accelerator

    if accelerator() is not None:
        pytest.skip("this machine has an accelerator")
    assert main(["run", "--task", "moons-acc", "--device", "cuda", "--results-dir", str(tmp_path)]) == 2
    assert "no CUDA device" in capsys.readouterr().err


def test_score_on_a_task_without_a_file_format(tmp_path, capsys):
    predictions = tmp_path / "p.csv"
    predictions.write_text("x")
    assert main(["score", "--task", "moons-acc", "--predictions", str(predictions), "--truth", str(predictions)]) == 2
    assert "no file scorer" in capsys.readouterr().err
    assert main(["score", "--task", "moons-acc", "--predictions", str(tmp_path / "missing"), "--truth", str(predictions)]) == 2
    assert "no such file" in capsys.readouterr().err


@pytest.mark.integration  # the command line in a subprocess
def test_console_script_matches_module():
    script = shutil.which("mlsd-bench")
    if script is None:
        pytest.skip("mlsd-bench is not installed on PATH (pip install -e .)")
    via_script = subprocess.run([script, "list", "--json"], capture_output=True, text=True, timeout=120)
    via_module = subprocess.run([sys.executable, "-m", "benchmarks", "list", "--json"], capture_output=True, text=True, timeout=120)
    assert via_script.returncode == 0 and json.loads(via_script.stdout) == json.loads(via_module.stdout)
