"""The speedrun's scoring rules as pure functions (task ``shakespeare-char-speedrun``): a run's time to
target read off its training curve, the order of runs and of rows, and the record rule.

- a run that reached the target ranks above every run that did not, by seconds; the others rank by
  their best loss;
- a row (one system and config over its seeds) is a *record* only when it has ≥ 3 seeds and a
  one-sided t-test says their mean loss at the target check is below the target with p < 0.05
  (modded-nanoGPT's rule, which today asks p < 0.01 of its many-run records).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from benchmarks.metrics import Metric, declare
from benchmarks.metrics.language_model import CurvePoint

RECORD_ALPHA = 0.05
RECORD_MIN_SEEDS = 3

declare(Metric("seconds_to_target", higher_is_better=False, digits=1,
               description="training wall seconds from the step-0 checkpoint until the strict val_loss first reaches the target"))
declare(Metric("cpu_seconds_to_target", higher_is_better=False, digits=1,
               description="the same in CPU seconds of the process (all threads)"))
declare(Metric("reached", higher_is_better=True, digits=0, description="1 when some checkpoint reached the target, else 0"))
declare(Metric("steps_to_target", higher_is_better=False, digits=0, description="optimisation steps at the target check"))
declare(Metric("train_chars_to_target", higher_is_better=False, digits=0, description="training characters at the target check"))
declare(Metric("val_loss_at_target", higher_is_better=False,
               description="strict val_loss at the target check (the best loss when the target was missed)"))
declare(Metric("setup_seconds", higher_is_better=False, digits=2, description="seconds of fit before the step-0 checkpoint"))


@dataclass(frozen=True)
class SpeedrunResult:
    """One run's race, read off its curve: the first checkpoint whose strict loss is at or below the target (the
    ``*_to_target`` fields are NaN when none is). Its fields but ``best_val_loss`` are the task's metrics, in order."""

    seconds_to_target: float  # training seconds from the step-0 checkpoint
    reached: bool
    steps_to_target: float
    train_chars_to_target: float
    val_loss_at_target: float  # the best loss when none reached the target
    best_val_loss: float  # the best checkpoint's loss (selected on the validation set)
    setup_seconds: float  # seconds of fit before the step-0 checkpoint (imports, model): not in seconds_to_target
    cpu_seconds_to_target: float = float("nan")  # CPU seconds of the process (all threads)


def time_to_target(points: Sequence[CurvePoint], target: float) -> SpeedrunResult:
    """The race result of a curve: the first checkpoint whose loss is ≤ ``target``.

    The clock starts at the step-0 checkpoint (as modded-nanoGPT's starts after its warm-up), so
    what a system does before its first step is reported apart, as ``setup_seconds``.

    >>> curve = [CurvePoint(0, 0, 2.0, 4.2), CurvePoint(100, 6400, 12.0, 1.8), CurvePoint(200, 12800, 22.0, 1.65)]
    >>> result = time_to_target(curve, 1.70)
    >>> result.reached, result.seconds_to_target, result.steps_to_target, result.setup_seconds
    (True, 20.0, 200.0, 2.0)
    >>> time_to_target(curve, 1.5).reached, time_to_target(curve, 1.5).val_loss_at_target
    (False, 1.65)
    """
    if not points:
        raise ValueError("no checkpoints: the system's training loop never called context.checkpoint")
    at_zero = points[0].step == 0
    setup = points[0].train_seconds if at_zero else 0.0
    cpu_setup = points[0].train_cpu_seconds if at_zero else 0.0
    best = min(p.val_loss for p in points)
    for point in points:
        if point.val_loss <= target:
            return SpeedrunResult(point.train_seconds - setup, True, float(point.step), float(point.train_chars),
                                  point.val_loss, best, setup, point.train_cpu_seconds - cpu_setup)
    nan = float("nan")
    return SpeedrunResult(nan, False, nan, nan, best, best, setup)


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def one_sided_p_value(losses: Sequence[float], target: float) -> float:
    """p-value of "mean loss < target": modded-nanoGPT's ``scipy.stats.ttest_1samp(losses, target,
    alternative='less')``. With no spread, 0 when every loss is below the target, else 1; 1 for one loss.

    >>> round(one_sided_p_value([1.69, 1.68, 1.67], 1.70), 4)  # mean 1.68, sd 0.01, t = -3.46 on 2 df
    0.0371
    """
    values = np.asarray(losses, dtype=np.float64)
    if values.size < 2:
        return 1.0
    if float(values.std(ddof=1)) == 0.0:
        return 0.0 if float(values.mean()) < target else 1.0
    from scipy import stats

    return float(stats.ttest_1samp(values, target, alternative="less").pvalue)


