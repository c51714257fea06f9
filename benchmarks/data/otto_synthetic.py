"""Deterministic synthetic OTTO sessions in the real schema, shaped after the full dataset's statistics.

At ``scale=1``: ≈12.9M sessions over 1.86M items in four weeks (2022-07-31 22:00 .. 2022-08-28 22:00 UTC), like
otto-de's ``train.jsonl`` (``../shared/data/FULL-STATS.md``; ``python -m benchmarks data-stats --task otto-recall20``
measures them); smaller scales shrink sessions and items together. The structure:

* item popularity follows otto-de's published events-per-item quantiles (a Pareto tail above the 95th percentile);
  it drifts from week to week, some items launch and others disappear during the four weeks;
* items come in families (colour and size variants) inside categories; each item's neighbours are its family,
  then popular items of its category;
* a session pursues an *intent*, a few focus items: each view returns to an earlier item (often the one just seen),
  explores a neighbour of a focus item (which may join the focus), starts a new intent or glances at a popular
  item, so the next item depends on the whole session, not on the last item alone;
* carts follow views, more often of items seen before and of items first seen early; most ordering sessions open by
  buying what was carted before, and checkouts come a few views after some carts, or open the next visit;
* sessions are visits with gaps of seconds to minutes, separated by pauses of hours or days; they start more often
  early in the four weeks than late.

Sessions are numbered in order of their start, as in the real data. Everything is drawn from
``numpy.random.default_rng`` seeded by ``(seed, chunk)`` (the catalogue by ``(seed, 10**6)``), so the output is a
pure function of ``(scale, seed)`` however it is consumed.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from benchmarks.data.otto_events import COLUMNS, parquet_schema, write_row_groups

VERSION = "2"  # changes whenever the generated data change, so records on different twins never share a table
FULL_SESSIONS = 12_899_779
FULL_ITEMS = 1_855_603
START_TS = 1_659_304_800  # 2022-07-31 22:00:00 UTC, the first event of otto-de's train.jsonl
PERIOD_S = 28 * 24 * 3600
WEEK_S = 7 * 24 * 3600
N_WEEKS = 4
CHUNK_SESSIONS = 250_000  # sessions per generated chunk (fixed: the output must not depend on how it is consumed)
ITEM_QUANTILES = ((0.0, 3.0), (0.5, 20.0), (0.75, 56.0), (0.9, 183.0), (0.95, 398.0))
"""otto-de's README, train events per item: min 3, median 20, 75% 56, 90% 183, 95% 398."""


@dataclass(frozen=True)
class SyntheticSpec:
    """Parameters of the generator; the defaults are calibrated to FULL-STATS.md."""

    scale: float = 0.01
    seed: int = 0
    # catalogue
    items_per_category: int = 100
    family_extra: float = 2.0  # items per family: 1 + Poisson(family_extra)
    neighbours: int = 16
    tail_alpha: float = 2.2  # Pareto exponent of item popularity above its 95th percentile
    trend_sigma: float = 0.42  # standard deviation of the weekly step of an item's log popularity (a random walk)
    p_launch: float = 0.15  # share of items launched during the four weeks (the rest are on sale from the start)
    p_retire: float = 0.10  # share of items taken off sale during the four weeks
    # sessions
    views_median: float = 5.0
    views_sigma: float = 1.45
    max_views: int = 460
    start_decay_days: float = 18.5  # session starts thin out over the weeks with this time constant
    gap_mean_s: float = 55.0
    p_pause: float = 0.035  # chance that a gap between two views is a pause of hours or days (a new visit)
    # the walk
    focus_slots: int = 3
    p_return: float = 0.19
    return_lag_p: float = 0.55  # returns go back 1 + Geometric(p) views (p high: mostly to the item just seen)
    p_explore: float = 0.47
    p_adopt: float = 0.35
    p_new_intent: float = 0.12
    neighbour_skew: float = 0.15  # a neighbour is picked at index Geometric(skew) − 1 of the item's neighbour list
    # the funnel
    cart_session_midpoint: float = 9.0  # sessions with this many views cart with probability p_cart_session_max / 2
    p_cart_session_max: float = 0.67
    p_cart_view: float = 0.065
    p_cart_return: float = 0.32
    cart_age_views: float = 10.0
    """An item first seen this many views ago (or more) is carted at p_cart_return, one just seen at half of it."""
    p_order_given_cart: float = 0.41
    p_order_per_cart: float = 0.65
    cart_first_interest: float = 0.9
    """Items the session saw first at its start are carted (1 + this) times as often as average, at its end (1 − this)."""
    p_direct_buy: float = 0.7  # share of ordering sessions opening with a purchase (first views carted and ordered)
    direct_extra_items: float = 1.5  # items bought at an opening purchase: 1 + Poisson(this)
    p_checkout_next_visit: float = 0.3  # chance that a checkout waits for and opens the session's next visit (if any)
    p_checkout: float = 0.3  # chance that a cart of an ordering session is followed by a checkout (one always is)
    checkout_lag_views: float = 3.0  # a checkout comes Geometric views after its cart (this many on average)

    @property
    def n_sessions(self) -> int:
        return max(200, round(FULL_SESSIONS * self.scale))

    @property
    def n_items(self) -> int:
        return max(500, round(FULL_ITEMS * self.scale))


