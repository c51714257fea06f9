"""Reciprocal-rank fusion (Cormack, Clarke and Büttcher, SIGIR 2009) of several runs, in plain Python.

Each input run ranks its documents in trec_eval's order (score descending, doc id descending on
ties), so the fusion does not depend on how a library breaks ties. A document scores
Σ 1 / (k + rank) over the runs that retrieved it (rank from 1).

    >>> fused = reciprocal_rank_fusion([{"q": {"a": 3.0, "b": 2.0}}, {"q": {"b": 9.0, "c": 1.0}}], k=60)
    >>> [(d, round(s, 6)) for d, s in sorted(fused["q"].items())]   # a: 1/61; b: 1/62 + 1/61; c: 1/62
    [('a', 0.016393), ('b', 0.032522), ('c', 0.016129)]
"""

from __future__ import annotations

from benchmarks.metrics.retrieval import trec_order


def reciprocal_rank_fusion(runs: list[dict[str, dict[str, float]]], k: int = 60) -> dict[str, dict[str, float]]:
    """Fuse ``runs`` (each ``{qid: {docid: score}}``) into one run of RRF scores over the union of their queries."""
    fused: dict[str, dict[str, float]] = {}
    for run in runs:
        for qid, scores in run.items():
            target = fused.setdefault(qid, {})
            for rank, (docid, _) in enumerate(trec_order(scores), start=1):
                target[docid] = target.get(docid, 0.0) + 1 / (k + rank)
    return fused
