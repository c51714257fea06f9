"""OTTO data readers: jsonl → parquet conversion at native speed, and the label/submission file formats.

The event files (otto-de's release and Kaggle's) are jsonl, one session per line::

    {"session": 0, "events": [{"aid": 1517085, "ts": 1659304800025, "type": "clicks"}, ...]}

``ts`` is in milliseconds in otto-de's release and in seconds in Kaggle's; both become seconds.
The converter reads the file in blocks of whole lines, parses each with pyarrow's JSON reader
and explodes the events in columnar form, so memory stays bounded by the block size; the
parquet schema is ``session int32, aid int32, ts int32 (seconds), type int8 (0 clicks, 1 carts,
2 orders)``. Every fast reader here checks its block with vectorised tests and hands any block it
does not fully trust to the plain Python reader, which reads it the same way or raises the
:class:`DataError` naming the line, so the errors are those of the plain reader.
"""

from __future__ import annotations

import gzip
import itertools
import json
import time
import zlib
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.data import kaggle
from benchmarks.data.download import locate, sha256_file
from benchmarks.data.jsonl import decode_line, parse_jsonl, text_lines
from benchmarks.data.textfile import check_input_file, is_gzip, open_input, read_input_bytes
from benchmarks.errors import DataError, UserError, quote
from benchmarks.metrics.recommendation import unique_sorted
from benchmarks.metrics.session_recall import EVENT_TYPES, SessionLabels, pair_keys

TYPE_CODES: dict[str, int] = {name: code for code, name in enumerate(EVENT_TYPES)}
MS_THRESHOLD = 100_000_000_000
"""A ts above this (year 5138 in seconds, 1973 in ms) is in milliseconds."""
MAX_ID = 2**31 - 1
"""Sessions, aids and timestamps (seconds) are int32 in the parquet; aids in labels and submissions too."""
MAX_SESSION = 2**63 - 1
"""Sessions in labels and submissions are compared as int64."""
BLOCK_BYTES = 32 << 20
"""Bytes of jsonl parsed at a time by the converter."""
SUBMISSION_BLOCK_BYTES = 16 << 20
"""Bytes of a submission read at a time (two at once): measured faster and leaner than 32 MB."""

KAGGLE_COMPETITION = "otto-recommender-system"

DOWNLOAD_HELP = (
    "OTTO's sessions (11 GB of jsonl) are Kaggle data. With Kaggle credentials "
    f"({kaggle.TOKEN_STEPS}) and the rules accepted at https://www.kaggle.com/competitions/{KAGGLE_COMPETITION}/rules, "
    "`--set task.source=real` downloads the competition's train.jsonl into the cache. Or get it yourself with "
    "`kaggle datasets download -d otto/recsys-dataset` (https://www.kaggle.com/datasets/otto/recsys-dataset; otto-de's "
    "release, ts in milliseconds, also accepted) and put it at <data-dir>/otto/train.jsonl "
    "(--data-dir or $MLSD_DATA_DIR), or pass --dataset PATH/TO/train.jsonl"
)
EVENTS_HINT = 'expected {"session": int, "events": [{"aid": int, "ts": int, "type": "clicks"}]}'
LABELS_HINT = 'expected {"session": int, "labels": {"clicks": aid, "carts": [...], "orders": [...]}}'


def _schema() -> Any:
    import pyarrow as pa

    return pa.schema([("session", pa.int32()), ("aid", pa.int32()), ("ts", pa.int32()), ("type", pa.int8())])


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_int(value: Any, path: Path, line: int, field: str, limit: int = MAX_ID) -> int:
    if not _is_int(value):
        raise DataError(path, f"field {field!r} is {quote(value)}, expected an integer", line=line)
    if not 0 <= value <= limit:
        raise DataError(path, f"field {field!r} is {value}, expected 0..{limit}", line=line)
    return value


def line_blocks(path: Path, block_bytes: int = BLOCK_BYTES, start: int = 0) -> Iterator[bytes]:
    """Yield blocks of about ``block_bytes`` of ``path`` from byte ``start`` on, each cut after a newline
    (the last block may lack one). A gzipped file is read through gzip (``start`` counts its decompressed bytes)."""
    if is_gzip(path):
        yield from _gzip_line_blocks(path, block_bytes, start)
        return
    with open(path, "rb") as handle:
        position = start
        while True:
            handle.seek(position + block_bytes)  # find the end of the line the block would cut, then read
            end = position + block_bytes + len(handle.readline())  # up to it at once (no copy of a slice)
            handle.seek(position)
            block = handle.read(end - position)
            if not block:
                return
            yield block
            position += len(block)


def _gzip_line_blocks(path: Path, block_bytes: int, start: int) -> Iterator[bytes]:
    """:func:`line_blocks` of a gzipped file: read straight through (gzip cannot seek back cheaply)."""
    with open_input(path) as handle:
        try:
            handle.read(start)
            while True:
                block = handle.read(block_bytes)
                if not block:
                    return
                yield block + (handle.readline() if not block.endswith(b"\n") else b"")
        except (gzip.BadGzipFile, EOFError, zlib.error) as error:
            raise DataError(path, f"damaged gzip data ({error})", hint="download or compress the file again") from None