class _Catalogue:
    """Items: weekly popularity, life span and neighbours, drawn once per (scale, seed)."""

    def __init__(self, spec: SyntheticSpec) -> None:
        rng = np.random.default_rng([spec.seed, 10**6])
        n = spec.n_items
        # base popularity of each aid: the published quantiles, a Pareto tail above the 95th percentile,
        # at evenly spaced quantiles given to the aids in a random order (even spacing keeps the
        # heavy tail's share the same at every scale)
        q = (rng.permutation(n) + 0.5) / n
        knots_q, knots_v = zip(*ITEM_QUANTILES, strict=True)
        base = np.exp(np.interp(q, knots_q, np.log(knots_v)))
        tail = q > knots_q[-1]
        base[tail] = knots_v[-1] * ((1 - knots_q[-1]) / (1 - q[tail])) ** (1 / spec.tail_alpha)
        # week-to-week drift (a random walk in log popularity), launches and retirements
        drift = np.cumsum(rng.normal(0.0, spec.trend_sigma, (n, N_WEEKS)), axis=1)  # (n, weeks)
        weekly = base[:, None] * np.exp(drift - drift.mean(axis=1, keepdims=True))
        week = np.arange(N_WEEKS)[None, :]
        launch = np.where(rng.random(n) < spec.p_launch, rng.integers(1, N_WEEKS, n), 0)
        retire = np.where(rng.random(n) < spec.p_retire, rng.integers(1, N_WEEKS, n), N_WEEKS)
        retire = np.maximum(retire, launch + 1)
        self.weekly = np.where((week >= launch[:, None]) & (week < retire[:, None]), weekly, 0.0)  # (n, weeks)
        self.live = self.weekly > 0  # (n, weeks)
        # one CDF over (week, aid): week w's draws land in [w, w + 1)
        cdf = np.cumsum(self.weekly, axis=0)
        self.cdf = (np.arange(N_WEEKS)[None, :] + cdf / cdf[-1]).T.ravel()  # (weeks * n,)
        # categories and families; members sorted by popularity, so low offsets are popular members
        n_categories = max(1, n // spec.items_per_category)
        category = rng.integers(0, n_categories, size=n)
        order = np.lexsort((-base, category))  # (n,) slot → aid: by category, then popularity
        sizes = np.bincount(category, minlength=n_categories)
        starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))
        item_start, item_size = starts[category], sizes[category]  # (n,)
        # each item's own sample of its category, drawn in proportion to popularity
        cumulative = np.concatenate(([0.0], np.cumsum(base[order])))  # (n + 1,) over the sorted slots
        low, high = cumulative[item_start], cumulative[item_start + item_size]  # (n,)
        target = low[:, None] + rng.random((n, spec.neighbours)) * (high - low)[:, None]
        slots = np.searchsorted(cumulative, target, side="right") - 1
        slots = np.clip(slots, item_start[:, None], (item_start + item_size - 1)[:, None])
        neighbours = order[slots]  # (n, neighbours): popular members of the item's category
        # families: runs of 1 + Poisson members of a category of similar popularity (variants of a
        # product sell alike); they come first among the neighbours
        bounds = np.cumsum(1 + rng.poisson(spec.family_extra, n))  # family ends, in slots
        family = np.searchsorted(bounds, np.arange(n), side="right")  # (n,) slot → family
        family_start = np.concatenate(([0], bounds))[family]
        family_end = np.minimum(bounds[family], n)
        slot = np.empty(n, dtype=np.int64)
        slot[order] = np.arange(n)  # aid → slot
        for j in range(min(4, spec.neighbours)):  # up to 4 family members (the item itself skipped)
            member_slot = family_start[slot] + j
            member_slot = np.where(member_slot >= slot, member_slot + 1, member_slot)
            member = order[np.minimum(member_slot, n - 1)]
            same = (member_slot < family_end[slot]) & (category[member] == category)
            neighbours[:, j] = np.where(same, member, neighbours[:, j])
        self.neighbours = neighbours.astype(np.int32)

    def popular(self, rng: np.random.Generator, week: np.ndarray) -> np.ndarray:
        """One draw per entry of ``week`` from that week's popularity. Each week's draws search the CDF with sorted
        uniforms (far fewer cache misses than random ones at 1.86M items), then are shuffled to stay independent."""
        n = len(self.live)
        out = np.empty(len(week), dtype=np.int32)
        for w in range(N_WEEKS):
            where = np.flatnonzero(week == w)
            if len(where):
                found = np.searchsorted(self.cdf, w + np.sort(rng.random(len(where))), side="right") - w * n
                out[where] = rng.permutation(np.minimum(found, n - 1))
        return out


