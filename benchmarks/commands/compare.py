"""``compare``: are the differences between systems on a task real? Paired tests, Holm, CIs.

    python -m benchmarks compare --task moons-acc micrograd-mlp logreg
    python -m benchmarks compare --task moons-acc torch-mlp@0 torch-mlp@1 --json
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING

from benchmarks.commands import _arguments as arg
from benchmarks.errors import UserError

if TYPE_CHECKING:
    from benchmarks.comparison import CompareReport

NAME = "compare"
HELP = "compare systems on a task: paired significance tests (Holm-corrected) and confidence intervals"
DESCRIPTION = __doc__

SUPERSCRIPT = dict(zip("abcdefghijklmnopqrstuvwxyz", "ᵃᵇᶜᵈᵉᶠᵍʰⁱʲᵏˡᵐⁿᵒᵖ𐞥ʳˢᵗᵘᵛʷˣʸᶻ", strict=True))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--task", required=True, help="task id")
    parser.add_argument("systems", nargs="*", metavar="SYSTEM[@SEEDS]", help="two or more systems (SYSTEM@1 or SYSTEM@0,1 picks seeds)")
    parser.add_argument("--results-dir", type=arg.folder, default=Path("results"), help="where the records are (default: results/)")
    parser.add_argument("--profile", default=None, help="which profile's results (default: `default` if present)")
    parser.add_argument("--fingerprint", default=None, help="data fingerprint prefix, when a profile has several datasets")
    parser.add_argument("--metric", default=None, help="metric to compare (default: the task's main metric)")
    parser.add_argument("--test", choices=("randomization", "t"), default="randomization", help="paired test (default: randomization)")
    parser.add_argument("--alpha", type=float, default=0.05, help="significance level after Holm correction (default 0.05)")
    parser.add_argument("--resamples", type=arg.count(1), default=10_000, help="randomization resamples (default 10000)")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument("--rank-by", default=None, metavar="COLUMN",
                        help="rank on a serving column instead (run --serve): p50_ms, p99_ms, offline_qps, server_qps, "
                             "size_mb, cold_start_ms, uss_mb; the named systems only, or all served ones")


def render_markdown(report: CompareReport) -> str:
    """ranx-style table: each score carries the letters of the systems it beats significantly."""
    from benchmarks import metrics as metric_facts
    from benchmarks.comparison import format_p
    from benchmarks.leaderboard import md_code, md_table, md_text

    data = report.to_dict()
    metric = data["metric"]
    arrow = "↑" if data["higher_is_better"] else "↓"
    letter_of = {s["label"]: s["letter"] for s in data["systems"]}
    beats: dict[str, list[str]] = defaultdict(list)
    for item in data["comparisons"]:
        if item["winner"]:
            loser = item["b"] if item["winner"] == item["a"] else item["a"]
            beats[item["winner"]].append(letter_of[loser])
    dataset = report.selection.dataset
    show = lambda value: metric_facts.format_value(metric, value)  # noqa: E731
    p_cell = lambda p: format_p(p).removeprefix("p = ").removeprefix("p ")  # noqa: E731
    systems = []
    for system in data["systems"]:
        marks = "".join(SUPERSCRIPT[x] for x in sorted(beats.get(system["label"], [])))
        low, high = system["ci95"]
        systems.append([system["letter"], md_text(system["label"]), f"{show(system['mean'])}{marks}", f"[{show(low)}, {show(high)}]",
                        ",".join(str(s) for s in system["seeds"]),
                        f"{system['n_examples']} examples" if system["unit"] == "examples" else "seeds"])
    pairs = [[md_text(c.a), md_text(c.b), f"{c.difference:+.4g}", p_cell(c.p_value), p_cell(c.p_adjusted),
              f"{c.n} {c.unit}", c.test] for c in report.comparisons]
    blocks = [  # separated by blank lines
        f"# {data['task']}: {md_text(metric)} {arrow}, profile {md_code(data['profile'])}, data {md_text(dataset.name)} "
        f"({md_code(dataset.fingerprint[:12])})",
        md_table(["", "system", f"{md_text(metric)} {arrow}", "95% CI", "seeds", "unit"], systems, "pipe"),
        f"A superscript letter marks a system significantly better than that one ({report.test} test, "
        f"Holm-corrected over {len(report.comparisons)} comparison(s), alpha = {report.alpha}).",
        md_table(["A", "B", "A − B", "p", "p (Holm)", "unit", "test"], pairs, "pipe"),
        "\n".join(f"- {text}" for text in data["summary"]),
    ]
    return "\n\n".join(blocks) + "\n"


def render_serving_rank(args: argparse.Namespace) -> str:
    """``compare --rank-by COLUMN``: the task's latest served record per system, best first on that column."""
    from benchmarks import serving
    from benchmarks.leaderboard import md_table, md_text
    from benchmarks.records import load_records

    wanted = {name.split("@")[0] for name in args.systems}
    records = [r for r in load_records(args.results_dir) if r.task == args.task and r.ok
               and (args.profile is None or r.profile == args.profile) and (not wanted or r.system in wanted)]
    ranked = serving.rank(records, args.rank_by)
    if not ranked:
        raise UserError(f"{args.results_dir}: no record of {args.task} measured serving; run it with --serve")

    def show(value: float | None) -> str:
        return "—" if value is None else f"{value:,.1f}" if abs(value) >= 100 else f"{value:.4g}"

    rows = []
    for index, (record, value, spread, verdict) in enumerate(ranked, start=1):
        span = "—" if spread.min is None else f"{show(spread.min)}–{show(spread.max)}"
        status = verdict if record.serving.served else record.serving.status
        main = "—" if record.main_value is None else f"{record.main_value:.4f}"
        rows.append([index, md_text(record.system), show(value), span, md_text(status), md_text(record.profile), main])
    header = ["#", "system", f"{args.rank_by} (median)", "min–max over repeats", "LoadGen", "profile", "main metric"]
    return (f"# {md_text(args.task)}: ranked on {md_text(args.rank_by)}\n\n"
            + md_table(header, rows, "pipe") + "\n")


def main(args: argparse.Namespace) -> int:
    from benchmarks.comparison import run_compare
    from benchmarks.leaderboard import check_task_ids
    from benchmarks.records import json_safe

    if not 0 < args.alpha < 1:
        raise UserError(f"--alpha {args.alpha}: expected a significance level between 0 and 1")
    check_task_ids(args.results_dir, [args.task])  # a task of the registry or with records
    if args.rank_by:
        print(render_serving_rank(args), end="")
        return 0
    report = run_compare(
        args.results_dir, args.task, args.systems, profile=args.profile, fingerprint=args.fingerprint,
        metric=args.metric, test=args.test, alpha=args.alpha, n_resamples=args.resamples,
    )
    if args.json:
        print(json.dumps(json_safe(report.to_dict()), indent=1, allow_nan=False))
    else:
        print(render_markdown(report), end="")
    return 0
