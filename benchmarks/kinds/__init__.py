"""System kinds: one module per kind of problem, each defining its :class:`~benchmarks.api.Kind` as ``KIND``.

A kind's module holds what its tasks and systems share: the Protocol a task calls (``register_system`` checks a
system has its methods, so a missing one fails at import, not halfway through a run), the typed task data and
domain types (``RetrievalData``, ``Corpus``, ...), the checks of a system's answers, the optional serving Protocol
and query unit, and the smoke inputs of the contract test. Adding a kind is adding one module here (the table of
kinds is in CONTRIBUTING.md).
"""

from __future__ import annotations

import importlib
import pkgutil

from benchmarks.api import Kind


def _discover() -> dict[str, Kind]:
    """Every module of this package that defines ``KIND``, by kind name."""
    found: dict[str, Kind] = {}
    for module in pkgutil.iter_modules(__path__):
        kind = getattr(importlib.import_module(f"{__name__}.{module.name}"), "KIND", None)
        if isinstance(kind, Kind):
            found[kind.name] = kind
    return dict(sorted(found.items()))


KINDS: dict[str, Kind] = _discover()


def is_served(cls_or_system: object) -> bool:
    """Whether a system (class or instance) implements the optional ``serve`` of its kind."""
    return callable(getattr(cls_or_system, "serve", None))
