"""System ``otto-session-history``: re-rank the session's own aids by recency and type weight, fill with popular ones."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from benchmarks.api import System
from benchmarks.kinds.session_recommender import serve_by_recommend
from benchmarks.registry import register_system
from systems.otto.lib.common import EVENT_TYPES, history_scores, popular_items, test_sessions, top_k_lists


@dataclass
class Config:
    last_days: float = 7.0
    """Popularity for the fill is counted over the last N days of training (0 = all)."""


@register_system
class OttoSessionHistory(System):
    id = "otto-session-history"
    kind = "session-recommender"
    Config = Config
    requires = ("polars",)
    extra = "otto"
    description = "the session's aids by Σ recency × type weight (clicks 1, carts 6, orders 3), then popular aids"

    def fit(self, train: Any, test: Any) -> None:
        self.popular = popular_items(train, 40, self.config.last_days or None)

    def recommend(self, test: Any, k: int) -> dict[str, np.ndarray]:
        import polars as pl

        sessions = test_sessions(test)
        scores = history_scores(test).select("session", "aid", pl.col("history").alias("score"))
        result: dict[str, np.ndarray] = {"session": sessions}
        for name in EVENT_TYPES:
            result[name] = top_k_lists(scores, sessions, k, self.popular[name])
        return result

    def serve(self, batch: list[Any], k: int) -> list[dict[str, np.ndarray]]:
        """Per session its k aids per event type, through ``recommend`` on the batch's events (each session is
        answered from its own events)."""
        return serve_by_recommend(self, batch, k)
