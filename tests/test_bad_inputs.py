"""A catalogue of malformed input files for every reader: first the retrieval readers (BEIR jsonl and qrels, TREC
runs, qrels and topics, gzipped topics, MS MARCO's collection.tsv, downloads and archives), then the H&M and
OTTO readers (submissions, truth and label files, the competition CSVs, OTTO's train.jsonl).

Each case writes one bad file next to good ones and asserts that the reader raises the expected error
type, that the message names the file and the line (or, for whole-file problems, no line), and that
nothing already written — a record, a leaderboard, a converted collection in the cache — changed,
and nothing new (a partial cache, an extracted file, a temporary file) was left behind.

``CASES`` and ``RECSYS_CASES`` are plain data, so ``summary()`` can count them for results/perf/robustness.md.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import stat
import tarfile
import zipfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from benchmarks.data.beir import load_beir_folder, load_corpus_cached, read_corpus_tsv
from benchmarks.data.download import download, safe_extract
from benchmarks.data.trec import read_qrels, read_topics, read_trec_qrels, read_trec_run
from benchmarks.errors import DataError

GOOD_CORPUS = b"".join(json.dumps({"_id": f"d{i}", "title": f"t{i}", "text": f"text {i}"}).encode() + b"\n" for i in range(4))
GOOD_QUERIES = b'{"_id": "q1", "text": "first"}\n{"_id": "q2", "text": "second"}\n'
GOOD_QRELS = b"query-id\tcorpus-id\tscore\nq1\td1\t1\nq2\td2\t1\n"


@dataclass(frozen=True)
class BadInput:
    """One malformed file and what reading it must say.

    Attributes:
        id: the case's name.
        reader: which reader it exercises (for the summary).
        file: the bad file, relative to the case folder (``beir/...`` for a file of a BEIR folder).
        content: its bytes.
        line: the line the message must name (None: a whole-file problem, no line named).
        message: a regular expression the message must contain.
        read: reads the bad file: ``read(path of the bad file, case folder, cache folder)``.
    """

    id: str
    reader: str
    file: str
    content: bytes
    line: int | None
    message: str
    read: Callable[[Path, Path, Path], object]
    error: type[Exception] = DataError


def _beir(path: Path, folder: Path, cache: Path) -> object:
    return load_beir_folder(folder / "beir", cache_dir=cache)


def _file(reader: Callable[[Path], object]) -> Callable[[Path, Path, Path], object]:
    return lambda path, folder, cache: reader(path)


def _gz(text: bytes) -> bytes:
    return gzip.compress(text, mtime=0)


def _zip(entries: list[tuple[str, bytes, int | None]]) -> bytes:
    """A zip of ``(name, data, unix mode or None)`` entries; a mode with S_IFLNK makes a symbolic link."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as bundle:
        for name, data, mode in entries:
            info = zipfile.ZipInfo(name)
            if mode is not None:
                info.external_attr = mode << 16
            bundle.writestr(info, data)
    return buffer.getvalue()


def _tar_with_outward_link() -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as bundle:
        info = tarfile.TarInfo("scifact/link")
        info.type = tarfile.SYMTYPE
        info.linkname = "../../../etc/passwd"
        bundle.addfile(info)
    return buffer.getvalue()


def _extract(path: Path, folder: Path, cache: Path) -> object:
    return safe_extract(path, cache / "beir")


def _download_with_wrong_checksum(path: Path, folder: Path, cache: Path) -> object:
    return download(path.as_uri(), cache / "downloads" / "collection.tar", sha256="0" * 64)


def _corpus_tsv_cached(path: Path, folder: Path, cache: Path) -> object:
    return load_corpus_cached(path, cache)


