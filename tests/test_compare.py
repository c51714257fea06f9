"""Tests for `compare` and the leaderboards' uncertainty: runs of the mock task and systems,
p-values checked against scipy on the very vectors stored in the records."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from scipy import stats as scipy_stats

from benchmarks import cli, leaderboard, paths, records
from benchmarks.commands.compare import render_markdown
from benchmarks.comparison import run_compare as _run_compare
from benchmarks.errors import UserError
from benchmarks.runner import RunRequest, run
from benchmarks.stats import holm
from tests.conftest import squeeze


@pytest.fixture(scope="module")
def mock_results(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Smoke-profile records of the mock task: mock-majority and mock-noisy on seeds 0 and 1, mock-threshold on seed 0."""
    results = tmp_path_factory.mktemp("compare") / "results"
    for systems, seeds in ((["mock-majority", "mock-noisy"], [0, 1]), (["mock-threshold"], [0])):
        outcomes = run(RunRequest(task="mock-acc", systems=systems, seeds=seeds, profile="smoke",
                                  results_dir=results, progress=False, update_leaderboard=False))
        assert all(o.status == "ok" for o in outcomes), [o.error for o in outcomes]
    return results


def run_compare(*args, **kwargs) -> dict:
    """The JSON-able report, plus the report object under ``"_report"`` for render_markdown."""
    report = _run_compare(*args, **kwargs)
    return {**report.to_dict(), "_report": report}


def _vector(results: Path, system: str, seed: int) -> np.ndarray:
    (path,) = [p for p in (paths.record_dir(results, "mock-acc") / system).glob(f"*__seed{seed}.json")]
    return np.asarray(json.loads(path.read_text())["per_example"]["values"]["accuracy"])


@pytest.mark.integration
def test_clearly_different_systems_differ_significantly(mock_results: Path) -> None:
    report = run_compare(mock_results, "mock-acc", ["mock-threshold", "mock-majority@0"])
    (comparison,) = report["comparisons"]
    assert comparison["unit"] == "examples" and comparison["n"] == 100
    assert comparison["p_value"] < 0.01 and comparison["winner"] == "mock-threshold"
    a, b = _vector(mock_results, "mock-threshold", 0), _vector(mock_results, "mock-majority", 0)
    assert comparison["difference"] == pytest.approx(float(a.mean() - b.mean()))
    assert "mock-threshold beats mock-majority@0 by" in report["summary"][0]


def test_t_test_p_value_agrees_with_scipy_on_the_stored_vectors(mock_results: Path) -> None:
    a, b = _vector(mock_results, "mock-threshold", 0), _vector(mock_results, "mock-majority", 0)
    report = run_compare(mock_results, "mock-acc", ["mock-threshold", "mock-majority@0"], test="t")
    assert report["comparisons"][0]["p_value"] == pytest.approx(float(scipy_stats.ttest_rel(a, b).pvalue), rel=1e-8)
    # mock-noisy at two seeds vs mock-majority at two seeds: per-example values averaged over seeds.
    report = run_compare(mock_results, "mock-acc", ["mock-noisy", "mock-majority"], test="t")
    mean_a = (_vector(mock_results, "mock-noisy", 0) + _vector(mock_results, "mock-noisy", 1)) / 2
    mean_b = (_vector(mock_results, "mock-majority", 0) + _vector(mock_results, "mock-majority", 1)) / 2
    assert report["comparisons"][0]["p_value"] == pytest.approx(float(scipy_stats.ttest_rel(mean_a, mean_b).pvalue), rel=1e-8)


@pytest.mark.parametrize("system", ["mock-majority", "mock-noisy"])
def test_a_system_against_itself_with_another_seed_is_not_significant(mock_results: Path, system: str) -> None:
    report = run_compare(mock_results, "mock-acc", [f"{system}@0", f"{system}@1"])
    (comparison,) = report["comparisons"]
    assert comparison["unit"] == "examples"
    assert comparison["p_value"] > 0.05 and not comparison["significant"] and comparison["winner"] is None
    assert report["summary"][0].startswith("No significant difference")


