"""The H&M and OTTO references of the harness benchmarks (plain Python, no project code), and the OTTO ingestion
benchmark (a benchmark, not a test).

* ``reference_hm`` and ``reference_otto`` score a Kaggle submission the plain way (``csv`` and Ben Hamner's
  ``apk``; otto-de's ``src/evaluate.py``): ``perf/harness.py`` times ``score`` against them on the
  Kaggle-size files ``write_files`` generates (``perf/recsys_files.py``) → results/perf/harness.md;
* OTTO ingestion (``convert_jsonl``): on a prefix of a full-size synthetic ``train.jsonl`` against the plain
  per-event Python converter, and once on the whole file (12.9M sessions, 217M events) when ``--full`` is given;
  each a fresh process timed from outside (peak RSS from GNU time), alternating, ≥ 3 repeats, min and median,
  the load average before and after, the parquet tables compared column by column.

    flock /tmp/mlsd-heavy.lock python -m perf.harness_recsys --jsonl /tmp/train.jsonl --full
                                                                       # → results/perf/otto_ingest.md
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve()


# ---------------------------------------------------------------- plain-Python references (no project code)
def reference_hm(submission: str, truth: str) -> dict:
    """Plain Python: ``csv`` into dicts, then Ben Hamner's apk over the customers with a non-empty truth."""
    import csv

    def read(path: str) -> dict[str, list[str]]:
        with open(path, newline="", encoding="utf-8") as handle:
            rows = csv.reader(handle)
            next(rows)
            return {row[0]: row[1].split() for row in rows if row}

    def apk(actual: list, predicted: list, k: int = 12) -> float:
        if len(predicted) > k:
            predicted = predicted[:k]
        score, hits = 0.0, 0.0
        for i, p in enumerate(predicted):
            if p in actual and p not in predicted[:i]:
                hits += 1.0
                score += hits / (i + 1.0)
        return score / min(len(actual), k) if actual else 0.0

    predicted, actual = read(submission), read(truth)
    scored = [c for c, items in actual.items() if items]
    values = [apk(actual[c], predicted.get(c, [])) for c in scored]
    return {"map@12": sum(values) / len(values) if values else 0.0}


def reference_otto(submission: str, labels: str) -> dict:
    """Plain Python after otto-de's ``src/evaluate.py``: json per label line, ``split`` per submission row, sets.
    One deliberate difference, as in the project: a next click on aid 0 counts (evaluate.py tests ``if clicks``)."""
    truth = {}
    with open(labels, encoding="utf-8") as handle:
        for line in handle:
            label = json.loads(line)
            truth[label["session"]] = {"clicks": label["labels"].get("clicks"), "carts": set(label["labels"].get("carts", [])),
                                       "orders": set(label["labels"].get("orders", []))}
    predictions: dict[int, dict[str, list[int]]] = {}
    with open(submission, encoding="utf-8") as handle:
        next(handle)
        for line in handle:
            key, values = line.strip().split(",")
            session, kind = key.split("_")
            predictions.setdefault(int(session), {})[kind] = [int(a) for a in values.split(" ")] if values else []
    kinds = ("clicks", "carts", "orders")

    def evaluate_session(wanted: dict, predicted: dict) -> dict:  # hits of one session, None where no label
        if wanted["clicks"] is not None:
            clicks = float(wanted["clicks"] in predicted.get("clicks", [])[:20])
        else:
            clicks = None
        carts = len(set(predicted.get("carts", [])[:20]).intersection(wanted["carts"])) if wanted["carts"] else None
        orders = len(set(predicted.get("orders", [])[:20]).intersection(wanted["orders"])) if wanted["orders"] else None
        return {"clicks": clicks, "carts": carts, "orders": orders}

    evaluated = [evaluate_session(wanted, predictions.get(session, {})) for session, wanted in truth.items()]
    number = {"clicks": sum(1 for t in truth.values() if t["clicks"] is not None),
              "carts": sum(min(len(t["carts"]), 20) for t in truth.values()),
              "orders": sum(min(len(t["orders"]), 20) for t in truth.values())}
    recalls = {f"recall@20_{k}": sum(e[k] for e in evaluated if e[k]) / number[k] if number[k] else 0.0 for k in kinds}
    recalls["recall@20_weighted"] = (0.1 * recalls["recall@20_clicks"] + 0.3 * recalls["recall@20_carts"]
                                     + 0.6 * recalls["recall@20_orders"])
    return recalls


