"""System ``hm-lgbm-ranker``: the competition's winning recipe in small: stage one gathers ~60
candidates per customer (repurchase, bought-together, global and age-group bestsellers), stage
two ranks them with LightGBM LambdaRank on customer, article and pair features, trained on the
last training week(s) with the features computed from the weeks before."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from benchmarks.api import System
from benchmarks.kinds.recommender import serve_by_recommend
from benchmarks.registry import register_system
from systems.hm.lib.common import bestsellers, fill

if TYPE_CHECKING:
    from systems.hm.lib.ranker_features import CandidateConfig


@dataclass
class Config:
    train_weeks: int = 2
    """Label weeks to train on (the last ones before the test week)."""
    max_train_customers: int = 30_000
    """Per label week, at most this many of its buyers (sampled) are used."""
    n_estimators: int = 150
    learning_rate: float = 0.05
    num_leaves: int = 31
    min_child_samples: int = 20
    n_jobs: int = 1
    """LightGBM threads: on 2 busy cores, 2 OpenMP threads spin-wait and train 8× slower than 1."""
    repurchase_days: int = 56
    cf_per_customer: int = 24
    popular: int = 24
    age_popular: int = 12
    predict_batch: int = 100_000


@register_system
class HMLGBMRanker(System):
    id = "hm-lgbm-ranker"
    kind = "recommender"
    Config = Config
    profile_overrides = {
        "smoke": {"train_weeks": 1, "n_estimators": 20, "max_train_customers": 2_000},
        "full": {"train_weeks": 3, "n_estimators": 300, "max_train_customers": 200_000},
    }
    requires = ("lightgbm",)
    extra = "hm"
    description = "two-stage: candidates (repurchase, co-occurrence, bestsellers) → LightGBM LambdaRank"

    def _candidate_config(self) -> CandidateConfig:
        from systems.hm.lib.ranker_features import CandidateConfig

        c = self.config
        return CandidateConfig(repurchase_days=c.repurchase_days, cf_per_customer=c.cf_per_customer, popular=c.popular, age_popular=c.age_popular)

    def fit(self, train) -> None:
        import lightgbm
        import pandas as pd  # here, not at import: discovery must stay cheap

        from systems.hm.lib.ranker_features import FEATURES, FeatureBuilder

        rng = np.random.default_rng(self.seed)
        tx = train.transactions
        frames = []
        self.train_stats: list[dict] = []
        for week in range(self.config.train_weeks):
            label_end = train.last_day - 7 * week
            label_start = label_end - 6
            cutoff = label_start - 1
            if cutoff < 14:
                break
            label_tx = tx[(tx["day"] >= label_start) & (tx["day"] <= label_end)]
            buyers = np.unique(label_tx["customer"].to_numpy())
            if len(buyers) > self.config.max_train_customers:
                buyers = np.sort(rng.choice(buyers, self.config.max_train_customers, replace=False))
            builder = FeatureBuilder(tx, train.customers, train.articles, train.n_customers, train.n_articles, cutoff, self._candidate_config())
            frame = builder.candidates(buyers)
            positives = set(zip(label_tx["customer"].to_numpy().tolist(), label_tx["article"].to_numpy().tolist()))
            frame["label"] = [int((c, a) in positives) for c, a in zip(frame["customer"].to_numpy().tolist(), frame["article"].to_numpy().tolist())]
            hits = frame.groupby("customer")["label"].transform("max")
            self.train_stats.append({"label_week_end": int(label_end), "customers": int(len(buyers)), "rows": int(len(frame)),
                                     "candidate_recall": float(frame["label"].sum() / max(1, len(positives)))})
            frame = frame[hits > 0]
            frame["week"] = week
            frames.append(frame)
        self.builder = FeatureBuilder(tx, train.customers, train.articles, train.n_customers, train.n_articles, train.last_day, self._candidate_config())
        self.top = bestsellers(tx, train.last_day, 7, 36)
        data = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
        self.train_rows = int(len(data))
        if not len(data) or data["label"].nunique() < 2:
            # too little history for a label week (tiny samples): rank candidates by a fixed rule
            self.model = None
            return
        data = data.sort_values(["week", "customer"], kind="stable")
        groups = data.groupby(["week", "customer"], sort=False).size().to_numpy()
        self.model = lightgbm.LGBMRanker(
            objective="lambdarank", n_estimators=self.config.n_estimators, learning_rate=self.config.learning_rate,
            num_leaves=self.config.num_leaves, min_child_samples=self.config.min_child_samples, n_jobs=self.config.n_jobs,
            random_state=self.seed, verbose=-1, lambdarank_truncation_level=20,
        )
        self.model.fit(data[FEATURES].to_numpy(np.float32), data["label"].to_numpy(), group=groups)

    def recommend(self, customers: np.ndarray, k: int) -> np.ndarray:
        from systems.hm.lib.ranker_features import FEATURES

        lists: dict[int, np.ndarray] = {}
        for start in range(0, len(customers), self.config.predict_batch):
            frame = self.builder.candidates(customers[start:start + self.config.predict_batch])
            if self.model is None:
                frame["score"] = 100.0 * frame["p_rep_score"] + frame["p_cf_score"] - 0.01 * frame["p_pop_rank"]
            else:
                frame["score"] = self.model.predict(frame[FEATURES].to_numpy(np.float32), num_threads=self.config.n_jobs)
            frame = frame.sort_values(["customer", "score"], ascending=[True, False], kind="stable").groupby("customer", sort=False).head(k)
            codes = frame["customer"].to_numpy()
            items = frame["article"].to_numpy()
            bounds = np.r_[np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]]), len(codes)]
            lists.update({int(codes[s]): items[s:e] for s, e in zip(bounds[:-1], bounds[1:])})
        return fill(customers, lists, self.top, k)

    def report(self) -> dict:
        if self.model is None:
            return {"train_rows": self.train_rows, "label_weeks": self.train_stats, "model": "none (no usable label week)"}
        from systems.hm.lib.ranker_features import FEATURES

        importance = dict(zip(FEATURES, self.model.booster_.feature_importance("gain").round(1).tolist()))
        top = dict(sorted(importance.items(), key=lambda kv: -kv[1])[:10])
        return {"train_rows": self.train_rows, "label_weeks": self.train_stats, "top_feature_gain": top}

    def serve(self, batch: list[int], k: int) -> list[np.ndarray]:
        """Per customer its k articles, through ``recommend`` on the batch (its per-customer path)."""
        return serve_by_recommend(self, batch, k)
