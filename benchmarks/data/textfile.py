"""Reading a text or JSON-lines data file (plain or gzipped) line by line as UTF-8, with errors that name the
file, the line and the offending byte: every reader (BEIR, TREC, H&M, OTTO) decodes through :func:`decode_line`.

Lines are split at ``\\n`` only (a ``\\r`` before it is removed), so the line numbers are those of ``wc -l``
and of every editor; a UTF-8 byte-order mark at the start of the file is skipped. A gzipped file is
recognised by its first bytes (not by its name); another kind of archive, a folder or a missing file is
refused by :func:`open_input` with a one-line error saying what it is.
"""

from __future__ import annotations

import gzip
import json
import re
import zlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import IO, Any

from benchmarks.errors import DataError, quote

GZIP_ERRORS = (gzip.BadGzipFile, EOFError, zlib.error)
GZIP_MAGIC = b"\x1f\x8b"
_OTHER_FORMATS = ((re.compile(rb"PK\x03\x04"), "a zip archive"), (re.compile(rb"BZh[1-9]1AY&SY"), "bzip2-compressed"),
                  (re.compile(rb"\xfd7zXZ\x00"), "xz-compressed"), (re.compile(rb"\x28\xb5\x2f\xfd"), "zstd-compressed"),
                  (re.compile(rb"7z\xbc\xaf\x27\x1c"), "a 7z archive"))
"""Magic bytes of the archives refused by name (bzip2's with its block header: a text line may start with "BZh")."""


def decode_line(raw: bytes, path: Path | str, line: int) -> str:
    """``raw`` decoded as UTF-8 (a byte-order mark on line 1 is dropped), or a DataError naming the bad byte.

    >>> decode_line(b"ab\\xffc", "a.csv", 3)
    Traceback (most recent call last):
    benchmarks.errors.DataError: a.csv, line 3: byte 0xff at column 3 is not valid UTF-8 (save the file as UTF-8)
    """
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        byte = raw[error.start] if error.start < len(raw) else 0
        utf16 = line == 1 and raw[:2] in (b"\xff\xfe", b"\xfe\xff")
        raise DataError(path, f"byte 0x{byte:02x} at column {error.start + 1} is not valid UTF-8"
                        + (" (the file starts with a UTF-16 byte-order mark)" if utf16 else ""), line=line,
                        hint="save the file as UTF-8") from None
    return text[1:] if line == 1 and text.startswith("\ufeff") else text


def text_lines(path: Path, first_line: int = 1, raw_lines: Iterable[bytes] | None = None) -> Iterator[tuple[int, str]]:
    """``(line number, decoded line with its line ending)`` for each line of ``path``, numbered from ``first_line``
    (a part of a file read from its middle); ``raw_lines`` are the lines as bytes when the caller already holds them."""
    number = first_line - 1
    with open_input(path) if raw_lines is None else nullcontext(raw_lines) as handle:
        try:
            for number, raw in enumerate(handle, start=first_line):
                yield number, decode_line(raw, path, number)
        except GZIP_ERRORS as error:
            raise DataError(path, f"damaged gzip data after line {number} ({error})",
                            hint="download or compress the file again") from None


@contextmanager
def gzip_errors(path: Path | str) -> Iterator[None]:
    """Turn gzip's errors inside the block into the DataError "damaged gzip data" naming ``path``."""
    try:
        yield
    except GZIP_ERRORS as error:
        raise DataError(path, f"damaged gzip data ({error})", hint="download or compress the file again") from None


def check_input_file(path: Path | str) -> Path:
    """``path`` if it is a readable file; else a DataError saying it is missing, a folder or empty (0 bytes)."""
    path = Path(path)
    if path.is_dir():
        raise DataError(path, "is a folder, expected a file")
    if not path.exists():
        raise DataError(path, "no such file")
    if not path.is_file():
        raise DataError(path, "is not a regular file")
    if path.stat().st_size == 0:
        raise DataError(path, "the file is empty (0 bytes)")
    return path


def open_input(path: Path | str) -> IO[bytes]:
    """``path`` opened for reading bytes, decompressed when it is gzipped; a missing file, a folder or another kind
    of archive (zip, bzip2, xz, zstd, 7z) is a DataError."""
    path = Path(path)
    try:
        handle = open(path, "rb")
    except (IsADirectoryError, FileNotFoundError, PermissionError):
        check_input_file(path)  # a folder or a missing file: say which
        raise DataError(path, "cannot be read (permission denied)") from None
    head = handle.read(10)
    handle.seek(0)
    try:
        if head.startswith(GZIP_MAGIC):
            unpacked = gzip.GzipFile(fileobj=handle, mode="rb")
            with gzip_errors(path):
                if unpacked.peek(6)[:6].startswith(GZIP_MAGIC):
                    raise DataError(path, "is gzipped twice", hint="gunzip it once, then it is read as it is")
            return unpacked  # type: ignore[return-value]
        for magic, what in _OTHER_FORMATS:
            if magic.match(head):
                raise DataError(path, f"is {what}, not a text file",
                                hint="decompress it first; gzip (.gz) files are read as they are")
    except DataError:
        handle.close()
        raise
    return handle


def read_input_bytes(path: Path | str) -> bytes:
    """All of ``path``'s bytes, decompressed when it is gzipped; errors as :func:`open_input` and damaged gzip data."""
    with open_input(path) as handle, gzip_errors(path):
        return handle.read()


def iter_lines(path: Path) -> Iterator[tuple[int, str]]:
    """:func:`text_lines` of ``path`` without the line ends (``\n`` or ``\r\n``), blank lines included."""
    for number, text in text_lines(Path(path)):
        yield number, (text[:-2] if text.endswith("\r\n") else text[:-1]) if text.endswith("\n") else text


def parse_jsonl(lines: Iterable[tuple[int, str]], path: Path | str, hint: str = "") -> Iterator[tuple[int, Any]]:
    """``(line number, parsed value)`` for each non-blank line of ``lines``; a line that is not JSON is a DataError
    naming the file, the line and ``hint``."""
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


def is_token(text: str) -> bool:
    """Whether ``text`` is non-empty and holds no whitespace (TREC files split their columns on it)."""
    return len(text.split()) == 1 and text == text.strip()


def first_seen(lines: dict[str, int], key: str, number: int, path: Path | str, what: str) -> None:
    """Remember that ``key`` is on line ``number``; a repeat is a DataError naming both lines."""
    first = lines.setdefault(key, number)
    if first != number:
        raise DataError(path, f"{what} {quote(key)} appears twice (first on line {first})", line=number)