CASES: list[BadInput] = [
    # BEIR corpus.jsonl (read through load_beir_folder, which would convert it into the cache)
    BadInput("corpus-truncated-json", "beir corpus.jsonl", "beir/corpus.jsonl", GOOD_CORPUS[:-20] + b"\n", 4,
             r"not valid JSON", _beir),
    BadInput("corpus-latin1-byte", "beir corpus.jsonl", "beir/corpus.jsonl",
             GOOD_CORPUS + '{"_id": "d9", "text": "café"}\n'.encode("latin-1"), 5, r"byte 0xe9 at column \d+ is not valid UTF-8",
             _beir),
    BadInput("corpus-array-line", "beir corpus.jsonl", "beir/corpus.jsonl", GOOD_CORPUS + b'["d9", "text"]\n', 5,
             r'expected an object with an "_id" field', _beir),
    BadInput("corpus-no-id", "beir corpus.jsonl", "beir/corpus.jsonl", b'{"_id": "d0", "text": "a"}\n{"text": "b"}\n', 2,
             r'expected an object with an "_id" field', _beir),
    BadInput("corpus-duplicate-id", "beir corpus.jsonl", "beir/corpus.jsonl", GOOD_CORPUS + b'{"_id": "d1", "text": "x"}\n', 5,
             r"document id 'd1' appears twice \(first on line 2\)", _beir),
    BadInput("corpus-id-with-space", "beir corpus.jsonl", "beir/corpus.jsonl", b'{"_id": "d 0", "text": "a"}\n', 1,
             r'"_id" \'d 0\' is empty or holds whitespace', _beir),
    BadInput("corpus-null-id", "beir corpus.jsonl", "beir/corpus.jsonl", GOOD_CORPUS + b'{"_id": null, "text": "a"}\n', 5,
             r'"_id" must be a string or a number', _beir),
    BadInput("corpus-no-text", "beir corpus.jsonl", "beir/corpus.jsonl", GOOD_CORPUS + b'{"_id": "d8", "body": "a"}\n', 5,
             r'document \'d8\' has neither "text" nor "title"', _beir),
    # BEIR queries.jsonl
    BadInput("queries-duplicate-id", "beir queries.jsonl", "beir/queries.jsonl",
             GOOD_QUERIES + b"\n" + b'{"_id": "q1", "text": "again"}\n', 4, r"query id 'q1' appears twice \(first on line 1\)",
             _beir),
    BadInput("queries-cp1252-quote", "beir queries.jsonl", "beir/queries.jsonl",
             GOOD_QUERIES + '{"_id": "q3", "text": "it’s"}\n'.encode("cp1252"), 3, r"byte 0x92 at column \d+", _beir),
    BadInput("queries-no-text", "beir queries.jsonl", "beir/queries.jsonl", b'{"_id": "q1", "text": "a"}\n{"_id": "q2"}\n', 2,
             r"query 'q2' has no \"text\" field", _beir),
    BadInput("queries-not-json", "beir queries.jsonl", "beir/queries.jsonl", b"q1\tfirst\n", 1, r"not valid JSON", _beir),
    BadInput("queries-empty-id", "beir queries.jsonl", "beir/queries.jsonl", GOOD_QUERIES + b'{"_id": "", "text": "x"}\n', 3,
             r'"_id" \'\' is empty or holds whitespace', _beir),
    # BEIR qrels/<split>.tsv
    BadInput("beir-qrels-two-columns", "beir qrels tsv", "beir/qrels/test.tsv", GOOD_QRELS + b"q2\td3\n", 4,
             r"expected 3 tab-separated columns", _beir),
    BadInput("beir-qrels-word-grade", "beir qrels tsv", "beir/qrels/test.tsv", GOOD_QRELS + b"q2\td3\trelevant\n", 4,
             r"relevance 'relevant' is not a number", _beir),
    BadInput("beir-qrels-fractional-grade", "beir qrels tsv", "beir/qrels/test.tsv", GOOD_QRELS + b"q2\td3\t0.5\n", 4,
             r"relevance '0.5' is not an integer grade", _beir),
    BadInput("beir-qrels-latin1", "beir qrels tsv", "beir/qrels/test.tsv", GOOD_QRELS + "q2\tdé\t1\n".encode("latin-1"), 4,
             r"byte 0xe9 at column 5 is not valid UTF-8", _beir),
    BadInput("beir-qrels-id-with-space", "beir qrels tsv", "beir/qrels/test.tsv", GOOD_QRELS + b"q 2\td3\t1\n", 4,
             r"holds whitespace", _beir),
    # TREC qrels
    BadInput("trec-qrels-five-columns", "trec qrels", "qrels.txt", b"1 0 d1 1\n1 0 d2 1 extra\n", 2,
             r"expected 4 columns 'qid iteration docid relevance', found 5", _file(read_trec_qrels)),
    BadInput("trec-qrels-latin1", "trec qrels", "qrels.txt", "1 0 d\xe9 1\n".encode("latin-1"), 1, r"byte 0xe9",
             _file(read_qrels)),
    BadInput("qrels-neither-format", "trec qrels", "qrels.txt", b"1 d1\n", 1, r"not a qrels file", _file(read_qrels)),
    BadInput("qrels-empty", "trec qrels", "qrels.txt", b"\n\n", None, r"the qrels file is empty", _file(read_qrels)),
    # TREC runs
    BadInput("run-five-columns", "trec run", "run.trec", b"q1 Q0 d1 1 3.0 t\nq1 Q0 d2 2 t\n", 2, r"expected 6 columns",
             _file(read_trec_run)),
    BadInput("run-nan-score", "trec run", "run.trec", b"q1 Q0 d1 1 nan t\n", 1, r"score 'nan' is not finite",
             _file(read_trec_run)),
    BadInput("run-word-score", "trec run", "run.trec", b"q1 Q0 d1 1 3.0 t\nq1 Q0 d2 2 high t\n", 2,
             r"score 'high' is not a number", _file(read_trec_run)),
    BadInput("run-duplicate-doc", "trec run", "run.trec", b"q1 Q0 d1 1 3.0 t\nq1 Q0 d2 2 2.0 t\nq1 Q0 d1 3 1.0 t\n", 3,
             r"document 'd1' appears twice for query 'q1' \(first on line 1\)", _file(read_trec_run)),
    BadInput("run-invalid-utf8", "trec run", "run.trec", b"q1 Q0 d1 1 3.0 t\nq1 Q0 d\xc3\x28 2 2.0 t\n", 2,
             r"byte 0xc3 at column 8", _file(read_trec_run)),
    # Topics (plain and gzipped)
    BadInput("topics-no-tab", "topics", "topics.tsv", b"1\tfirst\n2 second\n", 2, r"expected 'qid<TAB>query text'",
             _file(read_topics)),
    BadInput("topics-duplicate-id", "topics", "topics.tsv", b"1\tfirst\n2\tsecond\n1\tthird\n", 3,
             r"query id '1' appears twice \(first on line 1\)", _file(read_topics)),
    BadInput("topics-gz-latin1", "topics", "topics.tsv.gz", _gz("1\tfirst\n2\tna\xefve\n".encode("latin-1")), 2,
             r"byte 0xef at column 5", _file(read_topics)),
    BadInput("topics-gz-truncated", "topics", "topics.tsv.gz", _gz(b"1\tfirst\n2\tsecond\n" * 50)[:-30], None,
             r"damaged gzip data", _file(read_topics)),
    # MS MARCO collection.tsv (read once, then cached as Parquet)
    BadInput("collection-no-tab", "collection.tsv", "collection.tsv", b"1\tfirst passage\n2 second passage\n", 2,
             r"expected 'id<TAB>text'", _file(read_corpus_tsv)),
    BadInput("collection-duplicate-id", "collection.tsv", "collection.tsv", b"1\ta\n2\tb\n1\tc\n", 3,
             r"document id '1' appears twice \(first on line 1\)", _corpus_tsv_cached),
    BadInput("collection-latin1", "collection.tsv", "collection.tsv", "1\tcaf\xe9\n".encode("latin-1"), 1,
             r"byte 0xe9 at column 6", _corpus_tsv_cached),
    # Downloads and archives
    BadInput("zip-symlinked-folder", "archive", "scifact.zip",
             _zip([("scifact/corpus.jsonl", GOOD_CORPUS, None), ("data", b"scifact", stat.S_IFLNK | 0o777),
                   ("data/qrels/test.tsv", GOOD_QRELS, None)]), None, r"member 'data' is a symbolic link", _extract),
    BadInput("zip-file-and-folder", "archive", "scifact.zip",
             _zip([("scifact/corpus.jsonl", GOOD_CORPUS, None), ("scifact/qrels", b"x", None),
                   ("scifact/qrels/test.tsv", GOOD_QRELS, None)]), None, r"'scifact/qrels' is both a file and a folder",
             _extract),
    BadInput("zip-slip", "archive", "scifact.zip", _zip([("scifact/ok.txt", b"x", None), ("../../escaped.txt", b"x", None)]),
             None, r"would be extracted outside", _extract),
    BadInput("tar-outward-link", "archive", "scifact.tar", _tar_with_outward_link(), None, r"points outside", _extract),
    BadInput("not-an-archive", "archive", "scifact.zip", b"<html>404 Not Found</html>\n", None,
             r"not a zip or tar archive", _extract),
    BadInput("download-wrong-checksum", "download", "collection.tar", b"some bytes", None,
             r"collection.tar: the download from file://\S+ has sha256 \w+, expected 0{64}", _download_with_wrong_checksum),
]


