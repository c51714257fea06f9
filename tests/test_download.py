"""Downloads are checksummed and atomic; archives cannot escape their folder."""

from __future__ import annotations

import hashlib
import io
import tarfile
import zipfile

import pytest

from benchmarks.data.download import download, fingerprint, locate, safe_extract, sha256_file, verify
from benchmarks.errors import DataError, UserError


def test_download_from_file_url_verifies_checksum(tmp_path):
    source = tmp_path / "source.txt"
    source.write_bytes(b"hello world\n")
    digest = hashlib.sha256(b"hello world\n").hexdigest()
    target = download(source.as_uri(), tmp_path / "cache" / "file.txt", sha256=digest)
    assert target.read_bytes() == b"hello world\n" and sha256_file(target) == digest
    with pytest.raises(DataError, match="expected 0000"):
        download(source.as_uri(), tmp_path / "cache" / "other.txt", sha256="0" * 64)
    assert not (tmp_path / "cache" / "other.txt").exists()
    assert not list((tmp_path / "cache").glob(".*part"))


def test_download_without_network_says_where_to_put_the_file(tmp_path):
    with pytest.raises(UserError, match=r"put the file at .*input.txt"):
        download("http://127.0.0.1:9/input.txt", tmp_path / "input.txt", timeout=5)


def test_locate_prefers_data_dir_then_cache(tmp_path):
    (tmp_path / "data" / "x").mkdir(parents=True)
    (tmp_path / "cache" / "x").mkdir(parents=True)
    (tmp_path / "cache" / "x" / "f").write_text("c")
    assert locate("x/f", tmp_path / "data", tmp_path / "cache") == tmp_path / "cache" / "x" / "f"
    (tmp_path / "data" / "x" / "f").write_text("d")
    assert locate("x/f", tmp_path / "data", tmp_path / "cache") == tmp_path / "data" / "x" / "f"
    assert locate("x/g", tmp_path / "data", None) is None


def test_verify_and_fingerprint(tmp_path):
    a = tmp_path / "a"
    a.write_text("1")
    verify(a, None)
    verify(a, sha256_file(a))
    b = tmp_path / "b"
    b.write_text("2")
    assert fingerprint([a, b]) != fingerprint([b, a]) != fingerprint([a, b], extra="x")


def test_zip_slip_is_refused(tmp_path):
    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr("ok/file.txt", "fine")
        bundle.writestr("../escape.txt", "evil")
    with pytest.raises(DataError, match="outside"):
        safe_extract(archive, tmp_path / "out")
    assert not (tmp_path / "escape.txt").exists()


def test_tar_with_outward_link_is_refused(tmp_path):
    archive = tmp_path / "evil.tar"
    with tarfile.open(archive, "w") as bundle:
        info = tarfile.TarInfo("data/link")
        info.type = tarfile.SYMTYPE
        info.linkname = "../../etc/passwd"
        bundle.addfile(info)
    with pytest.raises(DataError, match="points outside"):
        safe_extract(archive, tmp_path / "out")


def test_good_archives_extract(tmp_path):
    archive = tmp_path / "good.tar"
    with tarfile.open(archive, "w") as bundle:
        payload = b"content"
        info = tarfile.TarInfo("scifact/corpus.jsonl")
        info.size = len(payload)
        bundle.addfile(info, io.BytesIO(payload))
    out = safe_extract(archive, tmp_path / "out")
    assert (out / "scifact" / "corpus.jsonl").read_bytes() == b"content"
    with pytest.raises(DataError, match="not a zip or tar"):
        safe_extract(tmp_path / "out" / "scifact" / "corpus.jsonl", tmp_path / "o2")
