"""Retrieval metrics (nDCG@k, Recall@k, MRR@k, MAP@k) computed with ranx, ranked the way trec_eval ranks.

trec_eval — and so pytrec_eval, BEIR and Pyserini — orders each query's documents by score,
highest first, and breaks ties by document id in *decreasing* string order. ranx breaks ties
its own way, which moves nDCG@10 by ~0.004 on runs with many ties. ``evaluate_run`` therefore
first replaces each score by a strictly decreasing rank score in trec_eval's order and only
then hands the run to ranx, so the numbers equal pytrec_eval's (tests check this to 1e-9).

Conventions (BEIR's):
- only judged queries (present in the qrels) are scored; a judged query missing from the run
  is skipped and counted, as trec_eval does without ``-c``;
- with ``ignore_identical_ids`` a document whose id equals the query id is dropped from the
  run first (matters for ArguAna and Quora, where the query is itself a corpus document);
- nDCG uses linear gains (trec_eval's ``ndcg_cut``), a document is relevant from grade 1 on
  (or ``-lN``: from grade N, as TREC DL does for MAP and recall).

Worked example (one query, two relevant documents ``a`` (grade 2) and ``b`` (grade 1))::

    >>> qrels = {"q1": {"a": 2, "b": 1, "c": 0}}
    >>> run = {"q1": {"c": 3.0, "a": 2.0, "x": 2.0, "b": 1.0}}
    >>> # trec order: c, x, a, b  (a and x tie at 2.0; "x" > "a", so x first)
    >>> scores = evaluate_run(qrels, run, ("ndcg@10", "mrr@10", "recall@2", "map@100"))
    >>> round(scores.means["mrr@10"], 4)          # first relevant at rank 3
    0.3333
    >>> round(scores.means["recall@2"], 4)        # nothing relevant in the top 2
    0.0
    >>> round(scores.means["map@100"], 4)         # (1/3 + 2/4) / 2
    0.4167
    >>> # DCG = 2/log2(4) + 1/log2(5) = 1.4307; IDCG = 2/log2(2) + 1/log2(3) = 2.6309
    >>> round(scores.means["ndcg@10"], 4)
    0.5438
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

from benchmarks.metrics import Metric, declare

# trec_eval's measures at any cut-off; ``-lN`` suffixes count grade >= N as relevant (TREC DL).
for _family, _meaning in (("ndcg", "nDCG"), ("recall", "recall"), ("mrr", "reciprocal rank of the first relevant"),
                          ("map", "average precision"), ("precision", "precision")):
    declare(Metric(f"{_family}@*", higher_is_better=True, description=f"{_meaning} at the cut-off, trec_eval's ranking"))

BEIR_METRICS: tuple[str, ...] = ("ndcg@10", "recall@100", "mrr@10", "map@100")
"""The metrics every BEIR task reports; the first is the main one."""


def trec_order(scores: dict[str, float]) -> list[tuple[str, float]]:
    """One query's ``(docid, score)`` pairs in trec_eval's order: score descending, then docid descending.

    >>> trec_order({"a": 1.0, "b": 1.0, "c": 2.0})
    [('c', 2.0), ('b', 1.0), ('a', 1.0)]
    """
    return sorted(scores.items(), key=lambda item: (item[1], item[0]), reverse=True)


def rank_scores(run: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
    """Replace scores with strictly decreasing values (n, n-1, …, 1) in trec_eval's order, so any
    evaluator ranks exactly as trec_eval does."""
    ranked: dict[str, dict[str, float]] = {}
    for qid, scores in run.items():
        n = len(scores)
        ranked[qid] = {docid: float(n - i) for i, (docid, _) in enumerate(trec_order(scores))}
    return ranked


def truncate(run: dict[str, dict[str, float]], k: int) -> dict[str, dict[str, float]]:
    """Keep each query's top ``k`` documents in trec_eval's order."""
    return {qid: dict(trec_order(scores)[:k]) for qid, scores in run.items()}


@dataclass
class RetrievalScores:
    """The result of ``evaluate_run``.

    Attributes:
        means: ``{metric: mean over the evaluated queries}``.
        per_query: ``{metric: [value per query]}`` in the order of ``query_ids``.
        query_ids: the evaluated queries (judged and present in the run), sorted.
        missing_from_run: judged queries the run has no line for (skipped, like trec_eval).
        identical_ids_removed: (query, doc) pairs dropped because the doc id equals the query id.
        unjudged_in_run: queries of the run without any judgement (ignored, as BEIR does).
    """

    means: dict[str, float]
    per_query: dict[str, list[float]]
    query_ids: list[str]
    missing_from_run: list[str] = field(default_factory=list)
    identical_ids_removed: int = 0
    unjudged_in_run: int = 0


def evaluate_run(
    qrels: dict[str, dict[str, int]],
    run: dict[str, dict[str, float]],
    metrics: tuple[str, ...] = BEIR_METRICS,
    ignore_identical_ids: bool = False,
) -> RetrievalScores:
    """Score a run against qrels with ranx, ranking as trec_eval does.

    Args:
        qrels: ``{qid: {docid: grade}}``.
        run: ``{qid: {docid: score}}``.
        metrics: ranx metric names (``"ndcg@10"``, ``"recall@1000-l2"``, ...).
        ignore_identical_ids: drop a retrieved doc whose id equals the query id (BEIR's default).

    Returns:
        A RetrievalScores with means, per-query values and the counts of what was skipped.
    """
    from ranx import Qrels, Run, evaluate

    removed = 0
    if ignore_identical_ids:
        cleaned = {}
        for qid, scores in run.items():
            if qid in scores:
                scores = {d: s for d, s in scores.items() if d != qid}
                removed += 1
            cleaned[qid] = scores
        run = cleaned
    judged = sorted(q for q, judgements in qrels.items() if judgements)
    evaluated = [q for q in judged if q in run]
    missing = [q for q in judged if q not in run]
    unjudged = sum(1 for q in run if q not in qrels or not qrels[q])
    per_query: dict[str, list[float]] = {m: [] for m in metrics}
    nonempty = [q for q in evaluated if run[q]]
    values: dict[str, dict[str, float]] = {m: {} for m in metrics}
    if nonempty:
        ranx_qrels = Qrels({q: {d: int(g) for d, g in qrels[q].items()} for q in nonempty})
        ranx_run = Run(rank_scores({q: run[q] for q in nonempty}))
        # ranx skips queries with no relevant doc; those score 0 (as in trec_eval).
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # numba's uint64→int64 cast notice inside ranx
            evaluate(ranx_qrels, ranx_run, list(metrics), return_mean=False, threads=1)
        for metric in metrics:
            values[metric] = {q: float(v) for q, v in ranx_run.scores[metric].items()}
    for metric in metrics:
        per_query[metric] = [values[metric].get(q, 0.0) for q in evaluated]
    means = {m: (sum(v) / len(v) if v else 0.0) for m, v in per_query.items()}
    return RetrievalScores(means, per_query, evaluated, missing, removed, unjudged)
