"""Shared text analysis for the lexical systems: an approximation of Lucene's English analyzer
(Anserini's default): lower-case word tokens, possessive ``'s`` dropped, Lucene's 33 English stop
words removed, Porter stemming (PyStemmer when installed)."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

LUCENE_ENGLISH_STOP_WORDS: frozenset[str] = frozenset(
    "a an and are as at be but by for if in into is it no not of on or such that the their then there these they "
    "this to was will with".split()
)
"""Lucene's ``EnglishAnalyzer.ENGLISH_STOP_WORDS_SET``."""

_TOKEN = re.compile(r"\w+(?:'\w+)?", re.UNICODE)


@lru_cache(maxsize=4)
def stemmer(name: str = "porter") -> Callable[[list[str]], list[str]]:
    """A list-of-words stemmer: PyStemmer's ``name`` algorithm, else the identity (with a warning)."""
    try:
        import Stemmer
    except ImportError:
        import warnings

        warnings.warn("PyStemmer is not installed: lexical systems run without stemming (lower quality); "
                      "pip install PyStemmer", stacklevel=2)
        return lambda words: words
    return Stemmer.Stemmer(name).stemWords


def analyze(text: str, stem: Callable[[list[str]], list[str]] | None = None) -> list[str]:
    """Tokens of one text, Lucene-English style.

    >>> analyze("The cells' responses to IL-2 are studied")
    ['cell', 'respons', 'il', '2', 'studi']
    """
    stem = stem or stemmer()
    words = []
    for match in _TOKEN.finditer(text.lower()):
        word = match.group()
        if word.endswith(("'s", "’s")):
            word = word[:-2]
        word = word.replace("'", "")
        if word and word not in LUCENE_ENGLISH_STOP_WORDS:
            words.append(word)
    return stem(words)


def analyze_all(texts: list[str], stemmer_name: str = "porter") -> list[list[str]]:
    """``analyze`` over many texts with one stemmer."""
    stem = stemmer(stemmer_name)
    return [analyze(text, stem) for text in texts]
