"""Scale benchmark (not a test): the H&M pipeline on synthetic data at growing scale, stage by
stage, with wall time and peak memory, so that the growth is visible.

Stages, each scale in a fresh process (so peak memory is its own): generate the three CSV files
(``benchmarks/data/hm_synthetic.py``) → load (check, repair, encode, write the parquet cache) →
reload from the cache → local-holdout split → ``hm-popular``, ``hm-repurchase``, ``hm-als`` fit and
recommend for the scored customers → score (MAP@12). Peak memory is the process's maximum
resident set size after each stage (it never goes down).

    python benchmarks/perf/hm_scale.py --scales 0.01 0.1 1.0 --out results/perf/hm_scale.md
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

SYSTEMS = ("hm-popular", "hm-repurchase", "hm-als")


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_one(scale: float, workdir: Path) -> dict:
    """All stages at one scale in this process; returns ``{"stages": [...], "sizes": {...}}``."""
    from benchmarks.api import DatasetInfo, RunContext
    from benchmarks.config import build_config
    from benchmarks.data import hm as hm_data
    from benchmarks.data.hm_synthetic import write_csvs
    from benchmarks.registry import get_system
    from benchmarks.tasks.hm import HMMap12

    stages: list[dict] = []

    def stage(name: str, start: float, **extra) -> None:
        stages.append({"stage": name, "seconds": round(time.perf_counter() - start, 2), "peak_mb": round(_peak_mb()), **extra})
        print(json.dumps(stages[-1]), file=sys.stderr, flush=True)

    start = time.perf_counter()
    files = write_csvs(workdir / "csv", scale, seed=0)
    stage("generate CSV", start, csv_mb=round(sum(p.stat().st_size for p in files.values()) / 2**20))
    files = hm_data.find_files(workdir / "csv")
    start = time.perf_counter()
    data, digest = hm_data.load(files, workdir / "cache", log=lambda message: None)
    stage("load + convert to parquet", start)
    del data
    start = time.perf_counter()
    data, _ = hm_data.load(files, workdir / "cache", log=lambda message: None)
    stage("reload from parquet", start)
    sizes = {"transactions": len(data.transactions), "customers": data.n_customers, "articles": data.n_articles}
    task = HMMap12()
    context = RunContext(task_id="hm-map12", profile="default", cache_dir=workdir / "cache")
    start = time.perf_counter()
    task_data = task.split(data, DatasetInfo(name=f"scale {scale}", fingerprint=digest, synthetic=True))
    stage("split", start)
    sizes["scored customers"] = len(task_data.test["customers"])
    for system_id in SYSTEMS:
        cls = get_system(system_id)
        system = cls(build_config(cls.Config, {}, owner=system_id), context)
        start = time.perf_counter()
        task.fit(system, task_data, context)
        stage(f"{system_id} fit", start)
        start = time.perf_counter()
        predictions = task.predict(system, task_data, context)
        stage(f"{system_id} recommend", start)
        start = time.perf_counter()
        evaluation = task.evaluate(predictions, task_data, context)
        stage(f"{system_id} score", start, map12=round(evaluation.metrics["map12"], 4))
        del system, predictions
    return {"stages": stages, "sizes": sizes}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", type=float, nargs="+", default=[0.01, 0.1])
    parser.add_argument("--out", type=Path, default=None, help="write the markdown report here (default: stdout)")
    parser.add_argument("--workdir", type=Path, default=None, help="scratch folder (default: a temporary one)")
    parser.add_argument("--one", type=float, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one is not None:
        print(json.dumps(run_one(args.one, args.workdir)))
        return 0

    results = {}
    for scale in args.scales:
        workdir = Path(tempfile.mkdtemp(prefix=f"hm-scale-{scale:g}-", dir=args.workdir))
        started = time.perf_counter()
        try:
            done = subprocess.run([sys.executable, __file__, "--one", str(scale), "--workdir", str(workdir)],
                                  capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])})
            if done.returncode != 0:
                results[scale] = {"error": done.stderr[-2000:]}
            else:
                results[scale] = json.loads(done.stdout.strip().splitlines()[-1])
            results[scale]["total_s"] = round(time.perf_counter() - started, 1)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
        print(f"scale {scale:g}: {results[scale].get('total_s')} s", file=sys.stderr, flush=True)

    lines = [
        "# H&M pipeline at scale (synthetic data)",
        "",
        f"Generated by `python benchmarks/perf/hm_scale.py --scales {' '.join(f'{s:g}' for s in args.scales)}` on "
        f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC; machine: {platform.machine()}, {os.cpu_count()} CPU cores "
        f"(shared with other jobs, so wall times are noisy), Python {platform.python_version()}.",
        "Each scale runs in a fresh process; *peak MB* is that process's maximum resident memory so far.",
        "hm-als uses 1 thread (implicit `num_threads=1`).",
        "",
    ]
    for scale, result in results.items():
        lines.append(f"## scale {scale:g}")
        lines.append("")
        if "error" in result:
            lines += ["Failed:", "", "```", result["error"], "```", ""]
            continue
        sizes = ", ".join(f"{value:,} {name}" for name, value in result["sizes"].items())
        lines += [f"{sizes}; total {result['total_s']} s wall.", "", "| stage | seconds | peak MB | note |", "|---|---:|---:|---|"]
        for row in result["stages"]:
            note = ", ".join(f"{k} {v}" for k, v in row.items() if k not in ("stage", "seconds", "peak_mb"))
            lines.append(f"| {row['stage']} | {row['seconds']} | {row['peak_mb']:,} | {note} |")
        lines.append("")
    text = "\n".join(lines)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text)
    else:
        print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
