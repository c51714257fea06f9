"""Co-visitation matrices for OTTO, built with polars over chunks of sessions, and candidate scoring.

Not a system itself; ``covisit.py`` and ``covisit_ranker.py`` use it. The three matrices are
those of the public candidate-rerank baseline (Chris Deotte, Kaggle, 2022):

* ``clicks``: pairs of aids within 24 h in a session, each pair once per session, weighted by
  time (1 at the start of the data to 4 at the end) → the next-click candidates;
* ``carts_orders``: the same pairs weighted by the type of the second event (1 / 6 / 3);
* ``buy2buy``: pairs of carted/ordered aids within 14 days, weight 1.

Only each session's last ``tail`` events are used. Pairs are aggregated chunk by chunk into
``(aid_x, aid_y, weight)`` partial sums, compacted whenever they grow past ``compact_rows``;
``parts > 1`` builds the matrix in that many passes over ranges of ``aid_x``, so the memory
held at once is about 1/parts of the pair table.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

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


def _pair_weights(chunk: Any, spec: MatrixSpec, ts_min: int, ts_max: int) -> Any:
    import polars as pl

    pairs = (chunk.join(chunk, on="session", suffix="_y")
             .filter(((pl.col("ts") - pl.col("ts_y")).abs() < spec.window_s) & (pl.col("aid") != pl.col("aid_y")))
             .unique(subset=["session", "aid", "aid_y"], keep="first", maintain_order=True))
    if spec.name == "clicks":
        weight = 1.0 + 3.0 * (pl.col("ts").cast(pl.Float64) - ts_min) / max(1, ts_max - ts_min)
    elif spec.name == "carts_orders":
        weight = pl.col("type_y").replace_strict(TYPE_WEIGHTS, return_dtype=pl.Float64)
    else:
        weight = pl.lit(1.0)
    return (pairs.select(pl.col("aid").alias("aid_x"), "aid_y", weight.cast(pl.Float32).alias("weight"))
            .group_by(["aid_x", "aid_y"]).agg(pl.col("weight").sum()))


def build_matrix(events: Any, spec: MatrixSpec, chunk_sessions: int = 100_000, tail: int = 30,
                 parts: int = 1, compact_rows: int = 50_000_000) -> Any:
    """Build one co-visitation matrix.

    Args:
        events: all events to learn from (session, aid, ts, type), sorted by session and ts.
        spec: which matrix.
        chunk_sessions: sessions self-joined at a time (memory ∝ chunk × tail²).
        tail: use each session's last ``tail`` events.
        parts: passes over disjoint ranges of aid_x (memory ÷ parts, time × parts).
        compact_rows: re-aggregate the partial sums when they exceed this many rows.

    Returns:
        DataFrame (aid_x i32, aid_y i32, weight f32, rank u32), the top ``spec.top_k`` aid_y per
        aid_x by weight (ties: smaller aid_y first), rank 0 = best.
    """
    import polars as pl

    data = events.select("session", "aid", "ts", "type")
    if spec.buys_only:
        data = data.filter(pl.col("type") > 0)
    # pl.len() is unsigned: subtract in Int64, or short sessions wrap around and vanish
    data = data.filter(pl.int_range(pl.len()).over("session") >= pl.len().over("session").cast(pl.Int64) - tail)
    if data.is_empty():
        return pl.DataFrame(schema={"aid_x": pl.Int32, "aid_y": pl.Int32, "weight": pl.Float32, "rank": pl.UInt32})
    ts_min, ts_max = int(data["ts"].min()), int(data["ts"].max())
    sessions = data["session"]
    lo, hi = int(sessions.min()), int(sessions.max())
    n_aid = int(data["aid"].max()) + 1
    results = []
    for part in range(parts):
        a_lo, a_hi = part * n_aid // parts, (part + 1) * n_aid // parts
        partials: list[Any] = []
        held = 0
        start = lo
        while start <= hi:
            chunk = data.filter(pl.col("session").is_between(start, start + chunk_sessions - 1))
            start += chunk_sessions
            if chunk.is_empty():
                continue
            pairs = _pair_weights(chunk, spec, ts_min, ts_max)
            if parts > 1:
                pairs = pairs.filter(pl.col("aid_x").is_between(a_lo, a_hi - 1))
            partials.append(pairs)
            held += len(pairs)
            if held > compact_rows:
                partials = [pl.concat(partials).group_by(["aid_x", "aid_y"]).agg(pl.col("weight").sum())]
                held = len(partials[0])
        if not partials:
            continue
        total = pl.concat(partials).group_by(["aid_x", "aid_y"]).agg(pl.col("weight").sum())
        del partials
        top = (total.sort(["aid_x", "weight", "aid_y"], descending=[False, True, False])
               .group_by("aid_x", maintain_order=True).head(spec.top_k)
               .with_columns(pl.int_range(pl.len()).over("aid_x").cast(pl.UInt32).alias("rank")))
        results.append(top)
    return pl.concat(results).with_columns(pl.col("aid_x").cast(pl.Int32), pl.col("aid_y").cast(pl.Int32))


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
