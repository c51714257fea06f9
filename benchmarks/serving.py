"""The serving track: latency, throughput and footprint of a fitted system, measured with MLPerf LoadGen.

After a job has scored its system, ``run --serve single-stream,offline,server`` serves the task's test
queries (its kind's query unit: a retrieval query, a customer, a session, a point) through the system's
``serve``, in the same worker. LoadGen issues the queries and judges each test VALID or INVALID; the
record's ``serving`` section (:class:`Serving`) keeps the numbers, and LoadGen's summary and detail logs
travel beside the record as artifacts. A system without ``serve`` is "not served".

Honesty: a warm-up pass first; the thread settings and the load average before and after are recorded; the
profile's :data:`BUDGETS` say how many queries and repeats; a no-op system is measured in the same job, and a p50
below 20 times its p50 is marked "below LoadGen's resolution".
"""

from __future__ import annotations

import dataclasses
import math
import os
import pickle
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from benchmarks.errors import UserError
from benchmarks.loadgen import MIN_QUERIES, P99_QUERIES, SCENARIOS, SERVER_MIN_QUERIES, LoadGenRun, run_test

if TYPE_CHECKING:
    from benchmarks.api import Kind

RESOLUTION_FACTOR = 20.0
"""A p50 below this many times the no-op SUT's p50 is below LoadGen's resolution."""
SERVER_STEPS = 6
"""At most this many server tests in the search for the highest passing QPS."""
FIRST_STEP_FACTOR = 10.0
"""No server step may take more than this many step budgets (459 queries at the step's rate): a system so slow that
even its first step (at half its capacity) would is not searched ("not measured", with the reason)."""


@dataclass(frozen=True)
class ServeBudget:
    """How much serving a profile measures (the query counts: :func:`single_stream_queries`, :func:`server_step_queries`)."""

    queries: int | None  # distinct test queries served at most (None: all)
    single_stream_s: float | None  # seconds a single-stream test aims at (None: every query, at least 662 for a p99)
    repeats: int  # tests per scenario (median, min, max)
    server_step_s: float  # seconds a server step may take at most
    warmup_s: float = 2.0  # seconds the warm-up pass may take at most (after its fifth query)


BUDGETS: dict[str, ServeBudget] = {
    "smoke": ServeBudget(queries=200, single_stream_s=0.3, repeats=1, server_step_s=2.0, warmup_s=0.3),
    "default": ServeBudget(queries=2000, single_stream_s=0.25, repeats=1, server_step_s=6.0, warmup_s=0.25),
    "full": ServeBudget(queries=None, single_stream_s=None, repeats=3, server_step_s=20.0, warmup_s=5.0),
}


@dataclass
class Spread:
    """The median of repeated measurements, with their min and max."""

    median: float | None = None
    min: float | None = None
    max: float | None = None

    @classmethod
    def of(cls, values: Sequence[float | None]) -> Spread:
        numbers = [v for v in values if v is not None]
        return cls(statistics.median(numbers), min(numbers), max(numbers)) if numbers else cls()


@dataclass
class ScenarioResult:
    """One scenario, over its repeats (``runs``: each LoadGen test's figures)."""

    scenario: str
    result: str  # VALID when every repeat (server: the best passing step) was; "not measured": not run (``note``)
    p50_ms: Spread = field(default_factory=Spread)
    p90_ms: Spread = field(default_factory=Spread)
    p99_ms: Spread = field(default_factory=Spread)
    qps: Spread = field(default_factory=Spread)
    queries: int = 0
    runs: list[dict[str, Any]] = field(default_factory=list)
    note: str = ""

    @property
    def valid(self) -> bool:
        return self.result == "VALID"


@dataclass
class Footprint:
    """The served model on disk and in memory."""

    size_mb: float | None = None  # the saved model's size on disk
    save_method: str | None = None  # "save()" (the system's own format) or "pickle" (the fallback)
    uss_mb: float | None = None  # private resident memory (USS) of the job's process while serving
    cold_start_ms: float | None = None  # from loading the saved model to its first answer (warm worker: no imports)
    error: str | None = None  # why the model could not be saved or loaded


