"""The contracts between the harness, tasks and systems: small, typed, and nothing else.

A *task* fixes the data, the split protocol and the metrics. A *system* is a model or
pipeline that can run on every task of one *kind*. The runner drives them:

    data = task.prepare(context)                      # once per node, shared by all its jobs
    system = SystemClass(config, context)             # once per (system, seed)
    task.fit(system, data, context)                   # timed as phase "fit"
    predictions = task.predict(system, data, context) # timed as phase "predict"
    evaluation = task.evaluate(predictions, data, context)   # timed as phase "eval"

How a task talks to a system (``fit(X, y)``, ``recommend(users, k)``, ...) belongs to its :class:`Kind`. The runner
owns every clock: a task or system times a part of its work with ``context.phase(name)`` and leaves out work that
must not count (evaluation inside training) with ``context.untimed()``.
"""

from __future__ import annotations

import contextlib
import importlib.util
import inspect
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from benchmarks.paths import check_file_name, inside

PROFILES: tuple[str, ...] = ("smoke", "default", "full", "nanogpt-cpu")
"""Every task offers the first three (``Task.profiles`` says what each means); ``nanogpt-cpu`` (nanoGPT's README
CPU command) only where a task lists it there."""


@dataclass(frozen=True)
class DatasetInfo:
    """Which data a result was computed on: a readable ``name`` (``"hm-synthetic(scale=0.01)"``), the sha256
    ``fingerprint`` of the exact inputs (files or generator parameters), whether it is ``synthetic`` (made by a
    generator, never the real source), and the ``source`` path or URL it was read from."""

    name: str
    fingerprint: str
    synthetic: bool = False
    source: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DatasetInfo:
        return cls(name=str(data.get("name", "?")), fingerprint=str(data.get("fingerprint", "?")),
                   synthetic=bool(data.get("synthetic", False)), source=str(data.get("source", "")))


@dataclass
class TaskData:
    """What ``Task.prepare`` returns: the dataset identity; each kind's subclass adds its typed parts."""

    dataset: DatasetInfo


@dataclass(frozen=True)
class QueryUnit:
    """One served query of a kind.

    Args:
        query: what one query is, in words (``"a retrieval query (text)"``).
        answer: what the system returns for it (``"its top 100 documents"``).
        k: the length of the answer where it is a list (100, 20, 12, 64 characters), else None.
        latency_bound_ms: the p99 the server scenario must meet (a task may set ``serving_latency_bound_ms``).
        server: whether the server scenario is measured (not for a moons point); where not, ``--serve server``
            records "not measured" with the reason.
    """

    query: str
    answer: str
    k: int | None = None
    latency_bound_ms: float = 100.0
    server: bool = True


@dataclass(frozen=True)
class SmokeInputs:
    """How the contract test runs a task's smoke profile here: its ``--set`` values, and the folder of the shared
    data it reads (relative to the data dir; empty: none, the task makes or downloads its data)."""

    overrides: dict[str, Any] = field(default_factory=dict)
    shared_data: str = ""


def no_smoke_inputs(task: type[Task], scratch: Path) -> SmokeInputs:
    """A task that needs nothing but its own options (a module-level function, so a Kind pickles)."""
    return SmokeInputs()


