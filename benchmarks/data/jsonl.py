"""Reading JSON-lines files with errors that name the file and line."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from benchmarks.data.textfile import iter_lines
from benchmarks.errors import DataError


def iter_jsonl(path: Path, hint: str = "") -> Iterator[tuple[int, Any]]:
    """Yield ``(line number, parsed value)`` for each non-blank line of ``path`` (UTF-8, plain or gzipped).

    Raises:
        DataError: a line that is not valid JSON (naming the file, the line and ``hint``), or
            bytes that are not UTF-8 (naming the line and the byte).
    """
    for number, line in iter_lines(path):
        if not line.strip():
            continue
        try:
            yield number, json.loads(line)
        except json.JSONDecodeError as error:
            raise DataError(path, f"not valid JSON ({error.msg} at column {error.colno})", line=number, hint=hint) from None
