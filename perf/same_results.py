"""Same-results check (not a test): two results folders of the same grid hold the same results.

A refactor of the harness must not move a single digit. Run the same command before and after it into
two folders, then compare every record pair keyed by (task, system, seed, profile): all that a result *is*
(status, metrics, per-example values, dataset fingerprint, configuration, task options, extras, the bytes
of its artifacts) must be equal; what describes the run only (timings, memory, hardware, versions, git
sha, run id, dates, wall-clock figures inside extras, the serving section and LoadGen's logs) is left out.

    python -m benchmarks run --task moons-acc --task hm-map12 --task otto-recall20 --results-dir /tmp/before
    # ... change the code ...
    python -m benchmarks run --task moons-acc --task hm-map12 --task otto-recall20 --results-dir /tmp/after
    python -m perf.same_results /tmp/before /tmp/after --out results/perf/same_results.md

Exit status 1 when any pair differs or a record is on one side only.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

from tabulate import tabulate

from perf.footer import emit

COMPARED = ("status", "task_version", "main_metric", "higher_is_better", "dataset", "config", "config_overrides",
            "task_options", "metrics", "per_example", "error", "extras")
"""The fields that are the result; every other field describes the run (when, where, how fast)."""


def load(results: Path, tasks: list[str] | None = None) -> dict[tuple[str, str, int, str], dict]:
    """``{(task, system, seed, profile): record}`` for the records under ``results/records`` (of ``tasks``, when
    given); the newest wins (record names start with their run's UTC time)."""
    found: dict[tuple[str, str, int, str], dict] = {}
    for path in sorted((results / "records").rglob("*.json"), key=lambda path: path.name):
        record = json.loads(path.read_text())
        if tasks and record["task"] not in tasks:
            continue
        record["extras"] = _without_timings(record.get("extras"))
        record["_artifacts"] = {Path(name).name.split("__", 1)[-1]: _digest(path.parent / Path(name).name)
                                for name in record.get("artifacts") or [] if ".loadgen." not in name}
        found[(record["task"], record["system"], record["seed"], record["profile"])] = record
    return found


def _without_timings(value: object) -> object:
    """``value`` without the wall-clock figures a system may keep in its extras (keys ending in ``seconds`` or ``_s``)."""
    if isinstance(value, dict):
        return {key: _without_timings(item) for key, item in value.items()
                if not (key.endswith("seconds") or key.endswith("_s"))}
    if isinstance(value, list):
        return [_without_timings(item) for item in value]
    return value


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16] if path.is_file() else "missing"


def differences(before: dict, after: dict) -> list[str]:
    """The names of the compared fields (and artifacts) whose values differ."""
    fields = [name for name in COMPARED if before.get(name) != after.get(name)]
    if before["_artifacts"] != after["_artifacts"]:
        fields.append("artifacts")
    return fields


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    parser.add_argument("--task", action="append", help="compare only these tasks (repeatable)")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    before, after = load(args.before, args.task), load(args.after, args.task)
    rows, bad = [], 0
    for key in sorted(before.keys() | after.keys()):
        if key not in before or key not in after:
            verdict = "only in " + ("after" if key in after else "before")
        else:
            fields = differences(before[key], after[key])
            verdict = "differs: " + ", ".join(fields) if fields else "same"
        bad += verdict != "same"
        record = before.get(key) or after[key]
        value = record["metrics"].get(record["main_metric"])
        rows.append([*key[:3], record["main_metric"], value, verdict])
    lines = [f"# Same results: `{args.before}` and `{args.after}`", "",
             f"{len(rows) - bad} of {len(rows)} results identical in {', '.join(COMPARED)} and artifact bytes "
             "(timings, memory, hardware, versions and dates left out).", "",
             tabulate(rows, headers=["task", "system", "seed", "main metric", "value", "verdict"], tablefmt="github"),
             ""]
    emit("\n".join(lines), args.out)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
