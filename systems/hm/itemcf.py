"""System ``hm-itemcf``: item-to-item collaborative filtering on "bought together" co-occurrence:
articles that share a shopping basket (same customer, same day) are neighbours; a customer gets
the neighbours of their recent purchases, then last week's bestsellers."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from benchmarks.api import System
from benchmarks.registry import register_system
from systems.hm.common import TASKS, bestsellers, decay_weights, fill, interaction_matrix, top_k_rows


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


def cooccurrence(transactions, n_articles: int, last_day: int, history_days: int) -> sp.csr_matrix:
    """Article × article basket co-occurrence, cosine-normalised, diagonal removed.

    Args:
        transactions: columns day, customer, article.
        n_articles: size of the article code space.
        last_day: last day of the data.
        history_days: baskets from the last ``history_days`` days.

    Returns:
        (n_articles, n_articles) csr matrix, C[i, j] = baskets with both / sqrt(baskets_i * baskets_j).
    """
    window = transactions[transactions["day"] > last_day - history_days]
    basket_key = window["customer"].to_numpy().astype(np.int64) * 4096 + window["day"].to_numpy()
    _, basket = np.unique(basket_key, return_inverse=True)
    baskets = sp.csr_matrix(
        (np.ones(len(window), dtype=np.float32), (basket, window["article"].to_numpy())),
        shape=(int(basket.max(initial=-1)) + 1, n_articles),
    )
    baskets.data[:] = 1.0  # csr construction summed duplicates: count a basket once
    baskets.sum_duplicates()
    baskets.data[:] = 1.0
    counts = baskets.T @ baskets  # (n_articles, n_articles)
    counts = counts.tocsr()
    counts.setdiag(0)
    counts.eliminate_zeros()
    norm = np.sqrt(np.asarray(baskets.sum(axis=0)).ravel()) + 1e-9
    scale = sp.diags(1.0 / norm)
    return (scale @ counts @ scale).tocsr()


@register_system
class HMItemCF(System):
    id = "hm-itemcf"
    tasks = TASKS
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
