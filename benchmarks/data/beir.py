"""BEIR-layout collections: reading ``corpus.jsonl``/``queries.jsonl``/``qrels/<split>.tsv``, fetching the
official BEIR archives, and caching each collection once in a fast on-disk form (Parquet + JSON).

Layout of a BEIR folder::

    corpus.jsonl     {"_id": ..., "title": ..., "text": ...} per line
    queries.jsonl    {"_id": ..., "text": ...} per line
    qrels/test.tsv   query-id<TAB>corpus-id<TAB>score (header line optional)

Stricter than BEIR's ``GenericDataLoader`` where it would go on silently: a ``text`` or ``title`` that is null or
not a string, a repeated id, an empty file, or a folder where a file belongs is an error naming the file (and the
line). Tolerated as BEIR tolerates them, with a warning: judgements naming documents the corpus lacks (relevant
but unretrievable), judged queries without a text (dropped), and queries without judgements (not evaluated).
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.data.download import download, fingerprint, locate, safe_extract, sha256_file, source_key
from benchmarks.data.textfile import check_input_file, first_seen, is_token, iter_lines, parse_jsonl
from benchmarks.data.trec import Qrels, read_beir_qrels
from benchmarks.errors import QUOTE_LIMIT, DataError, UserError, quote
from benchmarks.kinds.retriever import Corpus

HAVE_PYARROW = importlib.util.find_spec("pyarrow") is not None  # the converted cache needs it
BEIR_URL = "https://public.ukp.informatik.tu-darmstadt.de/thakur/BEIR/datasets/{name}.zip"

BEIR_MD5: dict[str, str] = {  # the md5 of each official archive, as published in BEIR's dataset table
    "msmarco": "444067daf65d982533ea17ebd59501e4",
    "trec-covid": "ce62140cb23feb9becf6270d0d1fe6d1",
    "nfcorpus": "a89dba18a62ef92f7d323ec890a0d38d",
    "nq": "d4d3d2e48787a744b6f6e691ff534307",
    "hotpotqa": "f412724f78b0d91183a0e86805e16114",
    "fiqa": "17918ed23cd04fb15047f73e6c3bd9d9",
    "arguana": "8ad3e3c2a5867cdced806d6503f29b99",
    "webis-touche2020": "46f650ba5a527fc69e0a6521c5a23563",
    "quora": "18fb154900ba42a600f84b839c173167",
    "dbpedia-entity": "c2a39eb420a3164af735795df012ac2c",
    "scidocs": "38121350fc3a4d2f48850f6aff52e4a9",
    "fever": "5a818580227bfb4b35bb6fa46d9b6c03",
    "climate-fever": "8b66f0a9126c521bae2bde127b4dc99d",
    "scifact": "5f7d1de60b170fc8027bb7898e2efca1",
}

CACHE_FORMAT = "3"  # bumped when a reader refuses more: a cached conversion of a now-bad file must not be used

SCIFACT_FINGERPRINT = "fbefe63bc709235f78115b599918d6f7571f023326a0d7c32777f838d7fa575d"
"""The record fingerprint of BEIR SciFact (corpus.jsonl, queries.jsonl, qrels/test.tsv): systems declare
expected scores against it."""


@dataclass
class Collection:
    """A corpus, its queries (all of the file: tasks keep the judged ones) and the judgements of one split;
    ``fingerprint`` is a sha256 over the source files, ``warnings`` counts the tolerated problems."""

    name: str
    corpus: Corpus
    queries: dict[str, str]
    qrels: Qrels
    fingerprint: str
    source: str
    warnings: dict[str, int] = field(default_factory=dict)


def _json_preview(value: object) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= QUOTE_LIMIT else quote(text)


def _record_id(path: Path, number: int, record: object, what: str) -> str:
    """The ``_id`` of one JSON line as a string: present, not empty, no whitespace."""
    if not isinstance(record, dict) or "_id" not in record:
        raise DataError(path, f'expected an object with an "_id" field ({what})', line=number)
    value = record["_id"]
    if isinstance(value, (dict, list)) or value is None:
        raise DataError(path, f'"_id" must be a string or a number, found {_json_preview(value)}', line=number)
    text = str(value)
    if not is_token(text):
        raise DataError(path, f'"_id" {quote(text)} is empty or holds whitespace', line=number,
                        hint="ids are written to TREC run files, whose columns are separated by whitespace")
    return text


def read_corpus_jsonl(path: Path) -> Corpus:
    """Read a BEIR ``corpus.jsonl`` (the Corpus has no fingerprint yet)."""
    ids, titles, texts, first_line = [], [], [], {}
    hint = 'each line must be one object like {"_id": "d1", "title": "...", "text": "..."}'
    for number, record in parse_jsonl(iter_lines(path), path, hint):
        docid = _record_id(path, number, record, "a document")
        if "text" not in record and "title" not in record:
            raise DataError(path, f'document {quote(docid)} has neither "text" nor "title"', line=number)
        for name in ("title", "text"):
            _check_text(path, number, record, name, f"document {quote(docid)}")
        first_seen(first_line, docid, number, path, "document id")
        ids.append(docid)
        titles.append(record.get("title", ""))
        texts.append(record.get("text", ""))
    if not ids:
        raise DataError(path, "no documents in the file", hint=hint)
    return Corpus(ids, titles, texts)


def _check_text(path: Path, number: int, record: dict, name: str, what: str) -> None:
    """A ``text``/``title`` field, when present, must be a string (BEIR's loader would pass a null on to the
    retriever, which fails far from the file)."""
    if name in record and not isinstance(record[name], str):
        raise DataError(path, f'{what}: "{name}" is {_json_preview(record[name])}, expected a string', line=number,
                        hint='write "" for an empty one')


def read_queries_jsonl(path: Path) -> dict[str, str]:
    """Read a BEIR ``queries.jsonl`` into ``{qid: text}``."""
    queries: dict[str, str] = {}
    first_line: dict[str, int] = {}
    hint = 'each line must be one object like {"_id": "q1", "text": "..."}'
    for number, record in parse_jsonl(iter_lines(path), path, hint):
        qid = _record_id(path, number, record, "a query")
        if "text" not in record:
            raise DataError(path, f'query {quote(qid)} has no "text" field', line=number)
        _check_text(path, number, record, "text", f"query {quote(qid)}")
        first_seen(first_line, qid, number, path, "query id")
        queries[qid] = record["text"]
    if not queries:
        raise DataError(path, "no queries in the file", hint=hint)
    return queries


def _check_layout(folder: Path, split: str) -> tuple[Path, Path, Path]:
    corpus, queries, qrels = folder / "corpus.jsonl", folder / "queries.jsonl", folder / "qrels" / f"{split}.tsv"
    for path in (corpus, queries, qrels):
        if path.is_dir() or (path.is_file() and path.stat().st_size == 0):
            check_input_file(path)  # a folder where the file belongs, or an empty file: say which
        if not path.is_file():
            have = sorted(p.name for p in (folder / "qrels").glob("*.tsv")) if (folder / "qrels").is_dir() else []
            hint = f"qrels splits here: {', '.join(have)}" if have and path == qrels else (
                "a BEIR folder holds corpus.jsonl, queries.jsonl and qrels/<split>.tsv")
            raise DataError(path, "missing", hint=hint)
    return corpus, queries, qrels


def _checked_qrels(qrels: Qrels, corpus: Corpus, queries: dict[str, str], paths: list[Path],
                   log: Callable[[str], None]) -> tuple[Qrels, dict[str, int]]:
    """The qrels checked against the corpus and queries: refused when empty or of another collection; otherwise kept
    as BEIR keeps them (unknown documents stay, unknown queries go), each tolerance counted and logged."""
    corpus_path, queries_path, qrels_path = paths
    if not qrels:
        raise DataError(qrels_path, "has a header and no judgements" if qrels_path.stat().st_size else "the file is empty",
                        hint="expected lines 'query-id<TAB>corpus-id<TAB>score'")
    known = set(corpus.ids)
    judged_docs = sum(len(j) for j in qrels.values())
    warnings = {
        "qrels_unknown_documents": sum(1 for j in qrels.values() for d in j if d not in known),
        "qrels_unknown_queries": sum(1 for q in qrels if q not in queries),
        "queries_without_judgements": sum(1 for q in queries if q not in qrels),
    }
    if warnings["qrels_unknown_queries"] == len(qrels):
        raise DataError(qrels_path, f"none of its {len(qrels):,} judged query ids is in {queries_path.name} "
                        f"(judged ids look like {quote(sorted(qrels)[:3], 100)}; queries.jsonl has {quote(list(queries)[:3], 100)})",
                        hint="the qrels belong to another collection")
    if warnings["qrels_unknown_documents"] == judged_docs:
        raise DataError(qrels_path, f"none of its {judged_docs:,} judged documents is in {corpus_path.name} "
                        f"(judged ids look like {quote(sorted({d for j in qrels.values() for d in j})[:3], 100)}; "
                        f"the corpus has {quote(corpus.ids[:3], 100)})", hint="the qrels belong to another collection")
    if warnings["qrels_unknown_documents"]:
        log(f"warning: {qrels_path}: {warnings['qrels_unknown_documents']} judgements name documents not in "
            f"{corpus_path.name} (kept: they count as relevant but can never be retrieved, as in BEIR)")
    if warnings["qrels_unknown_queries"]:
        log(f"warning: {qrels_path}: {warnings['qrels_unknown_queries']} judged queries are not in {queries_path.name} "
            "(dropped)")
        qrels = {q: j for q, j in qrels.items() if q in queries}
    if warnings["queries_without_judgements"]:
        log(f"note: {queries_path}: {warnings['queries_without_judgements']} queries have no judgement in {qrels_path.name} "
            "(not evaluated, as in BEIR)")
    return qrels, warnings


def load_beir_folder(folder: Path, split: str = "test", cache_dir: Path | None = None, name: str | None = None,
                     log=lambda message: None) -> Collection:
    """Load a BEIR-layout folder, converting it once into a fast form under ``<cache_dir>/retrieval/<key>/`` (None:
    no caching); ``name`` defaults to the folder's."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(folder, "is a file, expected a folder" if folder.exists() else "no such folder",
                        hint="expected a BEIR-layout folder (corpus.jsonl, queries.jsonl, qrels/)")
    corpus_path, queries_path, qrels_path = _check_layout(folder, split)
    name = name or folder.name
    paths = [corpus_path, queries_path, qrels_path]
    converted = Path(cache_dir) / "retrieval" / source_key(paths, CACHE_FORMAT) if cache_dir is not None and HAVE_PYARROW else None
    if converted is not None and (converted / "meta.json").is_file():
        try:
            return _read_converted(converted, name)
        except Exception as error:  # a damaged cache is rebuilt, never trusted
            log(f"cached copy {converted} unreadable ({error}); converting again")
    log(f"reading {folder} (split {split})")
    corpus = read_corpus_jsonl(corpus_path)
    queries = read_queries_jsonl(queries_path)
    qrels, warnings = _checked_qrels(read_beir_qrels(qrels_path), corpus, queries, paths, log)
    corpus.fingerprint = fingerprint(paths)
    collection = Collection(name, corpus, queries, qrels, corpus.fingerprint, str(folder), warnings)
    if converted is not None:
        try:
            _write_converted(converted, collection)
        except OSError as error:
            log(f"could not cache the converted collection in {converted}: {error}")
    return collection


