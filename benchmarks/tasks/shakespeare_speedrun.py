"""Task ``shakespeare-char-speedrun``: training wall seconds until the strict validation loss of
tiny-shakespeare first reaches a target (the modded-nanoGPT speedrun's format, at CPU size).

The data, the split and the strict evaluation are ``shakespeare-char-ppl``'s. The task scores the model
at every checkpoint of the system's training loop (``RunContext.checkpoint``, off the training
clock) and stops it at the first checkpoint whose loss is at or below the target, or once the
training clock passes the budget; the system's own iteration count is its other budget. The
ranking and record rules are pure functions here (:func:`run_sort_key`, :func:`summarize_row`,
:func:`is_record`, :func:`comparability_warnings`) for the leaderboard to use:

- a run that reached the target ranks above every run that did not, by seconds; the others rank by
  their best loss;
- a row (one system and config over its seeds) is a *record* only when it has ≥ 3 seeds and a
  one-sided t-test says their mean loss at the target check is below the target with p < 0.05
  (modded-nanoGPT's rule, which today asks p < 0.01 of its many-run records).
"""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from benchmarks.api import Evaluation, RunContext, System, TaskData
from benchmarks.data.shakespeare import CharSplit
from benchmarks.registry import register_task
from benchmarks.tasks import shakespeare
from benchmarks.tasks.shakespeare import CurvePoint, ShakespeareCharPerplexity, StrictCurve

TARGETS = {"smoke": 4.0, "default": 1.70, "full": 1.47}
"""Strict validation loss (nats) to reach, per profile: 1.70 on CPU, nanoGPT's 1.47 on a GPU."""
BUDGET_SECONDS = {"smoke": 120.0, "default": 900.0, "full": 600.0}
"""Training seconds after which a run stops, reached or not."""
RECORD_ALPHA = 0.05
RECORD_MIN_SEEDS = 3


@dataclass
class Options(shakespeare.Options):
    """Task options (``--set task.KEY=VALUE``); those of ``shakespeare-char-ppl`` plus the race's."""

    target: float = -1.0
    """Strict validation loss to reach; -1 = the profile's (see TARGETS)."""
    budget_seconds: float = -1.0
    """Training seconds after which the run stops; -1 = the profile's (see BUDGET_SECONDS)."""
    stop_at_target: bool = True
    """Stop training at the first checkpoint that reaches the target (False: run the whole schedule)."""


@dataclass(frozen=True)
class SpeedrunResult:
    """One run's race, read off its curve.

    Args:
        reached: some checkpoint's strict loss was at or below the target.
        seconds_to_target: training seconds from the step-0 checkpoint to the first such checkpoint
            (NaN when not reached).
        steps_to_target: optimisation steps at that checkpoint (NaN when not reached).
        train_chars_to_target: training characters at that checkpoint (NaN when not reached).
        val_loss_at_target: the loss of that checkpoint; the best loss when none reached the target.
        best_val_loss: the best checkpoint's loss (selected on the validation set).
        setup_seconds: seconds of ``fit`` before the step-0 checkpoint (imports, model construction),
            not counted in ``seconds_to_target``.
        cpu_seconds_to_target: like ``seconds_to_target`` in CPU seconds of the process (all threads).
    """

    reached: bool
    seconds_to_target: float
    steps_to_target: float
    train_chars_to_target: float
    val_loss_at_target: float
    best_val_loss: float
    setup_seconds: float
    cpu_seconds_to_target: float = float("nan")


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
            return SpeedrunResult(True, point.train_seconds - setup, float(point.step), float(point.train_chars),
                                  point.val_loss, best, setup, point.train_cpu_seconds - cpu_setup)
    nan = float("nan")
    return SpeedrunResult(False, nan, nan, nan, best, best, setup)


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def run_sort_key(metrics: Mapping[str, Any]) -> tuple[int, float, float]:
    """Sort key of one run's metrics (ascending = better): every run that reached the target, by
    seconds, comes before every run that did not, which rank by their best loss.

    >>> runs = [{"reached": 0.0, "val_loss_best_val_selected": 1.71}, {"reached": 1.0, "seconds_to_target": 900.0},
    ...         {"reached": 1.0, "seconds_to_target": 60.0}]
    >>> [run_sort_key(m)[:2] for m in sorted(runs, key=run_sort_key)]
    [(0, 60.0), (0, 900.0), (1, 1.71)]
    """
    seconds = metrics.get("seconds_to_target")
    if metrics.get("reached") == 1.0 and _finite(seconds):
        return (0, float(seconds), 0.0)
    best = metrics.get("val_loss_best_val_selected")
    return (1, float(best) if _finite(best) else math.inf, 0.0)


