"""The raw retrieval pipeline without the harness: read a BEIR folder, index it with bm25s, retrieve the top 100
for every judged query and score with pytrec_eval — the reference row of ``harness.py`` for
``run --task beir-scifact-ndcg10 --system bm25s``.

It does the same work as that job (the ``bm25s`` system's analyzer and settings, BEIR's rule on
identical ids, trec_eval -c averaging) with none of the harness: no registry, records, worker
process, cache or leaderboard. It prints the metrics as JSON, so the harness can check that both
give the same numbers.

Usage::

    python -m perf.raw_retrieval ../shared/data/beir/scifact
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def main(folder: Path) -> dict[str, float]:
    import bm25s
    import numpy as np
    import pytrec_eval

    from systems.retrieval.lib.analyzer import analyze_all

    with open(folder / "corpus.jsonl", encoding="utf-8") as handle:
        docs = [json.loads(line) for line in handle if line.strip()]
    with open(folder / "queries.jsonl", encoding="utf-8") as handle:
        texts = {str(q["_id"]): q["text"] for q in map(json.loads, filter(str.strip, handle))}
    qrels: dict[str, dict[str, int]] = {}
    with open(folder / "qrels" / "test.tsv", encoding="utf-8") as handle:
        next(handle)  # header
        for line in handle:
            qid, docid, grade = line.split("\t")
            qrels.setdefault(qid, {})[docid] = int(grade)
    doc_ids = np.asarray([str(d["_id"]) for d in docs], dtype=object)
    contents = [f"{d.get('title', '')} {d.get('text', '')}".strip() if d.get("title") else d.get("text", "") for d in docs]
    model = bm25s.BM25(k1=0.9, b=0.4, method="lucene")
    model.index(analyze_all(contents, "porter"), show_progress=False)
    qids = sorted(q for q in qrels if q in texts)
    results, scores = model.retrieve(analyze_all([texts[q] for q in qids], "porter"), k=100, n_threads=2,
                                     show_progress=False)
    run = {}
    for row, qid in enumerate(qids):
        keep = scores[row] > 0
        run[qid] = {d: float(s) for d, s in zip(doc_ids[results[row][keep]].tolist(), scores[row][keep].tolist())
                    if d != qid}
    evaluator = pytrec_eval.RelevanceEvaluator({q: qrels[q] for q in qids}, {"ndcg_cut.10", "recall.100", "map_cut.100"})
    top10 = {q: dict(sorted(docs.items(), key=lambda item: (item[1], item[0]), reverse=True)[:10]) for q, docs in run.items()}
    values = evaluator.evaluate(run)
    reciprocal = pytrec_eval.RelevanceEvaluator({q: qrels[q] for q in qids}, {"recip_rank"}).evaluate(top10)
    mean = lambda key, table: sum(table.get(q, {}).get(key, 0.0) for q in qids) / len(qids)  # noqa: E731
    return {"ndcg@10": mean("ndcg_cut_10", values), "recall@100": mean("recall_100", values),
            "mrr@10": mean("recip_rank", reciprocal), "map@100": mean("map_cut_100", values)}


if __name__ == "__main__":
    print(json.dumps(main(Path(sys.argv[1]))))