def _write_converted(target: Path, collection: Collection) -> None:
    import pyarrow.parquet as pq

    target.parent.mkdir(parents=True, exist_ok=True)
    temp = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}."))
    pq.write_table(_corpus_table(collection.corpus), temp / "corpus.parquet")
    meta = {"fingerprint": collection.fingerprint, "source": collection.source, "warnings": collection.warnings,
            "format": CACHE_FORMAT}
    for part, value in (("queries", collection.queries), ("qrels", collection.qrels), ("meta", meta)):
        (temp / f"{part}.json").write_text(json.dumps(value))
    try:
        os.replace(temp, target)
    except OSError:  # another process converted it first
        shutil.rmtree(temp, ignore_errors=True)


def _read_converted(folder: Path, name: str) -> Collection:
    import pyarrow.parquet as pq

    meta, queries, qrels = (json.loads((folder / f"{part}.json").read_text()) for part in ("meta", "queries", "qrels"))
    corpus = _corpus_of_table(pq.read_table(folder / "corpus.parquet"))
    return Collection(name, corpus, queries, qrels, meta["fingerprint"], meta["source"], meta.get("warnings", {}))


def _corpus_table(corpus: Corpus) -> Any:
    import pyarrow as pa

    table = pa.table({"id": corpus.ids, "title": corpus.titles, "text": corpus.texts})
    return table.replace_schema_metadata({"fingerprint": corpus.fingerprint})


