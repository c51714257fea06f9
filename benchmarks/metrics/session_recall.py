"""OTTO's session metric: Recall@20 per event type, weighted 0.10 / 0.30 / 0.60 (otto-de/recsys-dataset).

The formula is the one in otto-de's ``KAGGLE.md`` and ``src/evaluate.py``:

    R_type = Σ_i |{predicted}_i,type[:20] ∩ {truth}_i,type| / Σ_i min(20, |{truth}_i,type|)
    score  = 0.10·R_clicks + 0.30·R_carts + 0.60·R_orders

* predictions are cut to their first 20 entries *before* duplicates are removed (as
  ``prediction[:k]`` then ``set(...)`` in ``evaluate.py``): a duplicate counts once but uses a slot;
* a session with labels but no prediction (or no row for a type) has zero hits;
* the clicks label is one aid (the next click); carts and orders are sets of aids;
* sessions without a label of a type add nothing to that type's numerator or denominator;
* a clicks label of aid 0 is no label, as in otto-de: ``evaluate.py`` tests ``if labels['clicks']``
  and ``labels.py`` never writes one (aid 0 is their "no click yet" sentinel).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from benchmarks.kinds.session_recommender import EVENT_TYPES, SessionLabels
from benchmarks.metrics import Metric, declare
from benchmarks.metrics.recommendation import isin_sorted, unique_sorted

declare(Metric("recall@20_weighted", higher_is_better=True, aliases=("score",),
               description="OTTO's score: 0.1·Recall@20(clicks) + 0.3·(carts) + 0.6·(orders)"))
for _event_type in EVENT_TYPES:
    declare(Metric(f"recall@20_{_event_type}", higher_is_better=True, aliases=(f"recall_{_event_type}",),
                   description=f"OTTO Recall@20 of the {_event_type} labels"))
declare(Metric("session_coverage", higher_is_better=True, description="share of test sessions with a prediction"))

WEIGHTS: dict[str, float] = {"clicks": 0.10, "carts": 0.30, "orders": 0.60}
AID_BITS = 31
"""Vectorised scoring packs a (session row, aid) pair into one int64 key ``row << 31 | aid``; aids are below 2**31."""


@dataclass
class RecallResult:
    """Metrics and per-session hits of one scored submission."""

    metrics: dict[str, float]  # recall@20_clicks, _carts, _orders and _weighted
    sessions: np.ndarray  # the labelled session ids, in the order of the per-session arrays
    hits: dict[str, np.ndarray]  # {type: (n,) hits per session} (0 where the session has no label of that type)
    denominators: dict[str, float]  # {type: Σ min(20, |truth|)}

    def per_session(self) -> dict[str, np.ndarray]:
        """Per-session contributions whose *mean over sessions* equals each metric (for paired tests): session i
        contributes ``n · hits_i / denominator`` to a recall (n sessions), and their weighted sum to ``score``."""
        n = len(self.sessions)
        values = {f"recall@20_{t}": self.hits[t] * (n / d) if (d := self.denominators[t]) else np.zeros(n)
                  for t in EVENT_TYPES}
        values["recall@20_weighted"] = sum(WEIGHTS[t] * values[f"recall@20_{t}"] for t in EVENT_TYPES)
        return values


def session_hits(truth: set[int], predicted: Sequence[int] | None, k: int = 20) -> int:
    """Hits of one (session, type): distinct correct aids among the first ``k`` predicted.

    >>> session_hits({5, 7}, [7, 7, 1, 5], k=3)   # [7, 7, 1] → {7, 1}: one hit
    1
    """
    if not truth or not predicted:
        return 0
    return len(set(predicted[:k]) & truth)


def otto_recall(labels: Mapping[int, SessionLabels], predictions: Mapping[int, Mapping[str, Sequence[int]]],
                k: int = 20) -> RecallResult:
    """Score predictions with OTTO's weighted Recall@k.

    ``labels`` holds every test session; ``predictions`` is ``{session: {type: [aid, ...]}}``, a missing session or
    type predicting nothing. ``metrics["recall@20_weighted"]`` of the result is the competition score.

    Worked example: session 2 has no prediction; R_clicks = 1/2, R_carts = 1/2, R_orders = 0/2, so the score is
    0.1·0.5 + 0.3·0.5 + 0.6·0 = 0.2.

    >>> result = otto_recall(
    ...     {1: SessionLabels(3, frozenset({4, 5}), frozenset({5})), 2: SessionLabels(8, frozenset(), frozenset({6}))},
    ...     {1: {"clicks": [3], "carts": [4, 4, 9], "orders": [9]}})
    >>> {name: round(value, 6) for name, value in result.metrics.items()}
    {'recall@20_clicks': 0.5, 'recall@20_carts': 0.5, 'recall@20_orders': 0.0, 'recall@20_weighted': 0.2}
    """
    sessions = np.fromiter(labels.keys(), dtype=np.int64, count=len(labels))
    hits = {t: np.zeros(len(sessions)) for t in EVENT_TYPES}
    sizes = {t: np.zeros(len(sessions), dtype=np.int64) for t in EVENT_TYPES}
    empty: Mapping[str, Sequence[int]] = {}
    for index, (session, truth) in enumerate(labels.items()):
        predicted = predictions.get(session, empty)
        for event_type in EVENT_TYPES:  # a type without labels stays 0 in both
            wanted = truth.of(event_type)
            sizes[event_type][index] = len(wanted)
            hits[event_type][index] = session_hits(wanted, predicted.get(event_type), k)
    return recall_from_counts(sessions, sizes, hits, k)


def recall_from_counts(sessions: np.ndarray, sizes: Mapping[str, np.ndarray], hits: Mapping[str, np.ndarray],
                       k: int = 20) -> RecallResult:
    """OTTO's weighted Recall@k from per-session counts: R_type = Σ hits / Σ min(k, |truth|).

    ``sizes[type]`` is (n,) |truth| (0 where a session has no label of that type) and ``hits[type]`` (n,) the
    distinct correct aids among the first k predicted, for the (n,) labelled ``sessions``.

    >>> result = recall_from_counts(np.array([1, 2]), {"clicks": np.array([1, 1]), "carts": np.array([2, 0]),
    ...     "orders": np.array([1, 2])}, {"clicks": np.array([1, 0]), "carts": np.array([1, 0]), "orders": np.array([0, 0])})
    >>> {name: round(value, 6) for name, value in result.metrics.items()}
    {'recall@20_clicks': 0.5, 'recall@20_carts': 0.5, 'recall@20_orders': 0.0, 'recall@20_weighted': 0.2}
    """
    denominators = {t: float(np.minimum(np.asarray(sizes[t]), k).sum()) for t in EVENT_TYPES}
    counted = {t: np.asarray(hits[t], dtype=np.float64) for t in EVENT_TYPES}
    metrics = {f"recall@20_{t}": float(counted[t].sum() / total) if (total := denominators[t]) else 0.0
               for t in EVENT_TYPES}
    metrics["recall@20_weighted"] = float(sum(WEIGHTS[t] * metrics[f"recall@20_{t}"] for t in EVENT_TYPES))
    return RecallResult(metrics=metrics, sessions=np.asarray(sessions), hits=counted, denominators=denominators)


def pair_keys(rows: np.ndarray, aids: np.ndarray) -> np.ndarray:
    """One int64 key per (session row, aid): ``row << 31 | aid``.

    >>> pair_keys(np.array([0, 2]), np.array([7, 5])).tolist()
    [7, 4294967301]
    """
    return (np.asarray(rows, dtype=np.int64) << AID_BITS) | np.asarray(aids, dtype=np.int64)


@dataclass
class TruthIndex:
    """One event type's truth, indexed for counting hits with numpy: rows with one true aid are compared directly,
    the others by binary search."""

    single: np.ndarray  # (n,) the true aid of each row that has exactly one, else -1
    keys: np.ndarray  # sorted :func:`pair_keys` of the rows with two or more true aids
    many: np.ndarray  # (n,) True for those rows

    @classmethod
    def from_keys(cls, truth_keys: np.ndarray, n: int) -> TruthIndex:
        """Index sorted distinct :func:`pair_keys` of the truth of ``n`` session rows."""
        rows = truth_keys >> AID_BITS
        sizes = np.bincount(rows, minlength=n)
        one = sizes[rows] == 1
        single = np.full(n, -1, dtype=np.int64)
        single[rows[one]] = truth_keys[one] & ((1 << AID_BITS) - 1)
        return cls(single=single, keys=truth_keys[~one], many=sizes > 1)

    def hit_rows(self, rows: np.ndarray, predicted: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(rows with a hit, their hit counts)`` in no particular order: the distinct aids of ``predicted`` (m, w)
        (already cut to k, -1 padding) found in the truth of ``rows`` (m,) (each at most once); a vectorised
        :func:`session_hits` in work proportional to the predictions, not to n (a reader calls it once per block).

        >>> index = TruthIndex.from_keys(pair_keys(np.array([0, 0, 1]), np.array([5, 7, 8])), n=2)
        >>> found, counts = index.hit_rows(np.array([0, 1]), np.array([[7, 7, 1], [8, 8, -1]]))  # a repeat counts once
        >>> sorted(zip(found.tolist(), counts.tolist()))
        [(0, 1), (1, 1)]
        """
        rows, predicted = np.asarray(rows, dtype=np.int64), np.asarray(predicted, dtype=np.int64)
        single = self.single[rows]
        single_rows = rows[(single >= 0) & (predicted == single[:, None]).any(axis=1)]
        several = self.many[rows]
        if not several.any():
            return single_rows, np.ones(len(single_rows), dtype=np.int64)
        aids = predicted[several].ravel()
        keys = pair_keys(np.repeat(rows[several], predicted.shape[1]), aids)[aids >= 0]
        matched = unique_sorted(keys[isin_sorted(keys, self.keys)]) >> AID_BITS
        starts = np.flatnonzero(np.concatenate(([True], matched[1:] != matched[:-1]))) if len(matched) else matched
        many_counts = np.diff(np.append(starts, len(matched)))
        return (np.concatenate([single_rows, matched[starts]]),
                np.concatenate([np.ones(len(single_rows), dtype=np.int64), many_counts]))