@dataclass
class Serving:
    """A record's ``serving`` section."""

    status: str  # "served", "not served" (no ``serve``) or "failed: <error>"
    query_unit: str = ""  # what one query is and what it answers
    queries: int = 0  # distinct test queries in LoadGen's sample library
    latency_bound_ms: float | None = None  # the server scenario's p99 bound
    scenarios: dict[str, ScenarioResult] = field(default_factory=dict)
    noop_p50_ms: float | None = None  # a no-op SUT's single-stream p50 in the same job (LoadGen's floor)
    below_resolution: bool = False  # the single-stream p50 is below 20 × that floor (not ranked on latency)
    threads: dict[str, Any] = field(default_factory=dict)  # thread settings while serving (system config, environment)
    load_before: list[float] | None = None  # load averages around the measurement
    load_after: list[float] | None = None
    footprint: Footprint = field(default_factory=Footprint)
    server_step_rule: str = ""  # how the server steps were sized
    device: str = "cpu"

    @property
    def served(self) -> bool:
        return self.status == "served"

    @property
    def p99_ms(self) -> float | None:
        return rank_value(self, "p99_ms")[0]

    @property
    def p50_ms(self) -> float | None:
        return rank_value(self, "p50_ms")[0]

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Serving:
        """Read the section back (unknown keys are ignored; a missing one takes its default)."""
        scenarios = {}
        for name, value in (data.get("scenarios") or {}).items():
            if isinstance(value, dict):
                scenarios[name] = ScenarioResult(
                    scenario=str(value.get("scenario", name)), result=str(value.get("result", "?")),
                    **{k: Spread(**_known(Spread, value.get(k))) for k in ("p50_ms", "p90_ms", "p99_ms", "qps")},
                    queries=int(value.get("queries") or 0), runs=list(value.get("runs") or []),
                    note=str(value.get("note", "")))
        simple = {k: v for k, v in _known(cls, data).items() if k not in ("scenarios", "footprint")}
        return cls(**simple, scenarios=scenarios, footprint=Footprint(**_known(Footprint, data.get("footprint"))))


def _known(cls: type, data: Any) -> dict[str, Any]:
    """The entries of ``data`` (a dict; anything else has none) that are fields of ``cls``."""
    names = {f.name for f in dataclasses.fields(cls)}
    return {k: v for k, v in data.items() if k in names} if isinstance(data, dict) else {}


# ------------------------------------------------------------------ sizing
def single_stream_queries(latency_s: float, budget: ServeBudget, available: int) -> int:
    """Queries of one single-stream test: the whole set (at least 662, for a p99) on ``full``; else the
    time budget over the warm-up latency, between 64 and 662.

    >>> single_stream_queries(0.001, ServeBudget(200, 2.0, 3, 4.0), 200)
    662
    >>> single_stream_queries(0.5, ServeBudget(200, 2.0, 3, 4.0), 200)
    64
    """
    if budget.single_stream_s is None:
        return max(available, P99_QUERIES)
    fit = int(budget.single_stream_s / max(latency_s, 1e-9))
    return max(MIN_QUERIES, min(P99_QUERIES, fit))


def server_step_queries(bound_ms: float, service_s: float, target_qps: float, budget: ServeBudget) -> int:
    """Queries of one server step: enough to see a 10% overload build a backlog past the bound,
    bound ÷ (0.1 × service time), and at least 459 (LoadGen's fewest for a p99); capped by the step's time
    budget at the target rate (never below 459).

    >>> server_step_queries(100.0, 0.0003, 1000.0, ServeBudget(None, None, 3, 20.0))
    3334
    >>> server_step_queries(100.0, 0.01, 50.0, ServeBudget(None, None, 3, 20.0))
    459
    """
    overload = math.ceil(bound_ms / 1000 / (0.1 * max(service_s, 1e-9)))
    capped = int(budget.server_step_s * target_qps)
    return max(SERVER_MIN_QUERIES, min(overload, capped))


STEP_RULE = ("each step issues max(459, min(bound ÷ (0.1 × single-stream p50), step budget × target QPS)) queries: "
             "enough for a 10% overload to build a backlog past the bound (issue 26), capped by the profile's "
             "step budget; steps start at half the single-stream QPS, grow ×1.5 until one fails, then bisect (a failing "
             "first step: ÷4); no step over 10 step budgets, no step started after 20 in all")


# ------------------------------------------------------------------ measuring
def _runs(runs: list[LoadGenRun], fields: Sequence[str]) -> list[dict[str, Any]]:
    return [{name: getattr(r, name) for name in fields} for r in runs]


