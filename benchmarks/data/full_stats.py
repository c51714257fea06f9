"""The figures of ``../shared/data/FULL-STATS.md``, measured on any OTTO events or H&M transactions, next to the
published full-data values: one definition serves the twins' tests, ``data-stats`` and ``perf/twin_realism.py``.

Published values (FULL-STATS.md read them in public write-ups of the complete datasets; independent sources agree):

* OTTO counts (sessions, events, items, clicks / carts / orders of train and test): otto-de/recsys-dataset
  ``README.md``, "Dataset Statistics" (train.jsonl = four weeks; test = the following week, made by their
  ``src/testset.py``). The per-session shares, distinct items per session and the top-1% share: public analyses.
* H&M: the Kaggle competition's files as FULL-STATS.md counts them; its "customers with more than one purchase"
  (89.71%) and "fewer than 3" (19.58%) are read as shares of the customers who bought something.

A figure is *gated* when it does not depend on absolute size (a share, a ratio, a mean per session or customer, a
time span): a twin at any scale must be within ``TOLERANCE`` of it. Counts, extremes and density are only shown.

OTTO's "train" figures are measured on the whole events file, its "test" figures on what otto-de's protocol
(``make_testset``, last ``test_days`` days, split seed 42) makes of the file's last week, as otto-de made their test
set from the week after; so ``test sessions / train sessions`` is over all sessions of the file.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

TOLERANCE = 0.20  # largest relative difference a gated figure may have from the published value


@dataclass(frozen=True)
class Figure:
    key: str
    label: str
    published: float
    gated: bool


@dataclass(frozen=True)
class Row:
    """A figure measured on some data."""

    figure: Figure
    measured: float

    @property
    def relative_difference(self) -> float:
        return (self.measured - self.figure.published) / self.figure.published

    @property
    def within(self) -> bool:
        return bool(abs(self.relative_difference) <= TOLERANCE)

    def as_dict(self) -> dict[str, Any]:
        return {"key": self.figure.key, "label": self.figure.label, "published": self.figure.published,
                "measured": self.measured, "relative_difference": self.relative_difference,
                "gated": self.figure.gated, "within_tolerance": self.within}


_OTTO_TRAIN_EVENTS = 216_716_096
_OTTO_TEST_EVENTS = 13_851_293
OTTO_FIGURES: tuple[Figure, ...] = (
    Figure("sessions", "train: sessions", 12_899_779, False),
    Figure("events", "train: events", _OTTO_TRAIN_EVENTS, False),
    Figure("items", "train: items", 1_855_603, False),
    Figure("period_days", "train: days from first to last event", 28.0, True),
    Figure("events_per_session", "train: events per session (mean)", _OTTO_TRAIN_EVENTS / 12_899_779, True),
    Figure("clicks_share", "train: share of clicks among events", 194_720_954 / _OTTO_TRAIN_EVENTS, True),
    Figure("carts_share", "train: share of carts", 16_896_191 / _OTTO_TRAIN_EVENTS, True),
    Figure("orders_share", "train: share of orders", 5_098_951 / _OTTO_TRAIN_EVENTS, True),
    Figure("sessions_clicks_only", "train: sessions with clicks only", 0.7018, True),
    Figure("sessions_with_carts", "train: sessions with carts", 0.2954, True),
    Figure("sessions_with_orders", "train: sessions with orders", 0.1261, True),
    Figure("sessions_revisiting", "train: sessions that click one item twice", 0.6920, True),
    Figure("distinct_items_per_session", "train: distinct items per session (mean)", 10.36, True),
    Figure("top1pct_items_share", "train: share of events on the top 1% of items", 0.1887, True),
    Figure("test_sessions", "test: sessions", 1_671_803, False),
    Figure("test_events", "test: input events", _OTTO_TEST_EVENTS, False),
    Figure("test_items", "test: items", 1_019_357, False),
    Figure("test_train_sessions", "test sessions / train sessions", 1_671_803 / 12_899_779, True),
    Figure("test_train_items", "items seen in test / items seen in train", 1_019_357 / 1_855_603, True),
    Figure("test_events_per_session", "test: input events per session (mean)", _OTTO_TEST_EVENTS / 1_671_803, True),
    Figure("test_clicks_share", "test: share of clicks among input events", 12_340_303 / _OTTO_TEST_EVENTS, True),
    Figure("test_carts_share", "test: share of carts", 1_155_698 / _OTTO_TEST_EVENTS, True),
    Figure("test_orders_share", "test: share of orders", 355_292 / _OTTO_TEST_EVENTS, True),
    Figure("test_sessions_clicks_only", "test: sessions with clicks only", 0.7582, True),
)

_HM_TRANSACTIONS = 31_788_324
_HM_BUYERS = 1_362_281
HM_FIGURES: tuple[Figure, ...] = (
    Figure("transactions", "transactions", _HM_TRANSACTIONS, False),
    Figure("customers", "customers listed", 1_371_980, False),
    Figure("buyers", "customers with at least one purchase", _HM_BUYERS, False),
    Figure("articles", "articles listed", 105_542, False),
    Figure("articles_bought", "articles ever bought", 104_547, False),
    Figure("days", "distinct days with transactions", 734, True),
    Figure("never_bought_share", "customers who never bought", 9_699 / 1_371_980, True),
    Figure("articles_bought_share", "articles ever bought / listed", 104_547 / 105_542, True),
    Figure("buyers_more_than_one", "buyers with more than one purchase", 0.8971, True),
    Figure("buyers_exactly_one", "buyers with exactly one purchase", 1 - 0.8971, True),
    Figure("buyers_fewer_than_3", "buyers with fewer than 3 purchases", 0.1958, True),
    Figure("top3_groups_share", "transactions in the top 3 product groups", 0.7283, True),
    Figure("transactions_per_buyer", "transactions per buyer (mean)", _HM_TRANSACTIONS / _HM_BUYERS, True),
    Figure("channels", "distinct sales channels", 2, True),
    Figure("price_min", "lowest price", 0.000186, False),
    Figure("price_max", "highest price", 0.5068, False),
    # FULL-STATS.md's ≈ 0.022% is transactions / (customers × articles): 31,788,324 / (1,371,980 × 105,542) = 0.02195%
    Figure("density", "density of the customer × article matrix", _HM_TRANSACTIONS / (1_371_980 * 105_542), False),
)

FIGURES: dict[str, tuple[Figure, ...]] = {"otto-recall20": OTTO_FIGURES, "hm-map12": HM_FIGURES}


def rows(figures: tuple[Figure, ...], measured: dict[str, float]) -> list[Row]:
    """Each figure with its measured value (figures not measured are left out)."""
    return [Row(figure, float(measured[figure.key])) for figure in figures if figure.key in measured]


def failing(table: list[Row]) -> list[Row]:
    return [row for row in table if row.figure.gated and not row.within]


def format_table(table: list[Row]) -> list[str]:
    from tabulate import tabulate

    cells = [[row.figure.label, _number(row.figure.published), _number(row.measured), f"{row.relative_difference:+.1%}",
              ("ok" if row.within else "OUT") if row.figure.gated else "size-dependent"] for row in table]
    return tabulate(cells, ["figure", "published", "measured", "difference", "gated"], tablefmt="pipe",
                    colalign=("left", "right", "right", "right", "left"), disable_numparse=True).splitlines()


def _number(value: float) -> str:
    if value == int(value) and abs(value) >= 100:
        return f"{int(value):,}"
    return f"{value:.4g}"


# ---------------------------------------------------------------------------------------- OTTO
def _otto_session_totals(session: np.ndarray, aid: np.ndarray, kind: np.ndarray, starts: np.ndarray,
                         block_events: int) -> tuple[dict[str, int], np.ndarray, np.ndarray]:
    """Sessions with carts, with orders, with clicks only, revisiting an item, and their distinct items; events per
    type (3,); events per item (max aid + 1,). Summed over blocks of whole sessions."""
    n = len(session)
    item_counts = np.zeros(int(aid.max()) + 1, dtype=np.int64)
    totals = dict.fromkeys(("carts", "orders", "clicks_only", "revisit", "distinct"), 0)
    type_counts = np.zeros(3, dtype=np.int64)
    first = 0
    while first < len(starts):
        last = max(int(np.searchsorted(starts, starts[first] + block_events, side="left")), first + 1)
        lo, hi = int(starts[first]), int(starts[last]) if last < len(starts) else n
        local = np.repeat(np.arange(last - first, dtype=np.int64), np.diff(np.append(starts[first:last], hi)))
        a, k = aid[lo:hi].astype(np.int64), kind[lo:hi]
        per_type = [np.bincount(local[k == t], minlength=last - first) for t in range(3)]
        type_counts += [int(c.sum()) for c in per_type]
        totals["carts"] += int((per_type[1] > 0).sum())
        totals["orders"] += int((per_type[2] > 0).sum())
        totals["clicks_only"] += int(((per_type[1] == 0) & (per_type[2] == 0)).sum())
        totals["distinct"] += len(np.unique((local << 32) | a))
        click_keys = (local[k == 0] << 32) | a[k == 0]
        keys, counts = np.unique(click_keys, return_counts=True)
        totals["revisit"] += len(np.unique(keys[counts > 1] >> 32))
        item_counts += np.bincount(a, minlength=len(item_counts))
        first = last
    return totals, type_counts, item_counts


def otto_figures(events: dict[str, np.ndarray], test_days: int = 7, split_seed: int = 42,
                 block_events: int = 8_000_000) -> dict[str, float]:
    """The OTTO figures of events sorted by session and ts, ``block_events`` rows at a time (memory stays small at
    the full size); the test figures run otto-de's protocol on all events.

    Example: two sessions, ``[a click, b click, a click]`` and ``[c click, c cart]`` (one week)
    give events_per_session 2.5, sessions_revisiting 0.5 (only the first clicks an item twice),
    distinct_items_per_session 1.5 and sessions_with_carts 0.5.
    """
    from benchmarks.data.otto_testset import make_testset

    session, aid, kind = events["session"], events["aid"], events["type"]
    n = len(session)
    starts = np.flatnonzero(np.concatenate(([True], session[1:] != session[:-1])))
    totals, type_counts, item_counts = _otto_session_totals(session, aid, kind, starts, block_events)
    n_sessions = len(starts)
    counts = np.sort(item_counts[item_counts > 0])[::-1]
    top = max(1, len(counts) // 100)
    figures = {
        "sessions": float(n_sessions), "events": float(n), "items": float(len(counts)),
        "period_days": float(int(events["ts"].max()) - int(events["ts"].min())) / 86400,
        "events_per_session": n / n_sessions,
        "clicks_share": type_counts[0] / n, "carts_share": type_counts[1] / n, "orders_share": type_counts[2] / n,
        "sessions_clicks_only": totals["clicks_only"] / n_sessions, "sessions_with_carts": totals["carts"] / n_sessions,
        "sessions_with_orders": totals["orders"] / n_sessions, "sessions_revisiting": totals["revisit"] / n_sessions,
        "distinct_items_per_session": totals["distinct"] / n_sessions,
        "top1pct_items_share": float(counts[:top].sum() / counts.sum()),
    }
    split = make_testset(events, test_days, split_seed)
    test = split.test
    n_test, n_inputs = len(split.labels), len(test["session"])
    if n_test == 0:
        return figures
    test_types = np.bincount(test["type"], minlength=3)
    buying = np.unique(test["session"][test["type"] > 0])
    figures.update({
        "test_sessions": float(n_test), "test_events": float(n_inputs), "test_items": float(len(np.unique(test["aid"]))),
        "test_train_sessions": n_test / n_sessions,
        "test_train_items": len(np.unique(test["aid"])) / len(counts),
        "test_events_per_session": n_inputs / n_test,
        "test_clicks_share": test_types[0] / n_inputs, "test_carts_share": test_types[1] / n_inputs,
        "test_orders_share": test_types[2] / n_inputs,
        "test_sessions_clicks_only": 1 - len(buying) / n_test,
    })
    return figures


# ---------------------------------------------------------------------------------------- H&M
def hm_figures(day: np.ndarray, customer: np.ndarray, article: np.ndarray, price: np.ndarray, channel: np.ndarray,
               article_group: np.ndarray, listed_customers: int, listed_articles: int) -> dict[str, float]:
    """The H&M figures of transactions given as integer codes.

    Args:
        day, customer, article, price, channel: (n,) one value per transaction; customers and
            articles are codes (row numbers in their tables), ``channel`` 1 store / 2 online.
        article_group: (n_articles,) the product group code of each article.
        listed_customers, listed_articles: rows of ``customers.csv`` / ``articles.csv``.

    Example: customers 0, 0, 1 buying articles 5, 6, 5 out of 3 listed customers give
    never_bought_share 1/3, buyers_exactly_one 0.5 and transactions_per_buyer 1.5.
    """
    per_customer = np.bincount(customer)
    bought = per_customer[per_customer > 0]
    per_group = np.sort(np.bincount(article_group[article]))[::-1]
    articles_bought = len(np.unique(article))
    return {
        "transactions": float(len(customer)), "customers": float(listed_customers), "buyers": float(len(bought)),
        "articles": float(listed_articles), "articles_bought": float(articles_bought),
        "days": float(len(np.unique(day))),
        "never_bought_share": 1 - len(bought) / listed_customers,
        "articles_bought_share": articles_bought / listed_articles,
        "buyers_more_than_one": float((bought > 1).mean()),
        "buyers_exactly_one": float((bought == 1).mean()),
        "buyers_fewer_than_3": float((bought < 3).mean()),
        "top3_groups_share": float(per_group[:3].sum() / len(customer)),
        "transactions_per_buyer": len(customer) / len(bought),
        "channels": float(len(np.intersect1d(np.unique(channel), [1, 2]))),
        "price_min": float(price.min()), "price_max": float(price.max()),
        "density": len(customer) / (listed_customers * listed_articles),
    }
