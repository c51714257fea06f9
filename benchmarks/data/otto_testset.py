"""The OTTO test-set protocol, as otto-de's ``src/testset.py`` makes it: split by time, truncate each
test session at a random point, label it from the rest. Shared by the ``otto-recall20`` task and by
systems that rebuild a validation split from the training sessions (``otto-covisit-ranker``)."""

from __future__ import annotations

import random
from dataclasses import dataclass

import numpy as np

from benchmarks.kinds.session_recommender import Events, SessionLabels


@dataclass
class OttoSplit:
    """The protocol's output: events for training, the truncated test sessions, and their labels."""

    train: Events
    test: Events
    labels: dict[int, SessionLabels]
    stats: dict[str, int]


def _select(events: Events, mask: np.ndarray) -> Events:
    return {name: values[mask] for name, values in events.items()}


def _session_index(session: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(per-event index of its session, first row of each session, session lengths) of sorted ids."""
    if len(session) == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty
    starts = np.concatenate(([0], np.flatnonzero(session[1:] != session[:-1]) + 1))
    lengths = np.diff(np.concatenate((starts, [len(session)])))
    return np.repeat(np.arange(len(starts), dtype=np.int32), lengths), starts, lengths


def _labels(session_ids: list[int], rest: Events, rest_index: np.ndarray) -> dict[int, SessionLabels]:
    """Each test session's labels from the events after its cut (``rest``, whose session rows are ``rest_index``):
    the first click, and every cart and order."""
    clicks: list[int | None] = [None] * len(session_ids)
    is_click = rest["type"] == 0
    click_sessions, first = np.unique(rest_index[is_click], return_index=True)
    for session_row, aid in zip(click_sessions.tolist(), rest["aid"][is_click][first].tolist(), strict=True):
        clicks[session_row] = aid if aid != 0 else None  # otto-de's labels.py: `if prev_labels['clicks']` drops aid 0
    buys: dict[int, tuple[set[int], set[int]]] = {}
    is_buy = rest["type"] > 0
    for session_row, aid, kind in zip(rest_index[is_buy].tolist(), rest["aid"][is_buy].tolist(),
                                      rest["type"][is_buy].tolist(), strict=True):
        buys.setdefault(session_row, (set(), set()))[kind - 1].add(aid)
    empty: tuple[set[int], set[int]] = (set(), set())
    return {int(session): SessionLabels(clicks[row], *map(frozenset, buys.get(row, empty)))
            for row, session in enumerate(session_ids)}


def make_testset(events: Events, test_days: int, seed: int) -> OttoSplit:
    """otto-de's ``testset.py`` on events (ts in seconds, sorted by session and ts), split at ``max(ts) -
    test_days`` days: training sessions cut at the split (kept with ≥ 2 events); test sessions that started after
    it, without items unseen in training, with ≥ 2 events, truncated where ``random.Random(seed).randint(1, n - 1)``
    says (drawn in increasing session order, as in ``split_events``); labels from the rest: the next click, and
    every later cart and order.

    Where it stands against otto-de's script (datasets/otto.md):

    - The cuts are those of ``python -O src/testset.py --seed SEED``: with assertions on, otto-de's
      ``@beartype`` checks of ``list[dict]`` arguments draw ``getrandbits`` from the same global
      ``random`` that ``split_events`` draws its cut from, so the cuts change after a few sessions;
      under ``-O`` beartype is off and the k-th test session is cut at the k-th
      ``randint(1, n_k - 1)`` of ``random.seed(SEED)`` (tests/test_otto_protocol.py pins it).
    - A next click on aid 0 is no label, as in otto-de's ``labels.py`` (``if prev_labels['clicks']``).
    - Timestamps are whole seconds (otto-de's milliseconds floored), so an event in the split's
      second may fall on the other side; the task's ``test_days`` defaults to 7, otto-de's script to 2.
    """
    # written for the full size (217M events): one copy of the training events, one-byte masks,
    # int32 session indices, and a lookup table instead of np.unique / np.isin over all events
    ts = events["ts"]
    max_ts = int(ts.max())
    split_ts = max_ts - test_days * 24 * 3600
    index, starts, _ = _session_index(events["session"])
    is_test = (ts[starts] > split_ts)[index]
    in_train = ~is_test
    in_train &= ts < split_ts
    in_train &= (np.add.reduceat(in_train, starts, dtype=np.int64) >= 2)[index]  # ≥ 2 events left
    del index
    train = _select(events, in_train)
    del in_train
    seen = np.zeros(int(events["aid"].max()) + 1, dtype=bool)
    seen[train["aid"]] = True
    test = _select(events, np.flatnonzero(is_test))
    del is_test
    test = _select(test, seen[test["aid"]])
    index, _, lengths = _session_index(test["session"])
    test = _select(test, lengths[index] >= 2)
    index, starts, lengths = _session_index(test["session"])
    rng = random.Random(seed)
    cuts = np.asarray([rng.randint(1, n - 1) for n in lengths.tolist()], dtype=np.int64)
    position = np.arange(len(index)) - starts[index]
    keep = position < cuts[index]
    inputs = _select(test, keep)
    rest = _select(test, ~keep)
    labels = _labels(test["session"][starts].tolist(), rest, index[~keep])
    stats = {
        "train_sessions": len(_session_index(train["session"])[1]),
        "train_events": len(train["session"]),
        "test_sessions": len(labels),
        "test_input_events": len(inputs["session"]),
        "items": int(seen.sum()),
        "split_ts": split_ts,
    }
    return OttoSplit(train=train, test=inputs, labels=labels, stats=stats)