def in_threads(blocks: Iterator[bytes], work: Callable[[bytes], Any], ahead: int = 2) -> Iterator[tuple[bytes, Any]]:
    """Yield ``(block, work(block))`` in order, with ``work`` running on up to ``ahead`` blocks at once in
    threads (pyarrow, polars and numpy release the GIL); at most ``ahead + 1`` blocks are held."""
    with ThreadPoolExecutor(max_workers=ahead) as pool:
        pending: deque[tuple[bytes, Future]] = deque()
        while True:
            for block in itertools.islice(blocks, ahead - len(pending)):
                pending.append((block, pool.submit(work, block)))
            if not pending:
                return
            block, future = pending.popleft()
            yield block, future.result()


def _line_count(block: bytes) -> int:
    return block.count(b"\n") + (0 if block.endswith(b"\n") else 1)


def _object_lines(block: bytes) -> int | None:
    """The number of lines of ``block`` if every line starts with ``{``, else None. pyarrow's JSON reader
    (26.0) crashes the process (SIGSEGV) on a line holding a bare ``null``, so it only ever sees blocks that
    pass this check."""
    lines = _line_count(block)
    return lines if block.startswith(b"{") and block.count(b"\n{") == lines - 1 else None


def _is_utf8(block: bytes) -> bool:
    """Whether ``block`` is UTF-8 (the JSON readers skip ignored fields without checking them)."""
    if block.isascii():
        return True
    try:
        block.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


# ---------------------------------------------------------------- events: jsonl → parquet
@dataclass
class _Unit:
    """The file's timestamp unit, fixed by its first event: True for milliseconds (None until then)."""

    ms: bool | None = None


def _session_events(record: Any, source: Path, number: int, unit: _Unit) -> tuple[int, list[int], list[int], list[int]]:
    """Check one parsed line; return (session, aids, ts in seconds, type codes). The plain reader's rules."""
    if not isinstance(record, dict) or "session" not in record or "events" not in record:
        raise DataError(source, "expected an object with 'session' and 'events'", line=number)
    session = _check_int(record["session"], source, number, "session")
    if not isinstance(record["events"], list) or not record["events"]:
        raise DataError(source, "'events' must be a non-empty list", line=number)
    aids, seconds, codes = [], [], []
    for position, event in enumerate(record["events"]):
        where = f"events[{position}]"
        if not isinstance(event, dict) or not {"aid", "ts", "type"} <= event.keys():
            raise DataError(source, f"{where} must have 'aid', 'ts' and 'type'", line=number)
        aids.append(_check_int(event["aid"], source, number, f"{where}.aid"))
        ts = _check_int(event["ts"], source, number, f"{where}.ts", limit=2**63 - 1)
        code = TYPE_CODES.get(event["type"]) if isinstance(event["type"], str) else None
        if code is None:
            raise DataError(source, f"{where}.type is {quote(event['type'])}, expected one of {', '.join(EVENT_TYPES)}", line=number)
        is_ms = ts > MS_THRESHOLD
        if unit.ms is None:
            unit.ms = is_ms
        elif is_ms != unit.ms:
            raise DataError(source, f"{where}.ts = {ts} is in {'ms' if is_ms else 's'}, but earlier "
                            f"timestamps were in {'ms' if unit.ms else 's'}", line=number)
        second = ts // 1000 if is_ms else ts
        if second > MAX_ID:
            raise DataError(source, f"{where}.ts = {ts} is after 2038-01-19 (2**31 s), which the int32 seconds cannot hold",
                            line=number, hint="expected Unix time in seconds or milliseconds")
        seconds.append(second)
        codes.append(code)
    return session, aids, seconds, codes


def _plain_events_block(lines: Iterable[bytes], source: Path, first_line: int, unit: _Unit) -> tuple[dict[str, np.ndarray], int]:
    """The plain reader over a block of lines: (columns, sessions), or the DataError naming the line."""
    columns: dict[str, list[int]] = {"session": [], "aid": [], "ts": [], "type": []}
    sessions = 0
    for number, record in parse_jsonl(text_lines(source, first_line, lines), source, EVENTS_HINT):
        session, aids, seconds, codes = _session_events(record, source, number, unit)
        columns["session"].extend([session] * len(aids))
        columns["aid"].extend(aids)
        columns["ts"].extend(seconds)
        columns["type"].extend(codes)
        sessions += 1
    dtypes = {"session": np.int32, "aid": np.int32, "ts": np.int32, "type": np.int8}
    return {name: np.asarray(values, dtype=dtypes[name]) for name, values in columns.items()}, sessions


