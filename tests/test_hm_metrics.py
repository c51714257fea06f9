"""MAP@12 as the H&M competition: hand-computed values, the vectorised form, and the file scorer
against Ben Hamner's ``apk``/``mapk`` (Metrics, ml_metrics) transcribed here as the oracle, on the
files as given: repeats in truth and predictions, empty rows, missing customers."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from benchmarks.errors import DataError
from benchmarks.metrics.recommendation import ap_at_k_matrix, recall_at_k_matrix
from benchmarks.tasks.hm import HMMap12

REPO = Path(__file__).resolve().parent.parent


def kaggle_apk(actual: list, predicted: list, k: int = 12) -> float:
    """Ben Hamner's ``apk`` (benhamner/Metrics, Python/ml_metrics/average_precision.py), written out here:
    the first k predictions; a hit is a prediction in ``actual`` not seen at an earlier rank; the sum of
    precisions at hits is divided by min(len(actual), k), where a repeated actual item counts again."""
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


def kaggle_mapk(actual: list[list], predicted: list[list], k: int = 12) -> float:
    """Ben Hamner's ``mapk``: the mean of ``apk`` over the pairs."""
    return float(np.mean([kaggle_apk(a, p, k) for a, p in zip(actual, predicted)]))


def _ap(predicted: list[int], truth: list[list[int]] | list[int], k: int = 12) -> float:
    """AP@k of one customer (item codes) with :func:`ap_at_k_matrix`."""
    return float(ap_at_k_matrix(np.array([predicted]), np.array(truth), np.array([0, len(truth)]), k)[0])


def test_hand_computed_values():
    a, b, c, x = 0, 1, 2, 3
    # hits at ranks 1 and 3, two relevant: (1/1 + 2/3) / 2
    assert _ap([a, x, b], [a, b]) == pytest.approx((1 + 2 / 3) / 2, abs=1e-15)
    # 13 relevant items, all predicted: denominator is min(13, 12) = 12, so AP = 1
    assert _ap(list(range(12)), list(range(13))) == pytest.approx(1.0)
    # a hit at rank 13 does not count
    assert _ap([x] * 12 + [a], [a]) == 0.0
    # a repeated correct prediction earns nothing the second time
    assert _ap([a, a], [a, b]) == pytest.approx(0.5)
    assert recall_at_k_matrix(np.array([[a, a, b]]), np.array([a, c]), np.array([0, 2]), 12).tolist() == [0.5]
    # MAP@12 over two customers (the second predicted nothing); a customer without truth scores 0
    ap = ap_at_k_matrix(np.array([[a], [-1], [a]]), np.array([a, b]), np.array([0, 1, 2, 2]), 12)
    assert ap.tolist() == [1.0, 0.0, 0.0] and ap[:2].mean() == 0.5


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


@pytest.mark.integration  # the command line in a subprocess
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


def test_article_ids_are_compared_as_strings_as_kaggle_does(tmp_path: Path, capsys):
    """Kaggle's apk compares the ids as written: ``108775015`` is not ``0108775015``. The true article
    appears again, with its zero, at rank 8: 1/8 by the string rule; with --normalize-ids the first id
    is padded and hits at rank 1 (the later repeat earns nothing)."""
    predicted = ["108775015", *(f"09{i:08d}" for i in range(6)), "0108775015"]
    (tmp_path / "s.csv").write_text("customer_id,prediction\nc1," + " ".join(predicted) + "\n")
    (tmp_path / "t.csv").write_text("customer_id,prediction\nc1,0108775015\n")
    assert kaggle_apk(["0108775015"], predicted) == 0.125
    assert HMMap12().score(tmp_path / "s.csv", tmp_path / "t.csv").metrics["map@12"] == 0.125
    assert kaggle_apk(["0108775015"], [a.zfill(10) for a in predicted]) == 1.0
    normalized = HMMap12().score(tmp_path / "s.csv", tmp_path / "t.csv", normalize_ids=True)
    assert normalized.metrics["map@12"] == 1.0
    assert "padded 1 article ids of" in capsys.readouterr().err


