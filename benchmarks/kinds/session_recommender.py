"""Kind ``session-recommender`` (``otto-recall20``): next clicks, carts and orders of a truncated session;
one served query is one session's events."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from benchmarks.api import Kind, QueryUnit, TaskData
from benchmarks.kinds.answers import PredictionError, integers

if TYPE_CHECKING:
    import numpy as np

EVENT_TYPES = ("clicks", "carts", "orders")

Events = dict[str, "np.ndarray"]
"""Numpy columns ``session`` (i32), ``aid`` (i32), ``ts`` (i32 seconds), ``type`` (i8), sorted by session and ts.
The task keeps its data in numpy, not polars: the runner forks each job's worker after
``prepare``, and a polars thread pool started in the parent hangs in a forked child."""


def to_frame(events: Events) -> Any:
    """Numpy columns → a polars DataFrame (what systems receive)."""
    import polars as pl

    return pl.DataFrame({name: events[name] for name in ("session", "aid", "ts", "type")})


@dataclass(frozen=True)
class SessionLabels:
    """The ground truth of one test session: the next click, and all later carts and orders.

    A ``clicks`` of None or 0 is no click label (otto-de's rule: aid 0 is their sentinel)."""

    clicks: int | None = None
    carts: frozenset[int] = frozenset()
    orders: frozenset[int] = frozenset()

    def of(self, event_type: str) -> set[int]:
        if event_type == "clicks":
            return {self.clicks} if self.clicks else set()
        return set(getattr(self, event_type))


@dataclass
class SessionData(TaskData):
    """A session task's data: the training events, the truncated test sessions, their labels (``{session: labels}``)
    and the protocol's counts (kept in the record)."""

    train: Events
    test: Events
    labels: dict[int, SessionLabels]
    stats: dict[str, int]


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


@runtime_checkable
class ServedSessionRecommender(Protocol):
    """Optional: answer sessions one at a time."""

    def serve(self, batch: list[Any], k: int) -> list[dict[str, np.ndarray]]:
        """``batch``: per session its events (the test frame's rows of that session) → per session
        ``{"clicks"|"carts"|"orders": (k,) aids}``, equal to ``recommend``'s row for it."""


def serving_queries(data: SessionData) -> list[Any]:
    """The truncated test sessions, each its own events (a polars DataFrame), in session order."""
    return to_frame(data.test).sort(["session", "ts"], maintain_order=True).partition_by("session", maintain_order=True)


def serve_by_recommend(system: SessionRecommender, queries: list[Any],
                       k: int | None = 20) -> list[dict[str, np.ndarray]]:
    """The batch path, and ``serve`` (each session is answered from its own events): what ``recommend`` on all
    sessions' events at once answers for each query."""
    import polars as pl

    predictions = system.recommend(pl.concat(queries), k or 20)
    row = {int(s): i for i, s in enumerate(predictions["session"])}
    return [{name: predictions[name][row[int(events["session"][0])]] for name in EVENT_TYPES} for events in queries]


def check_session_recommendations(predictions: Any, k: int) -> dict[str, np.ndarray]:
    """A session recommender's ``recommend`` answer: ``{"session": (n,) distinct ids, type: (n, ≤k) aids ≥ -1}``,
    as integer arrays (other keys are dropped)."""
    import numpy as np

    if not isinstance(predictions, dict):
        raise PredictionError(f"recommend(): expected a dict of arrays, got {type(predictions).__name__}")
    missing = [key for key in ("session", *EVENT_TYPES) if key not in predictions]
    if missing:
        raise PredictionError(f"recommend(): missing key(s) {', '.join(map(repr, missing))}")
    sessions = integers(predictions["session"], "recommend()['session']", (None,), 0)
    if len(np.unique(sessions)) != len(sessions):
        raise PredictionError("recommend()['session']: a session is listed twice")
    checked = {"session": sessions}
    for event_type in EVENT_TYPES:
        array = integers(predictions[event_type], f"recommend()[{event_type!r}]", (len(sessions), None), -1)
        if array.shape[1] > k:
            raise PredictionError(f"recommend()[{event_type!r}]: {array.shape[1]} columns, expected at most {k}")
        checked[event_type] = array
    return checked


KIND = Kind("session-recommender", SessionRecommender, ServedSessionRecommender,
            QueryUnit(query="one truncated session (its events, a polars DataFrame)",
                      answer="20 aids per event type (clicks, carts, orders)", k=20),
            serving_queries, serve_by_recommend)
