"""Kind ``recommender`` (``hm-map12``): a ranked list of articles per customer, and the data it learns from;
one served query is one customer."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from benchmarks.api import Kind, QueryUnit, SmokeInputs, Task, TaskData
from benchmarks.kinds.answers import integers

if TYPE_CHECKING:
    from pathlib import Path

    import numpy as np
    import pandas as pd

    from benchmarks.data.hm import HMData


@dataclass
class HMTrainData:
    """What an H&M recommender may learn from: the transactions before the test week, and the tables."""

    transactions: pd.DataFrame
    """``day`` (int16, days since ``start_date``), ``customer`` and ``article`` (int32 codes), ``price`` (float32),
    ``channel`` (int8: 1 store, 2 online, 0 unknown)."""
    customers: pd.DataFrame  # per customer code: age, fn, active, club, news, postal
    articles: pd.DataFrame  # per article code: integer category codes (product_code, product_type_no, ...)
    n_customers: int  # sizes of the code spaces
    n_articles: int
    last_day: int  # the last day of the training data; the test week starts the day after
    start_date: dt.date  # the date of day 0


@dataclass
class Truth:
    """Each scored customer's distinct articles bought in the test week: ``items[offsets[i]:offsets[i + 1]]``
    for the i-th customer (int64 codes)."""

    items: np.ndarray
    offsets: np.ndarray


@dataclass
class CustomerData(TaskData):
    """A recommender task's data."""

    train: HMTrainData
    customers: np.ndarray  # (n,) int64 codes of the customers asked, in order
    truth: Truth | None  # what they bought in the test week (None: a Kaggle test-week submission)
    week: list[str]  # the test week's first and last dates (ISO)
    loaded: HMData  # the loaded data (its ids write submissions; its ``notes`` say what loading repaired)


@runtime_checkable
class Recommender(Protocol):
    """``hm-map12``: a ranked list of articles per customer."""

    def fit(self, train: HMTrainData) -> None:
        """Learn from the training transactions (everything before the test week)."""

    def recommend(self, customers: np.ndarray, k: int) -> np.ndarray:
        """Return (len(customers), k) int article codes, best first; -1 pads a short list."""


@runtime_checkable
class ServedRecommender(Protocol):
    """Optional: answer customers one at a time."""

    def serve(self, batch: list[int], k: int) -> list[np.ndarray]:
        """``batch``: customer codes → per customer (k,) article codes, equal to ``recommend``'s row."""


def serving_queries(data: CustomerData) -> list[int]:
    """The customers asked, one query each."""
    return [int(c) for c in data.customers]


def serve_by_recommend(system: Recommender, queries: list[int], k: int | None = 12) -> list[np.ndarray]:
    """The batch path, and ``serve`` for a system whose per-customer path is ``recommend`` itself: what ``recommend``
    on all customers at once answers for each query."""
    import numpy as np

    return list(np.asarray(system.recommend(np.asarray(queries, dtype=np.int64), k or 12)))


def check_recommendations(recommended: Any, n_customers: int, k: int, n_items: int) -> np.ndarray:
    """A recommender's ``recommend`` answer as (n_customers, k) int32 item codes in [-1, n_items) (-1 pads)."""
    import numpy as np

    return integers(recommended, "recommend()", (n_customers, k), -1, n_items).astype(np.int32)


def smoke_inputs(task: type[Task], scratch: Path) -> SmokeInputs:
    """The synthetic twin: the shared data's H&M sample is too small for the protocol."""
    return SmokeInputs({"task.source": "synthetic"})


KIND = Kind("recommender", Recommender, ServedRecommender,
            QueryUnit(query="a customer (its code)", answer="12 articles, best first", k=12),
            serving_queries, serve_by_recommend, smoke_inputs)
