"""Interpolated Kneser-Ney character n-gram model in numpy (Chen & Goodman 1998, one discount per order).

An n-gram of length m ending at position t is packed into one int64 key,
``key = x[t-m+1] * V^(m-1) + ... + x[t]``, so counting is ``np.unique`` and lookup is
``np.searchsorted``. The highest order uses raw counts, lower orders use continuation counts
N1+(• h w) (how many distinct characters precede ``h w``), and order 0 is uniform:

    P_m(w | h) = max(c(h w) - D_m, 0) / c(h •) + D_m · N1+(h •) / c(h •) · P_{m-1}(w | h')

where ``h'`` drops the first character of ``h``; an unseen context gives P_m = P_{m-1}, and a
prefix shorter than ``m - 1`` characters also falls back to the lower order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class OrderTable:
    """Counts of one n-gram length ``m``.

    Attributes:
        keys: (G,) sorted n-gram keys.
        counts: (G,) their counts (raw or continuation).
        context_keys: (H,) sorted context keys (``key // V``).
        context_totals: (H,) sum of counts over the context's continuations.
        context_types: (H,) number of distinct continuations.
        discount: D_m = n1 / (n1 + 2 n2) from the count-of-counts.
    """

    keys: np.ndarray
    counts: np.ndarray
    context_keys: np.ndarray
    context_totals: np.ndarray
    context_types: np.ndarray
    discount: float


def gram_keys(ids: np.ndarray, length: int, vocab_size: int) -> np.ndarray:
    """(n - length + 1,) keys of every n-gram of ``length`` characters, in text order.

    >>> gram_keys(np.array([1, 2, 0, 1]), 2, 3).tolist()
    [5, 6, 1]
    """
    ids = np.asarray(ids, dtype=np.int64)
    keys = ids[: len(ids) - length + 1].copy()
    for offset in range(1, length):
        keys = keys * vocab_size + ids[offset : len(ids) - length + 1 + offset]
    return keys


def _table(keys: np.ndarray, counts: np.ndarray, vocab_size: int) -> OrderTable:
    n1 = int((counts == 1).sum())
    n2 = int((counts == 2).sum())
    discount = n1 / (n1 + 2 * n2) if n1 + n2 > 0 else 0.5
    discount = min(max(discount, 0.05), 0.95)
    context_keys, inverse = np.unique(keys // vocab_size, return_inverse=True)
    totals = np.bincount(inverse, weights=counts).astype(np.float64)
    types = np.bincount(inverse).astype(np.float64)
    return OrderTable(keys, counts.astype(np.float64), context_keys, totals, types, discount)


class KneserNeyCounts:
    """Raw and continuation count tables for every order up to ``max_order``.

    Args:
        ids: (n,) training character ids.
        vocab_size: V.
        max_order: the longest n-gram counted (``V ** max_order`` must fit in int64).
    """

    def __init__(self, ids: np.ndarray, vocab_size: int, max_order: int) -> None:
        if vocab_size ** (max_order + 1) >= 2**63:
            raise ValueError(f"order {max_order} is too long for int64 keys with {vocab_size} characters")
        self.vocab_size = vocab_size
        self.max_order = max_order
        self.raw: dict[int, OrderTable] = {}
        self.continuation: dict[int, OrderTable] = {}
        longer_unique: np.ndarray | None = None
        for m in range(max_order + 1, 0, -1):
            unique, counts = np.unique(gram_keys(ids, m, vocab_size), return_counts=True)
            if m <= max_order:
                self.raw[m] = _table(unique, counts, vocab_size)
                assert longer_unique is not None
                # continuation count of a length-m gram: distinct characters before it
                suffix_keys, suffix_counts = np.unique(longer_unique % vocab_size**m, return_counts=True)
                self.continuation[m] = _table(suffix_keys, suffix_counts, vocab_size)
            longer_unique = unique

    def size(self, order: int) -> int:
        """Stored counts of the model of ``order``: raw top order plus continuation lower orders."""
        return int(self.raw[order].keys.size + sum(self.continuation[m].keys.size for m in range(1, order)))

    def probabilities(self, stream: np.ndarray, positions: np.ndarray, candidates: np.ndarray, order: int) -> np.ndarray:
        """P(candidate | stream[:p]) for every position ``p``.

        Args:
            stream: (n,) character ids.
            positions: (P,) prefix lengths in [0, n].
            candidates: (P, K) character ids to score at each position.
            order: the model's n-gram order (context ``order - 1``).

        Returns:
            (P, K) float64 probabilities.
        """
        stream = np.asarray(stream, dtype=np.int64)
        V = self.vocab_size
        probs = np.full(candidates.shape, 1.0 / V)  # order 0
        for m in range(1, order + 1):
            table = self.raw[m] if m == order else self.continuation[m]
            history = m - 1
            usable = positions >= history
            context = np.zeros(len(positions), dtype=np.int64)
            for offset in range(history, 0, -1):
                index = np.where(usable, positions - offset, 0)
                context = context * V + stream[index]
            slot = np.searchsorted(table.context_keys, context)
            slot = np.minimum(slot, len(table.context_keys) - 1)
            seen = usable & (table.context_keys[slot] == context)
            total = np.where(seen, table.context_totals[slot], 1.0)[:, None]  # (P, 1)
            types = np.where(seen, table.context_types[slot], 0.0)[:, None]
            keys = context[:, None] * V + candidates  # (P, K)
            where = np.minimum(np.searchsorted(table.keys, keys), len(table.keys) - 1)
            counts = np.where(table.keys[where] == keys, table.counts[where], 0.0)
            interpolated = np.maximum(counts - table.discount, 0.0) / total + table.discount * types / total * probs
            probs = np.where(seen[:, None], interpolated, probs)
        return probs