def _corpus_of_table(table: Any) -> Corpus:
    fingerprint = (table.schema.metadata or {}).get(b"fingerprint", b"").decode()
    columns = (table.column(name).to_pylist() for name in ("id", "title", "text"))
    return Corpus(*columns, fingerprint)


def find_beir_dataset(name: str, data_dir: Path | None, cache_dir: Path | None, log=lambda message: None) -> Path:
    """The folder of BEIR dataset ``name``: ``<data-dir>/beir/<name>``, else ``<cache>/beir/<name>``,
    else the official archive downloaded into the cache, md5-checked and safely extracted."""
    found = locate(Path("beir") / name / "corpus.jsonl", data_dir, cache_dir)
    if found is not None:
        return found.parent
    if cache_dir is None:
        raise UserError(f"BEIR dataset {name!r} not found; put it at <data-dir>/beir/{name}/ (--data-dir)")
    url = BEIR_URL.format(name=name)
    archive = Path(cache_dir) / "beir" / f"{name}.zip"
    log(f"downloading {url}")
    try:
        download(url, archive, sha256=None)
    except UserError as error:
        raise UserError(f"{error} The folder must be in BEIR layout: <data-dir>/beir/{name}/corpus.jsonl, "
                        "queries.jsonl, qrels/test.tsv.") from None
    expected = BEIR_MD5.get(name)
    if expected is not None:
        actual = sha256_file(archive, "md5")  # BEIR publishes md5 sums
        if actual != expected:
            archive.unlink(missing_ok=True)
            raise DataError(archive, f"the download from {url} has md5 {actual}, expected {expected} (BEIR's published "
                            "value)", hint="the corrupt download was deleted; run again")
    safe_extract(archive, Path(cache_dir) / "beir")
    folder = Path(cache_dir) / "beir" / name
    if not (folder / "corpus.jsonl").is_file():
        raise DataError(archive, f"the archive has no {name}/corpus.jsonl")
    return folder


