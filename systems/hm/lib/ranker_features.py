"""Candidates and features for the two-stage H&M ranker (``hm-lgbm-ranker``): candidates from
repurchase, bought-together co-occurrence, global and age-group bestsellers; customer, article
and customer × article features, all computed from data up to a cut-off day only."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from systems.hm.lib.common import cooccurrence, decay_weights, interaction_matrix, top_k_entries

AGE_BINS = np.array([0, 22, 27, 33, 40, 48, 56, 65, 200], dtype=np.float32)
FEATURES = [
    "age", "c_n_all", "c_n_28d", "c_days_since_last", "c_online_share", "c_mean_price", "c_n_articles",
    "a_n_7d", "a_n_28d", "a_n_all", "a_decayed", "a_trend", "a_age_days", "a_mean_price", "a_product_group", "a_index_group",
    "a_garment_group", "a_product_type",
    "p_rep_score", "p_rep_count", "p_days_since_bought", "p_cf_score", "p_pop_rank", "p_agepop_rank",
    "p_group_share", "p_type_share", "p_price_ratio",
    "src_rep", "src_cf", "src_pop", "src_agepop",
]


@dataclass
class CandidateConfig:
    repurchase_days: int = 56
    repurchase_half_life: float = 14.0
    cf_history_days: int = 120
    cf_recent_days: int = 28
    cf_per_customer: int = 24
    popular: int = 24
    age_popular: int = 12


class FeatureBuilder:
    """Everything about the data up to ``last_day`` that the features need, computed once.

    Args:
        transactions: day, customer, article, price, channel (may include later days: ignored).
        customers, articles: the task's tables (integer codes).
        n_customers, n_articles: code spaces.
        last_day: cut-off; only transactions on or before it are used.
        config: candidate settings.
    """

    def __init__(self, transactions: pd.DataFrame, customers: pd.DataFrame, articles: pd.DataFrame,
                 n_customers: int, n_articles: int, last_day: int, config: CandidateConfig) -> None:
        tx = transactions[transactions["day"] <= last_day]
        self.tx, self.last_day, self.config = tx, last_day, config
        self.n_customers, self.n_articles = n_customers, n_articles
        day, cust, art = tx["day"].to_numpy(), tx["customer"].to_numpy(), tx["article"].to_numpy()
        price = tx["price"].to_numpy().astype(np.float64)
        online = (tx["channel"].to_numpy() == 2).astype(np.float64)
        recent = day > last_day - 28
        # customers: (n_customers,)
        self.c_n_all = np.bincount(cust, minlength=n_customers).astype(np.float32)
        self.c_n_28d = np.bincount(cust[recent], minlength=n_customers).astype(np.float32)
        last = np.full(n_customers, -10_000, dtype=np.int64)
        np.maximum.at(last, cust, day.astype(np.int64))
        self.c_days_since_last = np.where(last > -10_000, last_day - last, 9999).astype(np.float32)
        with np.errstate(invalid="ignore", divide="ignore"):
            self.c_online_share = (np.bincount(cust, weights=online, minlength=n_customers) / self.c_n_all).astype(np.float32)
            self.c_mean_price = (np.bincount(cust, weights=price, minlength=n_customers) / self.c_n_all).astype(np.float32)
        self.age = customers["age"].to_numpy().astype(np.float32)
        self.age_bin = np.digitize(np.nan_to_num(self.age, nan=35.0), AGE_BINS) - 1
        # articles: (n_articles,)
        self.a_n_7d = np.bincount(art[day > last_day - 7], minlength=n_articles).astype(np.float32)
        self.a_n_28d = np.bincount(art[recent], minlength=n_articles).astype(np.float32)
        self.a_n_all = np.bincount(art, minlength=n_articles).astype(np.float32)
        self.a_decayed = np.bincount(art, weights=decay_weights(day, last_day, 7.0), minlength=n_articles).astype(np.float32)
        self.a_trend = (self.a_n_7d + 1) / (self.a_n_28d / 4 + 1)
        first = np.full(n_articles, 10_000, dtype=np.int64)
        np.minimum.at(first, art, day.astype(np.int64))
        self.a_age_days = np.where(first < 10_000, last_day - first, -1).astype(np.float32)
        with np.errstate(invalid="ignore", divide="ignore"):
            self.a_mean_price = (np.bincount(art, weights=price, minlength=n_articles) / self.a_n_all).astype(np.float32)
        self.a_product_group = articles["product_group_name"].to_numpy()
        self.a_index_group = articles["index_group_no"].to_numpy()
        self.a_garment_group = articles["garment_group_no"].to_numpy()
        self.a_product_type = articles["product_type_no"].to_numpy()
        # rankings
        self.popular = np.argsort(-self.a_decayed, kind="stable")[: config.popular]
        self.age_popular = []
        for b in range(len(AGE_BINS) - 1):
            in_bin = self.age_bin[cust] == b
            counts = np.bincount(art[in_bin], weights=decay_weights(day[in_bin], last_day, 7.0), minlength=n_articles)
            self.age_popular.append(np.argsort(-counts, kind="stable")[: config.age_popular])
        # repurchase and co-occurrence
        window = tx[day > last_day - config.repurchase_days]
        weights = decay_weights(window["day"].to_numpy(), last_day, config.repurchase_half_life)
        self.rep = interaction_matrix(window, n_customers, n_articles, weights)
        self.bought = interaction_matrix(tx, n_customers, n_articles)  # all-time counts
        last_bought = pd.DataFrame({"c": cust, "a": art, "d": day}).groupby(["c", "a"], sort=False)["d"].max()
        self.last_bought = last_bought
        self.similar = cooccurrence(tx, n_articles, last_day, config.cf_history_days)
        seeds = tx[day > last_day - config.cf_recent_days]
        self.seeds = interaction_matrix(seeds, n_customers, n_articles, decay_weights(seeds["day"].to_numpy(), last_day, 10.0))
        # taste: share of a customer's purchases per index group / product type (sparse)
        self.group_counts = pd.Series(1.0, index=pd.MultiIndex.from_arrays([cust, self.a_index_group[art]])).groupby(level=[0, 1]).sum()
        self.type_counts = pd.Series(1.0, index=pd.MultiIndex.from_arrays([cust, self.a_product_type[art]])).groupby(level=[0, 1]).sum()

    def candidates(self, customers: np.ndarray) -> pd.DataFrame:
        """Candidate (customer, article) rows with every feature in ``FEATURES``."""
        config = self.config
        customers = np.asarray(customers, dtype=np.int64)
        parts = []
        rep = self.rep[customers].tocoo()
        parts.append(pd.DataFrame({"customer": customers[rep.row], "article": rep.col, "p_rep_score": rep.data, "src_rep": 1}))
        cf_scores = self.seeds[customers] @ self.similar
        rows, cols, vals = top_k_entries(cf_scores, config.cf_per_customer)
        parts.append(pd.DataFrame({"customer": customers[rows], "article": cols, "p_cf_score": vals, "src_cf": 1}))
        n = len(customers)
        parts.append(pd.DataFrame({
            "customer": np.repeat(customers, len(self.popular)), "article": np.tile(self.popular, n),
            "p_pop_rank": np.tile(np.arange(len(self.popular), dtype=np.float32), n), "src_pop": 1,
        }))
        bins = self.age_bin[customers]
        age_lists = [self.age_popular[b] for b in bins]
        lengths = np.array([len(x) for x in age_lists])
        parts.append(pd.DataFrame({
            "customer": np.repeat(customers, lengths), "article": np.concatenate(age_lists) if n else np.zeros(0, np.int64),
            "p_agepop_rank": np.concatenate([np.arange(m, dtype=np.float32) for m in lengths]) if n else np.zeros(0, np.float32),
            "src_agepop": 1,
        }))
        frame = pd.concat(parts, ignore_index=True)
        frame = frame.groupby(["customer", "article"], sort=False, as_index=False).agg({
            "p_rep_score": "max", "p_cf_score": "max", "p_pop_rank": "min", "p_agepop_rank": "min",
            "src_rep": "max", "src_cf": "max", "src_pop": "max", "src_agepop": "max",
        })
        for name in ("p_rep_score", "p_cf_score", "src_rep", "src_cf", "src_pop", "src_agepop"):
            frame[name] = frame[name].fillna(0).astype(np.float32)
        for name in ("p_pop_rank", "p_agepop_rank"):
            frame[name] = frame[name].fillna(99).astype(np.float32)
        return self.add_features(frame)

    def add_features(self, frame: pd.DataFrame) -> pd.DataFrame:
        c = frame["customer"].to_numpy()
        a = frame["article"].to_numpy()
        frame["age"] = self.age[c]
        for name in ("c_n_all", "c_n_28d", "c_days_since_last", "c_online_share", "c_mean_price"):
            frame[name] = getattr(self, name)[c]
        frame["c_n_articles"] = np.diff(self.bought.indptr)[c].astype(np.float32)
        for name in ("a_n_7d", "a_n_28d", "a_n_all", "a_decayed", "a_trend", "a_age_days", "a_mean_price",
                     "a_product_group", "a_index_group", "a_garment_group", "a_product_type"):
            frame[name] = getattr(self, name)[a]
        frame["p_rep_count"] = np.asarray(self.bought[c, a]).ravel().astype(np.float32)
        key = pd.MultiIndex.from_arrays([c, a])
        last = self.last_bought.reindex(key).to_numpy()
        frame["p_days_since_bought"] = np.where(np.isnan(last), 9999, self.last_day - np.nan_to_num(last)).astype(np.float32)
        group = self.group_counts.reindex(pd.MultiIndex.from_arrays([c, self.a_index_group[a]])).to_numpy()
        kind = self.type_counts.reindex(pd.MultiIndex.from_arrays([c, self.a_product_type[a]])).to_numpy()
        total = np.maximum(self.c_n_all[c], 1)
        frame["p_group_share"] = (np.nan_to_num(group) / total).astype(np.float32)
        frame["p_type_share"] = (np.nan_to_num(kind) / total).astype(np.float32)
        frame["p_price_ratio"] = (frame["a_mean_price"] / frame["c_mean_price"]).astype(np.float32)
        return frame
