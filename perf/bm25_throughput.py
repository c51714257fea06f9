"""Throughput of the three BM25 systems side by side: index time and queries per second (a benchmark, not a test).

Indexes the same corpus (BEIR SciFact by default: 5,183 documents) with ``bm25-rank``,
``bm25s`` and ``bm25-lucene``, each from scratch (a fresh cache folder, so nothing is reused),
then serves the same queries (SciFact's 300 test queries) ``--repeats`` times and reports the
best pass (the first Lucene pass also pays JIT warm-up; it is reported separately). All
systems get 2 threads where they can use them. nDCG@10 of each run is printed as a sanity check.

Usage::

    python -m perf.bm25_throughput --data-dir ../shared/data --out results/perf/bm25_throughput.md
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from tabulate import tabulate

from benchmarks.api import RunContext
from benchmarks.config import build_config
from benchmarks.data.beir import load_beir_folder
from benchmarks.metrics.retrieval import evaluate_run
from benchmarks.registry import get_system
from perf.footer import emit, machine_lines

SYSTEMS = ("bm25-rank", "bm25s", "bm25-lucene")


def measure(system_id: str, collection, queries: dict[str, str], cache_dir: Path, repeats: int, k: int) -> dict:
    cls = get_system(system_id)
    missing = cls.missing_requirements()
    if missing:
        return {"system": system_id, "error": f"unavailable: missing {', '.join(missing)} ({cls.install_hint()})"}
    config = build_config(cls.Config, {}, owner=system_id)
    system = cls(config, RunContext(task_id="perf", cache_dir=cache_dir))
    start = time.perf_counter()
    system.index(collection.corpus)
    index_s = time.perf_counter() - start
    passes = []
    run = {}
    for _ in range(repeats):
        start = time.perf_counter()
        run = system.search(queries, k)
        passes.append(time.perf_counter() - start)
    ndcg = evaluate_run(collection.qrels, run, ("ndcg@10",), ignore_identical_ids=True).means["ndcg@10"]
    return {"system": system_id, "index_s": index_s, "first_pass_s": passes[0], "best_pass_s": min(passes),
            "qps": len(queries) / min(passes), "ndcg@10": ndcg}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=Path("../shared/data"))
    parser.add_argument("--dataset", default="beir/scifact", help="BEIR-layout folder under --data-dir")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--k", type=int, default=100)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bm25-perf-") as temp:
        cache = Path(temp)
        collection = load_beir_folder(args.data_dir / args.dataset, cache_dir=None)
        queries = {q: collection.queries[q] for q in sorted(collection.qrels) if q in collection.queries}
        load_before = os.getloadavg()
        rows = [measure(s, collection, queries, cache, args.repeats, args.k) for s in SYSTEMS]
        load_after = os.getloadavg()

    lines = [
        "# BM25 throughput: bm25-rank vs bm25s vs bm25-lucene",
        "",
        f"Corpus: `{args.dataset}` ({len(collection.corpus):,} documents), {len(queries):,} queries, top {args.k}; "
        f"best of {args.repeats} passes. Each index is built from scratch.",
        "",
        tabulate([[row["system"], "–", "–", "–", "–", row["error"]] if "error" in row else
                  [row["system"], f"{row['index_s']:.2f}", f"{row['first_pass_s']:.3f}", f"{row['best_pass_s']:.3f}",
                   f"{row['qps']:,.0f}", f"{row['ndcg@10']:.4f}"] for row in rows],
                 ["system", "index (s)", "first pass (s)", "best pass (s)", "queries/s", "nDCG@10"],
                 tablefmt="pipe", disable_numparse=True, colalign=("left", *["right"] * 5)),
    ]
    lines += [
        "",
        "Notes: bm25-rank scores every document for every query in one Python thread; bm25s uses its sparse "
        "score matrix with 2 threads; bm25-lucene's index time includes the JVM start and pyserini's import, and "
        "its first pass includes JIT warm-up (batch_search, 2 threads).",
        "",
        f"Command: `python -m perf.bm25_throughput --data-dir {args.data_dir} --dataset {args.dataset} "
        f"--repeats {args.repeats}`",
    ] + machine_lines(load_before, load_after)
    emit("\n".join(lines) + "\n", args.out)


if __name__ == "__main__":
    main()
