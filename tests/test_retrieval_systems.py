"""Retrieval systems through the real runner on real data (--dataset on the local subsets, SciFact, a
collection.tsv); every system on a tiny collection is tests/test_contract.py's, and the run files are
tests/test_retrieval_agreement.py's."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks import runner
from benchmarks.data.trec import read_beir_qrels
from benchmarks.registry import discover, get_system
from benchmarks.runner import RunRequest

SUBJECTS = ("volcano piano tennis salmon satellite cathedral penguin espresso glacier violin tornado chess "
            "diamond saxophone cactus submarine telescope avalanche marathon honeybee").split()


@pytest.fixture(scope="module", autouse=True)
def discovered():
    discover()


@pytest.fixture()
def toy_beir(tmp_path: Path, monkeypatch) -> Path:
    """20 documents on 20 distinct subjects (+ 10 distractors), one query per subject."""
    monkeypatch.setenv("MLSD_CACHE_DIR", str(tmp_path / "cache"))
    folder = tmp_path / "toy"
    (folder / "qrels").mkdir(parents=True)
    docs, queries, qrels = [], [], ["query-id\tcorpus-id\tscore"]
    for i, subject in enumerate(SUBJECTS):
        docs.append({"_id": f"doc{i}", "title": subject.title(),
                     "text": f"The {subject} is the topic of this article, which describes the {subject} in detail."})
        queries.append({"_id": f"q{i}", "text": f"facts about the {subject}"})
        qrels.append(f"q{i}\tdoc{i}\t1")
    for j in range(10):
        docs.append({"_id": f"other{j}", "title": "Miscellany", "text": f"An unrelated note number {j} on nothing much."})
    queries.append({"_id": "unjudged", "text": "nothing"})
    (folder / "corpus.jsonl").write_text("".join(json.dumps(d) + "\n" for d in docs))
    (folder / "queries.jsonl").write_text("".join(json.dumps(q) + "\n" for q in queries))
    (folder / "qrels" / "test.tsv").write_text("\n".join(qrels) + "\n")
    return folder


def _run(task: str, system: str, results_dir: Path, profile: str = "smoke", data_dir: Path | None = None,
         **overrides) -> dict:
    cls = get_system(system)
    if cls.missing_requirements():
        pytest.skip(f"{system} unavailable: missing {cls.missing_requirements()} ({cls.install_hint()})")
    outcomes = runner.run(RunRequest(task=task, systems=[system], profile=profile, device="cpu", data_dir=data_dir,
                                     results_dir=results_dir, overrides=overrides, progress=False))
    assert len(outcomes) == 1
    record = json.loads(outcomes[0].record_path.read_text())
    assert outcomes[0].status == "ok", record.get("traceback") or record.get("error")
    return record


@pytest.mark.integration
def test_bm25_rank_refuses_large_corpora_unless_forced(toy_beir, results_dir):
    outcomes = runner.run(RunRequest(task="beir-ndcg10", systems=["bm25-rank"], profile="smoke", results_dir=results_dir,
                                     overrides={"task.dataset": str(toy_beir), "bm25-rank.max_docs": 10}, progress=False))
    assert outcomes[0].status == "failed" and "max_docs=10" in outcomes[0].error
    record = _run("beir-ndcg10", "bm25-rank", results_dir, **{"task.dataset": str(toy_beir), "bm25-rank.max_docs": 10,
                                                              "bm25-rank.force": True})
    assert record["metrics"]["ndcg@10"] > 0.9


@pytest.mark.realdata
@pytest.mark.integration
def test_dl19_subset_through_dataset_option(data_dir, results_dir, monkeypatch, tmp_path):
    monkeypatch.setenv("MLSD_CACHE_DIR", str(tmp_path / "cache"))
    record = _run("msmarco-dl19-ndcg10", "bm25s", results_dir, profile="smoke",
                  **{"task.dataset": str(data_dir / "msmarco" / "dl19-subset5k")})
    assert record["extras"]["queries_evaluated"] == 20  # smoke: the first 20 of the 43 judged queries
    qrels = read_beir_qrels(data_dir / "msmarco" / "dl19-subset5k" / "qrels" / "test.tsv")
    assert sum(len(j) for j in qrels.values()) == 4102 and qrels["19335"]["1720389"] == 1  # no header: line 1 is kept
    assert set(record["metrics"]) == {"ndcg@10", "map@1000-l2", "recall@1000-l2", "mrr@10-l2"}
    assert 0.3 < record["metrics"]["ndcg@10"] <= 1.0


@pytest.mark.realdata
@pytest.mark.integration
def test_dbpedia_subset_through_dataset_option(data_dir, results_dir, monkeypatch, tmp_path):
    monkeypatch.setenv("MLSD_CACHE_DIR", str(tmp_path / "cache"))
    record = _run("beir-ndcg10", "bm25s", results_dir, profile="smoke",
                  **{"task.dataset": str(data_dir / "beir" / "dbpedia-entity-subset5k")})
    assert record["extras"]["queries_evaluated"] == 20
    assert 0.2 < record["metrics"]["ndcg@10"] <= 1.0


@pytest.mark.realdata
@pytest.mark.integration
def test_scifact_bm25s_reaches_lucene_quality(data_dir, results_dir):
    record = _run("beir-scifact-ndcg10", "bm25s", results_dir, profile="default", data_dir=data_dir)
    assert record["extras"]["queries_evaluated"] == 300
    assert record["metrics"]["ndcg@10"] >= 0.66


@pytest.mark.realdata
@pytest.mark.slow
@pytest.mark.parametrize("system,low,high", [("bm25-lucene", 0.676, 0.682), ("dense-minilm", 0.62, 1.0)])
def test_scifact_acceptance(system, low, high, data_dir, results_dir):
    record = _run("beir-scifact-ndcg10", system, results_dir, profile="default", data_dir=data_dir)
    assert low <= record["metrics"]["ndcg@10"] <= high


@pytest.mark.realdata
@pytest.mark.slow
def test_scifact_hybrid_beats_both_inputs(data_dir, results_dir):
    scores = {s: _run("beir-scifact-ndcg10", s, results_dir, profile="default", data_dir=data_dir)["metrics"]["ndcg@10"]
              for s in ("bm25s", "dense-minilm", "hybrid-rrf")}
    assert scores["hybrid-rrf"] >= max(scores["bm25s"], scores["dense-minilm"]), scores


@pytest.mark.realdata
@pytest.mark.integration
def test_msmarco_task_reads_collection_tsv_and_trec_topics(data_dir, results_dir, monkeypatch, tmp_path):
    """The non---dataset path: <data-dir>/msmarco/collection.tsv + Anserini topics/qrels (here: the DL19
    subset's passages written as collection.tsv, with the official DL19 topics and graded qrels)."""
    monkeypatch.setenv("MLSD_CACHE_DIR", str(tmp_path / "cache"))
    root = tmp_path / "data" / "msmarco"
    (root / "topics-qrels").mkdir(parents=True)
    with open(data_dir / "msmarco" / "dl19-subset5k" / "corpus.jsonl", encoding="utf-8") as source, \
            open(root / "collection.tsv", "w", encoding="utf-8") as out:
        for line in source:
            doc = json.loads(line)
            out.write(f"{doc['_id']}\t{doc['text']}\n")
    for name in ("topics.dl19-passage.txt", "qrels.dl19-passage.txt"):
        (root / "topics-qrels" / name).symlink_to(data_dir / "msmarco" / "topics-qrels" / name)
    record = _run("msmarco-dl19-ndcg10", "bm25s", results_dir, profile="smoke", data_dir=tmp_path / "data")
    assert record["extras"]["queries_evaluated"] == 20
    assert record["extras"]["warnings"]["qrels_unknown_documents"] > 0  # grade-0 passages are not in the subset
    assert 0.3 < record["metrics"]["ndcg@10"] <= 1.0


def test_exact_search_faiss_and_numpy_agree(monkeypatch):
    import builtins

    import numpy as np

    from systems.retrieval.dense_minilm import top_k_inner_product

    rng = np.random.default_rng(0)
    docs, queries = rng.normal(size=(200, 16)).astype(np.float32), rng.normal(size=(5, 16)).astype(np.float32)
    expected = np.argsort(-(queries @ docs.T), axis=1)[:, :10]
    first = top_k_inner_product(docs, queries, 10)
    real_import = builtins.__import__

    def no_faiss(name, *args, **kwargs):
        if name == "faiss":
            raise ImportError("faiss hidden for this test")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_faiss)
    second = top_k_inner_product(docs, queries, 10)
    for scores, positions in (first, second):
        assert (positions == expected).all()
        assert np.allclose(scores, np.take_along_axis(queries @ docs.T, expected, axis=1), atol=1e-5)


def test_reciprocal_rank_fusion_follows_its_definition():
    import random

    from systems.retrieval.lib.fusion import reciprocal_rank_fusion

    rng = random.Random(0)
    docs = [f"d{i}" for i in range(40)]
    runs = [{f"q{q}": {d: float(rng.randint(0, 5)) for d in rng.sample(docs, 25)} for q in range(5)} for _ in range(3)]
    runs[2]["only-here"] = {"d1": 1.0}
    fused = reciprocal_rank_fusion(runs, k=60)
    assert set(fused) == {f"q{q}" for q in range(5)} | {"only-here"}
    for qid, scores in fused.items():
        for docid, value in scores.items():
            expected = 0.0
            for run in runs:
                # rank: 1 + the number of documents ahead (higher score, or same score and larger id)
                ranked = run.get(qid, {})
                if docid in ranked:
                    ahead = sum(1 for d, v in ranked.items() if (v, d) > (ranked[docid], docid))
                    expected += 1 / (60 + ahead + 1)
            assert value == pytest.approx(expected, abs=1e-15), (qid, docid)
