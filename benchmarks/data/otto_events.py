"""OTTO's events, as otto-de and Kaggle publish them (jsonl) and as the harness keeps them (parquet).

The jsonl files hold one session per line::

    {"session": 0, "events": [{"aid": 1517085, "ts": 1659304800025, "type": "clicks"}, ...]}

``ts`` is in milliseconds in otto-de's release and in seconds in Kaggle's; both become seconds. The parquet schema
is ``session int32, aid int32, ts int32 (seconds), type int8 (0 clicks, 1 carts, 2 orders)``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.data.blocks import in_threads, json_lines_table, line_blocks, split_lines
from benchmarks.data.textfile import parse_jsonl, text_lines
from benchmarks.errors import DataError, quote
from benchmarks.metrics.session_recall import EVENT_TYPES

TYPE_CODES: dict[str, int] = {name: code for code, name in enumerate(EVENT_TYPES)}
MS_THRESHOLD = 100_000_000_000  # a ts above this (year 5138 in seconds, 1973 in ms) is in milliseconds
MAX_ID = 2**31 - 1  # sessions, aids and ts (seconds) are int32 in the parquet; aids in labels and submissions too
MAX_SESSION = 2**63 - 1  # sessions in labels and submissions are compared as int64
BLOCK_BYTES = 32 << 20  # bytes of jsonl parsed at a time by the converter
EVENTS_HINT = 'expected {"session": int, "events": [{"aid": int, "ts": int, "type": "clicks"}]}'
COLUMNS = {"session": np.int32, "aid": np.int32, "ts": np.int32, "type": np.int8}


def parquet_schema() -> Any:
    import pyarrow as pa

    return pa.schema([("session", pa.int32()), ("aid", pa.int32()), ("ts", pa.int32()), ("type", pa.int8())])


def is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_int(value: Any, path: Path, line: int, field: str, limit: int = MAX_ID) -> int:
    if not is_int(value):
        raise DataError(path, f"field {field!r} is {quote(value)}, expected an integer", line=line)
    if not 0 <= value <= limit:
        raise DataError(path, f"field {field!r} is {value}, expected 0..{limit}", line=line)
    return value


@dataclass
class _Unit:
    """The file's timestamp unit, fixed by its first event: True for milliseconds (None until then)."""

    ms: bool | None = None


def _session_events(record: Any, source: Path, number: int, unit: _Unit, columns: dict[str, list[int]]) -> None:
    """The plain reader's rules for one parsed line, whose events are appended to ``columns`` (ts in seconds)."""
    if not isinstance(record, dict) or "session" not in record or "events" not in record:
        raise DataError(source, "expected an object with 'session' and 'events'", line=number)
    session = _check_int(record["session"], source, number, "session")
    if not isinstance(record["events"], list) or not record["events"]:
        raise DataError(source, "'events' must be a non-empty list", line=number)
    for position, event in enumerate(record["events"]):
        where = f"events[{position}]"
        if not isinstance(event, dict) or not {"aid", "ts", "type"} <= event.keys():
            raise DataError(source, f"{where} must have 'aid', 'ts' and 'type'", line=number)
        aid = _check_int(event["aid"], source, number, f"{where}.aid")
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
        for name, value in (("session", session), ("aid", aid), ("ts", second), ("type", code)):
            columns[name].append(value)


def _plain_events_block(lines: Iterable[bytes], source: Path, first_line: int, unit: _Unit) -> tuple[dict[str, np.ndarray], int]:
    columns: dict[str, list[int]] = {"session": [], "aid": [], "ts": [], "type": []}
    sessions = 0
    for number, record in parse_jsonl(text_lines(source, first_line, lines), source, EVENTS_HINT):
        _session_events(record, source, number, unit, columns)
        sessions += 1
    return {name: np.asarray(values, dtype=COLUMNS[name]) for name, values in columns.items()}, sessions


def _fast_events_block(block: bytes) -> tuple[dict[str, np.ndarray], int, bool] | None:
    """pyarrow's JSON reader over a block, exploded in columnar form: (columns, sessions, True if ts is in ms); None
    (the plain reader decides) unless every field is present and in range, events are non-empty and of one ts unit."""
    import pyarrow as pa
    import pyarrow.compute as pc

    event = pa.struct([("aid", pa.int64()), ("ts", pa.int64()), ("type", pa.string())])
    table = json_lines_table(block, pa.schema([("session", pa.int64()), ("events", pa.list_(event))]))
    if table is None:
        return None
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


