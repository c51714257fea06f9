"""Retrieval metrics and the ``score`` command against three oracles: hand-computed values, the metric
definitions written out in plain Python below, and the real trec_eval binary (``-c``), on random runs with
ties, zero-grade queries, queries missing from the run and graded (-l2) judgements."""

from __future__ import annotations

import json
import math
import random
import struct
import subprocess
import sys
from pathlib import Path

import pytest
from trec_eval_oracle import find_trec_eval, trec_eval_c

from benchmarks import cli
from benchmarks.data.trec import read_trec_run, write_trec_qrels, write_trec_run
from benchmarks.errors import DataError, UserError
from benchmarks.metrics.retrieval import evaluate_run, parse_metric, trec_order, truncate
from benchmarks.registry import get_task

pytrec_eval = pytest.importorskip("pytrec_eval")

METRICS = ("ndcg@10", "recall@100", "map@100", "mrr@10", "precision@5", "map@1000-l2", "recall@1000-l2", "mrr@10-l2",
           "ndcg@10-l2", "recall@5")


@pytest.fixture(scope="module")
def trec_eval_binary(tmp_path_factory) -> Path:
    binary = find_trec_eval(tmp_path_factory.mktemp("trec-eval"))
    if binary is None:
        pytest.skip("no trec_eval binary (none on the PATH, no $MLSD_TREC_EVAL, no Pyserini jar)")
    return binary


@pytest.mark.integration
def test_the_trec_eval_binary_is_found_where_pyserini_is_installed(tmp_path):
    import importlib.util
    import platform

    if importlib.util.find_spec("pyserini") is None or platform.machine() != "x86_64":
        pytest.skip("no Pyserini (whose Anserini jar carries trec_eval) on this machine")
    assert find_trec_eval(tmp_path) is not None  # found, and it printed its version


def test_hand_computed_example():
    qrels = {"q1": {"a": 2, "b": 1, "c": 0}, "q2": {"a": 1}}
    run = {"q1": {"c": 3.0, "a": 2.0, "x": 2.0, "b": 1.0}}  # trec order: c, x, a, b; q2 missing
    scores = evaluate_run(qrels, run, ("ndcg@10", "mrr@10", "recall@2", "recall@3", "map@100", "precision@4"))
    dcg = 2 / math.log2(4) + 1 / math.log2(5)
    idcg = 2 / math.log2(2) + 1 / math.log2(3)
    assert scores.query_ids == ["q1", "q2"] and scores.missing_from_run == ["q2"]
    assert scores.per_query["ndcg@10"] == pytest.approx([dcg / idcg, 0.0], abs=1e-12)
    assert scores.means["ndcg@10"] == pytest.approx(dcg / idcg / 2, abs=1e-12)
    assert scores.per_query["mrr@10"] == pytest.approx([1 / 3, 0.0])
    assert scores.per_query["recall@2"] == [0.0, 0.0]
    assert scores.per_query["recall@3"] == pytest.approx([0.5, 0.0])
    assert scores.per_query["map@100"] == pytest.approx([(1 / 3 + 2 / 4) / 2, 0.0])
    assert scores.per_query["precision@4"] == pytest.approx([0.5, 0.0])


def test_trec_order_breaks_ties_by_docid_descending():
    assert [d for d, _ in trec_order({"d1": 1.0, "d3": 1.0, "d2": 5.0, "d10": 1.0})] == ["d2", "d3", "d10", "d1"]
    assert truncate({"q": {"a": 1.0, "b": 1.0, "c": 0.5}}, 1) == {"q": {"b": 1.0}}


def test_metric_names_and_their_trec_eval_options():
    assert parse_metric("ndcg@10").trec_eval_args() == ["-c", "-m", "ndcg_cut.10"]
    assert parse_metric("recall@1000-l2").trec_eval_args() == ["-c", "-l", "2", "-m", "recall.1000"]
    assert parse_metric("mrr@10-l2").trec_eval_args() == ["-c", "-l", "2", "-M", "10", "-m", "recip_rank"]
    for bad in ("ndcg", "ndcg@0", "mrr@10-x2", "f1@10", "NDCG@10"):
        with pytest.raises(UserError, match="unknown retrieval metric"):
            parse_metric(bad)


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


