"""The grid executors side by side: wall time, per-job overhead and speed-up of ``--executor local --jobs 1``,
``--executor local --jobs 2`` and ``--executor ray`` on the same grids, in one run; and a paper estimate of the
full-profile grid on a cluster, from the measured per-job costs.

    python -m perf.grid                       # moons smoke grid (5 systems × 10 seeds) and the README main job
    python -m perf.grid --grids moons-smoke   # only the small grid (the other grids' rows are kept)

Every run is the command a user types (``python -m benchmarks run ...``) in a fresh results folder, or (the rows
"after a first run") in one holding the serial run's records, where the jobs seen before start longest first. The
per-job overhead is what the executor adds to the jobs' own work: (wall × slots − Σ job work) / jobs, where a
job's work is its recorded fit + predict + eval seconds; it includes process starts, data handed to the
workers, records written and slots left idle at the end of the grid. Output: results/perf/grid.md and .json.
"""

from __future__ import annotations

import argparse
import heapq
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from tabulate import tabulate

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

GRIDS = {
    "moons-smoke": ["--task", "moons-acc", "--profile", "smoke", *[a for s in range(10) for a in ("--seed", str(s))]],
    "main-job": ["--task", "moons-acc", "--task", "hm-map12", "--task", "otto-recall20"],
}
WARM_UP = {
    "main-job": [["--task", "hm-map12", "--system", "hm-popular"], ["--task", "otto-recall20", "--system", "otto-popular"]],
}
"""An untimed run before a grid's timed ones, so that the synthetic twins are in the data cache for all of them
(otherwise the first executor alone pays for generating them)."""
EXECUTORS = {
    "local, --jobs 1": (["--executor", "local", "--jobs", "1"], 1),
    "local, --jobs 2": (["--executor", "local", "--jobs", "2"], 2),
    "ray (local instance)": (["--executor", "ray"], None),
    "local, --jobs 2, after a first run": (["--executor", "local", "--jobs", "2"], 2),
    "ray (local instance), after a first run": (["--executor", "ray"], None),
}
"""Executors whose name ends in "after a first run" run in a results folder that already holds the ``--jobs 1``
run's records, as a user's does the second time: the jobs seen before start longest first."""
AFTER_A_FIRST_RUN = ", after a first run"

# Full-profile scale factors against the default profile (data size), for the paper estimate.
FULL_SCALE = {"moons-acc": 1.0, "hm-map12": 1.0 / 0.03, "otto-recall20": 0.05 / 0.004}


def first_job(grid: list[str]) -> list[str]:
    """The grid's arguments cut to its first task, first system and first seed: a one-job run, whose wall time is the
    executor's fixed cost (Python, planning, data, Ray's start) plus one job."""
    from benchmarks.registry import systems_for

    task = grid[grid.index("--task") + 1]
    system = next(s.id for s in systems_for(task) if not s.missing_requirements())
    profile = grid[grid.index("--profile") + 1] if "--profile" in grid else "default"
    return ["--task", task, "--system", system, "--seed", "0", "--profile", profile]


def run_grid(name: str, executor: str, results: Path, one_job: bool = False) -> dict:
    flags, slots = EXECUTORS[executor]
    arguments = first_job(GRIDS[name]) if one_job else GRIDS[name]
    command = [sys.executable, "-m", "benchmarks", "run", *arguments, *flags, "--results-dir", str(results), "--quiet"]
    earlier = set(results.rglob("*.json"))
    load_before = os.getloadavg()[0]
    start = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stderr[-3000:]}")
    from benchmarks.records import load_records

    found = [record for record in load_records(results) if record.path not in earlier]
    work = sum(sum(r.timings.get(k, 0.0) for k in ("fit_s", "predict_s", "eval_s")) for r in found)
    slots = slots or os.cpu_count() or 1
    return {
        "grid": name, "executor": executor, "measured_at": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "jobs": len(found), "ok": sum(r.ok for r in found), "wall_s": round(wall, 1),
        "work_s": round(work, 1), "slots": slots, "overhead_per_job_s": round((wall * slots - work) / max(len(found), 1), 2),
        "load_start": round(load_before, 2), "load_end": round(os.getloadavg()[0], 2),
        "per_job": [{"task": r.task, "system": r.system, "seed": r.seed, "work_s": round(sum(
            r.timings.get(k, 0.0) for k in ("fit_s", "predict_s", "eval_s")), 2),
            "cpus": (r.conditions.get("threads") or {}).get("torch_threads", 1)} for r in found],
    }


def makespan(costs: list[float], slots: int) -> float:
    """Longest-processing-time-first list scheduling of ``costs`` on ``slots`` equal workers."""
    finish = [0.0] * slots
    heapq.heapify(finish)
    for cost in sorted(costs, reverse=True):
        heapq.heappush(finish, heapq.heappop(finish) + cost)
    return max(finish) if finish else 0.0


