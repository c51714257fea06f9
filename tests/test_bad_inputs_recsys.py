"""Malformed files for the H&M and OTTO readers: a catalogue of cases, each read through the path a user
takes (``score``, the OTTO converter, the H&M loader). Every case must raise a DataError whose message names
the file and the line, and must leave every file already written as it was (no new or changed files)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from benchmarks.errors import DataError

HM_TRUTH = b"customer_id,prediction\nc1,0108775015\nc2,0108775044\n"
OTTO_LABELS = b'{"session": 1, "labels": {"clicks": 5, "carts": [7]}}\n{"session": 2, "labels": {"orders": [3]}}\n'
OTTO_SUBMISSION = b"session_type,labels\n1_clicks,5 6\n1_carts,7\n2_orders,3\n"
EVENT = b'{"aid": 1, "ts": 1659304800, "type": "clicks"}'
EVENTS = b'{"session": 0, "events": [' + EVENT + b"]}\n"


def hm_score(folder: Path, bad: Path) -> None:
    from benchmarks.tasks.hm import HMMap12

    HMMap12().score(bad, folder / "truth.csv")


def hm_score_truth(folder: Path, bad: Path) -> None:
    from benchmarks.tasks.hm import HMMap12

    HMMap12().score(folder / "submission.csv", bad)


def hm_load(folder: Path, bad: Path) -> None:
    from benchmarks.data import hm

    hm.load({"articles": folder / "articles.csv", "customers": folder / "customers.csv", "transactions": bad},
            cache_dir=folder / "cache", log=lambda message: None)


def otto_score_labels(folder: Path, bad: Path) -> None:
    from benchmarks.tasks.otto import OttoRecall20

    OttoRecall20().score(folder / "submission.csv", bad)


def otto_score_submission(folder: Path, bad: Path) -> None:
    from benchmarks.tasks.otto import OttoRecall20

    OttoRecall20().score(bad, folder / "test_labels.jsonl")


def otto_convert(folder: Path, bad: Path) -> None:
    from benchmarks.data.otto import convert_jsonl

    convert_jsonl(bad, folder / "train.parquet")


GOOD_FILES: dict[Callable[[Path, Path], None], dict[str, bytes]] = {
    hm_score: {"truth.csv": HM_TRUTH},
    hm_score_truth: {"submission.csv": HM_TRUTH},
    hm_load: {"articles.csv": b"article_id,product_code\n0108775015,108775\n", "customers.csv": b"customer_id,age\nc1,30\n",
              "cache/hm/parquet/earlier/meta.json": b"{}"},
    otto_score_labels: {"submission.csv": OTTO_SUBMISSION},
    otto_score_submission: {"test_labels.jsonl": OTTO_LABELS},
    otto_convert: {"train.parquet": b"an earlier conversion, which a failed one must leave alone"},
}
"""What each reader needs beside the bad file, written before it runs: these must be unchanged afterwards."""


@dataclass
class Case:
    id: str
    reader: Callable[[Path, Path], None]
    name: str
    content: bytes
    line: int
    words: str


CASES = [
    # H&M submissions and truth files (score --task hm-map12)
    Case("hm-sub-not-utf8", hm_score, "submission.csv", b"customer_id,prediction\nc1,0108775015\nc\xff2,0108775044\n", 3,
         "byte 0xff at column 2 is not valid UTF-8"),
    Case("hm-sub-header", hm_score, "submission.csv", b"customer,prediction\nc1,0108775015\n", 1, "expected 'customer_id,prediction'"),
    Case("hm-sub-three-fields", hm_score, "submission.csv", b"customer_id,prediction\nc1,0108775015,x\n", 2, "found 3"),
    Case("hm-sub-twice", hm_score, "submission.csv", b"customer_id,prediction\nc1,a\nc2,b\nc1,c\n", 4, "listed twice"),
    Case("hm-sub-empty-customer", hm_score, "submission.csv", b"customer_id,prediction\n ,0108775015\n", 2, "empty customer_id"),
    Case("hm-sub-extra-column", hm_score, "submission.csv", b"customer_id,prediction,score\nc1,a,1\n", 1, "header is"),
    Case("hm-sub-one-field", hm_score, "submission.csv", b"customer_id,prediction\nc1,a\nc2\n", 3, "found 1"),
    Case("hm-truth-latin1", hm_score_truth, "truth.csv", "customer_id,prediction\nc\xe9,0108775015\n".encode("latin-1"), 2,
         "byte 0xe9 at column 2 is not valid UTF-8"),
    # H&M competition files (run --task hm-map12 --dataset FOLDER)
    Case("hm-transactions-not-utf8", hm_load, "transactions_train.csv",
         b"t_dat,customer_id,article_id,price\n2020-09-01,c1,0108775015,0.01\n2020-09-02,c\xfe1,0108775015,0.01\n", 3,
         "byte 0xfe at column 13 is not valid UTF-8"),
    Case("hm-transactions-date", hm_load, "transactions_train.csv",
         b"t_dat,customer_id,article_id,price\n2020-09-01,c1,0108775015,0.01\n2020-13-45,c1,0108775015,0.01\n", 3, "is not a date"),
    # OTTO labels (score --task otto-recall20 --truth test_labels.jsonl)
    Case("otto-labels-not-utf8", otto_score_labels, "test_labels.jsonl",
         OTTO_LABELS + b'{"session": 3, "labels": {"clicks": 5}}\xc3\n', 3, "byte 0xc3 at column 40 is not valid UTF-8"),
    Case("otto-labels-string-aid", otto_score_labels, "test_labels.jsonl",
         b'{"session": 1, "labels": {"clicks": 2}}\n{"session": 2, "labels": {"carts": ["7"]}}\n', 2, "labels.carts"),
    Case("otto-labels-session-twice", otto_score_labels, "test_labels.jsonl", OTTO_LABELS + b'{"session": 1, "labels": {}}\n', 3,
         "session 1 appears twice"),
    Case("otto-labels-aid-too-big", otto_score_labels, "test_labels.jsonl", b'{"session": 1, "labels": {"clicks": 2147483648}}\n', 1,
         "labels.clicks"),
    Case("otto-labels-truncated", otto_score_labels, "test_labels.jsonl", OTTO_LABELS + b'{"session": 3, "labels": {"cl\n', 3,
         "not valid JSON"),
    Case("otto-labels-huge-integer", otto_score_labels, "test_labels.jsonl",
         b'{"session": 1, "labels": {"clicks": ' + b"9" * 5000 + b"}}\n", 1, "not valid JSON"),
    Case("otto-labels-bare-null", otto_score_labels, "test_labels.jsonl", b"null\n" + OTTO_LABELS, 1,
         "expected an object with 'session' and 'labels'"),  # pyarrow 26's JSON reader segfaults on it: never shown it
    Case("otto-labels-bool", otto_score_labels, "test_labels.jsonl", b'{"session": 1, "labels": {"clicks": true}}\n', 1,
         "labels.clicks is True"),
    # OTTO submissions (score --task otto-recall20 --predictions submission.csv)
    Case("otto-sub-superscript-session", otto_score_submission, "submission.csv", "session_type,labels\n²_clicks,1\n".encode(), 2,
         "expected '<session>_<clicks|carts|orders>,'"),
    Case("otto-sub-superscript-aid", otto_score_submission, "submission.csv", "session_type,labels\n1_clicks,5 ²\n".encode(), 2,
         "space-separated integer aids"),
    Case("otto-sub-not-utf8", otto_score_submission, "submission.csv", OTTO_SUBMISSION + b"2_clicks,1 \x80\n", 5,
         "byte 0x80 at column 12 is not valid UTF-8"),
    Case("otto-sub-two-underscores", otto_score_submission, "submission.csv", OTTO_SUBMISSION + b"2_carts_orders,3\n", 5,
         "expected '<session>_<clicks|carts|orders>,'"),
    Case("otto-sub-two-commas", otto_score_submission, "submission.csv", OTTO_SUBMISSION + b"2_clicks,3,4\n3_clicks\n", 5,
         "space-separated integer aids"),
    Case("otto-sub-word-aid", otto_score_submission, "submission.csv", b"session_type,labels\n1_clicks,5 x\n", 2,
         "space-separated integer aids"),
    Case("otto-sub-negative-aid", otto_score_submission, "submission.csv", b"session_type,labels\n1_clicks,-5\n", 2,
         "space-separated integer aids"),
    Case("otto-sub-twice", otto_score_submission, "submission.csv", OTTO_SUBMISSION + b"1_carts,8\n", 5, "1_carts appears twice"),
    Case("otto-sub-header", otto_score_submission, "submission.csv", b"session,labels\n1_clicks,5\n", 1, "expected 'session_type,labels'"),
    # OTTO sessions (run --task otto-recall20 --dataset train.jsonl)
    Case("otto-jsonl-not-utf8", otto_convert, "train.jsonl", EVENTS + b'{"session": 1, "events": [' + EVENT[:-1] + b', "x": "\xff"}]}\n',
         2, "byte 0xff at column"),
    Case("otto-jsonl-after-2038", otto_convert, "train.jsonl", EVENTS.replace(b"1659304800", b"2200000000"), 1, "after 2038-01-19"),
    Case("otto-jsonl-empty-events", otto_convert, "train.jsonl", EVENTS + b'{"session": 1, "events": []}\n', 2, "non-empty list"),
    Case("otto-jsonl-mixed-units", otto_convert, "train.jsonl", EVENTS + EVENTS.replace(b"1659304800", b"1659304800000"), 2,
         "in ms, but earlier"),
    Case("otto-jsonl-deep-nesting", otto_convert, "train.jsonl", EVENTS + b"[" * 100_000 + b"]" * 100_000 + b"\n", 2,
         "not valid JSON"),
    Case("otto-jsonl-bare-null", otto_convert, "train.jsonl", b"null\n" + EVENTS, 1, "expected an object with 'session' and 'events'"),
    Case("otto-jsonl-float-aid", otto_convert, "train.jsonl", EVENTS.replace(b'"aid": 1', b'"aid": 1.0'), 1, "expected an integer"),
]


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_bad_input_is_a_clear_error(tmp_path: Path, case: Case):
    for name, content in GOOD_FILES[case.reader].items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(content)
    bad = tmp_path / case.name
    bad.write_bytes(case.content)
    before = _snapshot(tmp_path)
    with pytest.raises(DataError) as error:
        case.reader(tmp_path, bad)
    message = str(error.value)
    assert type(error.value) is DataError
    assert case.name in message and f"line {case.line}:" in message and error.value.line == case.line, message
    assert case.words in message, message
    assert _snapshot(tmp_path) == before


def test_the_catalogue_is_large_enough():
    assert len(CASES) >= 15 and len({case.id for case in CASES}) == len(CASES)
