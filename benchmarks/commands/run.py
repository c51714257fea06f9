"""``run``: run systems on a task and record the results."""

from __future__ import annotations

import argparse
from pathlib import Path

from benchmarks.config import parse_assignments
from benchmarks.runner import RunRequest, default_data_dir, run

NAME = "run"
HELP = "run every available system registered for a task (or those named) and record results"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--task", required=True, action="append", help="task id, e.g. moons-acc (see: list); repeat for several")
    parser.add_argument("--system", action="append", default=[], help="system id; repeat for several (default: all available)")
    parser.add_argument("--seed", action="append", type=int, default=[], help="seed; repeat for several (default: the task's list)")
    parser.add_argument("--profile", default="default", choices=["smoke", "default", "full", "nanogpt-cpu"],
                        help="size of the run (default: default; nanogpt-cpu: nanoGPT's README CPU command, char-LM tasks only)")
    parser.add_argument("--device", default="auto", help="auto|cpu|cuda|mps (default: auto-detect)")
    parser.add_argument("--data-dir", type=Path, default=None, help="where real data lives (default: $MLSD_DATA_DIR)")
    parser.add_argument("--dataset", default=None, help="a local dataset path, for tasks that accept one (e.g. BEIR layout)")
    parser.add_argument("--results-dir", type=Path, default=Path("results"), help="where records and leaderboards go (default: results/)")
    parser.add_argument("--timeout", type=float, default=None, help="seconds per (system, seed) job before it is recorded as failed")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override a config field (system's, or the task's; SYSTEM.KEY or task.KEY to be explicit)")
    parser.add_argument("--no-isolation", action="store_true", help="run jobs in this process (debugging)")
    parser.add_argument("--start-method", default="auto", choices=["auto", "fork", "spawn"],
                        help="how worker processes start (auto: fork unless fork-unsafe libraries are loaded)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def main(args: argparse.Namespace) -> int:
    overrides = parse_assignments(args.set)
    if args.dataset is not None:
        overrides["task.dataset"] = args.dataset
    exit_code = 0
    for task in args.task:
        outcomes = run(RunRequest(
            task=task, systems=args.system, seeds=args.seed, profile=args.profile, device=args.device,
            data_dir=args.data_dir if args.data_dir is not None else default_data_dir(),
            results_dir=args.results_dir, timeout=args.timeout, overrides=overrides,
            isolate=not args.no_isolation, start_method=args.start_method, progress=not args.quiet,
        ))
        failed = [o for o in outcomes if o.status != "ok"]
        print(f"{task}: {len(outcomes) - len(failed)} ok, {len(failed)} failed; leaderboard: {args.results_dir / (task + '.md')}")
        if failed and len(failed) == len(outcomes):
            exit_code = 1
    return exit_code
