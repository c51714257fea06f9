"""The registry of tasks and systems, and their discovery.

Built-in tasks live in ``benchmarks/tasks/`` and systems in ``systems/``: every module there
is imported by ``discover()``, so adding one is adding one file. Third-party systems come
from installed distributions through the entry-point group ``mlsd_bench.systems`` and go
through the same decorator.
"""

from __future__ import annotations

import contextlib
import fnmatch
import importlib
import importlib.metadata
import sys
import traceback
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar

from benchmarks.api import System, Task
from benchmarks.errors import UserError, close_matches

T = TypeVar("T")

ENTRY_POINT_GROUP = "mlsd_bench.systems"


class Registry(Generic[T]):
    """Name → object, where a duplicate name raises and an unknown one suggests close matches."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._items: dict[str, T] = {}
        self._origins: dict[str, str] = {}

    def add(self, name: str, item: T, origin: str = "") -> None:
        if name in self._items:
            raise UserError(
                f"duplicate {self.kind} id {name!r}: defined in {self._origins[name]} "
                f"and again in {origin or 'another module'}; rename one of them"
            )
        self._items[name] = item
        self._origins[name] = origin

    def get(self, name: str) -> T:
        if name not in self._items:
            close = close_matches(name, list(self._items))
            hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
            known = ", ".join(sorted(self._items)) or "none"
            raise UserError(f"unknown {self.kind} {name!r}{hint} (known: {known})")
        return self._items[name]

    def remove(self, name: str) -> None:
        self._items.pop(name, None)
        self._origins.pop(name, None)

    def origin(self, name: str) -> str:
        return self._origins.get(name, "")

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._items))

    def __len__(self) -> int:
        return len(self._items)

    def items(self) -> list[tuple[str, T]]:
        return sorted(self._items.items())


TASKS: Registry[type[Task]] = Registry("task")
SYSTEMS: Registry[type[System]] = Registry("system")


@dataclass(frozen=True)
class BrokenModule:
    """A module under ``systems/`` or an entry point that failed to import."""

    origin: str
    error: str
    missing_module: str | None = None


BROKEN: list[BrokenModule] = []


def _origin_of(obj: type) -> str:
    return f"{obj.__module__}.{obj.__qualname__}"


def register_task(cls: type[Task]) -> type[Task]:
    """Class decorator: register a task under ``cls.id``.

    Raises:
        UserError: no id, an unknown kind, or a main metric that ``benchmarks.metrics`` does not declare.
    """
    from benchmarks import kinds, metrics

    if not getattr(cls, "id", None):
        raise UserError(f"task class {_origin_of(cls)} has no 'id'")
    if cls.kind not in kinds.KINDS:
        raise UserError(f"task {cls.id!r} ({_origin_of(cls)}): kind {cls.kind!r} is not one of {', '.join(kinds.KINDS)}")
    if not getattr(cls, "main_metric", None) or metrics.find(cls.main_metric) is None:
        raise UserError(f"task {cls.id!r} ({_origin_of(cls)}): main metric {getattr(cls, 'main_metric', None)!r} "
                        "is not declared in benchmarks/metrics/ (declare(Metric(...)) next to its function)")
    TASKS.add(cls.id, cls, _origin_of(cls))
    return cls


def register_system(cls: type[System]) -> type[System]:
    """Class decorator: register a system under ``cls.id`` for every task of its ``kind`` (narrowed by ``tasks``).

    Raises:
        UserError: no id, an unknown kind, or a method of the kind's Protocol that the class lacks.
    """
    from benchmarks import kinds

    if not getattr(cls, "id", None):
        raise UserError(f"system class {_origin_of(cls)} has no 'id'")
    if cls.kind not in kinds.KINDS:
        raise UserError(f"system {cls.id!r} ({_origin_of(cls)}) declares kind {cls.kind!r}; "
                        f"expected one of {', '.join(kinds.KINDS)} (see benchmarks/kinds/)")
    missing = kinds.missing_methods(cls, cls.kind)
    if missing:
        raise UserError(f"system {cls.id!r} ({_origin_of(cls)}) is a {cls.kind} but lacks "
                        f"{', '.join(m + '()' for m in missing)} (the {cls.kind} contract in benchmarks/kinds/)")
    SYSTEMS.add(cls.id, cls, _origin_of(cls))
    return cls


def serves(system: type[System], task: type[Task]) -> bool:
    """True if ``system`` runs ``task``: the same kind, and the task among its ``tasks`` patterns if it has any."""
    if system.kind != task.kind:
        return False
    return not system.tasks or any(fnmatch.fnmatchcase(task.id, pattern) for pattern in system.tasks)


def systems_for(task: type[Task] | str) -> list[type[System]]:
    """Every registered system that runs ``task`` (a class or an id), by id."""
    discover()
    task_cls = get_task(task) if isinstance(task, str) else task
    return [cls for _, cls in SYSTEMS.items() if serves(cls, task_cls)]


def tasks_for(system: type[System]) -> list[type[Task]]:
    """Every registered task that ``system`` runs, by id."""
    discover()
    return [cls for _, cls in TASKS.items() if serves(system, cls)]


BUILTIN_SYSTEMS = Path(__file__).resolve().parent.parent / "systems"
"""The project's own systems folder (beside ``benchmarks/``, in a checkout and in an installation alike)."""