@dataclass(frozen=True)
class Kind:
    """A kind of problem, defined once in its module of ``benchmarks/kinds/`` (``KIND = Kind(...)``).

    Args:
        name: the kind's name (``"retriever"``), shown by ``list`` and checked against a system's ``kind``.
        protocol: what a task calls on a system; ``register_system`` checks its methods exist.
        served: the optional serving Protocol (``serve(batch[, k]) -> list``, one answer per query).
        query_unit: what one served query is and what it answers.
        serving_queries: a task's data → its test queries as query units.
        batch_answers: ``(system, queries, k)`` → what the batch path answers per query (``serve`` must equal it).
        smoke_inputs: ``(task class, scratch folder)`` → how the contract test runs that task's smoke profile.
    """

    name: str
    protocol: type
    served: type
    query_unit: QueryUnit
    serving_queries: Callable[[Any], list[Any]]
    batch_answers: Callable[[Any, list[Any], int | None], list[Any]]
    smoke_inputs: Callable[[type[Task], Path], SmokeInputs] = no_smoke_inputs

    def __str__(self) -> str:
        return self.name

    def __repr__(self) -> str:
        return f"Kind({self.name!r})"

    def missing_methods(self, cls: type) -> list[str]:
        """The methods of this kind's Protocol that ``cls`` lacks or that are not callable (``serve`` is optional,
        data attributes are not checked)."""
        return sorted(name for name, value in vars(self.protocol).items() if not name.startswith("_")
                      and inspect.isfunction(value) and not callable(getattr(cls, name, None)))

    def serve(self, system: Any, batch: list[Any]) -> list[Any]:
        """Call the system's ``serve`` as this kind declares it (with ``k`` where the answer is a list)."""
        k = self.query_unit.k
        return system.serve(batch) if k is None else system.serve(batch, k)


@dataclass
class Evaluation:
    """Metrics of one result.

    Args:
        metrics: ``{name: value}``; must contain the task's ``main_metric``.
        per_example: ``{metric: values per example}`` (a list or a 1-d numpy array) for the metrics that are means
            over examples (queries, customers, sessions, windows), for significance tests.
        example_ids: the ids of those examples, in the same order (optional; made text when recorded).
        extras: small JSON-able things worth keeping (a generated sample, a loss curve).
    """

    metrics: dict[str, float]
    per_example: dict[str, Sequence[float]] = field(default_factory=dict)
    example_ids: Sequence[Any] | None = None
    extras: dict[str, Any] = field(default_factory=dict)


def print_nothing(message: str) -> None:
    """The default ``RunContext.log``: a module-level function, so contexts pickle."""


@dataclass
class RunContext:
    """Everything a task or system may need to know about the run it is part of."""

    task_id: str
    profile: str = "default"
    seed: int = 0
    device: str = "cpu"
    data_dir: Path | None = None
    cache_dir: Path = Path("datasets/cache")
    artifacts_dir: Path | None = None
    """Where a job may write files kept next to its record (run files, plots)."""
    artifact_prefix: str = ""
    """File-name prefix for this job's artifacts (the record's stem)."""
    task_options: Any = None
    """The task's resolved ``Options`` dataclass instance."""
    log: Callable[[str], None] = print_nothing
    """Report progress (the phase of the job, a step count) to the runner's display."""
    timings: dict[str, float] = field(default_factory=dict, init=False)
    """Seconds per phase (``fit_s``, ``predict_s``, ``eval_s`` and any a task or system adds), filled by :meth:`phase`."""
    _open_phases: list[list[float]] = field(default_factory=list, init=False, repr=False)
    checkpoint_callback: Callable[[int, int, float | None], bool] | None = None
    """Installed by a task for the time of ``fit`` (its periodic evaluation); see :meth:`checkpoint`."""

    def checkpoint(self, step: int, train_chars: int, train_loss: float | None = None) -> bool:
        """Called by a system's training loop every ``eval_interval`` steps and after the last one, with the steps
        and the training characters consumed as targets so far, and the mean batch loss since the last call.

        Runs the task's callback, if any (it may evaluate the model), as :meth:`untimed` work counted as
        ``checkpoint_s``. Returns False when the task wants training to stop (target reached, budget spent).
        """
        if self.checkpoint_callback is None:
            return True
        start = time.perf_counter()
        try:
            with self.untimed():
                return bool(self.checkpoint_callback(step, train_chars, train_loss))
        finally:
            self.timings["checkpoint_s"] = self.timings.get("checkpoint_s", 0.0) + time.perf_counter() - start

    def artifact_path(self, suffix: str) -> Path | None:
        """``<record stem>.<suffix>`` in the artifacts folder, or None if artifacts are not kept."""
        if self.artifacts_dir is None:
            return None
        name = check_file_name(f"{self.artifact_prefix}.{suffix.lstrip('.')}", "artifact")  # one plain name, never a path
        self.artifacts_dir.mkdir(parents=True, exist_ok=True)
        return inside(self.artifacts_dir, name)

    @contextlib.contextmanager
    def phase(self, name: str) -> Iterator[None]:
        """Time the enclosed work as ``timings[name + "_s"]`` (added up if the phase repeats) and show it
        as the job's phase. Phases nest; time spent in :meth:`untimed` blocks inside is left out."""
        self.log(name)
        entry = [time.perf_counter(), 0.0]  # start, seconds left out
        self._open_phases.append(entry)
        try:
            yield
        finally:
            self._open_phases.remove(entry)
            elapsed = time.perf_counter() - entry[0] - entry[1]
            key = f"{name}_s"
            self.timings[key] = self.timings.get(key, 0.0) + elapsed

    @contextlib.contextmanager
    def untimed(self) -> Iterator[None]:
        """Leave the enclosed work out of every open phase's clock (e.g. evaluation inside training)."""
        start = time.perf_counter()
        try:
            yield
        finally:
            paused = time.perf_counter() - start
            for entry in self._open_phases:
                entry[1] += paused

    def clock(self) -> float:
        """Seconds of the innermost open phase so far, without its untimed blocks (0 outside any phase):
        a training loop's own clock, e.g. for a time budget."""
        if not self._open_phases:
            return 0.0
        start, left_out = self._open_phases[-1]
        return time.perf_counter() - start - left_out


