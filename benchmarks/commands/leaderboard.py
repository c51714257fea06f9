"""``leaderboard``: regenerate the markdown leaderboards from the records."""

from __future__ import annotations

import argparse
from pathlib import Path

from benchmarks.commands import _arguments as arg

NAME = "leaderboard"
HELP = "regenerate <results-dir>/<task>.md and the index from the JSON records"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--task", action="append", type=arg.task_id, default=None, help="only this task (repeatable; default: all)")
    parser.add_argument("--results-dir", type=arg.folder, default=Path("results"),
                        help="where the records are and the leaderboards go (default: results/; created if missing)")


def main(args: argparse.Namespace) -> int:
    from benchmarks import leaderboard
    from benchmarks.paths import results_root

    leaderboard.check_task_ids(args.results_dir, args.task)  # before anything is created
    for path in leaderboard.write(results_root(args.results_dir), args.task):
        print(path)
    return 0
