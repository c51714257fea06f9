"""The synthetic twins against the full datasets' published figures (FULL-STATS.md), the figures'
definitions on hand-made data, and the ranking of system families that the twins must reproduce."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from benchmarks.data import hm_synthetic, otto_synthetic
from benchmarks.data.full_stats import HM_FIGURES, OTTO_FIGURES, TOLERANCE, failing, hm_figures, otto_figures, rows

ROOT = Path(__file__).resolve().parent.parent


def hm_twin_figures(scale: float, seed: int = 0) -> dict[str, float]:
    articles, customers, tx = hm_synthetic.generate_compact(scale, seed)
    groups = np.unique(articles["product_group_name"].to_numpy(), return_inverse=True)[1]
    return hm_figures(tx["day"], tx["customer"], tx["article"], tx["price"], tx["sales_channel_id"], groups,
                      len(customers), len(articles))


def describe(table) -> str:
    return "; ".join(f"{row.figure.key} {row.measured:.4g} vs {row.figure.published:.4g} ({row.relative_difference:+.0%})"
                     for row in table)


def test_otto_twin_is_within_tolerance_of_every_gated_figure():
    table = rows(OTTO_FIGURES, otto_figures(otto_synthetic.generate(otto_synthetic.SyntheticSpec(scale=0.01))))
    assert {row.figure.key for row in table} == {figure.key for figure in OTTO_FIGURES}  # every figure was measured
    assert not failing(table), describe(failing(table))


def test_hm_twin_is_within_tolerance_of_every_gated_figure():
    table = rows(HM_FIGURES, hm_twin_figures(0.01))
    assert {row.figure.key for row in table} == {figure.key for figure in HM_FIGURES}
    assert not failing(table), describe(failing(table))


def test_twins_are_a_pure_function_of_scale_and_seed():
    spec = otto_synthetic.SyntheticSpec(scale=0.001, seed=3)
    one, two = otto_synthetic.generate(spec), otto_synthetic.generate(spec)
    chunks = list(otto_synthetic.iter_chunks(spec))
    for name in ("session", "aid", "ts", "type"):
        np.testing.assert_array_equal(one[name], two[name])
        np.testing.assert_array_equal(one[name], np.concatenate([chunk[name] for chunk in chunks]))
    other = otto_synthetic.generate(otto_synthetic.SyntheticSpec(scale=0.001, seed=4))
    assert len(other["aid"]) != len(one["aid"]) or not np.array_equal(other["aid"], one["aid"])
    assert hm_twin_figures(0.002, seed=3) == hm_twin_figures(0.002, seed=3)
    assert hm_twin_figures(0.002, seed=3) != hm_twin_figures(0.002, seed=4)


def test_a_gated_figure_outside_the_tolerance_is_reported():
    measured = {figure.key: figure.published for figure in OTTO_FIGURES}
    measured["orders_share"] *= 1 - TOLERANCE - 0.01
    measured["sessions"] = 1.0  # a count: shown, never gated
    assert [row.figure.key for row in failing(rows(OTTO_FIGURES, measured))] == ["orders_share"]


def test_otto_figures_of_hand_made_sessions():
    """The docstring's example, plus a week later a test session of three events that the protocol cuts."""
    day = 86400
    t0 = otto_synthetic.START_TS
    sessions = [  # (session, aid, ts, type)
        (0, 1, t0, 0), (0, 2, t0 + 10, 0), (0, 1, t0 + 20, 0),  # clicks a, b, a: a revisit
        (1, 3, t0 + 30, 0), (1, 3, t0 + 40, 1),  # a click and a cart of the same item: no revisit
        (2, 1, t0 + 9 * day, 0), (2, 3, t0 + 9 * day + 5, 2), (2, 2, t0 + 9 * day + 9, 0),
    ]
    events = {name: np.array(column, dtype=dtype) for name, column, dtype in
              zip(("session", "aid", "ts", "type"), zip(*sessions, strict=True), (np.int32, np.int32, np.int32, np.int8),
                  strict=True)}
    figures = otto_figures(events, test_days=7, split_seed=42)
    assert figures["events_per_session"] == pytest.approx(8 / 3)
    assert figures["sessions_revisiting"] == pytest.approx(1 / 3)
    assert figures["distinct_items_per_session"] == pytest.approx((2 + 1 + 3) / 3)
    assert figures["sessions_with_carts"] == pytest.approx(1 / 3) and figures["sessions_with_orders"] == pytest.approx(1 / 3)
    assert figures["sessions_clicks_only"] == pytest.approx(1 / 3)
    assert (figures["clicks_share"], figures["carts_share"], figures["orders_share"]) == pytest.approx((6 / 8, 1 / 8, 1 / 8))
    assert figures["top1pct_items_share"] == pytest.approx(3 / 8)  # one item of three: the most frequent (aid 1 or 3)
    assert figures["period_days"] == pytest.approx((9 * day + 9) / day)
    # session 2 starts after max(ts) − 7 days: the test set; random.Random(42).randint(1, 2) cuts it
    import random

    cut = random.Random(42).randint(1, 2)
    assert figures["test_train_sessions"] == pytest.approx(1 / 3)
    assert figures["test_events_per_session"] == cut
    assert figures["test_orders_share"] == pytest.approx(0.0 if cut == 1 else 1 / 2)
    assert figures["test_train_items"] == pytest.approx(cut / 3)


