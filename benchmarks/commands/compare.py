"""``compare``: are the differences between systems on a task real? Paired tests, Holm, CIs.

    python -m benchmarks compare --task moons-acc micrograd-mlp logreg
    python -m benchmarks compare --task moons-acc torch-mlp@0 torch-mlp@1 --json

A system may be named ``SYSTEM@SEED`` (or ``SYSTEM@0,1``) to use only those seeds.
"""

from __future__ import annotations

import argparse
import json
import math
from collections import defaultdict
from pathlib import Path
from typing import Any

from benchmarks.comparison import (
    TESTS,
    Comparison,
    Sample,
    build_sample,
    compare_all,
    format_p,
    guess_direction,
    sentence,
    tested_metric,
)
from benchmarks.errors import UserError
from benchmarks.records import load_records

NAME = "compare"
HELP = "compare systems on a task: paired significance tests (Holm-corrected) and confidence intervals"
DESCRIPTION = __doc__

LETTERS = "abcdefghijklmnopqrstuvwxyz"
SUPERSCRIPT = dict(zip("abcdefghijklmnopqrstuvwxyz", "ᵃᵇᶜᵈᵉᶠᵍʰⁱʲᵏˡᵐⁿᵒᵖ𐞥ʳˢᵗᵘᵛʷˣʸᶻ", strict=False))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--task", required=True, help="task id")
    parser.add_argument("systems", nargs="+", metavar="SYSTEM[@SEEDS]", help="two or more systems (SYSTEM@1 or SYSTEM@0,1 picks seeds)")
    parser.add_argument("--results-dir", type=Path, default=Path("results"))
    parser.add_argument("--profile", default=None, help="which profile's results (default: `default` if present)")
    parser.add_argument("--fingerprint", default=None, help="data fingerprint prefix, when a profile has several datasets")
    parser.add_argument("--metric", default=None, help="metric to compare (default: the task's main metric)")
    parser.add_argument("--test", choices=TESTS, default="randomization", help="paired test (default: randomization)")
    parser.add_argument("--alpha", type=float, default=0.05, help="significance level after Holm correction (default 0.05)")
    parser.add_argument("--resamples", type=int, default=10_000, help="randomization resamples (default 10000)")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")


def _parse_spec(spec: str) -> tuple[str, set[int] | None]:
    system, at, seeds = spec.partition("@")
    if not at:
        return system, None
    try:
        return system, {int(s) for s in seeds.split(",") if s.strip()}
    except ValueError:
        raise UserError(f"{spec!r}: expected SYSTEM or SYSTEM@SEED[,SEED...], e.g. logreg@0,1") from None


def _latest_per_seed(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    newest: dict[int, dict[str, Any]] = {}
    for record in sorted(records, key=lambda r: (r.get("finished_at") or "", r.get("run_id") or "")):
        newest[int(record.get("seed", 0))] = record
    return [newest[s] for s in sorted(newest)]


def select(
    results_dir: Path, task_id: str, specs: list[str], profile: str | None = None,
    fingerprint: str | None = None, metric: str | None = None,
) -> tuple[list[Sample], dict[str, Any]]:
    """Find the records behind each ``SYSTEM[@SEEDS]`` in one table and build their samples.

    Args:
        results_dir: where the records are.
        task_id: the task.
        specs: system specs, two or more.
        profile, fingerprint: narrow the table (default: the `default` profile if every system
            has results there, else the table with the newest results that has them all).
        metric: default the task's main metric.

    Returns:
        The samples (in the order given) and a description of the table.

    Raises:
        UserError: no records, an unknown system, or no table that has every system.
    """
    if len(specs) < 2:
        raise UserError("compare needs at least two systems (or one system at two seeds: SYSTEM@0 SYSTEM@1)")
    parsed = [_parse_spec(s) for s in specs]
    records = [item.data for item in load_records(results_dir, task_id)]
    if not records:
        raise UserError(f"no records for task {task_id!r} under {results_dir}/records; run: python -m benchmarks run --task {task_id}")
    ok = [r for r in records if r.get("status") == "ok" and isinstance(r.get("metrics"), dict)]
    groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for record in ok:
        groups[(str(record.get("profile")), str((record.get("dataset") or {}).get("fingerprint")))].append(record)
    names = {system for system, _ in parsed}
    candidates = []
    for (group_profile, group_fp), items in groups.items():
        if profile is not None and group_profile != profile:
            continue
        if fingerprint is not None and not group_fp.startswith(fingerprint):
            continue
        if names <= {r.get("system") for r in items}:
            newest = max((r.get("finished_at") or "") for r in items)
            candidates.append((group_profile == "default", newest, group_profile, group_fp))
    if not candidates:
        have = sorted({f"{p} (data {fp[:12]}): {', '.join(sorted({r['system'] for r in items}))}" for (p, fp), items in groups.items()})
        raise UserError(
            f"no table of task {task_id!r} has ok results for all of {', '.join(sorted(names))}"
            + (f" under --profile {profile}" if profile else "") + ". Tables:\n  " + "\n  ".join(have or ["none"])
        )
    _, _, chosen_profile, chosen_fp = max(candidates)
    table = groups[(chosen_profile, chosen_fp)]
    from benchmarks.registry import discover

    discover()
    main_metric = str(table[0].get("main_metric"))
    main_higher = bool(table[0].get("higher_is_better", True))
    metric = metric or main_metric

    def direction(name: str) -> bool:
        return guess_direction(name, task_id, main_metric, main_higher)

    higher = direction(metric)
    chosen: list[tuple[str, list[dict[str, Any]]]] = []
    for spec, (system, seeds) in zip(specs, parsed, strict=True):
        mine = [r for r in table if r.get("system") == system]
        # One config per system: the one of its newest record.
        newest = max(mine, key=lambda r: (r.get("finished_at") or "", r.get("run_id") or ""))
        config = json.dumps(newest.get("config", {}), sort_keys=True)
        mine = [r for r in mine if json.dumps(r.get("config", {}), sort_keys=True) == config]
        mine = _latest_per_seed(mine)
        if seeds is not None:
            mine = [r for r in mine if int(r.get("seed", 0)) in seeds]
            if not mine:
                raise UserError(f"{spec!r}: no ok record for seed(s) {sorted(seeds)} in profile {chosen_profile}")
        chosen.append((spec, mine))
    per_example_metric, transform = tested_metric([r for _, mine in chosen for r in mine], metric, direction)
    samples = []
    for spec, mine in chosen:
        sample = build_sample(mine, metric, higher, label=spec, per_example_metric=per_example_metric, transform=transform)
        if not sample.seed_values:
            raise UserError(f"{spec!r}: its records have no {metric!r} metric")
        samples.append(sample)
    dataset = table[0].get("dataset") or {}
    info = {"task": task_id, "profile": chosen_profile, "dataset": dataset, "metric": metric, "higher_is_better": higher,
            "tested_metric": per_example_metric}
    return samples, info


def run_compare(
    results_dir: Path, task_id: str, specs: list[str], profile: str | None = None, fingerprint: str | None = None,
    metric: str | None = None, test: str = "randomization", alpha: float = 0.05, n_resamples: int = 10_000,
) -> dict[str, Any]:
    """Select, test every pair, Holm-correct; return a JSON-able report (what ``--json`` prints)."""
    samples, info = select(results_dir, task_id, specs, profile, fingerprint, metric)
    comparisons = compare_all(samples, test=test, n_resamples=n_resamples)
    systems = []
    for letter, sample in zip(LETTERS, samples, strict=False):
        low, high = sample.interval()
        systems.append({
            "letter": letter, "label": sample.label, "system": sample.system, "seeds": sorted(sample.seed_values),
            "mean": sample.mean, "ci95": [low, high], "unit": sample.unit, "n_examples": sample.n_examples,
        })
    higher = info["higher_is_better"]
    return {
        **info, "alpha": alpha, "test": test, "systems": systems,
        "comparisons": [c.to_dict(alpha, higher) for c in comparisons],
        "summary": [sentence(c, info["metric"], higher, alpha) for c in comparisons],
        "_objects": comparisons,
    }


def _num(value: float) -> str:
    return "n/a" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.4f}"