@dataclass
class NoOptions:
    """A task or system without options."""


@dataclass(frozen=True)
class Resources:
    """What one job of a system needs; the Ray executor places jobs by it, and every executor kills a job
    whose memory outgrows ``memory_gb`` (an out-of-memory kill under a declared limit).

    Args:
        cpus: CPU cores (Ray's ``num_cpus``).
        gpus: GPUs (Ray's ``num_gpus``); a machine without one runs the job on the CPU unless ``--device cuda``.
        memory_gb: the most memory the job may use (None: no limit, nothing reserved).
    """

    cpus: float = 1.0
    gpus: float = 0.0
    memory_gb: float | None = None


class Task(ABC):
    """A benchmark task: data, split protocol and metrics, fixed. Subclasses set the class attributes and implement
    the four methods: ``kind`` is the :class:`Kind` whose Protocol its systems implement and whose data ``prepare``
    returns (``kind = retriever.KIND``); ``main_metric`` is declared in ``benchmarks.metrics`` (which gives its
    direction); ``Options`` is a dataclass of task options (``--set`` and ``--dataset``), saved with every record.
    """

    id: ClassVar[str]
    version: ClassVar[str] = "1"
    kind: ClassVar[Kind]
    main_metric: ClassVar[str]
    description: ClassVar[str] = ""
    protocol: ClassVar[str] = ""
    data_source: ClassVar[str] = ""
    empty_main_metric: ClassVar[str] = ""
    """What a successful run without a main value means, for tasks where that is a result (a race's "not
    reached"); empty: an ok record always has one."""
    profiles: ClassVar[dict[str, str]] = {
        "smoke": "seconds, for tests",
        "default": "minutes on a 2-core laptop",
        "full": "the reference protocol",
    }
    default_seeds: ClassVar[tuple[int, ...]] = (0, 1, 2)
    Options: ClassVar[type] = NoOptions
    leaderboard_columns: ClassVar[tuple[str, ...]] = ()
    """The secondary metrics the leaderboard shows as columns, most important first; the others go to the
    per-result details. Empty: the first six other metrics by name."""
    slow_smoke: ClassVar[bool] = False
    """The contract test runs this task's smoke profile in the slow tier only (it repeats another task's run)."""

    def __init__(self, options: Any = None) -> None:
        self.options = options if options is not None else self.Options()

    @abstractmethod
    def prepare(self, context: RunContext) -> TaskData:
        """Load (download, convert, cache) the data and apply the split protocol."""

    @abstractmethod
    def fit(self, system: Any, data: TaskData, context: RunContext) -> None:
        """Train ``system`` on the training part, through its kind's Protocol."""

    @abstractmethod
    def predict(self, system: Any, data: TaskData, context: RunContext) -> Any:
        """Ask ``system`` for its predictions on the test part."""

    @abstractmethod
    def evaluate(self, predictions: Any, data: TaskData, context: RunContext) -> Evaluation:
        """Score predictions with the task's metrics."""

    def save_predictions(self, predictions: Any, data: TaskData, context: RunContext) -> list[Path]:
        """Write predictions in the family's standard submission format; return the files."""
        return []

    def score(self, predictions_file: Path, truth_file: Path) -> Evaluation:
        """Score a submission file against a truth file in the family's standard formats."""
        raise NotImplementedError(f"task {self.id!r} has no file scorer")

    @classmethod
    def leaderboard_section(cls, records: list[Any]) -> list[str]:
        """Markdown lines shown under a leaderboard table of this task: its own standings or rules (a race's
        ranking, say). ``records`` are the table's latest record per system, config and seed, failed ones
        included. None by default."""
        return []


