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
``aid_x`` (only those left events are paired; ``parts=0`` picks one pass per
``AUTO_PART_EVENTS`` tail events), so the pair table held at once is about 1/parts
of the whole; the smaller sorts more than pay for the repeated passes. Weights are summed in
float64 (the earlier polars version summed float32, so clicks weights may differ in the 5th
digit and near-ties may swap).

Memory at the full size (217M events) was the constraint: the sources are read as zero-copy
numpy views of the frames (train and test are passed as a list, never concatenated), each
chunk cuts its own sessions to their tails, and the top-k cut runs over blocks of aid_x.
``tests/test_otto_covisitation.py`` checks the result against a pair-by-pair implementation.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from systems.otto.lib.common import TYPE_WEIGHTS


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

AUTO_PART_EVENTS = 10_000_000
"""With ``parts=0``, one pass per this many tail events. Synthetic data hold ≈ 7 distinct clicks pairs per
tail event, so a pass holds ≈ 70M pairs (≈ 1.1 GB, twice that while merging); smaller sorts also made the
10% build faster (121 s with 8 passes vs 201 s with 1, results/perf/otto_scale.md)."""

# weight of the second event's type (0 click, 1 cart, 2 order), indexable by type
_TYPE_WEIGHT_ARRAY = np.array([TYPE_WEIGHTS[t] for t in range(3)], dtype=np.float64)


def _chunk_rows(starts: np.ndarray, lengths: np.ndarray, tail: int) -> tuple[np.ndarray, np.ndarray, np.ndarray,
                                                                             np.ndarray]:
    """Rows of a chunk of sessions, each session cut to its last ``tail`` events.

    Returns (source row of each kept event, its session's index in the chunk, the chunk-local row
    where its session starts, its session's kept length).
    """
    kept = np.minimum(lengths, tail).astype(np.int64)
    total = int(kept.sum())
    row_sess = np.repeat(np.arange(len(kept), dtype=np.int32), kept)
    offset = np.cumsum(kept) - kept
    within = np.arange(total, dtype=np.int64) - offset[row_sess]
    rows = (starts + lengths - kept)[row_sess] + within
    return rows, row_sess, offset.astype(np.int32)[row_sess], kept.astype(np.int32)[row_sess]


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
    # an unstable sort (SIMD, about twice as fast as a stable one) and then the smallest pair
    # index in each run of equal keys: the first occurrence, as a stable sort would keep
    order = np.argsort(key)
    key = key[order]
    bounds = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    key = key[bounds] >> sess_bits
    order = np.minimum.reduceat(order, bounds)
    del bounds
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


def _source_columns(frame: Any, buys_only: bool) -> tuple[np.ndarray, ...]:
    """(session, aid, ts, type) numpy columns of one frame, sessions contiguous, each in time order.

    Zero-copy where the frame holds one chunk per column; a frame not sorted by session is
    reordered (stable, so each session keeps its time order).
    """
    import polars as pl

    frame = frame.select("session", "aid", "ts", "type")
    if buys_only:
        frame = frame.filter(pl.col("type") > 0)
    session = frame["session"].to_numpy()
    columns = [session, frame["aid"].to_numpy(), frame["ts"].to_numpy(), frame["type"].to_numpy()]
    if len(session) > 1 and np.any(session[1:] < session[:-1]):
        order = np.argsort(session, kind="stable")
        columns = [column[order] for column in columns]
    session, aid, ts, typ = columns
    return session, aid.astype(np.int32, copy=False), ts.astype(np.int32, copy=False), typ.astype(np.int8, copy=False)


