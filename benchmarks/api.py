"""The contracts between the harness, tasks and systems: small, typed, and nothing else.

A *task* fixes the data, the split protocol and the metrics. A *system* is a model or
pipeline that can run on one or more tasks. The runner drives them:

    data = task.prepare(context)                      # once per run, shared by all systems
    system = SystemClass(config, context)             # once per (system, seed)
    task.fit(system, data, context)                   # timed as "fit"
    predictions = task.predict(system, data, context) # timed as "predict"
    evaluation = task.evaluate(predictions, data, context)

How a task talks to a system (``fit(X, y)``, ``recommend(users, k)``, ...) is the task
family's own Protocol, defined next to the task in ``benchmarks/tasks/``.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

PROFILES: tuple[str, ...] = ("smoke", "default", "full", "nanogpt-cpu")
"""Every task offers the first three: ``smoke`` runs in seconds (tests), ``default`` in minutes on a
2-core laptop, ``full`` is the reference protocol. ``nanogpt-cpu`` (nanoGPT's README CPU command)
only where a task lists it in ``Task.profiles``."""


@dataclass(frozen=True)
class DatasetInfo:
    """Which data a result was computed on.

    Args:
        name: human-readable name, e.g. ``"tinyshakespeare"`` or ``"hm-synthetic(scale=0.01)"``.
        fingerprint: sha256 over the exact inputs (files or generator parameters).
        synthetic: True when the data came from a generator, never from the real source.
        source: where it was read from (path or URL), for the record.
    """

    name: str
    fingerprint: str
    synthetic: bool = False
    source: str = ""

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass
class TaskData:
    """What ``Task.prepare`` returns: the dataset identity plus whatever the task needs."""

    dataset: DatasetInfo
    train: Any = None
    test: Any = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Evaluation:
    """Metrics of one result.

    Args:
        metrics: ``{name: value}``; must contain the task's ``main_metric``.
        per_example: ``{metric: [value per example]}`` for the metrics that are means over
            examples (queries, customers, sessions, windows); used by significance tests.
        example_ids: the ids of those examples, in the same order (optional).
        extras: small JSON-able things worth keeping (a generated sample, a loss curve).
    """

    metrics: dict[str, float]
    per_example: dict[str, list[float]] = field(default_factory=dict)
    example_ids: list[str] | None = None
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
    """Report progress (the phase of the job) to the runner."""
    checkpoint_callback: Callable[[int, int, float | None], bool] | None = None
    """Installed by a task for the time of ``fit`` (periodic evaluation); see :meth:`checkpoint`."""
    excluded_seconds: float = 0.0
    """Seconds spent inside :meth:`checkpoint` so far: not training time (the runner subtracts them)."""

    def checkpoint(self, step: int, train_chars: int, train_loss: float | None = None) -> bool:
        """Called by a system's training loop every ``eval_interval`` steps and after the last one.

        Runs the task's callback, if any (which may evaluate the model); the time it takes is added
        to ``excluded_seconds``, so it does not count as training time.

        Args:
            step: optimisation steps done so far.
            train_chars: training characters consumed as targets so far.
            train_loss: the mean training-batch loss since the previous checkpoint, if known.

        Returns:
            False when the task wants training to stop now (target reached, budget spent).
        """
        if self.checkpoint_callback is None:
            return True
        start = time.perf_counter()
        try:
            return bool(self.checkpoint_callback(step, train_chars, train_loss))
        finally:
            self.excluded_seconds += time.perf_counter() - start

    def artifact_path(self, suffix: str) -> Path | None:
        """Path of an artifact file named ``<record stem><suffix>``, or None if not kept."""
        if self.artifacts_dir is None:
            return None
        self.artifacts_dir.mkdir(parents=True, exist_ok=True)
        return self.artifacts_dir / f"{self.artifact_prefix}{suffix}"


@dataclass
class NoOptions:
    """A task or system without options."""


class Task(ABC):
    """A benchmark task: data, split protocol and metrics, fixed.

    Subclasses set the class attributes and implement the four methods. ``Options`` is a
    dataclass of task options (``--set`` and ``--dataset``), saved with every record.
    """

    id: ClassVar[str]
    version: ClassVar[str] = "1"
    kind: ClassVar[str] = ""
    main_metric: ClassVar[str]
    higher_is_better: ClassVar[bool] = True
    description: ClassVar[str] = ""
    protocol: ClassVar[str] = ""
    data_source: ClassVar[str] = ""
    profiles: ClassVar[dict[str, str]] = {
        "smoke": "seconds, for tests",
        "default": "minutes on a 2-core laptop",
        "full": "the reference protocol",
    }
    default_seeds: ClassVar[tuple[int, ...]] = (0, 1, 2)
    Options: ClassVar[type] = NoOptions
    metric_directions: ClassVar[dict[str, bool]] = {}
    """Direction of secondary metrics where lower is better (``{"loss": False}``)."""

    def __init__(self, options: Any = None) -> None:
        self.options = options if options is not None else self.Options()

    def __reduce__(self) -> tuple[Any, ...]:
        # Pickled by id (for spawned workers): task families may create their classes at run time.
        options = dataclasses.asdict(self.options) if dataclasses.is_dataclass(self.options) else None
        return (_task_from_id, (self.id, type(self).__module__, options))

    @abstractmethod
    def prepare(self, context: RunContext) -> TaskData:
        """Load (download, convert, cache) the data and apply the split protocol."""

    @abstractmethod
    def fit(self, system: System, data: TaskData, context: RunContext) -> None:
        """Train ``system`` on the training part, through the task family's Protocol."""

    @abstractmethod
    def predict(self, system: System, data: TaskData, context: RunContext) -> Any:
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

    def direction(self, metric: str) -> bool:
        """True if higher values of ``metric`` are better."""
        if metric == self.main_metric:
            return self.higher_is_better
        return self.metric_directions.get(metric, True)


def _task_from_id(task_id: str, module: str, options: dict[str, Any] | None) -> Task:
    import importlib

    from benchmarks.registry import TASKS, get_task

    if task_id not in TASKS:
        importlib.import_module(module)  # registers the task without a full discovery
    task_cls = TASKS.get(task_id) if task_id in TASKS else get_task(task_id)
    return task_cls(task_cls.Options(**options) if options is not None else None)


class System:
    """A system that can run on some tasks.

    Class attributes:
        id: unique kebab-case name.
        tasks: task ids or ``fnmatch`` patterns (``"beir-*"``) this system can run.
        Config: a dataclass of hyperparameters; its defaults are the ``default`` profile.
        profile_overrides: ``{profile: {field: value}}`` applied before ``--set``.
        requires: importable module names the system needs beyond the core install.
        extra: the pip extra that provides them (shown as an install hint).
    """

    id: ClassVar[str]
    tasks: ClassVar[tuple[str, ...]] = ()
    Config: ClassVar[type] = NoOptions
    profile_overrides: ClassVar[dict[str, dict[str, Any]]] = {}
    requires: ClassVar[tuple[str, ...]] = ()
    extra: ClassVar[str | None] = None
    description: ClassVar[str] = ""
    expected: ClassVar[tuple[Any, ...]] = ()
    """Declared scores (``benchmarks.expected.Expected``) that ``python -m benchmarks check`` reruns."""

    def __init__(self, config: Any, context: RunContext) -> None:
        self.config = config
        self.context = context
        self.seed = context.seed
        self.device = context.device

    def report(self) -> dict[str, Any]:
        """Extra facts worth recording after a run (parameter count, loss curve, ...)."""
        return {}

    @classmethod
    def missing_requirements(cls) -> list[str]:
        """The modules in ``requires`` that cannot be imported here."""
        return [name for name in cls.requires if importlib.util.find_spec(name) is None]

    @classmethod
    def install_hint(cls) -> str:
        if cls.extra:
            return f'pip install -e ".[{cls.extra}]"'
        return "pip install " + " ".join(cls.missing_requirements())
