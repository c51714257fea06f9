"""Files users bring (issue 21, class 4), through the command line as a user types it: ``score`` with a
predictions or truth file that is empty, header-only, gzipped (whole or damaged), another kind of archive,
binary, a folder, missing, or holds a very long bad line; and ``run --dataset`` with a BEIR-layout
collection whose documents, queries or judgements are wrong, empty or folders.

Each refused case asserts the exit status (2, a user error), the one ``error:`` line (the file, the line
where there is one, the words), no traceback, and that nothing anywhere changed: the inputs, an earlier
record and leaderboard in the results folder, and the cache. Accepted cases (gzip, a byte-order mark, BEIR's
tolerances) assert what was read."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import re
import subprocess
import sys
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from benchmarks import cli

REPO = Path(__file__).resolve().parent.parent

HM_TRUTH = b"customer_id,prediction\nc1,0108775015 0108775044\nc2,0108775044\nc3,\n"
HM_SUBMISSION = b"customer_id,prediction\nc1,0108775044 0108775015\nc2,0108775015 0108775044\nc4,0108775015\n"
OTTO_LABELS = b'{"session": 1, "labels": {"clicks": 5, "carts": [7]}}\n{"session": 2, "labels": {"orders": [3]}}\n'
OTTO_SUBMISSION = b"session_type,labels\n1_clicks,5 6\n1_carts,7\n2_orders,4 3\n"
RUN = b"q1 Q0 d1 1 3.0 t\nq1 Q0 d2 2 2.0 t\nq2 Q0 d3 1 1.5 t\nq2 Q0 d2 2 1.0 t\n"
QRELS = b"q1 0 d2 1\nq2 0 d3 2\n"
BEIR_QRELS = b"query-id\tcorpus-id\tscore\nq1\td2\t1\nq2\td3\t2\n"
GOOD = {"hm-map12": (HM_SUBMISSION, HM_TRUTH, ".csv", ".csv"), "otto-recall20": (OTTO_SUBMISSION, OTTO_LABELS, ".csv", ".jsonl"),
        "beir-ndcg10": (RUN, QRELS, ".trec", ".txt")}


def _zip(name: str, data: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as bundle:
        bundle.writestr(name, data)
    return buffer.getvalue()


GARBAGE = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 3  # a PNG header, then every byte
LONG = "x" * 5000


@pytest.fixture
def world(tmp_path: Path, monkeypatch) -> Path:
    """What a user already has: a finished record and its leaderboard, a cache; inputs go in ``inputs/``."""
    (tmp_path / "results" / "records" / "beir-ndcg10" / "bm25s").mkdir(parents=True)
    (tmp_path / "results" / "records" / "beir-ndcg10" / "bm25s" / "r1__seed0.json").write_text('{"metrics": {"ndcg@10": 0.5}}')
    (tmp_path / "results" / "beir-ndcg10.md").write_text("# beir-ndcg10\n")
    (tmp_path / "cache" / "earlier").mkdir(parents=True)
    (tmp_path / "cache" / "earlier" / "meta.json").write_text("{}")
    (tmp_path / "inputs").mkdir()
    monkeypatch.setenv("MLSD_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path


def _snapshot(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "folder"
            for p in sorted(root.rglob("*"))}


def invoke(argv: list[str], capsys) -> tuple[int, str, str]:
    code = cli.main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_refused(code: int, err: str, file: Path, line: int | None, words: str) -> str:
    """Exit status 2, one ``error:`` line naming the file (and the line), the words; no traceback."""
    assert code == 2, err
    assert "Traceback" not in err
    errors = [text for text in err.splitlines() if text.startswith("error:")]
    assert len(errors) == 1, err
    message = errors[0]
    assert str(file) in message, message
    if line is not None:
        assert f"{file.name}, line {line}: " in message, message
    else:
        assert ", line " not in message, message
    assert re.search(words, message), message
    return message


# --- score --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScoreCase:
    """One bad predictions or truth file for ``score``.

    Attributes:
        id: the case's name.
        task: whose score.
        role: ``predictions`` or ``truth`` (the other file is the task's good one).
        make: writes the bad input at the given path (a file, a folder, or nothing).
        line: the line the message names (None: the whole file).
        words: a regular expression the message must match.
    """

    id: str
    task: str
    role: str
    make: Callable[[Path], None]
    line: int | None
    words: str


def _bytes(content: bytes) -> Callable[[Path], None]:
    return lambda path: path.write_bytes(content) and None


def _folder(path: Path) -> None:
    path.mkdir()


def _nothing(path: Path) -> None:
    return None


def _truncated_gzip(content: bytes) -> bytes:
    packed = gzip.compress(content * 40, mtime=0)
    return packed[: len(packed) // 2]


SCORE_CASES = [
    # header and no rows, or rows that leave nothing to score
    ScoreCase("hm-truth-header-only", "hm-map12", "truth", _bytes(b"customer_id,prediction\n"), None, "header and no rows"),
    ScoreCase("hm-truth-header-only-crlf-bom", "hm-map12", "truth", _bytes(b"\xef\xbb\xbfcustomer_id,prediction\r\n\r\n"), None,
              "header and no rows"),
    ScoreCase("hm-truth-no-articles", "hm-map12", "truth", _bytes(b"customer_id,prediction\nc1,\nc2, \n"), None,
              "no customer has a truth row"),
    ScoreCase("hm-predictions-header-only", "hm-map12", "predictions", _bytes(b"customer_id,prediction\n"), None,
              "header and no rows"),
    ScoreCase("otto-labels-blank-lines", "otto-recall20", "truth", _bytes(b"\n\n"), None, "no session has a label line"),
    ScoreCase("otto-labels-no-label", "otto-recall20", "truth",
              _bytes(b'{"session": 1, "labels": {}}\n{"session": 2, "labels": {"carts": [], "clicks": null}}\n'), None,
              "none of its 2 sessions has a label"),
    ScoreCase("otto-predictions-header-only", "otto-recall20", "predictions", _bytes(b"session_type,labels\n"), None,
              "header and no rows"),
    ScoreCase("qrels-header-only", "beir-ndcg10", "truth", _bytes(b"query-id\tcorpus-id\tscore\n"), None,
              "header and no judgements"),
    ScoreCase("run-blank-lines", "beir-ndcg10", "predictions", _bytes(b"\n \n"), None, "no result lines"),
    # empty (0 bytes), a folder, missing
    *[ScoreCase(f"{task}-{role}-empty", task, role, _bytes(b""), None, r"the file is empty \(0 bytes\)")
      for task in GOOD for role in ("predictions", "truth")],
    *[ScoreCase(f"{task}-{role}-folder", task, role, _folder, None, "is a folder, expected a file")
      for task in GOOD for role in ("predictions", "truth")],
    *[ScoreCase(f"{task}-{role}-missing", task, role, _nothing, None, "no such file") for task in GOOD for role in ("truth",)],
    # damaged gzip, other archives, binary garbage
    *[ScoreCase(f"{task}-{role}-damaged-gzip", task, role, _bytes(_truncated_gzip(GOOD[task][role == "truth"])), None,
                "damaged gzip data") for task in GOOD for role in ("predictions", "truth")],
    ScoreCase("hm-predictions-gzipped-twice", "hm-map12", "predictions",
              _bytes(gzip.compress(gzip.compress(HM_SUBMISSION, mtime=0), mtime=0)), None, "is gzipped twice"),
    ScoreCase("otto-labels-gzipped-twice", "otto-recall20", "truth",
              _bytes(gzip.compress(gzip.compress(OTTO_LABELS, mtime=0), mtime=0)), None, "is gzipped twice"),
    ScoreCase("run-gzip-of-nothing", "beir-ndcg10", "predictions", _bytes(gzip.compress(b"", mtime=0)), None, "no result lines"),
    ScoreCase("hm-truth-gzip-of-header", "hm-map12", "truth", _bytes(gzip.compress(b"customer_id,prediction\n", mtime=0)), None,
              "header and no rows"),
    ScoreCase("otto-predictions-fifo", "otto-recall20", "predictions", lambda path: os.mkfifo(path), None,
              "is not a regular file"),
    ScoreCase("qrels-fifo", "beir-ndcg10", "truth", lambda path: os.mkfifo(path), None, "is not a regular file"),
    ScoreCase("hm-predictions-zip", "hm-map12", "predictions", _bytes(_zip("submission.csv", HM_SUBMISSION)), None,
              "is a zip archive, not a text file"),
    ScoreCase("otto-labels-bzip2", "otto-recall20", "truth", _bytes(__import__("bz2").compress(OTTO_LABELS)), None,
              "is bzip2-compressed"),
    ScoreCase("run-xz", "beir-ndcg10", "predictions", _bytes(__import__("lzma").compress(RUN)), None, "is xz-compressed"),
    ScoreCase("hm-predictions-utf16", "hm-map12", "predictions", _bytes(HM_SUBMISSION.decode().encode("utf-16")), 1,
              "UTF-16 byte-order mark"),
    ScoreCase("hm-truth-garbage", "hm-map12", "truth", _bytes(b"customer_id,prediction\n" + GARBAGE), 2, "not valid UTF-8"),
    ScoreCase("otto-predictions-garbage", "otto-recall20", "predictions", _bytes(GARBAGE), 1, "not valid UTF-8"),
    ScoreCase("otto-labels-garbage", "otto-recall20", "truth", _bytes(OTTO_LABELS + GARBAGE), 3, "not valid UTF-8"),
    ScoreCase("run-garbage", "beir-ndcg10", "predictions", _bytes(RUN + GARBAGE), 5, "not valid UTF-8"),
    ScoreCase("run-nul-bytes", "beir-ndcg10", "predictions", _bytes(RUN + b"q1 Q0 d7 3 \x00\x00 t\n"), 5, "is not a number"),
    # a very long bad line: quoted in at most 200 characters
    ScoreCase("hm-long-header", "hm-map12", "predictions", _bytes(f"{LONG},prediction\nc1,x\n".encode()), 1, "5011 characters"),
    ScoreCase("otto-long-key", "otto-recall20", "predictions", _bytes(f"session_type,labels\n{LONG}_clicks,1\n".encode()), 2,
              "row starts with"),
    ScoreCase("otto-long-labels", "otto-recall20", "predictions",
              _bytes(("session_type,labels\n1_clicks," + "1 " * 3000 + "x\n").encode()), 2, "must be space-separated"),
    ScoreCase("otto-long-label-list", "otto-recall20", "truth",
              _bytes(b'{"session": 1, "labels": {"carts": [' + b"-1, " * 3000 + b"1]}}\n"), 1, "labels.carts is"),
    ScoreCase("run-long-score", "beir-ndcg10", "predictions", _bytes(f"q1 Q0 d1 1 {LONG} t\n".encode()), 1, "is not a number"),
    ScoreCase("qrels-long-grade", "beir-ndcg10", "truth", _bytes(f"q1 0 d1 {LONG}\n".encode()), 1, "is not a number"),
]


@pytest.mark.parametrize("case", SCORE_CASES, ids=[case.id for case in SCORE_CASES])
def test_score_refuses_a_hostile_file(case: ScoreCase, world: Path, capsys):
    good_predictions, good_truth, predictions_suffix, truth_suffix = GOOD[case.task]
    predictions = world / "inputs" / f"predictions{predictions_suffix}"
    truth = world / "inputs" / f"truth{truth_suffix}"
    predictions.write_bytes(good_predictions)
    truth.write_bytes(good_truth)
    bad = predictions if case.role == "predictions" else truth
    bad.unlink()
    case.make(bad)
    before = _snapshot(world)
    code, out, err = invoke(["score", "--task", case.task, "--predictions", str(predictions), "--truth", str(truth)], capsys)
    message = assert_refused(code, err, bad, case.line, case.words)
    assert out == ""
    assert len(message) <= len(f"error: {bad}, line 99: ") + 400  # a quoted line is cut to 200 characters
    assert _snapshot(world) == before


@pytest.mark.parametrize("task", list(GOOD))
@pytest.mark.parametrize("packed", ["predictions", "truth", "both"])
def test_score_reads_gzipped_files_by_their_magic_bytes(task: str, packed: str, world: Path, capsys):
    """A gzipped predictions or truth file scores as the plain one, named ``.gz`` or not."""
    good_predictions, good_truth, predictions_suffix, truth_suffix = GOOD[task]
    plain = (world / "inputs" / f"p{predictions_suffix}", world / "inputs" / f"t{truth_suffix}")
    plain[0].write_bytes(good_predictions)
    plain[1].write_bytes(good_truth)
    code, expected, _ = invoke(["score", "--task", task, "--predictions", str(plain[0]), "--truth", str(plain[1]), "--json"], capsys)
    assert code == 0
    files = list(plain)
    for index, role in enumerate(("predictions", "truth")):
        if packed in (role, "both"):
            files[index] = world / "inputs" / (f"{role}.gz" if index == 0 else f"{role}{truth_suffix}")  # truth: no .gz name
            files[index].write_bytes(gzip.compress((good_predictions, good_truth)[index], mtime=0))
    code, out, err = invoke(["score", "--task", task, "--predictions", str(files[0]), "--truth", str(files[1]), "--json"], capsys)
    assert code == 0, err
    assert json.loads(out)["metrics"] == json.loads(expected)["metrics"] and json.loads(out)["metrics"]


def test_score_header_only_truth_is_an_error_for_every_format_not_a_zero(world: Path, capsys):
    """The TREC qrels of the BEIR layout, a qrels file of blank lines, and a header-only truth through the
    task objects too (what the job-free scorer calls)."""
    from benchmarks.errors import DataError
    from benchmarks.registry import get_task

    (world / "inputs" / "run.trec").write_bytes(RUN)
    (world / "inputs" / "qrels.tsv").write_bytes(b"query-id\tcorpus-id\tscore\n\n")
    with pytest.raises(DataError, match="header and no judgements"):
        get_task("beir-ndcg10")().score(world / "inputs" / "run.trec", world / "inputs" / "qrels.tsv")
    (world / "inputs" / "qrels.tsv").write_bytes(b"\n\n")
    with pytest.raises(DataError, match="the qrels file is empty"):
        get_task("beir-ndcg10")().score(world / "inputs" / "run.trec", world / "inputs" / "qrels.tsv")
    (world / "inputs" / "truth.csv").write_bytes(b"customer_id,prediction\n")
    (world / "inputs" / "sub.csv").write_bytes(HM_SUBMISSION)
    with pytest.raises(DataError, match="header and no rows"):
        get_task("hm-map12")().score(world / "inputs" / "sub.csv", world / "inputs" / "truth.csv")


# --- run --dataset (a local BEIR-layout collection) ---------------------------------------------------------------

CORPUS = b"".join(json.dumps({"_id": f"d{i}", "title": f"t{i}", "text": f"text {i} apple"}).encode() + b"\n" for i in range(5))
QUERIES = b'{"_id": "q1", "text": "apple"}\n{"_id": "q2", "text": "text 3"}\n'


@dataclass(frozen=True)
class CollectionCase:
    """One bad BEIR-layout folder: ``files`` replaces the good file of that name (None: make it a folder)."""

    id: str
    files: dict[str, bytes | None]
    bad: str
    line: int | None
    words: str


COLLECTION_CASES = [
    CollectionCase("text-null", {"corpus.jsonl": CORPUS + b'{"_id": "d9", "title": "x", "text": null}\n'}, "corpus.jsonl", 6,
                   '"text" is null, expected a string'),
    CollectionCase("title-null", {"corpus.jsonl": b'{"_id": "d9", "title": null, "text": "a"}\n' + CORPUS}, "corpus.jsonl", 1,
                   '"title" is null'),
    CollectionCase("text-number", {"corpus.jsonl": CORPUS + b'{"_id": "d9", "text": 3.5}\n'}, "corpus.jsonl", 6, '"text" is 3.5'),
    CollectionCase("title-object", {"corpus.jsonl": CORPUS + b'{"_id": "d9", "title": {"a": 1}, "text": "b"}\n'}, "corpus.jsonl",
                   6, '"title" is {"a": 1}'),
    CollectionCase("text-bool", {"corpus.jsonl": CORPUS + b'{"_id": "d9", "text": false}\n'}, "corpus.jsonl", 6, '"text" is false'),
    CollectionCase("text-long-list", {"corpus.jsonl": CORPUS + b'{"_id": "d9", "text": [' + b'"w", ' * 3000 + b'"w"]}\n'},
                   "corpus.jsonl", 6, r'"text" is .*characters'),
    CollectionCase("query-text-null", {"queries.jsonl": QUERIES + b'{"_id": "q3", "text": null}\n'}, "queries.jsonl", 3,
                   '"text" is null'),
    CollectionCase("query-text-list", {"queries.jsonl": b'{"_id": "q1", "text": ["apple"]}\n'}, "queries.jsonl", 1, '"text" is'),
    CollectionCase("corpus-empty", {"corpus.jsonl": b""}, "corpus.jsonl", None, r"the file is empty \(0 bytes\)"),
    CollectionCase("corpus-blank", {"corpus.jsonl": b"\n  \n\n"}, "corpus.jsonl", None, "no documents in the file"),
    CollectionCase("queries-empty", {"queries.jsonl": b""}, "queries.jsonl", None, r"the file is empty \(0 bytes\)"),
    CollectionCase("queries-blank", {"queries.jsonl": b"\n"}, "queries.jsonl", None, "no queries in the file"),
    CollectionCase("qrels-empty", {"qrels/test.tsv": b""}, "qrels/test.tsv", None, r"the file is empty \(0 bytes\)"),
    CollectionCase("qrels-header-only", {"qrels/test.tsv": b"query-id\tcorpus-id\tscore\n"}, "qrels/test.tsv", None,
                   "has a header and no judgements"),
    CollectionCase("corpus-folder", {"corpus.jsonl": None}, "corpus.jsonl", None, "is a folder, expected a file"),
    CollectionCase("queries-folder", {"queries.jsonl": None}, "queries.jsonl", None, "is a folder, expected a file"),
    CollectionCase("qrels-folder", {"qrels/test.tsv": None}, "qrels/test.tsv", None, "is a folder, expected a file"),
    CollectionCase("corpus-malformed-line", {"corpus.jsonl": CORPUS + b'{"_id": "d9", "text": \n' + CORPUS}, "corpus.jsonl", 6,
                   "not valid JSON"),
    CollectionCase("queries-malformed-line", {"queries.jsonl": QUERIES + b'{"_id": "q3" "text": "a"}\n'}, "queries.jsonl", 3,
                   "not valid JSON"),
    CollectionCase("corpus-bare-string", {"corpus.jsonl": CORPUS + b'"d9"\n'}, "corpus.jsonl", 6, 'expected an object with an "_id"'),
    CollectionCase("corpus-duplicate-id", {"corpus.jsonl": CORPUS + b'{"_id": "d2", "text": "again"}\n'}, "corpus.jsonl", 6,
                   r"document id 'd2' appears twice \(first on line 3\)"),
    CollectionCase("corpus-gzip-damaged", {"corpus.jsonl": _truncated_gzip(CORPUS)}, "corpus.jsonl", None, "damaged gzip data"),
    CollectionCase("corpus-zip", {"corpus.jsonl": _zip("corpus.jsonl", CORPUS)}, "corpus.jsonl", None, "is a zip archive"),
    CollectionCase("corpus-garbage", {"corpus.jsonl": CORPUS + GARBAGE}, "corpus.jsonl", 6, "not valid UTF-8"),
    CollectionCase("qrels-of-another-corpus", {"qrels/test.tsv": b"q1\tz1\t1\nq2\tz2\t1\n"}, "qrels/test.tsv", None,
                   "none of its 2 judged documents is in corpus.jsonl"),
    CollectionCase("qrels-of-other-queries", {"qrels/test.tsv": b"7\td1\t1\n8\td2\t1\n"}, "qrels/test.tsv", None,
                   "none of its 2 judged query ids is in queries.jsonl"),
    CollectionCase("qrels-long-grade", {"qrels/test.tsv": BEIR_QRELS + f"q1\td1\t{LONG}\n".encode()}, "qrels/test.tsv", 4,
                   "is not a number"),
]


def _collection(folder: Path, files: dict[str, bytes | None]) -> Path:
    (folder / "qrels").mkdir(parents=True)
    for name, content in {"corpus.jsonl": CORPUS, "queries.jsonl": QUERIES, "qrels/test.tsv": BEIR_QRELS, **files}.items():
        if content is None:
            (folder / name).mkdir()
        else:
            (folder / name).write_bytes(content)
    return folder


def _run_dataset(path: Path, world: Path, capsys) -> tuple[int, str, str]:
    return invoke(["run", "--task", "beir-ndcg10", "--dataset", str(path), "--system", "bm25-rank", "--results-dir",
                   str(world / "results"), "--no-isolation", "--quiet"], capsys)


@pytest.mark.parametrize("case", COLLECTION_CASES, ids=[case.id for case in COLLECTION_CASES])
def test_run_dataset_refuses_a_hostile_collection(case: CollectionCase, world: Path, capsys):
    folder = _collection(world / "inputs" / "collection", case.files)
    before = _snapshot(world)
    code, out, err = _run_dataset(folder, world, capsys)
    message = assert_refused(code, err, folder / case.bad, case.line, case.words)
    assert "ZeroDivisionError" not in err and "IsADirectoryError" not in err
    assert len(message) <= len(f"error: {folder / case.bad}, line 99: ") + 400
    assert _snapshot(world) == before  # no record, no leaderboard rewritten, no cache entry, nothing beside the inputs


@pytest.mark.parametrize(("make", "words"), [(lambda path: path.write_bytes(CORPUS), "is a file, expected a folder"),
                                              (_nothing, "no such folder")], ids=["a-file", "missing"])
def test_run_dataset_that_is_not_a_folder(make, words: str, world: Path, capsys):
    path = world / "inputs" / "collection"
    make(path)
    before = _snapshot(world)
    code, _, err = _run_dataset(path, world, capsys)
    assert_refused(code, err, path, None, words)
    assert _snapshot(world) == before


def test_beirs_tolerances_are_kept_and_warned(world: Path):
    """What BEIR's loader tolerates is read, with a count in the collection's warnings: judgements naming
    documents the corpus lacks, judged queries without a text, queries without judgements. A byte-order
    mark is skipped and a gzipped corpus is read."""
    from benchmarks.data.beir import load_beir_folder

    folder = _collection(world / "inputs" / "tolerated", {
        "corpus.jsonl": gzip.compress(b"\xef\xbb\xbf" + CORPUS, mtime=0),
        "queries.jsonl": b"\xef\xbb\xbf" + QUERIES + b'{"_id": "q3", "text": "unjudged"}\n',
        "qrels/test.tsv": BEIR_QRELS + b"q1\tgone\t1\nq9\td1\t1\n",
    })
    said: list[str] = []
    collection = load_beir_folder(folder, cache_dir=None, log=said.append)
    assert collection.corpus.ids == [f"d{i}" for i in range(5)] and collection.corpus.titles[0] == "t0"
    assert set(collection.queries) == {"q1", "q2", "q3"}
    assert collection.qrels == {"q1": {"d2": 1, "gone": 1}, "q2": {"d3": 2}}
    assert collection.warnings == {"qrels_unknown_documents": 1, "qrels_unknown_queries": 1, "queries_without_judgements": 1}
    assert any("not in corpus.jsonl" in line for line in said) and any("have no judgement" in line for line in said)


def test_otto_dataset_that_is_a_folder_or_empty(world: Path, capsys):
    for make, words in ((_folder, "is a folder, expected a file"), (_bytes(b""), r"the file is empty \(0 bytes\)")):
        path = world / "inputs" / f"train-{make.__name__ if hasattr(make, '__name__') else 'x'}.jsonl"
        make(path)
        before = _snapshot(world)
        code, _, err = invoke(["run", "--task", "otto-recall20", "--dataset", str(path), "--system", "otto-popular",
                               "--results-dir", str(world / "results"), "--no-isolation", "--quiet"], capsys)
        assert_refused(code, err, path, None, words)
        assert _snapshot(world) == before


@pytest.mark.integration
def test_a_real_process_prints_one_line_and_no_traceback(tmp_path: Path):
    """The same through ``python -m benchmarks`` in a subprocess: a folder as truth, a damaged gzip run."""
    (tmp_path / "truth").mkdir()
    (tmp_path / "run.trec").write_bytes(_truncated_gzip(RUN))
    (tmp_path / "qrels.txt").write_bytes(QRELS)
    for predictions, truth, task, words in ((HM_SUBMISSION, "truth", "hm-map12", "is a folder"),
                                            (None, "qrels.txt", "beir-ndcg10", "damaged gzip data")):
        if predictions is not None:
            (tmp_path / "p.csv").write_bytes(predictions)
        prediction_file = tmp_path / ("p.csv" if predictions is not None else "run.trec")
        done = subprocess.run([sys.executable, "-m", "benchmarks", "score", "--task", task, "--predictions",
                               str(prediction_file), "--truth", str(tmp_path / truth)], capture_output=True, text=True, cwd=REPO)
        assert done.returncode == 2 and done.stdout == ""
        assert done.stderr.count("\n") == 1 and done.stderr.startswith("error: ") and words in done.stderr, done.stderr


def test_a_text_line_that_starts_like_an_archive_is_text(world: Path, capsys):
    """Archives are told by their full magic bytes: a query id "BZh1" (bzip2's first three bytes and a digit) is text."""
    (world / "inputs" / "run.trec").write_bytes(b"BZh1 Q0 d1 1 3.0 t\nBZh1 Q0 d2 2 2.0 t\n")
    (world / "inputs" / "qrels.txt").write_bytes(b"BZh1 0 d2 1\n")
    code, out, err = invoke(["score", "--task", "beir-ndcg10", "--predictions", str(world / "inputs" / "run.trec"),
                             "--truth", str(world / "inputs" / "qrels.txt"), "--json"], capsys)
    assert code == 0, err
    assert json.loads(out)["metrics"]["mrr@10"] == 0.5