class System:
    """A system: runs on every task of its kind.

    Class attributes:
        id: unique kebab-case name.
        kind: the name of the kind it implements (a key of ``benchmarks.kinds.KINDS``), whose methods it defines.
        tasks: optional task ids or ``fnmatch`` patterns (``"beir-*"``) narrowing its kind's tasks (empty: all).
        Config: a dataclass of hyperparameters; its defaults are the ``default`` profile.
        profile_overrides: ``{profile: {field: value}}`` applied before ``--set``.
        requires: importable module names the system needs beyond the core install.
        extra: the pip extra that provides them (shown as an install hint).
        expected: declared scores (``benchmarks.expected.Expected``) that ``python -m benchmarks check`` reruns.
        resources: what one job needs (:class:`Resources`); ``profile_resources`` overrides it per profile.
    """

    id: ClassVar[str]
    kind: ClassVar[str] = ""
    tasks: ClassVar[tuple[str, ...]] = ()
    Config: ClassVar[type] = NoOptions
    profile_overrides: ClassVar[dict[str, dict[str, Any]]] = {}
    requires: ClassVar[tuple[str, ...]] = ()
    extra: ClassVar[str | None] = None
    description: ClassVar[str] = ""
    expected: ClassVar[tuple[Any, ...]] = ()
    resources: ClassVar[Resources] = Resources()
    profile_resources: ClassVar[dict[str, Resources]] = {}

    def __init__(self, config: Any, context: RunContext) -> None:
        self.config = config
        self.context = context
        self.seed = context.seed
        self.device = context.device

    def report(self) -> dict[str, Any]:
        """Extra facts worth recording after a run (parameter count, loss curve, ...)."""
        return {}

    @classmethod
    def draw_pictures(cls, out_dir: Path, task_id: str) -> list[tuple[str, Path | None]]:
        """Pictures of the system itself for its task's leaderboard page (micrograd's computation graph):
        ``(caption, path)`` per picture drawn into ``out_dir``, or ``(how to get it, None)`` where a tool is
        missing. None by default."""
        return []

    @classmethod
    def missing_requirements(cls) -> list[str]:
        """The modules in ``requires`` that cannot be imported here."""
        return [name for name in cls.requires if importlib.util.find_spec(name) is None]

    @classmethod
    def install_hint(cls) -> str:
        if cls.extra:
            return f'pip install -e ".[{cls.extra}]"'
        return "pip install " + " ".join(cls.missing_requirements())
