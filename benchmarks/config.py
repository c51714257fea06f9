"""Configuration, resolved in one place: a :class:`RunRequest` (the command line's or a script's) becomes one
frozen, typed :class:`JobSpec` per job, before any job starts.

A ``--set key=value`` crosses four files:

1. ``commands/run.py`` reads the strings;
2. here, :func:`parse_assignments` parses each (``ast.literal_eval``) and :func:`plan` routes it to the task's
   ``Options`` or a system's ``Config``, checked against the field's type (a bad value fails here, before anything
   is created);
3. ``jobs.py``, in the worker, builds ``system_cls(spec.config, context)``; the runner and executors only carry it;
4. the system reads its ``self.config``.

A system's config: dataclass defaults (the ``default`` profile) ← ``profile_overrides[profile]`` ← ``--set`` values.
"""

from __future__ import annotations

import ast
import cmath
import dataclasses
import functools
import hashlib
import importlib.util
import json
import math
import os
import sys
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.api import PROFILES, Resources, System, Task
from benchmarks.errors import UserError, did_you_mean, unknown
from benchmarks.paths import check_folder_argument, check_id, check_seed, shown


def parse_assignments(assignments: list[str]) -> dict[str, Any]:
    """Parse ``["lr=0.1", "name=adam", "layers=(64, 64)"]`` into values.

    A value that is not a Python literal is taken as a plain string, so ``name=adam`` works; ``true`` and
    ``false`` (any case) are booleans.

    >>> parse_assignments(["lr=1e-3", "name=adam"])
    {'lr': 0.001, 'name': 'adam'}
    """
    values: dict[str, Any] = {}
    for assignment in assignments:
        key, sep, raw = assignment.partition("=")
        key = key.strip()
        if not sep or not key:
            raise UserError(f"--set {assignment!r}: expected key=value, for example --set lr=0.01")
        text = raw.strip()
        if text.lower() in ("true", "false"):  # as shells and YAML spell them
            values[key] = text.lower() == "true"
            continue
        if text.lower().lstrip("+-") in NOT_FINITE:
            raise UserError(f"--set {shown(assignment)}: {text} is not a finite number")
        try:
            value = ast.literal_eval(text)
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            value = text
        if not _all_finite(value):
            raise UserError(f"--set {shown(assignment)}: {shown(text, 40)} is not a finite number (it overflows a float)")
        values[key] = value
    return values


NOT_FINITE = ("nan", "inf", "infinity")
"""Spellings of the numbers a config must never hold (a record would store them as null)."""


def _all_finite(value: Any) -> bool:
    if isinstance(value, (float, complex)):
        return cmath.isfinite(value)
    if isinstance(value, (list, tuple, set, frozenset)):
        return all(_all_finite(v) for v in value)
    if isinstance(value, dict):
        return all(_all_finite(k) and _all_finite(v) for k, v in value.items())
    return True


@functools.cache
def _validator(annotation: Any) -> Any:
    """Strict: ``True`` is no 1 and ``"3"`` no 3, but an int fills a float field (an int no float holds is refused,
    never stored as infinity)."""
    from pydantic import ConfigDict, TypeAdapter  # ~0.3 s to import: only when a value is checked

    return TypeAdapter(annotation, config=ConfigDict(strict=True, arbitrary_types_allowed=True))


def field_types(config_class: type) -> dict[str, Any]:
    hints = typing.get_type_hints(config_class)
    return {f.name: hints.get(f.name, Any) for f in dataclasses.fields(config_class)}


def build_config(config_class: type, values: dict[str, Any], owner: str) -> Any:
    """``config_class(**values)``, each value checked against its field's type; a UserError names a bad one."""
    annotations = field_types(config_class)
    checked: dict[str, Any] = {}
    for key, value in values.items():
        if key not in annotations:
            known = ", ".join(annotations) or "none"
            raise UserError(f"{owner} has no option {shown(key)}{did_you_mean(key, list(annotations))} (options: {known})")
        annotation = annotations[key]
        members = (annotation, *typing.get_args(annotation))  # the field's type, or those of its union
        sequence = next((origin for origin in map(typing.get_origin, members) if origin in (tuple, list)), None)
        given = sequence(value) if sequence is not None and isinstance(value, (tuple, list)) else value  # (8, 8) or [8, 8]
        try:
            checked[key] = _validator(annotation).validate_python(given)
        except ValueError:  # pydantic's ValidationError (pydantic is imported only when a value is checked)
            expected = getattr(annotation, "__name__", str(annotation))
            raise UserError(
                f"{owner} option {key!r}: expected {expected}, got {shown(value)} ({type(value).__name__})"
            ) from None
    return config_class(**checked)


