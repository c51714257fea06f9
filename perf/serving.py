"""Serving through the harness against the raw libraries, in one run (a benchmark, not a test).

For bm25s and Pyserini's Lucene BM25 on BEIR SciFact (300 test queries, top 100) and for logistic regression on
one moons point, it compares the raw library's own per-query path (the median of every query, after a warm-up
pass) and batch throughput (median of 3 passes) with the same system served through the harness
(``benchmarks.serving.measure``: MLPerf LoadGen single-stream and offline, the whole query set). The two are
measured back to back in 11 rounds whose order alternates, and each goal's ratio is the median of the rounds'
ratios: on a shared machine, the load drifts more between two passes a minute apart than the harness costs.
LoadGen's floor (a no-op system's single-stream p50) is drawn in fresh processes; the load average is recorded
before and after. The issue's goals
(issue 26): harness p50 ≤ 1.15 × raw per-query; harness offline ≥ 0.75 × raw batch; no-op p50 ≤ 2 µs.

Usage::

    python perf/serving.py --data-dir ../shared/data --out results/perf/serving.md
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from benchmarks.api import RunContext
from benchmarks.config import build_config
from benchmarks.data.beir import load_beir_folder
from benchmarks.kinds import KINDS
from benchmarks.loadgen import run_test
from benchmarks.registry import discover, get_system
from benchmarks.serving import BUDGETS, measure

BUDGET = BUDGETS["full"]
"""The harness as ``--profile full`` serves: every query, 3 repeats (median), as the raw batch figure is a median of 3."""
ROUNDS = 11


def per_query_p50(call: Callable[[int], object], n: int, warmup: int = 1) -> float:
    """Median seconds of ``call(i)`` over every query, after ``warmup`` passes over all of them."""
    for _ in range(warmup):
        for index in range(n):
            call(index)
    times = []
    for index in range(n):
        start = time.perf_counter()
        call(index)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def batch_qps(call: Callable[[], object], n: int, repeats: int = 3) -> float:
    """Queries per second of one call answering all ``n`` queries (median of ``repeats`` passes, after one)."""
    call()
    rates = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        rates.append(n / (time.perf_counter() - start))
    return statistics.median(rates)


def harness(system: object, kind: str, queries: list, outdir: Path) -> dict:
    section, _ = measure(system, KINDS[kind], queries, ["single-stream", "offline"], BUDGET, 100.0, outdir)
    single, offline = section.scenarios["single-stream"], section.scenarios["offline"]
    return {"p50_ms": single.p50_ms.median, "p99_ms": single.p99_ms.median, "qps": offline.qps.median,
            "verdicts": (single.result, offline.result), "queries": single.queries, "threads": section.threads}


def rounds(measure_raw: Callable[[], dict], measure_harness: Callable[[Path], dict], outdir: Path) -> dict:
    """Raw and harness back to back in ``count`` rounds, raw first in even rounds and harness first in odd ones,
    so that a drifting load weighs on both alike: ``{"raw": [...], "harness": [...]}``, one entry a round."""
    raws: list[dict] = []
    ours: list[dict] = []
    for index in range(ROUNDS):
        if index % 2:
            ours.append(measure_harness(outdir / f"round{index}"))
            raws.append(measure_raw())
        else:
            raws.append(measure_raw())
            ours.append(measure_harness(outdir / f"round{index}"))
    return {"raw": raws, "harness": ours}


def inside_outside(system: object, queries: list[str], outdir: Path, pairs: int = 4) -> list[tuple[float, float, float]]:
    """Pairs of (q/s of ``serve`` over all queries called directly, the same call timed inside LoadGen's offline
    callback, LoadGen's own offline q/s)."""
    found = []
    for index in range(pairs):
        inner: list[float] = []

        def answer(indices: list[int], inner: list[float] = inner) -> None:
            start = time.perf_counter()
            system.serve([queries[i] for i in indices], 100)
            inner.append(time.perf_counter() - start)

        start = time.perf_counter()
        system.serve(queries, 100)
        direct = len(queries) / (time.perf_counter() - start)
        run = run_test("offline", answer, len(queries), len(queries), outdir / str(index))
        found.append((direct, len(queries) / inner[-1], run.qps or 0.0))
    return found


def interleaved(raw_one: Callable[[int], object], system: object, kind: str, queries: list, outdir: Path,
                reps: int = 7) -> list[tuple[float, float]]:
    """The single-stream comparison at the finest grain: the raw per-query loop (every query once) and one LoadGen
    single-stream test answering through the harness's own path (``kind.serve``, 662 queries, as ``measure`` runs
    it), alternated ``reps`` times within seconds, so that the shared machine's drift weighs on both alike: pairs of
    p50 ms (raw, harness)."""
    serve = KINDS[kind].serve

    def answer(indices: list[int]) -> None:  # measure's own answer
        serve(system, [queries[i] for i in indices])

    found = []
    for index in range(reps):
        order = ("raw", "harness") if index % 2 == 0 else ("harness", "raw")
        p50 = {}
        for side in order:
            p50[side] = (per_query_p50(raw_one, len(queries), warmup=0) * 1000 if side == "raw" else
                         run_test("single-stream", answer, len(queries), 662, outdir / str(index)).p50_ms or 0.0)
        found.append((p50["raw"], p50["harness"]))
    return found


def bm25s_rows(collection, queries: list[str], cache: Path, outdir: Path, threads: int) -> dict:
    from systems.retrieval.lib.analyzer import analyze_all

    cls = get_system("bm25s")
    system = cls(build_config(cls.Config, {"threads": threads}, owner="bm25s"), RunContext(task_id="perf", cache_dir=cache))
    system.index(collection.corpus)
    model, stemmer = system.model, system.config.stemmer

    def one(index: int) -> object:  # the raw library: analyze, retrieve top 100 on one thread
        return model.retrieve(analyze_all([queries[index]], stemmer), k=100, n_threads=1, show_progress=False)

    def all_queries() -> object:
        return model.retrieve(analyze_all(queries, stemmer), k=100, n_threads=system.config.threads, show_progress=False)

    found = rounds(lambda: {"p50_ms": per_query_p50(one, len(queries)) * 1000, "qps": batch_qps(all_queries, len(queries))},
                   lambda folder: harness(system, "retriever", queries, folder), outdir / "bm25s")
    found["inside_outside"] = inside_outside(system, queries, outdir / "bm25s-pairs")
    found["interleaved"] = interleaved(one, system, "retriever", queries, outdir / "bm25s-interleaved")
    found["raw_path"] = f"analyze_all([q]) + BM25.retrieve(k=100, n_threads=1); batch: all queries, n_threads={threads}"
    return found


def lucene_rows(collection, queries: list[str], cache: Path, outdir: Path, threads: int) -> dict:
    cls = get_system("bm25-lucene")
    missing = cls.missing_requirements()
    if missing:
        return {"error": f"unavailable: missing {', '.join(missing)}"}
    system = cls(build_config(cls.Config, {"threads": threads}, owner="bm25-lucene"), RunContext(task_id="perf", cache_dir=cache))
    system.index(collection.corpus)
    from pyserini.search.lucene import LuceneSearcher

    searcher = LuceneSearcher(str(system.index_dir))
    searcher.set_bm25(system.config.k1, system.config.b)
    qids = [str(i) for i in range(len(queries))]
    per_query_p50(lambda i: searcher.search(queries[i], k=100), len(queries))  # Lucene's slower first passes
    found = rounds(
        lambda: {"p50_ms": per_query_p50(lambda i: searcher.search(queries[i], k=100), len(queries)) * 1000,
                 "qps": batch_qps(lambda: searcher.batch_search(queries, qids, k=100, threads=threads), len(queries))},
        lambda folder: harness(system, "retriever", queries, folder), outdir / "lucene")
    found["interleaved"] = interleaved(lambda i: searcher.search(queries[i], k=100), system, "retriever", queries,
                                       outdir / "lucene-interleaved")
    found["raw_path"] = f"LuceneSearcher.search(q, k=100); batch: batch_search(threads={threads})"
    return found


def logreg_rows(outdir: Path) -> dict:
    import numpy as np
    from sklearn.datasets import make_moons

    X_train, y_train = make_moons(n_samples=100, noise=0.1, random_state=1337)
    X_test, _ = make_moons(n_samples=2000, noise=0.1, random_state=2024)
    cls = get_system("logreg")
    system = cls(build_config(cls.Config, {}, owner="logreg"), RunContext(task_id="perf"))
    system.fit(X_train, y_train)
    points = list(np.asarray(X_test, dtype=np.float64))
    model = system.model
    found = rounds(lambda: {"p50_ms": per_query_p50(lambda i: model.predict(points[i][None, :]), len(points)) * 1000,
                            "qps": batch_qps(lambda: model.predict(X_test), len(points))},
                   lambda folder: harness(system, "classifier", points, folder), outdir / "logreg")
    found["raw_path"] = "LogisticRegression.predict(X[i:i+1]); batch: predict(X)"
    return found


def floor_pair(outdir: Path, samples: int = 300, queries: int = 662, repeats: int = 3) -> tuple[float, float]:
    """In this process: LoadGen's floor through the harness (``run_test`` answering with a no-op, as ``measure``
    measures it) and a raw no-op SUT that completes each query inline and does nothing else (the issue's 1.4 µs),
    alternated ``repeats`` times with the same settings: the medians of their single-stream p50s (ms)."""
    import mlperf_loadgen as lg

    from benchmarks.loadgen import _settings, read_summary

    def raw(folder: Path) -> float:
        folder.mkdir(parents=True)
        output, logs = lg.LogOutputSettings(), lg.LogSettings()  # as run_test sets them
        output.outdir, output.copy_summary_to_stdout = str(folder), False
        logs.log_output, logs.enable_trace = output, False
        sut = lg.ConstructSUT(lambda s: lg.QuerySamplesComplete([lg.QuerySampleResponse(s[0].id, 0, 0)]), lambda: None)
        qsl = lg.ConstructQSL(samples, samples, lambda indices: None, lambda indices: None)
        lg.StartTestWithLogSettings(sut, qsl, _settings("single-stream", queries, None, None), logs)
        lg.DestroyQSL(qsl)
        lg.DestroySUT(sut)
        return read_summary(folder / "mlperf_log_summary.txt", "single-stream").p50_ms or 0.0

    ours, bare = [], []
    for r in range(repeats):
        ours.append(run_test("single-stream", lambda indices: None, samples, queries, outdir / f"noop{r}").p50_ms or 0.0)
        bare.append(raw(outdir / f"raw-noop{r}"))
    return statistics.median(ours), statistics.median(bare)


def floors(outdir: Path, processes: int = 6) -> list[tuple[float, float]]:
    """``floor_pair`` in ``processes`` fresh processes: on this machine a process's no-op p50 lands in one of two
    modes (about 1.5 or about 3 µs, whichever SUT) and stays there, so one process is one draw."""
    pairs = []
    for n in range(processes):
        done = subprocess.run([sys.executable, "-m", "perf.serving", "--floor-pair", str(outdir / f"p{n}")],
                              capture_output=True, text=True, check=True)
        ours, raw = done.stdout.split()[-2:]
        pairs.append((float(ours), float(raw)))
    return pairs


def floor_text(pairs: list[tuple[float, float]]) -> str:
    """The floor's paragraph and what was found about it (issue 26's goal: at most 2 µs)."""
    ours, raw = [p[0] * 1000 for p in pairs], [p[1] * 1000 for p in pairs]
    extra = statistics.median(o - r for o, r in zip(ours, raw))
    listed = "; ".join(f"{o:.2f} / {r:.2f}" for o, r in zip(ours, raw))
    return (
        f"**LoadGen's floor** (a no-op system's single-stream p50 through the harness's own path and settings, 662 "
        f"queries; in each of {len(pairs)} fresh processes the median of 3 runs, alternated with a raw no-op SUT "
        f"that only completes each query inline; harness / raw, µs): {listed}. Median {statistics.median(ours):.2f} "
        f"µs, best {min(ours):.2f} µs; at most 2 µs in {sum(o <= 2 for o in ours)} of {len(ours)} processes (goal "
        f"≤ 2 µs), the raw SUT in {sum(r <= 2 for r in raw)} of {len(raw)}; the harness's path adds "
        f"{extra:+.2f} µs over the raw SUT in the same process (median).\n\n"
        "What the harness's path adds per query (measured with a standalone script against `mlperf_loadgen`, the "
        "two SUTs alternated): only the call of the answer. Its issue callback takes the one sample of a "
        "single-stream or server query, calls the answer with `(index,)` and completes one response, about 0.3 µs "
        "over the raw SUT (1.74 against 1.47 µs at load 6). The earlier path built the index list and the responses "
        "by list comprehension and counted the samples issued (now read from the detail log): 0.8 µs more (2.3 µs at "
        "best, and runs of 4–5 µs), which is where the 4.16 µs measured before came from. Log mode "
        "(`EndOfTestOnly` against the default `AsyncPoll`: 1.48 against 1.49 µs) makes no difference; the trace is "
        "off and the accuracy log is empty in performance mode. On this machine a process's no-op p50, of either "
        "SUT, lands at about 1.5 or about 3 µs and keeps that mode for its life (five runs in one process: all "
        "3.1–3.9 µs, or all about 1.5–1.8 µs), hence one draw per fresh process.")


def render(rows: dict[str, dict], noop_ms: list[tuple[float, float]], loads: tuple, started: str, n_queries: int, threads: int) -> str:
    lines = [
        "# Serving: the harness against the raw libraries",
        "",
        f"Generated by `python perf/serving.py` on {started}; machine: {platform.machine()}, {os.cpu_count()} CPU "
        f"cores, Python {platform.python_version()}, mlcommons-loadgen 6.0.17. The machine is shared: load average "
        f"(1, 5, 15 min) {loads[0]} before, {loads[1]} after.",
        "",
        f"Raw: the library's own per-query path (median over every query, after a warm-up pass) and its batch "
        f"throughput (median of 3 passes). Harness: `benchmarks.serving.measure` (MLPerf LoadGen, answering inline), "
        f"single-stream p50 and offline throughput over the whole query set, {BUDGET.repeats} tests each (median), "
        f"as `--profile full` serves. Raw and harness are measured back to back in {ROUNDS} rounds, in alternating "
        f"order; each cell gives the median over the rounds (min–max), and each ratio is the median of the rounds' "
        f"own ratios (min–max), checked against the goal. Threads: {threads} for both (`--threads`). "
        f"SciFact: {n_queries} test queries, top 100.",
        "",
        floor_text(noop_ms),
        "",
        "| system | raw p50 ms | harness p50 ms | harness / raw p50 (goal ≤ 1.15) | harness p99 ms | "
        "raw batch q/s | harness offline q/s | harness / raw q/s (goal ≥ 0.75) | LoadGen (rounds) | raw path |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|---|",
    ]

    def spread(values: list[float], digits: int, unit: str = "") -> str:
        return (f"{statistics.median(values):,.{digits}f}{unit} "
                f"({min(values):,.{digits}f}–{max(values):,.{digits}f})")

    for name, row in rows.items():
        if "error" in row:
            lines.append(f"| {name} | {row['error']} | | | | | | | | |")
            continue
        raws, ours = row["raw"], row["harness"]
        lat = [h["p50_ms"] / r["p50_ms"] for r, h in zip(raws, ours)]
        qps = [h["qps"] / r["qps"] for r, h in zip(raws, ours)]
        verdicts = ", ".join(f"{scenario} {sum(h['verdicts'][i] == 'VALID' for h in ours)}/{len(ours)} VALID"
                             for i, scenario in enumerate(("single-stream", "offline")))
        lines.append(
            f"| {name} | {spread([r['p50_ms'] for r in raws], 4)} | {spread([h['p50_ms'] for h in ours], 4)} | "
            f"{spread(lat, 2, '×')} {'✓' if statistics.median(lat) <= 1.15 else '✗'} | "
            f"{statistics.median(h['p99_ms'] for h in ours):.3f} | {spread([r['qps'] for r in raws], 0)} | "
            f"{spread([h['qps'] for h in ours], 0)} | {spread(qps, 2, '×')} {'✓' if statistics.median(qps) >= 0.75 else '✗'} | "
            f"{verdicts} | {row['raw_path']} |")
    fine = {name: row["interleaved"] for name, row in rows.items() if row.get("interleaved")}
    if fine:
        lines += ["", "Single-stream at the finest grain (`interleaved`): the raw per-query loop and one LoadGen "
                  "single-stream test through the harness's own answer path (`kind.serve`, 662 queries), alternated "
                  "within seconds; p50 ms raw / harness per pair, and the median of the pairs' ratios (min–max):", ""]
        for name, pairs in fine.items():
            ratios = [h / r for r, h in pairs]
            lines.append(f"- {name}: " + "; ".join(f"{r:.4f} / {h:.4f}" for r, h in pairs)
                         + f"; ratio {spread(ratios, 2, '×')} {'✓' if statistics.median(ratios) <= 1.15 else '✗'}")
    pairs = rows.get("bm25s", {}).get("inside_outside", [])
    if pairs:
        text = "; ".join(f"{d:,.0f} / {i:,.0f} / {q:,.0f}" for d, i, q in pairs)
        lines += ["", "What LoadGen's offline figure is: bm25s `serve` over all queries, q/s called directly / the same "
                  f"call timed inside LoadGen's offline callback / LoadGen's offline figure, {len(pairs)} pairs: {text}. "
                  "LoadGen's figure is the call's own time; where the call ran slower inside LoadGen's issue thread than "
                  "outside it, LoadGen's threads were taking cores from it (a shared 2-core machine)."]
    lines += [
              "", "The issue's goals concern bm25s and Lucene. For logistic regression, a batch of 2,000 points costs "
              "about 0.1 µs a point in `predict`, less than LoadGen's own per-sample bookkeeping (a response object and "
              "its completion per sample), so the offline ratio measures LoadGen there, not the model.",
              "", "Thread settings recorded by the harness: " + "; ".join(
        f"{name}: {row['harness'][0]['threads']}" for name, row in rows.items() if "harness" in row), ""]
    return "\n".join(lines)


def records_section(results_dir: Path, title: str) -> list[str]:
    """Every served record under ``results_dir`` (from ``run --serve``) as one table: the numbers come from the
    records, each with its LoadGen verdicts and the load average around its serving."""
    from benchmarks.records import load_records

    records = sorted((r for r in load_records(results_dir) if r.ok and r.serving is not None),
                     key=lambda r: (r.task, r.system, r.seed))
    lines = [f"## {title}", "", f"From the records under `{results_dir}` (`run --serve`), profile "
             f"{', '.join(sorted({r.profile for r in records})) or '?'}.", "",
             "| task | system | seed | main metric | p50 ms | p99 ms (queries) | offline q/s | server q/s (bound) | "
             "size MB | USS MB | cold start ms | LoadGen | load before → after | serve s | job work s |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|---:|---:|"]

    def num(value: float | None, digits: int = 3) -> str:
        return "—" if value is None else f"{value:,.{digits}f}"

    for r in records:
        sv = r.serving
        single, offline, server = (sv.scenarios.get(n) for n in ("single-stream", "offline", "server"))
        p50 = num(sv.p50_ms) + (" (below resolution)" if sv.below_resolution else "")
        p99 = f"{num(sv.p99_ms)} ({single.queries})" if single else "—"
        srv = "—" if server is None else ("not measured" if server.result == "not measured"
                                          else f"{num(server.qps.median, 0)} ({sv.latency_bound_ms:g} ms)")
        verdicts = ", ".join(f"{n} {x.result}" for n, x in sv.scenarios.items()) or sv.status
        work = sum(r.timings.get(k, 0.0) for k in ("fit_s", "predict_s", "eval_s"))
        lines.append(f"| {r.task} | {r.system} | {r.seed} | {num(r.main_value, 4)} | {p50} | {p99} | "
                     f"{num(offline.qps.median, 0) if offline else '—'} | {srv} | {num(sv.footprint.size_mb)} "
                     f"{'(' + sv.footprint.save_method + ')' if sv.footprint.save_method else ''} | "
                     f"{num(sv.footprint.uss_mb, 0)} | {num(sv.footprint.cold_start_ms, 1)} | {verdicts} | "
                     f"{sv.load_before[0] if sv.load_before else '?'} → {sv.load_after[0] if sv.load_after else '?'} | "
                     f"{r.timings.get('serve_s', 0):.1f} | {work:.1f} |")
    serve = sum(r.timings.get("serve_s", 0.0) for r in records)
    work = sum(sum(r.timings.get(k, 0.0) for k in ("fit_s", "predict_s", "eval_s")) for r in records)
    lines += ["", f"Serving took {serve:,.1f} s in all against {work:,.1f} s of fit + predict + eval "
              f"({serve / work * 100 if work else 0:.1f}%).", ""]
    return lines


def main() -> None:
    global ROUNDS  # --rounds
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=Path(os.environ.get("MLSD_DATA_DIR", "../shared/data")))
    parser.add_argument("--dataset", default="beir/scifact", help="BEIR-layout folder under --data-dir")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--records", type=Path, action="append", default=[], metavar="RESULTS_DIR",
                        help="also tabulate the served records of a results dir (repeatable)")
    parser.add_argument("--records-only", action="store_true", help="only the --records tables (skip the raw comparison)")
    parser.add_argument("--threads", type=int, default=1, help="threads of bm25s and Lucene, raw and harness alike (default 1)")
    parser.add_argument("--rounds", type=int, default=ROUNDS, help=f"raw/harness rounds per system (default {ROUNDS})")
    parser.add_argument("--floor-pair", type=Path, help=argparse.SUPPRESS)  # one process's draw, for floors()
    parser.add_argument("--floor-only", action="store_true",
                        help="measure only LoadGen's floor and rewrite its paragraph in --out (the rest is kept)")
    args = parser.parse_args()
    ROUNDS = args.rounds
    if args.floor_pair:
        print(*floor_pair(args.floor_pair))
        return
    if args.floor_only:
        with tempfile.TemporaryDirectory(prefix="mlsd-serving-floor-") as folder:
            loads, found = os.getloadavg()[0], floors(Path(folder))
        text = re.sub(r"\*\*LoadGen's floor\*\*.*?(?=\n\n\|)", lambda _: floor_text(found) + f" (Remeasured alone by "
                      f"`--floor-only` on {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M UTC}, load average {loads:.2f}.)",
                      args.out.read_text(), count=1, flags=re.DOTALL)
        args.out.write_text(text)
        print(floor_text(found))
        return
    discover()
    tables = [line for folder in args.records for line in records_section(folder, f"Served records: {folder.name}")]
    if args.records_only:
        print("\n".join(tables))
        return
    started = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    loads_before = tuple(round(x, 2) for x in os.getloadavg())
    with tempfile.TemporaryDirectory(prefix="mlsd-serving-perf-") as folder:
        outdir, cache = Path(folder) / "loadgen", Path(folder) / "cache"
        noop = floors(outdir / "floor")
        collection = load_beir_folder(args.data_dir / args.dataset, cache_dir=None)
        queries = [collection.queries[q] for q in sorted(collection.qrels) if q in collection.queries]
        rows = {"bm25s": bm25s_rows(collection, queries, cache, outdir, args.threads)}
        print("bm25s done", file=sys.stderr)
        rows["bm25-lucene"] = lucene_rows(collection, queries, cache, outdir, args.threads)
        print("lucene done", file=sys.stderr)
        rows["logreg (one moons point)"] = logreg_rows(outdir)
    loads_after = tuple(round(x, 2) for x in os.getloadavg())
    text = render(rows, noop, (loads_before, loads_after), started, len(queries), args.threads)
    text += "\n".join(["", *tables])
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
