"""The registry of tasks and systems, and their discovery: ``discover()`` imports every module of
``benchmarks/tasks/`` and ``systems/`` (adding one is adding one file), and the systems that installed distributions
declare in the entry-point group ``mlsd_bench.systems``; all go through the same decorators.
"""

from __future__ import annotations

import contextlib
import fnmatch
import functools
import importlib.metadata
import importlib.util
import sys
import traceback
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar

from benchmarks.api import System, Task
from benchmarks.errors import UserError, unknown
from benchmarks.paths import check_id

T = TypeVar("T")

ENTRY_POINT_GROUP = "mlsd_bench.systems"


class Registry(Generic[T]):
    """Name → object, where a duplicate name raises and an unknown one suggests close matches.

    A name registered twice (a plug-in reusing a built-in's id, two plug-ins sharing one) is refused for good:
    neither definition is used (which one won would depend on import order), ``get`` names both files, and the
    second registration raises (discovery records it as a broken module)."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._items: dict[str, T] = {}
        self._where: dict[str, tuple[str, str]] = {}  # name → (origin, file)
        self.conflicts: dict[str, str] = {}
        """Refused names → the error that says where each definition is."""

    def add(self, name: str, item: T, origin: str = "", file: str = "") -> None:
        if name in self._items and (self._items[name] is item or (origin, file) == self._where[name]):
            return  # the same class, or its module run again (an entry point naming a module already imported)
        if name in self.conflicts:
            message = f"{self.conflicts[name]}; and again in {file or origin or 'another module'}"
        elif name in self._items:
            first_origin, first_file = self._where[name]
            message = (f"duplicate {self.kind} id {name!r}: defined in {first_file or first_origin or 'an earlier module'} "
                       f"({first_origin}) and again in {file or 'another module'} ({origin or '?'}); neither is used: "
                       f"rename one of them (a plug-in may not replace a built-in {self.kind})")
        else:
            self._items[name] = item
            self._where[name] = (origin, file)
            return
        self.conflicts[name] = message
        self.remove(name)
        raise UserError(message)

    def get(self, name: str) -> T:
        if name in self.conflicts:
            raise UserError(self.conflicts[name])
        if name not in self._items:
            raise unknown(self.kind, name, list(self._items))
        return self._items[name]

    def remove(self, name: str) -> None:
        self._items.pop(name, None)
        self._where.pop(name, None)

    def origin(self, name: str) -> str:
        return self._where.get(name, ("", ""))[0]

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._items))

    def items(self) -> list[tuple[str, T]]:
        return sorted(self._items.items())


TASKS: Registry[type[Task]] = Registry("task")
SYSTEMS: Registry[type[System]] = Registry("system")


@dataclass(frozen=True)
class BrokenModule:
    """A module under ``systems/`` or an entry point that failed to import: its error, and where it was raised."""

    origin: str
    error: str
    file: str | None = None
    """The plug-in's file (or the file where the error was raised, when that is not known)."""
    line: int | None = None

    @property
    def where(self) -> str:  # path/to/file.py, line 3 (or only the file, or the module)
        return self.file + (f", line {self.line}" if self.line else "") if self.file else self.origin

    def describe(self) -> str:
        return f"{self.origin} ({self.where}): {self.error}" if self.file else f"{self.origin}: {self.error}"


BROKEN: list[BrokenModule] = []


def _broken(origin: str, error: BaseException, file: str | None = None) -> BrokenModule:
    """The record of a failed import: the error as one line, and the line of ``file`` (the plug-in's own file,
    when known) that raised it: a SyntaxError's own place, else the deepest frame in that file, else the deepest
    frame outside Python's import machinery."""
    summary = (f"{type(error).__name__}: {error}" if isinstance(error, UserError)
               else traceback.format_exception_only(type(error), error)[-1].strip())
    line = None
    if isinstance(error, SyntaxError) and error.filename:
        file, line = error.filename, error.lineno
    else:
        frames = [f for f in traceback.extract_tb(error.__traceback__)
                  if not f.filename.startswith("<") and "importlib" not in Path(f.filename).parts]
        own = [f for f in frames if file and Path(f.filename).resolve() == Path(file).resolve()]
        chosen = (own or frames or [None])[-1]
        if chosen is not None:
            file, line = chosen.filename, chosen.lineno
    return BrokenModule(origin, summary, file, line)


def _origin_of(obj: type) -> str:
    return f"{obj.__module__}.{obj.__qualname__}"


def _file_of(obj: type) -> str:
    """The file that defines ``obj`` (its module's file; "" for a class made at run time)."""
    return getattr(sys.modules.get(obj.__module__), "__file__", None) or ""


def _check_registered_id(cls: type, what: str) -> None:
    """A plug-in's id becomes a folder and a file name: a missing or not plain id is refused, naming its file."""
    if not getattr(cls, "id", None):
        raise UserError(f"{what} class {_origin_of(cls)} has no 'id'")
    check_id(cls.id, f"{what} class {_origin_of(cls)} in {_file_of(cls) or cls.__module__}: id")


def register_task(cls: type[Task]) -> type[Task]:
    """Class decorator: register a task under ``cls.id``, once its id, kind and main metric are checked."""
    from benchmarks import kinds, metrics

    _check_registered_id(cls, "task")
    kind = getattr(cls, "kind", None)
    if kinds.KINDS.get(str(kind)) is not kind:
        raise UserError(f"task {cls.id!r} ({_origin_of(cls)}): kind {kind!r} is not a kind; expected the KIND of a "
                        f"module of benchmarks/kinds/ (one of {', '.join(kinds.KINDS)}), e.g. kind = retriever.KIND")
    if not getattr(cls, "main_metric", None) or metrics.find(cls.main_metric) is None:
        raise UserError(f"task {cls.id!r} ({_origin_of(cls)}): main metric {getattr(cls, 'main_metric', None)!r} "
                        "is not declared in benchmarks/metrics/ (declare(Metric(...)) next to its function)")
    TASKS.add(cls.id, cls, _origin_of(cls), _file_of(cls))
    return cls


