"""OTTO data readers: streaming jsonl → parquet conversion, and the label/submission file formats.

The event files (otto-de's release and Kaggle's) are jsonl, one session per line::

    {"session": 0, "events": [{"aid": 1517085, "ts": 1659304800025, "type": "clicks"}, ...]}

``ts`` is in milliseconds in otto-de's release and in seconds in Kaggle's; both become seconds.
The converter reads one line at a time and writes parquet row groups, so the 216.7M events
of the full training set never sit in Python objects all at once. The parquet schema is
``session int32, aid int32, ts int32 (seconds), type int8 (0 clicks, 1 carts, 2 orders)``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.data import kaggle
from benchmarks.data.download import locate, sha256_file
from benchmarks.data.jsonl import iter_jsonl
from benchmarks.errors import DataError, UserError
from benchmarks.metrics.session_recall import EVENT_TYPES, SessionLabels

TYPE_CODES: dict[str, int] = {name: code for code, name in enumerate(EVENT_TYPES)}
MS_THRESHOLD = 100_000_000_000
"""A ts above this (year 5138 in seconds, 1973 in ms) is in milliseconds."""

KAGGLE_COMPETITION = "otto-recommender-system"

DOWNLOAD_HELP = (
    "OTTO's sessions (11 GB of jsonl) are Kaggle data. With Kaggle credentials "
    f"({kaggle.TOKEN_STEPS}) and the rules accepted at https://www.kaggle.com/competitions/{KAGGLE_COMPETITION}/rules, "
    "`--set task.source=real` downloads the competition's train.jsonl into the cache. Or get it yourself with "
    "`kaggle datasets download -d otto/recsys-dataset` (https://www.kaggle.com/datasets/otto/recsys-dataset; otto-de's "
    "release, ts in milliseconds, also accepted) and put it at <data-dir>/otto/train.jsonl "
    "(--data-dir or $MLSD_DATA_DIR), or pass --dataset PATH/TO/train.jsonl"
)


def _schema() -> Any:
    import pyarrow as pa

    return pa.schema([("session", pa.int32()), ("aid", pa.int32()), ("ts", pa.int32()), ("type", pa.int8())])


def _check_int(value: Any, path: Path, line: int, field: str, limit: int = 2**31 - 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise DataError(path, f"field {field!r} is {value!r}, expected an integer", line=line)
    if not 0 <= value <= limit:
        raise DataError(path, f"field {field!r} is {value}, expected 0..{limit}", line=line)
    return value


def convert_jsonl(source: Path, destination: Path, row_group_events: int = 4_000_000) -> dict[str, Any]:
    """Convert an OTTO jsonl file into parquet, streaming.

    Args:
        source: the jsonl file (one session per line).
        destination: the parquet file to write (atomically: a ``.part`` file is renamed at the end).
        row_group_events: events buffered before a row group is written.

    Returns:
        ``{"sessions", "events", "ts_unit"}`` of the file.

    Raises:
        DataError: a line that is not JSON, lacks a field, has a bad type name, a non-integer
            or negative id, or mixes millisecond and second timestamps; the message names the line.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    source, destination = Path(source), Path(destination)
    destination.parent.mkdir(parents=True, exist_ok=True)
    partial = destination.with_name(destination.name + ".part")
    columns: dict[str, list[int]] = {"session": [], "aid": [], "ts": [], "type": []}
    unit_ms: bool | None = None
    sessions = events = 0
    writer = pq.ParquetWriter(partial, _schema())

    def flush() -> None:
        if not columns["session"]:
            return
        table = pa.table({
            "session": np.asarray(columns["session"], dtype=np.int32),
            "aid": np.asarray(columns["aid"], dtype=np.int32),
            "ts": np.asarray(columns["ts"], dtype=np.int32),
            "type": np.asarray(columns["type"], dtype=np.int8),
        }, schema=_schema())
        writer.write_table(table)
        for values in columns.values():
            values.clear()

    try:
        hint = 'expected {"session": int, "events": [{"aid": int, "ts": int, "type": "clicks"}]}'
        for number, record in iter_jsonl(source, hint=hint):
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
                code = TYPE_CODES.get(event["type"])
                if code is None:
                    raise DataError(source, f"{where}.type is {event['type']!r}, expected one of {', '.join(EVENT_TYPES)}",
                                    line=number)
                is_ms = ts > MS_THRESHOLD
                if unit_ms is None:
                    unit_ms = is_ms
                elif is_ms != unit_ms:
                    raise DataError(source, f"{where}.ts = {ts} is in {'ms' if is_ms else 's'}, but earlier "
                                    f"timestamps were in {'ms' if unit_ms else 's'}", line=number)
                columns["session"].append(session)
                columns["aid"].append(aid)
                columns["ts"].append(ts // 1000 if is_ms else ts)
                columns["type"].append(code)
            sessions += 1
            events += len(record["events"])
            if len(columns["session"]) >= row_group_events:
                flush()
        flush()
        writer.close()
    except BaseException:
        writer.close()
        partial.unlink(missing_ok=True)
        raise
    if sessions == 0:
        partial.unlink(missing_ok=True)
        raise DataError(source, "no sessions in the file")
    partial.replace(destination)
    return {"sessions": sessions, "events": events, "ts_unit": "ms" if unit_ms else "s"}


def _sorted_by_session_and_ts(session: np.ndarray, ts: np.ndarray, block: int = 1 << 24) -> bool:
    """Whether rows are sorted by (session, ts), checked in blocks (no full-length temporaries)."""
    for lo in range(0, max(0, len(session) - 1), block):
        hi = min(lo + block, len(session) - 1)
        s0, s1, t0, t1 = session[lo:hi], session[lo + 1:hi + 1], ts[lo:hi], ts[lo + 1:hi + 1]
        if not np.all((s1 > s0) | ((s1 == s0) & (t1 >= t0))):
            return False
    return True


def load_events(path: Path, cache_dir: Path | None = None) -> tuple[dict[str, np.ndarray], Path, str]:
    """Events of an OTTO jsonl or parquet file as numpy columns (session, aid, ts, type).

    A jsonl file is converted once into ``<cache_dir>/otto/<name>-<sha256[:12]>.parquet``.
    Read with pyarrow into numpy (no polars here: the runner forks after loading, and a
    started polars thread pool hangs in a forked child).

    Returns:
        (columns sorted by session and ts, the parquet path read, the source file's sha256).
    """
    import pyarrow.parquet as pq

    path = Path(path)
    if not path.exists():
        raise UserError(f"{path}: no such file. {DOWNLOAD_HELP}")
    digest = sha256_file(path)
    if path.suffix == ".parquet":
        parquet = path
    else:
        base = Path(cache_dir) if cache_dir is not None else path.parent
        parquet = base / "otto" / f"{path.stem}-{digest[:12]}.parquet"
        if not parquet.exists():
            convert_jsonl(path, parquet)
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


def read_labels(path: Path) -> dict[int, SessionLabels]:
    """Read otto-de's ``test_labels.jsonl``: ``{"session": 1, "labels": {"clicks": 5, "carts": [..], "orders": [..]}}``."""
    labels: dict[int, SessionLabels] = {}
    with open(path, encoding="utf-8") as handle:
        for number, text in enumerate(handle, start=1):
            if not text.strip():
                continue
            try:
                record = json.loads(text)
                session = record["session"]
                raw = record["labels"]
            except (json.JSONDecodeError, KeyError, TypeError):
                raise DataError(path, "expected {\"session\": int, \"labels\": {\"clicks\": aid, \"carts\": [...], \"orders\": [...]}}",
                                line=number) from None
            if not isinstance(session, int) or not isinstance(raw, dict):
                raise DataError(path, "'session' must be an integer and 'labels' an object", line=number)
            click = raw.get("clicks")
            if click is not None and (isinstance(click, bool) or not isinstance(click, int)):
                raise DataError(path, f"labels.clicks is {click!r}, expected one aid (an integer)", line=number)
            sets = {}
            for name in ("carts", "orders"):
                values = raw.get(name, [])
                if not isinstance(values, list) or not all(isinstance(v, int) and not isinstance(v, bool) for v in values):
                    raise DataError(path, f"labels.{name} is {values!r}, expected a list of aids", line=number)
                sets[name] = frozenset(values)
            if session in labels:
                raise DataError(path, f"session {session} appears twice", line=number)
            labels[session] = SessionLabels(click, sets["carts"], sets["orders"])
    return labels


def read_submission(path: Path) -> dict[int, dict[str, list[int]]]:
    """Read a Kaggle submission (``session_type,labels`` header; ``12899779_clicks,59625 1253524``)."""
    predictions: dict[int, dict[str, list[int]]] = {}
    with open(path, encoding="utf-8") as handle:
        header = handle.readline().strip()
        if header.replace(" ", "") != "session_type,labels":
            raise DataError(path, f"header is {header!r}, expected 'session_type,labels'", line=1)
        for number, text in enumerate(handle, start=2):
            text = text.strip()
            if not text:
                continue
            key, comma, values = text.partition(",")
            session, underscore, event_type = key.partition("_")
            if not comma or not underscore or event_type not in TYPE_CODES or not session.isdigit():
                raise DataError(path, f"row starts with {key!r}, expected '<session>_<clicks|carts|orders>,'", line=number)
            try:
                aids = [int(aid) for aid in values.split()]
            except ValueError:
                raise DataError(path, f"labels {values!r} must be space-separated integer aids", line=number) from None
            row = predictions.setdefault(int(session), {})
            if event_type in row:
                raise DataError(path, f"{key} appears twice", line=number)
            row[event_type] = aids
    return predictions


def write_submission(path: Path, sessions: np.ndarray, lists: dict[str, np.ndarray]) -> Path:
    """Write predictions (``{type: (n, k) int array, -1 = empty slot}``) as a Kaggle submission."""
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("session_type,labels\n")
        for event_type in EVENT_TYPES:
            rows = lists[event_type]
            for session, row in zip(sessions.tolist(), rows.tolist(), strict=True):
                handle.write(f"{session}_{event_type}," + " ".join(str(a) for a in row if a >= 0) + "\n")
    return path


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
