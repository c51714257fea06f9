"""System ``hm-time-decay-popular``: bestsellers where each purchase counts less the older it is."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from benchmarks.api import System
from benchmarks.kinds.recommender import serve_by_recommend
from benchmarks.registry import register_system
from systems.hm.lib.common import bestsellers


@dataclass
class Config:
    half_life_days: float = 5.0
    """A purchase ``half_life_days`` before the last training day counts half."""
    window_days: int = 56


@register_system
class HMTimeDecayPopular(System):
    id = "hm-time-decay-popular"
    kind = "recommender"
    Config = Config
    description = "global bestsellers with exponentially time-decayed purchase counts"

    def fit(self, train) -> None:
        self.top = bestsellers(train.transactions, train.last_day, self.config.window_days, 12, self.config.half_life_days)

    def recommend(self, customers: np.ndarray, k: int) -> np.ndarray:
        row = np.full(k, -1, dtype=np.int64)
        row[: min(k, len(self.top))] = self.top[:k]
        return np.tile(row, (len(customers), 1))

    def serve(self, batch: list[int], k: int) -> list[np.ndarray]:
        """Per customer its k articles, through ``recommend`` on the batch (its per-customer path)."""
        return serve_by_recommend(self, batch, k)
