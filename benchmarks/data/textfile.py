"""Reading a text data file (plain or gzipped) line by line as UTF-8, with errors that name the file, the line
and the offending byte instead of a raw ``UnicodeDecodeError``.

Lines are split at ``\\n`` only (a ``\\r`` before it is removed), so the line numbers are those of
``wc -l`` and of every editor; a UTF-8 byte-order mark at the start of the file is skipped.
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from benchmarks.errors import DataError

BOM = b"\xef\xbb\xbf"


def _open_binary(path: Path) -> IO[bytes]:
    try:
        if path.suffix == ".gz":
            return gzip.open(path, "rb")
        return open(path, "rb")
    except IsADirectoryError:
        raise DataError(path, "is a folder, expected a file") from None
    except FileNotFoundError:
        raise DataError(path, "no such file") from None


def decode_line(path: Path, number: int, raw: bytes) -> str:
    """One line's bytes as text, or a DataError naming the line, the column and the byte.

    >>> decode_line(Path("q.tsv"), 3, b"1\\tcaf\\xe9")
    Traceback (most recent call last):
    ...
    benchmarks.errors.DataError: q.tsv, line 3: byte 0xe9 at column 6 is not valid UTF-8 (save the file as UTF-8)
    """
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        byte = raw[error.start]
        raise DataError(path, f"byte 0x{byte:02x} at column {error.start + 1} is not valid UTF-8",
                        line=number, hint="save the file as UTF-8") from None


def iter_lines(path: Path) -> Iterator[tuple[int, str]]:
    """Yield ``(line number, line without its end)`` for every line of ``path``, blank ones included.

    Raises:
        DataError: a byte sequence that is not UTF-8 (file, line, column and byte named), a
            damaged gzip stream, or a missing file.
    """
    path = Path(path)
    number = 0
    with _open_binary(path) as handle:
        try:
            for number, raw in enumerate(handle, start=1):
                if number == 1 and raw.startswith(BOM):
                    raw = raw[len(BOM):]
                if raw.endswith(b"\n"):
                    raw = raw[:-2] if raw.endswith(b"\r\n") else raw[:-1]
                yield number, decode_line(path, number, raw)
        except (gzip.BadGzipFile, EOFError, zlib.error) as error:
            raise DataError(path, f"damaged gzip data after line {number} ({error})",
                            hint="download or compress the file again") from None
