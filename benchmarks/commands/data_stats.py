"""``data-stats``: how close a task's data are to the full real dataset, figure by figure (FULL-STATS.md).

    python -m benchmarks data-stats --task otto-recall20                 # the default profile's twin
    python -m benchmarks data-stats --task hm-map12 --set scale=0.01 --set seed=1
    python -m benchmarks data-stats --task otto-recall20 --dataset train.jsonl --json

Each figure is printed next to its published full-data value with the relative difference;
gated figures (shares, ratios, means: independent of size) should be within ±20%. The figures
come from ``benchmarks/data/full_stats.py``, the same code the twins' tests use.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import dataclass
from pathlib import Path

from benchmarks.commands import _arguments as arg
from benchmarks.errors import UserError

NAME = "data-stats"
HELP = "compare a task's data (its synthetic twin, or real files) with the published full-data figures"
DESCRIPTION = __doc__

TASKS = ("otto-recall20", "hm-map12")


@dataclass
class TwinSettings:
    """``--set`` values of data-stats: the synthetic twin's scale (None: the task's ``default`` profile's) and seed."""

    scale: float | None = None
    seed: int = 0


def protocol_notes(task: str) -> list[str]:
    """Where the task's data handling differs from the official code: printed under the figures (and in --json)."""
    if task != "otto-recall20":
        return []
    from benchmarks.tasks.otto import Options

    days = Options().test_days
    return [
        "timestamps: kept in whole seconds; otto-de's millisecond ts are floored (ts // 1000), Kaggle's are seconds already; "
        "events of one session in the same second keep the file's order, and an event in the split's second may fall on "
        "the other side of the split than in otto-de's millisecond script",
        f"test window: the last {days} days (otto-recall20's test_days, --set task.test_days=N); otto-de's testset.py "
        "defaults to --days 2 (their unit test uses 7)",
        "test-session cuts: those of otto-de's testset.py run with python -O (one random.randint(1, n-1) per test session "
        "from the global random seeded with split_seed=42); a plain python run differs, beartype drawing from the same random",
    ]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--task", required=True, type=arg.task_id, metavar="|".join(TASKS), help="whose data")
    parser.add_argument("--dataset", type=Path, default=None,
                        help="real files: OTTO's train.jsonl (or .parquet), or a folder with H&M's three files")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="twin settings: scale=S (default: the task's `default` profile) and seed=N (default 0)")
    parser.add_argument("--cache-dir", type=Path, default=None, help="where converted real files go (default: the run cache)")
    parser.add_argument("--json", action="store_true", help="print the table as JSON")


def _settings(assignments: list[str]) -> TwinSettings:
    from benchmarks.config import build_config, parse_assignments

    settings = build_config(TwinSettings, parse_assignments(assignments), owner="data-stats --set")
    if settings.scale is not None and not 0 < settings.scale <= 1:
        raise UserError(f"--set scale={settings.scale}: expected a fraction in (0, 1]")
    return settings


def _otto(args: argparse.Namespace, settings: TwinSettings, cache_dir: Path) -> tuple[str, dict[str, float]]:
    from benchmarks.data import otto, otto_synthetic
    from benchmarks.data.full_stats import otto_figures
    from benchmarks.tasks.otto import PROFILE_SCALES

    if args.dataset is not None:
        events, _, _ = otto.load_events(args.dataset, cache_dir)
        return str(args.dataset), otto_figures(events)
    spec = otto_synthetic.SyntheticSpec(scale=settings.scale or PROFILE_SCALES["default"], seed=settings.seed)
    name = f"otto-synthetic-v{otto_synthetic.VERSION}(scale={spec.scale:g}, seed={spec.seed})"
    return name, otto_figures(otto_synthetic.generate(spec))


def _hm(args: argparse.Namespace, settings: TwinSettings, cache_dir: Path) -> tuple[str, dict[str, float]]:
    import numpy as np

    from benchmarks.data import hm, hm_synthetic
    from benchmarks.data.full_stats import hm_figures
    from benchmarks.tasks.hm import SYNTHETIC_SCALE

    if args.dataset is not None:
        files = hm.find_files(args.dataset)
        if files is None:
            raise UserError(f"{args.dataset}: expected a folder with articles, customers and transactions_train files")
        data, _ = hm.load(files, cache_dir, log=lambda message: None)
        tx = data.transactions
        figures = hm_figures(tx["day"].to_numpy(), tx["customer"].to_numpy(), tx["article"].to_numpy(),
                             tx["price"].to_numpy(), tx["channel"].to_numpy(),
                             data.articles["product_group_name"].to_numpy(), data.listed_customers, data.n_articles)
        return str(args.dataset), figures
    spec = hm_synthetic.SyntheticSpec(settings.scale or SYNTHETIC_SCALE["default"], settings.seed)
    articles, customers, compact = hm_synthetic.generate_compact(spec.scale, spec.seed)
    groups = np.unique(articles["product_group_name"].to_numpy(), return_inverse=True)[1]
    figures = hm_figures(compact["day"], compact["customer"], compact["article"], compact["price"],
                         compact["sales_channel_id"], groups, len(customers), len(articles))
    return spec.name, figures


def main(args: argparse.Namespace) -> int:
    from benchmarks.config import default_cache_dir
    from benchmarks.data.full_stats import FIGURES, failing, format_table, rows

    arg.known_task(args.task)  # an unknown task: "did you mean"
    arg.choose(args.task, TASKS, "task", what="task for data-stats (it covers the synthetic twins' tasks):")
    settings = _settings(args.set)
    if args.dataset is not None and args.set:
        raise UserError("--set configures the synthetic twin; it cannot be combined with --dataset")
    cache_dir = args.cache_dir if args.cache_dir is not None else default_cache_dir()
    start = time.perf_counter()
    name, measured = (_otto if args.task == "otto-recall20" else _hm)(args, settings, cache_dir)
    table = rows(FIGURES[args.task], measured)
    out = failing(table)
    if args.json:
        print(json.dumps({"task": args.task, "data": name, "seconds": round(time.perf_counter() - start, 2),
                          "figures": [row.as_dict() for row in table], "gated_outside": [row.figure.key for row in out],
                          "protocol_notes": protocol_notes(args.task)}, indent=1))
        return 0
    print(f"{args.task}: {name} against the full data's published figures (FULL-STATS.md)\n")
    print("\n".join(format_table(table)))
    gated = sum(row.figure.gated for row in table)
    print(f"\n{gated - len(out)} of {gated} gated figures within ±20%"
          + (f"; outside: {', '.join(row.figure.key for row in out)}" if out else "")
          + f" ({time.perf_counter() - start:.1f} s)")
    if notes := protocol_notes(args.task):
        print("\nDifferences from otto-de's code (datasets/otto.md):")
        print("\n".join(f"- {note}" for note in notes))
    return 0
