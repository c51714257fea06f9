"""Pure metric functions, each checked against an independent oracle in the tests, and the facts about
every metric name a record can hold: its direction, how it is displayed, and the older names it replaces.

Each metric module declares the metrics it computes next to their functions::

    declare(Metric("map@12", higher_is_better=True, description="MAP@12, as the H&M competition"))

and everything that ranks, tests or shows a metric (leaderboards, ``compare``, plots, the site) asks
:func:`facts` instead of guessing from the name. A name may be a pattern (``ndcg@*``) for families
of cut-offs; exact names win over patterns, and the first matching pattern over later ones.

>>> facts("val_ppl").higher_is_better, facts("ndcg@10").higher_is_better
(False, True)
>>> canonical("map12")
'map@12'
"""

from __future__ import annotations

import fnmatch
import functools
import importlib
import pkgutil
from dataclasses import dataclass

from benchmarks.errors import UserError


@dataclass(frozen=True)
class Metric:
    """What is known about one metric name (``"map@12"``) or ``fnmatch`` pattern of names (``"recall@*"``): its
    direction, the decimals tables show, one line for people, and its older names (records holding them are read
    under ``name``)."""

    name: str
    higher_is_better: bool
    digits: int = 4
    description: str = ""
    aliases: tuple[str, ...] = ()

    def format(self, value: float | None) -> str:
        """The value as tables show it: ``0.1234``, ``123.4``, ``12,345``, or ``–`` for none."""
        if value is None:
            return "–"
        if value != value:  # NaN
            return "n/a"
        if abs(value) >= 1000:
            return f"{value:,.0f}"
        if abs(value) >= 100:
            return f"{value:.1f}"
        return f"{value:.{self.digits}f}"


_EXACT: dict[str, Metric] = {}
_PATTERNS: list[Metric] = []
_ALIASES: dict[str, str] = {}


def declare(metric: Metric) -> None:
    """Register a metric's facts (called at import time by the metric modules). A name declared twice
    with other facts is an error."""
    if any(ch in metric.name for ch in "*?["):
        if metric not in _PATTERNS:
            _PATTERNS.append(metric)
    elif _EXACT.setdefault(metric.name, metric) != metric:
        raise ValueError(f"metric {metric.name!r} declared twice with different facts")
    for alias in metric.aliases:
        _ALIASES[alias] = metric.name


@functools.cache
def _load_all() -> None:
    """Import every metric module of this package once (their ``declare`` calls fill the tables)."""
    for info in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{info.name}")


def canonical(name: str) -> str:
    """The current name of a metric (older names map onto it; unknown names are returned as they are)."""
    _load_all()
    return _ALIASES.get(name, name)


def find(name: str) -> Metric | None:
    """The facts of ``name`` (or of its current name), or None when nothing declares it."""
    name = canonical(name)
    if name in _EXACT:
        return _EXACT[name]
    for metric in _PATTERNS:
        if fnmatch.fnmatchcase(name, metric.name):
            return metric
    return None


def facts(name: str) -> Metric:
    """The facts of ``name``; a UserError when no metric module declares it."""
    found = find(name)
    if found is None:
        known = ", ".join(sorted(_EXACT) + [m.name for m in _PATTERNS])
        raise UserError(f"unknown metric {name!r}: no module in benchmarks/metrics/ declares it (known: {known})")
    return found


def higher_is_better(name: str, default: bool | None = None) -> bool:
    """The direction of ``name`` (see :func:`facts`). ``default`` answers for an undeclared name (the
    direction a record carries, for a task that is not installed here); without it that is an error."""
    found = find(name)
    if found is None and default is not None:
        return default
    return facts(name).higher_is_better


def format_value(name: str, value: float | None) -> str:
    """``value`` as tables show ``name``; undeclared metrics get four decimals."""
    return (find(name) or Metric(name, True)).format(value)
