"""One job, run in the current process: build the task and system from a :class:`JobSpec`, fit, predict,
evaluate, and return a :class:`JobResult` that is plain data (it crosses process and machine boundaries).

Every executor runs jobs through :func:`run_job`; the driver turns each result into a record. Artifacts a task
writes (TREC run files, submissions) travel back inside the result as bytes: workers need no access to the results.
"""

from __future__ import annotations

import copy
import enum
import gc
import math
import os
import random
import sys
import tempfile
import time
import traceback
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks import metrics as metric_facts
from benchmarks.api import RunContext, TaskData, print_nothing
from benchmarks.config import JobSpec
from benchmarks.environment import load_average, thread_settings
from benchmarks.records import json_safe
from benchmarks.serving import measure_task


@dataclass
class JobResult:
    """What a job sends back: metrics and everything the record needs, or the error. ``artifacts`` maps file names
    (``"run.trec"``) to their bytes; ``peak_memory_mb`` and ``memory_method`` are filled by the executor."""

    status: str
    metrics: dict[str, float | None] = field(default_factory=dict)
    per_example_ids: list[str] | None = None
    per_example: dict[str, list[float | None]] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    extras: dict[str, Any] = field(default_factory=dict)
    artifacts: dict[str, bytes] = field(default_factory=dict)
    error: str | None = None
    traceback: str | None = None
    conditions: dict[str, Any] = field(default_factory=dict)
    peak_memory_mb: float | None = None
    memory_method: str | None = None
    node: str | None = None
    warnings: list[str] = field(default_factory=list)
    serving: dict[str, Any] | None = None  # the record's serving section (Serving.to_dict) under --serve
    timed_out: bool = False  # it ran past --timeout and was stopped (its status is failed)

    @classmethod
    def failure(cls, error: str, text: str | None = None, **facts: Any) -> JobResult:
        return cls(status="failed", error=error, traceback=text, **facts)

    @classmethod
    def timeout(cls, seconds: float, what: str = "") -> JobResult:
        return cls.failure(f"timeout: no result after {seconds:g} s (--timeout){what}", timed_out=True)


class Event(enum.Enum):
    """What an executor reports of a job: ``on_event(event, job index, payload)``."""

    STARTED = "started"  # payload None
    PHASE = "phase"  # payload: the phase's text, or (text, node) from a cluster
    FINISHED = "finished"  # payload: its JobResult


Events = Callable[[Event, int, Any], None]


def prepare_data(spec: JobSpec, log: Callable[[str], None] = print_nothing) -> TaskData:
    """``task.prepare``: the data shared by the jobs with ``spec``'s ``JobSpec.data_key``."""
    task = spec.task_cls(spec.task_options)
    context = RunContext(task_id=spec.task, profile=spec.profile, seed=spec.seed, device=spec.device,
                         data_dir=spec.data_dir, cache_dir=spec.cache_dir, task_options=task.options, log=log)
    return task.prepare(context)


def _seed_everything(seed: int) -> None:
    import numpy  # a core dependency, imported with the first job

    random.seed(seed)
    numpy.random.seed(seed % 2**32)
    if "torch" in sys.modules:
        sys.modules["torch"].manual_seed(seed)


def fit_predict_evaluate(task: Any, system: Any, data: TaskData, context: RunContext) -> tuple[Any, Any]:
    """A job's three timed phases (``fit_s``, ``predict_s``, ``eval_s`` in ``context.timings``): the predictions
    and the task's evaluation of them."""
    with context.phase("fit"):
        task.fit(system, data, context)
    with context.phase("predict"):
        predictions = task.predict(system, data, context)
    with context.phase("eval"):
        evaluation = task.evaluate(predictions, data, context)
    return predictions, evaluation


