"""Retrieval metrics and the ``score`` command: hand-computed values, and pytrec_eval (trec_eval's code)
as the oracle on random runs with ties, zero-grade queries, missing queries and duplicate doc ids."""

from __future__ import annotations

import json
import math
import random
from pathlib import Path

import pytest

from benchmarks import cli
from benchmarks.data.trec import read_trec_run, write_trec_run
from benchmarks.errors import DataError
from benchmarks.metrics.retrieval import evaluate_run, rank_scores, trec_order, truncate
from benchmarks.registry import get_task

pytrec_eval = pytest.importorskip("pytrec_eval")



@pytest.fixture(scope="module", autouse=True)
def warm_ranx():
    """ranx compiles its numba containers once per process (seconds); pay it once, not per test."""
    evaluate_run({"q": {"d": 1}}, {"q": {"d": 1.0}})


def test_hand_computed_example():
    qrels = {"q1": {"a": 2, "b": 1, "c": 0}}
    run = {"q1": {"c": 3.0, "a": 2.0, "x": 2.0, "b": 1.0}}  # trec order: c, x, a, b
    scores = evaluate_run(qrels, run, ("ndcg@10", "mrr@10", "recall@2", "recall@3", "map@100"))
    dcg = 2 / math.log2(4) + 1 / math.log2(5)
    idcg = 2 / math.log2(2) + 1 / math.log2(3)
    assert scores.means["ndcg@10"] == pytest.approx(dcg / idcg, abs=1e-12)
    assert scores.means["mrr@10"] == pytest.approx(1 / 3)
    assert scores.means["recall@2"] == 0.0
    assert scores.means["recall@3"] == pytest.approx(0.5)
    assert scores.means["map@100"] == pytest.approx((1 / 3 + 2 / 4) / 2)


def test_trec_order_breaks_ties_by_docid_descending():
    assert [d for d, _ in trec_order({"d1": 1.0, "d3": 1.0, "d2": 5.0, "d10": 1.0})] == ["d2", "d3", "d10", "d1"]
    ranked = rank_scores({"q": {"a": 1.0, "b": 1.0}})
    assert ranked["q"]["b"] > ranked["q"]["a"]


def _random_case(seed: int, n_queries: int = 40) -> tuple[dict, dict]:
    rng = random.Random(seed)
    qrels: dict[str, dict[str, int]] = {}
    run: dict[str, dict[str, float]] = {}
    docs = [f"d{i}" for i in range(150)]
    for q in range(n_queries):
        qid = f"q{q}"
        qrels[qid] = {d: rng.choice([0, 0, 1, 2, 3]) for d in rng.sample(docs, 12)}
        if q % 9 == 0:
            qrels[qid] = {d: 0 for d in rng.sample(docs, 4)}  # judged, nothing relevant
        if q % 7 == 3:
            continue  # judged but missing from the run
        run[qid] = {d: float(rng.randint(0, 15)) for d in rng.sample(docs, 120)}  # many ties
    run["unjudged"] = {"d1": 1.0}
    return qrels, run


ORACLE = {
    # ours: (pytrec_eval measure, its key, relevance_level, truncate the run to 10 first)
    "ndcg@10": ("ndcg_cut.10", "ndcg_cut_10", 1, False),
    "recall@100": ("recall.100", "recall_100", 1, False),
    "map@100": ("map_cut.100", "map_cut_100", 1, False),
    "mrr@10": ("recip_rank", "recip_rank", 1, True),
    "map@1000-l2": ("map_cut.1000", "map_cut_1000", 2, False),
    "recall@1000-l2": ("recall.1000", "recall_1000", 2, False),
}


def _oracle(qrels: dict, run: dict, metric: str) -> dict[str, float]:
    measure, key, level, cut = ORACLE[metric]
    evaluator = pytrec_eval.RelevanceEvaluator(qrels, {measure}, relevance_level=level)
    return {q: v[key] for q, v in evaluator.evaluate(truncate(run, 10) if cut else run).items()}