def is_record(losses: Sequence[float], target: float) -> bool:
    """True when ≥ :data:`RECORD_MIN_SEEDS` runs show, by a one-sided t-test at level :data:`RECORD_ALPHA`, that the
    mean loss at the target check (``val_loss_at_target``) is below ``target``.

    Runs stop at the first checkpoint at or below the target, so their losses sit just under it: the
    test then asks that the crossings be clear, not marginal.

    >>> is_record([1.69, 1.68, 1.67], 1.70), is_record([1.69, 1.68], 1.70), is_record([1.699, 1.69, 1.71], 1.70)
    (True, False, False)
    """
    return len(losses) >= RECORD_MIN_SEEDS and one_sided_p_value(losses, target) < RECORD_ALPHA


@dataclass(frozen=True)
class RowSummary:
    """One leaderboard row of the race: a system and config over its seeds."""

    seeds: int
    reached: int  # runs that reached the target
    mean_seconds: float  # mean seconds_to_target when every run reached it, else NaN
    mean_best_loss: float
    p_value: float  # one_sided_p_value of the runs' val_loss_at_target
    record: bool  # is_record of them, and every run reached the target


def summarize_row(runs: Sequence[Mapping[str, Any]], target: float) -> RowSummary:
    """Summarise the metrics of one row's runs (one dict per seed)."""
    reached = sum(1 for m in runs if m.get("reached") == 1.0)
    all_reached = bool(runs) and reached == len(runs)
    seconds = [float(m["seconds_to_target"]) for m in runs if _finite(m.get("seconds_to_target"))]
    bests = [float(m["val_loss_best_val_selected"]) for m in runs if _finite(m.get("val_loss_best_val_selected"))]
    losses = [float(m["val_loss_at_target"]) for m in runs if _finite(m.get("val_loss_at_target"))]
    return RowSummary(
        seeds=len(runs),
        reached=reached,
        mean_seconds=float(np.mean(seconds)) if all_reached and len(seconds) == len(runs) else float("nan"),
        mean_best_loss=float(np.mean(bests)) if bests else float("nan"),
        p_value=one_sided_p_value(losses, target),
        record=all_reached and is_record(losses, target),
    )


def row_sort_key(row: RowSummary) -> tuple[int, float]:
    """Rows where every seed reached the target first, by mean seconds; then the others by mean best loss."""
    if math.isfinite(row.mean_seconds):
        return (0, row.mean_seconds)
    return (1, row.mean_best_loss if math.isfinite(row.mean_best_loss) else math.inf)


def comparability_warnings(records: Sequence[Mapping[str, Any]]) -> list[str]:
    """Warnings for runs that should not be ranked together: different CPUs or accelerators, or
    different thread counts (from ``record["hardware"]`` and ``record["extras"]["speedrun"]``).

    >>> a = {"hardware": {"cpu": "Xeon", "accelerator": None}, "extras": {"speedrun": {"threads": 2}}}
    >>> comparability_warnings([a, a])
    []
    >>> comparability_warnings([a, {**a, "extras": {"speedrun": {"threads": 1}}}])
    ['runs used different thread counts (1, 2): their times are not comparable']
    """
    warnings = []
    machines = {(str((r.get("hardware") or {}).get("cpu")), str((r.get("hardware") or {}).get("accelerator"))) for r in records}
    if len(machines) > 1:
        warnings.append(f"runs come from {len(machines)} different machines: their times are not comparable")
    threads = {((r.get("extras") or {}).get("speedrun") or {}).get("threads") for r in records}
    if len(threads) > 1:
        shown = ", ".join(sorted(str(t) for t in threads))
        warnings.append(f"runs used different thread counts ({shown}): their times are not comparable")
    return warnings