def reference_ingest(source: str, destination: str) -> dict:
    """Plain Python: json per line, one append per event, numpy arrays, one parquet file (pyarrow)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    codes = {"clicks": 0, "carts": 1, "orders": 2}
    columns: dict[str, list[int]] = {"session": [], "aid": [], "ts": [], "type": []}
    with open(source, encoding="utf-8") as handle:
        for line in handle:
            record = json.loads(line)
            for event in record["events"]:
                ts = event["ts"]
                columns["session"].append(record["session"])
                columns["aid"].append(event["aid"])
                columns["ts"].append(ts // 1000 if ts > 100_000_000_000 else ts)
                columns["type"].append(codes[event["type"]])
    dtypes = {"session": np.int32, "aid": np.int32, "ts": np.int32, "type": np.int8}
    pq.write_table(pa.table({k: np.asarray(v, dtype=dtypes[k]) for k, v in columns.items()}), destination)
    return {"events": len(columns["aid"])}


def project_ingest(source: str, destination: str) -> dict:
    """The project's converter (or an earlier commit's, when that is first on PYTHONPATH: it has no ``log``)."""
    import inspect

    from benchmarks.data.otto_events import convert_jsonl

    lines: list[str] = []
    progress = {"log": lines.append, "log_every": 30.0} if "log" in inspect.signature(convert_jsonl).parameters else {}
    stats = convert_jsonl(Path(source), Path(destination), **progress)
    for line in lines:
        print(line, file=sys.stderr, flush=True)
    return stats


def write_files(workdir: str) -> dict:
    """The Kaggle-size scoring files, generated once into ``workdir``: their paths."""
    return {name: str(path) for name, path in files(Path(workdir)).items()}


ENTRY_POINTS = {"reference_hm": reference_hm, "reference_otto": reference_otto, "reference_ingest": reference_ingest,
                "project_ingest": project_ingest, "write_files": write_files}


# ---------------------------------------------------------------- measuring
def timed(command: list[str], cwd: Path = REPO) -> dict:
    """Run ``command`` (in ``cwd``, which goes first on PYTHONPATH); wall seconds, peak RSS, its last stdout line
    parsed as JSON. The peak comes from GNU time around the command: a child forked from this (large) process
    would report this process's peak as its own (``ru_maxrss`` survives fork and exec)."""
    import tempfile

    env = {**os.environ, "PYTHONPATH": str(cwd) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    with tempfile.NamedTemporaryFile("r") as peak:
        start = time.perf_counter()
        child = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", peak.name, *command], cwd=cwd, env=env,
                               stdout=subprocess.PIPE, text=True)
        seconds = time.perf_counter() - start
        if child.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed with exit code {child.returncode}")
        peak_kb = int(peak.read().split()[-1])
    return {"seconds": seconds, "peak_mb": peak_kb / 1024, "value": json.loads(child.stdout.strip().splitlines()[-1])}


