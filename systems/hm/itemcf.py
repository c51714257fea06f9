"""System ``hm-itemcf``: item-to-item collaborative filtering on "bought together" co-occurrence:
articles that share a shopping basket (same customer, same day) are neighbours; a customer gets
the neighbours of their recent purchases, then last week's bestsellers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from benchmarks.api import System
from benchmarks.kinds.recommender import serve_by_recommend
from benchmarks.registry import register_system
from systems.hm.lib.common import bestsellers, cooccurrence, decay_weights, fill, interaction_matrix, top_k_rows

if TYPE_CHECKING:
    import scipy.sparse as sp


@dataclass
class Config:
    history_days: int = 120
    """Baskets of the last ``history_days`` days define co-occurrence."""
    recent_days: int = 28
    """A customer's purchases of the last ``recent_days`` days are the seeds."""
    half_life_days: float = 10.0
    include_own: bool = False
    """Also score the seed articles themselves (a repurchase signal); off: pure co-occurrence."""
    popular_days: int = 7


@register_system
class HMItemCF(System):
    id = "hm-itemcf"
    kind = "recommender"
    Config = Config
    description = "bought-together item-to-item co-occurrence (cosine) from the customer's recent purchases"

    def fit(self, train) -> None:
        config = self.config
        self.similar = cooccurrence(train.transactions, train.n_articles, train.last_day, config.history_days)
        tx = train.transactions
        recent = tx[tx["day"] > train.last_day - config.recent_days]
        weights = decay_weights(recent["day"].to_numpy(), train.last_day, config.half_life_days)
        self.seeds = interaction_matrix(recent, train.n_customers, train.n_articles, weights)
        self.top = bestsellers(tx, train.last_day, config.popular_days, 36)

    def scores(self, customers: np.ndarray) -> sp.csr_matrix:
        """(len(customers), n_articles) sparse scores."""
        seeds = self.seeds[customers]
        scores = (seeds @ self.similar).tocsr()
        if self.config.include_own:
            scores = (scores + seeds).tocsr()
        return scores

    def recommend(self, customers: np.ndarray, k: int) -> np.ndarray:
        lists: list[np.ndarray] = []
        for start in range(0, len(customers), 20_000):
            lists += top_k_rows(self.scores(customers[start:start + 20_000]), k)
        return fill(customers, lists, self.top, k)

    def serve(self, batch: list[int], k: int) -> list[np.ndarray]:
        """Per customer its k articles, through ``recommend`` on the batch (its per-customer path)."""
        return serve_by_recommend(self, batch, k)