def _aggregate(scenario: str, runs: list[LoadGenRun], note: str = "") -> ScenarioResult:
    return ScenarioResult(
        scenario=scenario,
        result="VALID" if runs and all(r.valid for r in runs) else "INVALID",
        **{name: Spread.of([getattr(r, name) for r in runs]) for name in ("p50_ms", "p90_ms", "p99_ms", "qps")},
        queries=max((r.queries for r in runs), default=0),
        runs=_runs(runs, ("queries", "result", "p50_ms", "p90_ms", "p99_ms", "qps", "target_qps")),
        note=note,
    )


def search_server(answer: Callable[[Sequence[int]], None], n_samples: int, bound_ms: float, service_s: float,
                  budget: ServeBudget, outdir: Path) -> tuple[ScenarioResult, LoadGenRun | None]:
    """The highest Poisson rate whose p99 meets ``bound_ms``, searched as :data:`STEP_RULE` says (at most
    :data:`SERVER_STEPS` steps). Returns the best passing step (INVALID when none passed; ``runs`` lists every step)
    and the LoadGen run whose logs to keep."""
    steps: list[LoadGenRun] = []
    best: LoadGenRun | None = None
    low, high = 0.0, math.inf
    target = 0.5 / max(service_s, 1e-6)
    spent = 0.0
    for index in range(SERVER_STEPS):
        step_s = SERVER_MIN_QUERIES / target
        if not steps and step_s > FIRST_STEP_FACTOR * budget.server_step_s:
            return ScenarioResult(scenario="server", result="not measured",
                                  note=f"one step of {SERVER_MIN_QUERIES} queries at half capacity ({target:,.2f} QPS) "
                                       f"would take {step_s:,.0f} s, over {FIRST_STEP_FACTOR:g} × this profile's step "
                                       "budget"), None
        if step_s > FIRST_STEP_FACTOR * budget.server_step_s or spent > 2 * FIRST_STEP_FACTOR * budget.server_step_s:
            break  # this rate cannot issue its 459 queries within the allowance, or the search has run long enough
        queries = server_step_queries(bound_ms, service_s, target, budget)
        spent += queries / target
        run = run_test("server", answer, n_samples, queries, outdir / f"step{index}", target, bound_ms)
        steps.append(run)
        if run.valid:
            best = run if best is None or target > (best.target_qps or 0) else best
            low = target
            target = target * 1.5 if math.isinf(high) else (low + high) / 2
        else:
            high = target
            target = (low + high) / 2 if low else target / 4
        if not math.isinf(high) and low and high / low < 1.1:
            break
    note = f"{len(steps)} steps; best passing target {best.target_qps:,.0f} QPS" if best else \
        f"no step passed ({len(steps)} steps down to {steps[-1].target_qps:,.1f} QPS)"
    chosen = [best] if best else [steps[-1]]
    result = _aggregate("server", chosen, note)
    result.runs = _runs(steps, ("queries", "result", "p99_ms", "qps", "target_qps"))
    return result, chosen[0]


def _timed_warmup(answer: Callable[[Sequence[int]], None], n: int, budget_s: float) -> float:
    """Answer queries one at a time (the first 50, then the first 200 again: caches, JIT, Lucene's slower first
    pass), for at most ``budget_s`` seconds after the fifth; return the median seconds of the second pass
    (or of all, when the budget ended the first)."""
    times: list[float] = []
    order = list(range(min(n, 50))) + list(range(min(n, 200)))
    started = time.perf_counter()
    for count, index in enumerate(order):
        start = time.perf_counter()
        answer((index,))
        times.append(time.perf_counter() - start)
        if count >= 5 and start - started > budget_s:
            break
    second = times[min(n, 50):]
    return statistics.median(second or times)


