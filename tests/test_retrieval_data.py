"""BEIR/TREC readers: clear errors on bad input (file + line), tolerated cases counted, the one-time
conversion cache, and fetching a BEIR archive (checksum, safe extraction, no network)."""

from __future__ import annotations

import gzip
import hashlib
import json
import zipfile
from pathlib import Path

import pytest

from benchmarks.data import beir as beir_data
from benchmarks.data.beir import find_beir_dataset, load_beir_folder, read_corpus_jsonl
from benchmarks.data.trec import read_beir_qrels, read_qrels, read_topics, read_trec_qrels
from benchmarks.errors import DataError, UserError


def make_beir(folder: Path, header: bool = True, extra_qrels: str = "") -> Path:
    (folder / "qrels").mkdir(parents=True)
    docs = [{"_id": f"d{i}", "title": f"title {i}", "text": f"text number {i}"} for i in range(5)]
    (folder / "corpus.jsonl").write_text("".join(json.dumps(d) + "\n" for d in docs))
    (folder / "queries.jsonl").write_text("".join(json.dumps({"_id": f"q{i}", "text": f"query {i}"}) + "\n" for i in range(3)))
    lines = ["q0\td0\t1", "q1\td1\t2", "q1\td2\t0"]
    (folder / "qrels" / "test.tsv").write_text(("query-id\tcorpus-id\tscore\n" if header else "") + "\n".join(lines) + "\n"
                                               + extra_qrels)
    return folder


@pytest.mark.parametrize("header", [True, False])
def test_beir_qrels_with_or_without_header(tmp_path, header):
    folder = make_beir(tmp_path / "c", header=header)
    assert read_beir_qrels(folder / "qrels" / "test.tsv") == {"q0": {"d0": 1}, "q1": {"d1": 2, "d2": 0}}
    assert read_qrels(folder / "qrels" / "test.tsv") == {"q0": {"d0": 1}, "q1": {"d1": 2, "d2": 0}}


def test_corpus_with_broken_line_names_file_and_line(tmp_path):
    path = tmp_path / "corpus.jsonl"
    path.write_text('{"_id": "d1", "text": "a"}\n{"_id": "d2", "text": "b"}\n{"_id": "d3", "text": "c\n')
    with pytest.raises(DataError, match=r"corpus.jsonl, line 3: not valid JSON"):
        read_corpus_jsonl(path)
    path.write_text('{"_id": "d1", "text": "a"}\n{"text": "b"}\n')
    with pytest.raises(DataError, match=r"line 2: expected an object with an \"_id\" field"):
        read_corpus_jsonl(path)
    path.write_text('{"_id": "d1", "text": "a"}\n{"_id": "d1", "text": "b"}\n')
    with pytest.raises(DataError, match=r"line 2: document id 'd1' appears twice"):
        read_corpus_jsonl(path)


def test_qrels_naming_unknown_documents_is_a_counted_warning(tmp_path):
    folder = make_beir(tmp_path / "c", extra_qrels="q2\tnot-a-doc\t1\nq2\td3\t1\n")
    messages: list[str] = []
    collection = load_beir_folder(folder, cache_dir=None, log=messages.append)
    assert collection.warnings["qrels_unknown_documents"] == 1
    assert collection.qrels["q2"] == {"not-a-doc": 1, "d3": 1}  # kept, as BEIR keeps them
    assert any("1 judgements name documents not in corpus.jsonl" in m for m in messages)


def test_bad_qrels_line_names_file_and_line(tmp_path):
    folder = make_beir(tmp_path / "c", extra_qrels="q2\td3\n")
    with pytest.raises(DataError, match=r"test.tsv, line 5: expected 3 tab-separated columns"):
        load_beir_folder(folder, cache_dir=None)
    path = tmp_path / "qrels.txt"
    path.write_text("1 0 d1 1\n1 0 d2 x\n")
    with pytest.raises(DataError, match=r"qrels.txt, line 2: relevance 'x' is not a number"):
        read_trec_qrels(path)


def test_missing_split_says_which_exist(tmp_path):
    folder = make_beir(tmp_path / "c")
    with pytest.raises(DataError, match=r"dev.tsv: missing \(qrels splits here: test.tsv\)"):
        load_beir_folder(folder, split="dev", cache_dir=None)


def test_conversion_is_cached_and_equal(tmp_path):
    pytest.importorskip("pyarrow")
    folder = make_beir(tmp_path / "c")
    first = load_beir_folder(folder, cache_dir=tmp_path / "cache")
    converted = list((tmp_path / "cache" / "retrieval").iterdir())
    assert len(converted) == 1 and (converted[0] / "corpus.parquet").is_file()
    second = load_beir_folder(folder, cache_dir=tmp_path / "cache", log=lambda m: pytest.fail(f"re-read: {m}"))
    assert second.corpus.ids == first.corpus.ids and second.corpus.texts == first.corpus.texts
    assert second.qrels == first.qrels and second.queries == first.queries and second.fingerprint == first.fingerprint


def test_topics_plain_and_gzipped(tmp_path):
    (tmp_path / "t.tsv").write_text("1\tfirst query\n2\tsecond\n")
    with gzip.open(tmp_path / "t.tsv.gz", "wt") as handle:
        handle.write("1\tfirst query\n2\tsecond\n")
    assert read_topics(tmp_path / "t.tsv") == read_topics(tmp_path / "t.tsv.gz") == {"1": "first query", "2": "second"}


def _fake_download(archive_source: Path):
    def fake(url, destination, sha256=None, timeout=60.0):
        destination.parent.mkdir(parents=True, exist_ok=True)
        destination.write_bytes(archive_source.read_bytes())
        return destination
    return fake


def test_beir_download_checks_md5_and_extracts(tmp_path, monkeypatch):
    source = make_beir(tmp_path / "src" / "toyset")
    archive = tmp_path / "toyset.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        for path in source.rglob("*"):
            if path.is_file():
                bundle.write(path, path.relative_to(tmp_path / "src"))
    monkeypatch.setattr(beir_data, "download", _fake_download(archive))
    monkeypatch.setitem(beir_data.BEIR_MD5, "toyset", "0" * 32)
    with pytest.raises(DataError, match=r"toyset.zip: the download from \S+ has md5 \w+, expected 0{32}.*deleted"):
        find_beir_dataset("toyset", None, tmp_path / "cache")
    assert not (tmp_path / "cache" / "beir" / "toyset.zip").exists()  # the bad download is deleted
    monkeypatch.setitem(beir_data.BEIR_MD5, "toyset", hashlib.md5(archive.read_bytes()).hexdigest())
    folder = find_beir_dataset("toyset", None, tmp_path / "cache")
    assert folder == tmp_path / "cache" / "beir" / "toyset" and (folder / "corpus.jsonl").is_file()


def test_beir_archive_member_escaping_the_folder_is_refused(tmp_path, monkeypatch):
    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr("../../escaped.txt", "x")
    monkeypatch.setattr(beir_data, "download", _fake_download(archive))
    with pytest.raises(DataError, match="outside"):
        find_beir_dataset("evil", None, tmp_path / "cache")
    assert not (tmp_path / "escaped.txt").exists()


def test_beir_without_network_says_where_to_put_it(tmp_path, monkeypatch):
    def offline(url, destination, sha256=None, timeout=60.0):
        raise UserError(f"could not download {url} (no network)")
    monkeypatch.setattr(beir_data, "download", offline)
    with pytest.raises(UserError, match=r"scifact.zip .*<data-dir>/beir/scifact/corpus.jsonl"):
        find_beir_dataset("scifact", None, tmp_path / "cache")
