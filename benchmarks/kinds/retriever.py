"""Kind ``retriever`` (``beir-*``, ``msmarco-*``): rank a corpus for each query; one served query is one query text."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from benchmarks.kinds.answers import PredictionError
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


def serving_queries(data: Any) -> list[str]:
    """The test query texts of a retrieval task (``data.test = {qid: text}``), in qid order of the task."""
    return [str(text) for text in data.test.values()]


def batch_answers(system: Retriever, queries: list[str], k: int | None = 100) -> list[dict[str, float]]:
    """What the batch path (``search`` over all queries at once) answers for each query."""
    run = system.search({f"q{i}": text for i, text in enumerate(queries)}, k or 100)
    return [dict(run.get(f"q{i}", {})) for i in range(len(queries))]


def serve_by_search(system: Retriever, batch: list[str], k: int) -> list[dict[str, float]]:
    """``serve`` through ``search`` on the batch (for systems whose per-query path is ``search`` itself)."""
    return batch_answers(system, batch, k)


def check_run(run: Any) -> dict[str, dict[str, float]]:
    """A retriever's ``search`` answer as ``{qid: {docid: score}}`` with string ids and finite float scores
    (numbers only: a string, None or a bool is refused, not converted)."""
    import math
    import numbers

    if not isinstance(run, dict):
        raise PredictionError(f"search(): expected {{qid: {{docid: score}}}}, got {type(run).__name__}")
    clean: dict[str, dict[str, float]] = {}
    for qid, docs in run.items():
        if not isinstance(docs, dict):
            raise PredictionError(f"search()[{qid!r}]: expected {{docid: score}}, got {type(docs).__name__}")
        scores: dict[str, float] = {}
        for docid, score in docs.items():
            if isinstance(score, bool) or not isinstance(score, numbers.Real):
                raise PredictionError(f"search() returned the score {score!r} ({type(score).__name__}) for document {docid!r} "
                                      f"of query {qid!r}: scores must be numbers")
            if not math.isfinite(score):
                raise PredictionError(f"search() returned the score {score} for document {docid!r} of query {qid!r}: "
                                      "scores must be finite numbers")
            scores[str(docid)] = float(score)
        clean[str(qid)] = scores
    return clean
