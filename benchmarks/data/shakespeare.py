"""Tiny-shakespeare: finding (or downloading) ``input.txt`` and nanoGPT's character-level split.

The file is karpathy/char-rnn's ``data/tinyshakespeare/input.txt`` (1,115,394 bytes, 65 distinct
characters). The split is exactly nanoGPT's ``data/shakespeare_char/prepare.py``: a sorted
character vocabulary over the whole text, the first 90% of characters for training and the last
10% for validation (1,003,854 / 111,540 characters).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from benchmarks.data.download import download, locate, verify
from benchmarks.errors import DataError
from benchmarks.kinds.char_language_model import CharSplit

RELATIVE_PATH = "tinyshakespeare/input.txt"
URL = "https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/input.txt"
SHA256 = "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed"
TRAIN_FRACTION = 0.9


def find_input(data_dir: Path | None, cache_dir: Path | None, allow_download: bool = True) -> Path:
    """The path of a verified ``input.txt``: ``<data_dir>/tinyshakespeare/input.txt``, else the cache, else
    (``allow_download``) a download from char-rnn's canonical location into the cache."""
    found = locate(RELATIVE_PATH, data_dir, cache_dir)
    if found is not None:
        verify(found, SHA256)
        return found
    base = Path(cache_dir) if cache_dir is not None else Path("datasets/cache")
    destination = base / RELATIVE_PATH
    if not allow_download:
        where = " or ".join(str(Path(b) / RELATIVE_PATH) for b in (data_dir, base) if b is not None)
        raise DataError(destination, f"tiny-shakespeare not found; put char-rnn's input.txt at {where}")
    return download(URL, destination, SHA256)


def read_text(path: Path) -> str:
    """The text of a corpus file, decoded as UTF-8, with a clear error when it is not."""
    raw = Path(path).read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise DataError(path, f"byte {error.start} is not valid UTF-8", line=line, hint="expected a plain text file") from None
    if len(text) < 2:
        raise DataError(path, f"has {len(text)} characters; a character corpus needs at least 2")
    return text


def split_text(text: str, train_fraction: float = TRAIN_FRACTION) -> CharSplit:
    """nanoGPT's ``shakespeare_char`` protocol: sorted vocabulary, the first ``int(len(text) * train_fraction)``
    characters for training, the rest for validation.

    >>> split = split_text("abcabcabcz", 0.9)
    >>> split.vocab, split.train.tolist(), split.valid.tolist()
    ('abcz', [0, 1, 2, 0, 1, 2, 0, 1, 2], [3])
    """
    points, ids = np.unique(np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32), return_inverse=True)
    vocab = "".join(map(chr, points))
    n_train = int(len(ids) * train_fraction)
    if not 0 < n_train < len(ids):
        raise ValueError(f"train_fraction {train_fraction} leaves an empty part of a {len(ids)}-character text")
    return CharSplit(vocab=vocab, train=ids[:n_train].copy(), valid=ids[n_train:].copy())