def summary() -> Counter:
    """How many bad-input cases each reader has (both parts of the catalogue)."""
    found = Counter(case.reader for case in CASES)
    found.update(case.reader.__name__.replace("_", " ") for case in RECSYS_CASES)
    return found


def _snapshot(root: Path, skip: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "folder"
            for p in sorted(root.rglob("*")) if skip not in (p, *p.parents)}


@pytest.fixture(scope="module")
def written(tmp_path_factory) -> Path:
    """What a user already has: a record, a leaderboard, and a converted collection in the cache."""
    root = tmp_path_factory.mktemp("written")
    good = root / "good-beir"
    (good / "qrels").mkdir(parents=True)
    (good / "corpus.jsonl").write_bytes(GOOD_CORPUS)
    (good / "queries.jsonl").write_bytes(GOOD_QUERIES)
    (good / "qrels" / "test.tsv").write_bytes(GOOD_QRELS)
    load_beir_folder(good, cache_dir=root / "cache")
    (root / "cache" / "beir" / "scifact").mkdir(parents=True)
    (root / "cache" / "beir" / "scifact" / "corpus.jsonl").write_bytes(GOOD_CORPUS)
    (root / "results" / "records" / "beir-ndcg10" / "bm25s").mkdir(parents=True)
    (root / "results" / "records" / "beir-ndcg10" / "bm25s" / "r1__seed0.json").write_text('{"metrics": {"ndcg@10": 0.5}}')
    (root / "results" / "beir-ndcg10.md").write_text("# beir-ndcg10\n")
    return root


