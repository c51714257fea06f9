"""Task ``shakespeare-char-speedrun``: time to target read off the curve, its ranking rule (a run that
misses ranks below every run that reached the target) and its record rule (one-sided t-test)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from benchmarks.metrics.language_model import CurvePoint
from benchmarks.metrics.speedrun import (
    RowSummary,
    comparability_warnings,
    is_record,
    one_sided_p_value,
    row_sort_key,
    summarize_row,
    time_to_target,
)
from benchmarks.runner import RunRequest, run
from tests.conftest import synthetic_text

TASK = "shakespeare-char-speedrun"


def reached(seconds: float, loss: float = 1.69) -> dict[str, float]:
    return {"reached": 1.0, "seconds_to_target": seconds, "val_loss_at_target": loss, "val_loss_best_val_selected": loss}


def missed(best: float) -> dict[str, float]:
    return {"reached": 0.0, "seconds_to_target": float("nan"), "val_loss_at_target": best, "val_loss_best_val_selected": best}


def run_sort_key(metrics: dict[str, float]) -> tuple[int, float]:
    """One run ranked as a row of one seed: the race's order of runs."""
    return row_sort_key(summarize_row([metrics], target=1.70))


def test_time_to_target_reads_the_first_crossing() -> None:
    curve = [CurvePoint(0, 0, 3.0, 4.1, None, 2.5), CurvePoint(100, 800, 13.0, 1.72, 1.8, 22.5),
             CurvePoint(200, 1600, 23.5, 1.69, 1.7, 43.5), CurvePoint(300, 2400, 34.0, 1.60, 1.6, 64.5)]
    result = time_to_target(curve, 1.70)
    assert (result.reached, result.seconds_to_target, result.steps_to_target, result.train_chars_to_target) == (True, 20.5, 200, 1600)
    assert result.cpu_seconds_to_target == 41.0  # CPU seconds also from the step-0 checkpoint
    assert (result.val_loss_at_target, result.best_val_loss, result.setup_seconds) == (1.69, 1.60, 3.0)
    exactly = time_to_target(curve, 1.72)  # "reaches" means at or below
    assert exactly.steps_to_target == 100
    never = time_to_target(curve, 1.5)
    assert not never.reached and math.isnan(never.seconds_to_target) and never.val_loss_at_target == 1.60
    with pytest.raises(ValueError, match="never called context.checkpoint"):
        time_to_target([], 1.7)


def test_a_run_that_misses_ranks_below_every_run_that_reached() -> None:
    runs = [missed(1.7001), reached(5000.0), missed(1.65), reached(12.0, 1.6999), missed(float("nan")), reached(300.0)]
    ranked = sorted(runs, key=run_sort_key)
    assert [r["reached"] for r in ranked] == [1.0, 1.0, 1.0, 0.0, 0.0, 0.0]
    assert [r["seconds_to_target"] for r in ranked[:3]] == [12.0, 300.0, 5000.0]
    assert [r["val_loss_best_val_selected"] for r in ranked[3:5]] == [1.65, 1.7001]  # then by best loss
    assert math.isnan(ranked[5]["val_loss_best_val_selected"])
    # a record stored as JSON keeps a missed time as null
    assert run_sort_key({"reached": 0.0, "seconds_to_target": None, "val_loss_best_val_selected": 1.8})[0] == 1


def test_a_row_with_a_missed_seed_ranks_below_rows_that_always_reached() -> None:
    fast_but_flaky = summarize_row([reached(10.0), reached(11.0), missed(1.71)], target=1.70)
    slow_but_sure = summarize_row([reached(900.0, 1.65), reached(950.0, 1.66), reached(990.0, 1.64)], target=1.70)
    assert math.isnan(fast_but_flaky.mean_seconds) and fast_but_flaky.reached == 2 and not fast_but_flaky.record
    assert slow_but_sure.mean_seconds == pytest.approx(946.6667, abs=1e-3) and slow_but_sure.record
    assert sorted([fast_but_flaky, slow_but_sure], key=row_sort_key) == [slow_but_sure, fast_but_flaky]
    worse = RowSummary(seeds=3, reached=0, mean_seconds=float("nan"), mean_best_loss=1.9, p_value=1.0, record=False)
    assert sorted([worse, fast_but_flaky], key=row_sort_key)[0] is fast_but_flaky


def test_record_rule_is_a_one_sided_t_test() -> None:
    stats = pytest.importorskip("scipy.stats")
    for losses, target in (([1.69, 1.68, 1.67], 1.70), ([1.699, 1.695, 1.698, 1.69], 1.70), ([1.71, 1.69, 1.70], 1.70)):
        expected = stats.ttest_1samp(losses, target, alternative="less").pvalue  # modded-nanoGPT's test
        assert one_sided_p_value(losses, target) == pytest.approx(expected, rel=1e-9)
    assert is_record([1.69, 1.68, 1.67], 1.70)  # p = 0.037
    assert not is_record([1.69, 1.68], 1.70)  # too few seeds, however clear
    assert not is_record([1.699, 1.69, 1.695], 1.70)  # all below, but p = 0.068: not a clear crossing
    assert not is_record([1.60, 1.60, 1.71], 1.70)
    assert is_record([1.65, 1.65, 1.65], 1.70) and not is_record([1.70, 1.70, 1.70], 1.70)  # no spread
    assert not summarize_row([reached(5.0, 1.5), reached(6.0, 1.5), missed(1.71), reached(5.5, 1.5)], 1.70).record


