"""OTTO predictions as Kaggle submissions: ``session_type,labels`` rows such as ``12899779_clicks,59625 1253524``."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.data.blocks import in_threads, line_blocks, line_count, split_lines
from benchmarks.data.otto_events import MAX_ID, MAX_SESSION, TYPE_CODES
from benchmarks.data.textfile import check_input_file, decode_line, open_input, text_lines
from benchmarks.errors import DataError, quote
from benchmarks.metrics.session_recall import EVENT_TYPES

SUBMISSION_BLOCK_BYTES = 16 << 20  # bytes read at a time (two at once): measured faster and leaner than 32 MB
SUBMISSION_HEADER = "session_type,labels"


@dataclass
class SubmissionBlock:
    """Rows of a Kaggle submission as arrays."""

    sessions: np.ndarray  # (m,) int64
    types: np.ndarray  # (m,) int8 type codes (0 clicks, 1 carts, 2 orders)
    lengths: np.ndarray  # (m,) int64 aids kept per row (at most the reader's keep)
    aids: np.ndarray  # (lengths.sum(),) int64 the rows' first aids, concatenated in order

    def padded(self) -> tuple[np.ndarray, np.ndarray]:
        """``(indices of the rows with aids, (m, longest) their aids padded with -1)``."""
        given = np.flatnonzero(self.lengths > 0)
        lengths = self.lengths[given]
        width = int(lengths.max()) if len(lengths) else 0
        if (lengths == width).all():
            return given, self.aids.reshape(len(given), width)
        matrix = np.full((len(given), width), -1, dtype=np.int64)
        matrix[np.arange(width) < lengths[:, None]] = self.aids  # each row's aids, in row-major order
        return given, matrix


def _is_number(text: str, limit: int) -> bool:
    return text.isascii() and text.isdigit() and len(text.lstrip("0")) <= len(str(limit)) and int(text) <= limit


def _submission_row(text: str, path: Path, number: int) -> tuple[int, int, list[int]] | None:
    """The plain reader's rules for one line: (session, type code, aids), or None if blank."""
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
    """Read a Kaggle submission with the plain reader: ``{session: {type: [aid, ...]}}``; a byte that is not UTF-8, a
    wrong header, a malformed row, an aid outside 0..2**31-1 or a repeated (session, type) is a DataError."""
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
    """Read a Kaggle submission block by block, two at once (:func:`in_threads`): polars reads a block that passes
    the vectorised checks, the plain reader any other (the same way, or it names the bad line). Errors as
    :func:`read_submission`, a repeated (session, type) found after the last block.

    Args:
        keep: how many aids of each row to keep (None: all).
        block_bytes: bytes read at a time; at most three blocks are held.
        then: applied to each block in the reading thread; its results are yielded instead of the blocks.
        wanted: for scoring (with ``keep``): given a block's sessions and type codes, a mask of the rows
            whose aids are needed; the other rows come back with no aids. Every row's key and characters
            are still checked, but only the wanted rows' aids are parsed, so an aid above 2**31 - 1 in an
            unwanted row goes unreported (the plain reader would name it).
    """
    path = check_input_file(path)
    with open_input(path) as handle:
        first = handle.readline()
    _check_header(decode_line(first, path, 1), path)
    line = 2
    seen = [np.zeros((2, 0), dtype=np.int64)]  # (session, type) of every row
    finish = then if then is not None else (lambda block: block)

    def fast(block: bytes) -> tuple[SubmissionBlock | None, Any]:
        parsed = None
        if wanted is not None and keep is not None:
            parsed = _selective_submission_block(block, keep, wanted)
        if parsed is None:
            parsed = _fast_submission_block(block, keep)
        return parsed, None if parsed is None else finish(parsed)

    for block, (parsed, result) in in_threads(line_blocks(path, block_bytes, start=len(first)), fast):
        if parsed is None:
            parsed = _plain_submission_block(split_lines(block), path, line, keep)
            result = finish(parsed)
        line += block.count(b"\n")
        seen.append(np.stack((parsed.sessions, parsed.types)))
        yield result
    pairs = np.concatenate(seen, axis=1)
    pairs = pairs[:, np.lexsort(pairs[::-1])]
    if (pairs[:, 1:] == pairs[:, :-1]).all(axis=0).any():
        read_submission(path)  # raises, naming the line of the repeat
        raise DataError(path, "a (session, type) row appears twice")


def _plain_submission_block(lines: Iterable[bytes], path: Path, first_line: int, keep: int | None) -> SubmissionBlock:
    sessions, types, lengths, aids = [], [], [], []
    for number, text in text_lines(path, first_line, lines):
        row = _submission_row(text, path, number)
        if row is None:
            continue
        kept = row[2][:keep]
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
    """The scoring reader (``wanted`` in :func:`iter_submission`): polars splits each row at its underscore and
    parses only the wanted rows' first ``keep`` aids; None (the next reader decides) unless the block is plain:
    digits, spaces and newlines, one ``<session>_<type>,`` key per line, at most ``keep`` aids a row, single spaces."""
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
    if len(lines) != line_count(block) or lines.null_count() or (lines.str.count_matches(",", literal=True) != 1).any():
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