def _float32(value: float) -> float:
    """``value`` as trec_eval 9.0.x holds a score: a C ``float`` (struct's "f" rounds to nearest, as C's cast)."""
    return struct.unpack("f", struct.pack("f", value))[0]


def _definition(qrels: dict, run: dict, metric: str) -> list[float]:
    """The metric per judged query (sorted), written out from its definition; a missing query scores 0."""
    measure = parse_metric(metric)
    k, level = measure.k, measure.level
    values = []
    for qid in sorted(q for q, j in qrels.items() if j):
        grades = qrels[qid]
        ranking = [d for d, _ in sorted(run.get(qid, {}).items(), key=lambda it: (_float32(it[1]), it[0]), reverse=True)]
        relevant = {d for d, g in grades.items() if g >= level}
        hits = [d in relevant for d in ranking]
        if measure.family == "ndcg":
            dcg = sum(max(grades.get(d, 0), 0) / math.log2(i + 2) for i, d in enumerate(ranking[:k]))
            ideal = sorted((g for g in grades.values() if g > 0), reverse=True)[:k]
            idcg = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
            values.append(dcg / idcg if idcg else 0.0)
        elif measure.family == "recall":
            values.append(sum(hits[:k]) / len(relevant) if relevant else 0.0)
        elif measure.family == "precision":
            values.append(sum(hits[:k]) / k)
        elif measure.family == "map":
            found, total = 0, 0.0
            for i, hit in enumerate(hits[:k]):
                if hit:
                    found += 1
                    total += found / (i + 1)
            values.append(total / len(relevant) if relevant else 0.0)
        else:  # mrr
            values.append(next((1 / (i + 1) for i, hit in enumerate(hits[:k]) if hit), 0.0))
    return values


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_matches_the_definitions_on_random_runs_with_ties(seed):
    qrels, run = _random_case(seed)
    scores = evaluate_run(qrels, run, METRICS)
    assert scores.query_ids == sorted(qrels)  # every judged query, missing ones included
    assert len(scores.missing_from_run) == sum(1 for q in qrels if q not in run) > 0
    assert scores.unjudged_in_run == 1
    for metric in METRICS:
        if metric == "ndcg@10-l2":
            continue  # trec_eval's reading of -l for nDCG is checked against the binary below
        expected = _definition(qrels, run, metric)
        assert scores.per_query[metric] == pytest.approx(expected, abs=1e-12), metric
        assert scores.means[metric] == pytest.approx(sum(expected) / len(expected), abs=1e-12), metric


@pytest.mark.parametrize("seed", [3, 4])
def test_matches_pytrec_eval_with_missing_queries_as_zero(seed):
    qrels, run = _random_case(seed)
    scores = evaluate_run(qrels, run, METRICS)
    for metric in METRICS:
        measure = parse_metric(metric)
        source = truncate(run, measure.max_docs) if measure.max_docs else run
        name = measure.trec_name if measure.family == "mrr" else f"{measure.trec_name}.{measure.k}"
        oracle = pytrec_eval.RelevanceEvaluator(qrels, {name}, relevance_level=measure.level).evaluate(source)
        values = [oracle[q][measure.result_key] if q in oracle else 0.0 for q in sorted(qrels)]
        assert scores.per_query[metric] == pytest.approx(values, abs=1e-12), metric
        assert scores.means[metric] == pytest.approx(sum(values) / len(values), abs=1e-12), metric


@pytest.mark.integration
@pytest.mark.parametrize("seed", [5, 6])
def test_matches_the_trec_eval_binary_with_c(seed, tmp_path, trec_eval_binary):
    qrels, run = _random_case(seed)
    qrels_path = write_trec_qrels(qrels, tmp_path / "qrels.txt")
    lines = [f"{q} Q0 {d} 0 {s!r} r\n" for q, docs in run.items() for d, s in docs.items()]
    random.Random(seed).shuffle(lines)  # trec_eval sorts; the file order must not matter
    (tmp_path / "run.txt").write_text("".join(lines))
    scores = evaluate_run(qrels, run, METRICS)
    for metric in METRICS:
        mean, per_query = trec_eval_c(trec_eval_binary, qrels_path, tmp_path / "run.txt", parse_metric(metric))
        assert scores.means[metric] == pytest.approx(mean, abs=1e-9), metric
        ours = dict(zip(scores.query_ids, scores.per_query[metric]))
        assert set(per_query) == set(ours) - set(scores.missing_from_run)
        for qid, value in per_query.items():
            assert ours[qid] == pytest.approx(value, abs=1e-9), (metric, qid)


