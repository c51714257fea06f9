"""The char-LM speedrun on CPU: char-gpt (nanoGPT's recipe) against char-gpt-modern, side by side, with ablations.

Runs ``shakespeare-char-speedrun`` (``default`` profile: strict validation loss 1.70) through the
real runner, alternating the two systems seed by seed so that both see the same machine load; then
char-gpt-modern with one ingredient switched off at a time; then, optionally, char-gpt-modern's
longer recipe against the lower target 1.60. Every run keeps its JSON record (curve, threads, load
averages); the report quotes wall and CPU seconds to target, their ratio, and the record rule.

Usage (CPU-heavy: run it alone, under the shared lock)::

    flock /tmp/mlsd-heavy.lock python -m perf.charlm_speedrun --data-dir ../shared/data \\
        --out results/perf/charlm_speedrun.md
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import re
import statistics
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from tabulate import tabulate

from benchmarks.config import parse_assignments
from benchmarks.metrics.speedrun import comparability_warnings, summarize_row
from benchmarks.runner import RunRequest, run
from perf.footer import emit

TASK = "shakespeare-char-speedrun"
NANOGPT_RECIPE = ["learning_rate=1e-3", "min_learning_rate=1e-4", "warmup_iterations=100", "iterations=5000", "eval_interval=250"]
"""nanoGPT's CPU recipe (4 × 4 × 128, context 64, batch 12, lr 1e-3 → 1e-4 cosine) with a schedule long
enough to reach 1.70 (its README's 2,000 iterations stop at ≈ 1.88)."""
SWITCHES = ("muon", "rotary", "qk_norm", "relu2", "zero_init", "trapezoid")


@dataclass
class Row:
    """One line of the report: a system with its settings, over seeds."""

    label: str
    system: str
    settings: list[str]
    target: float
    budget_seconds: float
    seeds: list[int]
    records: list[dict[str, Any]] = field(default_factory=list)


def run_one(row: Row, seed: int, args: argparse.Namespace) -> dict[str, Any]:
    """Run one (row, seed) job through the runner; return its record."""
    overrides = parse_assignments([f"threads={args.threads}", f"task.target={row.target}",
                                   f"task.budget_seconds={row.budget_seconds}", "task.sample_chars=0", *row.settings])
    results = args.results_dir / re.sub(r"[^A-Za-z0-9_.=-]+", "-", row.label).strip("-")
    if args.reuse:
        kept = _kept_record(results, row, seed, overrides)
        if kept is not None:
            return kept
    load_before = os.getloadavg()
    outcomes = run(RunRequest(task=TASK, systems=[row.system], seeds=[seed], profile="default", device="cpu",
                              data_dir=args.data_dir, results_dir=results, overrides=overrides, progress=False,
                              update_leaderboard=False))
    record = json.loads(outcomes[0].record_path.read_text())
    record["load_before"], record["load_after"] = [round(x, 2) for x in load_before], [round(x, 2) for x in os.getloadavg()]
    metrics = record["metrics"]
    print(f"{row.label} seed {seed}: {record['status']} reached={metrics.get('reached')} "
          f"seconds={metrics.get('seconds_to_target')} cpu={metrics.get('cpu_seconds_to_target')} "
          f"best={metrics.get('val_loss_best_val_selected')} load {record['load_before']} → {record['load_after']}", flush=True)
    return record


def _kept_record(results: Path, row: Row, seed: int, overrides: dict[str, Any]) -> dict[str, Any] | None:
    """The newest ok record of this row and seed already in ``results`` (``--reuse``), or None."""
    system_settings = {k: v for k, v in overrides.items() if not k.startswith("task.")}
    for path in sorted(results.glob("records/*/*/*.json"), key=lambda p: p.stat().st_mtime, reverse=True):
        record = json.loads(path.read_text())
        options = record.get("task_options") or {}
        if (record.get("system") == row.system and record.get("seed") == seed and record.get("status") == "ok"
                and record.get("config_overrides") == system_settings and options.get("target") == row.target
                and options.get("budget_seconds") == row.budget_seconds):
            speedrun = (record.get("extras") or {}).get("speedrun") or {}
            record["load_before"] = speedrun.get("load_average_before") or [math.nan]
            record["load_after"] = speedrun.get("load_average_after") or [math.nan]
            print(f"{row.label} seed {seed}: kept record {path.name} ({record.get('finished_at', '?')[:16]})", flush=True)
            record["reused"] = True
            return record
    return None


def _fmt(value: Any, spec: str = ".0f") -> str:
    return format(value, spec) if isinstance(value, (int, float)) and math.isfinite(value) else "—"


def _values(row: Row, key: str) -> list[float]:
    values = [r["metrics"].get(key) for r in row.records]
    return [float(v) for v in values if isinstance(v, (int, float)) and math.isfinite(v)]


def _min_median(values: list[float], spec: str = ".0f") -> str:
    return f"{_fmt(min(values), spec)} / {_fmt(statistics.median(values), spec)}" if values else "—"


def table(rows: list[Row]) -> list[str]:
    cells = []
    for row in rows:
        metrics = [r["metrics"] for r in row.records]
        summary = summarize_row(metrics, row.target)
        steps, chars = _values(row, "steps_to_target"), _values(row, "train_chars_to_target")
        at_target = ", ".join(_fmt(m.get("val_loss_at_target"), ".4f") for m in metrics)
        loads = ", ".join(f"{r['load_before'][0]:.1f}→{r['load_after'][0]:.1f}" for r in row.records)
        record = ("yes" if summary.record else "no") + f" ({summary.p_value:.3f})" if len(metrics) > 1 else "— (1 seed)"
        cells.append([
            row.label, len(metrics), f"{summary.reached}/{len(metrics)}", _min_median(_values(row, "seconds_to_target")),
            _min_median(_values(row, "cpu_seconds_to_target")), _fmt(statistics.median(steps)) if steps else "—",
            _fmt(statistics.median(chars), ",.0f") if chars else "—", _fmt(summary.mean_best_loss, ".4f"), at_target, record, loads])
    headers = ["run", "seeds", "reached", "wall s to target (min / median)", "CPU s to target (min / median)",
               "steps to target (median)", "train chars to target (median)", "best strict loss (mean)",
               "loss at target check (per seed)", "record (p)", "load avg before → after (1 min)"]
    return tabulate(cells, headers, tablefmt="pipe", disable_numparse=True).splitlines()


def ratio_lines(baseline: Row, contender: Row) -> list[str]:
    """Per-seed ratios baseline / contender of wall and CPU seconds to target (the runs alternated)."""
    lines = []
    for key, name in (("seconds_to_target", "wall"), ("cpu_seconds_to_target", "CPU")):
        ratios = []
        for a, b in zip(baseline.records, contender.records, strict=False):
            x, y = a["metrics"].get(key), b["metrics"].get(key)
            if isinstance(x, (int, float)) and isinstance(y, (int, float)) and y > 0 and math.isfinite(x) and math.isfinite(y):
                ratios.append(x / y)
        if ratios:
            lines.append(f"- {name} seconds to target, {baseline.label} / {contender.label}, per seed: "
                         f"{', '.join(f'{r:.2f}×' for r in ratios)} (min {min(ratios):.2f}×, median {statistics.median(ratios):.2f}×)")
        else:
            lines.append(f"- {name} seconds: no seed where both reached the target, so no ratio")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--target", type=float, default=1.70)
    parser.add_argument("--budget-seconds", type=float, default=900.0)
    parser.add_argument("--gpt-set", nargs="*", default=NANOGPT_RECIPE, help="char-gpt's settings (default: nanoGPT's CPU recipe)")
    parser.add_argument("--modern-set", nargs="*", default=[], help="char-gpt-modern's settings beyond its defaults")
    parser.add_argument("--ablation-seeds", type=int, nargs="*", default=[0], help="seeds of the ablation rows (none: skip)")
    parser.add_argument("--long-target", type=float, default=1.60)
    parser.add_argument("--long-set", nargs="*", default=None,
                        help="char-gpt-modern's settings for the lower target (omit to skip those runs)")
    parser.add_argument("--long-seeds", type=int, nargs="*", default=[0])
    parser.add_argument("--long-budget-seconds", type=float, default=600.0, help="the lower target's budget (10 minutes)")
    parser.add_argument("--results-dir", type=Path, default=Path("/tmp/charlm_speedrun"))
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--reuse", action="store_true",
                        help="use an ok record of the same row, seed and settings already in --results-dir instead of rerunning it")
    args = parser.parse_args()

    budget = args.budget_seconds
    gpt = Row("char-gpt (nanoGPT recipe)", "char-gpt", list(args.gpt_set), args.target, budget, args.seeds)
    modern = Row("char-gpt-modern", "char-gpt-modern", list(args.modern_set), args.target, budget, args.seeds)
    ablations = [Row(f"char-gpt-modern, {switch}=False", "char-gpt-modern", [*args.modern_set, f"{switch}=False"], args.target,
                     budget, args.ablation_seeds) for switch in SWITCHES] if args.ablation_seeds else []
    long = Row(f"char-gpt-modern `{' '.join(args.long_set or [])}`, target {args.long_target}", "char-gpt-modern",
               list(args.long_set or []), args.long_target, args.long_budget_seconds, args.long_seeds) if args.long_set is not None else None
    started = datetime.now(timezone.utc)
    for seed in args.seeds:  # side by side: the two systems alternate, seed by seed
        gpt.records.append(run_one(gpt, seed, args))
        modern.records.append(run_one(modern, seed, args))
    for row in ablations:
        row.records = [run_one(row, seed, args) for seed in row.seeds]
    if long is not None:
        long.records = [run_one(long, seed, args) for seed in long.seeds]

    rows = [gpt, modern, *ablations, *([long] if long is not None else [])]
    first = gpt.records[0]
    hardware = first.get("hardware", {})
    warnings = comparability_warnings([r for row in rows for r in row.records])
    command = " ".join(["python -m perf.charlm_speedrun", *(f"--data-dir {args.data_dir}" for _ in [0] if args.data_dir),
                        "--seeds", *map(str, args.seeds), f"--threads {args.threads}", f"--target {args.target}",
                        f"--budget-seconds {args.budget_seconds:g}", "--gpt-set", *args.gpt_set,
                        *(["--modern-set", *args.modern_set] if args.modern_set else []),
                        "--ablation-seeds", *map(str, args.ablation_seeds),
                        *(["--long-target", str(args.long_target), "--long-set", *args.long_set, "--long-seeds",
                           *map(str, args.long_seeds), f"--long-budget-seconds {args.long_budget_seconds:g}"] if long is not None else []),
                        *(["--reuse", f"--results-dir {args.results_dir}"] if args.reuse else []),
                        *([f"--out {args.out}"] if args.out else [])])
    config_gpt, config_modern = gpt.records[0]["config"], modern.records[0]["config"]
    every = [r for row in rows for r in row.records]
    reused = [r for r in every if r.get("reused")]
    reuse_note = (f" {len(reused)} of the {len(every)} runs are records kept from an earlier invocation (`--reuse`), "
                  f"finished between {min(r['finished_at'] for r in reused)[:16]} and "
                  f"{max(r['finished_at'] for r in reused)[:16]} UTC by code at "
                  f"{', '.join(sorted({str(r.get('git_sha'))[:7] for r in reused}))}." if reused else "")
    lines = [
        "<!-- generated by perf/charlm_speedrun.py; rerun it rather than editing -->",
        "# Char-LM speedrun on CPU: char-gpt (nanoGPT recipe) vs char-gpt-modern",
        "",
        f"Command: `{command}`",
        "",
        f"Machine: {hardware.get('cpu')} ({hardware.get('cores')} cores, os.cpu_count() = {os.cpu_count()}), "
        f"torch threads {args.threads}, Python {platform.python_version()}, torch {first.get('versions', {}).get('torch', '?')}. "
        f"Started {started.isoformat(timespec='seconds')}, finished {datetime.now(timezone.utc).isoformat(timespec='seconds')}.{reuse_note} "
        "The machine was shared with other jobs: the load averages before and after each run are in the table, and "
        "CPU seconds (this process, all threads) are quoted beside wall seconds because they move less with the load.",
        "",
        f"Task `{TASK}`, profile `default`: strict validation loss (all 111,540 validation characters, each scored "
        f"once) checked at every `eval_interval` steps, off the clock; target {args.target}, budget "
        f"{args.budget_seconds:g} training seconds (the lower-target row: {args.long_budget_seconds:g}); the clock starts "
        "at the step-0 checkpoint. Steps and characters to target do not depend on the machine.",
        "",
        f"- char-gpt: `{' '.join(args.gpt_set)}` over its defaults → {config_gpt.get('n_layer')} layers × "
        f"{config_gpt.get('n_embd')}, context {config_gpt.get('block_size')}, batch {config_gpt.get('batch_size')}, "
        f"{config_gpt.get('iterations')} iterations.",
        f"- char-gpt-modern: `{' '.join(args.modern_set) or '(defaults)'}` → {config_modern.get('n_layer')} layers × "
        f"{config_modern.get('n_embd')}, context {config_modern.get('block_size')}, batch {config_modern.get('batch_size')}, "
        f"{config_modern.get('iterations')} iterations, Muon lr {config_modern.get('muon_learning_rate')}, AdamW lr "
        f"{config_modern.get('learning_rate')} (embeddings {config_modern.get('embedding_learning_rate')}).",
        "",
        *table(rows),
        "",
        "Side by side (the two systems alternated seed by seed):",
        *ratio_lines(gpt, modern),
        "",
        "Record rule: ≥ 3 seeds, every one reached the target, and a one-sided t-test of the losses at the target "
        "check against the target gives p < 0.05. Ablation rows switch one ingredient of char-gpt-modern off "
        "(its fallback is char-gpt's choice; `muon=False` trains the hidden matrices with AdamW at the head's rate).",
        *(f"\nWarning: {w}" for w in warnings),
    ]
    emit("\n".join(lines) + "\n", args.out)


if __name__ == "__main__":
    main()
