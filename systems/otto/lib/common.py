"""Shared pieces of the OTTO systems: type weights, popularity, session-history scores, top-k lists.

Not a system itself. Events are polars DataFrames (session i32, aid i32, ts i32 seconds,
type i8 0/1/2) sorted by session and ts.
"""

from __future__ import annotations

from typing import Any

import numpy as np

TYPE_WEIGHTS: dict[int, float] = {0: 1.0, 1: 6.0, 2: 3.0}
"""Clicks, carts, orders: the weights of the public co-visitation baseline (Chris Deotte's notebook)."""
EVENT_TYPES: tuple[str, ...] = ("clicks", "carts", "orders")


def popular_items(events: Any, k: int, last_days: float | None = 7.0) -> dict[str, np.ndarray]:
    """The k most frequent aids per event type (over the last ``last_days`` of ``events``).

    Returns:
        ``{"clicks"|"carts"|"orders": (k,) int32}``; a type with too few events is filled from clicks.
    """
    import polars as pl

    if last_days is not None:
        events = events.filter(pl.col("ts") >= int(events["ts"].max()) - int(last_days * 86400))
    result: dict[str, np.ndarray] = {}
    overall = events.group_by("aid").len().sort(["len", "aid"], descending=[True, False])["aid"].to_numpy()
    for code, name in enumerate(EVENT_TYPES):
        ranked = (events.filter(pl.col("type") == code).group_by("aid").len()
                  .sort(["len", "aid"], descending=[True, False])["aid"].to_numpy())
        merged = list(dict.fromkeys([*ranked[:k].tolist(), *overall[: 2 * k].tolist()]))[:k]
        result[name] = np.asarray(merged, dtype=np.int32)
    return result


def history_scores(events: Any) -> Any:
    """Per (session, aid): Σ recency weight × type weight over the session's events.

    Recency weights grow from 2^0.1 − 1 ≈ 0.07 (first event) to 1 (last event), as in the public
    baseline's ``np.logspace(0.1, 1, n, base=2) - 1``.

    Returns:
        DataFrame (session, aid, history f64, last_position i64: 0 = the latest event).
    """
    import polars as pl

    position = pl.int_range(pl.len()).over("session")
    length = pl.len().over("session")
    fraction = pl.when(length > 1).then(position / (length - 1)).otherwise(1.0)
    weight = (2.0 ** (0.1 + 0.9 * fraction) - 1.0) * pl.col("type").replace_strict(TYPE_WEIGHTS, return_dtype=pl.Float64)
    return (events.with_columns(weight.alias("w"), (length - 1 - position).alias("back"))
            .group_by(["session", "aid"]).agg(pl.col("w").sum().alias("history"), pl.col("back").min().alias("last_position")))


def top_k_lists(scores: Any, sessions: np.ndarray, k: int, fill: np.ndarray) -> np.ndarray:
    """Turn (session, aid, score) rows into a (n, k) array of the best aids per session.

    Args:
        scores: DataFrame with ``session``, ``aid``, ``score`` (higher first; ties by aid).
        sessions: (n,) the session ids, in output row order.
        k: list length.
        fill: aids appended, in order, to lists shorter than k (skipping ones already there).

    Returns:
        (n, k) int32 array; -1 where nothing was left to fill.
    """
    import polars as pl

    ranked = (scores.sort(["session", "score", "aid"], descending=[False, True, False])
              .group_by("session", maintain_order=True).agg(pl.col("aid").head(k)))
    lookup = dict(zip(ranked["session"].to_list(), ranked["aid"].to_list(), strict=True))
    out = np.full((len(sessions), k), -1, dtype=np.int32)
    fill_list = fill.tolist()
    for row, session in enumerate(sessions.tolist()):
        items = lookup.get(session, [])
        if len(items) < k:
            present = set(items)
            items = items + [a for a in fill_list if a not in present][: k - len(items)]
        out[row, : len(items)] = items
    return out


def test_sessions(test: Any) -> np.ndarray:
    """The sorted unique session ids of the test events."""
    return np.unique(test["session"].to_numpy())
