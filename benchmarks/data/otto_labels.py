"""OTTO's test labels as otto-de writes them (``test_labels.jsonl``), read into arrays for vectorised scoring.

One session per line: ``{"session": 1, "labels": {"clicks": 5, "carts": [..], "orders": [..]}}``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.data.blocks import json_lines_table
from benchmarks.data.otto_events import MAX_ID, MAX_SESSION, is_int
from benchmarks.data.textfile import check_input_file, iter_lines, parse_jsonl, read_input_bytes
from benchmarks.errors import DataError, quote
from benchmarks.metrics.recommendation import unique_sorted
from benchmarks.metrics.session_recall import AID_BITS, EVENT_TYPES, SessionLabels, pair_keys

LABELS_HINT = 'expected {"session": int, "labels": {"clicks": aid, "carts": [...], "orders": [...]}}'


def _session_labels(record: Any, path: Path, number: int) -> tuple[int, SessionLabels]:
    """Check one parsed labels line; the plain reader's rules. A type given as null counts as absent, and so
    does a click on aid 0, as in otto-de's ``evaluate.py`` (``if labels['clicks']``: aid 0 is their sentinel)."""
    if not isinstance(record, dict) or "session" not in record or "labels" not in record:
        raise DataError(path, "expected an object with 'session' and 'labels'", line=number, hint=LABELS_HINT)
    session, raw = record["session"], record["labels"]
    if not is_int(session) or not isinstance(raw, dict):
        raise DataError(path, "'session' must be an integer and 'labels' an object", line=number, hint=LABELS_HINT)
    if not 0 <= session <= MAX_SESSION:
        raise DataError(path, f"session {session} is out of range, expected 0..{MAX_SESSION}", line=number)
    click = raw.get("clicks")
    if click is not None and (not is_int(click) or not 0 <= click <= MAX_ID):
        raise DataError(path, f"labels.clicks is {quote(click)}, expected one aid (an integer 0..{MAX_ID})", line=number)
    sets = {}
    for name in ("carts", "orders"):
        values = raw.get(name)
        values = [] if values is None else values
        if not isinstance(values, list) or not all(is_int(v) and 0 <= v <= MAX_ID for v in values):
            raise DataError(path, f"labels.{name} is {quote(values)}, expected a list of aids (integers 0..{MAX_ID})", line=number)
        sets[name] = frozenset(values)
    return session, SessionLabels(click or None, sets["carts"], sets["orders"])  # None for aid 0


def read_labels(path: Path) -> dict[int, SessionLabels]:
    """Read ``test_labels.jsonl`` with the plain reader: ``{session: SessionLabels}`` in file order; a line that is
    not UTF-8 or JSON, a missing or wrong field, an aid outside 0..2**31-1 or a repeated session is a DataError."""
    labels: dict[int, SessionLabels] = {}
    for number, record in parse_jsonl(iter_lines(path), path, LABELS_HINT):
        session, truth = _session_labels(record, path, number)
        if session in labels:
            raise DataError(path, f"session {session} appears twice", line=number)
        labels[session] = truth
    return labels


@dataclass
class LabelArrays:
    """Test labels as arrays, for vectorised scoring."""

    sessions: np.ndarray  # (n,) int64 session ids in file order: row i is session sessions[i]
    truth: dict[str, np.ndarray]  # {type: sorted distinct pair_keys(row, aid)} of each type's true aids

    def __post_init__(self) -> None:
        self._order: np.ndarray | None = None  # argsort of the sessions, when the dense lookup does not apply
        self._first = int(self.sessions.min()) if len(self.sessions) else 0
        span = int(self.sessions.max()) - self._first + 1 if len(self.sessions) else 0
        self._dense: np.ndarray | None = None  # row of session first + i, for session ids in a narrow range
        if 0 < span <= 4 * len(self.sessions) + 1024:
            self._dense = np.full(span, -1, dtype=np.int64)
            self._dense[self.sessions - self._first] = np.arange(len(self.sessions))

    def distinct(self) -> bool:
        if self._dense is not None:  # a repeated session kept only its last row
            return bool((self._dense[self.sessions - self._first] == np.arange(len(self.sessions))).all())
        return len(unique_sorted(self.sessions)) == len(self.sessions)

    def sizes(self, event_type: str) -> np.ndarray:
        """(n,) number of distinct true aids of ``event_type`` per session."""
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
    sessions = np.fromiter(labels.keys(), dtype=np.int64, count=len(labels))
    truth = {}
    for event_type in EVENT_TYPES:
        pairs = [(row, aid) for row, label in enumerate(labels.values()) for aid in label.of(event_type)]
        rows, aids = np.asarray(pairs, dtype=np.int64).reshape(-1, 2).T
        truth[event_type] = unique_sorted(pair_keys(rows, aids))
    return LabelArrays(sessions, truth)


def read_label_arrays(path: Path) -> LabelArrays:
    """Read ``test_labels.jsonl`` into :class:`LabelArrays`: pyarrow's JSON reader when every vectorised check
    passes, else the plain :func:`read_labels` (same result, or the error naming the line)."""
    path = check_input_file(path)
    fast = _fast_labels(read_input_bytes(path))
    return fast if fast is not None else label_arrays(read_labels(path))


def _fast_labels(data: bytes) -> LabelArrays | None:
    import pyarrow as pa
    import pyarrow.compute as pc

    schema = pa.schema([("session", pa.int64()), ("labels", pa.struct([
        ("clicks", pa.int64()), ("carts", pa.list_(pa.int64())), ("orders", pa.list_(pa.int64()))]))])
    table = json_lines_table(data, schema)
    if table is None:
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
    for name, (rows, aids) in parts.items():  # int64, as the schema says
        if len(aids) and (aids.min() < 0 or aids.max() > MAX_ID):
            return None
        truth[name] = unique_sorted(pair_keys(rows, aids))
    arrays = LabelArrays(sessions.astype(np.int64), truth)
    return arrays if arrays.distinct() else None  # a session listed twice: the plain reader names the line


def _numbers(array: Any) -> np.ndarray:
    """A null-free pyarrow integer array as numpy; ``Array.to_numpy`` imports pandas (0.15 s of a `score` of 3 s)."""
    dtype = np.dtype(str(array.type))
    return np.frombuffer(array.buffers()[1], dtype=dtype, count=len(array), offset=array.offset * dtype.itemsize)


def write_labels(path: Path, labels: dict[int, SessionLabels]) -> Path:
    """Write labels in otto-de's ``test_labels.jsonl`` format (empty types left out)."""
    with open(path, "w", encoding="utf-8") as handle:
        for session, truth in labels.items():
            raw = {"clicks": truth.clicks, "carts": sorted(truth.carts), "orders": sorted(truth.orders)}
            raw = {name: value for name, value in raw.items() if value not in (None, [])}
            handle.write(json.dumps({"session": int(session), "labels": raw}) + "\n")
    return path
