"""System ``bm25s``: the bm25s library's sparse BM25 with Lucene's scoring variant (k1 = 0.9, b = 0.4)
over a Lucene-like English analyzer — the fast pure-Python stand-in for Pyserini's BM25."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from benchmarks.api import RunContext, System
from benchmarks.data.beir import SCIFACT_FINGERPRINT, Corpus
from benchmarks.expected import Expected
from benchmarks.registry import register_system
from systems.retrieval.lib.analyzer import analyze_all


@dataclass
class Config:
    k1: float = 0.9
    b: float = 0.4
    method: str = "lucene"
    """bm25s scoring variant: lucene, robertson, atire, bm25l, bm25+."""
    stemmer: str = "porter"
    """PyStemmer algorithm (Lucene's English analyzer uses Porter)."""
    threads: int = 2


@register_system
class Bm25sSystem(System):
    id = "bm25s"
    kind = "retriever"
    Config = Config
    # `python -m benchmarks check --task beir-scifact-ndcg10` reruns this (real SciFact test, default profile).
    expected = (Expected(task="beir-scifact-ndcg10", profile="default", metric="ndcg@10", value=0.676887373411501,
                         tolerance=0.002, seed=0, dataset_fingerprint=SCIFACT_FINGERPRINT),)
    requires = ("bm25s", "Stemmer")
    extra = "retrieval"
    description = "bm25s (Lucene BM25 variant, k1=0.9, b=0.4) with a Lucene-like English analyzer"

    def index(self, corpus: Corpus) -> None:
        import bm25s

        tokens = analyze_all(corpus.contents(), self.config.stemmer)  # n_docs lists of tokens
        self.doc_ids = np.asarray(corpus.ids, dtype=object)
        self.model = bm25s.BM25(k1=self.config.k1, b=self.config.b, method=self.config.method)
        self.model.index(tokens, show_progress=False)

    def search(self, queries: dict[str, str], k: int) -> dict[str, dict[str, float]]:
        qids = list(queries)
        tokens = analyze_all([queries[q] for q in qids], self.config.stemmer)
        k = min(k, len(self.doc_ids))
        with self.context.phase("search"):  # retrieval alone, without the query analysis
            results, scores = self.model.retrieve(tokens, k=k, n_threads=self.config.threads, show_progress=False)
        return dict(zip(qids, self._ranked(results, scores)))

    def _ranked(self, results: np.ndarray, scores: np.ndarray) -> list[dict[str, float]]:
        """(n_queries, k) doc positions and scores → per query ``{docid: score}``, best first (plain Python lists:
        indexing the object array row by row cost more than the retrieval of one query)."""
        if getattr(self, "_doc_list", None) is None or len(self._doc_list) != len(self.doc_ids):
            self._doc_list = self.doc_ids.tolist()
        ids = self._doc_list
        # documents sharing no term with the query (score 0) are not retrieved
        return [{ids[p]: v for p, v in zip(positions, values) if v > 0}
                for positions, values in zip(results.tolist(), scores.tolist())]

    def serve(self, batch: list[str], k: int) -> list[dict[str, float]]:
        """The per-query path: analyze, retrieve (one thread for one query, the configured threads for more)."""
        tokens = analyze_all(batch, self.config.stemmer)
        threads = self.config.threads if len(batch) > 1 else 1
        results, scores = self.model.retrieve(tokens, k=min(k, len(self.doc_ids)), n_threads=threads, show_progress=False)
        return self._ranked(results, scores)

    def save(self, path: Path) -> None:
        """bm25s's own index format (``BM25.save``), the doc ids and the config."""
        self.model.save(str(path))
        np.save(path / "doc_ids.npy", self.doc_ids.astype(str))
        (path / "config.json").write_text(json.dumps(dataclasses.asdict(self.config)))

    @classmethod
    def load(cls, path: Path, context: RunContext) -> Bm25sSystem:
        import bm25s

        system = cls(Config(**json.loads((path / "config.json").read_text())), context)
        system.model = bm25s.BM25.load(str(path))
        system.doc_ids = np.load(path / "doc_ids.npy").astype(object)
        return system
