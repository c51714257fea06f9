"""System ``hm-als``: implicit-feedback matrix factorisation (implicit's AlternatingLeastSquares)
on recent customer × article purchases; customers without recent purchases get bestsellers."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from benchmarks.api import System
from benchmarks.kinds.recommender import serve_by_recommend
from benchmarks.registry import register_system
from systems.hm.lib.common import bestsellers, fill, interaction_matrix


@dataclass
class Config:
    factors: int = 64
    iterations: int = 12
    regularization: float = 0.05
    alpha: float = 10.0
    """Confidence = 1 + alpha * log1p(purchase count)."""
    window_days: int = 90
    popular_days: int = 7
    num_threads: int = 1
    """implicit threads (OpenMP): 1 avoids spin-waiting on busy cores."""


@register_system
class HMALS(System):
    id = "hm-als"
    kind = "recommender"
    Config = Config
    profile_overrides = {"smoke": {"factors": 16, "iterations": 3}, "full": {"factors": 128, "iterations": 15}}
    requires = ("implicit",)
    extra = "hm"
    description = "implicit ALS (Hu, Koren, Volinsky 2008) on log-scaled purchase counts"

    def fit(self, train) -> None:
        import implicit

        tx = train.transactions
        window = tx[tx["day"] > train.last_day - self.config.window_days]
        matrix = interaction_matrix(window, train.n_customers, train.n_articles)  # (customers, articles)
        matrix.data = (1.0 + self.config.alpha * np.log1p(matrix.data)).astype(np.float32)
        self.user_items = matrix
        from threadpoolctl import threadpool_limits

        with threadpool_limits(1, "blas"):  # implicit's own threads do the work; a BLAS pool on top only contends
            self.model = implicit.cpu.als.AlternatingLeastSquares(
                factors=self.config.factors, regularization=self.config.regularization, iterations=self.config.iterations,
                num_threads=self.config.num_threads, random_state=self.seed, calculate_training_loss=False,
            )
            self.model.fit(matrix, show_progress=False)
        self.active = np.diff(matrix.indptr) > 0
        self.top = bestsellers(tx, train.last_day, self.config.popular_days, 36)

    def recommend(self, customers: np.ndarray, k: int) -> np.ndarray:
        from threadpoolctl import threadpool_limits

        known = customers[self.active[customers]]
        lists: dict[int, np.ndarray] = {}
        for start in range(0, len(known), 50_000):
            batch = known[start:start + 50_000]
            with threadpool_limits(1, "blas"):
                ids, _ = self.model.recommend(batch, self.user_items[batch], N=k, filter_already_liked_items=False)
            lists.update({int(c): row[row >= 0] for c, row in zip(batch, ids)})
        return fill(customers, lists, self.top, k)

    def report(self) -> dict:
        return {"customers_with_history": int(self.active.sum())}

    def serve(self, batch: list[int], k: int) -> list[np.ndarray]:
        """Per customer its k articles, through ``recommend`` on the batch (its per-customer path)."""
        return serve_by_recommend(self, batch, k)
