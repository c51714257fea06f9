"""``list``: the registered tasks and systems, and which systems are unavailable and why."""

from __future__ import annotations

import argparse
import json

from benchmarks.registry import BROKEN, SYSTEMS, TASKS, discover

NAME = "list"
HELP = "list tasks and systems (with availability and install hints)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print machine-readable JSON")


def collect() -> dict:
    discover()
    tasks = [
        {
            "id": task_id,
            "main_metric": cls.main_metric,
            "higher_is_better": cls.higher_is_better,
            "kind": cls.kind,
            "data_source": cls.data_source,
        }
        for task_id, cls in TASKS.items()
    ]
    systems = []
    for system_id, cls in SYSTEMS.items():
        missing = cls.missing_requirements()
        systems.append({
            "id": system_id,
            "tasks": list(cls.tasks),
            "available": not missing,
            "missing": missing,
            "install": cls.install_hint() if missing else None,
            "origin": SYSTEMS.origin(system_id),
        })
    broken = [{"module": b.origin, "error": b.error} for b in BROKEN]
    return {"tasks": tasks, "systems": systems, "broken_modules": broken}


def main(args: argparse.Namespace) -> int:
    found = collect()
    if args.json:
        print(json.dumps(found, indent=1))
        return 0
    print("Tasks:")
    for task in found["tasks"]:
        arrow = "higher is better" if task["higher_is_better"] else "lower is better"
        print(f"  {task['id']:<28} {task['main_metric']} ({arrow})  data: {task['data_source'] or '-'}")
    print("\nSystems:")
    for system in found["systems"]:
        status = "available" if system["available"] else f"UNAVAILABLE: missing {', '.join(system['missing'])}; {system['install']}"
        print(f"  {system['id']:<22} tasks: {', '.join(system['tasks'])}  [{status}]")
    if found["broken_modules"]:
        print("\nModules that failed to import (their systems are not listed):")
        for broken in found["broken_modules"]:
            print(f"  {broken['module']}: {broken['error']}")
    return 0
