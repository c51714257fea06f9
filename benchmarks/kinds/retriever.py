"""Kind ``retriever`` (``beir-*``, ``msmarco-*``): rank a corpus for each query; one served query is one query text."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, runtime_checkable

from benchmarks.kinds.query_unit import QueryUnit

if TYPE_CHECKING:
    from benchmarks.data.beir import Corpus


@runtime_checkable
class Retriever(Protocol):
    """``beir-*`` and ``msmarco-*``: rank a corpus for each query."""

    def index(self, corpus: Corpus) -> None:
        """Index the documents (``corpus.ids``, ``corpus.titles``, ``corpus.texts``; ``corpus.contents()``
        joins title and text; ``corpus.fingerprint`` identifies it for caches)."""

    def search(self, queries: dict[str, str], k: int) -> dict[str, dict[str, float]]:
        """Return ``{qid: {docid: score}}`` with at most ``k`` documents per query, higher = better."""


QUERY_UNIT = QueryUnit(query="a query (text)", answer="its top 100 documents with scores", k=100)


@runtime_checkable
class ServedRetriever(Protocol):
    """Optional: answer queries one at a time (the per-query path, not a batch)."""

    def serve(self, batch: list[str], k: int) -> list[dict[str, float]]:
        """``batch``: query texts → per query ``{docid: score}``, at most ``k``, equal to ``search``'s."""


PROTOCOL = Retriever
SERVED = ServedRetriever
