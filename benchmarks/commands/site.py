"""``site``: write the static, browsable leaderboard (``results/site/index.html``) from the records."""

from __future__ import annotations

import argparse
from pathlib import Path

from benchmarks.commands import _arguments as arg

NAME = "site"
HELP = "write a static HTML leaderboard (sortable tables, plots, per-result details) from the records"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--results-dir", type=arg.folder, default=Path("results"), help="where the records are (default: results/)")
    parser.add_argument("--out", type=arg.folder, default=None,
                        help="where the site goes (default: <results-dir>/site; created if missing)")
    parser.add_argument("--task", action="append", type=arg.task_id, default=None, help="only this task (repeatable; default: all)")


def main(args: argparse.Namespace) -> int:
    from benchmarks import site

    index = site.write(args.results_dir, args.out, args.task)  # checks the task ids before it creates anything
    print(f"{index}  (open it in a browser; no server needed)")
    return 0
