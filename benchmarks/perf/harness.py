"""The harness out of the way: each project command timed side by side with a reference doing the same work
without the harness (a benchmark, not a test; output kept in ``results/perf/harness.md``).

Each row is a pair of commands run as fresh processes, alternately (project, reference, project, ...),
after one untimed warm-up of each (caches filled, files in the page cache). For each side it
reports the minimum and the median wall time and the CPU time of the process tree, and their
ratio; where both sides print or record their numbers, it also reports how far those differ. The
load average is taken before and after: the machine is shared, so compare within one run.

Add a row by appending a ``Row`` to ``ROWS``: two ``Command``s, each an argv (``{data}``,
``{tmp}`` and ``{python}`` are filled in) and, optionally, a function that reads the numbers it
produced from its stdout and its temporary folder.

Usage::

    PYTHONPATH=. python benchmarks/perf/harness.py --data-dir ../shared/data --repeats 5 --out results/perf/harness.md
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.perf.footer import emit, machine_lines

REPO = Path(__file__).resolve().parents[2]


@dataclass
class Command:
    """One side of a row."""

    argv: list[str]
    values: Callable[[str, Path], dict[str, float]] | None = None
    """Reads the numbers the command produced (from its stdout and its ``{tmp}`` folder)."""


@dataclass
class Row:
    """A project command and the reference it is measured against."""

    name: str
    project: Command
    reference: Command
    goal: str
    max_ratio: float | None = None
    """The goal as a ratio of median wall times (project / reference); None: no ratio goal."""
    max_seconds: float | None = None
    """The goal as the project's median wall seconds; None: no absolute goal."""
    notes: str = ""


@dataclass
class Timing:
    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    values: dict[str, float] = field(default_factory=dict)


def _record_metrics(stdout: str, tmp: Path) -> dict[str, float]:
    records = sorted((tmp / "results" / "records").rglob("*.json"))
    if not records:
        raise RuntimeError(f"no record under {tmp / 'results'}")
    return json.loads(records[-1].read_text())["metrics"]


def _printed_json(stdout: str, tmp: Path) -> dict[str, float]:
    return json.loads(stdout.strip().splitlines()[-1])


ROWS: list[Row] = [
    Row(
        name="`run --task beir-scifact-ndcg10 --system bm25s`, whole job",
        project=Command(["{python}", "-m", "benchmarks", "run", "--task", "beir-scifact-ndcg10", "--system", "bm25s",
                         "--data-dir", "{data}", "--results-dir", "{tmp}/results", "--quiet"], _record_metrics),
        reference=Command(["{python}", "benchmarks/perf/raw_retrieval.py", "{data}/beir/scifact"], _printed_json),
        goal="≤ 1.5× the raw pipeline; same nDCG@10, Recall@100, MRR@10, MAP@100 (1e-12)",
        max_ratio=1.5,
        notes="reference: raw bm25s (same analyzer and settings) + pytrec_eval on the same corpus and queries, "
              "reading the jsonl files itself; the job reads its converted (Parquet) copy from the cache.",
    ),
    Row(
        name="`python -m benchmarks list`",
        project=Command(["{python}", "-m", "benchmarks", "list"]),
        reference=Command(["{python}", "-c", "import benchmarks"]),
        goal="≤ 1 s",
        max_seconds=1.0,
        notes="reference: importing the package alone. `list` imports every task and system module (discovery); "
              "tests/test_startup.py checks that none of them imports torch, pandas, polars, LightGBM or the JVM.",
    ),
    Row(
        name="`python -m benchmarks --help`",
        project=Command(["{python}", "-m", "benchmarks", "--help"]),
        reference=Command(["{python}", "-c", "pass"]),
        goal="≤ 0.3 s",
        max_seconds=0.3,
        notes="reference: the interpreter starting and stopping.",
    ),
    Row(
        name="`run --task moons-acc --system logreg` (3 seeds), whole run",
        project=Command(["{python}", "-m", "benchmarks", "run", "--task", "moons-acc", "--system", "logreg",
                         "--results-dir", "{tmp}/results", "--quiet"], _record_metrics),
        reference=Command(["{python}", "-c", "from sklearn.datasets import make_moons; from sklearn.linear_model import "
                           "LogisticRegression as L; X, y = make_moons(100, noise=0.1, random_state=1337); T, t = "
                           "make_moons(2000, noise=0.1, random_state=2024); [print((L(random_state=s).fit(X, y).predict(T) "
                           "== t).mean()) for s in (0, 1, 2)]"]),
        goal="≤ 6 s",
        max_seconds=6.0,
        notes="the issue's row runs the README's `knn` example; `logreg` is a built-in system doing the same kind of work "
              "(a scikit-learn classifier on 100 points, three seeds). The run includes planning, one worker process per "
              "job, three records and the leaderboard with its plots. Reference: the same three fits in one script.",
    ),
]