def _fast_events_block(block: bytes) -> tuple[dict[str, np.ndarray], int, bool] | None:
    """pyarrow's JSON reader over a block, exploded in columnar form: (columns, sessions, True if the
    timestamps are in ms); None if any check fails (the plain reader then decides). Checks: one JSON
    object per line, no escapes (so no key written twice in disguise), every field present and an
    integer in range (or a known type name), non-empty events, one timestamp unit in the block."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.json as pj

    lines = _object_lines(block)
    if block.find(b"\\") >= 0 or lines is None or not _is_utf8(block):
        return None
    try:
        table = pj.read_json(pa.BufferReader(block), read_options=pj.ReadOptions(block_size=8 << 20),
                             parse_options=pj.ParseOptions(explicit_schema=_events_json_schema(),
                                                           unexpected_field_behavior="ignore"))
    except Exception:  # not JSON, a wrong type, a key given twice, bad UTF-8: the plain reader names the line
        return None
    if table.num_rows != lines:
        return None  # blank lines, or an object across lines
    session, events = table.column("session"), table.column("events").combine_chunks()
    if session.null_count or events.null_count or table.num_rows == 0:
        return None
    lengths = pc.list_value_length(events).to_numpy()
    flat = pc.list_flatten(events)
    if (lengths == 0).any() or flat.null_count:
        return None
    fields = [pc.struct_field(flat, name) for name in ("aid", "ts")]
    codes = pc.index_in(pc.struct_field(flat, "type"), value_set=pa.array(EVENT_TYPES))
    if any(f.null_count for f in fields) or codes.null_count:
        return None
    session, aid, ts = session.to_numpy(), fields[0].to_numpy(), fields[1].to_numpy()
    if session.min() < 0 or session.max() > MAX_ID or aid.min() < 0 or aid.max() > MAX_ID or ts.min() < 0:
        return None
    is_ms = ts > MS_THRESHOLD
    ms = bool(is_ms[0])
    if (is_ms != ms).any():
        return None
    seconds = ts // 1000 if ms else ts
    if seconds.max() > MAX_ID:
        return None
    columns = {"session": np.repeat(session.astype(np.int32), lengths), "aid": aid.astype(np.int32),
               "ts": seconds.astype(np.int32), "type": codes.to_numpy().astype(np.int8)}
    return columns, table.num_rows, ms


def _events_json_schema() -> Any:
    import pyarrow as pa

    event = pa.struct([("aid", pa.int64()), ("ts", pa.int64()), ("type", pa.string())])
    return pa.schema([("session", pa.int64()), ("events", pa.list_(event))])


def convert_jsonl(source: Path, destination: Path, row_group_events: int = 4_000_000, block_bytes: int = BLOCK_BYTES,
                  log: Callable[[str], None] | None = None, log_every: float = 5.0) -> dict[str, Any]:
    """Convert an OTTO jsonl file into parquet, streaming in blocks of whole lines.

    Args:
        source: the jsonl file (one session per line).
        destination: the parquet file to write (atomically: a ``.part`` file is renamed at the end).
        row_group_events: events gathered before a row group is written.
        block_bytes: bytes of jsonl parsed at a time (memory grows with it, not with the file).
        log: called with a progress line (events, sessions, share of the file, events per second)
            at most every ``log_every`` seconds, and once at the end.
        log_every: seconds between progress lines.

    Returns:
        ``{"sessions", "events", "ts_unit", "seconds"}`` of the file.

    Raises:
        DataError: a line that is not UTF-8 or not JSON, lacks a field, has a bad type name, a
            non-integer or out-of-range id or timestamp, or mixes millisecond and second
            timestamps; the message names the line.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    source, destination = Path(source), Path(destination)
    destination.parent.mkdir(parents=True, exist_ok=True)
    partial = destination.with_name(destination.name + ".part")
    size = max(source.stat().st_size, 1)
    unit = _Unit()
    sessions = events = done = 0
    line = 1
    started = last_log = time.monotonic()
    pending: list[Any] = []
    pending_events = 0
    writer = pq.ParquetWriter(partial, _schema())

    def progress(done: int, final: bool = False) -> None:
        elapsed = max(time.monotonic() - started, 1e-9)
        if log is not None:
            log(f"OTTO {source.name} → parquet: {events:,} events, {sessions:,} sessions, {done / 2**30:.2f} of "
                f"{size / 2**30:.2f} GiB ({100 * done / size:.0f}%), {events / elapsed:,.0f} events/s"
                + (f", done in {elapsed:.0f} s" if final else ""))

    try:
        for block, fast in in_threads(line_blocks(source, block_bytes), _fast_events_block):
            if fast is not None and unit.ms in (None, fast[2]):
                columns, block_sessions, unit.ms = fast
            else:  # the plain reader takes the block, or names the line that is wrong (also a change of unit)
                columns, block_sessions = _plain_events_block(_lines(block), source, line, unit)
            line += block.count(b"\n")
            done += len(block)
            sessions += block_sessions
            events += len(columns["aid"])
            pending.append(pa.table(columns, schema=_schema()))
            pending_events += len(columns["aid"])
            if pending_events >= row_group_events:
                writer.write_table(pa.concat_tables(pending))
                pending, pending_events = [], 0
            if time.monotonic() - last_log >= log_every:
                last_log = time.monotonic()
                progress(done)
        if pending:
            writer.write_table(pa.concat_tables(pending))
        writer.close()
    except BaseException:
        writer.close()
        partial.unlink(missing_ok=True)
        raise
    if sessions == 0:
        partial.unlink(missing_ok=True)
        raise DataError(source, "no sessions in the file")
    partial.replace(destination)
    progress(size, final=True)
    return {"sessions": sessions, "events": events, "ts_unit": "ms" if unit.ms else "s",
            "seconds": round(time.monotonic() - started, 2)}


def _sorted_by_session_and_ts(session: np.ndarray, ts: np.ndarray, block: int = 1 << 24) -> bool:
    """Whether rows are sorted by (session, ts), checked in blocks (no full-length temporaries)."""
    for lo in range(0, max(0, len(session) - 1), block):
        hi = min(lo + block, len(session) - 1)
        s0, s1, t0, t1 = session[lo:hi], session[lo + 1:hi + 1], ts[lo:hi], ts[lo + 1:hi + 1]
        if not np.all((s1 > s0) | ((s1 == s0) & (t1 >= t0))):
            return False
    return True