@pytest.mark.parametrize("seed", [0, 1])
def test_matches_pytrec_eval_on_random_runs_with_ties(seed):
    qrels, run = _random_case(seed)
    scores = evaluate_run(qrels, run, tuple(ORACLE))
    expected_ids = sorted(q for q in qrels if q in run)
    assert scores.query_ids == expected_ids
    assert len(scores.missing_from_run) == sum(1 for q in qrels if q not in run) > 0
    assert scores.unjudged_in_run == 1
    for metric in ORACLE:
        oracle = _oracle(qrels, run, metric)
        assert sorted(oracle) == expected_ids
        for qid, value in zip(scores.query_ids, scores.per_query[metric]):
            assert value == pytest.approx(oracle[qid], abs=1e-9), (metric, qid)
        assert scores.means[metric] == pytest.approx(sum(oracle.values()) / len(oracle), abs=1e-9)


def test_identical_ids_are_ignored_as_in_beir():
    qrels = {"q1": {"d1": 1}}
    run = {"q1": {"q1": 9.0, "d1": 5.0}}
    assert evaluate_run(qrels, run, ("mrr@10",), ignore_identical_ids=True).means["mrr@10"] == 1.0
    kept = evaluate_run(qrels, run, ("mrr@10",), ignore_identical_ids=False)
    assert kept.means["mrr@10"] == 0.5 and kept.identical_ids_removed == 0


def _write_trec_qrels(qrels: dict, path: Path) -> Path:
    path.write_text("".join(f"{q} 0 {d} {g}\n" for q, j in qrels.items() for d, g in j.items()))
    return path


def _write_beir_qrels(qrels: dict, path: Path) -> Path:
    path.write_text("query-id\tcorpus-id\tscore\r\n" + "".join(f"{q}\t{d}\t{g}\r\n" for q, j in qrels.items() for d, g in j.items()))
    return path


@pytest.mark.parametrize("qrels_format", ["trec", "beir"])
def test_score_agrees_with_pytrec_eval(tmp_path, qrels_format):
    qrels, run = _random_case(2)
    qrels_path = (_write_trec_qrels if qrels_format == "trec" else _write_beir_qrels)(qrels, tmp_path / "qrels")
    run_path = write_trec_run(run, tmp_path / "run.trec", tag="random")
    assert read_trec_run(run_path) == run  # scores survive the round trip exactly
    evaluation = get_task("beir-ndcg10")().score(run_path, qrels_path)
    for metric in ("ndcg@10", "recall@100", "map@100", "mrr@10"):
        oracle = _oracle(qrels, run, metric)
        assert evaluation.metrics[metric] == pytest.approx(sum(oracle.values()) / len(oracle), abs=1e-9)
    assert evaluation.extras["queries_missing_from_run"] > 0


def test_score_cli_json(tmp_path, capsys):
    qrels, run = _random_case(3, n_queries=10)
    qrels_path = _write_trec_qrels(qrels, tmp_path / "qrels.txt")
    run_path = write_trec_run(run, tmp_path / "run.trec")
    code = cli.main(["score", "--task", "msmarco-dl19-ndcg10", "--predictions", str(run_path), "--truth", str(qrels_path),
                     "--json"])
    out = capsys.readouterr()
    assert code == 0, out.err
    payload = json.loads(out.out)
    assert payload["task"] == "msmarco-dl19-ndcg10" and payload["main_metric"] == "ndcg@10"
    oracle = _oracle(qrels, run, "map@1000-l2")
    assert payload["metrics"]["map@1000-l2"] == pytest.approx(sum(oracle.values()) / len(oracle), abs=1e-9)
    assert "not in" in out.err  # the warning about judged queries missing from the run


def test_run_with_duplicate_docid_is_rejected(tmp_path):
    path = tmp_path / "dup.trec"
    path.write_text("q1 Q0 d1 1 3.0 t\nq1 Q0 d2 2 2.0 t\nq1 Q0 d1 3 1.0 t\n")
    with pytest.raises(DataError, match=r"dup.trec, line 3: document 'd1' appears twice for query 'q1' \(first on line 1\)"):
        read_trec_run(path)


def test_malformed_run_line_names_file_and_line(tmp_path):
    path = tmp_path / "bad.trec"
    path.write_text("q1 Q0 d1 1 3.0 t\nq1 Q0 d2 2 t\n")
    with pytest.raises(DataError, match=r"bad.trec, line 2: expected 6 columns"):
        read_trec_run(path)
    path.write_text("q1 Q0 d1 1 high t\n")
    with pytest.raises(DataError, match=r"line 1: score 'high' is not a number"):
        read_trec_run(path)
