"""Tiny-shakespeare loading and nanoGPT's character split (benchmarks/data/shakespeare.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from benchmarks.data import shakespeare
from benchmarks.data.shakespeare import find_input, read_text, split_text
from benchmarks.errors import DataError, UserError
from tests.conftest import synthetic_text


@pytest.mark.realdata
def test_real_split_matches_nanogpt(data_dir: Path) -> None:
    path = find_input(data_dir, None, allow_download=False)
    text = read_text(path)
    assert len(text) == 1_115_394
    split = split_text(text)
    # nanoGPT data/shakespeare_char/prepare.py: "train has 1,003,854 tokens / val has 111,540 tokens", vocab 65
    assert len(split.train) == 1_003_854
    assert len(split.valid) == 111_540
    assert split.vocab_size == 65
    assert list(split.vocab) == sorted(split.vocab)
    assert split.vocab[0] == "\n" and split.vocab[1] == " "
    assert split.decode(split.train[:14]) == "First Citizen:"
    assert split.decode(split.valid) == text[1_003_854:]


def test_split_is_contiguous_and_sorted() -> None:
    text = synthetic_text(5_000, seed=3)
    split = split_text(text)
    assert split.vocab == "".join(sorted(set(text)))
    assert len(split.train) == int(len(text) * 0.9)
    assert split.decode(np.concatenate([split.train, split.valid])) == text
    assert np.array_equal(split.encode(text[:50]), split.train[:50])


def test_checksum_mismatch_names_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "tinyshakespeare" / "input.txt"
    bad.parent.mkdir()
    bad.write_text("not shakespeare\n")
    with pytest.raises(DataError, match=r"input\.txt.*sha256"):
        find_input(tmp_path, None)


def test_offline_error_says_where_to_put_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shakespeare, "URL", (tmp_path / "nowhere" / "input.txt").as_uri())
    cache = tmp_path / "cache"
    with pytest.raises(UserError, match=r"put the file at .*cache/tinyshakespeare/input\.txt"):
        find_input(tmp_path / "data", cache)
    assert not (cache / "tinyshakespeare" / "input.txt").exists()
    with pytest.raises(DataError, match=r"tinyshakespeare/input\.txt"):
        find_input(tmp_path / "data", cache, allow_download=False)


def test_non_utf8_text_is_rejected_with_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.txt"
    path.write_bytes(b"good line\nbad \xff here\n")
    with pytest.raises(DataError, match=r"broken\.txt, line 2"):
        read_text(path)