def load_events(path: Path, cache_dir: Path | None = None,
                log: Callable[[str], None] | None = None) -> tuple[dict[str, np.ndarray], Path, str]:
    """Events of an OTTO jsonl or parquet file as numpy columns (session, aid, ts, type).

    A jsonl file is converted once into ``<cache_dir>/otto/<name>-<sha256[:12]>.parquet``.
    Read with pyarrow into numpy (no polars here: the runner forks after loading, and a
    started polars thread pool hangs in a forked child).

    Args:
        path: the jsonl or parquet file.
        cache_dir: where a converted jsonl goes (default: beside it).
        log: progress lines of the conversion (see :func:`convert_jsonl`).

    Returns:
        (columns sorted by session and ts, the parquet path read, the source file's sha256).
    """
    import pyarrow.parquet as pq

    path = Path(path)
    if not path.exists():
        raise UserError(f"{path}: no such file. {DOWNLOAD_HELP}")
    check_input_file(path)
    digest = sha256_file(path)
    if path.suffix == ".parquet":
        parquet = path
    else:
        base = Path(cache_dir) if cache_dir is not None else path.parent
        parquet = base / "otto" / f"{path.stem}-{digest[:12]}.parquet"
        if not parquet.exists():
            convert_jsonl(path, parquet, log=log)
    names = pq.read_schema(parquet).names
    dtypes = {"session": np.int32, "aid": np.int32, "ts": np.int32, "type": np.int8}
    columns: dict[str, np.ndarray] = {}
    for name, dtype in dtypes.items():
        if name not in names:
            raise DataError(parquet, f"column {name!r} is missing (expected {', '.join(dtypes)})")
        # one column at a time: at most one column is held twice (arrow and numpy)
        column = pq.read_table(parquet, columns=[name], use_threads=False).column(name)
        columns[name] = column.to_numpy().astype(dtype, copy=False)
        del column
    if not _sorted_by_session_and_ts(columns["session"], columns["ts"]):
        order = np.lexsort((columns["ts"], columns["session"]))  # stable: equal timestamps keep the file's order
        columns = {name: values[order] for name, values in columns.items()}
    return columns, parquet, digest


def find_real(data_dir: Path | None, cache_dir: Path | None, fetch: bool = True, required: bool = True) -> Path | None:
    """``<data-dir>/otto/train.jsonl`` (or ``.parquet``, or an earlier download in the cache), else — with
    ``fetch`` and Kaggle credentials — the competition's train.jsonl downloaded into ``<cache>/otto/kaggle/``;
    otherwise a UserError saying how to get it (or None when not ``required``)."""
    for name in ("otto/train.parquet", "otto/train.jsonl", "otto/kaggle/train.jsonl"):
        found = locate(name, data_dir, cache_dir)
        if found is not None:
            return found
    if fetch and cache_dir is not None and kaggle.credentials_present():
        folder = kaggle.fetch_competition_files(KAGGLE_COMPETITION, ("train.jsonl",), Path(cache_dir) / "otto" / "kaggle",
                                                DOWNLOAD_HELP)
        return folder / "train.jsonl"
    if not required:
        return None
    raise UserError(f"OTTO data not found under {data_dir or '(no --data-dir)'} or {cache_dir}. {DOWNLOAD_HELP}")


def _lines(block: bytes) -> list[bytes]:
    """The lines of a block of whole lines, split at newlines only (as the fast readers count them)."""
    lines = block.split(b"\n")
    return lines[:-1] if block.endswith(b"\n") else lines


# ---------------------------------------------------------------- labels: otto-de's test_labels.jsonl
def _session_labels(record: Any, path: Path, number: int) -> tuple[int, SessionLabels]:
    """Check one parsed labels line; the plain reader's rules. A type given as null counts as absent, and so
    does a click on aid 0, as in otto-de's ``evaluate.py`` (``if labels['clicks']``: aid 0 is their sentinel)."""
    if not isinstance(record, dict) or "session" not in record or "labels" not in record:
        raise DataError(path, "expected an object with 'session' and 'labels'", line=number, hint=LABELS_HINT)
    session, raw = record["session"], record["labels"]
    if not _is_int(session) or not isinstance(raw, dict):
        raise DataError(path, "'session' must be an integer and 'labels' an object", line=number, hint=LABELS_HINT)
    if not 0 <= session <= MAX_SESSION:
        raise DataError(path, f"session {session} is out of range, expected 0..{MAX_SESSION}", line=number)
    click = raw.get("clicks")
    if click is not None and (not _is_int(click) or not 0 <= click <= MAX_ID):
        raise DataError(path, f"labels.clicks is {quote(click)}, expected one aid (an integer 0..{MAX_ID})", line=number)
    if click == 0:
        click = None
    sets = {}
    for name in ("carts", "orders"):
        values = raw.get(name)
        values = [] if values is None else values
        if not isinstance(values, list) or not all(_is_int(v) and 0 <= v <= MAX_ID for v in values):
            raise DataError(path, f"labels.{name} is {quote(values)}, expected a list of aids (integers 0..{MAX_ID})", line=number)
        sets[name] = frozenset(values)
    return session, SessionLabels(click, sets["carts"], sets["orders"])


