"""Kind ``session-recommender`` (``otto-recall20``): next clicks, carts and orders of a truncated session;
one served query is one session's events."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from benchmarks.kinds.query_unit import QueryUnit

if TYPE_CHECKING:
    import numpy as np


@runtime_checkable
class SessionRecommender(Protocol):
    """``otto-recall20``: next click, carts and orders of a truncated session.

    Events are polars DataFrames with columns ``session`` (i32), ``aid`` (i32), ``ts`` (i32,
    seconds) and ``type`` (i8: 0 clicks, 1 carts, 2 orders), sorted by session then ts.
    """

    def fit(self, train: Any, test: Any) -> None:
        """Learn from the training sessions; ``test`` holds the truncated test sessions (no labels),
        which Kaggle allowed participants to use."""

    def recommend(self, test: Any, k: int) -> dict[str, np.ndarray]:
        """Return ``{"session": (n,) ids, "clicks"|"carts"|"orders": (n, k) aids}``, one row per
        test session, ``-1`` for an empty slot."""


QUERY_UNIT = QueryUnit(query="one truncated session (its events, a polars DataFrame)",
                       answer="20 aids per event type (clicks, carts, orders)", k=20)


@runtime_checkable
class ServedSessionRecommender(Protocol):
    """Optional: answer sessions one at a time."""

    def serve(self, batch: list[Any], k: int) -> list[dict[str, np.ndarray]]:
        """``batch``: per session its events (the test frame's rows of that session) → per session
        ``{"clicks"|"carts"|"orders": (k,) aids}``, equal to ``recommend``'s row for it."""


PROTOCOL = SessionRecommender
SERVED = ServedSessionRecommender