def config_to_dict(config: Any) -> dict[str, Any]:
    """A JSON-able dict of a dataclass config: tuples as lists, anything else JSON lacks as its ``str``."""
    return json.loads(json.dumps(dataclasses.asdict(config), default=str)) if dataclasses.is_dataclass(config) else {}


def default_cache_dir() -> Path:
    """``$MLSD_CACHE_DIR``, else ``datasets/cache`` in a source checkout, else ``~/.cache/mlsd-bench``."""
    if os.environ.get("MLSD_CACHE_DIR"):
        return Path(os.environ["MLSD_CACHE_DIR"]).expanduser()
    checkout = Path(__file__).resolve().parent.parent
    if (checkout / "pyproject.toml").exists() and (checkout / "datasets").is_dir():
        return checkout / "datasets" / "cache"
    return Path.home() / ".cache" / "mlsd-bench"


@dataclass
class RunRequest:
    """What to run, as the command line or a script says it (nothing resolved yet), with the ``run`` options' meaning.

    Args:
        tasks: task ids (``task`` is a shorthand for one).
        systems, seeds: empty: every available system of each task's kind, each task's default seeds.
        overrides: ``--set`` values, ``{"lr": 0.1, "task.scale": 0.01, "logreg.C": 2.0}``.
        data_dir: None: ``$MLSD_DATA_DIR``.
        start_method: ``auto`` (fork unless a fork-unsafe library is loaded) by default, or ``$MLSD_START_METHOD``.
        executor: ``local`` (``jobs`` at a time) or ``ray`` (``address`` joins a running cluster, None starts a
            local one; ``retries`` for jobs whose worker or node dies).
    """

    tasks: list[str] = field(default_factory=list)
    systems: list[str] = field(default_factory=list)
    seeds: list[int] = field(default_factory=list)
    profile: str = "default"
    device: str = "auto"
    data_dir: Path | None = None
    results_dir: Path = Path("results")
    timeout: float | None = None
    overrides: dict[str, Any] = field(default_factory=dict)
    isolate: bool = True
    start_method: str = field(default_factory=lambda: os.environ.get("MLSD_START_METHOD", "auto"))
    executor: str = "local"
    jobs: int = 1
    address: str | None = None
    retries: int = 1
    resume: bool = False
    rerun_failed: bool = False
    progress: bool = True
    update_leaderboard: bool = True
    task: str | None = None
    serve: tuple[str, ...] = ()
    """Serving scenarios measured after scoring (``benchmarks.serving``): single-stream, offline, server."""

    def __post_init__(self) -> None:
        if self.task is not None and self.task not in self.tasks:
            self.tasks = [self.task, *self.tasks]
        self.task = None
        from benchmarks.loadgen import SCENARIOS

        if unknown := [name for name in self.serve if name not in SCENARIOS]:
            raise UserError(f"--serve {','.join(self.serve)}: unknown scenario {unknown[0]!r}; expected some of {','.join(SCENARIOS)}")
        if self.serve and importlib.util.find_spec("mlperf_loadgen") is None:
            raise UserError('--serve needs MLPerf LoadGen: pip install -e ".[serve]" (mlcommons-loadgen)')


