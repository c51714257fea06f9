"""System ``otto-popular``: the same 20 most frequent aids of each event type for every session."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from benchmarks.api import System
from benchmarks.kinds.session_recommender import serve_by_recommend
from benchmarks.registry import register_system
from systems.otto.lib.common import EVENT_TYPES, popular_items, test_sessions


@dataclass
class Config:
    last_days: float = 7.0
    """Count events of the last N days of training (0 = all)."""


@register_system
class OttoPopular(System):
    id = "otto-popular"
    kind = "session-recommender"
    Config = Config
    requires = ("polars",)
    extra = "otto"
    description = "most clicked / carted / ordered aids of the last week, the same for every session"

    def fit(self, train: Any, test: Any) -> None:
        self.popular = popular_items(train, 20, self.config.last_days or None)

    def recommend(self, test: Any, k: int) -> dict[str, np.ndarray]:
        sessions = test_sessions(test)
        result: dict[str, np.ndarray] = {"session": sessions}
        for name in EVENT_TYPES:
            row = np.full(k, -1, dtype=np.int32)
            row[: min(k, len(self.popular[name]))] = self.popular[name][:k]
            result[name] = np.tile(row, (len(sessions), 1))
        return result

    def serve(self, batch: list[Any], k: int) -> list[dict[str, np.ndarray]]:
        """Per session its k aids per event type, through ``recommend`` on the batch's events (each session is
        answered from its own events)."""
        return serve_by_recommend(self, batch, k)
