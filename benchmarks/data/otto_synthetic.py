"""Deterministic synthetic OTTO sessions in the real schema, shaped after the full dataset's statistics.

At ``scale=1`` the generator makes ≈12.9M sessions over 1.86M items in four weeks
(2022-07-31 22:00 .. 2022-08-28 22:00 UTC), like otto-de's ``train.jsonl``
(see ``../shared/data/FULL-STATS.md``); smaller scales shrink sessions and items together.
The structure that recommenders can learn:

* item popularity is Zipfian with exponent 0.70 (with the affine walk, the top 1% of items get ≈17–19% of events);
* items belong to categories, and each item has 12 affine items in its category (skewed to
  the popular ones); a session's next view is an affine item of the current one (50%), an
  earlier item of the session again (15%, the repeat views), or a fresh popular item;
* a click → cart → order funnel: ≈30% of sessions cart a viewed item right after viewing it,
  ≈43% of those order some of their carted items at the end (≈90% / 8% / 2% of events);
* session length is 2 + a rounded lognormal (mean ≈16 events with carts and orders);
  gaps between events are seconds to minutes with occasional hours-long pauses.

Sessions are numbered in order of their start, as in the real data. Everything is drawn
from ``numpy.random.default_rng`` seeded by ``(seed, chunk)``, so the output is a pure
function of ``(scale, seed)`` however it is consumed.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

FULL_SESSIONS = 12_899_779
FULL_ITEMS = 1_855_603
START_TS = 1_659_304_800  # 2022-07-31 22:00:00 UTC, the first event of otto-de's train.jsonl
PERIOD_S = 28 * 24 * 3600
CHUNK_SESSIONS = 250_000
"""Sessions per generated chunk (fixed: the output must not depend on how it is consumed)."""


@dataclass(frozen=True)
class SyntheticSpec:
    """Parameters of the generator; the defaults are calibrated to FULL-STATS.md."""

    scale: float = 0.01
    seed: int = 0
    zipf_exponent: float = 0.70
    items_per_category: int = 100
    affine_items: int = 12
    p_affine: float = 0.50
    p_repeat: float = 0.15
    length_mu: float = 2.02
    length_sigma: float = 1.05
    max_length: int = 480
    p_cart_session: float = 0.30
    p_cart_per_view: float = 0.30
    p_order_given_cart: float = 0.43
    p_order_per_cart: float = 0.75

    @property
    def n_sessions(self) -> int:
        return max(200, round(FULL_SESSIONS * self.scale))

    @property
    def n_items(self) -> int:
        return max(500, round(FULL_ITEMS * self.scale))


class _Catalogue:
    """Item popularity and affinities, drawn once per (scale, seed)."""

    def __init__(self, spec: SyntheticSpec) -> None:
        rng = np.random.default_rng([spec.seed, 10**6])
        n = spec.n_items
        ranks = np.arange(1, n + 1, dtype=np.float64)
        weights = ranks ** -spec.zipf_exponent
        self.item_of_rank = rng.permutation(n).astype(np.int32)  # aid ids are not ordered by popularity
        self.cdf = np.cumsum(weights / weights.sum())
        popularity = np.empty(n)
        popularity[self.item_of_rank] = weights
        # categories: members sorted by popularity, so low offsets are the popular members
        n_categories = max(1, n // spec.items_per_category)
        category = rng.integers(0, n_categories, size=n)
        order = np.lexsort((-popularity, category))  # (n,) aids by category, then popularity
        sizes = np.bincount(category, minlength=n_categories)
        starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))
        item_start = starts[category]  # (n,)
        item_size = sizes[category]  # (n,)
        offsets = np.floor(item_size[:, None] * rng.random((n, spec.affine_items)) ** 2.5).astype(np.int64)
        self.affine = order[item_start[:, None] + offsets].astype(np.int32)  # (n, affine_items)

    def popular(self, rng: np.random.Generator, size: int) -> np.ndarray:
        ranks = np.searchsorted(self.cdf, rng.random(size) * self.cdf[-1], side="right")
        return self.item_of_rank[np.minimum(ranks, len(self.cdf) - 1)]


def _chunk(spec: SyntheticSpec, catalogue: _Catalogue, index: int, n_chunks: int, first_session: int, count: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng([spec.seed, index])
    # session starts: this chunk's slice of the four weeks, sorted, so ids follow start times
    slice_s = PERIOD_S / n_chunks
    starts = np.sort(START_TS + index * slice_s + rng.random(count) * slice_s).astype(np.int64)
    lengths = 2 + np.minimum(np.round(rng.lognormal(spec.length_mu, spec.length_sigma, count)), spec.max_length - 2).astype(np.int64)
    # walk positions-major over the sessions sorted by length (descending), so the sessions
    # still active at step t are a prefix of that order
    by_length = np.argsort(-lengths, kind="stable")
    sorted_lengths = lengths[by_length]
    offsets_sorted = np.zeros(count, dtype=np.int64)
    offsets = np.concatenate(([0], np.cumsum(lengths)[:-1]))  # (count,) session-major flat offsets
    offsets_sorted = offsets[by_length]
    total = int(lengths.sum())
    views = np.empty(total, dtype=np.int32)  # (total,) the viewed aids, session-major
    current = catalogue.popular(rng, count)  # (count,) in by_length order
    memory = current.copy()
    views[offsets_sorted] = current
    for t in range(1, int(sorted_lengths[0])):
        active = int(np.searchsorted(-sorted_lengths, -t, side="left"))  # sessions with length > t
        u = rng.random(active)
        nxt = catalogue.popular(rng, active)
        affine_pick = np.minimum(rng.geometric(0.35, active) - 1, spec.affine_items - 1)
        affine = catalogue.affine[current[:active], affine_pick]
        nxt = np.where(u < spec.p_affine, affine, nxt)
        nxt = np.where((u >= spec.p_affine) & (u < spec.p_affine + spec.p_repeat), memory[:active], nxt)
        replace = rng.random(active) < 1.0 / (t + 1)  # reservoir: memory is a uniform earlier item
        memory[:active] = np.where(replace, nxt, memory[:active])
        current[:active] = nxt
        views[offsets_sorted[:active] + t] = nxt
    session_of_view = np.repeat(np.arange(count), lengths)  # (total,)
    position = np.arange(total) - offsets[session_of_view]
    # timestamps: seconds-to-minutes gaps, sometimes a pause of hours
    gaps = rng.exponential(40.0, total) + np.where(rng.random(total) < 0.03, rng.exponential(4 * 3600.0, total), 0.0)
    gaps[offsets] = 0.0
    elapsed = np.cumsum(gaps)
    ts = starts[session_of_view] + np.round(elapsed - elapsed[offsets][session_of_view]).astype(np.int64)
    # funnel: carts right after a view in carting sessions; orders at the end
    carting = rng.random(count) < spec.p_cart_session
    cart_mask = carting[session_of_view] & (rng.random(total) < spec.p_cart_per_view) & (position > 0)
    has_cart = np.bincount(session_of_view[cart_mask], minlength=count) > 0
    forced = carting & ~has_cart  # every carting session carts at least once: its last view
    cart_mask[(offsets + lengths - 1)[forced]] = True
    cart_index = np.flatnonzero(cart_mask)
    cart_session = session_of_view[cart_index]
    ordering = carting & (rng.random(count) < spec.p_order_given_cart)
    keys = np.unique(cart_session.astype(np.int64) * (FULL_ITEMS * 4) + views[cart_index])
    order_session = keys // (FULL_ITEMS * 4)
    order_aid = (keys % (FULL_ITEMS * 4)).astype(np.int32)
    keep = ordering[order_session] & (rng.random(len(keys)) < spec.p_order_per_cart)
    first_of_session = np.concatenate(([True], order_session[1:] != order_session[:-1]))
    keep |= ordering[order_session] & first_of_session  # at least one order per ordering session
    order_session, order_aid = order_session[keep], order_aid[keep]
    last_ts = ts[offsets + lengths - 1]
    order_ts = last_ts[order_session] + np.round(60 + rng.exponential(300.0, count))[order_session].astype(np.int64)
    # assemble session-major: view (key 2t), cart of that view (2t+1), orders (after everything)
    session = np.concatenate([session_of_view, cart_session, order_session])
    key = np.concatenate([2 * position, 2 * position[cart_index] + 1, np.full(len(order_session), 2 * spec.max_length + 2)])
    order = np.lexsort((key, session))
    return {
        "session": (first_session + session[order]).astype(np.int32),
        "aid": np.concatenate([views, views[cart_index], order_aid])[order].astype(np.int32),
        "ts": np.concatenate([ts, ts[cart_index], order_ts])[order].astype(np.int32),
        "type": np.concatenate([np.zeros(total, np.int8), np.ones(len(cart_index), np.int8),
                                np.full(len(order_session), 2, np.int8)])[order],
    }


def iter_chunks(spec: SyntheticSpec) -> Iterator[dict[str, np.ndarray]]:
    """Yield the events chunk by chunk as numpy columns (session, aid, ts in seconds, type 0/1/2).

    Args:
        spec: generator parameters (scale and seed).

    Returns:
        An iterator of ``{"session", "aid", "ts", "type"}`` arrays, sessions in increasing order.
    """
    catalogue = _Catalogue(spec)
    n = spec.n_sessions
    n_chunks = max(1, -(-n // CHUNK_SESSIONS))
    first = 0
    for index in range(n_chunks):
        count = n // n_chunks + (1 if index < n % n_chunks else 0)
        yield _chunk(spec, catalogue, index, n_chunks, first, count)
        first += count


def generate(spec: SyntheticSpec) -> dict[str, np.ndarray]:
    """All events as numpy columns (session i32, aid i32, ts i32 seconds, type i8), sorted by session and ts.

    Numpy, not polars: the runner forks its workers, and a polars thread pool started in the
    parent hangs in a forked child.
    """
    chunks = list(iter_chunks(spec))
    return {name: np.concatenate([chunk[name] for chunk in chunks]) for name in ("session", "aid", "ts", "type")}


def write_parquet(spec: SyntheticSpec, path: Path) -> dict[str, int]:
    """Write the events to parquet one chunk at a time (memory stays at one chunk)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from benchmarks.data.otto import _schema

    path.parent.mkdir(parents=True, exist_ok=True)
    events = 0
    with pq.ParquetWriter(path, _schema()) as writer:
        for chunk in iter_chunks(spec):
            writer.write_table(pa.table(chunk, schema=_schema()))
            events += len(chunk["session"])
    return {"sessions": spec.n_sessions, "events": events}


