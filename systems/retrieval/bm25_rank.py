"""System ``bm25-rank``: rank-bm25's BM25Okapi, the plain dense-loop reference (every query scores every
document in Python/NumPy), over the same Lucene-like analyzer as ``bm25s``.

It is slow (O(docs × query terms) per query), so it refuses corpora above ``max_docs`` unless
``force=True`` (``--set bm25-rank.force=True``)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from benchmarks.api import System
from benchmarks.data.beir import SCIFACT_FINGERPRINT, Corpus
from benchmarks.errors import UserError
from benchmarks.expected import Expected
from benchmarks.kinds.retriever import serve_by_search
from benchmarks.registry import register_system
from systems.retrieval.lib.analyzer import analyze_all


@dataclass
class Config:
    k1: float = 1.5
    b: float = 0.75
    epsilon: float = 0.25
    """rank-bm25's floor for negative IDF values (as a fraction of the mean IDF)."""
    stemmer: str = "porter"
    max_docs: int = 200_000
    force: bool = False


@register_system
class RankBm25System(System):
    id = "bm25-rank"
    kind = "retriever"
    Config = Config
    # `python -m benchmarks check --task beir-scifact-ndcg10` reruns this (real SciFact test, default profile).
    expected = (Expected(task="beir-scifact-ndcg10", profile="default", metric="ndcg@10", value=0.6827990070452443,
                         tolerance=0.002, seed=0, dataset_fingerprint=SCIFACT_FINGERPRINT),)
    requires = ("rank_bm25",)
    extra = "retrieval"
    description = "rank-bm25 BM25Okapi (k1=1.5, b=0.75), the plain reference; refuses > max_docs unless forced"

    def index(self, corpus: Corpus) -> None:
        from rank_bm25 import BM25Okapi

        if len(corpus) > self.config.max_docs and not self.config.force:
            raise UserError(
                f"bm25-rank scores every document for every query and would be very slow on {len(corpus):,} documents "
                f"(limit max_docs={self.config.max_docs:,}); use bm25s, or --set bm25-rank.force=True"
            )
        tokens = analyze_all(corpus.contents(), self.config.stemmer)
        # rank-bm25 divides by zero on an empty corpus and mishandles empty documents' length; keep a token.
        tokens = [t if t else ["\x00"] for t in tokens]
        self.doc_ids = np.asarray(corpus.ids, dtype=object)
        self.model = BM25Okapi(tokens, k1=self.config.k1, b=self.config.b, epsilon=self.config.epsilon)

    def search(self, queries: dict[str, str], k: int) -> dict[str, dict[str, float]]:
        qids = list(queries)
        tokens = analyze_all([queries[q] for q in qids], self.config.stemmer)
        k = min(k, len(self.doc_ids))
        run: dict[str, dict[str, float]] = {}
        with self.context.phase("search"):  # scoring alone, without the query analysis
            for qid, query in zip(qids, tokens):
                scores = self.model.get_scores(query)  # (n_docs,)
                top = np.argpartition(-scores, k - 1)[:k] if k < len(scores) else np.arange(len(scores))
                top = top[scores[top] != 0]
                run[qid] = dict(zip(self.doc_ids[top].tolist(), scores[top].astype(float).tolist()))
        return run

    def serve(self, batch: list[str], k: int) -> list[dict[str, float]]:
        """Per query ``{docid: score}``, through ``search`` on the batch (its per-query path)."""
        return serve_by_search(self, batch, k)