def read_labels(path: Path) -> dict[int, SessionLabels]:
    """Read otto-de's ``test_labels.jsonl`` (``{"session": 1, "labels": {"clicks": 5, "carts": [..], "orders": [..]}}``)
    with the plain reader: ``{session: SessionLabels}`` in file order.

    Raises:
        DataError: a line that is not UTF-8 or JSON, a missing or wrong field, an aid outside
            0..2**31-1, or a session listed twice; the message names the line.
    """
    path = Path(path)
    labels: dict[int, SessionLabels] = {}
    for number, record in parse_jsonl(text_lines(path), path, LABELS_HINT):
        session, truth = _session_labels(record, path, number)
        if session in labels:
            raise DataError(path, f"session {session} appears twice", line=number)
        labels[session] = truth
    return labels


@dataclass
class LabelArrays:
    """Test labels as arrays, for vectorised scoring.

    Attributes:
        sessions: (n,) int64 session ids, in the labels file's order (row i is session ``sessions[i]``).
        truth: ``{type: sorted distinct pair_keys(row, aid)}`` of each type's true aids.
    """

    sessions: np.ndarray
    truth: dict[str, np.ndarray]

    def __post_init__(self) -> None:
        self._order: np.ndarray | None = None  # argsort of the sessions, when the dense lookup does not apply
        self._first = int(self.sessions.min()) if len(self.sessions) else 0
        span = int(self.sessions.max()) - self._first + 1 if len(self.sessions) else 0
        self._dense: np.ndarray | None = None  # row of session first + i, for session ids in a narrow range
        if 0 < span <= 4 * len(self.sessions) + 1024:
            self._dense = np.full(span, -1, dtype=np.int64)
            self._dense[self.sessions - self._first] = np.arange(len(self.sessions))

    def distinct(self) -> bool:
        """Whether no session is listed twice."""
        if self._dense is not None:  # a repeated session kept only its last row
            return bool((self._dense[self.sessions - self._first] == np.arange(len(self.sessions))).all())
        return len(unique_sorted(self.sessions)) == len(self.sessions)

    def sizes(self, event_type: str) -> np.ndarray:
        """(n,) number of distinct true aids of ``event_type`` per session."""
        from benchmarks.metrics.session_recall import AID_BITS

        return np.bincount(self.truth[event_type] >> AID_BITS, minlength=len(self.sessions))

    def rows_of(self, sessions: np.ndarray) -> np.ndarray:
        """The label row of each of ``sessions``; -1 for a session without labels."""
        sessions = np.asarray(sessions, dtype=np.int64)
        if len(self.sessions) == 0:
            return np.full(len(sessions), -1, dtype=np.int64)
        if self._dense is not None:
            offsets = sessions - self._first
            inside = (offsets >= 0) & (offsets < len(self._dense))
            return np.where(inside, self._dense[np.where(inside, offsets, 0)], -1)
        if self._order is None:
            self._order = np.argsort(self.sessions, kind="stable")
        ordered = self.sessions[self._order]
        at = np.minimum(np.searchsorted(ordered, sessions), len(ordered) - 1)
        return np.where(ordered[at] == sessions, self._order[at], -1)


def label_arrays(labels: Mapping[int, SessionLabels]) -> LabelArrays:
    """:class:`LabelArrays` of ``{session: SessionLabels}`` (the plain reader's output)."""
    sessions = np.fromiter(labels.keys(), dtype=np.int64, count=len(labels))
    truth = {}
    for event_type in EVENT_TYPES:
        rows, aids = [], []
        for row, label in enumerate(labels.values()):
            wanted = label.of(event_type)
            rows.extend([row] * len(wanted))
            aids.extend(wanted)
        truth[event_type] = unique_sorted(pair_keys(np.asarray(rows, dtype=np.int64), np.asarray(aids, dtype=np.int64)))
    return LabelArrays(sessions, truth)


def read_label_arrays(path: Path) -> LabelArrays:
    """Read ``test_labels.jsonl`` into :class:`LabelArrays`: pyarrow's JSON reader when every check
    passes, else the plain :func:`read_labels` (same result, or the error naming the line)."""
    path = check_input_file(path)
    fast = _fast_labels(read_input_bytes(path))
    return fast if fast is not None else label_arrays(read_labels(path))


def _fast_labels(data: bytes) -> LabelArrays | None:
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.json as pj

    lines = _object_lines(data)
    if data.find(b"\\") >= 0 or lines is None or not _is_utf8(data):
        return None
    schema = pa.schema([("session", pa.int64()), ("labels", pa.struct([
        ("clicks", pa.int64()), ("carts", pa.list_(pa.int64())), ("orders", pa.list_(pa.int64()))]))])
    try:
        table = pj.read_json(pa.BufferReader(data), read_options=pj.ReadOptions(block_size=8 << 20),
                             parse_options=pj.ParseOptions(explicit_schema=schema, unexpected_field_behavior="ignore"))
    except Exception:  # not JSON, a wrong type, a key given twice, bad UTF-8: the plain reader names the line
        return None
    if table.num_rows != lines:
        return None
    sessions, labels = table.column("session").combine_chunks(), table.column("labels").combine_chunks()
    if sessions.null_count or labels.null_count:
        return None
    sessions = _numbers(sessions)
    if len(sessions) and sessions.min() < 0:
        return None
    clicks = pc.struct_field(labels, "clicks")
    valid = _numbers(pc.cast(clicks.is_valid(), pa.int8())).astype(bool)
    click_rows, click_aids = np.flatnonzero(valid), _numbers(pc.drop_null(clicks))
    kept = click_aids != 0  # a click on aid 0 is no label (otto-de's evaluate.py; see _session_labels)
    parts = {"clicks": (click_rows[kept], click_aids[kept])}
    for name in ("carts", "orders"):
        lists = pc.struct_field(labels, name)
        flat = pc.list_flatten(lists)
        if flat.null_count:
            return None
        parts[name] = (_numbers(pc.list_parent_indices(lists)), _numbers(flat))
    truth = {}
    for name, (rows, aids) in parts.items():
        aids = np.asarray(aids, dtype=np.int64)
        if len(aids) and (aids.min() < 0 or aids.max() > MAX_ID):
            return None
        truth[name] = unique_sorted(pair_keys(rows, aids))
    arrays = LabelArrays(sessions.astype(np.int64), truth)
    return arrays if arrays.distinct() else None  # a session listed twice: the plain reader names the line


