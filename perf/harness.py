"""The harness out of the way: each project command timed side by side with a reference doing the same work
without the harness (a benchmark, not a test; output kept in ``results/perf/harness.md``).

Each row is a pair of commands run as fresh processes, alternately (project, reference, project, ...),
after one untimed warm-up of each (caches filled, files in the page cache). For each side it
reports the minimum and the median wall time and the CPU time of the process tree, and their
ratio; where both sides print or record their numbers, it also reports how far those differ. The
load average is taken before and after: the machine is shared, so compare within one run.

Add a row by appending a ``Row`` to ``ROWS``: two ``Command``s, each an argv (``{data}``, ``{recsys}``
(the Kaggle-size scoring files), ``{tmp}`` and ``{python}`` are filled in) and, optionally, a function that reads the numbers it
produced from its stdout and its temporary folder.

Usage::

    python -m perf.harness --data-dir ../shared/data --repeats 5 --out results/perf/harness.md
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tabulate import tabulate

from perf.footer import emit, machine_lines

REPO = Path(__file__).resolve().parents[1]


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
    max_peak_mb: float | None = None
    """The goal as the project's largest peak resident memory; None: no memory goal."""
    notes: str = ""


@dataclass
class Timing:
    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    peak_mb: list[float] = field(default_factory=list)
    values: dict[str, float] = field(default_factory=dict)


def _record_metrics(stdout: str, tmp: Path) -> dict[str, float]:
    records = sorted((tmp / "results" / "records").rglob("*.json"))
    if not records:
        raise RuntimeError(f"no record under {tmp / 'results'}")
    return json.loads(records[-1].read_text())["metrics"]


def _printed_json(stdout: str, tmp: Path) -> dict[str, float]:
    return json.loads(stdout.strip().splitlines()[-1])


def _printed_metrics(stdout: str, tmp: Path) -> dict[str, float]:
    return _printed_json(stdout, tmp)["metrics"]


def _score_row(task: str, what: str, submission: str, truth: str, reference: str, goal: str, speed_up: float,
               max_peak_mb: float | None, max_seconds: float | None = None) -> Row:
    """``score`` on the Kaggle-size files of ``perf/recsys_files.py`` against a plain-Python scorer."""
    files = "{recsys}/"
    return Row(
        name=f"`score --task {task}`, {what}",
        project=Command(["{python}", "-m", "benchmarks", "score", "--task", task, "--predictions", files + submission,
                         "--truth", files + truth, "--json"], _printed_metrics),
        reference=Command(["{python}", "perf/harness_recsys.py", "--call", reference, files + submission,
                           files + truth], _printed_json),
        goal=goal, max_ratio=1 / speed_up, max_seconds=max_seconds, max_peak_mb=max_peak_mb,
        notes="reference: " + ("Python's `csv` and Ben Hamner's `apk`/`mapk` loop" if task == "hm-map12" else
                               "a plain-Python evaluation after otto-de's `src/evaluate.py` (json per line, `split`, sets)")
              + " (`perf/harness_recsys.py`); the files are random but Kaggle-size, in the real formats "
                "(`perf/recsys_files.py`).",
    )


