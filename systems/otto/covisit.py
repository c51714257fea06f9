"""System ``otto-covisit``: the public co-visitation candidate-rerank baseline (≈0.575 on Kaggle's leaderboard).

The session's own aids come first (by Σ recency × type weight), then the aids that co-occur
with them: for clicks from the time-weighted clicks matrix, for carts and orders from the
type-weighted carts-orders matrix plus the buy-to-buy matrix of the session's carted and
ordered aids; popular aids fill what is left. The matrices are learnt from the training
sessions and the truncated test sessions, as in the Kaggle baseline.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from benchmarks.api import System
from benchmarks.registry import register_system
from systems.otto.common import popular_items, test_sessions, top_k_lists


@dataclass
class Config:
    tail: int = 30
    """Use each session's last N events for the matrices."""
    top_k: int = 20
    """Neighbours kept per aid in each matrix."""
    chunk_sessions: int = 100_000
    parts: int = 1
    history_weight: float = 1000.0
    """Multiplier of the session-history score; large = the session's own aids always come first."""
    use_test_sessions: bool = True
    """Also learn the matrices from the truncated test sessions (allowed on Kaggle)."""


@register_system
class OttoCovisit(System):
    id = "otto-covisit"
    tasks = ("otto-recall20",)
    Config = Config
    requires = ("polars",)
    extra = "otto"
    description = "session history, then co-visitation candidates (clicks, carts-orders, buy2buy matrices)"

    def fit(self, train: Any, test: Any) -> None:
        import polars as pl

        from systems.otto.covisitation import build_all

        events = pl.concat([train, test]) if self.config.use_test_sessions else train
        self.matrices = build_all(events, chunk_sessions=self.config.chunk_sessions, tail=self.config.tail,
                                  parts=self.config.parts, top_k=self.config.top_k)
        self.popular = popular_items(train, 40)

    def recommend(self, test: Any, k: int) -> dict[str, np.ndarray]:
        import polars as pl

        from systems.otto.covisitation import candidate_scores

        sessions = test_sessions(test)
        scores = candidate_scores(test, self.matrices)
        boost = self.config.history_weight * pl.col("history")
        clicks = scores.select("session", "aid", (boost + pl.col("clicks_cv")).alias("score"))
        buys = scores.select("session", "aid", (boost + pl.col("buys_cv") + pl.col("b2b_cv")).alias("score"))
        return {
            "session": sessions,
            "clicks": top_k_lists(clicks, sessions, k, self.popular["clicks"]),
            "carts": top_k_lists(buys, sessions, k, self.popular["carts"]),
            "orders": top_k_lists(buys, sessions, k, self.popular["orders"]),
        }

    def report(self) -> dict[str, Any]:
        return {"matrix_rows": {name: len(frame) for name, frame in self.matrices.items()}}
