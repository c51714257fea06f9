"""OTTO's weighted Recall@20: hand-computed values, an independent implementation of otto-de's
``evaluate.py`` formula as oracle, and the ``score`` command on Kaggle-format files."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from benchmarks.data.otto_labels import read_labels
from benchmarks.data.otto_submission import read_submission
from benchmarks.errors import DataError
from benchmarks.metrics.session_recall import SessionLabels, otto_recall, session_hits
from benchmarks.tasks.otto import OttoRecall20

REPO = Path(__file__).resolve().parent.parent


def reference_scores(labels: dict, predictions: dict, k: int = 20) -> dict:
    """otto-de src/evaluate.py's get_scores, re-written plainly from the published formula:
    hits = |set(pred[:k]) ∩ truth|, denominators Σ min(k, |truth|), missing sessions score 0."""
    numerators = {"clicks": 0.0, "carts": 0.0, "orders": 0.0}
    denominators = {"clicks": 0, "carts": 0, "orders": 0}
    for session, truth in labels.items():
        predicted = predictions.get(session, {})
        if truth["clicks"]:  # evaluate.py's `if labels['clicks']`: a click on aid 0 is skipped
            denominators["clicks"] += 1
            numerators["clicks"] += float(truth["clicks"] in predicted.get("clicks", [])[:k])
        for kind in ("carts", "orders"):
            if truth[kind]:
                denominators[kind] += min(k, len(truth[kind]))
                numerators[kind] += len(set(predicted.get(kind, [])[:k]).intersection(truth[kind]))
    recalls = {kind: numerators[kind] / denominators[kind] for kind in numerators}
    recalls["total"] = 0.10 * recalls["clicks"] + 0.30 * recalls["carts"] + 0.60 * recalls["orders"]
    return recalls


def random_case(seed: int) -> tuple[dict, dict]:
    rng = random.Random(seed)
    labels, predictions = {}, {}
    for session in range(300):
        labels[session] = {
            "clicks": rng.choice([None, rng.randrange(60)]),
            "carts": set(rng.sample(range(60), rng.choice([0, 0, 1, 3, 25]))),  # 25 > 20: min(20, |truth|)
            "orders": set(rng.sample(range(60), rng.choice([0, 1, 2, 30]))),
        }
        if not any([labels[session]["clicks"] is not None, labels[session]["carts"], labels[session]["orders"]]):
            labels[session]["clicks"] = rng.randrange(60)
        if rng.random() < 0.1:
            continue  # a missing session
        row = {}
        for kind in ("clicks", "carts", "orders"):
            if rng.random() < 0.1:
                continue  # a missing type
            length = rng.choice([0, 5, 20, 35])  # more than 20 predictions: only the first 20 count
            row[kind] = [rng.randrange(60) for _ in range(length)]  # duplicates are likely
        predictions[session] = row
    return labels, predictions


def to_session_labels(labels: dict) -> dict[int, SessionLabels]:
    return {s: SessionLabels(t["clicks"], frozenset(t["carts"]), frozenset(t["orders"])) for s, t in labels.items()}


def test_hand_computed_example():
    labels = {
        1: SessionLabels(clicks=3, carts=frozenset({4, 5}), orders=frozenset({5})),
        2: SessionLabels(clicks=8, orders=frozenset({6, 7})),
    }
    predictions = {1: {"clicks": [9, 3], "carts": [4, 4, 9], "orders": [1]}, 2: {"clicks": [1], "orders": [7, 6]}}
    metrics = otto_recall(labels, predictions).metrics
    # clicks 1/2; carts 1/2; orders (0 + 2) / (1 + 2)
    assert metrics["recall@20_clicks"] == pytest.approx(0.5)
    assert metrics["recall@20_carts"] == pytest.approx(0.5)
    assert metrics["recall@20_orders"] == pytest.approx(2 / 3)
    assert metrics["recall@20_weighted"] == pytest.approx(0.1 * 0.5 + 0.3 * 0.5 + 0.6 * 2 / 3)


def test_cut_to_twenty_before_duplicates_are_removed():
    truth = set(range(100, 121))  # 21 true aids
    predicted = [100] * 5 + list(range(101, 130))
    # the first 20 slots hold 100 (five times) and 101..115: 16 distinct hits, not 20
    assert session_hits(truth, predicted, k=20) == 16
    result = otto_recall({1: SessionLabels(None, frozenset(truth), frozenset())}, {1: {"carts": predicted}})
    assert result.metrics["recall@20_carts"] == pytest.approx(16 / 20)


@pytest.mark.parametrize("seed", range(5))
def test_matches_the_published_formula_on_random_submissions(seed):
    labels, predictions = random_case(seed)
    expected = reference_scores(labels, predictions)
    metrics = otto_recall(to_session_labels(labels), predictions).metrics
    for kind in ("clicks", "carts", "orders"):
        assert abs(metrics[f"recall@20_{kind}"] - expected[kind]) < 1e-12
    assert abs(metrics["recall@20_weighted"] - expected["total"]) < 1e-12


def test_per_session_contributions_average_to_the_metrics():
    labels, predictions = random_case(7)
    result = otto_recall(to_session_labels(labels), predictions)
    for name, values in result.per_session().items():
        assert np.mean(values) == pytest.approx(result.metrics[name], abs=1e-12)


def write_files(tmp_path: Path, labels: dict, predictions: dict) -> tuple[Path, Path]:
    truth = tmp_path / "test_labels.jsonl"
    with open(truth, "w") as handle:
        for session, t in labels.items():
            raw = {}
            if t["clicks"] is not None:
                raw["clicks"] = t["clicks"]
            if t["carts"]:
                raw["carts"] = sorted(t["carts"])
            if t["orders"]:
                raw["orders"] = sorted(t["orders"])
            handle.write(json.dumps({"session": session, "labels": raw}) + "\n")
    submission = tmp_path / "submission.csv"
    with open(submission, "w") as handle:
        handle.write("session_type,labels\n")
        for session, row in predictions.items():
            for kind, aids in row.items():
                handle.write(f"{session}_{kind}," + " ".join(map(str, aids)) + "\n")
    return submission, truth


def test_task_score_reads_kaggle_and_otto_de_formats(tmp_path):
    labels, predictions = random_case(11)
    submission, truth = write_files(tmp_path, labels, predictions)
    metrics = OttoRecall20().score(submission, truth).metrics
    expected = reference_scores(labels, predictions)
    assert abs(metrics["recall@20_weighted"] - expected["total"]) < 1e-12
    assert abs(metrics["recall@20_carts"] - expected["carts"]) < 1e-12


@pytest.mark.integration  # the command line in a subprocess
def test_score_command_prints_json(tmp_path):
    submission, truth = tmp_path / "s.csv", tmp_path / "l.jsonl"
    submission.write_text("session_type,labels\n12899779_clicks,59625 1253524\n12899779_orders,7\n")
    truth.write_text('{"session": 12899779, "labels": {"clicks": 1253524, "carts": [7, 8], "orders": [7]}}\n')
    output = subprocess.run(
        [sys.executable, "-m", "benchmarks", "score", "--task", "otto-recall20", "--predictions", str(submission),
         "--truth", str(truth), "--json"], capture_output=True, text=True, cwd=REPO, check=True,
    ).stdout
    payload = json.loads(output.strip().splitlines()[-1])
    assert payload["task"] == "otto-recall20" and payload["main_metric"] == "recall@20_weighted"
    # clicks 1/1, carts 0/2 (no carts row), orders 1/1
    assert payload["metrics"]["recall@20_weighted"] == pytest.approx(0.1 + 0.6)


@pytest.mark.parametrize("text, problem", [
    ("session_type,labels\n12_clicks,1 x\n", "space-separated integer aids"),
    ("session_type,labels\n12_views,1\n", "expected '<session>_<clicks|carts|orders>,'"),
    ("session,labels\n", "expected 'session_type,labels'"),
])
def test_bad_submission_rows_name_the_line(tmp_path, text, problem):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(DataError) as error:
        read_submission(path)
    assert problem in str(error.value) and "bad.csv" in str(error.value)


def test_bad_labels_name_the_line(tmp_path):
    path = tmp_path / "labels.jsonl"
    path.write_text('{"session": 1, "labels": {"clicks": 2}}\n{"session": 2, "labels": {"carts": "7"}}\n')
    with pytest.raises(DataError, match="line 2"):
        read_labels(path)


def write_awkward_files(tmp_path: Path, labels: dict, predictions: dict, seed: int) -> tuple[Path, Path]:
    """The same content as :func:`write_files`, written the way only the plain readers take it on some lines:
    CRLF line ends, blank lines, runs of spaces and tabs, null types and extra fields in the labels, and
    submission rows for sessions without labels."""
    rng = random.Random(seed)
    truth = tmp_path / "awkward_labels.jsonl"
    with open(truth, "w", newline="") as handle:
        for session, t in labels.items():
            raw = {"carts": None} if rng.random() < 0.1 else {}
            if t["clicks"] is not None:
                raw["clicks"] = t["clicks"]
            if t["carts"]:
                raw["carts"] = sorted(t["carts"]) + sorted(t["carts"])[:1]  # a repeated aid counts once
            if t["orders"]:
                raw["orders"] = sorted(t["orders"])
            if rng.random() < 0.1:
                raw["views"] = [1, 2]
            handle.write(json.dumps({"session": session, "labels": raw}) + rng.choice(["\n", "\r\n", "\n\n"]))
    submission = tmp_path / "awkward_submission.csv"
    with open(submission, "w", newline="") as handle:
        handle.write("session_type,labels\r\n")
        for session, row in predictions.items():
            for kind, aids in row.items():
                gaps = [rng.choice([" ", " ", "  ", "\t"]) for _ in aids]
                text = "".join(g + str(a) for g, a in zip(gaps, aids)).lstrip(" \t") if rng.random() < 0.8 else \
                    " ".join(map(str, aids))
                handle.write(f"{session}_{kind},{text}" + rng.choice(["\n", "\r\n", " \n"]))
        handle.write("999999_clicks,1 2 3\n")  # a session without labels: ignored
    return submission, truth


@pytest.mark.parametrize("files", ["plain", "awkward", "scoring"])
@pytest.mark.parametrize("seed", range(4))
def test_vectorised_score_equals_the_published_formula(tmp_path, seed, files, monkeypatch):
    """plain: one row is longer than 20 (the general fast reader); awkward: the plain reader; scoring: rows of
    at most 20 aids, read by the scoring reader (only the rows with labels of their type are parsed)."""
    from benchmarks.data import otto_submission

    labels, predictions = random_case(100 + seed)
    if files == "scoring":
        predictions = {session: {kind: aids[:20] for kind, aids in row.items()} for session, row in predictions.items()}
    repeats = [labels[0]["clicks"] or 0] * 3
    predictions[0] = {"clicks": repeats + list(range(40 if files != "scoring" else 17))}  # repeats, then more
    labels[1]["clicks"] = 0  # a next click on aid 0 counts (the module docstring's one difference)
    writer = write_awkward_files if files == "awkward" else lambda p, lab, pred, s: write_files(p, lab, pred)
    submission, truth = writer(tmp_path, labels, predictions, seed)
    selective = otto_submission._selective_submission_block
    taken = []
    monkeypatch.setattr(otto_submission, "_selective_submission_block", lambda *a: taken.append(selective(*a)) or taken[-1])
    evaluation = OttoRecall20().score(submission, truth)
    assert any(block is not None for block in taken) == (files == "scoring")
    expected = reference_scores(labels, predictions)
    for kind in ("clicks", "carts", "orders"):
        assert abs(evaluation.metrics[f"recall@20_{kind}"] - expected[kind]) < 1e-12
    assert abs(evaluation.metrics["recall@20_weighted"] - expected["total"]) < 1e-12
    plain = otto_recall(to_session_labels(labels), predictions).per_session()
    for name, values in evaluation.per_example.items():
        np.testing.assert_allclose(values, plain[name], rtol=0, atol=1e-12)
    assert [str(s) for s in evaluation.example_ids] == [str(s) for s in labels]


@pytest.mark.parametrize("awkward", [False, True], ids=["plain", "awkward"])
def test_block_reader_equals_the_plain_reader(tmp_path, awkward):
    """Tiny blocks: many block boundaries, plain and awkward blocks mixed; the rows are those of read_submission."""
    from benchmarks.data.otto_submission import EVENT_TYPES, _fast_submission_block, iter_submission

    labels, predictions = random_case(21)
    submission, truth = (write_awkward_files(tmp_path, labels, predictions, 21) if awkward
                         else write_files(tmp_path, labels, predictions))
    rebuilt: dict = {}
    for block in iter_submission(submission, keep=None, block_bytes=700):
        at = 0
        for session, code, length in zip(block.sessions.tolist(), block.types.tolist(), block.lengths.tolist()):
            rebuilt.setdefault(session, {})[EVENT_TYPES[code]] = block.aids[at:at + length].tolist()
            at += length
    assert rebuilt == read_submission(submission)
    body = submission.read_bytes().split(b"\n", 1)[1]
    assert (_fast_submission_block(body, None) is None) == awkward  # the fast path takes the plain file


def test_label_arrays_fast_and_plain_agree(tmp_path):
    from benchmarks.data.otto_labels import _fast_labels, label_arrays, read_label_arrays

    labels, predictions = random_case(5)
    for awkward in (False, True):
        _, truth = (write_awkward_files(tmp_path, labels, predictions, 5) if awkward else write_files(tmp_path, labels, predictions))
        assert (_fast_labels(truth.read_bytes()) is None) == awkward
        fast, plain = read_label_arrays(truth), label_arrays(read_labels(truth))
        np.testing.assert_array_equal(fast.sessions, plain.sessions)
        for kind in ("clicks", "carts", "orders"):
            np.testing.assert_array_equal(fast.truth[kind], plain.truth[kind])


def test_unicode_digits_are_not_session_ids(tmp_path):
    """'²'.isdigit() is True, and int('²') used to crash the reader."""
    path = tmp_path / "s.csv"
    path.write_text("session_type,labels\n²_clicks,1\n", encoding="utf-8")
    with pytest.raises(DataError, match="line 2"):
        read_submission(path)


def test_an_error_after_blank_lines_and_many_blocks_names_its_line(tmp_path):
    from benchmarks.data.otto_submission import iter_submission

    rows = [f"{s}_clicks,{s} {s + 1}" for s in range(200)]
    rows[30:30] = ["", "   ", ""]  # blank lines in an early block
    rows.append("7_carts,1 x")  # line 1 (header) + 203 rows + this one
    path = tmp_path / "submission.csv"
    path.write_text("session_type,labels\n" + "\r\n".join(rows) + "\n")
    with pytest.raises(DataError) as error:
        for _ in iter_submission(path, keep=20, block_bytes=300):
            pass
    assert error.value.line == 205
