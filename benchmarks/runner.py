"""The runner: prepare a task's data once, then run each (system, seed) job in its own worker
process and write one record per job.

Isolation is a worker process per job: a crash, an out-of-memory kill or a timeout fails that
one record, and the run goes on. Every finished job's record is on disk (atomically) before
the next starts, so an interrupted run loses nothing that was done.

Workers are forked (cheap: the prepared data is shared copy-on-write) unless this process has
already loaded a library whose thread pool does not survive ``fork`` (polars, LightGBM's
OpenMP, a JVM, ...): then they are spawned, and the task data is pickled to them. Forked
workers report a peak RSS that includes the pages they share with the parent.
"""

from __future__ import annotations

import dataclasses
import multiprocessing
import os
import random
import resource
import secrets
import signal
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from benchmarks import environment, records
from benchmarks.api import PROFILES, RunContext, System, Task, TaskData, print_nothing
from benchmarks.config import build_config, config_to_dict, field_types
from benchmarks.errors import UserError
from benchmarks.registry import SYSTEMS, discover, get_system, get_task, serves, systems_for


@dataclass
class RunRequest:
    """A plain, serialisable description of a run (CLI arguments, resolved)."""

    task: str
    systems: list[str] = field(default_factory=list)
    seeds: list[int] = field(default_factory=list)
    profile: str = "default"
    device: str = "auto"
    data_dir: Path | None = None
    results_dir: Path = Path("results")
    timeout: float | None = None
    overrides: dict[str, Any] = field(default_factory=dict)
    isolate: bool = True
    start_method: str = "auto"
    """How workers start: ``fork``, ``spawn``, or ``auto`` (fork unless fork-unsafe libraries are loaded)."""
    progress: bool = True
    update_leaderboard: bool = True


@dataclass
class JobOutcome:
    system: str
    seed: int
    status: str
    record_path: Path
    metrics: dict[str, float]
    error: str | None


def default_cache_dir() -> Path:
    """``$MLSD_CACHE_DIR``, else ``datasets/cache`` in a source checkout, else ``~/.cache/mlsd-bench``."""
    if os.environ.get("MLSD_CACHE_DIR"):
        return Path(os.environ["MLSD_CACHE_DIR"])
    checkout = Path(__file__).resolve().parent.parent
    if (checkout / "pyproject.toml").exists() and (checkout / "datasets").is_dir():
        return checkout / "datasets" / "cache"
    return Path.home() / ".cache" / "mlsd-bench"


def default_data_dir() -> Path | None:
    value = os.environ.get("MLSD_DATA_DIR")
    return Path(value) if value else None


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def new_run_id() -> str:
    return datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(3)


def route_overrides(
    overrides: dict[str, Any], task_cls: type[Task], system_ids: list[str]
) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """Split ``--set`` values between the task's options and each system's config.

    ``task.KEY`` → task; ``SYSTEM-ID.KEY`` → that system; a bare ``KEY`` → the task if it is
    one of the task's options, otherwise every selected system.
    """
    task_fields = field_types(task_cls.Options)
    for_task: dict[str, Any] = {}
    for_systems: dict[str, dict[str, Any]] = {sid: {} for sid in system_ids}
    for key, value in overrides.items():
        prefix, dot, name = key.partition(".")
        if dot and prefix == "task":
            for_task[name] = value
        elif dot and prefix in for_systems:
            for_systems[prefix][name] = value
        elif dot and prefix in SYSTEMS:
            continue  # a setting for a system that is not part of this run
        elif key in task_fields:
            for_task[key] = value
        else:
            for sid in system_ids:
                for_systems[sid][key] = value
    return for_task, for_systems


