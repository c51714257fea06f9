"""otto-de's test-set procedure: the vectorised ``make_testset`` against a plain, session-by-session
re-implementation of their ``src/testset.py`` + ``src/labels.py`` (the oracle), and its invariants."""

from __future__ import annotations

import random

import numpy as np
import pytest

from benchmarks.data.otto_synthetic import SyntheticSpec, generate
from benchmarks.data.otto_testset import make_testset
from benchmarks.metrics.session_recall import SessionLabels

NAMES = ("clicks", "carts", "orders")


def as_sessions(events: dict) -> list[dict]:
    sessions: dict[int, list[dict]] = {}
    for s, a, t, k in zip(events["session"].tolist(), events["aid"].tolist(), events["ts"].tolist(),
                          events["type"].tolist(), strict=True):
        sessions.setdefault(s, []).append({"aid": a, "ts": t, "type": NAMES[k]})
    return [{"session": s, "events": e} for s, e in sorted(sessions.items())]


def oracle(sessions: list[dict], days: int, seed: int) -> tuple[list[dict], list[dict], dict[int, SessionLabels]]:
    """testset.py, step by step: split, trim, filter unknown items, then split_events per session."""
    random.seed(seed)
    max_ts = max(session["events"][-1]["ts"] for session in sessions)
    split_ts = max_ts - days * 24 * 60 * 60
    train, test, items = [], [], set()
    for session in sessions:
        if session["events"][0]["ts"] > split_ts:
            test.append(session)
        else:
            events = [e for e in session["events"] if e["ts"] < split_ts]
            if len(events) >= 2:
                items.update(e["aid"] for e in events)
                train.append({"session": session["session"], "events": events})
    filtered = []
    for session in test:
        events = [e for e in session["events"] if e["aid"] in items]
        if len(events) >= 2:
            filtered.append({"session": session["session"], "events": events})
    inputs, labels = [], {}
    for session in filtered:
        events = session["events"]
        cut = random.randint(1, len(events) - 1)  # split_events: randint(1, len(ground_truth(events)))
        rest = events[cut:]
        click = next((e["aid"] for e in rest if e["type"] == "clicks"), None)
        carts = frozenset(e["aid"] for e in rest if e["type"] == "carts")
        orders = frozenset(e["aid"] for e in rest if e["type"] == "orders")
        inputs.append({"session": session["session"], "events": events[:cut]})
        labels[session["session"]] = SessionLabels(click, carts, orders)
    return train, inputs, labels


@pytest.mark.parametrize("seed, days", [(42, 7), (0, 2)])
def test_make_testset_equals_the_oracle(seed, days):
    events = generate(SyntheticSpec(scale=0.0003, seed=seed))
    split = make_testset(events, test_days=days, seed=seed)
    train, inputs, labels = oracle(as_sessions(events), days, seed)
    assert split.labels == labels
    assert as_sessions(split.test) == inputs
    assert as_sessions(split.train) == train
    assert len(labels) > 100  # the comparison is not vacuous


def test_protocol_invariants():
    events = generate(SyntheticSpec(scale=0.0005, seed=5))
    split = make_testset(events, test_days=7, seed=1)
    split_ts = split.stats["split_ts"]
    assert split.train["ts"].max() < split_ts
    assert np.isin(split.test["aid"], split.train["aid"]).all()
    train_sessions, test_sessions = set(split.train["session"].tolist()), set(split.test["session"].tolist())
    assert not train_sessions & test_sessions
    assert test_sessions == set(split.labels)
    assert np.bincount(split.train["session"] - split.train["session"].min()).max() >= 2
    for truth in split.labels.values():  # every test session keeps something to predict
        assert truth.clicks is not None or truth.carts or truth.orders
    # a different truncation seed cuts the sessions differently but keeps the same sessions
    other = make_testset(events, test_days=7, seed=2)
    assert set(other.labels) == set(split.labels) and other.labels != split.labels
