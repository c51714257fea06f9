"""Co-visitation matrices for OTTO, built with numpy over chunks of sessions, and candidate scoring.

Not a system itself; ``covisit.py`` and ``covisit_ranker.py`` use it. The three matrices are
those of the public candidate-rerank baseline (Chris Deotte, Kaggle, 2022):

* ``clicks``: pairs of aids within 24 h in a session, each pair once per session, weighted by
  time (1 at the start of the data to 4 at the end) → the next-click candidates;
* ``carts_orders``: the same pairs weighted by the type of the second event (1 / 6 / 3);
* ``buy2buy``: pairs of carted/ordered aids within 14 days, weight 1.

Only each session's last ``tail`` events are used. The build is numpy over chunks of sessions:
each pair is one int64 key ``aid_x << bits | aid_y`` (with the session in the low bits while
duplicates within a session are dropped), a chunk's pairs are sorted and summed into
(key, weight) runs; pending runs are merged (timsort of sorted runs) and added into the
running total (searchsorted + insert, no re-sort of it) whenever they grow past
``compact_rows``; each aid_x keeps its top-k only after the last merge,
so the result is exact. ``parts > 1`` builds the matrix in that many passes over ranges of
``aid_x`` (only those left events are paired), so the pair table held at once is about 1/parts
of the whole at little extra time. Weights are summed in float64 (the earlier polars version
summed float32, so clicks weights may differ in the 5th digit and near-ties may swap).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from systems.otto.common import TYPE_WEIGHTS


@dataclass(frozen=True)
class MatrixSpec:
    """One co-visitation matrix."""

    name: str
    window_s: int
    top_k: int
    buys_only: bool = False


MATRICES: dict[str, MatrixSpec] = {
    "clicks": MatrixSpec("clicks", 24 * 3600, 20),
    "carts_orders": MatrixSpec("carts_orders", 24 * 3600, 20),
    "buy2buy": MatrixSpec("buy2buy", 14 * 24 * 3600, 20, buys_only=True),
}

# weight of the second event's type (0 click, 1 cart, 2 order), indexable by type
_TYPE_WEIGHT_ARRAY = np.array([TYPE_WEIGHTS[t] for t in range(3)], dtype=np.float64)


def _tail_rows(session: np.ndarray, tail: int) -> np.ndarray:
    """Indices of each session's last ``tail`` rows (rows of one session are contiguous)."""
    n = len(session)
    starts = np.flatnonzero(np.r_[True, session[1:] != session[:-1]])
    ends = np.r_[starts[1:], n]
    end_of_row = np.repeat(ends, ends - starts)
    return np.flatnonzero(end_of_row - np.arange(n) <= tail)


def _chunk_pairs(aid: np.ndarray, ts: np.ndarray, typ: np.ndarray, sess_local: np.ndarray, start: np.ndarray,
                 length: np.ndarray, spec: MatrixSpec, ts_min: int, ts_max: int, a_lo: int, a_hi: int,
                 aid_bits: int, sess_bits: int) -> tuple[np.ndarray, np.ndarray]:
    """Aggregated pairs of one chunk: (sorted unique keys aid_x << aid_bits | aid_y, float64 weights).

    The row arrays are the chunk's (n,) events; ``start``/``length`` are each row's session start
    (chunk-local row) and length. Each (session, aid_x, aid_y) counts once, with the weight of
    its first occurrence in (left row, right row) order.
    """
    left_rows = np.flatnonzero((aid >= a_lo) & (aid < a_hi)).astype(np.int32)
    counts = length[left_rows]
    total = int(counts.sum())
    if total == 0:
        return np.empty(0, np.int64), np.empty(0, np.float64)
    # every (left, right) of the same session, left-major, right ascending: (total,)
    left = np.repeat(left_rows, counts)
    offsets = np.cumsum(counts) - counts
    right = (np.arange(total, dtype=np.int64) - np.repeat(offsets, counts) + start[left]).astype(np.int32)
    keep = (aid[left] != aid[right]) & (np.abs(ts[left] - ts[right]) < spec.window_s)
    left, right = left[keep], right[keep]
    del keep
    if len(left) == 0:
        return np.empty(0, np.int64), np.empty(0, np.float64)
    key = ((aid[left].astype(np.int64) << (aid_bits + sess_bits)) | (aid[right].astype(np.int64) << sess_bits)
           | sess_local[left].astype(np.int64))
    order = np.argsort(key, kind="stable")
    key = key[order]
    first = np.r_[True, key[1:] != key[:-1]]
    order, key = order[first], key[first] >> sess_bits
    if spec.name == "clicks":
        weight = (1.0 + 3.0 * (ts[left[order]].astype(np.float64) - ts_min) / max(1, ts_max - ts_min))
        weight = weight.astype(np.float32).astype(np.float64)
    elif spec.name == "carts_orders":
        weight = _TYPE_WEIGHT_ARRAY[typ[right[order]]]
    else:
        weight = np.ones(len(order), np.float64)
    return _reduce_sorted(key, weight)