@pytest.mark.integration
def test_score_normalize_ids_option_says_how_many_ids_it_changed(tmp_path: Path):
    (tmp_path / "s.csv").write_text("customer_id,prediction\nc1,108775015 8775044 0108775015\nc2,x12 42\n")
    (tmp_path / "t.csv").write_text("customer_id,prediction\nc1,108775015\nc2,0000000042\n")
    command = [sys.executable, "-m", "benchmarks", "score", "--task", "hm-map12", "--predictions", str(tmp_path / "s.csv"),
               "--truth", str(tmp_path / "t.csv"), "--json"]
    plain = subprocess.run(command, capture_output=True, text=True, cwd=REPO, check=True)
    assert json.loads(plain.stdout)["metrics"]["map@12"] == 0.5  # c1 hits at rank 1 as written; c2: "42" is not "0000000042"
    normalized = subprocess.run([*command, "--normalize-ids"], capture_output=True, text=True, cwd=REPO, check=True)
    assert json.loads(normalized.stdout)["metrics"]["map@12"] == 0.75  # c2: "0000000042" now at rank 2
    assert "padded 3 article ids of" in normalized.stderr and "and 1 of" in normalized.stderr
    refused = subprocess.run([*command[:5], "otto-recall20", *command[6:], "--normalize-ids"], capture_output=True, text=True,
                             cwd=REPO)
    assert refused.returncode != 0 and "--normalize-ids applies to hm-map12 only" in refused.stderr


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


def _awkward_case(tmp_path: Path, seed: int, plain: bool) -> tuple[Path, Path, dict, dict]:
    """Random files with repeats in truth and predictions, empty rows, missing and unknown customers, and
    article ids that lost their leading zero. ``plain=False`` also adds what only the slow reader takes:
    tabs and runs of spaces, quoted fields, CRLF line ends, blank lines, a byte-order mark."""
    rng = np.random.default_rng(seed)
    pool = [f"{rng.integers(108775000, 959461999):010d}" for _ in range(40)]
    customers = [f"{rng.integers(0, 2**63):016x}{rng.integers(0, 2**63):016x}" for _ in range(300)]
    truth = {c: rng.choice(pool, size=int(rng.integers(0, 16))).tolist() for c in customers[:200]}  # with repeats
    submission = {c: rng.choice(pool[:25], size=int(rng.integers(0, 20))).tolist() for c in customers[50:]}

    def write(path: Path, rows: dict) -> Path:
        lines = []
        for customer, items in rows.items():
            written = [a.lstrip("0") if rng.random() < 0.2 else a for a in items]  # lost leading zeros
            items[:] = written  # the oracle compares the ids as written, as Kaggle does
            if plain:
                lines.append(f"{customer},{' '.join(written)}")
            else:
                gaps = [rng.choice([" ", "  ", "\t"]) for _ in written]
                text = "".join(g + a for g, a in zip(gaps, written)) + rng.choice(["", " "])
                lines.append(f'{customer},"{text}"' if rng.random() < 0.3 else f" {customer} ,{text}")
                if rng.random() < 0.05:
                    lines.append("")
        end = "\n" if plain else "\r\n"
        path.write_text(("" if plain else "\ufeff") + "customer_id,prediction" + end + end.join(lines) + end, encoding="utf-8")
        return path

    return write(tmp_path / f"sub{seed}.csv", submission), write(tmp_path / f"truth{seed}.csv", truth), submission, truth