def test_hm_figures_of_hand_made_transactions():
    """The docstring's example: customers 0, 0, 1 buy articles 5, 6, 5; three customers are listed."""
    figures = hm_figures(day=np.array([0, 0, 3]), customer=np.array([0, 0, 1]), article=np.array([5, 6, 5]),
                         price=np.array([0.01, 0.02, 0.03]), channel=np.array([2, 2, 1]),
                         article_group=np.array([0, 0, 0, 0, 0, 1, 2]), listed_customers=3, listed_articles=7)
    assert figures["never_bought_share"] == pytest.approx(1 / 3)
    assert figures["buyers_exactly_one"] == 0.5 and figures["buyers_more_than_one"] == 0.5
    assert figures["buyers_fewer_than_3"] == 1.0 and figures["transactions_per_buyer"] == 1.5
    assert figures["days"] == 2 and figures["channels"] == 2
    assert figures["articles_bought_share"] == pytest.approx(2 / 7)
    assert figures["top3_groups_share"] == 1.0
    assert figures["density"] == pytest.approx(3 / 21)  # transactions / (customers × articles), as FULL-STATS.md


@pytest.mark.integration  # the command line in a subprocess
def test_data_stats_command_prints_the_table_as_json():
    result = subprocess.run([sys.executable, "-m", "benchmarks", "data-stats", "--task", "hm-map12", "--set", "scale=0.002",
                             "--json"], capture_output=True, text=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
                            check=True)
    found = json.loads(result.stdout)
    assert found["data"] == hm_synthetic.SyntheticSpec(0.002).name
    by_key = {row["key"]: row for row in found["figures"]}
    assert by_key.keys() == {figure.key for figure in HM_FIGURES}
    assert by_key["transactions_per_buyer"]["gated"] and not by_key["transactions"]["gated"]
    assert by_key["transactions"]["measured"] == hm_synthetic.SyntheticSpec(0.002).n_transactions


def run_cli(*args: str, results: Path) -> str:
    command = [sys.executable, "-m", "benchmarks", *args, "--results-dir", str(results)]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MLSD_CACHE_DIR": str(results / "cache")}
    return subprocess.run(command, capture_output=True, text=True, cwd=ROOT, env=env, check=True).stdout


def verdicts(task: str, systems: list[str], results: Path) -> tuple[dict[str, float], dict[frozenset[str], dict]]:
    found = json.loads(run_cli("compare", "--task", task, *systems, "--json", "--profile", "smoke", results=results))
    means = {row["label"]: row["mean"] for row in found["systems"]}
    return means, {frozenset((c["a"], c["b"])): c for c in found["comparisons"]}


def beats(pairs: dict[frozenset[str], dict], winner: str, loser: str) -> bool:
    comparison = pairs[frozenset((winner, loser))]
    return comparison["winner"] == winner and comparison["p_holm"] < 0.05


@pytest.mark.slow
def test_otto_twin_ranks_the_families_as_the_competition_did(tmp_path):
    """Kaggle / otto-de: co-visitation (+ a ranker) far ahead of SASRec, session history ahead of popularity."""
    systems = ["otto-covisit-ranker", "otto-covisit", "otto-sasrec", "otto-session-history", "otto-popular"]
    run_cli("run", "--task", "otto-recall20", "--profile", "smoke", "--seed", "0", "--seed", "1", "--seed", "2", "--quiet",
            *[part for system in systems for part in ("--system", system)], results=tmp_path)
    means, pairs = verdicts("otto-recall20", systems, tmp_path)
    assert beats(pairs, "otto-covisit", "otto-sasrec"), pairs[frozenset(("otto-covisit", "otto-sasrec"))]
    assert beats(pairs, "otto-session-history", "otto-popular")
    ranker_vs_covisit = pairs[frozenset(("otto-covisit-ranker", "otto-covisit"))]
    assert not (ranker_vs_covisit["winner"] == "otto-covisit" and ranker_vs_covisit["p_holm"] < 0.05), ranker_vs_covisit
    assert means["otto-covisit-ranker"] > means["otto-sasrec"]


@pytest.mark.slow
def test_hm_twin_ranks_the_families_as_the_competition_did(tmp_path):
    """Kaggle H&M: a LightGBM ranker first; on the smoke data its lead over each baseline is significant."""
    systems = ["hm-lgbm-ranker", "hm-repurchase", "hm-time-decay-popular", "hm-popular"]
    run_cli("run", "--task", "hm-map12", "--profile", "smoke", "--seed", "0", "--seed", "1", "--seed", "2", "--quiet",
            "--set", "source=synthetic", *[part for system in systems for part in ("--system", system)], results=tmp_path)
    means, pairs = verdicts("hm-map12", systems, tmp_path)
    for other in systems[1:]:
        assert beats(pairs, "hm-lgbm-ranker", other), pairs[frozenset(("hm-lgbm-ranker", other))]
    # the smoke week has too few buyers for these gaps to be significant; their order still holds
    assert means["hm-repurchase"] > means["hm-popular"] and means["hm-time-decay-popular"] > means["hm-popular"]