def test_the_catalogue_is_large_enough():
    assert len(CASES) >= 25 and len({case.id for case in CASES}) == len(CASES)
    assert sum(1 for case in CASES if case.line is not None) >= 25


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_bad_input_gives_a_clear_error_and_changes_nothing(case: BadInput, written: Path, tmp_path: Path):
    world = tmp_path / "world"
    import shutil

    shutil.copytree(written, world, symlinks=True)
    folder = world / "inputs"
    (folder / "beir" / "qrels").mkdir(parents=True)
    (folder / "beir" / "corpus.jsonl").write_bytes(GOOD_CORPUS)
    (folder / "beir" / "queries.jsonl").write_bytes(GOOD_QUERIES)
    (folder / "beir" / "qrels" / "test.tsv").write_bytes(GOOD_QRELS)
    bad = folder / case.file
    bad.write_bytes(case.content)
    before = _snapshot(world, skip=folder)

    with pytest.raises(case.error) as caught:
        case.read(bad, folder, world / "cache")

    message = str(caught.value)
    assert type(caught.value) is case.error
    assert bad.name in message, message
    if case.line is not None:
        assert f"{bad.name}, line {case.line}: " in message, message
    else:
        assert ", line " not in message, message
    assert __import__("re").search(case.message, message), message
    assert ".part" not in message and "Traceback" not in message
    assert _snapshot(world, skip=folder) == before  # nothing written before changed, nothing new left behind
    assert not (tmp_path / "escaped.txt").exists() and not (world / "escaped.txt").exists()


# --- H&M and OTTO readers -----------------------------------------------------------------------------------------

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
    from benchmarks.data.otto_events import convert_jsonl

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
class RecsysBadInput:
    id: str
    reader: Callable[[Path, Path], None]
    name: str
    content: bytes
    line: int
    words: str


