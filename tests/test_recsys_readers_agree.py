"""The fast H&M and OTTO readers (polars, pyarrow, numpy) against the plain Python readers, on randomly damaged
files: for every file, both return the same rows, or both raise a DataError naming the same line. (A fast
reader that accepted a line the plain one refuses, or read it differently, would change a score silently.)"""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path

import pytest

from benchmarks.data import blocks, hm, otto_events, otto_labels, otto_submission
from benchmarks.errors import DataError

HM_FILE = b"customer_id,prediction\nc1,0108775015 0108775044\nc2,0108775044\nc3,\n"
LABELS = b'{"session": 1, "labels": {"clicks": 5, "carts": [7, 8]}}\n{"session": 2, "labels": {"orders": [3]}}\n'
SUBMISSION = b"session_type,labels\n1_clicks,5 6\n1_carts,7\n2_orders,3 4\n"
EVENTS = (b'{"session":0,"events":[{"aid":1,"ts":1659304800,"type":"clicks"},{"aid":2,"ts":1659304801,"type":"carts"}]}\n'
          b'{"session":1,"events":[{"aid":3,"ts":1659304802,"type":"orders"}]}\n')
PIECES = [b"\xff", b"\x00", b"\r", b"\n", b'"', b",", b" ", b"\t", "²".encode(), b"-", b"+", b"_", b"{", b"}", b"[", b"]", b"\\",
          b"9" * 30, b"null", b"true", b"1.5", b"\xc3", b"\xef\xbb\xbf", b"\xc2\xa0", b"clicks", b"_orders", b"_1", b"\\u0069"]


def damage(rng: random.Random, data: bytes) -> bytes:
    """One to three random insertions, deletions or replacements of awkward pieces."""
    data = bytearray(data)
    for _ in range(rng.randint(1, 3)):
        at, choice = rng.randrange(len(data) + 1), rng.random()
        if choice < 0.4:
            data[at:at] = rng.choice(PIECES)
        elif choice < 0.7:
            del data[at:at + rng.randint(1, 4)]
        else:
            data[at:at + 1] = rng.choice(PIECES)
    return bytes(data)


def outcome(read: Callable[[Path], object], path: Path) -> tuple[str, object]:
    try:
        return "rows", read(path)
    except DataError as error:
        return "error", error.line


def hm_fast(path: Path) -> list:
    frame = hm.read_submission_frame(path)
    return list(zip(frame["customer"].to_list(), hm.submission_tokens(frame).to_list()))


def hm_plain(path: Path) -> list:
    return list(hm.read_submission(path).items())


def submission_fast(path: Path) -> dict:
    rows: dict = {}
    for block in otto_submission.iter_submission(path, block_bytes=40):  # several blocks even in a tiny file
        at = 0
        for session, code, length in zip(block.sessions.tolist(), block.types.tolist(), block.lengths.tolist()):
            rows.setdefault(session, {})[otto_submission.EVENT_TYPES[code]] = block.aids[at:at + length].tolist()
            at += length
    return rows


def labels_fast(path: Path) -> tuple:
    arrays = otto_labels.read_label_arrays(path)
    return arrays.sessions.tolist(), {k: v.tolist() for k, v in arrays.truth.items()}


def labels_plain(path: Path) -> tuple:
    arrays = otto_labels.label_arrays(otto_labels.read_labels(path))
    return arrays.sessions.tolist(), {k: v.tolist() for k, v in arrays.truth.items()}


def events_fast(path: Path) -> dict:
    import pyarrow.parquet as pq

    otto_events.convert_jsonl(path, path.with_suffix(".parquet"), block_bytes=50)
    table = pq.read_table(path.with_suffix(".parquet"))
    return {name: table.column(name).to_pylist() for name in ("session", "aid", "ts", "type")}


def events_plain(path: Path) -> dict:
    columns, sessions = otto_events._plain_events_block(blocks.split_lines(path.read_bytes()), path, 1, otto_events._Unit())
    if sessions == 0:
        raise DataError(path, "no sessions in the file")
    return {name: values.tolist() for name, values in columns.items()}