@pytest.mark.parametrize("plain", [True, False], ids=["plain", "awkward"])
@pytest.mark.parametrize("seed", range(4))
def test_score_is_benhamner_mapk_on_the_files_as_given(tmp_path: Path, seed: int, plain: bool):
    submission_path, truth_path, submission, truth = _awkward_case(tmp_path, seed, plain)
    scored = [c for c, items in truth.items() if items]  # the project's rule: empty truth rows are not scored
    actual = [truth[c] for c in scored]
    predicted = [submission.get(c, []) for c in scored]
    assert any(len(set(a)) < len(a) for a in actual) and any(len(set(p[:12])) < len(p[:12]) for p in predicted)
    evaluation = HMMap12().score(submission_path, truth_path)
    assert abs(evaluation.metrics["map@12"] - kaggle_mapk(actual, predicted)) < 1e-12
    for value, a, p in zip(evaluation.per_example["map@12"], actual, predicted):
        assert abs(value - kaggle_apk(a, p)) < 1e-12
    for value, a, p in zip(evaluation.per_example["recall@12"], actual, predicted):
        assert abs(value - len(set(a) & set(p[:12])) / len(set(a))) < 1e-12
    assert evaluation.example_ids == scored
    assert evaluation.metrics["customers_scored"] == len(scored)
    assert evaluation.metrics["customers_missing"] == sum(1 for c in scored if c not in submission)


def read_rows(path: Path) -> dict[str, list[str]]:
    """A minimal reader for the generated (plain) files, independent of the project's."""
    lines = path.read_text().splitlines()[1:]
    return {line.split(",")[0]: line.split(",")[1].split() for line in lines}


def test_repeated_truth_articles_count_as_in_the_reference(tmp_path: Path):
    """The issue's case, small: every third truth row repeats one article; score follows apk, not a set."""
    from perf.recsys_files import write_hm_files

    submission_path, truth_path = write_hm_files(tmp_path, seed=3, customers=3000, buyers=600, repeat_every=3)
    truth, submission = read_rows(truth_path), read_rows(submission_path)
    predicted = [submission.get(c, []) for c in truth]
    expected = kaggle_mapk(list(truth.values()), predicted)
    deduplicated = kaggle_mapk([list(dict.fromkeys(v)) for v in truth.values()], predicted)
    score = HMMap12().score(submission_path, truth_path).metrics["map@12"]
    assert abs(score - expected) < 1e-12 and abs(deduplicated - expected) > 1e-4


def test_fast_and_plain_readers_agree(tmp_path: Path):
    from benchmarks.data.hm import _plain_submission_frame, read_submission, read_submission_frame, submission_tokens

    for plain in (True, False):
        path, _, _, _ = _awkward_case(tmp_path, 11, plain)
        assert (_plain_submission_frame(path) is not None) == plain  # the fast path takes plain files only
        frame = read_submission_frame(path)
        rows = read_submission(path)
        assert frame["customer"].to_list() == list(rows)
        assert submission_tokens(frame).to_list() == list(rows.values())


def test_unicode_digits_are_not_padded(tmp_path: Path):
    """'²'.isdigit() is True in Python; only ASCII digits are article numbers to pad."""
    (tmp_path / "s.csv").write_text("customer_id,prediction\nc1,²\n", encoding="utf-8")
    (tmp_path / "t.csv").write_text("customer_id,prediction\nc1,² 0000000002\n", encoding="utf-8")
    evaluation = HMMap12().score(tmp_path / "s.csv", tmp_path / "t.csv")
    assert evaluation.metrics["map@12"] == 0.5


def test_hash_collisions_fall_back_to_exact_ids(tmp_path: Path, monkeypatch):
    """Repeated customers and the join are found through 64-bit hashes; with every hash equal (as if all
    collided) the exact checks must give the same score and still find a real repeat."""
    import polars as pl

    submission_path, truth_path, _, _ = _awkward_case(tmp_path, 3, plain=True)
    expected = HMMap12().score(submission_path, truth_path)
    monkeypatch.setattr(pl.Series, "hash", lambda self, *a, **k: pl.Series(self.name, [0] * len(self), dtype=pl.UInt64))
    monkeypatch.setattr(pl.Expr, "hash", lambda self, *a, **k: pl.lit(0, dtype=pl.UInt64))
    collided = HMMap12().score(submission_path, truth_path)
    assert collided.metrics == expected.metrics and collided.per_example == expected.per_example
    repeated = tmp_path / "repeated.csv"
    repeated.write_text("customer_id,prediction\nc1,a\nc2,b\nc1,c\n")
    with pytest.raises(DataError, match="listed twice"):
        HMMap12().score(repeated, truth_path)
