"""The runner: one grid per invocation. Plan every job (task × system × seed), prepare each task's data once, hand the
jobs to an executor, and write one record per finished job, atomically, as it finishes.

    plan = config.plan(request)                  # every job, resolved, checked before anything runs
    data = task.prepare(context)                 # once per task (and per node, on a cluster)
    executor.run(jobs)                           # local worker processes (--jobs N) or Ray tasks
    as each job finishes: its record (and the artifacts it brought back) is written here
    finally: the leaderboards of the tasks touched

Nothing a finished job produced is ever lost: records are on disk before the next event is handled, and Ctrl-C or
SIGTERM stop the executor, keep every finished record and still render the leaderboards. ``--resume`` skips a job
whose ``JobSpec.key`` already has an ok record; ``--rerun-failed`` runs only the jobs whose latest record failed.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import math
import platform
import secrets
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from benchmarks import environment, records
from benchmarks import metrics as metric_facts
from benchmarks.api import TaskData
from benchmarks.config import JobSpec, RunRequest, config_to_dict, plan
from benchmarks.errors import UserError
from benchmarks.jobs import Event, JobResult, prepare_data
from benchmarks.paths import check_file_name, inside, record_dir, results_root
from benchmarks.progress import GridProgress
from benchmarks.records import Record

__all__ = ["JobOutcome", "RunRequest", "run"]


@dataclasses.dataclass
class JobOutcome:
    """A finished job: where its record is, and how it went."""

    task: str
    system: str
    seed: int
    status: str
    record_path: Path
    metrics: dict[str, float | None]
    error: str | None
    recorded: bool = True
    """False when its record could not be written as it was (a full disk, a file-size limit, a file where the
    task's records folder should be): the job counts as failed, and a small failed record was written if it could."""
    timed_out: bool = False  # it ran past --timeout (its status is failed)


class Interrupted(KeyboardInterrupt):
    """Ctrl-C or SIGTERM during a run, after the finished records and the leaderboards are safe."""

    def __init__(self, leaderboards_written: bool) -> None:
        super().__init__()
        self.leaderboards_written = leaderboards_written


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def check_results_dir(results_dir: Path) -> None:
    """Fail before any job runs (UserError) when the path is a file, or records could not be written there."""
    path = results_root(results_dir)  # a file is refused; a missing folder is created, saying so
    try:
        folder = record_dir(path)
        created = not folder.exists()
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".write-check-"):
            pass
        if created:  # the first record makes it again: a run killed before any job ends leaves no empty folder
            with contextlib.suppress(OSError):
                folder.rmdir()
    except OSError as error:
        raise UserError(f"--results-dir {path}: cannot write records there ({error.strerror or error})") from None


@contextlib.contextmanager
def _signals(handler: Any) -> Iterator[None]:
    """Ctrl-C and SIGTERM go to ``handler`` inside the block (only the main thread can do this; elsewhere a no-op)."""
    previous: dict[int, Any] = {}
    with contextlib.suppress(ValueError):  # not the main thread
        previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, before in previous.items():
            signal.signal(sig, before)


def _stop_once(signum: int, frame: Any) -> None:
    """Ctrl-C or SIGTERM stop the run once: the first raises KeyboardInterrupt, any later one is ignored, so the
    clean-up (workers killed, leaderboards written) cannot itself be cut short."""

    def _stopping(signum: int, frame: Any) -> None:
        print("\nalready stopping: finishing the clean-up", file=sys.stderr, flush=True)

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, _stopping)
    raise KeyboardInterrupt


class _Prepared:
    """Each task's data, prepared once in this process and shared by its jobs."""

    def __init__(self) -> None:
        self.data: dict[str, TaskData] = {}
        self.imported: dict[str, list[str]] = {}
        """The modules each task's ``prepare`` imported here (packages first): a worker forked from this process has
        them already; a remote worker (Ray) imports them before it forks its job, so both start alike."""

    def __call__(self, spec: JobSpec) -> TaskData:
        key = spec.data_key
        if key not in self.data:
            _log(f"[{spec.task}] preparing data (profile {spec.profile})")
            start = time.perf_counter()
            before = set(sys.modules)
            self.data[key] = prepare_data(spec, log=lambda message: _log(f"[{spec.task}] {message}"))
            self.imported[key] = sorted(set(sys.modules) - before - {"__main__", "__mp_main__"}, key=lambda n: (n.count("."), n))
            _log(f"[{spec.task}] data ready: {self.data[key].dataset.name} ({time.perf_counter() - start:.1f}s)")
        return self.data[key]

    def imports_for(self, spec: JobSpec) -> list[str]:
        return self.imported.get(spec.data_key, [])


