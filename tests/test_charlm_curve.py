"""Periodic evaluation inside training (``RunContext.checkpoint``, the task's ``StrictCurve``): the
evaluation's time stays off the training clock, a False answer stops training, and the curve's
losses are the strict protocol's."""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from benchmarks.api import RunContext, System
from benchmarks.data.shakespeare import split_text
from benchmarks.jobs import fit_predict_evaluate
from benchmarks.tasks.shakespeare import Options, ShakespeareCharPerplexity
from tests.conftest import synthetic_text
from tests.test_charlm_systems import make_system

TRAIN_STEP_S = 0.1
EVAL_S = 0.4
STEPS = 3


class SlowUniform(System):
    """A uniform model whose training steps and evaluations during training take known times."""

    def __init__(self, config: Any, context: RunContext) -> None:
        super().__init__(config, context)
        self.train_chars_seen = 0
        self.training = False

    def fit(self, train_ids: np.ndarray, vocab_size: int, valid_ids: np.ndarray) -> None:
        self.vocab_size, self.training = vocab_size, True
        for step in range(STEPS + 1):
            if step:
                time.sleep(TRAIN_STEP_S)  # one "training step"
            self.context.checkpoint(step, 10 * step)
        self.training, self.train_chars_seen = False, 10 * STEPS

    def log_probs(self, stream: np.ndarray, start: int) -> np.ndarray:
        if self.training:
            time.sleep(EVAL_S)  # a slow evaluation, called by the task's checkpoint callback
        return np.full((len(stream) - start + 1, self.vocab_size), -math.log(self.vocab_size))

    def num_parameters(self) -> int:
        return 0


def execute_job(task: ShakespeareCharPerplexity, system_cls: type[System], data: Any, context: RunContext,
                config: Any = None) -> dict[str, Any]:
    """A job's phases as ``benchmarks.jobs.run_job`` runs them, with a system that is not registered."""
    _, evaluation = fit_predict_evaluate(task, system_cls(config, context), data, context)
    return {"metrics": evaluation.metrics, "extras": evaluation.extras, "timings": context.timings}


def _task_and_data(tmp_path: Path, **options: Any) -> tuple[ShakespeareCharPerplexity, Any]:
    corpus = tmp_path / "play.txt"
    corpus.write_text(synthetic_text(3_000, seed=5))
    task = ShakespeareCharPerplexity(Options(dataset=str(corpus), sample_chars=0, **options))
    return task, task.prepare(RunContext(task_id=task.id, profile="smoke"))


def test_evaluation_during_training_is_off_the_clock(tmp_path: Path) -> None:
    task, data = _task_and_data(tmp_path)
    context = RunContext(task_id=task.id, profile="smoke")
    result = execute_job(task, SlowUniform, data, context)
    evaluations = (STEPS + 1) * EVAL_S  # 1.6 s of evaluation against 0.3 s of training
    training = STEPS * TRAIN_STEP_S
    assert result["timings"]["checkpoint_s"] >= evaluations
    # with the evaluations counted, both clocks would read ≥ 1.9 s
    assert training <= result["timings"]["fit_s"] < training + 0.6
    assert training <= result["metrics"]["train_seconds"] < training + 0.6
    curve = result["extras"]["curves"]
    assert curve["step"] == [0, 1, 2, 3] and curve["train_chars"] == [0, 10, 20, 30]
    gaps = np.diff(curve["train_seconds"])
    assert np.all(gaps >= TRAIN_STEP_S - 1e-3) and np.all(gaps < TRAIN_STEP_S + 0.3)
    uniform = math.log(len(split_text(synthetic_text(3_000, seed=5)).vocab))
    assert curve["val_loss"] == pytest.approx([uniform] * 4, abs=1e-5)
    assert result["metrics"]["val_loss_best_val_selected"] == pytest.approx(uniform, abs=1e-9)
    assert context.checkpoint_callback is None  # the task removed its hook after fit


def test_no_curve_when_switched_off(tmp_path: Path) -> None:
    task, data = _task_and_data(tmp_path, curve=False)
    result = execute_job(task, SlowUniform, data, RunContext(task_id=task.id, profile="smoke"))
    assert "curves" not in result["extras"] and "val_loss_best_val_selected" not in result["metrics"]
    assert result["timings"].get("checkpoint_s", 0.0) == 0.0  # no hook installed: nothing was evaluated during training


def test_a_false_checkpoint_stops_a_neural_system() -> None:
    split = split_text(synthetic_text(3_000, seed=1))
    system = make_system("char-gpt", iterations=30, eval_interval=5)
    seen: list[tuple[int, int, float | None]] = []

    def stop_at_ten(step: int, train_chars: int, train_loss: float | None) -> bool:
        seen.append((step, train_chars, train_loss))
        return step < 10

    system.context.checkpoint_callback = stop_at_ten
    system.fit(split.train, split.vocab_size, split.valid)
    chars_per_step = system.config.batch_size * system.config.block_size
    assert [s for s, _, _ in seen] == [0, 5, 10]
    assert [c for _, c, _ in seen] == [0, 5 * chars_per_step, 10 * chars_per_step]
    assert seen[0][2] is None and all(0 < loss < 10 for _, _, loss in seen[1:])  # mean training loss since the last one
    assert system.steps_done == 10 and system.train_chars_seen == 10 * chars_per_step


def test_strict_curve_matches_the_final_evaluation(tmp_path: Path) -> None:
    task, data = _task_and_data(tmp_path)
    system_cls = type(make_system("char-gpt"))
    config = make_system("char-gpt", iterations=10, eval_interval=5).config
    result = execute_job(task, system_cls, data, RunContext(task_id=task.id, profile="smoke"), config)
    curve = result["extras"]["curves"]
    assert curve["step"] == [0, 5, 10]
    # the last checkpoint scores the final model on the same stream as predict
    assert curve["val_loss"][-1] == pytest.approx(result["metrics"]["val_loss"], abs=1e-5)
    assert result["metrics"]["val_loss_best_val_selected"] == pytest.approx(min(curve["val_loss"]), abs=1e-5)  # curves keep 5 decimals
    assert result["extras"]["best_step_val_selected"] == curve["step"][int(np.argmin(curve["val_loss"]))]
