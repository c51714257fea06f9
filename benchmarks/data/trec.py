"""Readers and writers for TREC files: qrels (``qid 0 docid rel``), runs (``qid Q0 docid rank score tag``)
and topics (``qid<TAB>text``, plain or gzipped), plus a reader that accepts TREC or BEIR qrels.

Every reader fails on the first malformed line with a DataError naming the file and the line (bytes
that are not UTF-8 included: the byte is named too).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

from benchmarks.data.textfile import iter_lines
from benchmarks.errors import DataError, quote

Qrels = dict[str, dict[str, int]]
"""``{query id: {doc id: relevance grade}}``."""
Run = dict[str, dict[str, float]]
"""``{query id: {doc id: score}}``."""


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    """``(line number, line without its end)`` for the non-blank lines of a text file (plain or gzipped)."""
    for number, line in iter_lines(Path(path)):
        if line.strip():
            yield number, line


def _grade(path: Path, number: int, value: str) -> int:
    try:
        return int(value)
    except ValueError:
        try:
            as_float = float(value)
        except ValueError:
            raise DataError(path, f"relevance {quote(value)} is not a number", line=number) from None
        if not as_float.is_integer():
            raise DataError(path, f"relevance {quote(value)} is not an integer grade", line=number) from None
        return int(as_float)


def read_trec_qrels(path: Path) -> Qrels:
    """Read a TREC qrels file (``qid iteration docid relevance`` per line, whitespace-separated) into
    ``{qid: {docid: grade}}``; a repeated (qid, docid) keeps the last grade, as trec_eval does."""
    qrels: Qrels = {}
    for number, line in _lines(path):
        parts = line.split()
        if len(parts) != 4:
            raise DataError(path, f"expected 4 columns 'qid iteration docid relevance', found {len(parts)}", line=number)
        qid, _, docid, grade = parts
        qrels.setdefault(qid, {})[docid] = _grade(path, number, grade)
    return qrels


def read_beir_qrels(path: Path) -> Qrels:
    """Read BEIR qrels (``query-id<TAB>corpus-id<TAB>score``) into ``{qid: {docid: grade}}``.

    A first line whose third column is not a number is taken as the header (BEIR writes one;
    some subsets do not, and BEIR's own loader then drops their first judgment — we do not).
    """
    qrels: Qrels = {}
    first = True
    for number, line in _lines(path):
        parts = line.split("\t")
        if first:
            first = False
            if len(parts) == 3 and not _is_number(parts[2]):
                continue  # the header
        if len(parts) != 3:
            raise DataError(path, f"expected 3 tab-separated columns 'query-id corpus-id score', found {len(parts)}", line=number)
        qid, docid, grade = (part.strip() for part in parts)
        if not qid or not docid:
            raise DataError(path, "empty query-id or corpus-id", line=number)
        if len(qid.split()) != 1 or len(docid.split()) != 1:
            raise DataError(path, f"query-id {quote(qid)} or corpus-id {quote(docid)} holds whitespace", line=number)
        qrels.setdefault(qid, {})[docid] = _grade(path, number, grade)
    return qrels


def _is_number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


def read_qrels(path: Path) -> Qrels:
    """Read qrels in TREC (4 columns) or BEIR (3 tab-separated columns) format, decided by the first line."""
    for number, line in _lines(path):
        columns = len(line.split("\t")) if "\t" in line else len(line.split())
        if columns == 3:
            return read_beir_qrels(path)
        if len(line.split()) == 4:
            return read_trec_qrels(path)
        raise DataError(path, f"not a qrels file: expected 4 columns (TREC) or 3 tab-separated columns (BEIR), found {columns}", line=number)
    raise DataError(path, "the qrels file is empty")


def read_trec_run(path: Path) -> Run:
    """Read a TREC run (``qid Q0 docid rank score tag`` per line) into ``{qid: {docid: score}}``.

    The rank column is ignored (trec_eval ignores it too; order comes from the score).

    Raises:
        DataError: a line without 6 columns, a score that is not a finite number, or a doc id
            listed twice for the same query (trec_eval would silently count it twice).
    """
    run: Run = {}
    first_seen: dict[tuple[str, str], int] = {}
    for number, line in _lines(path):
        parts = line.split()
        if len(parts) != 6:
            raise DataError(path, f"expected 6 columns 'qid Q0 docid rank score tag', found {len(parts)}", line=number)
        qid, _, docid, _, score_text, _ = parts
        try:
            score = float(score_text)
        except ValueError:
            raise DataError(path, f"score {quote(score_text)} is not a number", line=number) from None
        if not math.isfinite(score):
            raise DataError(path, f"score {quote(score_text)} is not finite", line=number)
        key = (qid, docid)
        if key in first_seen:
            raise DataError(
                path, f"document {quote(docid)} appears twice for query {quote(qid)} (first on line {first_seen[key]})", line=number,
                hint="a run may list each document once per query",
            )
        first_seen[key] = number
        run.setdefault(qid, {})[docid] = score
    return run


def _check_id(kind: str, value: str) -> str:
    if not value or len(value.split()) != 1 or value != value.strip():
        raise ValueError(f"{kind} {value!r} is empty or holds whitespace: a TREC file cannot hold it")
    return value


def write_trec_run(run: Run, path: Path, tag: str = "mlsd") -> Path:
    """Write ``run`` as a TREC run file at ``path`` (returned), each query's documents ranked as trec_eval ranks them.

    Scores are written with ``repr`` so they read back bit for bit; queries are in sorted order; whitespace in
    ``tag`` (the last column) becomes ``_``.

    Raises:
        ValueError: an id that is empty or holds whitespace (the format splits on whitespace).
    """
    from benchmarks.metrics.retrieval import trec_order

    tag = "_".join(tag.split()) or "run"
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as out:
        for qid in sorted(run):
            _check_id("query id", qid)
            for rank, (docid, score) in enumerate(trec_order(run[qid]), start=1):
                out.write(f"{qid} Q0 {_check_id('document id', docid)} {rank} {float(score)!r} {tag}\n")
    return path


def write_trec_qrels(qrels: Qrels, path: Path) -> Path:
    """Write ``qrels`` as TREC qrels (``qid 0 docid grade``), queries and documents in sorted order.

    Raises:
        ValueError: an id that is empty or holds whitespace.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as out:
        for qid in sorted(qrels):
            for docid in sorted(qrels[qid]):
                out.write(f"{_check_id('query id', qid)} 0 {_check_id('document id', docid)} {int(qrels[qid][docid])}\n")
    return path


def read_topics(path: Path) -> dict[str, str]:
    """Read topics, ``qid<TAB>text`` lines (Anserini's ``.tsv``/``.txt``, optionally gzipped), into ``{qid: text}``.

    Raises:
        DataError: a line without a tab, or a query id given twice (both lines named).
    """
    topics: dict[str, str] = {}
    first_line: dict[str, int] = {}
    for number, line in _lines(path):
        qid, tab, text = line.partition("\t")
        qid = qid.strip()
        if not tab or not qid:
            raise DataError(path, "expected 'qid<TAB>query text'", line=number)
        if qid in first_line:
            raise DataError(path, f"query id {quote(qid)} appears twice (first on line {first_line[qid]})", line=number)
        first_line[qid] = number
        topics[qid] = text.strip()
    return topics
