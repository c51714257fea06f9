"""System ``hm-popular``: last week's bestsellers, the same 12 for everyone."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from benchmarks.api import System
from benchmarks.kinds.recommender import serve_by_recommend
from benchmarks.registry import register_system
from systems.hm.lib.common import bestsellers


@dataclass
class Config:
    days: int = 7
    """Count purchases over the last ``days`` days of the training data."""


@register_system
class HMPopular(System):
    id = "hm-popular"
    kind = "recommender"
    Config = Config
    description = "the 12 articles bought most in the last week of training data"

    def fit(self, train) -> None:
        self.top = bestsellers(train.transactions, train.last_day, self.config.days, 12)

    def recommend(self, customers: np.ndarray, k: int) -> np.ndarray:
        row = np.full(k, -1, dtype=np.int64)
        row[: min(k, len(self.top))] = self.top[:k]
        return np.tile(row, (len(customers), 1))

    def serve(self, batch: list[int], k: int) -> list[np.ndarray]:
        """Per customer its k articles, through ``recommend`` on the batch (its per-customer path)."""
        return serve_by_recommend(self, batch, k)