def test_identical_ids_are_ignored_as_in_beir():
    qrels = {"q1": {"d1": 1}}
    run = {"q1": {"q1": 9.0, "d1": 5.0}}
    dropped = evaluate_run(qrels, run, ("mrr@10",), ignore_identical_ids=True)
    assert dropped.means["mrr@10"] == 1.0 and dropped.identical_ids_removed == 1 and dropped.run == {"q1": {"d1": 5.0}}
    kept = evaluate_run(qrels, run, ("mrr@10",), ignore_identical_ids=False)
    assert kept.means["mrr@10"] == 0.5 and kept.identical_ids_removed == 0


def _write_beir_qrels(qrels: dict, path: Path) -> Path:
    path.write_text("query-id\tcorpus-id\tscore\r\n" + "".join(f"{q}\t{d}\t{g}\r\n" for q, j in qrels.items() for d, g in j.items()))
    return path


@pytest.mark.parametrize("qrels_format", ["trec", "beir"])
def test_score_counts_missing_queries_as_zero(tmp_path, qrels_format, capsys):
    qrels, run = _random_case(2)
    qrels_path = write_trec_qrels(qrels, tmp_path / "qrels") if qrels_format == "trec" else \
        _write_beir_qrels(qrels, tmp_path / "qrels")
    run_path = write_trec_run(run, tmp_path / "run.trec", tag="random")
    assert read_trec_run(run_path) == run  # scores survive the round trip exactly
    evaluation = get_task("beir-ndcg10")().score(run_path, qrels_path)
    missing = sum(1 for q in qrels if q not in run)
    for metric in ("ndcg@10", "recall@100", "map@100", "mrr@10"):
        expected = _definition(qrels, run, metric)
        assert len(expected) == len(qrels)
        assert evaluation.metrics[metric] == pytest.approx(sum(expected) / len(expected), abs=1e-12)
    assert evaluation.extras["queries_missing_from_run"] == missing and evaluation.extras["queries_evaluated"] == 40
    assert f"{missing} of the 40 judged queries" in capsys.readouterr().err


def test_score_cli_json(tmp_path, capsys):
    qrels, run = _random_case(3, n_queries=10)
    qrels_path = write_trec_qrels(qrels, tmp_path / "qrels.txt")
    run_path = write_trec_run(run, tmp_path / "run.trec")
    code = cli.main(["score", "--task", "msmarco-dl19-ndcg10", "--predictions", str(run_path), "--truth", str(qrels_path),
                     "--json"])
    out = capsys.readouterr()
    assert code == 0, out.err
    payload = json.loads(out.out)
    assert payload["task"] == "msmarco-dl19-ndcg10" and payload["main_metric"] == "ndcg@10"
    expected = _definition(qrels, run, "map@1000-l2")
    assert payload["metrics"]["map@1000-l2"] == pytest.approx(sum(expected) / len(expected), abs=1e-12)
    assert "count as 0 (as with trec_eval -c)" in out.err


def test_score_of_an_empty_run_or_an_unrelated_run_says_so(tmp_path):
    qrels_path = write_trec_qrels({"q1": {"d1": 1}}, tmp_path / "qrels.txt")
    (tmp_path / "empty.trec").write_text("\n")
    with pytest.raises(UserError, match=r"empty.trec: the run file has no result lines"):
        get_task("beir-ndcg10")().score(tmp_path / "empty.trec", qrels_path)
    other = write_trec_run({"x9": {"d1": 1.0}}, tmp_path / "other.trec")
    with pytest.raises(UserError, match=r"other.trec: none of its 1 queries is judged"):
        get_task("beir-ndcg10")().score(other, qrels_path)


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


