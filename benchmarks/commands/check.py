"""``check``: rerun the expected scores systems declare and grade them OK / OKish / FAIL.

    python -m benchmarks check --profile smoke          # what CI runs
    python -m benchmarks check --task moons-acc --json

Exits 1 when any condition FAILs. A condition that cannot run here (its data or an extra is
missing) is graded SKIP with the reason, and fails the check only under ``--strict``.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from benchmarks.commands import _arguments as arg
from benchmarks.errors import UserError
from benchmarks.expected import Expected, grade

if TYPE_CHECKING:
    from benchmarks.api import System

NAME = "check"
HELP = "rerun the systems' declared expected scores and grade them OK / OKish / FAIL"
DESCRIPTION = __doc__


@dataclass
class CheckResult:
    """The grade of one declared condition."""

    system: str
    expected: Expected
    grade: str
    observed: float | None
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        e = self.expected
        return {
            "system": self.system, "task": e.task, "profile": e.profile, "seed": e.seed, "metric": e.metric,
            "expected": e.value, "tolerance": e.tolerance, "observed": self.observed, "grade": self.grade,
            "reason": self.reason, "overrides": e.overrides,
        }

    def line(self) -> str:
        observed = "none" if self.observed is None else f"{self.observed:.6f}"
        reason = f"  ({self.reason})" if self.reason else ""
        return (f"[{self.grade}]".ljust(8) + f"{self.system:<16} {self.expected.describe()}: expected "
                f"{self.expected.value:.6f} ± {self.expected.tolerance:g}, got {observed}{reason}")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--task", action="append", type=arg.known_task, help="only this task (repeatable)")
    parser.add_argument("--profile", action="append", type=arg.profile,
                        help="only this profile (repeatable), e.g. smoke")
    parser.add_argument("--system", action="append", type=arg.known_system, help="only this system (repeatable)")
    parser.add_argument("--results-dir", type=arg.folder, default=None,
                        help="keep the rerun records here (default: a temp folder; created if missing)")
    parser.add_argument("--json", action="store_true", help="print the grades as JSON")
    parser.add_argument("--strict", action="store_true", help="a SKIP (missing data or extra) fails the check too")


def declared(tasks: list[str] | None = None, profiles: list[str] | None = None,
             systems: list[str] | None = None) -> list[tuple[type[System], Expected]]:
    """Every (system, expectation) registered, filtered by task, profile and system."""
    from benchmarks.registry import SYSTEMS, discover

    discover()
    found = []
    for system_id, system_cls in SYSTEMS.items():
        if systems and system_id not in systems:
            continue
        for expected in getattr(system_cls, "expected", ()) or ():
            if not isinstance(expected, Expected):
                raise UserError(f"system {system_id!r}: `expected` must hold benchmarks.expected.Expected, got {expected!r}")
            if (not tasks or expected.task in tasks) and (not profiles or expected.profile in profiles):
                found.append((system_cls, expected))
    return found


def check(conditions: list[tuple[type[System], Expected]], results_dir: Path, progress: bool = False) -> list[CheckResult]:
    """Rerun each (system class, expectation) through the runner, records into ``results_dir``, and grade it, in the
    order given."""
    from benchmarks.config import RunRequest
    from benchmarks.runner import run

    results: dict[int, CheckResult] = {}
    batches: dict[tuple[str, str, int, int], list[int]] = defaultdict(list)
    repeats: Counter[tuple[str, str, int, str]] = Counter()
    for index, (system_cls, expected) in enumerate(conditions):  # one batch per data: prepared once
        if missing := system_cls.missing_requirements():
            results[index] = CheckResult(system_cls.id, expected, "SKIP", None,
                                         f"unavailable: missing {', '.join(missing)}; {system_cls.install_hint()}")
            continue
        data = (expected.task, expected.profile, expected.seed)
        repeats[(*data, system_cls.id)] += 1  # a system's second condition there (other overrides): a second batch
        batches[(*data, repeats[(*data, system_cls.id)])].append(index)
    for (task, profile, seed, _), runnable in batches.items():
        overrides = {f"{conditions[i][0].id}.{k}": v for i in runnable for k, v in conditions[i][1].overrides.items()}
        request = RunRequest(task=task, systems=[conditions[i][0].id for i in runnable], seeds=[seed], profile=profile,
                             device="cpu", results_dir=results_dir, overrides=overrides, progress=progress,
                             update_leaderboard=False)
        try:
            outcomes = {o.system: o for o in run(request)}
        except UserError as error:  # the condition cannot run here (its data, most often): say why
            for index in runnable:
                results[index] = CheckResult(conditions[index][0].id, conditions[index][1], "SKIP", None, str(error))
            continue
        for index in runnable:
            system_cls, expected = conditions[index]
            results[index] = _grade_outcome(system_cls.id, expected, outcomes.get(system_cls.id))
    return [results[i] for i in range(len(conditions))]


def _grade_outcome(system_id: str, expected: Expected, outcome: Any) -> CheckResult:
    if outcome is None:
        return CheckResult(system_id, expected, "FAIL", None, "no result")
    if outcome.status != "ok":
        return CheckResult(system_id, expected, "FAIL", None, f"run failed: {outcome.error}")
    from benchmarks.metrics import canonical
    from benchmarks.records import Record

    record = Record.from_dict(json.loads(Path(outcome.record_path).read_text(encoding="utf-8")))
    fingerprint = record.fingerprint
    if expected.dataset_fingerprint and fingerprint != expected.dataset_fingerprint:
        return CheckResult(system_id, expected, "FAIL", None,
                           f"other data: fingerprint {fingerprint[:12]}, expected {expected.dataset_fingerprint[:12]}")
    observed = record.metrics.get(canonical(expected.metric))
    if observed is None:
        return CheckResult(system_id, expected, "FAIL", None, f"the run has no metric {expected.metric!r}")
    return CheckResult(system_id, expected, grade(expected, float(observed)), float(observed))


def main(args: argparse.Namespace) -> int:
    from benchmarks.paths import results_root

    conditions = declared(args.task, args.profile, args.system)
    if not conditions:  # a check that checks nothing must not pass silently
        raise UserError("no expected scores are declared for that selection (--task, --profile, --system); "
                        "see the systems' `expected` declarations")
    if args.results_dir is not None:
        results = check(conditions, results_root(args.results_dir), progress=not args.json)
    else:
        with tempfile.TemporaryDirectory(prefix="mlsd-check-") as temp:
            results = check(conditions, Path(temp), progress=not args.json)
    if args.json:
        print(json.dumps([r.to_dict() for r in results], indent=1))
    else:
        for result in results:
            print(result.line())
        counts = Counter(r.grade for r in results)
        print(f"{counts['OK']} OK, {counts['OKish']} OKish, {counts['FAIL']} FAIL" +
              (f", {counts['SKIP']} SKIP" if counts["SKIP"] else ""))
    failing = ("FAIL", "SKIP") if args.strict else ("FAIL",)
    return 1 if any(r.grade in failing for r in results) else 0