def estimate_full(main_rows: list[dict], nodes: int = 4, cores: int = 8) -> list[str]:
    """A paper estimate of the full-profile main-job grid on ``nodes`` × ``cores`` from the measured default jobs."""
    serial = next((row for row in main_rows if row["executor"] == "local, --jobs 1"), None)
    if serial is None:
        return []
    costs = [job["work_s"] * FULL_SCALE.get(job["task"], 1.0) for job in serial["per_job"]]
    total = sum(costs)
    span = makespan(costs, nodes * cores)
    longest = max(costs)
    lines = [
        f"## Paper estimate: the main job's grid on the `full` profile, {nodes} nodes × {cores} cores", "",
        "Each measured default-profile job's work (the serial run above) is scaled by its task's data-size ratio full/"
        "default (hm-map12 ×33, otto-recall20 ×12.5, moons ×1; linear in the data, which the scale benchmarks in "
        "results/perf/ show is roughly right for the co-visitation and ranker fits), then placed longest-first on "
        f"{nodes * cores} one-core slots. It ignores data preparation per node (once per node, in parallel) and "
        "assumes the nodes have the memory (the full OTTO co-visitation peaks at ≈14 GB: one such job per 16 GB node).",
        "",
        tabulate([["serial work (one core)", f"{total:,.0f}"], ["longest single job", f"{longest:,.0f}"],
                  [f"makespan on {nodes * cores} slots", f"{span:,.0f}"],
                  *([["speed-up over one core", f"{total / span:.1f}×"]] if span else [])],
                 ["", "seconds"], tablefmt="pipe", disable_numparse=True, colalign=("left", "right")),
        "",
        "The longest job bounds the makespan: past a handful of slots, more nodes do not help this grid; more seeds "
        "or tasks in the same grid would fill them.",
        "",
    ]
    return lines


def render(rows: list[dict], command: str) -> str:
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "# Grid executors side by side", "",
        f"Generated by `{command}` on {stamp}; machine: {platform.machine()}, {os.cpu_count()} CPU cores, Python "
        f"{platform.python_version()}. The machine is shared: the load average at the start and end of each run is given.",
        "Per-job overhead = (wall × slots − Σ job work) / jobs; job work = recorded fit + predict + eval seconds. It "
        "includes each run's fixed cost (Python start, planning, the data, and for Ray starting a local instance), "
        "which a one-job run of the grid's first task and system measures; the overhead beyond it is "
        "((wall − one-job wall) × slots − (Σ work − its work)) / (jobs − 1): what scheduling one more job costs.", "",
    ]
    for grid in dict.fromkeys(row["grid"] for row in rows):
        mine = [row for row in rows if row["grid"] == grid]
        base = next(row["wall_s"] for row in mine if row["executor"] == "local, --jobs 1")
        when = sorted({row.get("measured_at", "") for row in mine} - {""})
        lines += [f"## {grid}: `{' '.join(GRIDS[grid])}`", "",
                  *([f"Measured {when[0]} – {when[-1]}.", ""] if when else []),
                  tabulate([[row["executor"], f"{row['jobs']} ({row['ok']})", row["wall_s"], row["work_s"], row["slots"],
                             row["overhead_per_job_s"], row.get("fixed_s", "–"), row.get("overhead_beyond_fixed_s", "–"),
                             f"{base / row['wall_s']:.2f}×", f"{row['load_start']} → {row['load_end']}"] for row in mine],
                           ["executor", "jobs (ok)", "wall s", "Σ job work s", "slots", "overhead per job s",
                            "one-job run s (fixed cost)", "overhead per job beyond it s", "speed-up vs --jobs 1", "load start → end"],
                           tablefmt="pipe", disable_numparse=True, colalign=("left", *["right"] * 8, "left")), ""]
    lines += estimate_full([row for row in rows if row["grid"] == "main-job"])
    return "\n".join(lines).rstrip() + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--grids", nargs="+", default=list(GRIDS), choices=list(GRIDS))
    parser.add_argument("--executors", nargs="+", default=list(EXECUTORS), choices=list(EXECUTORS))
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "perf" / "grid.md")
    args = parser.parse_args()
    rows = []
    kept = args.out.with_suffix(".json")
    if kept.exists():  # the other grids' rows stay as they were measured (each grid's rows come from one run)
        rows = [row for row in json.loads(kept.read_text()) if row["grid"] not in args.grids]
    for grid in args.grids:
        for warm_up in WARM_UP.get(grid, []):
            with tempfile.TemporaryDirectory(prefix="mlsd-grid-warm-up-") as temp:
                subprocess.run([sys.executable, "-m", "benchmarks", "run", *warm_up, "--results-dir", temp, "--quiet"],
                               cwd=ROOT, check=True, capture_output=True)
        first_run = Path(tempfile.mkdtemp(prefix="mlsd-grid-first-run-"))
        for executor in args.executors:
            with tempfile.TemporaryDirectory(prefix="mlsd-grid-") as temp:
                single = run_grid(grid, executor, Path(temp) / "one", one_job=True)
                if executor.endswith(AFTER_A_FIRST_RUN):
                    if not (first_run / "records").exists():
                        raise SystemExit(f"{executor!r} needs the 'local, --jobs 1' row first")
                    shutil.copytree(first_run / "records", Path(temp) / "results" / "records")
                row = run_grid(grid, executor, Path(temp) / "results")
                if executor == "local, --jobs 1":
                    shutil.copytree(Path(temp) / "results" / "records", first_run / "records", dirs_exist_ok=True)
            # beyond the fixed cost (measured by a one-job run): what each further job adds to the slots' time
            row["fixed_s"] = single["wall_s"]
            row["overhead_beyond_fixed_s"] = round(((row["wall_s"] - single["wall_s"]) * row["slots"]
                                                    - (row["work_s"] - single["work_s"])) / max(row["jobs"] - 1, 1), 2)
            print(json.dumps({k: v for k, v in row.items() if k != "per_job"}), file=sys.stderr, flush=True)
            rows.append(row)
        shutil.rmtree(first_run, ignore_errors=True)
    command = "python -m perf.grid " + " ".join(sys.argv[1:])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(render(rows, command.strip()))
    args.out.with_suffix(".json").write_text(json.dumps(rows, indent=1) + "\n")
    print(args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