@dataclass(frozen=True)
class JobSpec:
    """One job, fully resolved and typed: everything a worker needs to build its task and system and run them.

    ``config_overrides`` are the ``--set`` values behind ``config`` (a record shows them). The spec pickles by
    reference to the task and system classes (spawned workers, Ray nodes import their modules)."""

    task_cls: type[Task]
    system_cls: type[System]
    seed: int
    profile: str
    device: str
    task_options: Any
    config: Any
    config_overrides: dict[str, Any]
    data_dir: Path | None
    cache_dir: Path
    resources: Resources
    serve: tuple[str, ...] = ()

    @property
    def task(self) -> str:
        return self.task_cls.id

    @property
    def system(self) -> str:
        return self.system_cls.id

    @property
    def label(self) -> str:
        return f"{self.task} · {self.system} · seed {self.seed}"

    @property
    def modules(self) -> tuple[str, ...]:
        """The modules defining the task and the system (a fork server imports them once)."""
        return tuple(dict.fromkeys((self.task_cls.__module__, self.system_cls.__module__)))

    def key(self, task_version: str, fingerprint: str) -> str:
        """What makes two jobs the same job (for ``--resume``)."""
        identity = {"task": self.task, "task_version": task_version, "system": self.system,
                    "config": config_to_dict(self.config), "seed": self.seed, "profile": self.profile,
                    "fingerprint": fingerprint}
        return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()

    @property
    def data_key(self) -> str:
        """What identifies the task's prepared data, shared by its jobs: task, options, profile, data folder."""
        identity = [self.task, config_to_dict(self.task_options), self.profile,
                    str(self.data_dir) if self.data_dir else None]
        return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:24]


def route_overrides(overrides: dict[str, Any], task_cls: type[Task],
                    systems: list[type[System]]) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """Split ``--set`` values between the task's options and each system's config.

    ``task.KEY`` → task; ``SYSTEM-ID.KEY`` → that system (ignored if it is registered but not in ``systems``);
    a bare ``KEY`` → the task if it is one of the task's options, otherwise every selected system whose config
    has that field (``--set learning_rate=0.01`` over systems of which only some learn); else a UserError.
    """
    from benchmarks.registry import SYSTEMS

    task_fields = field_types(task_cls.Options)
    fields = {system.id: field_types(system.Config) for system in systems}
    for_task: dict[str, Any] = {}
    for_systems: dict[str, dict[str, Any]] = {sid: {} for sid in fields}
    for key, value in overrides.items():
        prefix, dot, name = key.partition(".")
        if dot and prefix == "task":
            for_task[name] = value
        elif dot and prefix in for_systems:
            for_systems[prefix][name] = value
        elif dot and prefix in SYSTEMS:
            continue  # a setting for a registered system that is not part of this run
        elif dot:
            raise unknown("system", prefix, sorted(set(fields) | set(SYSTEMS)), what=f"system in --set {shown(key)}:")
        elif key in task_fields:
            for_task[key] = value
        else:
            having = [sid for sid in fields if key in fields[sid]]
            if not having:
                options = sorted(set(task_fields).union(*fields.values()))
                owners = ", ".join(fields) or "none"
                raise UserError(f"--set {shown(key)}: neither task {task_cls.id!r} nor a selected system ({owners}) has "
                                f"an option {shown(key)}{did_you_mean(key, options)} (options: {', '.join(options) or 'none'}; "
                                "SYSTEM.KEY or task.KEY targets one)")
            for sid in having:
                for_systems[sid][key] = value
    return for_task, for_systems


def resolve_system_config(system_cls: type[System], profile: str, overrides: dict[str, Any]) -> Any:
    values = {**system_cls.profile_overrides.get(profile, {}), **overrides}
    return build_config(system_cls.Config, values, owner=f"system {system_cls.id!r}")


@dataclass
class Plan:
    """The resolved grid: every job, and the registered systems skipped because an extra is missing."""

    jobs: list[JobSpec]
    unavailable: list[tuple[str, type[System]]]


def select_systems(task_cls: type[Task], names: list[str]) -> tuple[list[type[System]], list[type[System]]]:
    """The systems to run on ``task_cls`` (those named, which must run it and be available; else every available
    system of its kind) and the registered-but-unavailable ones that are skipped."""
    from benchmarks.registry import get_system, serves, systems_for

    if names:
        chosen = []
        for name in names:
            system_cls = get_system(name)
            if not serves(system_cls, task_cls):
                narrowed = f" (narrowed to: {', '.join(system_cls.tasks)})" if system_cls.tasks else ""
                raise UserError(f"system {name!r} is a {system_cls.kind} and does not run task {task_cls.id!r}, "
                                f"a {task_cls.kind} task{narrowed}")
            if missing := system_cls.missing_requirements():
                raise UserError(f"system {name!r} is unavailable: missing {', '.join(missing)}; install with: {system_cls.install_hint()}")
            chosen.append(system_cls)
        return chosen, []
    candidates = systems_for(task_cls)
    return ([s for s in candidates if not s.missing_requirements()], [s for s in candidates if s.missing_requirements()])