def one_sided_p_value(losses: Sequence[float], target: float) -> float:
    """p-value of a one-sample t-test of "mean loss ≥ target" against "mean loss < target".

    The same test as modded-nanoGPT's ``scipy.stats.ttest_1samp(losses, target, alternative='less')``.
    With no spread at all, the answer is 0 when every loss is below the target and 1 otherwise.

    >>> round(one_sided_p_value([1.69, 1.68, 1.67], 1.70), 4)  # mean 1.68, sd 0.01, t = -3.46 on 2 df
    0.0371
    """
    values = np.asarray(losses, dtype=np.float64)
    if values.size < 2:
        return 1.0
    mean, sd = float(values.mean()), float(values.std(ddof=1))
    if sd == 0.0:
        return 0.0 if mean < target else 1.0
    from scipy import stats

    t = (mean - target) / (sd / math.sqrt(values.size))
    return float(stats.t.cdf(t, df=values.size - 1))


def is_record(losses: Sequence[float], target: float, alpha: float = RECORD_ALPHA, min_seeds: int = RECORD_MIN_SEEDS) -> bool:
    """True when ≥ ``min_seeds`` runs show, by a one-sided t-test at level ``alpha``, that the mean
    loss at the target check (``val_loss_at_target``) is below ``target``.

    Runs stop at the first checkpoint at or below the target, so their losses sit just under it: the
    test then asks that the crossings be clear, not marginal.

    >>> is_record([1.69, 1.68, 1.67], 1.70), is_record([1.69, 1.68], 1.70), is_record([1.699, 1.69, 1.71], 1.70)
    (True, False, False)
    """
    return len(losses) >= min_seeds and one_sided_p_value(losses, target) < alpha


@dataclass(frozen=True)
class RowSummary:
    """One leaderboard row of the race: a system and config over its seeds.

    Args:
        seeds: number of runs.
        reached: how many reached the target.
        mean_seconds: mean ``seconds_to_target`` when every run reached it, else NaN.
        mean_best_loss: mean of the runs' best losses (selected on the validation set).
        p_value: :func:`one_sided_p_value` of the runs' ``val_loss_at_target``.
        record: :func:`is_record` of them, and every run reached the target.
    """

    seeds: int
    reached: int
    mean_seconds: float
    mean_best_loss: float
    p_value: float
    record: bool