def measure(system: Any, kind: Kind, queries: list[Any], scenarios: Sequence[str], budget: ServeBudget,
            bound_ms: float, outdir: Path, device: str = "cpu") -> tuple[Serving, dict[str, Path]]:
    """Serve the task's test queries (at most ``budget.queries``) through a fitted system's ``serve`` under LoadGen,
    scenario by scenario (a subset of :data:`SCENARIOS`), LoadGen's logs in ``outdir``; ``device`` names where a
    latency was measured. Returns the record's section and the logs to keep (artifact suffix → path)."""
    from benchmarks import kinds
    from benchmarks.environment import load_average, thread_settings

    unit = kind.query_unit
    section = Serving(status="not served", query_unit=f"{unit.query} → {unit.answer}", latency_bound_ms=bound_ms,
                      device=device)
    if not kinds.is_served(system):
        return section, {}
    queries = queries[: budget.queries] if budget.queries is not None else queries
    if not queries:
        section.status = "failed: the task has no test queries to serve"
        return section, {}
    section.status, section.queries = "served", len(queries)
    section.load_before = load_average()
    config_threads = {k: v for k, v in dataclasses.asdict(system.config).items() if "thread" in k} \
        if dataclasses.is_dataclass(getattr(system, "config", None)) else {}
    section.threads = {**config_threads, **thread_settings(), "cpus": len(os.sched_getaffinity(0))
                       if hasattr(os, "sched_getaffinity") else os.cpu_count()}

    def answer(indices: Sequence[int]) -> None:
        kind.serve(system, [queries[i] for i in indices])

    latency_s = _timed_warmup(answer, len(queries), budget.warmup_s)
    n_single = single_stream_queries(latency_s, budget, len(queries))
    # LoadGen's floor: a no-op answer through the same path and settings as the system's single-stream test
    section.noop_p50_ms = run_test("single-stream", lambda indices: None, len(queries), n_single, outdir / "noop").p50_ms
    measured = [s for s in scenarios if s != "server" or unit.server]
    logs = _run_scenarios(section, answer, len(queries), measured, budget, bound_ms, latency_s, n_single, outdir)
    if "server" in scenarios and not unit.server:
        section.scenarios["server"] = ScenarioResult(scenario="server", result="not measured",
                                                     note=f"{unit.query}: measured in single-stream and offline only")
    p50 = section.p50_ms
    section.below_resolution = bool(p50 is not None and section.noop_p50_ms and p50 < RESOLUTION_FACTOR * section.noop_p50_ms)
    section.footprint = footprint(system, kind, queries[0])
    section.server_step_rule = STEP_RULE if "server" in measured else ""
    section.load_after = load_average()
    return section, logs


def _run_scenarios(section: Serving, answer: Callable[[Sequence[int]], None], n_samples: int, scenarios: Sequence[str],
                   budget: ServeBudget, bound_ms: float, latency_s: float, n_single: int, outdir: Path) -> dict[str, Path]:
    """Run the asked scenarios in order into ``section.scenarios``; return the logs to keep (the last repeat's,
    the best passing server step's)."""
    logs: dict[str, Path] = {}
    for scenario in [s for s in SCENARIOS if s in scenarios]:
        if scenario == "server":  # service time: single-stream's mean (its QPS) where measured, else the warm-up's median
            single = section.scenarios.get("single-stream")
            service_s = 1 / single.qps.median if single and single.qps.median else latency_s
            result, last = search_server(answer, n_samples, bound_ms, service_s, budget, outdir / "server")
        else:
            count = n_single if scenario == "single-stream" else n_samples
            runs = [run_test(scenario, answer, n_samples, count, outdir / f"{scenario}{r}") for r in range(budget.repeats)]
            note = f"p99 of {count} queries: below the {P99_QUERIES} LoadGen's early stopping needs to certify a p99" \
                if scenario == "single-stream" and count < P99_QUERIES else ""
            result, last = _aggregate(scenario, runs, note), runs[-1]
        section.scenarios[scenario] = result
        if last is not None:
            logs[f"loadgen.{scenario}.summary.txt"] = last.summary
            logs[f"loadgen.{scenario}.detail.txt"] = last.detail
    return logs


def _folder_mb(path: Path) -> float:
    files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
    return sum(p.stat().st_size for p in files) / 1e6


class _QuietPickler(pickle.Pickler):
    """Pickles every run context it meets (a composite system's parts hold one too) as one that logs nowhere: the
    worker's log callback does not pickle."""

    def reducer_override(self, obj: Any) -> Any:
        from benchmarks.api import RunContext, print_nothing

        if isinstance(obj, RunContext) and obj.log is not print_nothing:
            return dataclasses.replace, (dataclasses.replace(obj, log=print_nothing),)
        return NotImplemented