@pytest.mark.integration  # the command line in a subprocess
def test_scoring_imports_neither_ranx_nor_numba():
    """ranx compiled its numba code in every new process (10-45 s) and keeps a shared on-disk cache whose
    index numba updates without a lock; scoring must not touch either."""
    code = ("import sys; from benchmarks.tasks import beir, msmarco; from benchmarks.metrics.retrieval import evaluate_run; "
            "evaluate_run({'q': {'d': 1}}, {'q': {'d': 1.0}}); "
            "print(sorted(m for m in ('ranx', 'numba') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


@pytest.mark.parametrize("module_name", ["benchmarks.metrics.retrieval", "benchmarks.data.textfile",
                                         "systems.retrieval.lib.fusion"])
def test_worked_examples_in_docstrings(module_name):
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(module_name))
    assert result.attempted > 0 and result.failed == 0


# --- single precision and trec_eval's tie order around the cut-off -----------------------------------------------


def _comp_sim_docno(left: tuple[str, float], right: tuple[str, float]) -> int:
    """trec_eval 9.0.x's ``comp_sim_docno`` (form_res_rels.c), transcribed: ``sim`` is a C float; the higher
    sim first; on equal sims ``strcmp(p2->docno, p1->docno)``, the larger docno first."""
    left_sim, right_sim = _float32(left[1]), _float32(right[1])
    if left_sim != right_sim:
        return -1 if left_sim > right_sim else 1
    left_id, right_id = left[0].encode(), right[0].encode()
    return (right_id > left_id) - (right_id < left_id)


def _near_tie_case(seed: int, n_queries: int = 60) -> tuple[dict, dict]:
    """Runs whose scores around ranks 8..13 differ only beyond float32 precision (about 7.6e-6 at 100), some
    by more (1e-3: distinct in float32 too), and exact ties, over random doc ids."""
    rng = random.Random(seed)
    qrels: dict[str, dict[str, int]] = {}
    run: dict[str, dict[str, float]] = {}
    for q in range(n_queries):
        docs = [f"{rng.choice('abcxyz')}{rng.randrange(10**6)}" for _ in range(40)]
        docs = list(dict.fromkeys(docs))
        scores = {}
        for rank, doc in enumerate(docs):
            if 7 <= rank <= 12:
                scores[doc] = 100.0 + rng.choice([0.0, 1e-9, 2e-7, 3e-6, 1e-3]) * rng.choice([1, -1])
            else:
                scores[doc] = 200.0 - rank if rank < 7 else 50.0 - rank
        run[f"q{q}"] = scores
        qrels[f"q{q}"] = {d: rng.choice([0, 1, 1, 2]) for d in rng.sample(docs[6:14], 2)}
        if q % 5 == 0:
            qrels[f"q{q}"][rng.choice(docs[20:])] = 1
    return qrels, run


def _trec_ranking(scores: dict[str, float]) -> list[str]:
    import functools

    return [d for d, _ in sorted(scores.items(), key=functools.cmp_to_key(_comp_sim_docno))]


TIE_METRICS = ("ndcg@10", "mrr@10", "recall@100", "map@100", "precision@10", "recall@10", "map@10", "ndcg@10-l2",
               "mrr@10-l2", "mrr@5")


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_near_ties_around_rank_10_match_pytrec_eval(seed):
    """pytrec_eval runs trec_eval 9.0.x's own code on the whole run (no cut by us): every cut-off metric
    must equal it; MRR@k (trec_eval -M k) equals its uncut recip_rank when that is at least 1/k, else 0."""
    qrels, run = _near_tie_case(seed)
    scores = evaluate_run(qrels, run, TIE_METRICS)
    for metric in TIE_METRICS:
        measure = parse_metric(metric)
        name = measure.trec_name if measure.family == "mrr" else f"{measure.trec_name}.{measure.k}"
        oracle = pytrec_eval.RelevanceEvaluator(qrels, {name}, relevance_level=measure.level).evaluate(run)
        values = [oracle[q][measure.trec_name if measure.family == "mrr" else measure.result_key] for q in sorted(qrels)]
        if measure.family == "mrr":
            values = [value if value >= 1 / measure.k - 1e-12 else 0.0 for value in values]
        assert scores.per_query[metric] == pytest.approx(values, abs=1e-12), metric
        assert scores.means[metric] == pytest.approx(sum(values) / len(values), abs=1e-12), metric