def write_jsonl(spec: SyntheticSpec, path: Path, milliseconds: bool = True) -> Path:
    """Write the sessions in otto-de's jsonl format (ts in ms, like their release, by default)."""
    names = ("clicks", "carts", "orders")
    factor = 1000 if milliseconds else 1
    with open(path, "w", encoding="utf-8") as handle:
        for chunk in iter_chunks(spec):
            sessions = chunk["session"]
            bounds = np.flatnonzero(np.diff(sessions)) + 1
            for start, stop in zip(np.concatenate(([0], bounds)), np.concatenate((bounds, [len(sessions)])), strict=True):
                events = [{"aid": int(a), "ts": int(t) * factor, "type": names[k]}
                          for a, t, k in zip(chunk["aid"][start:stop], chunk["ts"][start:stop], chunk["type"][start:stop], strict=True)]
                handle.write(json.dumps({"session": int(sessions[start]), "events": events}, separators=(",", ":")) + "\n")
    return path


def statistics(events: Any) -> dict[str, float]:
    """The FULL-STATS.md figures of events (a DataFrame or numpy columns: session, aid, ts, type)."""
    import polars as pl

    events = pl.DataFrame(events) if isinstance(events, dict) else events

    per_session = events.group_by("session").agg(
        pl.len().alias("n"),
        pl.col("aid").n_unique().alias("distinct"),
        (pl.col("type") == 1).any().alias("cart"),
        (pl.col("type") == 2).any().alias("order"),
        (pl.col("type") == 0).all().alias("clicks_only"),
    )
    item_counts = events.group_by("aid").len().sort("len", descending=True)["len"].to_numpy()
    top = max(1, len(item_counts) // 100)
    type_share = np.bincount(events["type"].to_numpy(), minlength=3) / len(events)
    # "revisit": the same aid viewed (clicked) twice in a session
    clicks = events.filter(pl.col("type") == 0)
    revisits = clicks.group_by("session").agg((pl.len() > pl.col("aid").n_unique()).alias("revisit"))
    return {
        "sessions": float(len(per_session)),
        "events": float(len(events)),
        "items": float(len(item_counts)),
        "events_per_session": float(per_session["n"].mean()),
        "clicks_share": float(type_share[0]),
        "carts_share": float(type_share[1]),
        "orders_share": float(type_share[2]),
        "sessions_clicks_only": float(per_session["clicks_only"].mean()),
        "sessions_with_carts": float(per_session["cart"].mean()),
        "sessions_with_orders": float(per_session["order"].mean()),
        "sessions_revisiting": float(revisits["revisit"].sum() / len(per_session)),
        "distinct_items_per_session": float(per_session["distinct"].mean()),
        "top1pct_items_share": float(item_counts[:top].sum() / item_counts.sum()),
    }