def _numbers(array: Any) -> np.ndarray:
    """A null-free pyarrow integer array as numpy, without ``Array.to_numpy`` (which imports pandas: 0.15 s of
    a `score` of 3 s)."""
    dtype = np.dtype(str(array.type))
    return np.frombuffer(array.buffers()[1], dtype=dtype, count=len(array), offset=array.offset * dtype.itemsize)


def write_labels(path: Path, labels: dict[int, SessionLabels]) -> Path:
    """Write labels in otto-de's ``test_labels.jsonl`` format (empty types left out)."""
    with open(path, "w", encoding="utf-8") as handle:
        for session, truth in labels.items():
            raw: dict[str, Any] = {}
            if truth.clicks is not None:
                raw["clicks"] = truth.clicks
            if truth.carts:
                raw["carts"] = sorted(truth.carts)
            if truth.orders:
                raw["orders"] = sorted(truth.orders)
            handle.write(json.dumps({"session": int(session), "labels": raw}) + "\n")
    return path


# ---------------------------------------------------------------- Kaggle submissions: session_type,labels
SUBMISSION_HEADER = "session_type,labels"


@dataclass
class SubmissionBlock:
    """Rows of a Kaggle submission as arrays.

    Attributes:
        sessions: (m,) int64 session ids.
        types: (m,) int8 type codes (0 clicks, 1 carts, 2 orders).
        lengths: (m,) int64 number of aids kept per row (at most the reader's ``keep``).
        aids: (lengths.sum(),) int64 the rows' first aids, concatenated in order.
    """

    sessions: np.ndarray
    types: np.ndarray
    lengths: np.ndarray
    aids: np.ndarray

    def padded(self) -> tuple[np.ndarray, np.ndarray]:
        """``(indices of the rows with aids, (m, longest) their aids padded with -1)``."""
        given = np.flatnonzero(self.lengths > 0)
        lengths = self.lengths[given]
        width = int(lengths.max()) if len(lengths) else 0
        if (lengths == width).all():
            return given, self.aids.reshape(len(given), width)
        matrix = np.full((len(given), width), -1, dtype=np.int64)
        starts = np.repeat(np.cumsum(lengths) - lengths, lengths)
        matrix[np.repeat(np.arange(len(given)), lengths), np.arange(len(self.aids)) - starts] = self.aids
        return given, matrix


def _is_number(text: str, limit: int) -> bool:
    return text.isascii() and text.isdigit() and len(text.lstrip("0")) <= len(str(limit)) and int(text) <= limit


def _submission_row(text: str, path: Path, number: int) -> tuple[int, int, list[int]] | None:
    """One line of a submission (the plain reader's rules): (session, type code, aids), or None if blank."""
    text = text.strip()
    if not text:
        return None
    key, comma, values = text.partition(",")
    session, underscore, event_type = key.partition("_")
    if not comma or not underscore or event_type not in TYPE_CODES or not _is_number(session, MAX_SESSION):
        raise DataError(path, f"row starts with {quote(key)}, expected '<session>_<clicks|carts|orders>,'", line=number)
    tokens = values.split()
    if not all(_is_number(token, MAX_ID) for token in tokens):
        raise DataError(path, f"labels {quote(values)} must be space-separated integer aids (0..{MAX_ID})", line=number)
    return int(session), TYPE_CODES[event_type], [int(token) for token in tokens]


def _check_header(text: str, path: Path) -> None:
    header = text.strip()
    if header.replace(" ", "") != SUBMISSION_HEADER:
        raise DataError(path, f"header is {quote(header)}, expected {SUBMISSION_HEADER!r}", line=1)


def read_submission(path: Path) -> dict[int, dict[str, list[int]]]:
    """Read a Kaggle submission (``session_type,labels`` header; ``12899779_clicks,59625 1253524``) with the
    plain reader: ``{session: {type: [aid, ...]}}``.

    Raises:
        DataError: a byte that is not UTF-8, a wrong header, a malformed row, an aid that is not
            an integer 0..2**31-1, or a (session, type) listed twice; the message names the line.
    """
    path = check_input_file(path)
    lines = text_lines(path)
    _check_header(next(lines, (1, ""))[1], path)
    predictions: dict[int, dict[str, list[int]]] = {}
    for number, text in lines:
        row = _submission_row(text, path, number)
        if row is None:
            continue
        session, code, aids = row
        entry = predictions.setdefault(session, {})
        if EVENT_TYPES[code] in entry:
            raise DataError(path, f"{session}_{EVENT_TYPES[code]} appears twice", line=number)
        entry[EVENT_TYPES[code]] = aids
    return predictions