RECSYS_CASES = [
    # H&M submissions and truth files (score --task hm-map12)
    RecsysBadInput("hm-sub-not-utf8", hm_score, "submission.csv", b"customer_id,prediction\nc1,0108775015\nc\xff2,0108775044\n", 3,
         "byte 0xff at column 2 is not valid UTF-8"),
    RecsysBadInput("hm-sub-header", hm_score, "submission.csv", b"customer,prediction\nc1,0108775015\n", 1, "expected 'customer_id,prediction'"),
    RecsysBadInput("hm-sub-three-fields", hm_score, "submission.csv", b"customer_id,prediction\nc1,0108775015,x\n", 2, "found 3"),
    RecsysBadInput("hm-sub-twice", hm_score, "submission.csv", b"customer_id,prediction\nc1,a\nc2,b\nc1,c\n", 4, "listed twice"),
    RecsysBadInput("hm-sub-empty-customer", hm_score, "submission.csv", b"customer_id,prediction\n ,0108775015\n", 2, "empty customer_id"),
    RecsysBadInput("hm-sub-extra-column", hm_score, "submission.csv", b"customer_id,prediction,score\nc1,a,1\n", 1, "header is"),
    RecsysBadInput("hm-sub-one-field", hm_score, "submission.csv", b"customer_id,prediction\nc1,a\nc2\n", 3, "found 1"),
    RecsysBadInput("hm-truth-latin1", hm_score_truth, "truth.csv", "customer_id,prediction\nc\xe9,0108775015\n".encode("latin-1"), 2,
         "byte 0xe9 at column 2 is not valid UTF-8"),
    # H&M competition files (run --task hm-map12 --dataset FOLDER)
    RecsysBadInput("hm-transactions-not-utf8", hm_load, "transactions_train.csv",
         b"t_dat,customer_id,article_id,price\n2020-09-01,c1,0108775015,0.01\n2020-09-02,c\xfe1,0108775015,0.01\n", 3,
         "byte 0xfe at column 13 is not valid UTF-8"),
    RecsysBadInput("hm-transactions-date", hm_load, "transactions_train.csv",
         b"t_dat,customer_id,article_id,price\n2020-09-01,c1,0108775015,0.01\n2020-13-45,c1,0108775015,0.01\n", 3, "is not a date"),
    # OTTO labels (score --task otto-recall20 --truth test_labels.jsonl)
    RecsysBadInput("otto-labels-not-utf8", otto_score_labels, "test_labels.jsonl",
         OTTO_LABELS + b'{"session": 3, "labels": {"clicks": 5}}\xc3\n', 3, "byte 0xc3 at column 40 is not valid UTF-8"),
    RecsysBadInput("otto-labels-string-aid", otto_score_labels, "test_labels.jsonl",
         b'{"session": 1, "labels": {"clicks": 2}}\n{"session": 2, "labels": {"carts": ["7"]}}\n', 2, "labels.carts"),
    RecsysBadInput("otto-labels-session-twice", otto_score_labels, "test_labels.jsonl", OTTO_LABELS + b'{"session": 1, "labels": {}}\n', 3,
         "session 1 appears twice"),
    RecsysBadInput("otto-labels-aid-too-big", otto_score_labels, "test_labels.jsonl", b'{"session": 1, "labels": {"clicks": 2147483648}}\n', 1,
         "labels.clicks"),
    RecsysBadInput("otto-labels-truncated", otto_score_labels, "test_labels.jsonl", OTTO_LABELS + b'{"session": 3, "labels": {"cl\n', 3,
         "not valid JSON"),
    RecsysBadInput("otto-labels-huge-integer", otto_score_labels, "test_labels.jsonl",
         b'{"session": 1, "labels": {"clicks": ' + b"9" * 5000 + b"}}\n", 1, "not valid JSON"),
    RecsysBadInput("otto-labels-bare-null", otto_score_labels, "test_labels.jsonl", b"null\n" + OTTO_LABELS, 1,
         "expected an object with 'session' and 'labels'"),  # pyarrow 26's JSON reader segfaults on it: never shown it
    RecsysBadInput("otto-labels-bool", otto_score_labels, "test_labels.jsonl", b'{"session": 1, "labels": {"clicks": true}}\n', 1,
         "labels.clicks is True"),
    # OTTO submissions (score --task otto-recall20 --predictions submission.csv)
    RecsysBadInput("otto-sub-superscript-session", otto_score_submission, "submission.csv", "session_type,labels\n²_clicks,1\n".encode(), 2,
         "expected '<session>_<clicks|carts|orders>,'"),
    RecsysBadInput("otto-sub-superscript-aid", otto_score_submission, "submission.csv", "session_type,labels\n1_clicks,5 ²\n".encode(), 2,
         "space-separated integer aids"),
    RecsysBadInput("otto-sub-not-utf8", otto_score_submission, "submission.csv", OTTO_SUBMISSION + b"2_clicks,1 \x80\n", 5,
         "byte 0x80 at column 12 is not valid UTF-8"),
    RecsysBadInput("otto-sub-two-underscores", otto_score_submission, "submission.csv", OTTO_SUBMISSION + b"2_carts_orders,3\n", 5,
         "expected '<session>_<clicks|carts|orders>,'"),
    RecsysBadInput("otto-sub-two-commas", otto_score_submission, "submission.csv", OTTO_SUBMISSION + b"2_clicks,3,4\n3_clicks\n", 5,
         "space-separated integer aids"),
    RecsysBadInput("otto-sub-word-aid", otto_score_submission, "submission.csv", b"session_type,labels\n1_clicks,5 x\n", 2,
         "space-separated integer aids"),
    RecsysBadInput("otto-sub-negative-aid", otto_score_submission, "submission.csv", b"session_type,labels\n1_clicks,-5\n", 2,
         "space-separated integer aids"),
    RecsysBadInput("otto-sub-twice", otto_score_submission, "submission.csv", OTTO_SUBMISSION + b"1_carts,8\n", 5, "1_carts appears twice"),
    RecsysBadInput("otto-sub-header", otto_score_submission, "submission.csv", b"session,labels\n1_clicks,5\n", 1, "expected 'session_type,labels'"),
    # OTTO sessions (run --task otto-recall20 --dataset train.jsonl)
    RecsysBadInput("otto-jsonl-not-utf8", otto_convert, "train.jsonl", EVENTS + b'{"session": 1, "events": [' + EVENT[:-1] + b', "x": "\xff"}]}\n',
         2, "byte 0xff at column"),
    RecsysBadInput("otto-jsonl-after-2038", otto_convert, "train.jsonl", EVENTS.replace(b"1659304800", b"2200000000"), 1, "after 2038-01-19"),
    RecsysBadInput("otto-jsonl-empty-events", otto_convert, "train.jsonl", EVENTS + b'{"session": 1, "events": []}\n', 2, "non-empty list"),
    RecsysBadInput("otto-jsonl-mixed-units", otto_convert, "train.jsonl", EVENTS + EVENTS.replace(b"1659304800", b"1659304800000"), 2,
         "in ms, but earlier"),
    RecsysBadInput("otto-jsonl-deep-nesting", otto_convert, "train.jsonl", EVENTS + b"[" * 100_000 + b"]" * 100_000 + b"\n", 2,
         "not valid JSON"),
    RecsysBadInput("otto-jsonl-bare-null", otto_convert, "train.jsonl", b"null\n" + EVENTS, 1, "expected an object with 'session' and 'events'"),
    RecsysBadInput("otto-jsonl-float-aid", otto_convert, "train.jsonl", EVENTS.replace(b'"aid": 1', b'"aid": 1.0'), 1, "expected an integer"),
]


def _snapshot_folder(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("case", RECSYS_CASES, ids=[case.id for case in RECSYS_CASES])
def test_bad_recsys_input_is_a_clear_error(tmp_path: Path, case: RecsysBadInput):
    for name, content in GOOD_FILES[case.reader].items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(content)
    bad = tmp_path / case.name
    bad.write_bytes(case.content)
    before = _snapshot_folder(tmp_path)
    with pytest.raises(DataError) as error:
        case.reader(tmp_path, bad)
    message = str(error.value)
    assert type(error.value) is DataError
    assert case.name in message and f"line {case.line}:" in message and error.value.line == case.line, message
    assert case.words in message, message
    assert _snapshot_folder(tmp_path) == before


def test_the_recsys_catalogue_is_large_enough():
    assert len(RECSYS_CASES) >= 15 and len({case.id for case in RECSYS_CASES}) == len(RECSYS_CASES)
