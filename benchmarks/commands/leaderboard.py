"""``leaderboard``: regenerate the markdown leaderboards from the records."""

from __future__ import annotations

import argparse
from pathlib import Path

NAME = "leaderboard"
HELP = "regenerate <results-dir>/<task>.md and the index from the JSON records"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--task", action="append", default=None, help="only this task (repeatable; default: all)")
    parser.add_argument("--results-dir", type=Path, default=Path("results"))


def main(args: argparse.Namespace) -> int:
    from benchmarks import leaderboard

    for path in leaderboard.write(args.results_dir, args.task):
        print(path)
    return 0
