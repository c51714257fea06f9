"""The registry of tasks and systems, and their discovery.

Built-in tasks live in ``benchmarks/tasks/`` and systems in ``systems/``: every module there
is imported by ``discover()``, so adding one is adding one file. Third-party systems come
from installed distributions through the entry-point group ``mlsd_bench.systems`` and go
through the same decorator.
"""

from __future__ import annotations

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
    """Class decorator: register a task under ``cls.id``."""
    if not getattr(cls, "id", None):
        raise UserError(f"task class {_origin_of(cls)} has no 'id'")
    if cls.main_metric is None:
        raise UserError(f"task {cls.id!r} declares no main_metric")
    TASKS.add(cls.id, cls, _origin_of(cls))
    return cls


def register_system(cls: type[System]) -> type[System]:
    """Class decorator: register a system under ``cls.id`` for the tasks in ``cls.tasks``."""
    if not getattr(cls, "id", None):
        raise UserError(f"system class {_origin_of(cls)} has no 'id'")
    if not cls.tasks:
        raise UserError(f"system {cls.id!r} ({_origin_of(cls)}) declares no tasks")
    SYSTEMS.add(cls.id, cls, _origin_of(cls))
    return cls


def serves(system: type[System], task_id: str) -> bool:
    """True if ``system`` declares ``task_id`` (exactly or through a pattern)."""
    return any(fnmatch.fnmatchcase(task_id, pattern) for pattern in system.tasks)


def systems_for(task_id: str) -> list[type[System]]:
    return [cls for _, cls in SYSTEMS.items() if serves(cls, task_id)]


def _import_tree(package: str) -> None:
    """Import every module below ``package`` (a folder on disk), recording failures."""
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
            except UserError:
                raise
            except Exception as error:  # a broken plug-in must not break discovery
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
    _import_tree("benchmarks.tasks")
    _import_tree("systems")
    _load_entry_points()


def get_task(task_id: str) -> type[Task]:
    discover()
    return TASKS.get(task_id)


def get_system(system_id: str) -> type[System]:
    discover()
    return SYSTEMS.get(system_id)