READERS = {
    "hm-submission": (HM_FILE, hm_fast, hm_plain),
    "otto-submission": (SUBMISSION, submission_fast, otto_submission.read_submission),
    "otto-labels": (LABELS, labels_fast, labels_plain),
    "otto-events": (EVENTS, events_fast, events_plain),
}


@pytest.mark.parametrize("reader", READERS)
def test_fast_and_plain_readers_agree_on_damaged_files(tmp_path: Path, reader: str):
    good, fast, plain = READERS[reader]
    rng = random.Random(reader)
    path = tmp_path / "file"
    assert outcome(fast, _write(path, good))[0] == "rows"
    errors, tries = 0, 400
    for _ in range(tries):
        _write(path, damage(rng, good))
        expected = outcome(plain, path)
        assert outcome(fast, path) == expected, path.read_bytes()
        errors += expected[0] == "error"
    assert errors > 25 and tries - errors >= 3  # both kinds of outcome were tried


def _write(path: Path, content: bytes) -> Path:
    path.write_bytes(content)
    return path


def _scored_only(path: Path) -> dict:
    """What scoring reads of a submission: the first 20 aids of session 1's rows (the wanted ones); other
    rows are read and checked, but their aids are not needed."""
    rows: dict = {}
    for block in otto_submission.iter_submission(path, keep=20, block_bytes=40, wanted=lambda sessions, types: sessions == 1):
        at = 0
        for session, code, length in zip(block.sessions.tolist(), block.types.tolist(), block.lengths.tolist()):
            rows[(session, code)] = block.aids[at:at + length].tolist() if session == 1 else []
            at += length
    return rows


def _scored_plain(path: Path) -> dict:
    return {(session, otto_events.TYPE_CODES[name]): aids[:20] if session == 1 else []
            for session, entry in otto_submission.read_submission(path).items() for name, aids in entry.items()}


def test_the_scoring_reader_agrees_with_the_plain_one_on_damaged_files(tmp_path: Path, monkeypatch):
    """iter_submission(wanted=...) parses only the wanted rows' aids: the same rows or the same error as
    the plain reader, except (as documented) an out-of-range aid in a row that is not wanted."""
    selective = otto_submission._selective_submission_block
    taken = []
    monkeypatch.setattr(otto_submission, "_selective_submission_block", lambda *a: taken.append(selective(*a)) or taken[-1])
    rng = random.Random("scoring")
    path = tmp_path / "submission.csv"
    good = SUBMISSION + b"2_clicks," + b" ".join(str(i).encode() for i in range(25)) + b"\n"  # long, not wanted
    assert outcome(_scored_only, _write(path, good)) == outcome(_scored_plain, path)
    errors, unreported = 0, 0
    for _ in range(400):
        _write(path, damage(rng, good))
        expected, got = outcome(_scored_plain, path), outcome(_scored_only, path)
        if expected[0] == "error" and got[0] == "rows":
            with pytest.raises(DataError, match="integer aids") as raised:
                otto_submission.read_submission(path)
            line = path.read_bytes().split(b"\n")[raised.value.line - 1]
            assert not line.strip().startswith(b"1_"), line  # the unreported aid is in a row nobody scores
            unreported += 1
            continue
        assert got == expected, path.read_bytes()
        errors += expected[0] == "error"
    assert errors > 25 and unreported < 40
    assert sum(block is not None for block in taken) > 40  # the scoring reader itself read damaged files


@pytest.mark.parametrize("reader", READERS)
def test_gzipped_files_read_as_the_plain_ones(tmp_path: Path, reader: str):
    """A gzipped file (recognised by its magic bytes, whatever its name) gives both readers the rows or the error
    (same line) that the uncompressed file gives the plain reader."""
    import gzip

    good, fast, plain = READERS[reader]
    rng = random.Random(f"gzip {reader}")
    plain_path, packed = tmp_path / "plain", tmp_path / "packed"  # no .gz suffix: found by the magic bytes
    for attempt in range(60):
        content = good if attempt == 0 else damage(rng, good)
        expected = outcome(plain, _write(plain_path, content))
        _write(packed, gzip.compress(content, mtime=0))
        assert outcome(fast, packed) == expected, content
        if reader != "otto-events":  # its plain oracle reads raw bytes
            assert outcome(plain, packed) == expected, content
