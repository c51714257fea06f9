"""Retrieval metrics (nDCG@k, Recall@k, MAP@k, MRR@k, P@k) computed by trec_eval's own C code (pytrec_eval),
averaged as ``trec_eval -c`` averages them.

Conventions (trec_eval's, which BEIR and Pyserini's reproductions use):
- each query's documents are ranked by score, highest first, ties broken by document id in
  *decreasing* string order (trec_eval's own sort; pytrec_eval runs that very code). The scores
  are compared in single precision, as trec_eval 9.0.x reads them (``float sim`` in
  ``trec_format.h``; ``comp_sim_docno`` in ``form_res_rels.c``): two scores that differ only beyond
  float32 precision tie, and the larger document id goes first. trec_eval 10.0 reads doubles; the
  Pyserini binary (9.0.4) and pytrec_eval do not. The cut-off of ``-M k`` (MRR@k) follows that order;
- every judged query counts: a judged query with no document in the run scores 0, as with
  ``trec_eval -c`` (how Pyserini scores BEIR and MS MARCO). Queries of the run without
  judgements are ignored;
- nDCG uses the grades as linear gains (``ndcg_cut``); a document is relevant from grade 1 on,
  or from grade N with the ``-lN`` suffix (TREC DL counts grade >= 2 for MAP, recall and MRR);
- MRR@k is trec_eval's ``recip_rank`` over the top k (``-M k``): trec_eval has no cut-off for it;
- with ``ignore_identical_ids`` a retrieved document whose id equals the query id is dropped
  first (BEIR's rule for ArguAna and Quora, where queries are corpus documents).

``Measure.trec_eval_args`` gives the trec_eval command line of each metric, so a kept run file
can be checked by hand: ``trec_eval -c -l 2 -m map_cut.1000 qrels run``.

Worked example (one query, two relevant documents ``a`` (grade 2) and ``b`` (grade 1))::

    >>> qrels = {"q1": {"a": 2, "b": 1, "c": 0}, "q2": {"a": 1}}
    >>> run = {"q1": {"c": 3.0, "a": 2.0, "x": 2.0, "b": 1.0}}
    >>> # trec order for q1: c, x, a, b  (a and x tie at 2.0; "x" > "a", so x first); q2 is missing
    >>> scores = evaluate_run(qrels, run, ("ndcg@10", "mrr@10", "recall@2", "map@100"))
    >>> scores.per_query["mrr@10"]                  # q1: first relevant at rank 3; q2: missing, 0
    [0.3333333333333333, 0.0]
    >>> round(scores.means["map@100"], 4)           # q1: (1/3 + 2/4) / 2 = 0.4167; mean with q2's 0
    0.2083
    >>> # q1: DCG = 2/log2(4) + 1/log2(5) = 1.4307; IDCG = 2/log2(2) + 1/log2(3) = 2.6309
    >>> round(scores.per_query["ndcg@10"][0], 4), scores.missing_from_run
    (0.5438, ['q2'])
"""

from __future__ import annotations

import heapq
import re
from array import array
from dataclasses import dataclass, field

from benchmarks.errors import UserError
from benchmarks.metrics import Metric, declare

# trec_eval's measures at any cut-off; ``-lN`` suffixes count grade >= N as relevant (TREC DL).
for _family, _meaning in (("ndcg", "nDCG"), ("recall", "recall"), ("mrr", "reciprocal rank of the first relevant"),
                          ("map", "average precision"), ("precision", "precision")):
    declare(Metric(f"{_family}@*", higher_is_better=True, description=f"{_meaning} at the cut-off, trec_eval's ranking"))

BEIR_METRICS: tuple[str, ...] = ("ndcg@10", "recall@100", "mrr@10", "map@100")
"""The metrics every BEIR task reports; the first is the main one."""

Qrels = dict[str, dict[str, int]]
Run = dict[str, dict[str, float]]

_METRIC = re.compile(r"^(ndcg|recall|map|mrr|precision)@([1-9][0-9]*)(?:-l(-?[0-9]+))?$")
# ours → (trec_eval measure, the key pytrec_eval returns without the cut-off)
_TREC_NAMES = {"ndcg": "ndcg_cut", "recall": "recall", "map": "map_cut", "precision": "P", "mrr": "recip_rank"}


@dataclass(frozen=True)
class Measure:
    """One metric (``"map@1000-l2"``: family ``map``, cut-off ``k`` 1000, relevant from grade ``level`` 2, trec_eval's
    ``-l``) and how trec_eval computes it."""

    name: str
    family: str
    k: int
    level: int

    @property
    def trec_name(self) -> str:
        """trec_eval's measure name, without parameters (``ndcg_cut``, ``recip_rank``, ...)."""
        return _TREC_NAMES[self.family]

    @property
    def result_key(self) -> str:
        """The key trec_eval prints and pytrec_eval returns (``ndcg_cut_10``, ``recip_rank``)."""
        return self.trec_name if self.family == "mrr" else f"{self.trec_name}_{self.k}"

    @property
    def max_docs(self) -> int | None:
        """trec_eval's ``-M`` for this metric: only MRR needs the run cut (recip_rank has no cut-off)."""
        return self.k if self.family == "mrr" else None

    def trec_eval_args(self) -> list[str]:
        """The trec_eval options that compute this metric as we do, e.g. ``-c -l 2 -m map_cut.1000``."""
        args = ["-c"]
        if self.level != 1:
            args += ["-l", str(self.level)]
        if self.max_docs is not None:
            return args + ["-M", str(self.max_docs), "-m", self.trec_name]
        return args + ["-m", f"{self.trec_name}.{self.k}"]