def resolve_system_config(system_cls: type[System], profile: str, overrides: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    """Config = dataclass defaults ← the profile's overrides ← ``--set`` values."""
    values = {**system_cls.profile_overrides.get(profile, {}), **overrides}
    return build_config(system_cls.Config, values, owner=f"system {system_cls.id!r}"), overrides


def select_systems(task_cls: type[Task], names: list[str]) -> tuple[list[type[System]], list[type[System]]]:
    """The systems to run and the registered-but-unavailable ones that are skipped."""
    if names:
        chosen = []
        for name in names:
            system_cls = get_system(name)
            if not serves(system_cls, task_cls.id):
                raise UserError(
                    f"system {name!r} does not run task {task_cls.id!r} (it runs: {', '.join(system_cls.tasks)})"
                )
            missing = system_cls.missing_requirements()
            if missing:
                raise UserError(
                    f"system {name!r} is unavailable: missing {', '.join(missing)}; install with: {system_cls.install_hint()}"
                )
            chosen.append(system_cls)
        return chosen, []
    candidates = systems_for(task_cls.id)
    available = [s for s in candidates if not s.missing_requirements()]
    unavailable = [s for s in candidates if s.missing_requirements()]
    return available, unavailable


def _seed_everything(seed: int) -> None:
    random.seed(seed)
    try:
        import numpy

        numpy.random.seed(seed % 2**32)
    except ImportError:
        pass
    if "torch" in sys.modules:
        import torch

        torch.manual_seed(seed)


def _peak_rss_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(peak / 1024 if sys.platform != "darwin" else peak / 2**20, 1)


def execute_job(
    task: Task, system_cls: type[System], config: Any, data: TaskData, context: RunContext
) -> dict[str, Any]:
    """Fit, predict and evaluate one system on one seed, in the current process."""
    _seed_everything(context.seed)
    timings: dict[str, float] = {}
    context.log("init")
    system = system_cls(config, context)
    context.log("fit")
    start = time.perf_counter()
    excluded = context.excluded_seconds
    task.fit(system, data, context)
    # Periodic evaluation inside training (context.checkpoint) is not training time: subtract it.
    # (Minimal edit for issue 16; the lead's timing layer will own this.)
    timings["checkpoint_s"] = context.excluded_seconds - excluded
    timings["fit_s"] = time.perf_counter() - start - timings["checkpoint_s"]
    context.log("predict")
    start = time.perf_counter()
    predictions = task.predict(system, data, context)
    timings["predict_s"] = time.perf_counter() - start
    context.log("evaluate")
    start = time.perf_counter()
    evaluation = task.evaluate(predictions, data, context)
    timings["eval_s"] = time.perf_counter() - start
    if task.main_metric not in evaluation.metrics:
        raise RuntimeError(f"task {task.id!r} returned no {task.main_metric!r} metric")
    files = task.save_predictions(predictions, data, context)
    extras = {**evaluation.extras, **system.report()}
    return {
        "metrics": {k: float(v) for k, v in evaluation.metrics.items()},
        "per_example": {
            "ids": list(evaluation.example_ids) if evaluation.example_ids is not None else None,
            "values": {k: [float(x) for x in v] for k, v in evaluation.per_example.items()},
        },
        "timings": timings,
        "extras": extras,
        "artifacts": [Path(f).name for f in files],
        "peak_rss_mb": _peak_rss_mb(),
    }


# Libraries that start thread pools (or a JVM) which a forked child inherits dead: after any of
# them is imported here, a forked worker that uses it can deadlock, so workers are spawned.
FORK_UNSAFE_MODULES = ("polars", "lightgbm", "jnius", "pyserini", "faiss", "implicit", "torchrec")


def choose_start_method(requested: str = "auto") -> str:
    """``fork`` or ``spawn`` for the next worker (see FORK_UNSAFE_MODULES)."""
    if "fork" not in multiprocessing.get_all_start_methods():
        return "spawn"
    if requested in ("fork", "spawn"):
        return requested
    if requested != "auto":
        raise UserError(f"start method {requested!r}: expected auto, fork or spawn")
    if any(name in sys.modules for name in FORK_UNSAFE_MODULES):
        return "spawn"
    return "fork"


def _worker(connection: Any, task: Task, system_cls: type[System], config: Any, data: TaskData, context: RunContext) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides what Ctrl-C means
    context.log = lambda phase: connection.send(("phase", phase))
    try:
        result = execute_job(task, system_cls, config, data, context)
        connection.send(("ok", result))
    except BaseException as error:  # report everything, including SystemExit, to the parent
        text = "".join(traceback.format_exception(type(error), error, error.__traceback__))
        connection.send(("failed", {"error": f"{type(error).__name__}: {error}", "traceback": text[-8000:], "peak_rss_mb": _peak_rss_mb()}))
    finally:
        connection.close()


def _death_report(exit_code: int | None) -> dict[str, Any]:
    hint = " (killed: out of memory?)" if exit_code == -signal.SIGKILL else ""
    return {"error": f"worker process died with exit code {exit_code}{hint}"}


class _Timeout(Exception):
    pass


def _run_isolated(
    task: Task, system_cls: type[System], config: Any, data: TaskData, context: RunContext,
    timeout: float | None, on_phase: Callable[[str], None], start_method: str = "auto",
) -> tuple[str, dict[str, Any]]:
    ctx = multiprocessing.get_context(choose_start_method(start_method))
    context = dataclasses.replace(context, log=print_nothing)  # a lambda cannot be pickled for spawn
    receiver, sender = ctx.Pipe(duplex=False)
    process = ctx.Process(target=_worker, args=(sender, task, system_cls, config, data, context), daemon=True)
    process.start()
    sender.close()
    deadline = time.monotonic() + timeout if timeout else None
    phase = "start"
    try:
        while True:
            on_phase(phase)  # refreshes the elapsed time shown
            if deadline and time.monotonic() > deadline:
                process.kill()
                process.join()
                return "failed", {"error": f"timeout: no result after {timeout:g} s (--timeout)"}
            if receiver.poll(0.2):
                try:
                    kind, payload = receiver.recv()
                except EOFError:
                    process.join()
                    return "failed", _death_report(process.exitcode)
                if kind == "phase":
                    phase = payload
                    continue
                process.join(timeout=30)
                return kind, payload
            if not process.is_alive() and not receiver.poll(0):
                return "failed", _death_report(process.exitcode)
    finally:
        if process.is_alive():
            process.kill()
            process.join()
        receiver.close()


def _run_inline(
    task: Task, system_cls: type[System], config: Any, data: TaskData, context: RunContext,
    timeout: float | None, on_phase: Callable[[str], None],
) -> tuple[str, dict[str, Any]]:
    context.log = on_phase
    use_alarm = bool(timeout) and hasattr(signal, "SIGALRM")

    def _alarm(signum: int, frame: Any) -> None:
        raise _Timeout

    previous = signal.signal(signal.SIGALRM, _alarm) if use_alarm else None
    if use_alarm:
        signal.setitimer(signal.ITIMER_REAL, timeout)
    try:
        return "ok", execute_job(task, system_cls, config, data, context)
    except _Timeout:
        return "failed", {"error": f"timeout: no result after {timeout:g} s (--timeout)"}
    except Exception as error:
        text = traceback.format_exc()
        return "failed", {"error": f"{type(error).__name__}: {error}", "traceback": text[-8000:]}
    finally:
        if use_alarm:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)