def _session_times(spec: SyntheticSpec, rng: np.random.Generator, index: int, n_chunks: int, views: np.ndarray,
                   offsets: np.ndarray, session_of_view: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(view timestamps, whether each view starts a visit), both (Σ views,); every event is inside the period."""
    # this chunk's slice of the start distribution, sorted: f(t) ∝ exp(−t/τ) over the four weeks
    tau = spec.start_decay_days * 86400.0
    u = np.sort((index + rng.random(len(views))) / n_chunks)
    starts = (-tau * np.log1p(-u * (1 - np.exp(-PERIOD_S / tau)))).astype(np.int64)
    total = len(session_of_view)
    pause = rng.random(total) < spec.p_pause
    hours_or_days = np.where(rng.random(total) < 0.5, rng.exponential(3 * 3600.0, total), rng.exponential(3 * 86400.0, total))
    gaps = np.where(pause, hours_or_days, rng.exponential(spec.gap_mean_s, total))
    gaps[offsets] = 0.0
    elapsed = np.cumsum(gaps)
    elapsed -= elapsed[offsets][session_of_view]
    # a session that would run past the end is compressed into the time left
    span = elapsed[offsets + views - 1]
    room = np.maximum(PERIOD_S - 1 - starts, 0)
    squeeze = np.minimum(1.0, room / np.maximum(span, 1.0))
    ts = START_TS + starts[session_of_view] + np.floor(elapsed * squeeze[session_of_view]).astype(np.int64)
    pause[offsets] = True  # a session's first view starts its first visit
    return ts, pause


def _chunk(spec: SyntheticSpec, catalogue: _Catalogue, index: int, n_chunks: int, first_session: int,
           count: int) -> dict[str, np.ndarray]:
    """One chunk of ``count`` sessions: views, then carts, then orders, then the events in order. (The phases
    draw from one generator in this order: changing the order changes the data.)"""
    rng = np.random.default_rng([spec.seed, index])
    lengths = 1 + np.minimum(np.round(rng.lognormal(np.log(spec.views_median), spec.views_sigma, count)),
                             spec.max_views - 1).astype(np.int64)
    lengths = np.maximum(lengths, 2)
    offsets = np.concatenate(([0], np.cumsum(lengths)[:-1]))  # (count,) session-major flat offsets
    session_of_view = np.repeat(np.arange(count), lengths)  # (total,)
    ts, visit_start = _session_times(spec, rng, index, n_chunks, lengths, offsets, session_of_view)
    views = _views(spec, catalogue, rng, lengths, offsets, ts)
    total = len(views)
    position = np.arange(total) - offsets[session_of_view]
    cart_index, ordering, opening_views = _carts(spec, catalogue, rng, lengths, offsets, views, session_of_view, position)
    cart_session, cart_position = session_of_view[cart_index], position[cart_index]
    order_session, order_position, order_aid = _orders(spec, rng, lengths, offsets, views, visit_start, cart_index,
                                                       cart_session, cart_position, ordering, opening_views)
    # timestamps: a cart in the first half of the gap after its view, a checkout in the second half
    next_gap = np.append(np.diff(ts), 0)
    next_gap[offsets + lengths - 1] = np.round(rng.exponential(60.0, count)).astype(np.int64)
    next_gap = np.minimum(next_gap, np.maximum(START_TS + PERIOD_S - 1 - ts, 0))
    cart_ts = ts[cart_index] + np.floor(next_gap[cart_index] * 0.5 * rng.random(len(cart_index))).astype(np.int64)
    checkout_ts = ts + np.floor(next_gap * (0.5 + 0.5 * rng.random(total))).astype(np.int64)  # (total,) per view
    order_row = offsets[order_session] + order_position
    return _assemble(first_session, ts, views, session_of_view, position, cart_index, cart_session, cart_position,
                     cart_ts, order_session, order_position, order_aid, checkout_ts[order_row])


def _views(spec: SyntheticSpec, catalogue: _Catalogue, rng: np.random.Generator, lengths: np.ndarray,
           offsets: np.ndarray, ts: np.ndarray) -> np.ndarray:
    """The viewed aids, session-major: each session opens on a popular item and goes on by returns, neighbours
    of its focus items and new intents."""
    week_of_view = np.minimum((ts - START_TS) // WEEK_S, N_WEEKS - 1)
    # walk positions-major over the sessions sorted by length (descending), so the sessions
    # still active at step t are a prefix of that order
    by_length = np.argsort(-lengths, kind="stable")
    sorted_lengths = lengths[by_length]
    offsets_sorted = offsets[by_length]
    total = int(lengths.sum())
    views = np.empty(total, dtype=np.int32)  # (total,) the viewed aids, session-major
    # every view's draws at once: the kind of step, and what each kind needs
    thresholds = np.cumsum([spec.p_return, spec.p_explore, spec.p_new_intent])  # kinds 0 return .. 3 glance
    kind = np.searchsorted(thresholds, rng.random(total), side="right").astype(np.int8)
    lag = rng.geometric(spec.return_lag_p, total)  # a return goes back 1 + Geometric views
    slots = spec.focus_slots
    slot = rng.integers(0, slots, total, dtype=np.int8)  # exploring: from which focus item
    pick = np.minimum(rng.geometric(spec.neighbour_skew, total) - 1, spec.neighbours - 1).astype(np.int32)
    adopt = np.where(rng.random(total) < spec.p_adopt, rng.integers(0, slots, total), -1).astype(np.int8)
    fresh = np.zeros(total, dtype=np.int32)  # a popular item of the view's week, where one may be needed
    needs = kind >= 2
    needs[offsets] = True
    fresh[needs] = catalogue.popular(rng, week_of_view[needs])
    first = fresh[offsets_sorted]  # a session opens on a popular item: its first intent
    views[offsets_sorted] = first
    focus = np.repeat(first[:, None], slots, axis=1)  # (count, slots), in by_length order
    focus_flat = focus.reshape(-1)
    neighbours_flat, live_flat = catalogue.neighbours.reshape(-1), catalogue.live.reshape(-1)
    for t in range(1, int(sorted_lengths[0])):
        active = int(np.searchsorted(-sorted_lengths, -t, side="left"))  # sessions with length > t
        rows = offsets_sorted[:active] + t
        step = kind[rows]
        item = fresh[rows]  # a new intent or a glance at a popular item
        back = np.flatnonzero(step == 0)  # a return to an item seen before
        item[back] = views[rows[back] - np.minimum(lag[rows[back]], t)]
        explore = np.flatnonzero(step == 1)  # a neighbour of a focus item, if it is on sale this week
        at = rows[explore]
        source = focus_flat[explore * slots + slot[at]]
        neighbour = neighbours_flat[source * spec.neighbours + pick[at]]
        on_sale = live_flat[neighbour * N_WEEKS + week_of_view[at]]
        item[explore] = np.where(on_sale, neighbour, source)
        joins = np.flatnonzero(on_sale & (adopt[at] >= 0))  # the neighbour joins the focus
        focus_flat[explore[joins] * slots + adopt[at[joins]]] = neighbour[joins]
        restart = np.flatnonzero(step == 2)  # a new intent replaces the focus
        focus[restart] = item[restart, None]
        views[rows] = item
    return views


def _carts(spec: SyntheticSpec, catalogue: _Catalogue, rng: np.random.Generator, lengths: np.ndarray,
           offsets: np.ndarray, views: np.ndarray, session_of_view: np.ndarray,
           position: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The carted views (their rows), the sessions that order, and how many views each opens with that it buys
    at once."""
    count, total = len(lengths), len(views)
    # carts right after a view, in carting sessions (long sessions cart more often); more often of an
    # item the session saw before (the longer ago, the likelier), and of items it first saw early
    p_session = spec.p_cart_session_max * lengths / (lengths + spec.cart_session_midpoint)
    carting = rng.random(count) < p_session
    # where the session first saw each viewed item: one sort of session << 44 | aid << 23 | row
    # (rows are session-major, so each (session, aid) run lists its views in order)
    if total >= 1 << 23 or count >= 1 << 19 or catalogue.live.shape[0] > 1 << 21:
        raise ValueError(f"a chunk of {count} sessions, {total} views: too large for the packed sort key")
    packed = np.sort((session_of_view.astype(np.int64) << 44) | (views.astype(np.int64) << 23) | np.arange(total))
    row = packed & ((1 << 23) - 1)
    run_start = np.concatenate(([True], (packed[1:] >> 23) != (packed[:-1] >> 23)))
    first_seen = np.empty(total, dtype=np.int64)
    first_seen[row] = position[row[np.maximum.accumulate(np.where(run_start, np.arange(total), 0))]]
    del packed, row, run_start
    age = position - first_seen
    considered = np.minimum(age, spec.cart_age_views) / spec.cart_age_views
    p_view = np.where(age > 0, spec.p_cart_return * (0.5 + 0.5 * considered), spec.p_cart_view)
    first_relative = first_seen / np.maximum(lengths - 1, 1)[session_of_view]
    p_view = p_view * (1 + spec.cart_first_interest * (1 - 2 * first_relative))
    cart_mask = carting[session_of_view] & (rng.random(total) < p_view)
    ordering = carting & (rng.random(count) < spec.p_order_given_cart)
    # some ordering sessions open with a purchase: their first views are carted and checked out at once
    direct = ordering & (rng.random(count) < spec.p_direct_buy)
    opening_views = np.where(direct, np.minimum(1 + rng.poisson(spec.direct_extra_items, count), lengths), 0)  # (count,)
    cart_mask |= position < opening_views[session_of_view]
    has_cart = np.bincount(session_of_view[cart_mask], minlength=count) > 0
    forced = carting & ~has_cart  # every carting session carts at least once: a random view
    cart_mask[offsets[forced] + (rng.random(int(forced.sum())) * lengths[forced]).astype(np.int64)] = True
    cart_index = np.flatnonzero(cart_mask)
    return cart_index, ordering, opening_views


def _orders(spec: SyntheticSpec, rng: np.random.Generator, lengths: np.ndarray, offsets: np.ndarray, views: np.ndarray,
            visit_start: np.ndarray, cart_index: np.ndarray, cart_session: np.ndarray, cart_position: np.ndarray,
            ordering: np.ndarray, opening_views: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The orders as (session, position of the checkout, aid); a session orders an item once."""
    total = len(views)
    # ordering sessions check out a few views after some of their carts (at least one, picked at
    # random); a checkout orders items carted since the previous one, and browsing goes on after it
    candidate = ordering[cart_session]
    draw = rng.random(len(cart_index))
    by_draw = np.lexsort((draw, cart_session))
    picked = np.zeros(len(cart_index), dtype=bool)
    picked[by_draw[np.concatenate(([True], cart_session[by_draw][1:] != cart_session[by_draw][:-1]))]] = True
    opening = cart_position < opening_views[cart_session]
    anchor = candidate & (picked | opening | (rng.random(len(cart_index)) < spec.p_checkout))
    remaining = lengths[cart_session] - cart_position  # views from the cart's own on
    lag = np.minimum(rng.geometric(1 / (1 + spec.checkout_lag_views), len(cart_index)) - 1, remaining - 1)
    # or the checkout opens the session's next visit (the user comes back to buy what was carted)
    next_visit = np.minimum.accumulate(np.where(visit_start, np.arange(total), total)[::-1])[::-1]
    next_visit = np.append(next_visit, total)[cart_index + 1] - offsets[cart_session]  # (carts,) position
    comes_back = (next_visit < lengths[cart_session]) & (rng.random(len(cart_index)) < spec.p_checkout_next_visit)
    lag = np.where(comes_back, next_visit - cart_position, lag)
    lag[opening] = (opening_views[cart_session] - 1 - cart_position)[opening]
    checkout_position = (cart_position + lag)[anchor]
    width = np.int64(1 << 12)  # > max_views
    checkout_key = np.unique(cart_session[anchor].astype(np.int64) * width + checkout_position)
    found = np.searchsorted(checkout_key, cart_session.astype(np.int64) * width + cart_position)
    found = np.minimum(found, len(checkout_key) - 1)
    ordered = candidate & (checkout_key[found] // width == cart_session)
    ordered &= anchor | (rng.random(len(cart_index)) < spec.p_order_per_cart)
    order_session, order_position = cart_session[ordered], checkout_key[found[ordered]] % width
    order_aid = views[cart_index[ordered]]
    once = np.unique(order_session.astype(np.int64) * (FULL_ITEMS * 4) + order_aid, return_index=True)[1]  # an item is ordered once
    return order_session[once], order_position[once], order_aid[once]


def _assemble(first_session: int, ts: np.ndarray, views: np.ndarray, session_of_view: np.ndarray, position: np.ndarray,
              cart_index: np.ndarray, cart_session: np.ndarray, cart_position: np.ndarray, cart_ts: np.ndarray,
              order_session: np.ndarray, order_position: np.ndarray, order_aid: np.ndarray,
              order_ts: np.ndarray) -> dict[str, np.ndarray]:
    """The chunk's events, session-major and in order; ``first_session`` numbers its first session."""
    # view (key 3t), its cart (3t + 1), a checkout after it (3t + 2): the three lists are each sorted by (session,
    # key), so a stable sort of their concatenation (a merge of three runs) places every event
    order_key = order_session.astype(np.int64) * 4096 + 3 * order_position + 2
    by_order_key = np.argsort(order_key)
    order_key = order_key[by_order_key]
    place = np.argsort(np.concatenate((session_of_view.astype(np.int64) * 4096 + 3 * position,
                                       cart_session.astype(np.int64) * 4096 + 3 * cart_position + 1, order_key)),
                       kind="stable")
    parts = {"session": (session_of_view, cart_session, order_key // 4096),
             "aid": (views, views[cart_index], order_aid[by_order_key]), "ts": (ts, cart_ts, order_ts[by_order_key]),
             "type": tuple(np.full(n, code) for code, n in enumerate((len(views), len(cart_index), len(order_key))))}
    out = {name: np.concatenate(values)[place].astype(COLUMNS[name]) for name, values in parts.items()}
    out["session"] += first_session
    return out


def iter_chunks(spec: SyntheticSpec) -> Iterator[dict[str, np.ndarray]]:
    """The events chunk by chunk, as :func:`generate`'s columns."""
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
    Numpy, not polars: a polars thread pool started before the runner forks its workers hangs in the children."""
    chunks = list(iter_chunks(spec))
    return {name: np.concatenate([chunk[name] for chunk in chunks]) for name in ("session", "aid", "ts", "type")}


def write_parquet(spec: SyntheticSpec, path: Path) -> dict[str, int]:
    """Write the events to parquet, one row group per chunk (memory stays at one chunk)."""
    import pyarrow as pa

    path.parent.mkdir(parents=True, exist_ok=True)
    tables = (pa.table(chunk, schema=parquet_schema()) for chunk in iter_chunks(spec))
    return {"sessions": spec.n_sessions, "events": write_row_groups(path, tables, row_group_events=1)}


def write_jsonl(spec: SyntheticSpec, path: Path) -> Path:
    """Write the sessions in otto-de's jsonl format (ts in ms, like their release)."""
    names = ("clicks", "carts", "orders")
    with open(path, "w", encoding="utf-8") as handle:
        for chunk in iter_chunks(spec):
            sessions = chunk["session"]
            bounds = np.flatnonzero(np.diff(sessions)) + 1
            for start, stop in zip(np.concatenate(([0], bounds)), np.concatenate((bounds, [len(sessions)])), strict=True):
                events = [{"aid": int(a), "ts": int(t) * 1000, "type": names[k]}
                          for a, t, k in zip(chunk["aid"][start:stop], chunk["ts"][start:stop], chunk["type"][start:stop], strict=True)]
                handle.write(json.dumps({"session": int(sessions[start]), "events": events}, separators=(",", ":")) + "\n")
    return path
