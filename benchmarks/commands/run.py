"""``run``: run a grid of jobs (tasks × systems × seeds) and record the results."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from benchmarks.api import PROFILES
from benchmarks.commands import _arguments as arg

NAME = "run"
HELP = "run every available system of each task's kind (or those named) over the seeds, and record the results"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--task", required=True, action="append", help="task id, e.g. moons-acc (see: list); repeat for several")
    parser.add_argument("--system", action="append", default=[], help="system id; repeat for several (default: all available)")
    parser.add_argument("--seed", action="append", type=arg.seed, default=[],
                        help="seed from 0 to 2**32-1; repeat for several (default: the task's list)")
    parser.add_argument("--profile", default="default", metavar="|".join(PROFILES),
                        help="size of the run (default: default; nanogpt-cpu: nanoGPT's README CPU command, char-LM tasks only)")
    parser.add_argument("--device", default="auto", help="auto|cpu|cuda|mps (default: auto-detect)")
    parser.add_argument("--data-dir", type=arg.folder, default=None, help="where real data lives (default: $MLSD_DATA_DIR)")
    parser.add_argument("--dataset", default=None, help="a local dataset path, for tasks that accept one (e.g. BEIR layout)")
    parser.add_argument("--results-dir", type=arg.folder, default=Path("results"),
                        help="where records and leaderboards go (default: results/; created if missing)")
    parser.add_argument("--timeout", type=arg.seconds, default=None, help="seconds per job before it is recorded as failed")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override a config field (system's, or the task's; SYSTEM.KEY or task.KEY to be explicit)")
    grid = parser.add_argument_group("grid")
    grid.add_argument("--executor", default="local", choices=("local", "ray"),
                      help="local: worker processes on this machine; ray: Ray tasks (a local instance, or --address)")
    grid.add_argument("--jobs", type=arg.count(1), default=1, help="local executor: jobs at once (default 1)")
    grid.add_argument("--address", default=None,
                      help="ray executor: join a running cluster (auto, HOST:PORT or ray://...; default: start a local one)")
    grid.add_argument("--retries", type=arg.count(0), default=1, help="ray executor: retries of a job whose worker or node died (default 1)")
    grid.add_argument("--resume", action="store_true", help="skip jobs that already have an ok record with the same key")
    grid.add_argument("--rerun-failed", action="store_true", help="run only the jobs whose latest record failed")
    parser.add_argument("--no-isolation", action="store_true", help="run jobs in this process, one at a time (debugging)")
    parser.add_argument("--start-method", default=None, choices=["auto", "fork", "forkserver", "spawn"],
                        help="how worker processes start (auto: fork unless fork-unsafe libraries are loaded, then forkserver)")
    parser.add_argument("--serve", default="", metavar="SCENARIOS",
                        help="after scoring, serve the test queries under MLPerf LoadGen: single-stream,offline,server")
    parser.add_argument("--quiet", action="store_true", help="no live progress; one line per finished job")


def main(args: argparse.Namespace) -> int:
    from benchmarks.config import RunRequest, parse_assignments
    from benchmarks.paths import task_file
    from benchmarks.runner import run

    overrides = parse_assignments(args.set)
    if args.dataset is not None:
        overrides["task.dataset"] = args.dataset
    request = RunRequest(
        tasks=args.task, systems=args.system, seeds=args.seed, profile=args.profile, device=args.device,
        data_dir=args.data_dir, results_dir=args.results_dir, timeout=args.timeout, overrides=overrides,
        isolate=not args.no_isolation, executor=args.executor, jobs=args.jobs, address=args.address,
        retries=args.retries, resume=args.resume, rerun_failed=args.rerun_failed, progress=not args.quiet,
        serve=tuple(name.strip() for name in args.serve.split(",") if name.strip()),
    )
    if args.start_method is not None:
        request.start_method = args.start_method
    outcomes = run(request)
    failed = [o for o in outcomes if o.status != "ok"]
    for task in dict.fromkeys(args.task):
        mine = [o for o in outcomes if o.task == task]
        bad = [o for o in mine if o.status != "ok"]
        print(f"{task}: {len(mine) - len(bad)} ok, {len(bad)} failed; leaderboard: {task_file(args.results_dir, task, '.md')}")
    unrecorded = [o for o in outcomes if not o.recorded]
    if unrecorded:
        print(f"error: {len(unrecorded)} job(s) could not be recorded as they finished (see FAILED above); "
              "run again with --resume to finish the grid", file=sys.stderr)
    return 1 if (outcomes and len(failed) == len(outcomes)) or unrecorded else 0
