"""Scale benchmark (not a test): how long leaderboards and `compare` take as per-example counts grow.

Writes fake records (5 systems × 3 seeds, per-example values with ids, like OTTO's per-session
scores) for several example counts, then times ``leaderboard.build_tables`` (CIs + ties, no plots)
and ``compare`` of two systems with the randomization and t tests.

    python -m perf.leaderboard_scale --sizes 1000 100000 1000000 > results/perf/leaderboard_scale.md
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from tabulate import tabulate

from benchmarks import environment, leaderboard, paths, records
from benchmarks.comparison import run_compare


def write_fake(results: Path, n: int, systems: int = 5, seeds: int = 3) -> None:
    rng = np.random.default_rng(0)
    ids = [f"s{i}" for i in range(n)]
    for s in range(systems):
        base = rng.random(n) < 0.5 + 0.02 * s  # (n,) per-example hits
        for seed in range(seeds):
            values = np.where(rng.random(n) < 0.05, ~base, base).astype(float)  # (n,)
            record = {
                "task": "scale", "system": f"system-{s}", "seed": seed, "profile": "default", "status": "ok",
                "config": {}, "metrics": {"accuracy": float(values.mean())}, "main_metric": "accuracy",
                "higher_is_better": True, "per_example": {"ids": ids, "values": {"accuracy": values.tolist()}},
                "dataset": {"name": "fake", "fingerprint": "0" * 64}, "finished_at": f"2026-01-01T00:00:0{seed}",
            }
            path = paths.record_dir(results, "scale") / record["system"] / f"r__seed{seed}.json"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(record))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 100_000, 1_000_000])
    args = parser.parse_args()
    hardware = environment.hardware()
    print("# Leaderboard and compare at scale\n")
    print(f"Command: `python -m perf.leaderboard_scale --sizes {' '.join(map(str, args.sizes))}`  ")
    print(f"Machine: {hardware['cpu']}, {hardware['cores']} cores, {hardware['ram_gb']} GB RAM, Python {platform.python_version()}; "
          "other jobs shared the cores.\n")
    print("5 systems × 3 seeds, one per-example value per example. Seconds, wall clock.\n")
    rows = []
    for n in args.sizes:
        with tempfile.TemporaryDirectory() as temp:
            results = Path(temp)
            write_fake(results, n)
            start = time.perf_counter()
            loaded = records.load_records(results, "scale")
            load_s = time.perf_counter() - start
            start = time.perf_counter()
            (table,) = leaderboard.build_tables(loaded, "scale")
            build_s = time.perf_counter() - start
            assert all(row.ci is not None for row in table.rows)
            timings = []
            for test in ("randomization", "t"):
                start = time.perf_counter()
                run_compare(results, "scale", ["system-4", "system-3"], test=test)
                timings.append(time.perf_counter() - start)
            rows.append([f"{n:,}", f"{load_s:.2f}", f"{build_s:.2f}", f"{timings[0]:.2f}", f"{timings[1]:.2f}"])
            print(f"{n:,} examples measured", file=sys.stderr, flush=True)
    print(tabulate(rows, ["examples", "load records", "build tables (CIs, ties)", "compare: randomization", "compare: t"],
                   tablefmt="pipe", disable_numparse=True))


if __name__ == "__main__":
    main()