def build_record(spec: JobSpec, result: JobResult, data: TaskData, run_id: str, started_at: str, executor: str) -> Record:
    """The record of one finished job: the spec, the result, the data's identity and the environment.
    Its ``artifacts`` are the file names its artifacts get beside it (``<run-id>__seed<k>.<name>``)."""
    task_cls = spec.task_cls
    conditions = {**result.conditions, "executor": executor, "node": result.node or platform.node() or "localhost",
                  "cpu": environment.hardware()["cpu"]}
    extras = {**result.extras, "warnings": result.warnings} if result.warnings else dict(result.extras)
    return Record(
        task=spec.task, task_version=task_cls.version, system=spec.system, seed=spec.seed, profile=spec.profile,
        status=result.status, main_metric=task_cls.main_metric,
        higher_is_better=metric_facts.higher_is_better(task_cls.main_metric), dataset=data.dataset,
        config=config_to_dict(spec.config), config_overrides=spec.config_overrides,
        task_options=config_to_dict(spec.task_options),
        metrics=result.metrics, per_example=records.PerExample(result.per_example_ids, result.per_example),
        error=result.error, traceback=result.traceback, timings=result.timings,
        peak_memory_mb=result.peak_memory_mb, memory_method=result.memory_method, conditions=conditions,
        job_key=spec.key(task_cls.version, data.dataset.fingerprint), device=result.conditions.get("device", spec.device),
        hardware=environment.hardware(), versions=environment.versions(), git_sha=environment.git_sha(),
        run_id=run_id, started_at=started_at, finished_at=_now(), extras=extras,
        artifacts=[f"{records.record_stem(run_id, spec.seed)}.{name}" for name in result.artifacts],  # as the task listed them
        serving=records.Serving.from_dict(result.serving) if result.serving else None,
    )


def _executor(request: RunRequest) -> Any:
    from benchmarks.executors.local import InProcessExecutor, LocalExecutor

    if not request.isolate:
        return InProcessExecutor(request.timeout)
    if request.executor == "ray":
        from benchmarks.executors.ray import RayExecutor

        return RayExecutor(address=request.address, timeout=request.timeout, retries=request.retries,
                           start_method=request.start_method)
    return LocalExecutor(request.jobs, request.timeout, request.start_method)


def run(request: RunRequest) -> list[JobOutcome]:
    """Run the grid a request describes and record every job.

    Returns:
        One outcome per job that finished (ok or failed), in the order they finished.

    Raises:
        UserError: unknown task/system/profile, bad ``--set`` values, unusable data or results folder.
        Interrupted: on Ctrl-C or SIGTERM, after the finished records and the leaderboards are safe.
    """
    grid = plan(request)
    results_dir = Path(request.results_dir)
    check_results_dir(results_dir)
    with contextlib.suppress(AttributeError, ValueError):  # no SIGXFSZ here; not the main thread
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # past a file-size limit (ulimit -f) a write fails with EFBIG
    executor = _executor(request)
    for task_id, system_cls in grid.unavailable:
        _log(f"skipping {system_cls.id} on {task_id}: missing {', '.join(system_cls.missing_requirements())} "
             f"(install with: {system_cls.install_hint()})")
    prepared = _Prepared()
    outcomes: list[JobOutcome] = []
    interrupted = data_ready = False
    with _signals(_stop_once):
        try:
            jobs = _select_jobs(grid.jobs, prepared, request, results_dir)
            data_ready = True  # a task whose data is refused leaves the results folder as it was: no leaderboard rewritten
            if request.isolate and (request.executor == "ray" or request.jobs > 1):
                jobs = longest_first(jobs, results_dir, _log)
            _execute(executor, jobs, prepared, request, results_dir, outcomes)
        except KeyboardInterrupt:
            interrupted = True
        finally:
            render = request.update_leaderboard and (data_ready or interrupted)
            written = _write_leaderboards(results_dir, sorted({spec.task for spec in grid.jobs})) if render else True
    if interrupted:
        raise Interrupted(leaderboards_written=written)
    return outcomes


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _execute(executor: Any, jobs: list[JobSpec], prepared: _Prepared, request: RunRequest, results_dir: Path,
             outcomes: list[JobOutcome]) -> None:
    """Run the jobs on the executor with a live view; write each job's record as it finishes (its outcome goes
    to ``outcomes`` at once, so an interrupted run still returns what finished)."""
    progress = GridProgress(len(jobs), enabled=request.progress)
    run_id = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(3)
    started_at: dict[int, str] = {}

    def on_event(event: Event, index: int, payload: Any) -> None:
        spec = jobs[index]
        if event is Event.STARTED:
            started_at[index] = _now()
            progress.started(index, spec.label)
        elif event is Event.PHASE:
            text, node = payload if isinstance(payload, tuple) else (str(payload), None)
            progress.phase(index, text, node)
        else:
            outcome, message = _finish(spec, payload, prepared(spec), run_id, started_at.get(index, _now()),
                                       executor.name, results_dir)
            outcomes.append(outcome)
            progress.finished(index, message, outcome.status == "ok")

    try:
        executor.run(jobs, prepared, on_event)
    finally:
        progress.close()