@pytest.mark.parametrize("seed", [4, 5])
def test_near_ties_match_trec_evals_comparator_and_differ_from_double_precision(seed):
    """The same runs against the definitions over trec_eval's comparator, transcribed above; and the case has
    teeth: in double precision the MRR@10 of some queries would differ."""
    qrels, run = _near_tie_case(seed)
    scores = evaluate_run(qrels, run, TIE_METRICS)
    for metric in ("ndcg@10", "mrr@10", "map@10", "precision@10", "recall@100"):
        assert scores.per_query[metric] == pytest.approx(_definition(qrels, run, metric), abs=1e-12), metric
    for qid, scores_of_query in run.items():
        assert [d for d, _ in trec_order(scores_of_query)] == _trec_ranking(scores_of_query)
        assert list(truncate({qid: scores_of_query}, 10)[qid]) == _trec_ranking(scores_of_query)[:10]
    in_double = []
    for qid in sorted(qrels):
        ranking = [d for d, _ in sorted(run[qid].items(), key=lambda item: (item[1], item[0]), reverse=True)]
        in_double.append(next((1 / (i + 1) for i, d in enumerate(ranking[:10]) if qrels[qid].get(d, 0) >= 1), 0.0))
    assert in_double != pytest.approx(scores.per_query["mrr@10"], abs=1e-12)


def test_a_relevant_document_at_rank_10_in_double_and_11_in_float(tmp_path):
    """The issue's case: 1.0000000001 vs 1.0 is a tie in float32; trec_eval puts "z" before "a", so the
    relevant "a" is 11th and MRR@10 = nDCG@10 = 0 — in evaluate_run (job metrics), in `score` on the files,
    and in the order of the run file the job keeps."""
    run = {"q1": {**{f"top{i}": 10.0 - i for i in range(9)}, "a": 1.0000000001, "z": 1.0}}
    qrels = {"q1": {"a": 1}}
    scores = evaluate_run(qrels, run, ("mrr@10", "ndcg@10", "recall@10", "recall@11"))
    assert scores.means == {"mrr@10": 0.0, "ndcg@10": 0.0, "recall@10": 0.0, "recall@11": 1.0}
    oracle = pytrec_eval.RelevanceEvaluator(qrels, {"recip_rank", "ndcg_cut.10"}).evaluate(run)["q1"]
    assert oracle["recip_rank"] == pytest.approx(1 / 11) and oracle["ndcg_cut_10"] == 0.0
    write_trec_run(run, tmp_path / "run.trec")
    ranks = {line.split()[2]: int(line.split()[3]) for line in (tmp_path / "run.trec").read_text().splitlines()}
    assert ranks["z"] == 10 and ranks["a"] == 11
    assert read_trec_run(tmp_path / "run.trec")["q1"]["a"] == 1.0000000001  # the score itself is kept
    write_trec_qrels(qrels, tmp_path / "qrels.txt")
    evaluation = get_task("beir-ndcg10")().score(tmp_path / "run.trec", tmp_path / "qrels.txt")
    assert evaluation.metrics["mrr@10"] == 0.0 and evaluation.metrics["ndcg@10"] == 0.0


@pytest.mark.integration
@pytest.mark.parametrize("seed", [6])
def test_near_ties_match_the_trec_eval_binary(seed, tmp_path, trec_eval_binary):
    qrels, run = _near_tie_case(seed)
    qrels_path = write_trec_qrels(qrels, tmp_path / "qrels.txt")
    run_path = write_trec_run(run, tmp_path / "run.txt")
    scores = evaluate_run(qrels, run, TIE_METRICS)
    for metric in TIE_METRICS:
        mean, _ = trec_eval_c(trec_eval_binary, qrels_path, run_path, parse_metric(metric))
        assert scores.means[metric] == pytest.approx(mean, abs=1e-9), metric