def _run_once(command: Command, data: Path, cache: Path) -> tuple[float, float, dict[str, float]]:
    with tempfile.TemporaryDirectory(prefix="harness-") as temp:
        tmp = Path(temp)
        argv = [part.format(python=sys.executable, data=data, tmp=tmp) for part in command.argv]
        env = {**os.environ, "PYTHONPATH": str(REPO), "MLSD_CACHE_DIR": str(cache)}
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        done = subprocess.run(argv, cwd=REPO, env=env, capture_output=True, text=True)
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(argv)} failed ({done.returncode}):\n{done.stderr[-3000:]}")
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        values = command.values(done.stdout, tmp) if command.values else {}
    return wall, cpu, values


def measure(row: Row, data: Path, cache: Path, repeats: int) -> tuple[Timing, Timing]:
    """Warm up each side once, then alternate ``repeats`` times: project, reference, project, ..."""
    project, reference = Timing(), Timing()
    for side, timing in ((row.project, project), (row.reference, reference)):
        timing.values = _run_once(side, data, cache)[2]  # warm-up, untimed
    for _ in range(repeats):
        for side, timing in ((row.project, project), (row.reference, reference)):
            wall, cpu, values = _run_once(side, data, cache)
            timing.wall.append(wall)
            timing.cpu.append(cpu)
            timing.values = values or timing.values
        print(f"{row.name}: project {project.wall[-1]:.2f} s, reference {reference.wall[-1]:.2f} s", file=sys.stderr)
    return project, reference


def _agreement(project: dict[str, float], reference: dict[str, float]) -> str:
    shared = sorted(set(project) & set(reference))
    if not shared:
        return "–"
    worst = max(abs(project[k] - reference[k]) for k in shared)
    return f"max |Δ| {worst:.1e} over {', '.join(shared)}"


def report(results: list[tuple[Row, Timing, Timing]], repeats: int, load_before: tuple, load_after: tuple,
           command: str) -> str:
    lines = [
        "# Harness overhead: project commands against references doing the same work",
        "",
        f"Each row: one untimed warm-up of each side, then {repeats} alternating repeats (project, reference, ...); "
        "fresh processes; wall and CPU seconds (the process tree's user + system time).",
        "",
        "| row | project wall min / median (s) | reference wall min / median (s) | ratio of medians (of minima) | "
        "project CPU median (s) | reference CPU median (s) | goal | met | numbers |",
        "|---|---:|---:|---:|---:|---:|---|---|---|",
    ]
    for row, project, reference in results:
        ratio = statistics.median(project.wall) / statistics.median(reference.wall)
        ratio_min = min(project.wall) / min(reference.wall)
        goals = [ratio <= row.max_ratio] if row.max_ratio is not None else []
        goals += [statistics.median(project.wall) <= row.max_seconds] if row.max_seconds is not None else []
        met = "–" if not goals else ("yes" if all(goals) else "**no**")
        lines.append(
            f"| {row.name} | {min(project.wall):.2f} / {statistics.median(project.wall):.2f} | "
            f"{min(reference.wall):.2f} / {statistics.median(reference.wall):.2f} | {ratio:.2f}× ({ratio_min:.2f}×) | "
            f"{statistics.median(project.cpu):.2f} | {statistics.median(reference.cpu):.2f} | {row.goal} | {met} | "
            f"{_agreement(project.values, reference.values)} |")
    lines += [""] + [f"- {row.name}: {row.notes}" for row, _, _ in results if row.notes]
    lines += [
        "",
        f"Command: `{command}`",
    ] + machine_lines(load_before, load_after)
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--rows", default="", help="only the rows whose name contains this text")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    data = args.data_dir.resolve()
    load_before = os.getloadavg()
    results = []
    with tempfile.TemporaryDirectory(prefix="harness-cache-") as cache:
        for row in ROWS:
            if args.rows in row.name:
                results.append((row, *measure(row, data, Path(cache), args.repeats)))
    load_after = os.getloadavg()
    command = "python benchmarks/perf/harness.py " + " ".join(sys.argv[1:])
    text = report(results, args.repeats, load_before, load_after, command)
    emit(text, args.out)


if __name__ == "__main__":
    main()