def summarize_row(runs: Sequence[Mapping[str, Any]], target: float, alpha: float = RECORD_ALPHA,
                  min_seeds: int = RECORD_MIN_SEEDS) -> RowSummary:
    """Summarise the metrics of one row's runs (one dict per seed)."""
    reached = sum(1 for m in runs if m.get("reached") == 1.0)
    all_reached = bool(runs) and reached == len(runs)
    seconds = [float(m["seconds_to_target"]) for m in runs if _finite(m.get("seconds_to_target"))]
    bests = [float(m["val_loss_best_val_selected"]) for m in runs if _finite(m.get("val_loss_best_val_selected"))]
    losses = [float(m["val_loss_at_target"]) for m in runs if _finite(m.get("val_loss_at_target"))]
    p_value = one_sided_p_value(losses, target)
    return RowSummary(
        seeds=len(runs),
        reached=reached,
        mean_seconds=float(np.mean(seconds)) if all_reached and len(seconds) == len(runs) else float("nan"),
        mean_best_loss=float(np.mean(bests)) if bests else float("nan"),
        p_value=p_value,
        record=all_reached and is_record(losses, target, alpha, min_seeds),
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


def _load_average() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except (AttributeError, OSError):
        return None


@register_task
class ShakespeareCharSpeedrun(ShakespeareCharPerplexity):
    id = "shakespeare-char-speedrun"
    version = "1"
    kind = "char-language-model"
    main_metric = "seconds_to_target"
    higher_is_better = False
    description = (
        "Time to target on tiny-shakespeare (the modded-nanoGPT speedrun's format at CPU size): training wall "
        f"seconds until the strict validation loss first reaches {TARGETS['default']:.2f} nats on CPUs (`default`) "
        f"or {TARGETS['full']:.2f} on a GPU (`full`). Runs that miss the target within their budget rank below every "
        "run that reached it, by best loss; a row is a record only when ≥ 3 seeds show, by a one-sided t-test at "
        "p < 0.05, that the mean loss at the target check is below the target. Times depend on the machine, its "
        "load and the thread count, which every record keeps."
    )
    protocol = (
        "Data, split and strict evaluation of `shakespeare-char-ppl` (every validation character scored once). At "
        "every checkpoint of the system's training loop (its `eval_interval`, and the end) the task scores the model "
        "on the whole validation split; evaluation time is not training time. The clock starts at the step-0 "
        "checkpoint (imports and model construction are `setup_seconds`). The run stops at the first checkpoint at "
        "or below the target, or when the training clock passes the budget, or at the end of the system's schedule. "
        "Main metric `seconds_to_target` (empty when not reached); also `cpu_seconds_to_target` (the process's CPU "
        "seconds, all threads: steadier than wall time on a shared machine), `reached`, `steps_to_target`, "
        "`train_chars_to_target`, `val_loss_at_target` (the loss at that checkpoint, or the best loss), "
        "`val_loss_best_val_selected`, and the final model's `shakespeare-char-ppl` metrics."
    )
    profiles = {
        "smoke": f"tiny models, target {TARGETS['smoke']}, first 20,000 validation characters",
        "default": f"CPU: target {TARGETS['default']}, budget {BUDGET_SECONDS['default']:.0f} training seconds",
        "full": f"GPU: target {TARGETS['full']}, budget {BUDGET_SECONDS['full']:.0f} training seconds",
    }
    default_seeds = (0, 1, 2)
    Options = Options
    metric_directions = {
        **ShakespeareCharPerplexity.metric_directions,
        "reached": True,
        "steps_to_target": False,
        "train_chars_to_target": False,
        "val_loss_at_target": False,
        "setup_seconds": False,
        "cpu_seconds_to_target": False,
    }

    def target(self, profile: str) -> float:
        return self.options.target if self.options.target > 0 else TARGETS.get(profile, TARGETS["default"])

    def budget_seconds(self, profile: str) -> float:
        return self.options.budget_seconds if self.options.budget_seconds > 0 else BUDGET_SECONDS.get(profile, BUDGET_SECONDS["default"])

    def make_curve(self, system: System, split: CharSplit, context: RunContext) -> StrictCurve:
        target, budget = self.target(context.profile), self.budget_seconds(context.profile)

        def stop(point: CurvePoint) -> bool:
            return (self.options.stop_at_target and point.val_loss <= target) or point.train_seconds >= budget

        return StrictCurve(system, *self.eval_stream(split, context.profile), context, stop=stop)

    def fit(self, system: System, data: TaskData, context: RunContext) -> None:
        self._load_before = _load_average()
        super().fit(system, data, context)
        self._load_after = _load_average()

    def predict(self, system: System, data: TaskData, context: RunContext) -> Any:
        predictions = super().predict(system, data, context)
        threads = None
        if "torch" in sys.modules:
            threads = sys.modules["torch"].get_num_threads()
        predictions["speedrun"] = {
            "target": self.target(context.profile),
            "budget_seconds": self.budget_seconds(context.profile),
            "stop_at_target": self.options.stop_at_target,
            "threads": threads,
            "cpu_count": os.cpu_count(),
            "load_average_before": getattr(self, "_load_before", None),
            "load_average_after": getattr(self, "_load_after", None),
        }
        return predictions

    def evaluate(self, predictions: Any, data: TaskData, context: RunContext) -> Evaluation:
        evaluation = super().evaluate(predictions, data, context)
        result = time_to_target(predictions["curve"], predictions["speedrun"]["target"])
        evaluation.metrics.update(
            seconds_to_target=result.seconds_to_target,
            reached=float(result.reached),
            steps_to_target=result.steps_to_target,
            train_chars_to_target=result.train_chars_to_target,
            val_loss_at_target=result.val_loss_at_target,
            setup_seconds=result.setup_seconds,
            cpu_seconds_to_target=result.cpu_seconds_to_target,
        )
        evaluation.extras["speedrun"] = predictions["speedrun"]
        # per-block losses of the final model say nothing about the time: intervals come from the seeds
        evaluation.per_example, evaluation.example_ids = {}, None
        return evaluation