ROWS: list[Row] = [
    Row(
        name="`run --task beir-scifact-ndcg10 --system bm25s`, whole job",
        project=Command(["{python}", "-m", "benchmarks", "run", "--task", "beir-scifact-ndcg10", "--system", "bm25s",
                         "--data-dir", "{data}", "--results-dir", "{tmp}/results", "--quiet"], _record_metrics),
        reference=Command(["{python}", "perf/raw_retrieval.py", "{data}/beir/scifact"], _printed_json),
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
    _score_row("hm-map12", "1,371,980 customers, 68,984 buyers", "hm/submission.csv", "hm/truth.csv", "reference_hm",
               "≥ 5× faster (ratio ≤ 0.20), < 1.5 GB; same MAP@12 (1e-12)", 5, 1536),
    _score_row("hm-map12", "same size, every third truth row repeats an article", "hm-repeats/submission.csv",
               "hm-repeats/truth.csv", "reference_hm", "≥ 5× faster, < 1.5 GB; same MAP@12 (apk on repeats)", 5, 1536),
    _score_row("otto-recall20", "1,671,803 sessions × 3 types", "otto/submission.csv", "otto/test_labels.jsonl",
               "reference_otto", "≥ 15× faster (ratio ≤ 0.067), < 30 s, < 2 GB; same recalls (1e-12)", 15, 2048, 30.0),
]


def _run_once(command: Command, places: dict[str, Path], cache: Path) -> tuple[float, float, float, dict[str, float]]:
    """Wall and CPU seconds, peak resident MB (of the process and the children it waited for, from ``wait4``:
    this small process forks it, so the child does not inherit a large peak) and the numbers it produced."""
    with tempfile.TemporaryDirectory(prefix="harness-") as temp:
        tmp = Path(temp)
        argv = [part.format(python=sys.executable, tmp=tmp, **places) for part in command.argv]
        env = {**os.environ, "PYTHONPATH": str(REPO), "MLSD_CACHE_DIR": str(cache)}
        with open(tmp / "stdout", "w+") as stdout, open(tmp / "stderr", "w+") as stderr:
            start = time.perf_counter()
            child = subprocess.Popen(argv, cwd=REPO, env=env, stdout=stdout, stderr=stderr, text=True)
            _, status, usage = os.wait4(child.pid, 0)
            wall = time.perf_counter() - start
            child.returncode = os.waitstatus_to_exitcode(status)
            stdout.seek(0), stderr.seek(0)
            out, err = stdout.read(), stderr.read()
        if child.returncode != 0:
            raise RuntimeError(f"{' '.join(argv)} failed ({child.returncode}):\n{err[-3000:]}")
        values = command.values(out, tmp) if command.values else {}
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, values


def measure(row: Row, places: dict[str, Path], cache: Path, repeats: int) -> tuple[Timing, Timing]:
    """Warm up each side once, then alternate ``repeats`` times: project, reference, project, ..."""
    project, reference = Timing(), Timing()
    for side, timing in ((row.project, project), (row.reference, reference)):
        timing.values = _run_once(side, places, cache)[3]  # warm-up, untimed
    for _ in range(repeats):
        for side, timing in ((row.project, project), (row.reference, reference)):
            wall, cpu, peak, values = _run_once(side, places, cache)
            timing.wall.append(wall)
            timing.cpu.append(cpu)
            timing.peak_mb.append(peak)
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
    ]
    cells = []
    for row, project, reference in results:
        ratio = statistics.median(project.wall) / statistics.median(reference.wall)
        ratio_min = min(project.wall) / min(reference.wall)
        goals = [ratio <= row.max_ratio] if row.max_ratio is not None else []
        goals += [statistics.median(project.wall) <= row.max_seconds] if row.max_seconds is not None else []
        goals += [max(project.peak_mb) < row.max_peak_mb] if row.max_peak_mb is not None else []
        met = "–" if not goals else ("yes" if all(goals) else "**no**")
        speed = f" = {1 / ratio:.1f}× faster ({1 / ratio_min:.1f}×)" if ratio < 1 else ""
        cells.append([
            row.name, f"{min(project.wall):.2f} / {statistics.median(project.wall):.2f}",
            f"{min(reference.wall):.2f} / {statistics.median(reference.wall):.2f}", f"{ratio:.2f}× ({ratio_min:.2f}×){speed}",
            f"{statistics.median(project.cpu):.2f}", f"{statistics.median(reference.cpu):.2f}",
            f"{max(project.peak_mb):,.0f} / {max(reference.peak_mb):,.0f}", row.goal, met,
            _agreement(project.values, reference.values).replace("|", "\\|")])  # "max |Δ|" inside a cell
    lines.append(tabulate(cells, ["row", "project wall min / median (s)", "reference wall min / median (s)",
                                  "ratio of medians (of minima)", "project CPU median (s)", "reference CPU median (s)",
                                  "peak MB project / reference", "goal", "met", "numbers"],
                          tablefmt="pipe", disable_numparse=True, colalign=("left", *["right"] * 6, "left", "left", "left")))
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
    parser.add_argument("--recsys-dir", type=Path, default=Path(tempfile.gettempdir()) / "mlsd-harness-recsys",
                        help="where the Kaggle-size H&M and OTTO files are generated (once; about a GB)")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    places = {"data": args.data_dir.resolve(), "recsys": args.recsys_dir.resolve()}
    rows = [row for row in ROWS if args.rows in row.name]
    if any("{recsys}" in part for row in rows for side in (row.project, row.reference) for part in side.argv):
        print(f"Kaggle-size files in {places['recsys']} …", file=sys.stderr, flush=True)  # in a child: its peak is not ours
        subprocess.run([sys.executable, str(REPO / "perf/harness_recsys.py"), "--call", "write_files",
                        str(places["recsys"])], cwd=REPO, check=True, stdout=subprocess.DEVNULL)
    load_before = os.getloadavg()
    results = []
    with tempfile.TemporaryDirectory(prefix="harness-cache-") as cache:
        for row in rows:
            results.append((row, *measure(row, places, Path(cache), args.repeats)))
    load_after = os.getloadavg()
    command = "python -m perf.harness " + " ".join(sys.argv[1:])
    text = report(results, args.repeats, load_before, load_after, command)
    emit(text, args.out)


if __name__ == "__main__":
    main()
