"""System ``otto-covisit-ranker``: co-visitation candidates re-ranked by a LightGBM LambdaRank model per event type.

Training data come from the training sessions alone: otto-de's test-set procedure is applied
once more inside them (the last ``valid_days`` become labelled pseudo-test sessions), the
co-visitation matrices are built from the rest, and each pseudo-test session's candidates
(its own aids and their co-visitation neighbours, the best ``candidates`` by a simple score)
get features and a 0/1 target per type. At prediction time the matrices are rebuilt from
all training sessions plus the truncated test sessions and the three rankers score the
test sessions' candidates.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from benchmarks.api import System
from benchmarks.kinds.session_recommender import serve_by_recommend
from benchmarks.registry import register_system
from systems.otto.lib.common import EVENT_TYPES, popular_items, test_sessions, top_k_lists

FEATURES = (
    "history", "last_position", "clicks_cv", "buys_cv", "b2b_cv", "n_clicks", "n_carts", "n_orders",
    "item_clicks", "item_carts", "item_orders", "session_length", "session_items", "candidate_rank",
)


@dataclass
class Config:
    candidates: int = 50
    """Candidates per session kept for the ranker."""
    valid_days: int = 7
    """Days at the end of training used as labelled pseudo-test sessions."""
    max_train_sessions: int = 100_000
    """At most this many pseudo-test sessions are used to train the rankers."""
    tail: int = 30
    top_k: int = 20
    chunk_sessions: int = 100_000
    n_estimators: int = 200
    learning_rate: float = 0.05
    num_leaves: int = 31
    n_jobs: int = 1
    """LightGBM threads: 1, because on a shared 2-core machine n_jobs=2 ran 3x slower."""


def _numpy_columns(frame: Any) -> dict[str, np.ndarray]:
    return {name: frame[name].to_numpy() for name in ("session", "aid", "ts", "type")}


@register_system
class OttoCovisitRanker(System):
    id = "otto-covisit-ranker"
    kind = "session-recommender"
    Config = Config
    profile_overrides = {"smoke": {"n_estimators": 20, "candidates": 30}}
    requires = ("polars", "lightgbm")
    extra = "otto"
    description = "co-visitation candidates + LightGBM LambdaRank per type, trained on a split of the training sessions"

    def _features(self, sessions: Any, matrices: dict[str, Any], item_counts: Any) -> Any:
        import polars as pl

        from systems.otto.lib.covisitation import candidate_scores

        scores = candidate_scores(sessions, matrices)
        simple = 1000.0 * pl.col("history") + pl.col("clicks_cv") + pl.col("buys_cv") + pl.col("b2b_cv")
        scores = (scores.with_columns(simple.alias("simple"))
                  .sort(["session", "simple", "aid"], descending=[False, True, False])
                  .with_columns(pl.int_range(pl.len()).over("session").alias("candidate_rank"))
                  .filter(pl.col("candidate_rank") < self.config.candidates))
        in_session = sessions.group_by(["session", "aid"]).agg(
            (pl.col("type") == 0).sum().alias("n_clicks"), (pl.col("type") == 1).sum().alias("n_carts"),
            (pl.col("type") == 2).sum().alias("n_orders"))
        per_session = sessions.group_by("session").agg(pl.len().alias("session_length"),
                                                       pl.col("aid").n_unique().alias("session_items"))
        frame = (scores.join(in_session, on=["session", "aid"], how="left")
                 .join(per_session, on="session", how="left")
                 .join(item_counts, on="aid", how="left"))
        return frame.with_columns([pl.col(name).fill_null(0).cast(pl.Float32) for name in FEATURES]).sort(
            ["session", "candidate_rank"])

    @staticmethod
    def _item_counts(events: Any) -> Any:
        import polars as pl

        recent = events.filter(pl.col("ts") >= int(events["ts"].max()) - 7 * 86400)
        return recent.group_by("aid").agg((pl.col("type") == 0).sum().alias("item_clicks"),
                                          (pl.col("type") == 1).sum().alias("item_carts"),
                                          (pl.col("type") == 2).sum().alias("item_orders"))

    def _matrices(self, events: Any) -> dict[str, Any]:
        from systems.otto.lib.covisitation import build_all

        return build_all(events, chunk_sessions=self.config.chunk_sessions, tail=self.config.tail, top_k=self.config.top_k)

    def fit(self, train: Any, test: Any) -> None:
        import lightgbm
        import polars as pl

        from benchmarks.data.otto_testset import make_testset
        from benchmarks.kinds.session_recommender import to_frame

        split = make_testset(_numpy_columns(train), self.config.valid_days, seed=self.seed)
        inner_train, inner_test = to_frame(split.train), to_frame(split.test)
        labelled = list(split.labels.items())
        if len(labelled) > self.config.max_train_sessions:
            rng = np.random.default_rng(self.seed)
            keep = set(rng.choice(len(labelled), self.config.max_train_sessions, replace=False).tolist())
            labelled = [item for i, item in enumerate(labelled) if i in keep]
            inner_test = inner_test.filter(pl.col("session").is_in([s for s, _ in labelled]))
        matrices = self._matrices([inner_train, to_frame(split.test)])
        features = self._features(inner_test, matrices, self._item_counts(inner_train))
        targets = {
            "clicks": [(s, t.clicks) for s, t in labelled if t.clicks is not None],
            "carts": [(s, a) for s, t in labelled for a in t.carts],
            "orders": [(s, a) for s, t in labelled for a in t.orders],
        }
        self.rankers: dict[str, Any] = {}
        self.training_rows: dict[str, int] = {}
        for name in EVENT_TYPES:
            if not targets[name]:
                continue
            positives = pl.DataFrame(targets[name], schema={"session": pl.Int32, "aid": pl.Int32}, orient="row").unique()
            frame = features.join(positives.with_columns(pl.lit(1, pl.Int8).alias("target")), on=["session", "aid"], how="left")
            frame = frame.with_columns(pl.col("target").fill_null(0))
            useful = frame.group_by("session").agg(pl.col("target").max().alias("any")).filter(pl.col("any") > 0)
            frame = frame.join(useful.select("session"), on="session").sort(["session", "candidate_rank"])
            if frame.is_empty():
                continue
            groups = frame.group_by("session", maintain_order=True).len()["len"].to_numpy()
            ranker = lightgbm.LGBMRanker(
                objective="lambdarank", n_estimators=self.config.n_estimators, learning_rate=self.config.learning_rate,
                num_leaves=self.config.num_leaves, n_jobs=self.config.n_jobs, random_state=self.seed, verbose=-1,
            )
            ranker.fit(frame.select(FEATURES).to_numpy(), frame["target"].to_numpy(), group=groups)
            self.rankers[name] = ranker
            self.training_rows[name] = len(frame)
        self.matrices = self._matrices([train, test])
        self.item_counts = self._item_counts(train)
        self.popular = popular_items(train, 40)

    def recommend(self, test: Any, k: int) -> dict[str, np.ndarray]:
        import polars as pl

        sessions = test_sessions(test)
        features = self._features(test, self.matrices, self.item_counts)
        matrix = features.select(FEATURES).to_numpy()
        result: dict[str, np.ndarray] = {"session": sessions}
        for name in EVENT_TYPES:
            if name in self.rankers:
                score = self.rankers[name].predict(matrix, num_threads=self.config.n_jobs)
            else:
                score = -features["candidate_rank"].to_numpy()
            scored = features.select("session", "aid").with_columns(pl.Series("score", score))
            result[name] = top_k_lists(scored, sessions, k, self.popular[name])
        return result

    def report(self) -> dict[str, Any]:
        importance = {name: dict(zip(FEATURES, ranker.feature_importances_.tolist(), strict=True))
                      for name, ranker in self.rankers.items()}
        return {"training_rows": self.training_rows, "feature_importance": importance}

    def serve(self, batch: list[Any], k: int) -> list[dict[str, np.ndarray]]:
        """Per session its k aids per event type, through ``recommend`` on the batch's events (each session is
        answered from its own events)."""
        return serve_by_recommend(self, batch, k)