def side_by_side(project: list[str], reference: list[str], repeats: int) -> dict:
    """Alternate the two commands ``repeats`` times each (project first on even repeats, reference first on odd)."""
    runs: dict[str, list[dict]] = {"project": [], "reference": []}
    load_before = os.getloadavg()
    for repeat in range(repeats):
        order = [("project", project), ("reference", reference)]
        for name, command in order if repeat % 2 == 0 else order[::-1]:
            runs[name].append(timed(command))
            print(f"  {name}: {runs[name][-1]['seconds']:.1f} s, {runs[name][-1]['peak_mb']:.0f} MB", file=sys.stderr, flush=True)
    summary = {"load_before": load_before, "load_after": os.getloadavg()}
    for name, results in runs.items():
        seconds = [r["seconds"] for r in results]
        summary[name] = {"min": min(seconds), "median": statistics.median(seconds), "all": seconds,
                         "peak_mb": max(r["peak_mb"] for r in results), "value": results[-1]["value"]}
    summary["ratio_min"] = summary["reference"]["min"] / summary["project"]["min"]
    summary["ratio_median"] = summary["reference"]["median"] / summary["project"]["median"]
    return summary


def here(function: str, *args: object) -> list[str]:
    return [sys.executable, str(HERE), "--call", function, *map(str, args)]


def files(workdir: Path) -> dict[str, Path]:
    """The Kaggle-size files, generated once into ``workdir``."""
    sys.path.insert(0, str(REPO))
    from perf.recsys_files import write_hm_files, write_otto_files

    paths = {"hm_sub": workdir / "hm" / "submission.csv", "hm_truth": workdir / "hm" / "truth.csv",
             "hm_rep_sub": workdir / "hm-repeats" / "submission.csv", "hm_rep_truth": workdir / "hm-repeats" / "truth.csv",
             "otto_sub": workdir / "otto" / "submission.csv", "otto_labels": workdir / "otto" / "test_labels.jsonl"}
    if not paths["hm_truth"].exists():
        write_hm_files(workdir / "hm", seed=0)
    if not paths["hm_rep_truth"].exists():
        write_hm_files(workdir / "hm-repeats", seed=1, repeat_every=3)
    if not paths["otto_labels"].exists():
        write_otto_files(workdir / "otto", seed=0)
    return paths


def jsonl_prefix(source: Path, target: Path, size: int) -> Path:
    """The first whole lines of ``source`` up to about ``size`` bytes."""
    if target.exists():
        return target
    with open(source, "rb") as handle, open(target, "wb") as out:
        out.write(handle.read(size) + handle.readline())
    return target


def parquet_equal(a: Path, b: Path) -> bool:
    import pyarrow.parquet as pq

    return pq.read_table(a).equals(pq.read_table(b))