def footprint(system: Any, kind: Kind, query: Any) -> Footprint:
    """Save the served model (``save(path)`` in the system's own format, else pickle), measure its size, load
    it back (``load(path)`` classmethod, else unpickle) and time loading to its first answer; read the
    process's USS (as the local executor samples it) while the model is loaded."""
    from benchmarks.process_memory import memory_of_tree

    result = Footprint(uss_mb=memory_of_tree(os.getpid()))
    own = callable(getattr(system, "save", None)) and callable(getattr(type(system), "load", None))
    with tempfile.TemporaryDirectory(prefix="mlsd-serve-") as folder:
        target = Path(folder) / "model"
        try:
            if own:
                system.save(target)
            else:
                with open(target, "wb") as handle:
                    _QuietPickler(handle, protocol=pickle.HIGHEST_PROTOCOL).dump(system)
            result.size_mb = round(_folder_mb(target), 3)
            result.save_method = "save()" if own else "pickle"
            start = time.perf_counter()
            loaded = type(system).load(target, system.context) if own else pickle.loads(target.read_bytes())
            kind.serve(loaded, [query])
            result.cold_start_ms = round((time.perf_counter() - start) * 1000, 3)
        except Exception as error:  # a model that cannot be saved is a fact of the record, not a failed job
            result.error = f"{type(error).__name__}: {error}"[:300]
    return result


def measure_task(task: Any, system: Any, data: Any, context: Any, scenarios: Sequence[str]) -> tuple[Serving, dict[str, Path]]:
    """Serve a scored job's test queries (``measure`` with the task's queries, budget and bound); a failure to
    serve is the section's status, never the job's."""
    from benchmarks import kinds

    budget = BUDGETS.get(context.profile, BUDGETS["default"])
    bound = float(getattr(task, "serving_latency_bound_ms", None) or task.kind.query_unit.latency_bound_ms)
    outdir = Path(context.artifacts_dir or tempfile.mkdtemp(prefix="mlsd-serve-")) / "loadgen"
    try:
        queries = task.kind.serving_queries(data) if kinds.is_served(system) else []
        return measure(system, task.kind, queries, scenarios, budget, bound, outdir, context.device)
    except Exception as error:
        unit = task.kind.query_unit
        return Serving(status=f"failed: {type(error).__name__}: {error}"[:300], query_unit=f"{unit.query} → {unit.answer}",
                       latency_bound_ms=bound, device=context.device), {}


# ------------------------------------------------------------------ ranking (compare --rank-by)
FOOTPRINT_COLUMNS = ("size_mb", "cold_start_ms", "uss_mb")
RANK_COLUMNS: dict[str, tuple[str, str, bool]] = {
    "p50_ms": ("single-stream", "p50_ms", False),
    "p90_ms": ("single-stream", "p90_ms", False),
    "p99_ms": ("single-stream", "p99_ms", False),
    "offline_qps": ("offline", "qps", True),
    "server_qps": ("server", "qps", True),
}
"""A serving column → (scenario, field, higher is better). The footprint's columns rank lower first."""


def rank_value(serving: Serving, column: str) -> tuple[float | None, Spread, str]:
    """A record's value of a serving column: (median, its spread over repeats, LoadGen's verdict)."""
    if column in FOOTPRINT_COLUMNS:
        value = getattr(serving.footprint, column)
        return value, Spread(value, value, value), serving.footprint.save_method or ""
    scenario, name, _ = RANK_COLUMNS[column]
    result = serving.scenarios.get(scenario)
    if result is None:
        return None, Spread(), "not measured"
    spread = getattr(result, name)
    return spread.median, spread, result.result


def rank(records: list[Any], column: str) -> list[tuple[Any, float | None, Spread, str]]:
    """The latest served record per system, best first on ``column`` (unmeasured and not served last); an
    INVALID value is ranked with the rest and keeps its verdict beside it."""
    if column not in RANK_COLUMNS and column not in FOOTPRINT_COLUMNS:
        raise UserError(f"--rank-by {column!r}: expected one of {', '.join([*RANK_COLUMNS, *FOOTPRINT_COLUMNS])}")
    higher = RANK_COLUMNS.get(column, ("", "", False))[2]
    latest: dict[str, Any] = {}
    for record in records:
        if record.serving is not None and (record.system not in latest or record.newness > latest[record.system].newness):
            latest[record.system] = record
    rows = [(record, *rank_value(record.serving, column)) for record in latest.values()]
    return sorted(rows, key=lambda row: (row[1] is None, -(row[1] or 0) if higher else (row[1] or 0), row[0].system))