def iter_submission(path: Path, keep: int | None = None, block_bytes: int = SUBMISSION_BLOCK_BYTES,
                    then: Callable[[SubmissionBlock], Any] | None = None,
                    wanted: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None) -> Iterator[Any]:
    """Read a Kaggle submission block by block (memory bounded by ``block_bytes``), keeping the first
    ``keep`` aids of each row (None: all).

    Blocks that pass vectorised checks (ASCII, one comma per line, a key ``<digits>_<type>``, aids
    that are plain digits separated by spaces) are read by polars; any other block by the plain
    reader, which reads it the same way or raises the error naming the line. Two blocks are read
    at once (:func:`in_threads`).

    Args:
        path: the submission.
        keep: how many aids of each row to keep (None: all).
        block_bytes: bytes read at a time; at most three blocks are held.
        then: applied to each block in the reading thread; its results are yielded instead of the blocks.
        wanted: for scoring (with ``keep``): given a block's sessions and type codes, a mask of the rows
            whose aids are needed; the other rows come back with no aids. Every row's key and characters
            are still checked, but only the wanted rows' aids are parsed, so an aid above 2**31 - 1 in an
            unwanted row goes unreported (the plain reader would name it).

    Yields:
        Each :class:`SubmissionBlock` in file order, or ``then`` of it.

    Raises:
        DataError: as :func:`read_submission` (a repeated (session, type) is found after the last block).
    """
    path = check_input_file(path)
    with open_input(path) as handle:
        first = handle.readline()
    _check_header(decode_line(first, path, 1), path)
    line = 2
    seen_sessions, seen_types = [], []
    finish = then if then is not None else (lambda block: block)

    def fast(block: bytes) -> tuple[SubmissionBlock | None, Any, int]:
        parsed = None
        if wanted is not None and keep is not None:
            parsed = _selective_submission_block(block, keep, wanted)
        if parsed is None:
            parsed = _fast_submission_block(block, keep)
        if parsed is None:
            return None, None, block.count(b"\n")
        return parsed, finish(parsed), len(parsed.sessions) - (0 if block.endswith(b"\n") else 1)  # one row per line

    for block, (parsed, result, newlines) in in_threads(line_blocks(path, block_bytes, start=len(first)), fast):
        if parsed is None:
            parsed = _plain_submission_block(_lines(block), path, line, keep)
            result = finish(parsed)
        line += newlines
        seen_sessions.append(parsed.sessions)
        seen_types.append(parsed.types)
        yield result
    sessions = np.concatenate(seen_sessions) if seen_sessions else np.zeros(0, dtype=np.int64)
    types = np.concatenate(seen_types) if seen_types else np.zeros(0, dtype=np.int8)
    order = np.lexsort((types, sessions))
    sessions, types = sessions[order], types[order]
    if ((sessions[1:] == sessions[:-1]) & (types[1:] == types[:-1])).any():
        read_submission(path)  # raises, naming the line of the repeat
        raise DataError(path, "a (session, type) row appears twice")


def _plain_submission_block(lines: Iterable[bytes], path: Path, first_line: int, keep: int | None) -> SubmissionBlock:
    sessions, types, lengths, aids = [], [], [], []
    for number, text in text_lines(path, first_line, lines):
        row = _submission_row(text, path, number)
        if row is None:
            continue
        kept = row[2][:keep] if keep is not None else row[2]
        sessions.append(row[0])
        types.append(row[1])
        lengths.append(len(kept))
        aids.extend(kept)
    return SubmissionBlock(np.asarray(sessions, dtype=np.int64), np.asarray(types, dtype=np.int8),
                           np.asarray(lengths, dtype=np.int64), np.asarray(aids, dtype=np.int64))


_DIGITS_SPACES_NEWLINES = b"0123456789 \n"
_KEY_MARKS = b",_" + bytes(sorted(set("".join(EVENT_TYPES).encode())))
_TYPE_LENGTHS = np.array([len(name) for name in EVENT_TYPES])


