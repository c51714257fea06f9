"""MLPerf LoadGen, driven for one system: scenario settings that stay VALID, and the results read from its logs.

LoadGen owns arrivals, timing, percentiles and the VALID/INVALID verdict; this module only answers the
queries it issues (inline, in its issue callback: a no-op answer costs about 1.7 µs a query here, against 8–39 µs
from a worker thread) and reads ``mlperf_log_summary.txt`` back. The settings and the query counts below follow
what was measured on these machines (issue 26).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCENARIOS: tuple[str, ...] = ("single-stream", "offline", "server")
MIN_QUERIES = 64
"""The fewest queries of a VALID SingleStream run (min_duration_ms = 0)."""
P99_QUERIES = 662
"""The fewest SingleStream queries for which LoadGen's early stopping can state a p99."""
SERVER_MIN_QUERIES = 459
"""The fewest Server queries that can pass (none of them over the bound)."""


@dataclass(frozen=True)
class LoadGenRun:
    """One LoadGen test, as its summary log states it."""

    scenario: str
    result: str  # "VALID" or "INVALID" (LoadGen's "Result is: …")
    queries: int  # samples issued (the detail log's generated queries × samples per query)
    p50_ms: float | None
    p90_ms: float | None
    p99_ms: float | None
    qps: float | None  # samples per second (single-stream: LoadGen's "QPS w/o loadgen overhead")
    target_qps: float | None  # the Poisson rate asked for (server), else None
    summary: Path  # the summary log
    detail: Path  # the detail log

    @property
    def valid(self) -> bool:
        return self.result == "VALID"


def _settings(scenario: str, queries: int, target_qps: float | None, bound_ms: float | None) -> Any:
    import mlperf_loadgen as lg

    if queries < 1:
        # min_query_count = 0 with min_duration_ms = 0 crashes LoadGen (a segfault, not an error)
        raise ValueError(f"a LoadGen test needs at least 1 query, got {queries}")
    settings = lg.TestSettings()
    settings.mode = lg.TestMode.PerformanceOnly
    settings.min_duration_ms = 0
    settings.min_query_count = queries
    settings.max_query_count = queries
    if scenario not in SCENARIOS:
        raise ValueError(f"unknown scenario {scenario!r}; expected one of {', '.join(SCENARIOS)}")
    settings.scenario = {"single-stream": lg.TestScenario.SingleStream, "offline": lg.TestScenario.Offline,
                         "server": lg.TestScenario.Server}[scenario]
    if scenario == "offline":
        settings.offline_expected_qps = float(queries)  # all samples in one query (min_duration_ms = 0)
    if scenario == "server":
        if not target_qps or not bound_ms:
            raise ValueError("the server scenario needs a target QPS and a latency bound")
        settings.server_target_qps = float(target_qps)
        settings.server_target_latency_ns = int(bound_ms * 1e6)
    return settings


def run_test(scenario: str, answer: Callable[[Sequence[int]], None], n_samples: int, queries: int, outdir: Path,
             target_qps: float | None = None, bound_ms: float | None = None) -> LoadGenRun:
    """Run one LoadGen test in this thread, answering inline, and read its summary log.

    Args:
        answer: called with the sample indices of the queries LoadGen issues (one index in single-stream and
            server, all of them in offline); it computes the answers and returns when they are ready.
        n_samples: distinct queries in the sample library (indices ``0 .. n_samples - 1``), of which LoadGen
            draws ``queries`` samples.
        outdir: where LoadGen writes its logs (created).
        target_qps, bound_ms: the server scenario's Poisson rate and latency bound.
    """
    import mlperf_loadgen as lg

    settings = _settings(scenario, queries, target_qps, bound_ms)
    respond, complete = lg.QuerySampleResponse, lg.QuerySamplesComplete

    def issue_one(samples: list[Any]) -> None:  # single-stream and server: one sample a query, no list built
        sample = samples[0]
        answer((sample.index,))
        complete([respond(sample.id, 0, 0)])

    def issue_all(samples: list[Any]) -> None:
        answer([sample.index for sample in samples])
        complete([respond(sample.id, 0, 0) for sample in samples])

    outdir.mkdir(parents=True, exist_ok=True)
    output = lg.LogOutputSettings()
    output.outdir = str(outdir)
    output.copy_summary_to_stdout = False
    logs = lg.LogSettings()
    logs.log_output = output
    logs.enable_trace = False
    sut = lg.ConstructSUT(issue_all if scenario == "offline" else issue_one, lambda: None)
    qsl = lg.ConstructQSL(n_samples, n_samples, lambda indices: None, lambda indices: None)
    try:
        lg.StartTestWithLogSettings(sut, qsl, settings, logs)
    finally:
        lg.DestroyQSL(qsl)
        lg.DestroySUT(sut)
    for name in ("mlperf_log_accuracy.json", "mlperf_log_trace.json"):
        (outdir / name).unlink(missing_ok=True)  # empty in performance mode
    return read_summary(outdir / "mlperf_log_summary.txt", scenario, target_qps)


def _field(text: str, label: str, scale: float = 1.0) -> float | None:
    match = re.search(rf"^\s*{re.escape(label)}\s*:\s*([0-9.eE+-]+)\s*$", text, re.MULTILINE)
    return float(match.group(1)) / scale if match else None


def read_summary(path: Path, scenario: str, target_qps: float | None = None) -> LoadGenRun:
    """Read a LoadGen summary log: its verdict, percentiles (ns → ms) and throughput (a ValueError without a verdict)."""
    text = path.read_text(encoding="utf-8", errors="replace")
    verdict = re.search(r"^Result is\s*:\s*(\w+)", text, re.MULTILINE)
    if verdict is None:
        raise ValueError(f"{path}: no 'Result is' line; not a LoadGen summary")

    qps_label = {"offline": "Samples per second", "server": "Completed samples per second"}.get(
        scenario, "QPS w/o loadgen overhead")
    detail = path.with_name("mlperf_log_detail.txt")
    logged = detail.read_text(encoding="utf-8", errors="replace") if detail.is_file() else ""
    generated = re.findall(r'"key": "generated_(?:query_count|samples_per_query)", "value": (\d+)', logged)
    return LoadGenRun(
        scenario=scenario, result=verdict.group(1), queries=math.prod(map(int, generated)) if len(generated) == 2 else 0,
        **{f"p{p}_ms": _field(text, f"{p}.00 percentile latency (ns)", 1e6) for p in (50, 90, 99)},
        qps=_field(text, qps_label), target_qps=target_qps, summary=path, detail=detail,
    )
