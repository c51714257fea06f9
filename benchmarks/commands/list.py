"""``list``: the registered tasks and systems by kind, and which systems are unavailable and why."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

NAME = "list"
HELP = "list tasks and systems by kind (with availability and install hints)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print machine-readable JSON")


def collect() -> dict[str, Any]:
    """Tasks, systems and broken modules as plain data (what ``--json`` prints)."""
    from benchmarks import metrics
    from benchmarks.registry import BROKEN, SYSTEMS, TASKS, discover, tasks_for

    discover()
    tasks = [{"id": task_id, "kind": str(cls.kind), "main_metric": cls.main_metric,
              "higher_is_better": metrics.higher_is_better(cls.main_metric), "profiles": list(cls.profiles),
              "data_source": cls.data_source} for task_id, cls in TASKS.items()]
    systems = []
    for system_id, cls in SYSTEMS.items():
        missing = cls.missing_requirements()
        systems.append({"id": system_id, "kind": str(cls.kind), "tasks": [task.id for task in tasks_for(cls)],
                        "narrowed_to": list(cls.tasks), "available": not missing, "missing": missing,
                        "install": cls.install_hint() if missing else None, "origin": SYSTEMS.origin(system_id)})
    broken = [{"module": b.origin, "error": b.error, "file": b.file, "line": b.line} for b in BROKEN]
    duplicates = [*TASKS.conflicts.values(), *SYSTEMS.conflicts.values()]
    return {"tasks": tasks, "systems": systems, "broken_modules": broken, "duplicate_ids": duplicates}


def main(args: argparse.Namespace) -> int:
    from benchmarks.registry import BROKEN

    found = collect()
    for message in found["duplicate_ids"]:  # refused: an error, whatever else is listed
        print(f"error: {message}", file=sys.stderr)
    exit_status = 1 if found["duplicate_ids"] else 0
    if args.json:
        print(json.dumps(found, indent=1))
        return exit_status
    for kind in sorted({t["kind"] for t in found["tasks"]} | {s["kind"] for s in found["systems"]}):
        print(f"Kind {kind}")
        print("  tasks:")
        for task in (t for t in found["tasks"] if t["kind"] == kind):
            arrow = "↑" if task["higher_is_better"] else "↓"
            print(f"    {task['id']:<30} {task['main_metric']} {arrow}  data: {task['data_source'] or '-'}")
        print("  systems:")
        for system in (s for s in found["systems"] if s["kind"] == kind):
            status = "available" if system["available"] else f"UNAVAILABLE: missing {', '.join(system['missing'])}; {system['install']}"
            narrowed = f"  only: {', '.join(system['narrowed_to'])}" if system["narrowed_to"] else ""
            print(f"    {system['id']:<24} [{status}]{narrowed}")
        print()
    if BROKEN:
        print("Modules that failed to import (their systems are not listed):")
        for broken in BROKEN:
            print(f"  {broken.describe()}")
    return exit_status