STALE_SECONDS = 60.0
"""A temp file or an empty folder under ``records/`` this old was left by a run that was killed (a live writer
holds its temp file for milliseconds; a concurrent run's are younger)."""


def clean_leftovers(results_dir: Path, task_ids: list[str]) -> None:
    """Remove, and say so, the stale temp files of interrupted atomic writes and the stale empty folders
    (``records/<task>/<system>/``, ``records/<task>/``) under the tasks' records."""
    removed: list[Path] = []
    now = time.time()
    for task_id in task_ids:
        base = record_dir(results_dir, task_id)
        if not base.is_dir() or base.is_symlink():
            continue
        emptied: set[Path] = set()  # folders whose stale content went: their own time changed just now
        for path in [*sorted(base.rglob("*"), key=lambda p: -len(p.parts)), base]:  # deepest first, the task last
            try:
                stale = now - path.lstat().st_mtime >= STALE_SECONDS
                if stale and path.is_file() and path.name.startswith(".") and path.name.endswith(".tmp"):
                    path.unlink()
                elif (stale or path in emptied) and path.is_dir() and not path.is_symlink() and not any(path.iterdir()):
                    path.rmdir()
                else:
                    continue
            except OSError:
                continue
            removed.append(path)
            emptied.add(path.parent)
    if removed:
        _log(f"removed {len(removed)} leftover(s) of an interrupted run: {', '.join(str(p) for p in removed[:5])}"
            + (" ..." if len(removed) > 5 else ""))


def _select_jobs(jobs: list[JobSpec], prepared: _Prepared, request: RunRequest, results_dir: Path) -> list[JobSpec]:
    """Prepare each task's data (its fingerprint is part of a job's key), then drop what ``--resume`` or
    ``--rerun-failed`` say is done; print the plan."""
    for spec in jobs:
        prepared(spec)
    tasks = sorted({spec.task for spec in jobs})
    clean_leftovers(results_dir, tasks)
    selected = jobs
    if request.resume or request.rerun_failed:
        keyed = [record for task in tasks for record in records.iter_records(results_dir, task) if record.job_key]
        ok = {record.job_key for record in keyed if record.ok}
        latest = {record.job_key: record.status for record in sorted(keyed, key=lambda record: record.newness)}
        keys = [spec.key(spec.task_cls.version, prepared(spec).dataset.fingerprint) for spec in jobs]
        failed = [latest.get(key) == "failed" for key in keys]
        selected = [spec for spec, key, did_fail in zip(jobs, keys, failed, strict=True)
                    if (did_fail or not request.rerun_failed) and not (request.resume and key in ok)]
    what = f"{len(jobs)} job(s) over {len(tasks)} task(s)"
    if request.rerun_failed:
        _log(f"plan: {what}; {len(selected)} whose latest record failed will run, {failed.count(False)} did not fail")
    elif request.resume:
        _log(f"plan: {what}; {len(jobs) - len(selected)} already done (ok record with the same key) will be skipped, "
             f"{len(selected)} to run")
    else:
        _log(f"plan: {what}")
    return selected