def test_holm_across_several_systems_and_superscripts(mock_results: Path) -> None:
    report = run_compare(mock_results, "mock-acc", ["mock-threshold", "mock-majority", "mock-noisy"])
    raw = [c["p_value"] for c in report["comparisons"]]
    assert [c["p_holm"] for c in report["comparisons"]] == pytest.approx(holm(raw))
    assert len(report["comparisons"]) == 3
    text = render_markdown(report["_report"])
    rows = {line.split("|")[2].strip(): line for line in text.splitlines() if line.startswith("| ") and line[2] in "abc"}
    assert "ᵇ" in rows["mock-threshold"] and "ᵇ" in rows["mock-noisy"]  # both beat mock-majority (b)
    assert "ᵃ" not in rows["mock-majority"] and "ᶜ" not in rows["mock-majority"]
    for system in report["systems"]:
        low, high = system["ci95"]
        assert low <= system["mean"] <= high


def test_cli_json_and_markdown(mock_results: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["compare", "--task", "mock-acc", "mock-threshold", "mock-majority", "--results-dir", str(mock_results), "--json"]) == 0
    found = json.loads(capsys.readouterr().out)
    assert found["metric"] == "accuracy" and found["profile"] == "smoke" and found["comparisons"][0]["significant"]
    assert cli.main(["compare", "--task", "mock-acc", "mock-threshold", "mock-majority", "--results-dir", str(mock_results)]) == 0
    out = capsys.readouterr().out
    assert "beats mock-majority" in out and "95% CI" in out
    assert cli.main(["compare", "--task", "mock-acc", "mock-majorty", "mock-majority", "--results-dir", str(mock_results)]) == 2
    assert "mock-majorty" in capsys.readouterr().err


def _fake_record(task: str, system: str, seed: int, value: float, per_example: list[float] | None, ids: list[str] | None = None) -> dict:
    return {
        "schema_version": records.SCHEMA_VERSION, "task": task, "system": system, "seed": seed, "profile": "default",
        "status": "ok", "config": {},
        "metrics": {"accuracy": value}, "main_metric": "accuracy", "higher_is_better": True,
        "per_example": {"ids": ids, "values": {"accuracy": per_example} if per_example is not None else {}},
        "dataset": {"name": "fake", "fingerprint": "f" * 64}, "finished_at": f"2026-01-01T00:00:0{seed}",
    }


def _write(results: Path, record: dict) -> None:
    path = paths.record_dir(results, record["task"]) / record["system"] / f"r__seed{record['seed']}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record))


def test_seeds_are_the_unit_without_per_example_values(results_dir: Path) -> None:
    a_values, b_values = [0.71, 0.74, 0.70, 0.73], [0.69, 0.70, 0.68, 0.70]
    for seed, (a, b) in enumerate(zip(a_values, b_values, strict=True)):
        _write(results_dir, _fake_record("fake-task", "a", seed, a, None))
        _write(results_dir, _fake_record("fake-task", "b", seed, b, None))
    _write(results_dir, _fake_record("fake-task", "c", 0, 0.7, None))
    report = run_compare(results_dir, "fake-task", ["a", "b"], test="t")
    (comparison,) = report["comparisons"]
    assert comparison["unit"] == "seeds" and comparison["n"] == 4
    assert comparison["p_value"] == pytest.approx(float(scipy_stats.ttest_rel(a_values, b_values).pvalue), rel=1e-8)
    # One seed against four cannot be paired, and one value has no variance: no test, said so.
    report = run_compare(results_dir, "fake-task", ["a", "c"])
    assert report["comparisons"][0]["p_value"] is None or np.isnan(report["comparisons"][0]["p_value"])
    assert "no test possible" in report["summary"][0]


