"""Readers and writers for TREC files: qrels (``qid 0 docid rel``), runs (``qid Q0 docid rank score tag``)
and topics (``qid<TAB>text``), plus a reader that accepts TREC or BEIR qrels; the first malformed line is a
DataError naming the file and the line."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

from benchmarks.data.textfile import first_seen, is_token, iter_lines
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
        if not _is_number(value):
            raise DataError(path, f"relevance {quote(value)} is not a number", line=number) from None
        if not float(value).is_integer():
            raise DataError(path, f"relevance {quote(value)} is not an integer grade", line=number) from None
        return int(float(value))


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
    """Read BEIR qrels (``query-id<TAB>corpus-id<TAB>score``) into ``{qid: {docid: grade}}``. A first line whose third
    column is not a number is the header (BEIR writes one; some subsets do not, and BEIR's own loader then drops
    their first judgment, which we keep)."""
    qrels: Qrels = {}
    for index, (number, line) in enumerate(_lines(path)):
        parts = line.split("\t")
        if index == 0 and len(parts) == 3 and not _is_number(parts[2]):
            continue  # the header
        if len(parts) != 3:
            raise DataError(path, f"expected 3 tab-separated columns 'query-id corpus-id score', found {len(parts)}", line=number)
        qid, docid, grade = (part.strip() for part in parts)
        if not qid or not docid:
            raise DataError(path, "empty query-id or corpus-id", line=number)
        if not is_token(qid) or not is_token(docid):
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
    """Read a TREC run (``qid Q0 docid rank score tag`` per line) into ``{qid: {docid: score}}``. The rank column is
    ignored, as trec_eval ignores it (order comes from the score). A doc id listed twice for one query is refused:
    trec_eval would silently count it twice."""
    run: Run = {}
    first_lines: dict[tuple[str, str], int] = {}
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
        first = first_lines.setdefault((qid, docid), number)
        if first != number:
            raise DataError(path, f"document {quote(docid)} appears twice for query {quote(qid)} "
                            f"(first on line {first})", line=number, hint="a run may list each document once per query")
        run.setdefault(qid, {})[docid] = score
    return run


def _check_id(kind: str, value: str) -> str:
    if not is_token(value):
        raise ValueError(f"{kind} {value!r} is empty or holds whitespace: a TREC file cannot hold it")
    return value


def write_trec_run(run: Run, path: Path, tag: str = "mlsd") -> Path:
    """Write ``run`` as a TREC run file at ``path`` (returned), each query's documents ranked as trec_eval ranks them.
    Scores are written with ``repr`` so they read back bit for bit; queries are in sorted order; whitespace in
    ``tag`` (the last column) becomes ``_``; an id that is empty or holds whitespace is a ValueError."""
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
    """Write ``qrels`` as TREC qrels (``qid 0 docid grade``), queries and documents in sorted order."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as out:
        for qid in sorted(qrels):
            for docid in sorted(qrels[qid]):
                out.write(f"{_check_id('query id', qid)} 0 {_check_id('document id', docid)} {int(qrels[qid][docid])}\n")
    return path


def read_topics(path: Path) -> dict[str, str]:
    """Read topics, ``qid<TAB>text`` lines (Anserini's ``.tsv``/``.txt``, optionally gzipped), into ``{qid: text}``."""
    topics: dict[str, str] = {}
    first_line: dict[str, int] = {}
    for number, line in _lines(path):
        qid, tab, text = line.partition("\t")
        qid = qid.strip()
        if not tab or not qid:
            raise DataError(path, "expected 'qid<TAB>query text'", line=number)
        first_seen(first_line, qid, number, path, "query id")
        topics[qid] = text.strip()
    return topics