def _builtin_systems_package() -> None:
    """Make ``import systems`` the project's own folder, even when a ``systems/`` folder in the working
    directory would shadow it (Python looks there first): say so, and load the built-ins anyway."""
    import importlib.util

    found = sys.modules.get("systems")
    if found is None:
        spec = importlib.util.find_spec("systems")
        locations = list(spec.submodule_search_locations or []) if spec is not None else []
    else:
        locations = list(getattr(found, "__path__", []))
    if any(Path(location).resolve() == BUILTIN_SYSTEMS for location in locations) or not BUILTIN_SYSTEMS.is_dir():
        return
    if locations:
        print(f"warning: {', '.join(locations)} shadows MLSD Bench's built-in systems ({BUILTIN_SYSTEMS}); the built-in "
              "systems are loaded and the local folder is ignored (rename it; out-of-tree systems use an entry point)",
              file=sys.stderr)
    for name in [n for n in sys.modules if n == "systems" or n.startswith("systems.")]:
        del sys.modules[name]
    spec = importlib.util.spec_from_file_location("systems", BUILTIN_SYSTEMS / "__init__.py",
                                                  submodule_search_locations=[str(BUILTIN_SYSTEMS)])
    module = importlib.util.module_from_spec(spec)
    sys.modules["systems"] = module
    spec.loader.exec_module(module)


_imported_trees: set[str] = set()


def _import_tree(package: str) -> None:
    """Import every module below ``package`` (a folder on disk), recording failures; once per package
    unless :func:`discover` is forced."""
    if package in _imported_trees:
        return
    _imported_trees.add(package)
    if package == "systems":
        _builtin_systems_package()
    try:
        root_module = importlib.import_module(package)
    except ImportError as error:
        BROKEN.append(BrokenModule(package, f"{type(error).__name__}: {error}"))
        return
    for root in [Path(p) for p in getattr(root_module, "__path__", [])]:
        for path in sorted(root.rglob("*.py")):
            relative = path.relative_to(root).with_suffix("")
            parts = relative.parts
            if any(part.startswith(("_", ".")) or part == "lib" for part in parts[:-1]) or parts[-1].startswith("."):
                continue  # private folders, and lib/ folders (library code, imported by the systems that use it)
            if parts[-1] == "__init__":
                parts = parts[:-1]
                if not parts:
                    continue
            if any(not part.isidentifier() for part in parts):
                continue
            name = ".".join((package, *parts))
            if name in sys.modules:
                continue
            try:
                importlib.import_module(name)
            except ImportError as error:
                missing = getattr(error, "name", None)
                BROKEN.append(BrokenModule(name, f"{type(error).__name__}: {error}", missing))
            except Exception as error:  # a broken plug-in (a registration error too) must not break discovery
                summary = traceback.format_exception_only(type(error), error)[-1].strip()
                BROKEN.append(BrokenModule(name, summary))


def _load_entry_points() -> None:
    for entry_point in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        try:
            loaded = entry_point.load()
        except Exception as error:
            summary = traceback.format_exception_only(type(error), error)[-1].strip()
            BROKEN.append(BrokenModule(f"entry point {entry_point.name} ({entry_point.value})", summary))
            continue
        # An entry point may name a module (its decorators ran on import) or a System class.
        if isinstance(loaded, type) and issubclass(loaded, System) and loaded.id not in SYSTEMS:
            register_system(loaded)


_discovered = False


def discover(force: bool = False) -> None:
    """Import the built-in tasks and systems and the entry-point plug-ins, once."""
    global _discovered
    if _discovered and not force:
        return
    _discovered = True
    if force:
        _imported_trees.clear()
    _import_tree("benchmarks.tasks")
    _import_tree("systems")
    _load_entry_points()


def get_task(task_id: str) -> type[Task]:
    """The task ``task_id``: its likely module first (``benchmarks/tasks/<first word of the id>.py``), then the
    built-in tasks, then everything (a built-in task needs no system imported: `score` starts faster)."""
    first_word = task_id.split("-")[0]
    home = f"benchmarks.tasks.{first_word}"
    if task_id not in TASKS and not _discovered and first_word.isidentifier() and home not in sys.modules:
        with contextlib.suppress(Exception):  # only a guess: a failure here is met again, and recorded, below
            importlib.import_module(home)
    if task_id not in TASKS and not _discovered:
        _import_tree("benchmarks.tasks")
    if task_id not in TASKS:
        discover()
    return TASKS.get(task_id)


def get_system(system_id: str) -> type[System]:
    discover()
    return SYSTEMS.get(system_id)
