"""Every number of a retrieval record is reproducible from its artifacts: for each retrieval task family, run
through the real runner, ``trec_eval -c`` on the run file and qrels kept beside the record gives the record's
metrics (to 1e-9), with the real trec_eval binary when there is one and with pytrec_eval otherwise."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from trec_eval_oracle import find_trec_eval, trec_eval_c

from benchmarks import runner
from benchmarks.data.trec import read_beir_qrels, read_trec_qrels, read_trec_run
from benchmarks.metrics.retrieval import evaluate_run, parse_metric
from benchmarks.registry import discover, get_system, get_task
from benchmarks.runner import RunRequest

SUBJECTS = ("volcano piano tennis salmon satellite cathedral penguin espresso glacier violin tornado chess "
            "diamond saxophone cactus submarine telescope avalanche marathon honeybee").split()

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def trec_eval_binary(tmp_path_factory) -> Path | None:
    """The real trec_eval (None: the checks fall back to pytrec_eval with missing queries as 0)."""
    discover()
    return find_trec_eval(tmp_path_factory.mktemp("trec-eval"))


@pytest.fixture(scope="module")
def scifact_cache(tmp_path_factory) -> Path:
    """One cache for the SciFact tests, so the collection is converted once."""
    return tmp_path_factory.mktemp("scifact-cache")


def _run(task: str, results_dir: Path, profile: str = "smoke", data_dir: Path | None = None, **overrides) -> tuple[dict, Path]:
    if get_system("bm25s").missing_requirements():
        pytest.skip("bm25s unavailable")
    outcomes = runner.run(RunRequest(task=task, systems=["bm25s"], profile=profile, device="cpu", data_dir=data_dir,
                                     results_dir=results_dir, overrides=overrides, progress=False))
    record = json.loads(outcomes[0].record_path.read_text())
    assert outcomes[0].status == "ok", record.get("traceback") or record.get("error")
    return record, outcomes[0].record_path.parent


def _assert_reproduces(record: dict, folder: Path, binary: Path | None, qrels_file: Path | None = None) -> dict:
    """trec_eval -c on the kept run file (and the kept or given qrels) equals every metric of the record."""
    run_name, qrels_name = record["artifacts"]
    assert run_name.endswith(".run.trec") and qrels_name.endswith(".qrels.txt")
    run_file, qrels_file = folder / run_name, qrels_file or folder / qrels_name
    ids = record["per_example"]["ids"]
    for name, value in record["metrics"].items():
        measure = parse_metric(name)
        if binary is not None:
            mean, per_query = trec_eval_c(binary, qrels_file, run_file, measure)
        else:
            scores = evaluate_run(read_trec_qrels(qrels_file), read_trec_run(run_file), (name,))
            mean, per_query = scores.means[name], dict(zip(scores.query_ids, scores.per_query[name]))
        assert value == pytest.approx(mean, abs=1e-9), (name, "mean")
        recorded = dict(zip(ids, record["per_example"]["values"][name]))
        for qid, expected in per_query.items():
            assert recorded[qid] == pytest.approx(expected, abs=1e-9), (name, qid)
        assert all(recorded[q] == 0.0 for q in set(recorded) - set(per_query))  # missing from the run: 0
    return read_trec_run(run_file)


@pytest.fixture()
def colliding_ids(tmp_path: Path, monkeypatch) -> Path:
    """A local collection whose query and document ids are small integers that collide: query i is
    about subject i; document i (same id, unjudged) is the closest text, document i+20 the judged one."""
    monkeypatch.setenv("MLSD_CACHE_DIR", str(tmp_path / "cache"))
    folder = tmp_path / "colliding"
    (folder / "qrels").mkdir(parents=True)
    docs, queries, qrels = [], [], ["query-id\tcorpus-id\tscore"]
    for i, subject in enumerate(SUBJECTS, start=1):
        docs.append({"_id": i, "title": subject, "text": f"{subject} {subject} facts about the {subject}"})
        docs.append({"_id": i + 20, "title": "", "text": f"an article that mentions the {subject} once"})
        queries.append({"_id": i, "text": f"facts about the {subject}"})
        qrels.append(f"{i}\t{i + 20}\t1")
    (folder / "corpus.jsonl").write_text("".join(json.dumps(d) + "\n" for d in docs))
    (folder / "queries.jsonl").write_text("".join(json.dumps(q) + "\n" for q in queries))
    (folder / "qrels" / "test.tsv").write_text("\n".join(qrels) + "\n")
    return folder


def test_local_collection_keeps_identical_ids_unless_asked(colliding_ids, results_dir, trec_eval_binary):
    kept, folder = _run("beir-ndcg10", results_dir, profile="default", **{"task.dataset": str(colliding_ids)})
    assert kept["task_options"]["ignore_identical_ids"] is False and kept["extras"]["identical_ids_removed"] == 0
    run = _assert_reproduces(kept, folder, trec_eval_binary, qrels_file=None)
    assert sum(1 for q, docs in run.items() if q in docs) == 20  # document i is retrieved for query i
    # The dataset's own qrels (BEIR layout) are the ones kept beside the record.
    assert read_trec_qrels(folder / kept["artifacts"][1]) == read_beir_qrels(colliding_ids / "qrels" / "test.tsv")

    dropped, folder = _run("beir-ndcg10", results_dir, profile="default",
                           **{"task.dataset": str(colliding_ids), "ignore_identical_ids": True})
    assert dropped["task_options"]["ignore_identical_ids"] is True and dropped["extras"]["identical_ids_removed"] == 20
    run = _assert_reproduces(dropped, folder, trec_eval_binary)
    assert not any(q in docs for q, docs in run.items())  # the run file is written after the removal
    assert dropped["metrics"]["ndcg@10"] > kept["metrics"]["ndcg@10"] + 0.1


def test_score_of_a_local_collection_follows_the_task_option(colliding_ids, results_dir):
    record, folder = _run("beir-ndcg10", results_dir, profile="default", **{"task.dataset": str(colliding_ids)})
    task = get_task("beir-ndcg10")
    qrels = colliding_ids / "qrels" / "test.tsv"
    assert task().score(folder / record["artifacts"][0], qrels).metrics == pytest.approx(record["metrics"], abs=1e-12)
    with_rule = task(task.Options(ignore_identical_ids=True)).score(folder / record["artifacts"][0], qrels)
    assert with_rule.extras["identical_ids_removed"] == 20
    assert with_rule.metrics["ndcg@10"] > record["metrics"]["ndcg@10"]


@pytest.mark.realdata
def test_named_beir_task_on_scifact_reproduces(data_dir, results_dir, trec_eval_binary, monkeypatch, scifact_cache):
    monkeypatch.setenv("MLSD_CACHE_DIR", str(scifact_cache))
    record, folder = _run("beir-scifact-ndcg10", results_dir, profile="smoke", data_dir=data_dir)
    assert record["extras"]["queries_evaluated"] == 20
    _assert_reproduces(record, folder, trec_eval_binary)
    # The kept qrels are Anserini's official SciFact test judgements of those 20 queries.
    official = read_trec_qrels(data_dir / "beir" / "topics-qrels" / "qrels.beir-v1.0.0-scifact.test.txt")
    assert read_trec_qrels(folder / record["artifacts"][1]) == {q: official[q] for q in record["per_example"]["ids"]}


@pytest.mark.realdata
def test_msmarco_with_a_local_dataset_reproduces(data_dir, results_dir, trec_eval_binary, monkeypatch, tmp_path):
    monkeypatch.setenv("MLSD_CACHE_DIR", str(tmp_path / "cache"))
    subset = data_dir / "msmarco" / "dl19-subset5k"
    record, folder = _run("msmarco-dl19-ndcg10", results_dir, profile="smoke", **{"task.dataset": str(subset)})
    assert set(record["metrics"]) == {"ndcg@10", "map@1000-l2", "recall@1000-l2", "mrr@10-l2"}
    assert record["task_options"]["ignore_identical_ids"] is False
    _assert_reproduces(record, folder, trec_eval_binary)
    original = read_beir_qrels(subset / "qrels" / "test.tsv")
    assert read_trec_qrels(folder / record["artifacts"][1]) == {q: original[q] for q in record["per_example"]["ids"]}


@pytest.mark.realdata
def test_scifact_record_reproduces_with_anserinis_official_qrels(data_dir, results_dir, trec_eval_binary, monkeypatch,
                                                                scifact_cache):
    """The whole test split: trec_eval -c with Anserini's qrels file (not ours) on the kept run gives the record."""
    monkeypatch.setenv("MLSD_CACHE_DIR", str(scifact_cache))
    record, folder = _run("beir-scifact-ndcg10", results_dir, profile="default", data_dir=data_dir)
    assert record["extras"]["queries_evaluated"] == 300
    _assert_reproduces(record, folder, trec_eval_binary,
                       qrels_file=data_dir / "beir" / "topics-qrels" / "qrels.beir-v1.0.0-scifact.test.txt")