def test_comparability_warnings_name_machines_and_threads() -> None:
    base = {"hardware": {"cpu": "Xeon", "accelerator": None}, "extras": {"speedrun": {"threads": 2}}}
    assert comparability_warnings([base, base]) == []
    other_cpu = {**base, "hardware": {"cpu": "EPYC", "accelerator": None}}
    assert comparability_warnings([base, other_cpu]) == ["runs come from 2 different machines: their times are not comparable"]
    gpu = {**base, "hardware": {"cpu": "Xeon", "accelerator": {"type": "cuda", "name": "H100"}}}
    assert len(comparability_warnings([base, gpu])) == 1


@pytest.mark.integration
def test_speedrun_runs_record_reached_and_missed(tmp_path: Path) -> None:
    corpus = tmp_path / "play.txt"
    corpus.write_text(synthetic_text(8_000, seed=2))
    records = {}
    for name, target in (("easy", 10.0), ("impossible", 0.01)):
        results = tmp_path / name
        outcomes = run(RunRequest(task=TASK, systems=["char-gpt"], seeds=[0], profile="smoke", device="cpu", results_dir=results,
                                  overrides={"task.dataset": str(corpus), "task.target": target, "task.sample_chars": 0},
                                  progress=False, update_leaderboard=False, isolate=False))
        assert [o.status for o in outcomes] == ["ok"]
        (path,) = (results / "records" / TASK / "char-gpt").glob("*.json")
        records[name] = json.loads(path.read_text())
    easy, impossible = records["easy"], records["impossible"]
    # every loss is below 10: reached at the step-0 checkpoint, zero seconds after the clock starts, training stopped there
    assert easy["metrics"]["reached"] == 1.0 and easy["metrics"]["seconds_to_target"] == 0.0
    assert easy["metrics"]["steps_to_target"] == 0.0 and easy["extras"]["curves"]["step"] == [0]
    assert impossible["metrics"]["reached"] == 0.0 and impossible["metrics"]["seconds_to_target"] is None
    assert impossible["extras"]["curves"]["step"] == [0, 15, 30]  # the whole schedule, then not reached
    assert impossible["metrics"]["val_loss_at_target"] == pytest.approx(min(impossible["extras"]["curves"]["val_loss"]), abs=1e-5)
    assert easy["metrics"]["cpu_seconds_to_target"] == 0.0 and impossible["metrics"]["cpu_seconds_to_target"] is None
    cpu = impossible["extras"]["curves"]["train_cpu_seconds"]
    assert cpu[0] <= cpu[1] <= cpu[2] and cpu[2] - cpu[0] > 0  # training used CPU time, counted apart from evaluations
    facts = impossible["extras"]["speedrun"]
    assert facts["target"] == 0.01 and facts["threads"] == 1 and len(facts["load_average_before"]) == 3
    assert sorted([impossible["metrics"], easy["metrics"]], key=run_sort_key)[0] is easy["metrics"]


def test_leaderboard_standings_put_a_missed_row_below_every_reached_one(tmp_path: Path) -> None:
    """Through the runner and the leaderboard: a row that missed the target ranks below a row that reached it on
    every seed, and the standings say 'not reached'."""
    from benchmarks import leaderboard

    corpus = tmp_path / "play.txt"
    corpus.write_text(synthetic_text(8_000, seed=2))
    results = tmp_path / "results"
    # a loose target for char-gpt (reached at the step-0 check), an impossible one for char-mlp
    for system, target in (("char-gpt", 10.0), ("char-mlp", 0.01)):
        outcomes = run(RunRequest(task=TASK, systems=[system], seeds=[0, 1], profile="smoke", device="cpu", results_dir=results,
                                  overrides={"task.dataset": str(corpus), "task.target": target, "task.sample_chars": 0},
                                  progress=False, update_leaderboard=False, isolate=False))
        assert [o.status for o in outcomes] == ["ok", "ok"]
    leaderboard.write(results, [TASK])
    text = (results / f"{TASK}.md").read_text()
    standings = text[text.index("**Speedrun standings**"):].splitlines()
    rows = [line for line in standings if line.startswith("| 1 ") or line.startswith("| 2 ")]
    assert "char-gpt" in rows[0] and "2/2" in rows[0] and "not reached" not in rows[0]
    assert "char-mlp" in rows[1] and "0/2" in rows[1] and "not reached" in rows[1]
