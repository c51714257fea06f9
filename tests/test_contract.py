"""The contract: every registered (system, task) pair runs on the smoke profile and yields a valid record.

The pairs come from the registry, so a new system or task is tested the moment it exists, with no
list to edit. Each task's systems run together (one data preparation, two jobs at a time). A pair is
skipped, with the reason, when its system's extra is missing (the install hint) or when its task's
data is not here (under ``MLSD_REQUIRE_DATA=1`` a task that needs the shared data fails instead).
A declared smoke-profile expectation (``python -m benchmarks check``) is graded from the same run.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from benchmarks.expected import grade
from benchmarks.metrics import canonical
from benchmarks.registry import SYSTEMS, TASKS, discover, get_system, systems_for

discover()

pytestmark = pytest.mark.integration

SLOW_PAIRS = {("beir-ndcg10", "bm25-lucene"), ("beir-ndcg10", "dense-minilm"), ("beir-ndcg10", "hybrid-rrf"),
              ("shakespeare-char-speedrun", "char-gpt-modern"), ("shakespeare-char-speedrun", "char-lstm"),
              ("shakespeare-char-speedrun", "char-mlp")}
"""Slow tier (besides the tasks that declare ``slow_smoke``; a new task needs no entry here): each of these systems
runs the same code on the same kind in a default-tier pair, where its worker's start (a JVM; torch and a
sentence-transformer) costs as much: the retrievers in their ``beir-scifact-ndcg10`` pair
(real data, the declared smoke expectation graded), the char-LMs in their ``shakespeare-char-ppl`` pair. Each task
keeps default-tier pairs: ``beir-ndcg10 --dataset`` with ``bm25s`` and ``bm25-rank``, the speedrun with
``char-gpt`` (and tests/test_charlm_speedrun.py runs it with char-gpt and char-mlp)."""


def task_inputs(task_id: str, request: pytest.FixtureRequest, tmp: Path) -> tuple[dict, Path | None]:
    """The overrides and data dir that let a task's smoke profile run here (its kind says what it needs), or a skip
    (or a failure under MLSD_REQUIRE_DATA) saying what is missing."""
    task_cls = TASKS.get(task_id)
    inputs = task_cls.kind.smoke_inputs(task_cls, tmp)
    if not inputs.shared_data:
        return inputs.overrides, None
    data_dir = request.getfixturevalue("data_dir")
    if not (data_dir / inputs.shared_data).exists():
        pytest.skip(f"no {inputs.shared_data} in the shared data")
    return inputs.overrides, data_dir


def _pairs() -> list:
    pairs = []
    for task_id, task_cls in TASKS.items():
        if task_cls.__module__ == "mock_plugins":
            continue  # the mock task is a fixture, not part of the product
        for system_cls in systems_for(task_cls):
            marks = [pytest.mark.slow] if task_cls.slow_smoke or (task_id, system_cls.id) in SLOW_PAIRS else []
            pairs.append(pytest.param(task_id, system_cls.id, id=f"{system_cls.id}@{task_id}", marks=marks))
    return pairs


def _selected_systems(request: pytest.FixtureRequest, task_id: str) -> set[str]:
    """The systems whose pair with ``task_id`` this session runs (tier and ``-k`` applied): one run of the task
    serves them all, and none other is run for nothing."""
    return {item.callspec.params["system_id"] for item in request.session.items
            if item.originalname == request.node.originalname and item.callspec.params["task_id"] == task_id}


@pytest.mark.parametrize("task_id,system_id", _pairs())
def test_every_pair_runs_on_the_smoke_profile(task_id: str, system_id: str, smoke_run, request, tmp_path_factory) -> None:
    system_cls = get_system(system_id)
    missing = system_cls.missing_requirements()
    if missing:
        pytest.skip(f"{system_id} needs {', '.join(missing)}: {system_cls.install_hint()}")
    overrides, data_dir = task_inputs(task_id, request, tmp_path_factory.mktemp(task_id))
    record = smoke_run(task_id, overrides, data_dir, _selected_systems(request, task_id))[system_id]
    assert record.ok, record.traceback or record.error
    task_cls = TASKS.get(task_id)
    assert record.main_metric == task_cls.main_metric
    if record.main_value is None:  # legitimate only where the task says what an empty main metric means
        assert task_cls.empty_main_metric, f"{task_id} recorded no {record.main_metric}"
        assert any(value is not None for value in record.metrics.values())
    else:
        assert math.isfinite(record.main_value)
    values = record.per_example.values.get(record.main_metric)
    if values:  # a mean over examples: its per-example values average to it
        assert np.mean(values) == pytest.approx(record.main_value, abs=1e-6)
        if record.per_example.ids is not None:
            assert len(record.per_example.ids) == len(values)
    assert record.peak_memory_mb and record.peak_memory_mb > 0 and record.timings["fit_s"] >= 0
    for expected in system_cls.expected:
        if expected.task == task_id and expected.profile == "smoke" and expected.seed == 0 and not expected.overrides:
            observed = record.metrics.get(canonical(expected.metric))
            if expected.dataset_fingerprint and expected.dataset_fingerprint != record.fingerprint:
                continue
            assert grade(expected, observed) in ("OK", "OKish"), (
                f"{system_id} declares {expected.metric} = {expected.value} ± {expected.tolerance} on {task_id} smoke; got {observed}")


def test_the_pairs_come_from_the_registry() -> None:
    """Every product task has at least one system, and every system runs at least one product task."""
    ids = {p.values[1] for p in _pairs()}
    tasks = {p.values[0] for p in _pairs()}
    product_systems = {s for s, cls in SYSTEMS.items() if cls.__module__ not in ("mock_plugins", "test_runner")}
    assert product_systems <= ids
    assert {t for t, cls in TASKS.items() if cls.__module__ != "mock_plugins"} == tasks
