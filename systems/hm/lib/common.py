"""Shared H&M building blocks: bestseller lists, per-customer ranked lists, padding with a
fallback, and sparse customer × article matrices. Not a system itself."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # imported where used: discovery must stay cheap
    import pandas as pd
    import scipy.sparse as sp


def decay_weights(days: np.ndarray, last_day: int, half_life_days: float) -> np.ndarray:
    """Weight 1 on ``last_day``, halving every ``half_life_days`` before it.

    >>> decay_weights(np.array([10, 3]), last_day=10, half_life_days=7.0).tolist()
    [1.0, 0.5]
    """
    return np.power(0.5, (last_day - days.astype(np.float64)) / half_life_days)


def bestsellers(transactions: pd.DataFrame, last_day: int, days: int, n: int, half_life_days: float | None = None) -> np.ndarray:
    """The ``n`` article codes bought most in the last ``days`` days (optionally time-decayed).

    Falls back to all history when the window is empty. Ties go to the lower code.
    """
    window = transactions[transactions["day"] > last_day - days]
    if not len(window):
        window = transactions
    articles = window["article"].to_numpy()
    weights = None if half_life_days is None else decay_weights(window["day"].to_numpy(), last_day, half_life_days)
    if not len(articles):
        return np.zeros(0, dtype=np.int64)
    counts = np.bincount(articles, weights=weights)
    order = np.lexsort((np.arange(len(counts)), -counts))
    order = order[counts[order] > 0]
    return order[:n].astype(np.int64)


def ranked_lists(customer: np.ndarray, article: np.ndarray, score: np.ndarray, k: int) -> dict[int, np.ndarray]:
    """Top-``k`` articles per customer by summed score: ``{customer: article codes, best first}``."""
    import pandas as pd

    if not len(customer):
        return {}
    frame = pd.DataFrame({"c": customer, "a": article, "s": score}).groupby(["c", "a"], sort=False)["s"].sum().reset_index()
    frame = frame.sort_values(["c", "s", "a"], ascending=[True, False, True], kind="stable")
    frame = frame.groupby("c", sort=False).head(k)
    codes = frame["c"].to_numpy()
    starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])
    items = frame["a"].to_numpy()
    bounds = np.r_[starts, len(codes)]
    return {int(codes[s]): items[s:e] for s, e in zip(bounds[:-1], bounds[1:])}


def fill(customers: np.ndarray, lists: dict[int, np.ndarray] | list[np.ndarray], fallback: np.ndarray, k: int) -> np.ndarray:
    """(n, k) recommendations: each customer's own list, then ``fallback`` items not yet in it.

    Args:
        customers: (n,) customer codes.
        lists: per customer (dict by code, or a list aligned with ``customers``) ranked codes.
        fallback: ranked codes used to pad every list (e.g. bestsellers).
        k: list length; -1 pads when even the fallback runs out.
    """
    out = np.full((len(customers), k), -1, dtype=np.int64)
    head = np.asarray(fallback[:k], dtype=np.int64)
    out[:, : len(head)] = head
    pad = np.asarray(fallback[: 2 * k + k], dtype=np.int64).tolist()
    items = lists.items() if isinstance(lists, dict) else enumerate(lists)
    position = {int(c): i for i, c in enumerate(customers)} if isinstance(lists, dict) else None
    for key, own in items:
        i = position.get(key) if position is not None else key
        if i is None or own is None or not len(own):
            continue
        ranked = list(dict.fromkeys(int(a) for a in own))[:k]
        if len(ranked) < k:
            taken = set(ranked)
            ranked += [a for a in pad if a not in taken][: k - len(ranked)]
        out[i, : len(ranked)] = ranked
        out[i, len(ranked):] = -1
    return out


def interaction_matrix(transactions: pd.DataFrame, n_customers: int, n_articles: int, weights: np.ndarray | None = None) -> sp.csr_matrix:
    """Sparse customer × article matrix of summed weights (counts when ``weights`` is None)."""
    import scipy.sparse as sp

    data = np.ones(len(transactions), dtype=np.float32) if weights is None else weights.astype(np.float32)
    matrix = sp.csr_matrix(
        (data, (transactions["customer"].to_numpy(), transactions["article"].to_numpy())), shape=(n_customers, n_articles)
    )
    matrix.sum_duplicates()
    return matrix


def top_k_rows(matrix: sp.csr_matrix, k: int) -> list[np.ndarray]:
    """Column indices of the ``k`` largest stored values of every row, best first."""
    out: list[np.ndarray] = []
    indptr, indices, data = matrix.indptr, matrix.indices, matrix.data
    for row in range(matrix.shape[0]):
        start, end = indptr[row], indptr[row + 1]
        if start == end:
            out.append(np.zeros(0, dtype=np.int64))
            continue
        values, columns = data[start:end], indices[start:end]
        if end - start > k:
            keep = np.argpartition(-values, k)[:k]
            values, columns = values[keep], columns[keep]
        order = np.lexsort((columns, -values))
        out.append(columns[order].astype(np.int64))
    return out


def top_k_entries(matrix: sp.csr_matrix, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The ``k`` largest stored values of every row as ``(row, column, value)`` arrays."""
    matrix = matrix.tocsr()
    rows, cols, vals = [], [], []
    indptr, indices, data = matrix.indptr, matrix.indices, matrix.data
    for row in range(matrix.shape[0]):
        start, end = indptr[row], indptr[row + 1]
        if start == end:
            continue
        values, columns = data[start:end], indices[start:end]
        if end - start > k:
            keep = np.argpartition(-values, k)[:k]
            values, columns = values[keep], columns[keep]
        rows.append(np.full(len(columns), row, dtype=np.int64))
        cols.append(columns.astype(np.int64))
        vals.append(values.astype(np.float32))
    if not rows:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.float32)
    return np.concatenate(rows), np.concatenate(cols), np.concatenate(vals)


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
    import scipy.sparse as sp

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