def test_a_seed_without_per_example_values_makes_seeds_the_unit(results_dir: Path) -> None:
    """One seed of ``a`` lacks per-example values: no (seeds, examples) matrix for ``a``, so the seeds are the unit."""
    a_values, b_values = [0.8, 0.82, 0.79], [0.7, 0.75, 0.71]
    for seed, (a, b) in enumerate(zip(a_values, b_values, strict=True)):
        _write(results_dir, _fake_record("fake-mixed", "a", seed, a, None if seed == 1 else [a, a], ids=["q1", "q2"]))
        _write(results_dir, _fake_record("fake-mixed", "b", seed, b, [b, b], ids=["q1", "q2"]))
    report = run_compare(results_dir, "fake-mixed", ["a", "b"], test="t")
    assert [system["unit"] for system in report["systems"]] == ["seeds", "examples"]
    (comparison,) = report["comparisons"]
    assert comparison["unit"] == "seeds" and comparison["n"] == 3
    assert comparison["p_value"] == pytest.approx(float(scipy_stats.ttest_rel(a_values, b_values).pvalue), rel=1e-8)


def test_different_example_ids_fall_back_to_seeds(results_dir: Path) -> None:
    for seed in range(3):
        _write(results_dir, _fake_record("fake-ids", "a", seed, 0.8 + seed / 100, [1.0, 0.6], ids=["q1", "q2"]))
        _write(results_dir, _fake_record("fake-ids", "b", seed, 0.5 + seed / 50, [0.5, 0.5], ids=["q3", "q4"]))
    (comparison,) = run_compare(results_dir, "fake-ids", ["a", "b"], test="t")["comparisons"]
    assert comparison["unit"] == "seeds" and "ids differ" in comparison["note"]


def test_leaderboard_rows_carry_ci_and_ties(mock_results: Path) -> None:
    tables = leaderboard.build_tables(records.load_records(mock_results), "mock-acc")
    (table,) = tables
    by_system = {row.system: row for row in table.rows}
    assert table.rows[0].verdict == "leader"
    assert by_system["mock-majority"].verdict == "worse" and by_system["mock-majority"].p_vs_leader < 0.01
    for row in table.rows:
        assert row.ci is not None and row.ci[0] <= row.mean <= row.ci[1] and row.unit == "examples"
    leaderboard.write(mock_results, ["mock-acc"])
    text = squeeze((mock_results / "mock-acc.md").read_text())
    assert "95% CI" in text and "| leader |" in text and "worse (p < 0.001)" in text
    caption = "mock-acc: each system's main metric (dot: mean over seeds) with its 95% confidence interval"
    assert f"![{caption}" in text and "](mock-acc.svg)" in text and f"*{caption}" in text  # the image, and its caption shown
    assert (mock_results / "mock-acc.svg").stat().st_size > 1000
    assert (mock_results / "mock-acc-cost.svg").stat().st_size > 1000


def test_leaderboard_survives_broken_and_partial_records(results_dir: Path) -> None:
    _write(results_dir, _fake_record("fake-broken", "good", 0, 0.9, [1.0, 0.8], ids=["x", "y"]))
    partial = _fake_record("fake-broken", "partial", 0, 0.5, None)
    partial["metrics"] = ["not", "a", "dict"]
    _write(results_dir, partial)
    odd = _fake_record("fake-broken", "odd", 0, 0.7, [0.7, None], ids=["x", "y"])
    odd["hardware"] = "a string"
    odd["timings"] = None
    _write(results_dir, odd)
    odd_values = _fake_record("fake-broken", "odd-values", 0, 0.6, None)
    odd_values["per_example"] = {"ids": "x", "values": ["not", "a", "dict"]}
    _write(results_dir, odd_values)
    nan_metric = _fake_record("fake-broken", "nan", 1, 0.0, None)
    nan_metric["metrics"] = {"accuracy": None}
    _write(results_dir, nan_metric)
    leaderboard.write(results_dir, ["fake-broken"])
    text = squeeze((results_dir / "fake-broken.md").read_text())
    assert "| 1 | good |" in text and "| 2 | odd |" in text and "| 3 | odd-values |" in text and "partial" not in text
    assert "| leader |" in text  # the malformed per-example values did not cost the table its CIs


