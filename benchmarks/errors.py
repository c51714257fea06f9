"""Errors meant for the person at the keyboard: printed without a traceback."""

from __future__ import annotations

from pathlib import Path


class UserError(Exception):
    """Something the user can fix: bad input, a missing file, an unknown name."""


class DataError(UserError):
    """Bad input data. The message names the file, the line or field, and what was expected."""

    def __init__(self, path: Path | str, problem: str, line: int | None = None, hint: str = "") -> None:
        where = f"{path}" + (f", line {line}" if line is not None else "")
        super().__init__(f"{where}: {problem}" + (f" ({hint})" if hint else ""))
        self.line = line


QUOTE_LIMIT = 200
"""The most characters of a user's line or value that an error message quotes."""


def quote(value: object, limit: int = QUOTE_LIMIT) -> str:
    """``repr(value)`` for an error message, at most ``limit`` characters (a cut one ends with its length).

    >>> quote("abc")
    "'abc'"
    >>> quote("x" * 500, limit=30)
    "'xxxxxxxxxxx… (500 characters)"
    """
    text = repr(value)
    if len(text) <= limit:
        return text
    size = f" ({len(value)} characters)" if isinstance(value, (str, bytes)) else ""
    return text[: max(limit - len(size) - 1, 1)] + "…" + size


def shown(value: object, limit: int = 80) -> str:
    """``repr(value)``, cut to ``limit`` characters: an error message stays one readable line."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 5] + "…" + text[-4:]


def did_you_mean(name: str, options: list[str], quoted: bool = False) -> str:
    """``"; did you mean a, b?"``: up to 3 options that look like ``name`` (case-insensitive), best first; or ""."""
    import difflib

    lowered = {option.lower(): option for option in options}
    close = [lowered[match] for match in difflib.get_close_matches(name.lower(), list(lowered), n=3, cutoff=0.5)]
    return f"; did you mean {', '.join(repr(c) if quoted else c for c in close)}?" if close else ""


def unknown(kind: str, name: str, options: list[str] | set[str] | tuple[str, ...], what: str = "") -> UserError:
    """The error for an unknown name, with "did you mean" and the known names: the one message every command gives.

    >>> str(unknown("task", "mons-acc", ["moons-acc", "hm-map12"]))
    "unknown task 'mons-acc'; did you mean 'moons-acc'? (known: hm-map12, moons-acc)"
    """
    known = sorted(options)
    hint = did_you_mean(name, known, quoted=True) if isinstance(name, str) else ""
    listed = ", ".join(known[:40]) + (f", … ({len(known)} in all)" if len(known) > 40 else "")
    return UserError(f"unknown {what or kind} {shown(name)}{hint} (known: {listed or 'none'})")