# ---------------------------------------------------------------- report
def fmt_row(what: str, result: dict, goal: str, values: str) -> list[str]:
    p, r = result["project"], result["reference"]
    load = f"{result['load_before'][0]:.1f} → {result['load_after'][0]:.1f}"
    return [what, f"{p['min']:.2f} / {p['median']:.2f}", f"{r['min']:.2f} / {r['median']:.2f}",
            f"{result['ratio_min']:.1f}× / {result['ratio_median']:.1f}×", goal, f"{p['peak_mb']:,.0f} / {r['peak_mb']:,.0f}",
            load, values]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/mlsd-harness-recsys"))
    parser.add_argument("--out", type=Path, default=REPO / "results" / "perf", help="folder of otto_ingest.md")
    parser.add_argument("--old-tree", type=Path, default=None,
                        help="an export of an earlier commit: its `score` is timed once per row, for comparison")
    parser.add_argument("--jsonl", type=Path, default=None, help="a full-size synthetic train.jsonl (otto_synthetic.write_jsonl)")
    parser.add_argument("--prefix-mb", type=int, default=512, help="size of the jsonl prefix converted side by side")
    parser.add_argument("--full", action="store_true", help="also convert the whole --jsonl file once")
    parser.add_argument("--call", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.call:
        print(json.dumps(ENTRY_POINTS[args.call[0]](*args.call[1:])))
        return 0
    args.workdir.mkdir(parents=True, exist_ok=True)
    if args.jsonl is None:
        parser.error("--jsonl: a full-size synthetic train.jsonl (otto_synthetic.write_jsonl) is needed")
    write_report(args.out / "otto_ingest.md", "OTTO ingestion speed (jsonl → parquet)", *ingest_rows(args), args.repeats)
    return 0


def ingest_rows(args: argparse.Namespace) -> tuple[list[list[str]], list[str]]:
    prefix = jsonl_prefix(args.jsonl, args.workdir / f"train-prefix-{args.prefix_mb}MB.jsonl", args.prefix_mb << 20)
    print("OTTO ingestion, prefix …", file=sys.stderr, flush=True)
    ingest = side_by_side(here("project_ingest", prefix, args.workdir / "project.parquet"),
                          here("reference_ingest", prefix, args.workdir / "reference.parquet"), args.repeats)
    same = parquet_equal(args.workdir / "project.parquet", args.workdir / "reference.parquet")
    events = ingest["project"]["value"]["events"]
    rows = [fmt_row(f"`convert_jsonl`, first {prefix.stat().st_size / 2**20:,.0f} MB of train.jsonl ({events:,} events)",
                    ingest, "native speed", f"parquet tables equal: {same}")]
    notes = []
    if args.old_tree is not None:
        old = timed(here("project_ingest", prefix, args.workdir / "old.parquet"), cwd=args.old_tree)
        notes.append(f"The same prefix through the project's converter before this change ({args.old_tree.name}: one JSON line "
                     f"at a time, every event checked in Python): {old['seconds']:.1f} s, {old['peak_mb']:,.0f} MB in one run "
                     f"(load {os.getloadavg()[0]:.1f} after it); parquet tables equal: "
                     f"{parquet_equal(args.workdir / 'project.parquet', args.workdir / 'old.parquet')}.")
    if args.full:
        print("OTTO ingestion, whole file …", file=sys.stderr, flush=True)
        load_before = os.getloadavg()
        full = timed(here("project_ingest", args.jsonl, args.workdir / "full.parquet"))
        (args.workdir / "full.parquet").unlink(missing_ok=True)
        stats = full["value"]
        notes.append(
            f"Whole file: `convert_jsonl` on the {args.jsonl.stat().st_size / 2**30:.1f} GiB synthetic train.jsonl "
            f"({stats['sessions']:,} sessions, {stats['events']:,} events, ts in {stats['ts_unit']}, written by "
            f"`otto_synthetic.write_jsonl` at scale 1): **{full['seconds']:.0f} s** wall "
            f"({stats['events'] / full['seconds']:,.0f} events/s), peak **{full['peak_mb']:,.0f} MB**; goal ≤ 300 s and "
            f"≤ 8 GB on 2 cores. One run; load average {load_before[0]:.1f} before, {os.getloadavg()[0]:.1f} after.")
    notes.append("The plain reference reads one JSON line at a time and appends every event to Python lists, with no "
                 "checks; the converter checks every field (types, ranges, one timestamp unit) and names the line of any fault.")
    return rows, notes


def write_report(path: Path, title: str, rows: list[list[str]], notes: list[str], repeats: int) -> None:
    from tabulate import tabulate  # here, not on top: the plain-Python reference runs in this file, timed

    lines = [
        f"# {title}",
        "",
        f"Generated by `python -m perf.harness_recsys {' '.join(sys.argv[1:])}` on "
        f"{datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}; machine: {platform.machine()}, {os.cpu_count()} CPU "
        f"cores (shared with other jobs), Python {platform.python_version()}.",
        "Each run is a fresh process timed from outside (the project's `score` rows include Python start-up and the CLI); "
        f"the project and its plain-Python reference alternate, {repeats} runs each. *Load* is the 1-minute load "
        "average before → after the row; above the core count the machine was busy with other jobs.",
        "",
        tabulate(rows, ["what", "project s (min / median)", "plain Python s (min / median)", "speed-up (min / median)", "goal",
                        "peak MB project / reference", "load", "values"], tablefmt="pipe", disable_numparse=True,
                 colalign=("left", "right", "right", "right", "left", "right", "left", "left")),
        "",
        *[note + "\n" for note in notes],
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    sys.exit(main())