def longest_first(jobs: list[JobSpec], results_dir: Path, log: Any = None) -> list[JobSpec]:
    """The jobs in the order to start them when several run at once: those never run before first (in grid
    order: nothing says they are short), then the others by the median wall time of their earlier ok records
    (same task, system and profile in ``results_dir``), longest first. A long job started last would keep one
    slot busy long after the others are idle (the README's main job: otto-sasrec's 130 s of 230)."""
    durations: dict[tuple[str, str, str], list[float]] = {}
    for task_id in sorted({spec.task for spec in jobs}):
        for record in records.iter_records(results_dir, task_id):
            with contextlib.suppress(TypeError, ValueError):  # times a foreign record may hold
                seconds = datetime.fromisoformat(record.finished_at) - datetime.fromisoformat(record.started_at)
                if record.ok:
                    durations.setdefault((record.task, record.system, record.profile), []).append(seconds.total_seconds())
    estimate = {key: statistics.median(values) for key, values in durations.items()}
    ordered = sorted(jobs, key=lambda spec: -estimate.get((spec.task, spec.system, spec.profile), math.inf))
    known = sum((spec.task, spec.system, spec.profile) in estimate for spec in jobs)
    if log is not None and known and ordered != jobs:
        log(f"order: longest first, by the earlier records of {known} of {len(jobs)} job(s)")
    return ordered


def _write_job(path: Path, record: Record, artifacts: dict[str, bytes]) -> None:
    """Write a job's artifacts, then its record; on an error remove the artifacts already written (a record is
    never half there: each file is written atomically, and nothing is left without its record)."""
    written: list[Path] = []
    try:
        for name, file_name in zip(artifacts, record.artifacts, strict=True):
            target = inside(path.parent, check_file_name(file_name, "artifact"))
            records.atomic_write_bytes(target, artifacts[name])
            written.append(target)
        records.write_record(path, record)
    except BaseException:
        for artifact in written:
            artifact.unlink(missing_ok=True)
        raise


def write_failure(error: OSError, path: Path) -> str:
    """Why a record could not be written, in one line: the file, the system's reason, what to do."""
    reason = error.strerror or str(error)
    code = errno.errorcode.get(error.errno or 0, "")
    hint = "free some space, then run again with --resume"
    if error.errno == errno.EFBIG:
        hint = "the file-size limit (ulimit -f) is too small for it; raise it, then run again with --resume"
    blocker = next((p for p in [path.parent.parent, path.parent] if p.exists() and not p.is_dir()), None)
    if blocker is not None:
        hint = f"{blocker} is a file where a folder is expected; move it away, then run again with --resume"
    return f"could not write the record {path}: {reason}" + (f" ({code})" if code else "") + f"; {hint}"


def _finish(spec: JobSpec, result: JobResult, data: TaskData, run_id: str, started_at: str, executor: str,
            results_dir: Path) -> tuple[JobOutcome, str]:
    """Write a finished job's record and artifacts; return its outcome and a one-line report. A record that cannot be
    written (ENOSPC, EFBIG, a file in the way) fails the job, not the run: its outcome says why, a small failed record
    (no artifacts, no per-example values) replaces it when that fits, and ``--resume`` runs it again."""
    record = build_record(spec, result, data, run_id, started_at, executor)
    path = records.record_path(results_dir, spec.task, spec.system, run_id, spec.seed)
    recorded = True
    try:
        _write_job(path, record, result.artifacts)
    except OSError as error:
        recorded = False
        record = dataclasses.replace(record, status="failed", error=write_failure(error, path), traceback=None,
                                     artifacts=[], per_example=records.PerExample(), extras={}, metrics={})
        with contextlib.suppress(OSError):  # nothing could be written: the outcome and the message say so
            records.write_record(path, record)
    head = f"{spec.task} · {spec.system} seed {spec.seed}: "
    if record.ok:
        shown = metric_facts.format_value(record.main_metric, record.main_value)
        fit = record.timings.get("fit_s")
        message = f"{head}{record.main_metric} = {shown}" + (f" (fit {fit:.1f} s)" if fit is not None else "")
    else:
        message = f"{head}FAILED: {record.error}"
    return JobOutcome(spec.task, spec.system, spec.seed, record.status, path, record.metrics, record.error,
                      recorded, result.timed_out), message


def _write_leaderboards(results_dir: Path, task_ids: list[str]) -> bool:
    """Render the leaderboards of the tasks a run touched; never lose a run over its summary."""
    from benchmarks import leaderboard

    with _signals(signal.SIG_IGN):  # a second Ctrl-C must not cut the leaderboards
        try:
            leaderboard.write(results_dir, task_ids)
            return True
        except Exception as error:
            print(f"warning: could not render the leaderboard: {error}", file=sys.stderr)
            return False