def _selective_submission_block(block: bytes, keep: int, wanted: Callable[[np.ndarray, np.ndarray], np.ndarray]
                                ) -> SubmissionBlock | None:
    """The scoring reader (see ``wanted`` in :func:`iter_submission`): polars' CSV reader splits each row at
    its underscore (the session parsed as a number) and only the wanted rows' first ``keep`` aids are parsed
    as integers; None (the next reader decides) unless the block is plain: digits, spaces and newlines, one
    ``<session>_<type>,`` key per line and no other letter, at most ``keep`` aids a row, single spaces."""
    import polars as pl

    marks = block.translate(None, _DIGITS_SPACES_NEWLINES)  # what is left: the keys' commas, underscores, letters
    if marks.translate(None, _KEY_MARKS):
        return None  # a carriage return, a tab, a quote, a sign, a dot, non-ASCII...
    try:
        frame = pl.read_csv(block, has_header=False, separator="_", quote_char=None,
                            schema={"session": pl.Int64, "rest": pl.Utf8}, raise_if_empty=False)
    except Exception:  # two underscores on a line, a session that is not a number
        return None
    n = len(frame)
    if n == 0 or marks.count(b",") != n or marks.count(b"_") != n or frame["session"].null_count():
        return None  # a blank line, a line without a comma or an underscore
    rest = frame["rest"]  # "<type>,<aids>"
    is_type = np.stack([rest.str.starts_with(f"{name},").fill_null(False).to_numpy() for name in EVENT_TYPES])
    if not is_type.any(axis=0).all():
        return None
    codes = is_type.argmax(axis=0).astype(np.int8)
    if len(marks) - 2 * n != int(_TYPE_LENGTHS[codes].sum()):
        return None  # a letter among the aids
    sessions = frame["session"].to_numpy().astype(np.int64)
    chosen = np.asarray(wanted(sessions, codes), dtype=bool)
    lengths = np.zeros(n, dtype=np.int64)
    if not chosen.any():
        return SubmissionBlock(sessions, codes, lengths, np.zeros(0, dtype=np.int64))
    schema = {"type": pl.Utf8, **{f"a{i}": pl.Int32 for i in range(keep)}}
    header = pl.Series([" ".join(schema)])  # polars takes the number of fields from the first line
    text = pl.concat([header, rest.filter(pl.Series(chosen))]).str.join("\n").cast(pl.Binary).item().replace(b",", b" ")
    try:  # a row with more than `keep` aids, or an aid above the int32 range, makes polars raise
        parsed = pl.read_csv(text, has_header=True, separator=" ", quote_char=None, schema=schema).drop("type")
    except Exception:
        return None
    if len(parsed) != int(chosen.sum()):
        return None
    if not any(parsed.null_count().row(0)):  # every row has `keep` aids
        lengths[chosen] = keep
        return SubmissionBlock(sessions, codes, lengths, parsed.to_numpy(order="c").astype(np.int64).ravel())
    matrix = parsed.fill_null(0).to_numpy(order="c").astype(np.int64)
    present = ~parsed.select(pl.all().is_null()).to_numpy()
    counts = present.sum(axis=1)
    if (present != (np.arange(keep) < counts[:, None])).any():
        return None  # an empty field before an aid: two spaces, or a space after the comma
    lengths[chosen] = counts
    return SubmissionBlock(sessions, codes, lengths, matrix[present])


def _fast_submission_block(block: bytes, keep: int | None) -> SubmissionBlock | None:
    import polars as pl

    if not block.isascii() or (block.find(b"\r") >= 0 and block.count(b"\r") != block.count(b"\r\n")):
        return None  # non-ASCII (a byte-order mark, Unicode digits or spaces) or a carriage return inside a line
    try:
        lines = pl.read_csv(block, has_header=False, separator="\x00", quote_char=None, schema={"line": pl.Utf8},
                            raise_if_empty=False)["line"]
    except Exception:  # a NUL byte: the plain reader decides
        return None
    if len(lines) != _line_count(block) or lines.null_count() or (lines.str.count_matches(",", literal=True) != 1).any():
        return None  # a blank line, or a line without exactly one comma
    comma = pl.col("line").str.find(",", literal=True)
    frame = lines.to_frame("line").select(key=pl.col("line").str.slice(0, comma), labels=pl.col("line").str.slice(comma + 1))
    key = frame["key"].str.splitn("_", 2).struct.unnest()
    if not key["field_0"].str.contains("^[0-9]{1,18}$").all():
        return None
    types = key["field_1"].replace_strict(TYPE_CODES, default=None, return_dtype=pl.Int8)
    labels = frame["labels"]
    if types.null_count() or labels.str.contains("[+-]").any():
        return None
    # split on single spaces and drop the empty pieces: Python's str.split() for text without tabs or other
    # whitespace, which then fails the integer cast below, like every token that is not plain digits
    tokens = labels.str.split(" ")
    pieces = tokens.list.len().to_numpy().astype(np.int64)
    flat = tokens.explode()
    filled = (flat != "").to_numpy()
    numbers = flat.cast(pl.Int64, strict=False)  # null for "" and for anything but digits
    if numbers.null_count() != len(filled) - filled.sum():
        return None
    aids = numbers.drop_nulls().to_numpy()
    if len(aids) and aids.max() > MAX_ID:
        return None
    lengths = pieces if filled.all() else np.bincount(np.repeat(np.arange(len(pieces)), pieces)[filled], minlength=len(pieces))
    if keep is not None and len(lengths) and lengths.max() > keep:
        starts = np.repeat(np.cumsum(lengths) - lengths, lengths)
        aids = aids[np.arange(len(aids)) - starts < keep]
        lengths = np.minimum(lengths, keep)
    return SubmissionBlock(key["field_0"].cast(pl.Int64).to_numpy(), types.to_numpy(), lengths, aids.astype(np.int64))


def write_submission(path: Path, sessions: np.ndarray, lists: dict[str, np.ndarray]) -> Path:
    """Write predictions (``{type: (n, k) int array, -1 = empty slot}``) as a Kaggle submission."""
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(SUBMISSION_HEADER + "\n")
        for event_type in EVENT_TYPES:
            rows = lists[event_type]
            for session, row in zip(sessions.tolist(), rows.tolist(), strict=True):
                handle.write(f"{session}_{event_type}," + " ".join(str(a) for a in row if a >= 0) + "\n")
    return path
