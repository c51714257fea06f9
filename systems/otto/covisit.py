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
from benchmarks.kinds.session_recommender import serve_by_recommend
from benchmarks.registry import register_system
from systems.otto.lib.common import popular_items, test_sessions, top_k_lists


@dataclass
class Config:
    tail: int = 30
    """Use each session's last N events for the matrices."""
    top_k: int = 20
    """Neighbours kept per aid in each matrix."""
    chunk_sessions: int = 100_000
    parts: int = 0
    """Passes over ranges of aid_x, each holding only its share of the pair table; 0 = automatic (one per 10M events)."""
    history_weight: float = 1000.0
    """Multiplier of the session-history score; large = the session's own aids always come first."""
    recommend_sessions: int = 100_000
    """Test sessions scored at a time (bounds the memory of the candidate joins)."""
    use_test_sessions: bool = True
    """Also learn the matrices from the truncated test sessions (allowed on Kaggle)."""


@register_system
class OttoCovisit(System):
    id = "otto-covisit"
    kind = "session-recommender"
    Config = Config
    requires = ("polars",)
    extra = "otto"
    description = "session history, then co-visitation candidates (clicks, carts-orders, buy2buy matrices)"

    def fit(self, train: Any, test: Any) -> None:
        from systems.otto.lib.covisitation import build_all

        events = [train, test] if self.config.use_test_sessions else [train]
        self.build_stats: dict[str, dict[str, int]] = {}
        self.matrices = build_all(events, chunk_sessions=self.config.chunk_sessions, tail=self.config.tail,
                                  parts=self.config.parts, top_k=self.config.top_k, stats=self.build_stats)
        self.popular = popular_items(train, 40)

    def recommend(self, test: Any, k: int) -> dict[str, np.ndarray]:
        import polars as pl

        from systems.otto.lib.covisitation import candidate_scores

        sessions = test_sessions(test)
        ids = test["session"].to_numpy()
        boost = self.config.history_weight * pl.col("history")
        lists: dict[str, list[np.ndarray]] = {name: [] for name in ("clicks", "carts", "orders")}
        step = max(1, self.config.recommend_sessions)
        for first in range(0, len(sessions), step):  # chunks of sessions: the candidate joins grow with them
            chunk = sessions[first:first + step]
            r0, r1 = np.searchsorted(ids, [chunk[0], chunk[-1] + 1])  # test rows are sorted by session
            scores = candidate_scores(test.slice(int(r0), int(r1 - r0)), self.matrices)
            clicks = scores.select("session", "aid", (boost + pl.col("clicks_cv")).alias("score"))
            buys = scores.select("session", "aid", (boost + pl.col("buys_cv") + pl.col("b2b_cv")).alias("score"))
            for name, frame in (("clicks", clicks), ("carts", buys), ("orders", buys)):
                lists[name].append(top_k_lists(frame, chunk, k, self.popular[name]))
        return {"session": sessions, **{name: np.concatenate(parts) if parts else np.zeros((0, k), np.int32)
                                        for name, parts in lists.items()}}

    def report(self) -> dict[str, Any]:
        """Rows kept per matrix, and each matrix's build stats (passes, distinct pairs, largest pass, pass seconds)."""
        return {"matrix_rows": {name: len(frame) for name, frame in self.matrices.items()}, "build": self.build_stats}

    def serve(self, batch: list[Any], k: int) -> list[dict[str, np.ndarray]]:
        """Per session its k aids per event type, through ``recommend`` on the batch's events (each session is
        answered from its own events)."""
        return serve_by_recommend(self, batch, k)