def register_system(cls: type[System]) -> type[System]:
    """Class decorator: register a system under ``cls.id``, once its id, kind and methods are checked."""
    from benchmarks import kinds

    _check_registered_id(cls, "system")
    kind = kinds.KINDS.get(str(cls.kind))
    if kind is None:
        raise UserError(f"system {cls.id!r} ({_origin_of(cls)}) declares kind {cls.kind!r}; "
                        f"expected one of {', '.join(kinds.KINDS)} (see benchmarks/kinds/)")
    if missing := kind.missing_methods(cls):
        raise UserError(f"system {cls.id!r} ({_origin_of(cls)}) is a {cls.kind} but lacks "
                        f"{', '.join(m + '()' for m in missing)} (the {cls.kind} contract in benchmarks/kinds/)")
    SYSTEMS.add(cls.id, cls, _origin_of(cls), _file_of(cls))
    return cls


def serves(system: type[System], task: type[Task]) -> bool:
    """True if ``system`` runs ``task``: the same kind, and the task among its ``tasks`` patterns if it has any."""
    if str(system.kind) != task.kind.name:
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
    """Import every module below ``package`` once, recording failures."""
    if package in _imported_trees:
        return
    _imported_trees.add(package)
    if package == "systems":
        _builtin_systems_package()
    try:
        root_module = importlib.import_module(package)
    except ImportError as error:
        BROKEN.append(_broken(package, error))
        return
    for root in [Path(p) for p in getattr(root_module, "__path__", [])]:
        for path in sorted(root.rglob("*.py")):
            parts = path.relative_to(root).with_suffix("").parts
            if any(part.startswith(("_", ".")) or part == "lib" for part in parts[:-1]) or parts[-1].startswith("."):
                continue  # private folders, and lib/ folders (library code, imported by the systems that use it)
            parts = parts[:-1] if parts[-1] == "__init__" else parts
            name = ".".join((package, *parts))
            if not parts or not all(part.isidentifier() for part in parts) or name in sys.modules:
                continue
            try:
                importlib.import_module(name)
            except Exception as error:  # a broken plug-in (a registration error too) must not break discovery
                BROKEN.append(_broken(name, error, str(path)))


def _load_entry_points() -> None:
    for entry_point in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        origin = f"entry point {entry_point.name} ({entry_point.value})"
        try:
            loaded = entry_point.load()
            # An entry point may name a module (its decorators ran on import) or a System class (registered here;
            # the same class twice is one registration, another class under a taken id is refused).
            if isinstance(loaded, type) and issubclass(loaded, System):
                register_system(loaded)
        except Exception as error:
            BROKEN.append(_broken(origin, error, _module_file(entry_point.module)))


def _module_file(name: str) -> str | None:
    """Where module ``name`` would be loaded from, without importing it (None if unknown)."""
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None
    return spec.origin if spec is not None and spec.has_location else None


@functools.cache
def discover() -> None:
    """Import the built-in tasks and systems and the entry-point plug-ins, once."""
    _import_tree("benchmarks.tasks")
    _import_tree("systems")
    _load_entry_points()


def get_task(task_id: str) -> type[Task]:
    """The task ``task_id``: its likely module first (``benchmarks/tasks/<first word of the id>.py``), then the
    built-in tasks, then everything (a built-in task needs no system imported: `score` starts faster)."""
    first_word = task_id.split("-")[0]
    home = f"benchmarks.tasks.{first_word}"
    if task_id not in TASKS and first_word.isidentifier() and home not in sys.modules:
        with contextlib.suppress(Exception):  # only a guess: a failure here is met again, and recorded, below
            importlib.import_module(home)
    if task_id not in TASKS:
        _import_tree("benchmarks.tasks")
    if task_id not in TASKS:
        discover()
    return _get(TASKS, task_id)


def get_system(system_id: str) -> type[System]:
    """The system ``system_id``, or a UserError: unknown (see :func:`_get`) or defined twice (naming both files)."""
    discover()
    return _get(SYSTEMS, system_id)


def _get(registry: Registry[T], name: str) -> T:
    """``registry.get(name)``, where an unknown name also shows the plug-ins that failed to import: the one whose file
    holds the name (its real error, file and line), else all of them."""
    if name in registry or name in registry.conflicts or not BROKEN:
        return registry.get(name)
    if defining := [b for b in BROKEN if _mentions(b, name)]:
        raise UserError(f"{registry.kind} {name!r} could not be loaded: "
                        + "; ".join(f"{b.origin} failed to import ({b.where}): {b.error}" for b in defining))
    raise UserError(f"{unknown(registry.kind, name, list(registry))}; plug-in modules that failed to import: "
                    + "; ".join(b.describe() for b in BROKEN) + " (see: python -m benchmarks list)")


def _mentions(broken: BrokenModule, name: str) -> bool:
    """True if the broken module's own file holds ``name`` as a quoted string (its likely ``id = "name"``)."""
    try:
        text = Path(broken.file).read_text(encoding="utf-8", errors="replace") if broken.file else ""
    except OSError:
        return False
    return f'"{name}"' in text or f"'{name}'" in text
