"""Task ``hm-map12``: the holdout protocol on hand-made data, Kaggle submissions, and a smoke run
of every H&M system through the real runner."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from benchmarks.api import DatasetInfo, RunContext
from benchmarks.data.hm import HMData, read_submission
from benchmarks.data.hm_synthetic import VERSION
from benchmarks.registry import discover, systems_for
from benchmarks.runner import RunRequest, run
from benchmarks.tasks.hm import HMMap12, Options

discover()
HM_SYSTEMS = [s.id for s in systems_for("hm-map12") if not s.missing_requirements()]


def tiny_data() -> HMData:
    """4 customers (one never buys, one only before the test week), 5 articles, days 0..20."""
    rows = [  # day, customer, article
        (0, 0, 0), (3, 0, 1), (10, 1, 2), (13, 0, 0),  # train (days < 14)
        (14, 0, 0), (15, 0, 3), (15, 0, 3), (20, 2, 4),  # test week 14..20: customer 0 twice the same
    ]
    tx = pd.DataFrame(rows, columns=["day", "customer", "article"]).astype({"day": np.int16, "customer": np.int32, "article": np.int32})
    tx["price"] = np.float32(0.02)
    tx["channel"] = np.int8(2)
    customers = pd.DataFrame({"age": np.float32([20, 30, 40, np.nan]), "fn": np.int8(0), "active": np.int8(0),
                              "club": np.int32(0), "news": np.int32(0), "postal": np.int32(0)})
    articles = pd.DataFrame({name: np.zeros(5, np.int32) for name in ("product_group_name", "index_group_no")})
    return HMData(transactions=tx, customers=customers, articles=articles,
                  customer_ids=np.array([f"{i:064x}" for i in range(4)], dtype=object),
                  article_ids=np.array([f"{108775001 + i:010d}" for i in range(5)], dtype=object),
                  start_date=dt.date(2020, 9, 2), listed_customers=4)


def test_local_holdout_splits_the_last_week():
    data = tiny_data()
    task_data = HMMap12(Options(holdout="local")).split(data, DatasetInfo("tiny", "0"))
    train = task_data.train
    assert train.transactions["day"].max() == 13 and train.last_day == 13
    assert task_data.week == ["2020-09-16", "2020-09-22"]
    assert task_data.customers.tolist() == [0, 2]  # customers 1 and 3 bought nothing: not scored
    truth = task_data.truth
    assert truth.items.tolist() == [0, 3, 4] and truth.offsets.tolist() == [0, 2, 3]  # distinct articles

    perfect = np.array([[0, 3] + [-1] * 10, [4, 4] + [-1] * 10])
    evaluation = HMMap12().evaluate(perfect, task_data, RunContext(task_id="hm-map12"))
    assert evaluation.metrics["map@12"] == 1.0 and evaluation.metrics["recall@12"] == 1.0
    assert evaluation.metrics["coverage"] == 3 / 5
    late = np.array([[1, 2, 0] + [-1] * 9, [0] * 12])
    evaluation = HMMap12().evaluate(late, task_data, RunContext(task_id="hm-map12"))
    assert evaluation.per_example["map@12"] == [pytest.approx(1 / 3 / 2, abs=1e-6), 0.0]  # kept to 6 decimals


def test_kaggle_holdout_trains_on_everything_and_asks_every_listed_customer():
    task_data = HMMap12(Options(holdout="kaggle")).split(tiny_data(), DatasetInfo("tiny", "0"))
    assert task_data.train.last_day == 20 and len(task_data.train.transactions) == 8
    assert task_data.customers.tolist() == [0, 1, 2, 3] and task_data.truth is None
    assert task_data.week == ["2020-09-23", "2020-09-29"]


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("hm-cache")


@pytest.mark.integration
@pytest.mark.parametrize("system", HM_SYSTEMS)
def test_every_system_runs_the_smoke_profile(system: str, smoke_run):
    """The smoke runs the contract test makes (one per session), checked for what recommenders promise."""
    record = smoke_run("hm-map12", {"task.source": "synthetic"}, None)[system]
    assert record.ok, record.error
    assert 0.0 < record.metrics["map@12"] <= 1.0
    assert 0.0 < record.metrics["coverage"] <= 1.0
    assert record.dataset.synthetic is True
    assert len(record.per_example.values["map@12"]) == record.extras["customers_scored"]
    assert record.metrics["map@12"] == pytest.approx(np.mean(record.per_example.values["map@12"]), abs=1e-6)


@pytest.mark.integration
def test_written_submission_scores_the_same_as_the_record(results_dir: Path, cache_dir: Path, monkeypatch):
    monkeypatch.setenv("MLSD_CACHE_DIR", str(cache_dir))
    (outcome,) = run(RunRequest(task="hm-map12", systems=["hm-repurchase"], seeds=[0], profile="smoke", results_dir=results_dir,
                                progress=False, update_leaderboard=False, overrides={"source": "synthetic", "save_submission": True}))
    record = json.loads(outcome.record_path.read_text())
    submission, truth = (outcome.record_path.parent / name for name in record["artifacts"])
    rescored = HMMap12().score(submission, truth)
    assert rescored.metrics["map@12"] == pytest.approx(record["metrics"]["map@12"], abs=1e-9)


@pytest.mark.integration
def test_kaggle_holdout_writes_a_full_submission(results_dir: Path, cache_dir: Path, monkeypatch):
    monkeypatch.setenv("MLSD_CACHE_DIR", str(cache_dir))
    (outcome,) = run(RunRequest(task="hm-map12", systems=["hm-popular"], seeds=[0], profile="smoke", results_dir=results_dir,
                                progress=False, update_leaderboard=False, overrides={"source": "synthetic", "holdout": "kaggle"}))
    assert outcome.status == "ok", outcome.error
    record = json.loads(outcome.record_path.read_text())
    assert record["metrics"]["map@12"] is None  # no truth for the test week
    (name,) = record["artifacts"]
    rows = read_submission(outcome.record_path.parent / name)
    customers = pd.read_csv(cache_dir / "hm" / "synthetic" / f"v{VERSION}-scale=0.002-seed=0" / "customers.csv")
    assert list(rows) == customers["customer_id"].tolist()
    assert all(len(items) == 12 and all(re.fullmatch(r"\d{10}", a) for a in items) for items in rows.values())


@pytest.mark.integration
@pytest.mark.realdata
def test_real_sample_runs_through_the_task(data_dir: Path, results_dir: Path, tmp_path: Path, monkeypatch):
    monkeypatch.setenv("MLSD_CACHE_DIR", str(tmp_path))
    (outcome,) = run(RunRequest(task="hm-map12", systems=["hm-repurchase"], seeds=[0], profile="smoke", results_dir=results_dir,
                                progress=False, update_leaderboard=False,
                                overrides={"task.dataset": str(data_dir / "hm" / "ragrec-sample")}))
    assert outcome.status == "ok", outcome.error
    record = json.loads(outcome.record_path.read_text())
    assert record["dataset"]["synthetic"] is False
    assert record["extras"]["test_week"] == ["2020-09-16", "2020-09-22"]
    assert any("sales_channel_id" in note for note in record["extras"]["data_notes"])


@pytest.mark.slow
def test_default_profile_ladder(results_dir: Path, cache_dir: Path, monkeypatch):
    """On the default synthetic data, repurchase and time-decay popularity beat popularity and the ranker is at or near the top."""
    monkeypatch.setenv("MLSD_CACHE_DIR", str(cache_dir))
    outcomes = run(RunRequest(task="hm-map12", systems=["hm-popular", "hm-time-decay-popular", "hm-repurchase", "hm-lgbm-ranker",
                                                        "hm-als"], seeds=[0],
                              profile="default", results_dir=results_dir, progress=False, update_leaderboard=False,
                              overrides={"source": "synthetic"}))
    score = {o.system: o.metrics["map@12"] for o in outcomes}
    assert score["hm-repurchase"] > score["hm-popular"] and score["hm-time-decay-popular"] > score["hm-popular"]
    assert score["hm-lgbm-ranker"] >= max(score.values()) - 1e-9


@pytest.mark.realdata
@pytest.mark.parametrize("system", ["hm-lgbm-ranker", "hm-itemcf"])
def test_one_day_sample_gives_a_kaggle_submission(system: str, data_dir: Path, results_dir: Path, tmp_path: Path, monkeypatch):
    """kaggle-head10k covers one day: no label week for the ranker, yet every system must answer."""
    if system not in HM_SYSTEMS:
        pytest.skip(f"{system} unavailable here")
    monkeypatch.setenv("MLSD_CACHE_DIR", str(tmp_path))
    (outcome,) = run(RunRequest(task="hm-map12", systems=[system], seeds=[0], profile="smoke", results_dir=results_dir,
                                progress=False, update_leaderboard=False, isolate=False,
                                overrides={"task.dataset": str(data_dir / "hm" / "kaggle-head10k"), "holdout": "kaggle"}))
    assert outcome.status == "ok", outcome.error
    record = json.loads(outcome.record_path.read_text())
    rows = read_submission(outcome.record_path.parent / record["artifacts"][0])
    assert len(rows) == 10_000 and all(len(items) == 12 for items in rows.values())