def convert_jsonl(source: Path, destination: Path, row_group_events: int = 4_000_000, block_bytes: int = BLOCK_BYTES,
                  log: Callable[[str], None] | None = None, log_every: float = 5.0) -> dict[str, Any]:
    """Convert an OTTO jsonl file into parquet at ``destination`` (atomically, through a ``.part`` file),
    ``block_bytes`` of whole lines at a time (memory grows with it, not with the file), in row groups of about
    ``row_group_events``; ``log`` gets a progress line at most every ``log_every`` seconds and once at the end.
    Returns ``{"sessions", "events", "ts_unit", "seconds"}`` of the file. A line that is not UTF-8 or JSON, lacks a
    field, has a bad type name, a non-integer or out-of-range id or timestamp, or mixes ms and s is a DataError.
    """
    source, destination = Path(source), Path(destination)
    destination.parent.mkdir(parents=True, exist_ok=True)
    partial = destination.with_name(destination.name + ".part")
    unit = _Unit()
    progress = _Progress(source, log, log_every)
    try:
        write_row_groups(partial, _event_tables(source, block_bytes, unit, progress), row_group_events)
        if progress.sessions == 0:
            raise DataError(source, "no sessions in the file")
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    partial.replace(destination)
    progress.report(final=True)
    return {"sessions": progress.sessions, "events": progress.events, "ts_unit": "ms" if unit.ms else "s",
            "seconds": round(time.monotonic() - progress.started, 2)}


def _event_tables(source: Path, block_bytes: int, unit: _Unit, progress: _Progress) -> Iterator[Any]:
    """The file's blocks as pyarrow tables; the plain reader takes a block the fast one declines or whose ts unit
    differs from the file's (it then names the line)."""
    import pyarrow as pa

    line = 1
    for block, fast in in_threads(line_blocks(source, block_bytes), _fast_events_block):
        if fast is not None and unit.ms in (None, fast[2]):
            columns, sessions, unit.ms = fast
        else:
            columns, sessions = _plain_events_block(split_lines(block), source, line, unit)
        line += block.count(b"\n")
        progress.add(len(block), sessions, len(columns["aid"]))
        yield pa.table(columns, schema=parquet_schema())


def write_row_groups(path: Path, tables: Iterable[Any], row_group_events: int) -> int:
    """Write ``tables`` to one parquet file, in row groups of at least ``row_group_events`` events; return the
    events written."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    written = 0
    with pq.ParquetWriter(path, parquet_schema()) as writer:
        pending: list[Any] = []
        for table in tables:
            pending.append(table)
            written += table.num_rows
            if sum(part.num_rows for part in pending) >= row_group_events:
                writer.write_table(pa.concat_tables(pending))
                pending = []
        if pending:
            writer.write_table(pa.concat_tables(pending))
    return written


class _Progress:
    def __init__(self, source: Path, log: Callable[[str], None] | None, every: float) -> None:
        self.source, self.log, self.every = source, log, every
        self.size = max(source.stat().st_size, 1)
        self.sessions = self.events = self.done = 0
        self.started = self.last = time.monotonic()

    def add(self, done: int, sessions: int, events: int) -> None:
        self.done, self.sessions, self.events = self.done + done, self.sessions + sessions, self.events + events
        if time.monotonic() - self.last >= self.every:
            self.last = time.monotonic()
            self.report()

    def report(self, final: bool = False) -> None:
        if self.log is None:
            return
        elapsed = max(time.monotonic() - self.started, 1e-9)
        done = self.size if final else self.done
        self.log(f"OTTO {self.source.name} → parquet: {self.events:,} events, {self.sessions:,} sessions, "
                 f"{done / 2**30:.2f} of {self.size / 2**30:.2f} GiB ({100 * done / self.size:.0f}%), "
                 f"{self.events / elapsed:,.0f} events/s" + (f", done in {elapsed:.0f} s" if final else ""))


def _sorted_by_session_and_ts(session: np.ndarray, ts: np.ndarray, block: int = 1 << 24) -> bool:
    """Whether rows are sorted by (session, ts), checked in blocks (no full-length temporaries)."""
    for lo in range(0, max(0, len(session) - 1), block):
        hi = min(lo + block, len(session) - 1)
        s0, s1, t0, t1 = session[lo:hi], session[lo + 1:hi + 1], ts[lo:hi], ts[lo + 1:hi + 1]
        if not np.all((s1 > s0) | ((s1 == s0) & (t1 >= t0))):
            return False
    return True


def read_parquet(path: Path) -> dict[str, np.ndarray]:
    """Events of an OTTO parquet file as numpy columns (session, aid, ts, type), sorted by session and ts. No polars
    here: the runner forks after loading, and a started polars thread pool hangs in a forked child. One column at a
    time: at most one column is held twice (arrow and numpy)."""
    import pyarrow.parquet as pq

    names = pq.read_schema(path).names
    columns: dict[str, np.ndarray] = {}
    for name, dtype in COLUMNS.items():
        if name not in names:
            raise DataError(path, f"column {name!r} is missing (expected {', '.join(COLUMNS)})")
        column = pq.read_table(path, columns=[name], use_threads=False).column(name)
        columns[name] = column.to_numpy().astype(dtype, copy=False)
        del column
    if not _sorted_by_session_and_ts(columns["session"], columns["ts"]):
        order = np.lexsort((columns["ts"], columns["session"]))  # stable: equal timestamps keep the file's order
        columns = {name: values[order] for name, values in columns.items()}
    return columns