def read_corpus_tsv(path: Path) -> Corpus:
    """Read an ``id<TAB>text`` corpus (MS MARCO's ``collection.tsv``), without titles."""
    ids, texts, first_line = [], [], {}
    for number, line in iter_lines(path):
        if not line:
            continue
        docid, tab, text = line.partition("\t")
        if not tab or not docid:
            raise DataError(path, "expected 'id<TAB>text'", line=number)
        if not is_token(docid):
            raise DataError(path, f"document id {quote(docid)} holds whitespace", line=number)
        first_seen(first_line, docid, number, path, "document id")
        ids.append(docid)
        texts.append(text)
    if not ids:
        raise DataError(path, "no documents in the file", hint="expected lines 'id<TAB>text'")
    return Corpus(ids, [""] * len(ids), texts)


def load_corpus_cached(path: Path, cache_dir: Path | None, log=lambda message: None) -> Corpus:
    """A corpus file (``corpus.jsonl`` or ``id<TAB>text``) with its fingerprint, converted once to Parquet under
    ``cache_dir`` (None, or no pyarrow: read every time)."""
    path = Path(path)
    target = None
    if cache_dir is not None and HAVE_PYARROW:
        import pyarrow.parquet as pq

        target = Path(cache_dir) / "retrieval" / f"corpus-{source_key([path], CACHE_FORMAT)}.parquet"
        if target.is_file():
            return _corpus_of_table(pq.read_table(target))
        log(f"reading {path} (converted once, then cached)")
    corpus = read_corpus_jsonl(path) if path.name.endswith(".jsonl") else read_corpus_tsv(path)
    corpus.fingerprint = fingerprint([path])
    if target is not None:
        target.parent.mkdir(parents=True, exist_ok=True)
        temp = target.with_suffix(f".{os.getpid()}.tmp")
        pq.write_table(_corpus_table(corpus), temp)
        os.replace(temp, target)
    return corpus
