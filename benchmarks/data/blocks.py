"""Reading a large file in blocks of whole lines, with vectorised work on up to two blocks at once in threads.

The fast readers (OTTO's events, labels and submissions) hand any block their vectorised checks do not fully trust to
their plain reader, which reads it the same way or raises the DataError naming the bad line.
"""

from __future__ import annotations

import gzip
import itertools
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from benchmarks.data.textfile import decode_line, gzip_errors, open_input


def line_blocks(path: Path, block_bytes: int = 32 << 20, start: int = 0) -> Iterator[bytes]:
    """Blocks of about ``block_bytes`` from byte ``start`` on (decompressed bytes of a gzipped file), each cut after a
    newline (the last may lack one); errors as :func:`open_input`."""
    with open_input(path) as handle, gzip_errors(path):
        handle.seek(start)  # gzip reads its way there
        if isinstance(handle, gzip.GzipFile):  # read straight through: gzip cannot seek back cheaply
            while block := handle.read(block_bytes):
                yield block if block.endswith(b"\n") else block + handle.readline()
            return
        position = start
        while True:  # a plain file: find the end of the line the block would cut, then read up to it in one read
            handle.seek(position + block_bytes)  # (half the time of reading a block and appending the rest of its line)
            end = position + block_bytes + len(handle.readline())
            handle.seek(position)
            if not (block := handle.read(end - position)):
                return
            yield block
            position += len(block)


def in_threads(blocks: Iterator[bytes], work: Callable[[bytes], Any], ahead: int = 2) -> Iterator[tuple[bytes, Any]]:
    """``(block, work(block))`` in order, ``work`` running on up to ``ahead`` blocks at once in threads (pyarrow, polars
    and numpy release the GIL); at most ``ahead + 1`` blocks are held."""
    with ThreadPoolExecutor(max_workers=ahead) as pool:
        pending: deque[tuple[bytes, Future]] = deque()
        while True:
            for block in itertools.islice(blocks, ahead - len(pending)):
                pending.append((block, pool.submit(work, block)))
            if not pending:
                return
            block, future = pending.popleft()
            yield block, future.result()


def line_count(block: bytes) -> int:
    return block.count(b"\n") + (0 if block.endswith(b"\n") else 1)


def json_lines_table(block: bytes, schema: Any) -> Any | None:
    """pyarrow's JSON reader over a block of one JSON object per line (fields outside ``schema`` ignored); None (the
    plain reader decides) for a line that is not an object, an escape (a key written twice in disguise), bad UTF-8, a
    wrong type, a blank line."""
    import pyarrow as pa
    import pyarrow.json as pj

    lines = _object_lines(block)
    if block.find(b"\\") >= 0 or lines is None or not _is_utf8(block):
        return None
    try:
        table = pj.read_json(pa.BufferReader(block), read_options=pj.ReadOptions(block_size=8 << 20),
                             parse_options=pj.ParseOptions(explicit_schema=schema, unexpected_field_behavior="ignore"))
    except Exception:  # not JSON, a wrong type, a key given twice: the plain reader names the line
        return None
    return table if table.num_rows == lines else None  # blank lines, or an object across lines


def _object_lines(block: bytes) -> int | None:
    """The number of lines if every line starts with ``{``, else None: pyarrow's JSON reader (26.0) crashes the
    process (SIGSEGV) on a line holding a bare ``null``."""
    lines = line_count(block)
    return lines if block.startswith(b"{") and block.count(b"\n{") == lines - 1 else None


def _is_utf8(block: bytes) -> bool:
    if block.isascii():
        return True
    try:
        block.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def split_lines(block: bytes) -> list[bytes]:
    """The lines of a block, split at newlines only (as the fast readers count them)."""
    lines = block.split(b"\n")
    return lines[:-1] if block.endswith(b"\n") else lines


def check_utf8(path: Path, block_bytes: int = 1 << 24) -> None:
    """Raise the DataError naming the line and column of the first byte that is not UTF-8, if any: polars' and
    pyarrow's own errors do not say where it is."""
    line = 1
    for block in line_blocks(path, block_bytes):
        if not _is_utf8(block):
            for number, raw in enumerate(split_lines(block), start=line):
                decode_line(raw, path, number)
        line += block.count(b"\n")