def _p_cell(p: float) -> str:
    return format_p(p).removeprefix("p = ").removeprefix("p ")


def _json_safe(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    return value


def render_markdown(report: dict[str, Any]) -> str:
    """ranx-style table: each score carries the letters of the systems it beats significantly."""
    metric = report["metric"]
    arrow = "↑" if report["higher_is_better"] else "↓"
    comparisons: list[Comparison] = report["_objects"]
    letter_of = {s["label"]: s["letter"] for s in report["systems"]}
    beats: dict[str, list[str]] = defaultdict(list)
    for item in report["comparisons"]:
        if item["winner"]:
            loser = item["b"] if item["winner"] == item["a"] else item["a"]
            beats[item["winner"]].append(letter_of[loser])
    dataset = report["dataset"]
    lines = [
        f"# {report['task']}: {metric} {arrow}, profile `{report['profile']}`, data {dataset.get('name', '?')} "
        f"(`{str(dataset.get('fingerprint', '?'))[:12]}`)",
        "",
        f"| | system | {metric} {arrow} | 95% CI | seeds | unit |",
        "|---|---|---|---|---|---|",
    ]
    for system in report["systems"]:
        marks = "".join(SUPERSCRIPT[x] for x in sorted(beats.get(system["label"], [])))
        unit = f"{system['n_examples']} examples" if system["unit"] == "examples" else "seeds"
        low, high = system["ci95"]
        lines.append(
            f"| {system['letter']} | {system['label']} | {_num(system['mean'])}{marks} | [{_num(low)}, {_num(high)}] | "
            f"{','.join(str(s) for s in system['seeds'])} | {unit} |"
        )
    lines += [
        "",
        f"A superscript letter marks a system significantly better than that one ({report['test']} test, "
        f"Holm-corrected over {len(comparisons)} comparison(s), alpha = {report['alpha']}).",
        "",
        "| A | B | A − B | p | p (Holm) | unit | test |",
        "|---|---|---|---|---|---|---|",
    ]
    for c in comparisons:
        lines.append(
            f"| {c.a} | {c.b} | {c.difference:+.4g} | {_p_cell(c.p_value)} | {_p_cell(c.p_adjusted)} | "
            f"{c.n} {c.unit} | {c.test} |"
        )
    lines += ["", *[f"- {text}" for text in report["summary"]]]
    return "\n".join(lines) + "\n"


def main(args: argparse.Namespace) -> int:
    report = run_compare(
        args.results_dir, args.task, args.systems, profile=args.profile, fingerprint=args.fingerprint,
        metric=args.metric, test=args.test, alpha=args.alpha, n_resamples=args.resamples,
    )
    if args.json:
        report.pop("_objects")
        print(json.dumps(_json_safe(report), indent=1, allow_nan=False))
    else:
        print(render_markdown(report), end="")
    return 0