@contextmanager
def _harness_objects_frozen() -> Iterator[None]:
    """Everything alive before the system is built (modules, the prepared data) is moved out of the cyclic
    garbage collector's reach while the job runs: a system that makes reference cycles (micrograd's graph, whose
    ``_backward`` closures hold their own nodes) then pays for collecting its own objects, not for walking the
    harness's on every collection (micrograd-mlp's fit: 14 s without, 8.6 s with). Unfrozen afterwards."""
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def run_job(spec: JobSpec, data: TaskData, log: Callable[[str], None] = print_nothing, workdir: Path | None = None) -> JobResult:
    """Run one job here and now; never raises for the job's own failures (they come back as ``failed``).

    ``workdir``: an empty folder for the job's artifacts, which the caller removes (so a killed job leaves nothing
    behind); None: a temporary folder removed here.
    """
    if workdir is None:
        with tempfile.TemporaryDirectory(prefix="mlsd-job-") as folder:
            return run_job(spec, data, log, Path(folder))
    conditions: dict[str, Any] = {"load_start": load_average(), "pid": os.getpid()}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        context = RunContext(task_id=spec.task, profile=spec.profile, seed=spec.seed, device=spec.device,
                             data_dir=spec.data_dir, cache_dir=spec.cache_dir, artifacts_dir=workdir, artifact_prefix="job",
                             log=log)
        try:
            _seed_everything(spec.seed)
            # copies: the jobs of one plan share its Options and Config (a system may change its own)
            task = spec.task_cls(copy.deepcopy(spec.task_options))
            context.task_options = task.options
            system = spec.system_cls(copy.deepcopy(spec.config), context)
            with _harness_objects_frozen():
                predictions, evaluation = fit_predict_evaluate(task, system, data, context)
                serving, serving_logs = serve_after_scoring(spec, task, system, data, context)
            metrics = {metric_facts.canonical(k): _number(v) for k, v in evaluation.metrics.items()}
            if task.main_metric not in metrics:
                raise RuntimeError(f"task {task.id!r} returned no {task.main_metric!r} metric (got: {', '.join(metrics)})")
            files = task.save_predictions(predictions, data, context)
            extras = json_safe({**evaluation.extras, **system.report()}, where="report()")
            artifacts = {Path(path).name.removeprefix("job."): Path(path).read_bytes() for path in files}
            artifacts.update({suffix: path.read_bytes() for suffix, path in serving_logs.items()})
            conditions.update(load_end=load_average(), threads=thread_settings())
            return JobResult(
                status="ok", metrics=metrics,
                per_example_ids=[str(i) for i in evaluation.example_ids] if evaluation.example_ids is not None else None,
                per_example={metric_facts.canonical(k): [_number(x) for x in v] for k, v in evaluation.per_example.items()},
                timings=dict(context.timings), extras=extras, artifacts=artifacts, conditions=conditions,
                warnings=[f"{w.category.__name__}: {w.message}" for w in caught][:20], serving=serving,
            )
        except KeyboardInterrupt:
            raise  # the user stops the run (workers ignore SIGINT: this is the in-process mode)
        except BaseException as error:  # the job's failure, whatever it is (SystemExit too), becomes its record
            text = "".join(traceback.format_exception(error))
            conditions.update(load_end=load_average(), threads=thread_settings())
            return JobResult.failure(f"{type(error).__name__}: {error}", text[-8000:], timings=dict(context.timings),
                                     conditions=conditions)


def serve_after_scoring(spec: JobSpec, task: Any, system: Any, data: TaskData,
                        context: RunContext) -> tuple[dict[str, Any] | None, dict[str, Path]]:
    """The job's serving section and LoadGen logs when ``spec.serve`` names scenarios (timed as ``serve_s``)."""
    if not spec.serve:
        return None, {}
    context.log("serving under LoadGen")
    scored = dict(context.timings)  # a system's own phases (its "search_s") must keep the scoring's times
    start = time.perf_counter()
    section, logs = measure_task(task, system, data, context, spec.serve)
    context.timings.clear()
    context.timings.update(scored, serve_s=time.perf_counter() - start)
    return section.to_dict(), logs


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None
