"""The numpy co-visitation build against a plain, pair-by-pair implementation of the baseline's definition."""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import polars as pl
import pytest

from systems.otto.lib.covisitation import MATRICES, build_matrix

TYPE_WEIGHT = {0: 1.0, 1: 6.0, 2: 3.0}  # the public baseline's carts-orders weights, written out again here
SCHEMA = {"session": pl.Int32, "aid": pl.Int32, "ts": pl.Int32, "type": pl.Int8}


def reference(rows: list[tuple[int, int, int, int]], name: str, tail: int, top_k: int = 20) -> dict:
    """``{(aid_x, aid_y): (weight, rank)}``: every session's last ``tail`` events (buy2buy: carts and orders only),
    every ordered pair of different aids within the window, each (session, aid_x, aid_y) once with the weight of
    its first occurrence (left event major), summed over sessions, top ``top_k`` per aid_x (weight desc, aid_y asc)."""
    spec = MATRICES[name]
    if spec.buys_only:
        rows = [r for r in rows if r[3] > 0]
    ts_min, ts_max = min(r[2] for r in rows), max(r[2] for r in rows)
    sessions: dict[int, list] = defaultdict(list)
    for session, aid, ts, kind in rows:
        sessions[session].append((aid, ts, kind))
    totals: dict[tuple[int, int], float] = defaultdict(float)
    for events in sessions.values():
        events = events[-tail:]
        counted = set()
        for aid_x, ts_x, _ in events:
            for aid_y, ts_y, kind_y in events:
                if aid_x == aid_y or abs(ts_x - ts_y) >= spec.window_s or (aid_x, aid_y) in counted:
                    continue
                counted.add((aid_x, aid_y))
                if name == "clicks":
                    weight = 1 + 3 * (ts_x - ts_min) / (ts_max - ts_min)
                elif name == "carts_orders":
                    weight = TYPE_WEIGHT[kind_y]
                else:
                    weight = 1.0
                totals[(aid_x, aid_y)] += weight
    by_x: dict[int, list] = defaultdict(list)
    for (aid_x, aid_y), weight in totals.items():
        by_x[aid_x].append((-weight, aid_y))
    return {(aid_x, aid_y): (-neg, rank) for aid_x, pairs in by_x.items()
            for rank, (neg, aid_y) in enumerate(sorted(pairs)[:top_k])}


def random_sessions(seed: int, clicks_exact: bool) -> list[tuple[int, int, int, int]]:
    """Sessions of 1–45 events over 40 aids (many repeats, so the tail cut, deduplication and ties all occur).

    With ``clicks_exact`` the timestamps run from 0 to 3·1024 s, so every time weight 1 + ts/1024 is exact in float32.
    """
    rng = np.random.default_rng(seed)
    rows = []
    for session in range(120):
        n = int(rng.integers(1, 46))
        if clicks_exact:
            ts = np.sort(rng.integers(0, 3 * 1024 + 1, n))
        else:
            ts = np.cumsum(rng.integers(0, 12 * 3600, n)) + int(rng.integers(0, 5 * 86400))
        aids = rng.zipf(1.3, n) % 40
        kinds = rng.choice(3, n, p=[0.8, 0.12, 0.08])
        rows += [(session * 3 + 1, int(a), int(t), int(k)) for a, t, k in zip(aids, ts, kinds, strict=True)]
    if clicks_exact:
        rows += [(999, 1, 0, 0), (999, 2, 3 * 1024, 0)]  # pin ts_min and ts_max
    return rows


def as_dict(frame: pl.DataFrame) -> dict:
    return {(r["aid_x"], r["aid_y"]): (r["weight"], r["rank"]) for r in frame.to_dicts()}


@pytest.mark.parametrize("name", ["clicks", "carts_orders", "buy2buy"])
@pytest.mark.parametrize(("chunk_sessions", "parts", "split", "block_rows"),
                         [(1, 1, False, 10**7), (7, 3, True, 37), (1000, 1, True, 5), (16, 5, False, 10**7)])
@pytest.mark.parametrize("tail", [30, 4])
def test_matrix_equals_the_pair_by_pair_definition(name, chunk_sessions, parts, split, block_rows, tail):
    rows = random_sessions(seed=len(name) + tail, clicks_exact=name == "clicks")
    frame = pl.DataFrame(rows, schema=SCHEMA, orient="row")
    # sessions given as two frames with disjoint sessions (train and test), or as one
    events = [frame.filter(pl.col("session") % 2 == 0), frame.filter(pl.col("session") % 2 == 1)] if split else frame
    got = as_dict(build_matrix(events, MATRICES[name], chunk_sessions=chunk_sessions, tail=tail, parts=parts,
                               compact_rows=50, block_rows=block_rows))
    want = reference(rows, name, tail)
    assert got.keys() == want.keys()
    for pair, (weight, rank) in want.items():
        assert got[pair][1] == rank, pair
        assert got[pair][0] == pytest.approx(weight, rel=1e-6), pair


def test_recommending_in_chunks_of_sessions_changes_nothing():
    from benchmarks.api import RunContext
    from benchmarks.config import build_config
    from benchmarks.data.otto_synthetic import SyntheticSpec, generate
    from benchmarks.data.otto_testset import make_testset
    from benchmarks.kinds.session_recommender import to_frame
    from benchmarks.registry import discover, get_system

    discover()
    split = make_testset(generate(SyntheticSpec(scale=0.0003, seed=1)), test_days=7, seed=42)
    train, test = to_frame(split.train), to_frame(split.test)
    outputs = []
    for step in (10**9, 37):
        cls = get_system("otto-covisit")
        system = cls(build_config(cls.Config, {"recommend_sessions": step}, owner="otto-covisit"),
                     RunContext(task_id="otto-recall20"))
        system.fit(train, test)
        outputs.append(system.recommend(test, 20))
    assert len(outputs[0]["session"]) > 37 * 3
    for name in ("session", "clicks", "carts", "orders"):
        np.testing.assert_array_equal(outputs[0][name], outputs[1][name])
