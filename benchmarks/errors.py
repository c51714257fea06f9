"""Errors meant for the person at the keyboard: printed without a traceback."""

from __future__ import annotations

from pathlib import Path


class UserError(Exception):
    """Something the user can fix: bad input, a missing file, an unknown name."""


class DataError(UserError):
    """Bad input data. The message names the file, the line or field, and what was expected."""

    def __init__(self, path: Path | str, problem: str, line: int | None = None, hint: str = "") -> None:
        where = f"{path}" + (f", line {line}" if line is not None else "")
        message = f"{where}: {problem}"
        if hint:
            message += f" ({hint})"
        super().__init__(message)
        self.path = Path(path)
        self.line = line
        self.problem = problem
