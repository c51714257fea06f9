"""Reading JSON-lines files (plain or gzipped) with errors that name the file, the line and, for bad bytes, the byte."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from benchmarks.data.textfile import decode_line, find_utf8_error, iter_lines, text_lines, utf8_error  # noqa: F401 (re-exported)
from benchmarks.errors import DataError


def parse_jsonl(lines: Iterable[tuple[int, str]], path: Path | str, hint: str = "") -> Iterator[tuple[int, Any]]:
    """Yield ``(line number, parsed value)`` for each non-blank line of ``lines`` (from :func:`text_lines`).

    Raises:
        DataError: a line that is not valid JSON (naming the file, the line and ``hint``).
    """
    for number, line in lines:
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as error:
            raise DataError(path, f"not valid JSON ({error.msg} at column {error.colno})", line=number, hint=hint) from None
        except (ValueError, RecursionError) as error:  # an integer of over 4300 digits; nesting too deep
            raise DataError(path, f"not valid JSON ({type(error).__name__}: {str(error)[:100]})", line=number, hint=hint) from None
        yield number, value


def iter_jsonl(path: Path, hint: str = "") -> Iterator[tuple[int, Any]]:
    """Yield ``(line number, parsed value)`` for each non-blank line of ``path``.

    Raises:
        DataError: a line that is not UTF-8 or not valid JSON (naming the file, the line and ``hint``).
    """
    yield from parse_jsonl(iter_lines(Path(path)), path, hint)