def _reduce_sorted(key: np.ndarray, weight: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sum ``weight`` over runs of equal ``key`` (``key`` sorted)."""
    if len(key) == 0:
        return key, weight
    bounds = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    return key[bounds], np.add.reduceat(weight, bounds)


def _merge(keys: list[np.ndarray], weights: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Merge sorted (key, weight) runs into one sorted run with summed weights (empties the lists)."""
    key = np.concatenate(keys)
    weight = np.concatenate(weights)
    keys.clear()
    weights.clear()
    order = np.argsort(key, kind="stable")  # timsort: merging sorted runs is nearly linear
    key, weight = key[order], weight[order]
    del order
    return _reduce_sorted(key, weight)


def _merge_into(total_k: np.ndarray, total_w: np.ndarray, key: np.ndarray,
                weight: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Add one sorted unique (key, weight) run into the sorted unique running total.

    Keys already there get their weight added in place; new keys are inserted at their
    positions, so the extra memory is about one copy of the total (no sort of it).
    """
    if len(total_k) == 0:
        return key, weight
    at = np.searchsorted(total_k, key)
    found = at < len(total_k)
    found[found] = total_k[at[found]] == key[found]
    total_w[at[found]] += weight[found]  # keys are unique: no repeated index
    new = ~found
    del found
    at, key, weight = at[new], key[new], weight[new]
    del new
    return np.insert(total_k, at, key), np.insert(total_w, at, weight)


def build_matrix(events: Any, spec: MatrixSpec, chunk_sessions: int = 100_000, tail: int = 30,
                 parts: int = 1, compact_rows: int = 20_000_000) -> Any:
    """Build one co-visitation matrix.

    Args:
        events: all events to learn from (session, aid, ts, type); each session's rows in time order.
        spec: which matrix.
        chunk_sessions: sessions paired at a time (transient memory ∝ chunk × tail²).
        tail: use each session's last ``tail`` events.
        parts: passes over disjoint ranges of aid_x (memory of the pair table ÷ parts).
        compact_rows: merge the chunk aggregates into the running total when they exceed this many rows.

    Returns:
        DataFrame (aid_x i32, aid_y i32, weight f32, rank u32), the top ``spec.top_k`` aid_y per
        aid_x by weight (ties: smaller aid_y first), rank 0 = best.
    """
    import polars as pl

    empty = pl.DataFrame(schema={"aid_x": pl.Int32, "aid_y": pl.Int32, "weight": pl.Float32, "rank": pl.UInt32})
    data = events.select("session", "aid", "ts", "type")
    if spec.buys_only:
        data = data.filter(pl.col("type") > 0)
    if data.is_empty():
        return empty
    session = data["session"].to_numpy()
    if len(session) > 1 and np.any(session[1:] < session[:-1]):
        order = np.argsort(session, kind="stable")  # keeps each session's time order
        data, session = data[order], session[order]
    rows = _tail_rows(session, tail)
    session = session[rows]
    aid = data["aid"].to_numpy()[rows].astype(np.int32)
    ts = data["ts"].to_numpy()[rows].astype(np.int64)
    typ = data["type"].to_numpy()[rows].astype(np.int8)
    del data, rows
    if len(aid) == 0:
        return empty
    ts_min, ts_max = int(ts.min()), int(ts.max())
    n_aid = int(aid.max()) + 1
    aid_bits = max(1, (n_aid - 1).bit_length())
    sess_bits = max(1, min(max(1, chunk_sessions - 1).bit_length(), 63 - 2 * aid_bits))
    per_chunk = min(chunk_sessions, 2**sess_bits)
    starts = np.flatnonzero(np.r_[True, session[1:] != session[:-1]])
    lengths = np.diff(np.r_[starts, len(session)])
    del session
    results = []
    for part in range(parts):
        a_lo, a_hi = part * n_aid // parts, (part + 1) * n_aid // parts
        total_k, total_w = np.empty(0, np.int64), np.empty(0, np.float64)
        pending_k: list[np.ndarray] = []
        pending_w: list[np.ndarray] = []
        held = 0
        for first in range(0, len(starts), per_chunk):
            s0, s1 = first, min(first + per_chunk, len(starts))
            r0 = int(starts[s0])
            r1 = int(starts[s1]) if s1 < len(starts) else len(aid)
            n_sess = s1 - s0
            row_sess = np.repeat(np.arange(n_sess, dtype=np.int32), lengths[s0:s1])
            row_start = (starts[s0:s1] - r0).astype(np.int32)[row_sess]
            row_len = lengths[s0:s1].astype(np.int32)[row_sess]
            k, w = _chunk_pairs(aid[r0:r1], ts[r0:r1], typ[r0:r1], row_sess, row_start, row_len, spec,
                                ts_min, ts_max, a_lo, a_hi, aid_bits, sess_bits)
            if len(k):
                pending_k.append(k)
                pending_w.append(w)
                held += len(k)
            if held > compact_rows:
                total_k, total_w = _merge_into(total_k, total_w, *_merge(pending_k, pending_w))
                held = 0
        if pending_k:
            total_k, total_w = _merge_into(total_k, total_w, *_merge(pending_k, pending_w))
        if len(total_k) == 0:
            continue
        # top-k per aid_x: weight descending; keys are sorted, so ties keep aid_y ascending
        aid_x = (total_k >> aid_bits).astype(np.int32)
        order = np.lexsort((-total_w, aid_x))
        aid_x = aid_x[order]
        group_start = np.flatnonzero(np.r_[True, aid_x[1:] != aid_x[:-1]])
        rank = np.arange(len(aid_x)) - np.repeat(group_start, np.diff(np.r_[group_start, len(aid_x)]))
        keep = rank < spec.top_k
        order = order[keep]
        results.append(pl.DataFrame({
            "aid_x": aid_x[keep],
            "aid_y": (total_k[order] & ((1 << aid_bits) - 1)).astype(np.int32),
            "weight": total_w[order].astype(np.float32),
            "rank": rank[keep].astype(np.uint32),
        }))
    if not results:
        return empty
    return pl.concat(results)


def build_all(events: Any, chunk_sessions: int = 100_000, tail: int = 30, parts: int = 1,
              top_k: int | None = None) -> dict[str, Any]:
    """The three matrices, ``{"clicks", "carts_orders", "buy2buy"}``."""
    matrices = {}
    for name, spec in MATRICES.items():
        if top_k is not None:
            spec = MatrixSpec(spec.name, spec.window_s, top_k, spec.buys_only)
        matrices[name] = build_matrix(events, spec, chunk_sessions=chunk_sessions, tail=tail, parts=parts)
    return matrices


def candidate_scores(test: Any, matrices: dict[str, Any]) -> Any:
    """Score candidates per (session, aid) from the session's history and the three matrices.

    Returns:
        DataFrame (session, aid, history, last_position, clicks_cv, buys_cv, b2b_cv) where the
        ``*_cv`` columns sum, over the session's distinct aids (for buy2buy: its carted/ordered
        aids), the co-visitation weight of the candidate divided by its rank + 1; zero if absent.
    """
    import polars as pl

    from systems.otto.common import history_scores

    history = history_scores(test)
    sources = history.select("session", pl.col("aid").alias("aid_x"))
    buys = test.filter(pl.col("type") > 0).select("session", pl.col("aid").alias("aid_x")).unique()
    columns = []
    for name, source, column in (("clicks", sources, "clicks_cv"), ("carts_orders", sources, "buys_cv"),
                                 ("buy2buy", buys, "b2b_cv")):
        matrix = matrices[name].select("aid_x", "aid_y", (1.0 / (pl.col("rank").cast(pl.Float64) + 1.0)).alias("v"))
        columns.append(source.join(matrix, on="aid_x").group_by(["session", "aid_y"])
                       .agg(pl.col("v").sum().alias(column)).rename({"aid_y": "aid"}))
    scores = history
    for frame in columns:
        scores = scores.join(frame, on=["session", "aid"], how="full", coalesce=True)
    return scores.with_columns(
        pl.col("history").fill_null(0.0), pl.col("last_position").fill_null(10**6),
        pl.col("clicks_cv").fill_null(0.0), pl.col("buys_cv").fill_null(0.0), pl.col("b2b_cv").fill_null(0.0),
    )