class _Progress:
    """A tqdm bar over the jobs whose text shows system, seed, phase and elapsed time."""

    def __init__(self, total: int, enabled: bool) -> None:
        self.bar = None
        if enabled:
            try:
                from tqdm import tqdm

                self.bar = tqdm(total=total, unit="job", dynamic_ncols=True, file=sys.stderr)
            except ImportError:
                pass
        self.label = ""
        self.started = time.monotonic()
        self.shown = ""

    def start(self, label: str) -> None:
        self.label = label
        self.started = time.monotonic()
        self.phase("start")

    def phase(self, phase: str) -> None:
        text = f"{self.label} [{phase}, {time.monotonic() - self.started:.0f}s]"
        if text == self.shown:
            return
        self.shown = text
        if self.bar is not None:
            self.bar.set_description_str(text)

    def done(self, message: str) -> None:
        if self.bar is not None:
            self.bar.write(message)
            self.bar.update(1)
        else:
            print(message, file=sys.stderr, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def run(request: RunRequest) -> list[JobOutcome]:
    """Run every selected system over every seed on one task and record the results.

    Returns:
        One outcome per job that finished (ok or failed).

    Raises:
        UserError: unknown task/system/profile, bad ``--set`` values, or unusable data.
        KeyboardInterrupt: after the records so far are safe and the leaderboard is updated.
    """
    discover()
    task_cls = get_task(request.task)
    if request.profile not in PROFILES or request.profile not in task_cls.profiles:
        raise UserError(f"--profile {request.profile!r}: task {task_cls.id!r} offers {', '.join(task_cls.profiles)}")
    device = environment.resolve_device(request.device)
    chosen, unavailable = select_systems(task_cls, request.systems)
    for system_cls in unavailable:
        print(
            f"skipping {system_cls.id}: missing {', '.join(system_cls.missing_requirements())} "
            f"(install with: {system_cls.install_hint()})",
            file=sys.stderr,
        )
    if not chosen:
        raise UserError(f"no available system runs task {task_cls.id!r}; see: python -m benchmarks list")
    task_values, system_values = route_overrides(request.overrides, task_cls, [s.id for s in chosen])
    options = build_config(task_cls.Options, task_values, owner=f"task {task_cls.id!r}")
    configs = {s.id: resolve_system_config(s, request.profile, system_values[s.id]) for s in chosen}
    task = task_cls(options)
    seeds = list(request.seeds) or list(task_cls.default_seeds)

    results_dir = Path(request.results_dir)
    context = RunContext(
        task_id=task_cls.id, profile=request.profile, seed=seeds[0], device=device,
        data_dir=request.data_dir if request.data_dir is not None else default_data_dir(),
        cache_dir=default_cache_dir(), task_options=options,
        log=lambda message: print(f"[{task_cls.id}] {message}", file=sys.stderr, flush=True),
    )
    context.log(f"preparing data (profile {request.profile})")
    start = time.perf_counter()
    data = task.prepare(context)
    context.log(f"data ready: {data.dataset.name} ({time.perf_counter() - start:.1f}s)")

    run_id = new_run_id()
    hardware = environment.hardware()
    versions = environment.versions()
    git_sha = environment.git_sha()
    outcomes: list[JobOutcome] = []
    progress = _Progress(len(chosen) * len(seeds), request.progress)
    try:
        for system_cls in chosen:
            config, set_values = configs[system_cls.id]
            for seed in seeds:
                path = records.record_path(results_dir, task_cls.id, system_cls.id, run_id, seed)
                job_context = dataclasses.replace(
                    context, seed=seed, artifacts_dir=path.parent,
                    artifact_prefix=records.record_stem(run_id, seed) + ".",
                )
                progress.start(f"{system_cls.id} seed {seed}")
                started_at = _now()
                if request.isolate:
                    status, payload = _run_isolated(
                        task, system_cls, config, data, job_context, request.timeout, progress.phase, request.start_method
                    )
                else:
                    status, payload = _run_inline(task, system_cls, config, data, job_context, request.timeout, progress.phase)
                record = {
                    "task": task_cls.id,
                    "task_version": task_cls.version,
                    "system": system_cls.id,
                    "config": config_to_dict(config),
                    "config_overrides": set_values,
                    "task_options": config_to_dict(options),
                    "seed": seed,
                    "profile": request.profile,
                    "status": status,
                    "error": payload.get("error"),
                    "traceback": payload.get("traceback"),
                    "metrics": payload.get("metrics", {}),
                    "main_metric": task_cls.main_metric,
                    "higher_is_better": task_cls.higher_is_better,
                    "per_example": payload.get("per_example", {"ids": None, "values": {}}),
                    "dataset": data.dataset.to_dict(),
                    "timings": payload.get("timings", {}),
                    "peak_rss_mb": payload.get("peak_rss_mb"),
                    "device": device,
                    "hardware": hardware,
                    "versions": versions,
                    "git_sha": git_sha,
                    "run_id": run_id,
                    "started_at": started_at,
                    "finished_at": _now(),
                    "extras": payload.get("extras", {}),
                    "artifacts": payload.get("artifacts", []),
                }
                records.write_record(path, record)
                metrics = record["metrics"]
                if status == "ok":
                    main = metrics.get(task_cls.main_metric)
                    message = f"{system_cls.id} seed {seed}: {task_cls.main_metric} = {main:.4f}"
                else:
                    message = f"{system_cls.id} seed {seed}: FAILED: {record['error']}"
                progress.done(message)
                outcomes.append(JobOutcome(system_cls.id, seed, status, path, metrics, record["error"]))
    finally:
        progress.close()
        if request.update_leaderboard:
            from benchmarks import leaderboard

            try:
                leaderboard.write(results_dir, [task_cls.id])
            except Exception as error:  # never lose a run over its summary
                print(f"warning: could not render the leaderboard: {error}", file=sys.stderr)
    return outcomes
