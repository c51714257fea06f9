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
        inputs.append({"session": session["session"], "events": events[:cut]})
        labels[session["session"]] = labels_after(events, cut)
    return train, inputs, labels


def labels_after(events: list[dict], cut: int) -> SessionLabels:
    """otto-de's ``labels.py`` rule for the last kept event, re-written: walk the session backwards from its
    end to the cut, remembering the latest-seen (so the earliest) click and every cart and order; a click is
    a label only if truthy (``if prev_labels['clicks']``), so a next click on aid 0 gives none."""
    click, carts, orders = None, set(), set()
    for event in reversed(events[cut:]):
        if event["type"] == "clicks":
            click = event["aid"]
        elif event["type"] == "carts":
            carts.add(event["aid"])
        else:
            orders.add(event["aid"])
    return SessionLabels(click if click else None, frozenset(carts), frozenset(orders))


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


DAY = 24 * 3600
PINNED_LENGTHS = [2 + (k * 7) % 11 for k in range(40)]
"""40 test sessions of 2..12 events."""
OTTO_DE_CUTS_WITH_O = [1, 1, 3, 4, 2, 1, 2, 6, 1, 7, 1, 1, 2, 2, 4, 5, 3, 1, 5, 1, 9, 4, 1, 8, 3, 1, 7, 1, 7, 3, 2, 3, 2, 1, 2,
                       1, 7, 1, 2, 6]
"""``len(split_events(events)[0])`` per session of PINNED_LENGTHS, in order, after ``random.seed(42)``: otto-de's
src/testset.py (recsys-dataset @ HEAD, beartype 0.23.1) run with ``python -O``, where beartype is off."""
OTTO_DE_CUTS_WITH_BEARTYPE = [1, 4, 1, 9, 4, 1, 9, 5, 2, 5, 1, 1, 6, 2, 6, 4, 2, 1, 5, 2, 5, 5, 1, 2, 2, 2, 7, 2, 6, 3, 2, 2, 2,
                              1, 7, 2, 1, 1, 2, 4]
"""The same without ``-O``: beartype's checks of the ``list[dict]`` arguments draw ``getrandbits`` from the global
``random`` between the cuts, so from the 2nd session on the cuts differ. The project does not reproduce this."""


def _pinned_events(aid_zero_next: bool = False) -> dict:
    """10 training sessions (aids 0..29, early) and the PINNED_LENGTHS test sessions (after the split), each test
    event on a training aid; with ``aid_zero_next`` every test session alternates clicks on aid 0 and aid 7."""
    rows = []
    for session in range(10):
        rows += [(session, aid, 1_659_304_800 + session * 60 + i, i % 3) for i, aid in enumerate(range(session * 3, session * 3 + 3))]
    start = 1_659_304_800 + 20 * DAY
    for k, length in enumerate(PINNED_LENGTHS):
        for i in range(length):
            aid = (0 if i % 2 else 7) if aid_zero_next else (k * 5 + i) % 30
            kind = 0 if aid_zero_next else (i * k) % 3
            rows.append((100 + k, aid, start + k * 600 + i, kind))
    session, aid, ts, kind = (np.asarray(column) for column in zip(*rows))
    return {"session": session.astype(np.int32), "aid": aid.astype(np.int32), "ts": ts.astype(np.int32), "type": kind.astype(np.int8)}


def test_the_cuts_are_otto_de_under_python_O_on_40_sessions():
    """Pinned: the project's cuts are otto-de's under ``python -O`` (the global ``random`` seeded with the split
    seed, one ``randint(1, n - 1)`` per test session in order), not those of a plain ``python`` run."""
    split = make_testset(_pinned_events(), test_days=7, seed=42)
    kept = np.bincount(split.test["session"] - 100, minlength=len(PINNED_LENGTHS)).tolist()
    assert split.stats["test_sessions"] == len(PINNED_LENGTHS) > 20
    assert kept == OTTO_DE_CUTS_WITH_O
    random.seed(42)  # an independent statement of the rule
    assert kept == [random.randint(1, n - 1) for n in PINNED_LENGTHS]
    assert kept != OTTO_DE_CUTS_WITH_BEARTYPE and kept[:1] == OTTO_DE_CUTS_WITH_BEARTYPE[:1]
    _, inputs, labels = oracle(as_sessions(_pinned_events()), 7, 42)
    assert split.labels == labels and as_sessions(split.test) == inputs


def test_a_next_click_on_aid_0_is_no_label_as_in_otto_de():
    """otto-de's labels.py treats aid 0 as "no click yet": a session whose next click is on aid 0 has no click
    label, even when a click on another aid follows; carts and orders of aid 0 stay labels."""
    events = _pinned_events(aid_zero_next=True)
    split = make_testset(events, test_days=7, seed=42)
    _, inputs, labels = oracle(as_sessions(events), 7, 42)
    assert split.labels == labels and as_sessions(split.test) == inputs
    next_is_zero = [k for k, cut in enumerate(OTTO_DE_CUTS_WITH_O) if cut % 2 == 1]  # the event after the cut is aid 0
    assert len(next_is_zero) > 10
    for k in next_is_zero:
        assert split.labels[100 + k].clicks is None
    assert all(split.labels[100 + k].clicks == 7 for k in range(len(PINNED_LENGTHS)) if k not in next_is_zero)
    buys = {name: np.array(values) for name, values in _pinned_events().items()}
    buys["aid"][buys["session"] >= 100] = 0
    buys["type"][buys["session"] >= 100] = 1
    assert all(truth.carts == {0} and truth.clicks is None for truth in make_testset(buys, 7, 42).labels.values())


def test_data_stats_states_the_seconds_and_the_window(capsys, tmp_path):
    """Both differences from otto-de's script are printed by `data-stats` (text and --json), with the task's window."""
    import json

    from benchmarks import cli
    from benchmarks.tasks.otto import Options

    assert cli.main(["data-stats", "--task", "otto-recall20", "--set", "scale=0.0003", "--cache-dir", str(tmp_path)]) == 0
    text = capsys.readouterr().out
    assert "floored (ts // 1000)" in text and f"the last {Options().test_days} days" in text and "--days 2" in text
    assert "python -O" in text
    assert cli.main(["data-stats", "--task", "otto-recall20", "--set", "scale=0.0003", "--cache-dir", str(tmp_path), "--json"]) == 0
    notes = json.loads(capsys.readouterr().out)["protocol_notes"]
    assert len(notes) == 3 and any("floored" in note for note in notes) and any("--days 2" in note for note in notes)