def check_request(request: RunRequest) -> None:
    """Check what a request says by itself (ids, seeds, profile, limits, the results folder) before anything is
    resolved, created or run: a UserError names the first bad value."""
    if not request.tasks:
        raise UserError("no task given: --task TASK (see: python -m benchmarks list)")
    for values, check, what in ((request.tasks, check_id, "--task"), (request.systems, check_id, "--system"),
                                (request.seeds, check_seed, "--seed")):
        for value in values:
            check(value, what)
    if request.profile not in PROFILES:
        raise unknown("profile", request.profile, PROFILES, what="--profile")
    if request.executor not in ("local", "ray"):
        raise unknown("executor", request.executor, ("local", "ray"), what="--executor")
    check_count(request.jobs, "--jobs", minimum=1)
    check_count(request.retries, "--retries", minimum=0)
    if request.timeout is not None:
        check_seconds(request.timeout, "--timeout")
    check_folder_argument(request.results_dir, "--results-dir")


MAX_COUNT = 1_000_000
"""The most jobs at once, retries or resamples a command line may ask for."""


def check_count(value: object, what: str, minimum: int = 1, maximum: int = MAX_COUNT) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
        raise UserError(f"{what} {shown(value)}: expected an integer from {minimum} to {maximum}")
    return value


def check_seconds(value: object, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise UserError(f"{what} {shown(value)}: expected a finite number of seconds above 0")
    return float(value)


def plan(request: RunRequest) -> Plan:
    """Resolve a request into its jobs (task × system × seed), checking everything a job could fail on before any
    job runs (unknown names, profiles, devices, options and their types, the data dir): a UserError says what."""
    from benchmarks import environment
    from benchmarks.registry import SYSTEMS, discover, get_task

    check_request(request)
    discover()
    for message in SYSTEMS.conflicts.values():  # refused ids: an error when named (get_system), else a warning
        print(f"warning: {message}", file=sys.stderr)
    data_dir = request.data_dir
    if data_dir is None and os.environ.get("MLSD_DATA_DIR"):
        data_dir = Path(os.environ["MLSD_DATA_DIR"]).expanduser()
    if data_dir is not None and not Path(data_dir).is_dir():
        raise UserError(f"--data-dir {data_dir}: no such folder" + (" (from $MLSD_DATA_DIR)" if request.data_dir is None else ""))
    if request.executor == "ray" and request.isolate:  # decided where each job runs (its node's GPUs), not here
        device = request.device.lower()
        if device not in ("auto", "cpu", "cuda"):
            raise UserError(f"--device {request.device!r} with --executor ray: expected auto, cpu or cuda")
    else:
        device = environment.resolve_device(request.device)
    data_dir = Path(data_dir).resolve() if data_dir is not None else None
    jobs: list[JobSpec] = []
    unavailable: list[tuple[str, type[System]]] = []
    for task_id in dict.fromkeys(request.tasks):
        task_cls = get_task(task_id)
        if request.profile not in task_cls.profiles:
            raise UserError(f"--profile {request.profile!r}: task {task_cls.id!r} offers {', '.join(task_cls.profiles)}")
        chosen, skipped = select_systems(task_cls, request.systems)
        unavailable += [(task_cls.id, s) for s in skipped]
        if not chosen:
            raise UserError(f"no available system runs task {task_cls.id!r}; see: python -m benchmarks list")
        task_values, system_values = route_overrides(request.overrides, task_cls, chosen)
        options = build_config(task_cls.Options, task_values, owner=f"task {task_cls.id!r}")
        seeds = list(request.seeds) or [check_seed(s, f"task {task_cls.id!r} default seed") for s in task_cls.default_seeds]
        for system_cls in chosen:
            config = resolve_system_config(system_cls, request.profile, system_values[system_cls.id])
            resources = system_cls.profile_resources.get(request.profile, system_cls.resources)
            jobs += [JobSpec(task_cls, system_cls, int(seed), request.profile, device, options, config,
                             dict(system_values[system_cls.id]), data_dir, default_cache_dir(), resources,
                             tuple(request.serve)) for seed in seeds]
    return Plan(jobs, unavailable)
