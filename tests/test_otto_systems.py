"""Every OTTO system through the real runner (smoke profile), and the systems' shared pieces."""

from __future__ import annotations

import json

import numpy as np
import polars as pl
import pytest

from benchmarks.registry import discover, systems_for
from benchmarks.runner import RunRequest, run
from systems.otto.lib.common import history_scores, top_k_lists
from systems.otto.lib.covisitation import MATRICES, build_matrix

OTTO_SYSTEMS = [cls.id for cls in systems_for("otto-recall20") if not cls.missing_requirements()]
"""From the registry: a new session recommender is smoke-run here without editing a list."""


def test_the_reference_systems_are_registered():
    discover()
    registered = {cls.id for cls in systems_for("otto-recall20")}
    assert {"otto-popular", "otto-session-history", "otto-covisit", "otto-covisit-ranker", "otto-sasrec"} <= registered


@pytest.mark.integration
def test_smoke_run_of_every_system(smoke_run):
    """The smoke runs the contract test makes (one per session), checked for what session recommenders promise."""
    scores = {}
    for system, record in smoke_run("otto-recall20", {}, None).items():
        assert record.ok, f"{system}: {record.error}"
        metrics = record.metrics
        assert metrics["session_coverage"] == 1.0
        assert 0.0 < metrics["recall@20_weighted"] < 1.0
        expected = 0.1 * metrics["recall@20_clicks"] + 0.3 * metrics["recall@20_carts"] + 0.6 * metrics["recall@20_orders"]
        assert metrics["recall@20_weighted"] == pytest.approx(expected, abs=1e-12)
        assert record.dataset.synthetic is True
        values = record.per_example.values["recall@20_weighted"]
        assert len(values) == len(record.per_example.ids)
        assert np.mean(values) == pytest.approx(metrics["recall@20_weighted"], abs=1e-9)
        scores[system] = metrics["recall@20_weighted"]
    assert set(scores) == set(OTTO_SYSTEMS)
    # the session's own items and co-visitation carry real signal on the synthetic sessions
    assert scores["otto-covisit"] > scores["otto-session-history"] > scores["otto-popular"]


def test_history_scores_weight_recency_and_type():
    events = pl.DataFrame({"session": [1, 1, 1], "aid": [10, 11, 10], "ts": [0, 1, 2], "type": [0, 1, 0]},
                          schema={"session": pl.Int32, "aid": pl.Int32, "ts": pl.Int32, "type": pl.Int8})
    scores = {row["aid"]: row["history"] for row in history_scores(events).to_dicts()}
    recency = 2.0 ** np.array([0.1, 0.55, 1.0]) - 1.0  # np.logspace(0.1, 1, 3, base=2) - 1
    assert scores[10] == pytest.approx(recency[0] + recency[2])
    assert scores[11] == pytest.approx(6.0 * recency[1])


def test_top_k_lists_rank_then_fill_without_duplicates():
    scores = pl.DataFrame({"session": [5, 5, 7], "aid": [1, 2, 3], "score": [0.5, 0.9, 1.0]})
    out = top_k_lists(scores, np.array([5, 7, 9]), 3, np.array([3, 2, 8, 9]))
    assert out.tolist() == [[2, 1, 3], [3, 2, 8], [3, 2, 8]]


def test_covisitation_counts_each_pair_once_per_session_within_the_window():
    day = 24 * 3600
    events = pl.DataFrame({
        "session": [1, 1, 1, 2, 2, 3, 3],
        "aid": [10, 20, 10, 10, 20, 10, 30],
        "ts": [0, 10, 20, 100, 110, 0, 2 * day],  # session 3's pair is 2 days apart: outside 24 h
        "type": [0, 0, 0, 0, 1, 0, 0],
    }, schema={"session": pl.Int32, "aid": pl.Int32, "ts": pl.Int32, "type": pl.Int8})
    carts_orders = build_matrix(events, MATRICES["carts_orders"], chunk_sessions=1)
    weights = {(r["aid_x"], r["aid_y"]): r["weight"] for r in carts_orders.to_dicts()}
    # 10→20: session 1 (weight of a click, 1; counted once) + session 2 (weight of a cart, 6)
    assert weights[(10, 20)] == pytest.approx(7.0)
    assert weights[(20, 10)] == pytest.approx(2.0)  # the clicks on 10 in sessions 1 and 2
    assert (10, 30) not in weights
    # chunking and parts do not change the result
    other = build_matrix(events, MATRICES["carts_orders"], chunk_sessions=100, parts=3)
    assert sorted(map(tuple, other.select("aid_x", "aid_y", "weight").rows())) == sorted(
        map(tuple, carts_orders.select("aid_x", "aid_y", "weight").rows()))


def test_saved_submission_scores_the_same_through_score(results_dir):
    """A run's Kaggle-format submission and otto-de-format labels, re-scored from the files, give the record's metrics."""
    from benchmarks.tasks.otto import OttoRecall20

    (outcome,) = run(RunRequest(task="otto-recall20", systems=["otto-session-history"], profile="smoke", device="cpu",
                                results_dir=results_dir, progress=False, isolate=False,
                                overrides={"task.save_submission": True}))
    assert outcome.status == "ok", outcome.error
    record = json.loads(outcome.record_path.read_text())
    folder = outcome.record_path.parent
    submission = folder / next(name for name in record["artifacts"] if name.endswith(".submission.csv"))
    labels = folder / next(name for name in record["artifacts"] if name.endswith(".test_labels.jsonl"))
    rescored = OttoRecall20().score(submission, labels).metrics
    for name in ("recall@20_weighted", "recall@20_clicks", "recall@20_carts", "recall@20_orders"):
        assert rescored[name] == pytest.approx(record["metrics"][name], abs=1e-12)


@pytest.mark.realdata
def test_real_sample_runs_through_the_runner(data_dir, results_dir):
    outcomes = run(RunRequest(task="otto-recall20", systems=["otto-popular", "otto-covisit"], profile="smoke", device="cpu",
                              results_dir=results_dir, progress=False, isolate=False,
                              overrides={"task.dataset": str(data_dir / "otto" / "train.jsonl")}))
    for outcome in outcomes:
        assert outcome.status == "ok", outcome.error
        record = json.loads(outcome.record_path.read_text())
        assert record["dataset"]["synthetic"] is False
        assert record["extras"]["protocol_stats"]["test_sessions"] == 8
        assert len(record["per_example"]["ids"]) == 8
