"""Top-k recommendation metrics: MAP@k exactly as the H&M Kaggle competition, Recall@k, coverage.

The competition's metric is the mean over scored customers of

    AP@12 = 1 / min(m, 12) * sum_{k=1..12} P(k) * rel(k)

where ``m`` is the length of the customer's truth list, ``P(k)`` the precision at cut-off ``k``
and ``rel(k)`` 1 if the item at rank ``k`` is in the truth and was not already predicted at an
earlier rank (a repeated prediction earns nothing). This is the ``apk`` of Ben Hamner's Metrics
(``ml_metrics``), against which the community checks Kaggle's MAP@k. As there, an article that
a truth list repeats counts twice in ``m`` (the project's own truth lists hold distinct
articles, so there ``m`` is the number of distinct articles bought). Customers with an empty
truth are not scored; a customer with no predictions scores 0. Recall@k counts distinct items.
"""

from __future__ import annotations

import numpy as np

from benchmarks.metrics import Metric, declare

declare(Metric("map@12", higher_is_better=True, description="MAP@12 as the H&M competition scores it", aliases=("map12",)))
declare(Metric("recall@12", higher_is_better=True, description="share of a customer's bought articles in the top 12",
               aliases=("recall12",)))
declare(Metric("coverage", higher_is_better=True, description="share of the catalogue shown to anyone"))


def unique_sorted(values: np.ndarray) -> np.ndarray:
    """The distinct values of an integer array, sorted (``np.unique`` by sorting: numpy 2.4's
    hash-based ``np.unique`` and ``np.isin`` are ~10-20x slower on large int64 keys).

    >>> unique_sorted(np.array([3, 1, 3, 2])).tolist()
    [1, 2, 3]
    """
    ordered = np.sort(np.asarray(values), kind="stable")
    if len(ordered) == 0:
        return ordered
    return ordered[np.concatenate(([True], ordered[1:] != ordered[:-1]))]


def isin_sorted(values: np.ndarray, sorted_keys: np.ndarray) -> np.ndarray:
    """``np.isin(values, sorted_keys)`` for a sorted ``sorted_keys`` (binary search).

    >>> isin_sorted(np.array([5, 2, 9]), np.array([2, 5, 7])).tolist()
    [True, True, False]
    """
    values = np.asarray(values)
    if len(sorted_keys) == 0:
        return np.zeros(values.shape, dtype=bool)
    at = np.minimum(np.searchsorted(sorted_keys, values), len(sorted_keys) - 1)
    return sorted_keys[at] == values


def _keyed(predicted: np.ndarray, truth_items: np.ndarray, truth_offsets: np.ndarray,
           k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """``predicted`` cut to k (int64), its keys and the truth's sorted distinct keys, and the key width: a
    (customer row, item) pair is the int64 ``row * width + item``."""
    predicted = np.asarray(predicted)[:, :k].astype(np.int64)
    items = np.asarray(truth_items, dtype=np.int64)
    n = predicted.shape[0]
    width = int(max(predicted.max(initial=-1), items.max(initial=-1))) + 2
    owner = np.repeat(np.arange(n, dtype=np.int64), np.diff(truth_offsets))
    keys = np.arange(n, dtype=np.int64)[:, None] * width + predicted  # (n, k)
    return predicted, keys, unique_sorted(owner * width + items), width


def ap_at_k_matrix(predicted: np.ndarray, truth_items: np.ndarray, truth_offsets: np.ndarray, k: int = 12) -> np.ndarray:
    """(n,) AP@k per customer (Ben Hamner's ``apk``, as the module defines it) for integer item codes.

    ``predicted`` is (n, ≥k) item codes per customer, -1 padding (never relevant); customer i's truth is
    ``truth_items[truth_offsets[i]:truth_offsets[i + 1]]`` (a repeat counts in the denominator). A customer
    with no truth items scores 0.

    >>> ap_at_k_matrix(np.array([[1, 2, 3], [5, 5, -1]]), np.array([2, 3, 5]), np.array([0, 2, 3]), k=3).tolist()
    [0.5833333333333333, 1.0]
    >>> ap_at_k_matrix(np.array([[5, -1]]), np.array([5, 5]), np.array([0, 2]), k=2).tolist()  # truth repeats 5
    [0.5]
    """
    predicted, keys, truth_keys, _ = _keyed(predicted, truth_items, truth_offsets, k)
    hit = isin_sorted(keys, truth_keys) & (predicted >= 0)
    first = np.ones_like(hit)  # a hit counts at the item's first occurrence in the row only
    for j in range(1, predicted.shape[1]):
        first[:, j] = ~(predicted[:, :j] == predicted[:, j : j + 1]).any(axis=1)
    hit &= first
    cumulative = np.cumsum(hit, axis=1)
    ranks = np.arange(1, predicted.shape[1] + 1)
    score = (hit * cumulative / ranks).sum(axis=1)
    denominator = np.minimum(np.diff(truth_offsets), k)
    return np.where(denominator > 0, score / np.maximum(denominator, 1), 0.0)


def recall_at_k_matrix(predicted: np.ndarray, truth_items: np.ndarray, truth_offsets: np.ndarray, k: int = 12) -> np.ndarray:
    """(n,) Recall@k per customer: the share of its distinct truth items in the top k (arguments as
    :func:`ap_at_k_matrix`; repeats count once; 0 for a customer with no truth items).

    >>> recall_at_k_matrix(np.array([[1, 2, 3], [5, 5, -1]]), np.array([2, 9, 9, 5]), np.array([0, 3, 4]), k=3).tolist()
    [0.5, 1.0]
    """
    predicted, keys, truth_keys, width = _keyed(predicted, truth_items, truth_offsets, k)
    n = predicted.shape[0]
    distinct = np.bincount(truth_keys // width, minlength=n)
    hits = isin_sorted(truth_keys, unique_sorted(keys[predicted >= 0]))
    found = np.bincount(truth_keys[hits] // width, minlength=n)
    return np.where(distinct > 0, found / np.maximum(distinct, 1), 0.0)