def parse_metric(name: str) -> Measure:
    """``"ndcg@10"``, ``"recall@1000-l2"``, ... → Measure.

    >>> parse_metric("map@1000-l2").trec_eval_args()
    ['-c', '-l', '2', '-m', 'map_cut.1000']
    >>> parse_metric("mrr@10").trec_eval_args()
    ['-c', '-M', '10', '-m', 'recip_rank']
    """
    match = _METRIC.match(name)
    if match is None:
        raise UserError(f"unknown retrieval metric {name!r}: expected ndcg@K, recall@K, map@K, mrr@K or precision@K, "
                        "optionally with -lN (relevant from grade N), e.g. recall@1000-l2")
    family, k, level = match.groups()
    return Measure(name, family, int(k), int(level) if level is not None else 1)


def _trec_keys(scores: dict[str, float]) -> list[tuple[float, str]]:
    """``(score as float32, docid)`` per document: trec_eval's sort key (both descending)."""
    return list(zip(array("f", scores.values()).tolist(), scores))


def trec_order(scores: dict[str, float]) -> list[tuple[str, float]]:
    """One query's ``(docid, score)`` pairs in trec_eval's order: score (single precision) descending, then
    docid descending. The scores are returned as given.

    >>> trec_order({"a": 1.0, "b": 1.0, "c": 2.0})
    [('c', 2.0), ('b', 1.0), ('a', 1.0)]
    >>> trec_order({"a": 1.0 + 1e-12, "b": 1.0})   # equal in float32: a tie, "b" > "a"
    [('b', 1.0), ('a', 1.000000000001)]
    """
    return [(docid, scores[docid]) for _, docid in sorted(_trec_keys(scores), reverse=True)]


def truncate(run: Run, k: int) -> Run:
    """Keep each query's top ``k`` documents in trec_eval's order (what ``trec_eval -M k`` keeps)."""
    return {qid: {docid: scores[docid] for _, docid in heapq.nlargest(k, _trec_keys(scores))} for qid, scores in run.items()}


def drop_identical_ids(run: Run) -> tuple[Run, int]:
    """The run without documents whose id equals their query's id, and how many were dropped.

    >>> drop_identical_ids({"q1": {"q1": 2.0, "d": 1.0}, "q2": {"d": 1.0}})
    ({'q1': {'d': 1.0}, 'q2': {'d': 1.0}}, 1)
    """
    removed = sum(1 for qid, scores in run.items() if qid in scores)
    cleaned = {qid: {d: s for d, s in scores.items() if d != qid} if qid in scores else scores
               for qid, scores in run.items()}
    return cleaned, removed


@dataclass
class RetrievalScores:
    """The result of ``evaluate_run``."""

    means: dict[str, float]  # {metric: mean over every judged query}: trec_eval -c's "all" line
    per_query: dict[str, list[float]]  # {metric: [value per judged query]} in the order of query_ids
    query_ids: list[str]  # the judged queries (at least one judgement), sorted
    missing_from_run: list[str] = field(default_factory=list)  # judged queries with no document in the run: 0 each
    identical_ids_removed: int = 0  # (query, doc) pairs dropped because the doc id equals the query id
    unjudged_in_run: int = 0  # queries of the run without any judgement (ignored)
    run: Run = field(default_factory=dict, repr=False)  # the run scored (identical ids dropped): write this one


def evaluate_run(qrels: Qrels, run: Run, metrics: tuple[str, ...] = BEIR_METRICS,
                 ignore_identical_ids: bool = False) -> RetrievalScores:
    """Score a run against qrels with trec_eval's code, every judged query (one with a judgement) counted as
    ``trec_eval -c`` counts them; ``ignore_identical_ids`` first drops a retrieved doc whose id is the query's
    (BEIR's rule)."""
    measures = [parse_metric(name) for name in metrics]
    removed = 0
    if ignore_identical_ids:
        run, removed = drop_identical_ids(run)
    judged = sorted(q for q, judgements in qrels.items() if judgements)
    retrieved = {q: run[q] for q in judged if run.get(q)}
    missing = [q for q in judged if q not in retrieved]
    unjudged = sum(1 for q in run if not qrels.get(q))
    values: dict[str, dict[str, float]] = {m.name: {} for m in measures}
    if retrieved:
        try:
            import pytrec_eval
        except ImportError:
            raise UserError("retrieval metrics need pytrec_eval (trec_eval's code): "
                            'pip install -e ".[retrieval]"') from None
        judged_qrels = {q: {d: int(g) for d, g in qrels[q].items()} for q in retrieved}
        groups: dict[tuple[int, int | None], list[Measure]] = {}
        for measure in measures:
            groups.setdefault((measure.level, measure.max_docs), []).append(measure)
        for (level, max_docs), group in groups.items():
            # One "-m name.k1,k2" per measure: pytrec_eval keeps only the last of repeated names.
            cutoffs: dict[str, set[int]] = {}
            for measure in group:
                cutoffs.setdefault(measure.trec_name, set()).add(measure.k)
            wanted = {name if name == "recip_rank" else f"{name}.{','.join(map(str, sorted(ks)))}"
                      for name, ks in cutoffs.items()}
            evaluator = pytrec_eval.RelevanceEvaluator(judged_qrels, wanted, relevance_level=level)
            results = evaluator.evaluate(truncate(retrieved, max_docs) if max_docs else retrieved)
            for measure in group:
                values[measure.name] = {q: float(result[measure.result_key]) for q, result in results.items()}
    per_query = {m.name: [values[m.name].get(q, 0.0) for q in judged] for m in measures}
    means = {name: (sum(v) / len(v) if v else 0.0) for name, v in per_query.items()}
    return RetrievalScores(means, per_query, judged, missing, removed, unjudged, run)