def test_rows_left_from_an_earlier_default_config_say_how_they_differ(results_dir: Path) -> None:
    old = _fake_record("fake-config", "sys", 0, 0.5, None)
    old["config"] = {"epochs": 1, "dim": 64}
    new = _fake_record("fake-config", "sys", 0, 0.6, None)
    new["config"] = {"epochs": 3, "dim": 64}
    new["finished_at"] = "2026-02-01T00:00:00"
    _write(results_dir, old)
    path = paths.record_dir(results_dir, "fake-config") / "sys" / "r2__seed0.json"
    path.write_text(json.dumps(new))
    (table,) = leaderboard.build_tables(records.load_records(results_dir), "fake-config")
    assert [row.label for row in table.rows] == ["sys", "sys (earlier config: epochs=1)"]


def test_unknown_selection_is_a_clear_error(mock_results: Path) -> None:
    with pytest.raises(UserError, match="unknown system .*'mock-fault'; did you mean"):
        run_compare(mock_results, "mock-acc", ["mock-majority", "mock-fault"])
    with pytest.raises(UserError, match="at least two"):
        run_compare(mock_results, "mock-acc", ["mock-majority"])
    with pytest.raises(UserError, match="SYSTEM@SEED"):
        run_compare(mock_results, "mock-acc", ["mock-majority@x", "mock-majority@1"])


def test_char_lm_perplexity_is_tested_on_per_block_losses(results_dir: Path) -> None:
    """val_ppl = exp(mean loss) has no per-example values; the per-block val_loss (same direction) stands in."""
    rng = np.random.default_rng(0)
    blocks = [f"{i * 1000}-{(i + 1) * 1000}" for i in range(40)]
    losses = {"gpt": 1.5 + rng.normal(0, 0.05, 40), "bigram": 2.4 + rng.normal(0, 0.05, 40)}
    for system, block_losses in losses.items():
        for seed in (0, 1):
            values = (block_losses + seed * 0.01).tolist()
            record = _fake_record("fake-charlm", system, seed, 0.0, None)
            record.update(main_metric="val_ppl", higher_is_better=False,
                          metrics={"val_ppl": float(np.exp(np.mean(values))), "val_loss": float(np.mean(values)), "val_top1_acc": 0.5},
                          per_example={"ids": blocks, "values": {"val_loss": values, "val_top1_acc": [0.5] * 40}})
            _write(results_dir, record)
    report = run_compare(results_dir, "fake-charlm", ["gpt", "bigram"], test="t")
    assert report["tested_metric"] == "val_loss" and not report["higher_is_better"]
    (comparison,) = report["comparisons"]
    assert comparison["unit"] == "examples" and comparison["metric"] == "val_loss" and comparison["winner"] == "gpt"
    mean_gpt = losses["gpt"] + 0.005
    mean_bigram = losses["bigram"] + 0.005
    assert comparison["p_value"] == pytest.approx(float(scipy_stats.ttest_rel(mean_gpt, mean_bigram).pvalue), rel=1e-6)
    for system in report["systems"]:
        low, high = system["ci95"]
        assert low < system["mean"] < high and low > 1.0  # perplexity scale, via exp
    (table,) = leaderboard.build_tables(records.load_records(results_dir), "fake-charlm")
    assert [row.system for row in table.rows] == ["gpt", "bigram"] and table.tested_metric == "val_loss"
    assert table.rows[1].verdict == "worse" and table.rows[0].ci[0] > np.exp(1.4)


def test_times_measured_on_an_overloaded_machine_are_flagged(results_dir: Path) -> None:
    for system, load in (("calm", 0.5), ("busy", 6.5)):
        record = _fake_record("fake-load", system, 0, 0.8, None)
        record.update(hardware={"cores": 2}, timings={"fit_s": 3.0}, conditions={"load_start": [load, 1.0, 1.0],
                                                                                 "load_end": [0.4, 1.0, 1.0]})
        _write(results_dir, record)
    leaderboard.write(results_dir, ["fake-load"])
    rows = {line.split("|")[2].strip(): line for line in (results_dir / "fake-load.md").read_text().splitlines()
            if line.startswith("| ") and line[2].isdigit()}
    assert "3.00 ⚠" in rows["busy"] and "⚠" not in rows["calm"]
    assert "load average exceeded its cores" in (results_dir / "fake-load.md").read_text()
