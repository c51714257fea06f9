"""System ``hm-repurchase``: each customer's recent purchases (time-decayed), then last week's
bestsellers."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from benchmarks.api import System
from benchmarks.kinds.recommender import serve_by_recommend
from benchmarks.registry import register_system
from systems.hm.lib.common import bestsellers, decay_weights, fill, ranked_lists


@dataclass
class Config:
    window_days: int = 56
    """Only purchases in the last ``window_days`` days are candidates."""
    half_life_days: float = 14.0
    popular_days: int = 7


@register_system
class HMRepurchase(System):
    id = "hm-repurchase"
    kind = "recommender"
    Config = Config
    description = "the customer's own recent purchases (recency-weighted), padded with last week's bestsellers"

    def fit(self, train) -> None:
        tx = train.transactions
        window = tx[tx["day"] > train.last_day - self.config.window_days]
        weights = decay_weights(window["day"].to_numpy(), train.last_day, self.config.half_life_days)
        self.lists = ranked_lists(window["customer"].to_numpy(), window["article"].to_numpy(), weights, 12)
        self.top = bestsellers(tx, train.last_day, self.config.popular_days, 36)

    def recommend(self, customers: np.ndarray, k: int) -> np.ndarray:
        wanted = {int(c): self.lists[int(c)] for c in customers if int(c) in self.lists}
        return fill(customers, wanted, self.top, k)

    def serve(self, batch: list[int], k: int) -> list[np.ndarray]:
        """Per customer its k articles, through ``recommend`` on the batch (its per-customer path)."""
        return serve_by_recommend(self, batch, k)