def build_matrix(events: Any, spec: MatrixSpec, chunk_sessions: int = 100_000, tail: int = 30,
                 parts: int = 0, compact_rows: int = 20_000_000, stats: dict[str, int] | None = None,
                 block_rows: int = 10_000_000) -> Any:
    """Build one co-visitation matrix.

    Args:
        events: the events to learn from (session, aid, ts, type), one DataFrame or a list of
            DataFrames with disjoint sessions (e.g. ``[train, test]``, which then need no
            concatenated copy); each session's rows in time order.
        spec: which matrix.
        chunk_sessions: sessions paired at a time (transient memory ∝ chunk × tail²).
        tail: use each session's last ``tail`` events.
        parts: passes over disjoint ranges of aid_x (memory of the pair table ÷ parts); 0 = one pass per
            ``AUTO_PART_EVENTS`` events in the session tails.
        compact_rows: merge the chunk aggregates into the running total when they exceed this many rows.
        stats: if given, receives ``pairs`` (distinct pairs before the top-k cut), ``largest_part``
            (the most pairs held at once) and ``part_seconds`` (each pass's time before its top-k cut), which size the memory: ≈ 16 bytes per pair held, twice while merging.
        block_rows: rows of the pair table ranked for the top-k cut at a time.

    Returns:
        DataFrame (aid_x i32, aid_y i32, weight f32, rank u32), the top ``spec.top_k`` aid_y per
        aid_x by weight (ties: smaller aid_y first), rank 0 = best.
    """
    import polars as pl

    empty = pl.DataFrame(schema={"aid_x": pl.Int32, "aid_y": pl.Int32, "weight": pl.Float32, "rank": pl.UInt32})
    frames = list(events) if isinstance(events, (list, tuple)) else [events]
    sources = [columns for columns in (_source_columns(frame, spec.buys_only) for frame in frames) if len(columns[0])]
    if not sources:
        return empty
    ts_min = min(int(ts.min()) for _, _, ts, _ in sources)
    ts_max = max(int(ts.max()) for _, _, ts, _ in sources)
    n_aid = max(int(aid.max()) for _, aid, _, _ in sources) + 1
    aid_bits = max(1, (n_aid - 1).bit_length())
    sess_bits = max(1, min(max(1, chunk_sessions - 1).bit_length(), 63 - 2 * aid_bits))
    per_chunk = min(chunk_sessions, 2**sess_bits)
    bounds = []
    for session, _, _, _ in sources:
        starts = np.flatnonzero(np.r_[True, session[1:] != session[:-1]])
        bounds.append((starts, np.diff(np.r_[starts, len(session)])))
    if parts <= 0:
        tail_events = sum(int(np.minimum(lengths, tail).sum()) for _, lengths in bounds)
        parts = max(1, -(-tail_events // AUTO_PART_EVENTS))
    if stats is not None:
        stats["parts"] = parts
    results = []
    for part in range(parts):
        started = time.perf_counter()
        a_lo, a_hi = part * n_aid // parts, (part + 1) * n_aid // parts
        total_k, total_w = np.empty(0, np.int64), np.empty(0, np.float64)
        pending_k: list[np.ndarray] = []
        pending_w: list[np.ndarray] = []
        held = 0
        for (_, aid, ts, typ), (starts, lengths) in zip(sources, bounds, strict=True):
            for first in range(0, len(starts), per_chunk):
                last = min(first + per_chunk, len(starts))
                rows, row_sess, row_start, row_len = _chunk_rows(starts[first:last], lengths[first:last], tail)
                k, w = _chunk_pairs(aid[rows], ts[rows], typ[rows], row_sess, row_start, row_len, spec,
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
        if stats is not None:
            stats["pairs"] = stats.get("pairs", 0) + len(total_k)
            stats["largest_part"] = max(stats.get("largest_part", 0), len(total_k))
            stats.setdefault("part_seconds", []).append(round(time.perf_counter() - started, 1))
        if len(total_k) == 0:
            continue
        results.append(_top_k(total_k, total_w, aid_bits, spec.top_k, block_rows))
        del total_k, total_w
    if not results:
        return empty
    return pl.concat(results)


def _top_k(total_k: np.ndarray, total_w: np.ndarray, aid_bits: int, top_k: int,
           block_rows: int = 10_000_000) -> Any:
    """The top ``top_k`` aid_y per aid_x of a sorted unique pair table, as a DataFrame.

    Weight descending; the keys are sorted, so ties keep aid_y ascending. Done in blocks of whole
    aid_x groups, so the sort's temporaries stay small next to the table.
    """
    import polars as pl

    frames = []
    lo = 0
    while lo < len(total_k):
        hi = min(lo + block_rows, len(total_k))
        if hi < len(total_k):  # end the block at an aid_x boundary
            hi = int(np.searchsorted(total_k, (total_k[hi] >> aid_bits) << aid_bits))
            if hi <= lo:  # one aid_x larger than a block
                hi = int(np.searchsorted(total_k, ((total_k[lo] >> aid_bits) + 1) << aid_bits))
        key, weight = total_k[lo:hi], total_w[lo:hi]
        aid_x = (key >> aid_bits).astype(np.int32)
        order = np.lexsort((-weight, aid_x))
        aid_x = aid_x[order]
        group_start = np.flatnonzero(np.r_[True, aid_x[1:] != aid_x[:-1]])
        rank = np.arange(len(aid_x)) - np.repeat(group_start, np.diff(np.r_[group_start, len(aid_x)]))
        keep = rank < top_k
        order = order[keep]
        frames.append(pl.DataFrame({
            "aid_x": aid_x[keep],
            "aid_y": (key[order] & ((1 << aid_bits) - 1)).astype(np.int32),
            "weight": weight[order].astype(np.float32),
            "rank": rank[keep].astype(np.uint32),
        }))
        lo = hi
    return pl.concat(frames)


def build_all(events: Any, chunk_sessions: int = 100_000, tail: int = 30, parts: int = 0,
              top_k: int | None = None, stats: dict[str, dict[str, int]] | None = None) -> dict[str, Any]:
    """The three matrices, ``{"clicks", "carts_orders", "buy2buy"}``; ``stats`` receives each one's build stats."""
    matrices = {}
    for name, spec in MATRICES.items():
        if top_k is not None:
            spec = MatrixSpec(spec.name, spec.window_s, top_k, spec.buys_only)
        matrix_stats: dict[str, int] = {}
        matrices[name] = build_matrix(events, spec, chunk_sessions=chunk_sessions, tail=tail, parts=parts,
                                      stats=matrix_stats)
        if stats is not None:
            stats[name] = matrix_stats
    return matrices


def candidate_scores(test: Any, matrices: dict[str, Any]) -> Any:
    """Score candidates per (session, aid) from the session's history and the three matrices.

    Returns:
        DataFrame (session, aid, history, last_position, clicks_cv, buys_cv, b2b_cv) where the
        ``*_cv`` columns sum, over the session's distinct aids (for buy2buy: its carted/ordered
        aids), the co-visitation weight of the candidate divided by its rank + 1; zero if absent.
    """
    import polars as pl

    from systems.otto.lib.common import history_scores

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
