"""Argument types the commands share: each checks its value where argparse reads it, so a bad one is one error
line before anything runs or is created (the same checks guard :class:`benchmarks.config.RunRequest`)."""

from __future__ import annotations

import argparse
import functools
import re
from collections.abc import Callable
from typing import Any

from benchmarks.api import PROFILES
from benchmarks.config import MAX_COUNT, check_count, check_seconds
from benchmarks.errors import UserError, unknown
from benchmarks.paths import MAX_SEED, check_folder_argument, check_id, check_seed, shown


def _checked(parse: Callable[[str], Any], check: Callable[[Any], Any], expected: str) -> Callable[[str], Any]:
    def convert(text: str) -> Any:
        try:
            value = parse(text)
        except (ValueError, OverflowError):
            raise argparse.ArgumentTypeError(f"expected {expected} (got {shown(text)})") from None
        try:
            return check(value)
        except UserError as error:
            raise argparse.ArgumentTypeError(str(error).split(": ", 1)[-1] + f" (got {shown(text)})") from None

    convert.__name__ = expected  # argparse names the type in its messages
    return convert


def _integer(text: str) -> int:
    """``int(text)`` for ASCII digits only (``int`` also reads ``٣`` and ``1_0``: lookalikes a user did not mean)."""
    if not re.fullmatch(r"\s*[+-]?[0-9]+\s*", text):
        raise ValueError(text)
    return int(text)


def _number(text: str) -> float:
    """``float(text)`` for ASCII text only."""
    if not text.isascii() or "_" in text:
        raise ValueError(text)
    return float(text)


seed = _checked(_integer, check_seed, f"an integer from 0 to {MAX_SEED}")
seconds = _checked(_number, lambda value: check_seconds(value, "value"), "a finite number of seconds above 0")
folder = _checked(str, lambda value: check_folder_argument(value, "folder"), "a folder")
"""A folder argument (``--results-dir``): no NUL byte, not empty, not a file."""
task_id = _checked(str, lambda value: check_id(value, "task"), "a task id")
"""``--task``: an id, never a path (whether it is a known task is checked by the command, with "did you mean")."""


def count(minimum: int) -> Callable[[str], int]:
    """``--jobs`` (minimum 1), ``--retries`` (minimum 0), ``--resamples``: an integer of at least ``minimum``."""
    return _checked(_integer, lambda value: check_count(value, "value", minimum=minimum), f"an integer from {minimum} to {MAX_COUNT}")


def choose(value: str, options: list[str] | set[str] | tuple[str, ...], kind: str, what: str = "") -> str:
    """``value`` if it is one of ``options``; else the shared "unknown ...; did you mean" error."""
    if value not in options:
        raise unknown(kind, value, options, what=what)
    return value


def _known(kind: str, value: str) -> str:
    """``value`` if it is a registered ``kind`` (task or system); else "did you mean"."""
    from benchmarks import registry

    check_id(value, f"--{kind}")
    names = registry.TASKS if kind == "task" else registry.SYSTEMS
    if value not in names:
        registry.discover()  # only when needed: a built-in task is known without importing every system
    return value if value in names else choose(value, set(names), kind)


known_task = functools.partial(_known, "task")
known_system = functools.partial(_known, "system")
profile = functools.partial(choose, options=PROFILES, kind="profile", what="--profile")
