"""MAP@12 as the H&M competition: hand-computed values, the vectorised form, and the file scorer
against an independent plain implementation of Kaggle's ``apk`` (ml_metrics)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from benchmarks.errors import DataError
from benchmarks.metrics.recommendation import (
    ap_at_k_matrix,
    average_precision_at_k,
    catalogue_coverage,
    mean_average_precision_at_k,
    recall_at_k,
    recall_at_k_matrix,
)
from benchmarks.tasks.hm import HMMap12

REPO = Path(__file__).resolve().parent.parent


def kaggle_apk(actual: list, predicted: list, k: int = 12) -> float:
    """Ben Hamner's ml_metrics ``apk``, as the competition's evaluation uses it (written out here)."""
    if len(predicted) > k:
        predicted = predicted[:k]
    score = 0.0
    num_hits = 0.0
    for i, p in enumerate(predicted):
        if p in actual and p not in predicted[:i]:
            num_hits += 1.0
            score += num_hits / (i + 1.0)
    if not actual:
        return 0.0
    return score / min(len(actual), k)


def test_hand_computed_values():
    # hits at ranks 1 and 3, two relevant: (1/1 + 2/3) / 2
    assert average_precision_at_k(["a", "x", "b"], ["a", "b"]) == pytest.approx((1 + 2 / 3) / 2, abs=1e-15)
    # 13 relevant items, all predicted: denominator is min(13, 12) = 12, so AP = 1
    assert average_precision_at_k(list(range(12)), list(range(13))) == pytest.approx(1.0)
    # a hit at rank 13 does not count
    assert average_precision_at_k(["x"] * 12 + ["a"], ["a"]) == 0.0
    # a repeated correct prediction earns nothing the second time
    assert average_precision_at_k(["a", "a"], ["a", "b"]) == pytest.approx(0.5)
    assert recall_at_k(["a", "a", "b"], ["a", "c"]) == 0.5
    assert mean_average_precision_at_k({"u": ["a"]}, {"u": ["a"], "v": ["b"], "w": []}) == 0.5
    assert catalogue_coverage([["a", "b"], ["a"]], 4) == 0.5


def test_vectorised_ap_and_recall_match_the_plain_definition():
    rng = np.random.default_rng(0)
    n, n_items = 400, 30
    predicted = rng.integers(-1, n_items, size=(n, 12))  # duplicates and -1 padding included
    truths = [rng.choice(n_items, size=rng.integers(1, 16), replace=False) for _ in range(n)]
    items = np.concatenate(truths)
    offsets = np.r_[0, np.cumsum([len(t) for t in truths])]
    fast = ap_at_k_matrix(predicted, items, offsets, 12)
    recall = recall_at_k_matrix(predicted, items, offsets, 12)
    for i in range(n):
        ranked = [p for p in predicted[i].tolist()]
        ranked = [p if p >= 0 else f"pad{j}" for j, p in enumerate(ranked)]
        assert fast[i] == pytest.approx(kaggle_apk(truths[i].tolist(), ranked), abs=1e-12)
        assert recall[i] == pytest.approx(len(set(truths[i].tolist()) & set(ranked)) / len(truths[i]), abs=1e-12)


def _random_files(tmp_path: Path, seed: int) -> tuple[Path, Path, dict, dict]:
    rng = np.random.default_rng(seed)
    articles = [f"{rng.integers(108775000, 959461999):010d}" for _ in range(60)]
    customers = [f"{rng.integers(0, 2**63):064x}" for _ in range(300)]
    truth = {}
    for c in customers[:200]:
        size = int(rng.integers(0, 15))  # some customers bought nothing: not scored
        truth[c] = list(dict.fromkeys(rng.choice(articles, size=size).tolist()))
    submission = {}
    for c in customers[50:300]:  # customers[:50] are missing (score 0); [200:] are unknown (ignored)
        size = int(rng.integers(0, 20))  # empty rows and more than 12 items
        submission[c] = rng.choice(articles[:25], size=size).tolist()  # with duplicates
    truth_path, submission_path = tmp_path / f"truth{seed}.csv", tmp_path / f"sub{seed}.csv"
    truth_path.write_text("customer_id,prediction\n" + "".join(f"{c},{' '.join(v)}\n" for c, v in truth.items()))
    submission_path.write_text("customer_id,prediction\n" + "".join(f"{c},{' '.join(v)}\n" for c, v in submission.items()))
    return submission_path, truth_path, submission, truth


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_file_scorer_matches_independent_apk(tmp_path: Path, seed: int):
    submission_path, truth_path, submission, truth = _random_files(tmp_path, seed)
    scored = [c for c, items in truth.items() if items]
    expected = float(np.mean([kaggle_apk(truth[c], submission.get(c, [])) for c in scored]))
    evaluation = HMMap12().score(submission_path, truth_path)
    assert abs(evaluation.metrics["map@12"] - expected) < 1e-12
    assert evaluation.metrics["customers_scored"] == len(scored)
    assert evaluation.metrics["customers_missing"] == sum(1 for c in scored if c not in submission)
    assert evaluation.example_ids == scored


def test_score_command_prints_json(tmp_path: Path):
    submission_path, truth_path, submission, truth = _random_files(tmp_path, 7)
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks", "score", "--task", "hm-map12", "--predictions", str(submission_path),
         "--truth", str(truth_path), "--json"], capture_output=True, text=True, cwd=REPO, check=True,
    )
    printed = json.loads(result.stdout)
    scored = [c for c, items in truth.items() if items]
    expected = float(np.mean([kaggle_apk(truth[c], submission.get(c, [])) for c in scored]))
    assert printed["task"] == "hm-map12" and printed["main_metric"] == "map@12"
    assert abs(printed["metrics"]["map@12"] - expected) < 1e-12


def test_lost_leading_zero_is_repaired_in_submissions(tmp_path: Path):
    (tmp_path / "s.csv").write_text("customer_id,prediction\nc1,108775015 0108775051\n")
    (tmp_path / "t.csv").write_text("customer_id,prediction\nc1,0108775015\n")
    assert HMMap12().score(tmp_path / "s.csv", tmp_path / "t.csv").metrics["map@12"] == 1.0


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("customer,prediction\nc1,a\n", 1, "header"),
        ("customer_id,prediction\nc1,a\nc1,b\n", 3, "listed twice"),
        ("customer_id,prediction\nc1,a,b\n", 2, "2 fields"),
    ],
)
def test_bad_submission_files_name_the_line(tmp_path: Path, text: str, line: int, words: str):
    bad = tmp_path / "bad.csv"
    bad.write_text(text)
    (tmp_path / "t.csv").write_text("customer_id,prediction\nc1,a\n")
    with pytest.raises(DataError) as error:
        HMMap12().score(bad, tmp_path / "t.csv")
    assert error.value.line == line and words in str(error.value) and "bad.csv" in str(error.value)
