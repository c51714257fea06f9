"""The serving track: LoadGen's numbers for a system of known latency, "not served", INVALID flagged, and a served
answer equal to the batch path's for every built-in system of each kind (smoke data)."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from benchmarks import kinds
from benchmarks.api import RunContext
from benchmarks.kinds import char_language_model, classifier
from benchmarks.loadgen import read_summary, run_test
from benchmarks.registry import SYSTEMS, TASKS, discover, systems_for
from benchmarks.serving import BUDGETS, ServeBudget, Serving, measure
from tests.conftest import squeeze

discover()

pytest.importorskip("mlperf_loadgen")


@dataclass
class SleepConfig:
    seconds: float = 0.02


class SleepingClassifier:
    """A classifier whose every answer takes a known time (``time.sleep``); it notes how long each one really took
    (a loaded machine oversleeps), the oracle for LoadGen's tail."""

    config = SleepConfig()

    def __init__(self) -> None:
        self.durations: list[float] = []

    def fit(self, X: np.ndarray, y: np.ndarray) -> None:
        pass

    def predict(self, X: np.ndarray) -> np.ndarray:
        return np.zeros(len(X), dtype=int)

    def serve(self, batch: list[np.ndarray]) -> list[int]:
        start = time.perf_counter()
        time.sleep(self.config.seconds * len(batch))
        self.durations.append(time.perf_counter() - start)
        return [0] * len(batch)


class Unserved:
    def fit(self, X: np.ndarray, y: np.ndarray) -> None:
        pass

    def predict(self, X: np.ndarray) -> np.ndarray:
        return np.zeros(len(X), dtype=int)


POINTS = [np.array([float(i), 0.0]) for i in range(20)]


def invalid(section: Serving) -> list[str]:
    """The scenarios LoadGen judged INVALID."""
    return [name for name, result in section.scenarios.items() if result.result == "INVALID"]


def test_a_known_sleep_gives_its_p50_and_p99_within_ten_percent(tmp_path: Path) -> None:
    budget = ServeBudget(queries=20, single_stream_s=0.1, repeats=1, server_step_s=1.0)  # → 64 queries of 20 ms
    system = SleepingClassifier()
    section, logs = measure(system, classifier.KIND, POINTS, ["single-stream"], budget, 100.0, tmp_path)
    single = section.scenarios["single-stream"]
    assert single.result == "VALID" and single.queries == 64
    assert single.p50_ms.median == pytest.approx(20.0, rel=0.10)
    served = np.array(system.durations[-64:]) * 1000  # the single-stream queries, as the system timed them
    assert single.p50_ms.median == pytest.approx(np.percentile(served, 50), rel=0.10)
    assert single.p99_ms.median == pytest.approx(served.max(), rel=0.10)  # LoadGen's p99 of 64 is the largest
    assert section.noop_p50_ms is not None and section.noop_p50_ms < 1.0 and not section.below_resolution
    assert "min_query_count : 64" in (tmp_path / "noop" / "mlperf_log_summary.txt").read_text()  # the floor: same settings
    assert logs["loadgen.single-stream.summary.txt"].read_text().count("Result is : VALID") == 1
    assert section.footprint.save_method == "pickle" and section.footprint.size_mb is not None


def test_a_composite_system_whose_parts_log_to_the_worker_still_pickles() -> None:
    from benchmarks.serving import footprint

    system = SleepingClassifier()
    system.config = SleepConfig(seconds=0.0)
    system.context = RunContext(task_id="t", log=lambda *args, **kwargs: None)  # a local lambda does not pickle
    system.part = SleepingClassifier()
    system.part.context = system.context  # as hybrid-rrf's bm25s and dense-minilm share its context
    found = footprint(system, classifier.KIND, POINTS[0])
    assert found.error is None and found.size_mb is not None and found.cold_start_ms is not None


def test_a_system_without_serve_is_not_served(tmp_path: Path) -> None:
    assert not kinds.is_served(Unserved) and classifier.KIND.missing_methods(Unserved) == []
    section, logs = measure(Unserved(), classifier.KIND, POINTS, ["single-stream"], BUDGETS["smoke"], 10.0, tmp_path)
    assert section.status == "not served" and not section.scenarios and logs == {}


def test_a_moons_point_is_not_measured_in_the_server_scenario(tmp_path: Path) -> None:
    from benchmarks.api import DatasetInfo
    from benchmarks.leaderboard import serving_cells
    from benchmarks.records import Record

    system = SleepingClassifier()
    system.config = SleepConfig(seconds=0.0)
    section, logs = measure(system, classifier.KIND, POINTS, ["single-stream", "server"], BUDGETS["smoke"], 10.0, tmp_path)
    server = section.scenarios["server"]
    assert server.result == "not measured" and "single-stream and offline only" in server.note
    assert section.scenarios["single-stream"].valid and invalid(section) == [] and not (tmp_path / "server").exists()
    assert not any(name.startswith("loadgen.server") for name in logs) and section.server_step_rule == ""
    record = Record(task="moons-acc", task_version="1", system="toy", seed=0, profile="smoke", status="ok",
                    main_metric="accuracy", higher_is_better=True, dataset=DatasetInfo("d", "f"), serving=section)
    assert serving_cells(Record.from_dict(record.to_dict()))["server QPS"] == "not measured"


def test_an_invalid_result_is_flagged_in_the_record_and_the_leaderboard(tmp_path: Path) -> None:
    from benchmarks.leaderboard import serving_cells
    from benchmarks.records import Record
    from benchmarks.serving import _aggregate

    # 459 queries of 1 ms each, asked at 2,000 QPS under a 0.5 ms bound: every query is over it
    run = run_test("server", lambda indices: time.sleep(0.001), 10, 459, tmp_path / "srv", target_qps=2000, bound_ms=0.5)
    assert run.result == "INVALID" and read_summary(run.summary, "server").result == "INVALID"
    section = Serving(status="served", scenarios={"server": _aggregate("server", [run])})
    assert invalid(section) == ["server"]
    from benchmarks.api import DatasetInfo

    record = Record(task="moons-acc", task_version="1", system="toy", seed=0, profile="smoke", status="ok",
                    main_metric="accuracy", higher_is_better=True, dataset=DatasetInfo("d", "f"), serving=section)
    again = Record.from_dict(record.to_dict())
    assert again.serving is not None and again.serving.scenarios["server"].result == "INVALID"
    assert "INVALID" in serving_cells(again)["server QPS"]


def test_loadgen_refuses_zero_queries_instead_of_crashing(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least 1 query"):
        run_test("single-stream", lambda indices: None, 10, 0, tmp_path)


def test_an_old_record_without_serving_loads() -> None:
    from benchmarks.api import DatasetInfo
    from benchmarks.records import Record

    data = Record(task="moons-acc", task_version="1", system="toy", seed=0, profile="smoke", status="ok",
                  main_metric="accuracy", higher_is_better=True, dataset=DatasetInfo("d", "f")).to_dict()
    data.pop("serving")
    assert Record.from_dict(data).serving is None


# ------------------------------------------------------------ served == batch, per kind
HEAVY = {"hm-two-tower", "hm-lgbm-ranker", "otto-sasrec", "otto-covisit-ranker", "otto-covisit", "dense-minilm", "hybrid-rrf",
         "bm25-lucene", "torch-mlp", "micrograd-mlp"}
"""Systems whose fit takes more than a few seconds on the smoke data: slow tier."""
SERVED_QUERIES = 8


def _inputs(task_id: str, tmp: Path) -> tuple[dict, Path | None]:
    from tests.conftest import shared_data_dir

    if task_id in ("beir-scifact-ndcg10", "shakespeare-char-ppl"):
        found = shared_data_dir()
        if found is None:
            pytest.skip(f"no shared data for {task_id}")
        return {}, found
    if task_id == "hm-map12":
        return {"task.source": "synthetic"}, None
    return {}, None


_PREPARED: dict[str, tuple] = {}


def _fitted(task_id: str, system_id: str, tmp: Path):
    """The task, its smoke data, the fitted system and the task's batch predictions."""
    from benchmarks.config import RunRequest, plan

    overrides, data_dir = _inputs(task_id, tmp)
    jobs = plan(RunRequest(tasks=[task_id], systems=[system_id], seeds=[0], profile="smoke", overrides=overrides,
                           data_dir=data_dir)).jobs
    spec = jobs[0]
    task = spec.task_cls(spec.task_options)
    context = RunContext(task_id=task_id, profile="smoke", seed=0, data_dir=data_dir, cache_dir=spec.cache_dir,
                         artifacts_dir=tmp, task_options=task.options)
    if task_id not in _PREPARED:
        _PREPARED[task_id] = task.prepare(context)
    data = _PREPARED[task_id]
    system = spec.system_cls(spec.config, context)
    task.fit(system, data, context)
    return task, data, system, task.predict(system, data, context)


def _expected(kind: str, data, predictions, queries: list) -> list:
    """The batch path's answer for each served query, read from the task's own predictions."""
    if kind == "classifier":
        return [int(v) for v in predictions["test"][: len(queries)]]
    if kind == "retriever":
        return [predictions[qid] for qid in list(data.queries)[: len(queries)]]
    if kind == "recommender":
        return list(predictions[: len(queries)])
    row = {int(s): i for i, s in enumerate(predictions["session"])}
    return [{t: predictions[t][row[int(q["session"][0])]] for t in ("clicks", "carts", "orders")} for q in queries]


def _same(kind: str, served, expected) -> bool:
    if kind == "retriever":
        return served.keys() == expected.keys() and all(math.isclose(served[d], expected[d], rel_tol=1e-5) for d in served)
    if kind == "session-recommender":
        return all(np.array_equal(served[t], expected[t]) for t in ("clicks", "carts", "orders"))
    return bool(np.array_equal(np.asarray(served), np.asarray(expected)))


def _served_pairs() -> list:
    pairs = []
    for task_id in ("moons-acc", "beir-scifact-ndcg10", "hm-map12", "otto-recall20", "shakespeare-char-ppl"):
        for system_cls in systems_for(TASKS.get(task_id)):
            if task_id.startswith("shakespeare") and not kinds.is_served(system_cls):
                continue  # serving a char-LM is optional (the neural ones are not served)
            marks = [pytest.mark.slow] if system_cls.id in HEAVY else []
            pairs.append(pytest.param(task_id, system_cls.id, id=f"{system_cls.id}@{task_id}", marks=marks))
    return pairs


def _check_greedy(system, prompts: list) -> None:
    """The batch path of a char-LM: ``log_probs`` over prompt + continuation in one call; teacher-forced with the
    served continuation, its argmax at each position must give that continuation back."""
    for prompt in prompts:
        (served,) = char_language_model.KIND.serve(system, [prompt])
        assert served.shape == (64,)
        rows = system.log_probs(np.concatenate([prompt, served]), len(prompt))  # (65, V)
        assert np.array_equal(rows[:-1].argmax(axis=1), served)


@pytest.mark.parametrize("task_id,system_id", _served_pairs())
def test_a_served_answer_equals_the_batch_prediction(task_id: str, system_id: str, tmp_path: Path) -> None:
    system_cls = SYSTEMS.get(system_id)
    if system_cls.missing_requirements():
        pytest.skip(f"{system_id} needs {', '.join(system_cls.missing_requirements())}")
    assert kinds.is_served(system_cls), f"built-in system {system_id} has no serve()"
    task, data, system, predictions = _fitted(task_id, system_id, tmp_path)
    kind = task.kind.name
    if kind == "char-language-model":
        _check_greedy(system, task.kind.serving_queries(data)[:3])
        return
    queries = task.kind.serving_queries(data)[:SERVED_QUERIES]
    expected = _expected(kind, data, predictions, queries)
    one_at_a_time = [task.kind.serve(system, [query])[0] for query in queries]
    all_at_once = task.kind.serve(system, queries)  # the offline scenario's batch
    for index, (alone, batched, truth) in enumerate(zip(one_at_a_time, all_at_once, expected, strict=True)):
        assert _same(kind, alone, truth), f"query {index}: served {alone} != batch {truth}"
        assert _same(kind, batched, truth), f"query {index}: served in a batch {batched} != batch {truth}"
    if system_id in BUILT_IN_FUNCTIONS:
        _check_saved_and_loaded(task.kind, system, queries, tmp_path)


BUILT_IN_FUNCTIONS = {"micrograd-mlp", "hm-two-tower", "otto-sasrec"}
"""Systems whose model objects are built inside a function (micrograd's Values hold closures; the torch modules'
classes are defined in ``_build_model``): they pickle as their weights."""


def _check_saved_and_loaded(kind, system, queries: list, tmp: Path) -> None:
    """The footprint's save and load work, and the loaded copy answers as the fitted system does."""
    import pickle

    from benchmarks.serving import _QuietPickler, footprint

    found = footprint(system, kind, queries[0])
    assert found.error is None and found.size_mb > 0 and found.cold_start_ms is not None, found.error
    with open(tmp / "model", "wb") as handle:
        _QuietPickler(handle).dump(system)
    loaded = pickle.loads((tmp / "model").read_bytes())
    for query in queries:
        assert _same(kind.name, kind.serve(loaded, [query])[0], kind.serve(system, [query])[0])


# ------------------------------------------------------------ the command line
def test_an_unknown_scenario_is_a_one_line_error(capsys, tmp_path: Path) -> None:
    from benchmarks.cli import main

    assert main(["run", "--task", "moons-acc", "--serve", "single-stream,burst", "--results-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "unknown scenario 'burst'" in err and "Traceback" not in err and not (tmp_path / "records").exists()


@pytest.mark.integration
def test_run_serve_records_serving_and_the_leaderboard_shows_it(tmp_path: Path) -> None:
    import subprocess
    import sys

    from benchmarks.records import load_records

    results = tmp_path / "results"
    cli = "import mock_plugins, sys; from benchmarks.cli import main; sys.exit(main())"
    done = subprocess.run([sys.executable, "-c", cli, "run", "--task", "mock-acc", "--system", "logreg",
                           "--system", "mock-majority", "--profile", "smoke", "--seed", "0", "--results-dir", str(results),
                           "--quiet", "--serve", "single-stream,offline"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    (record,) = [r for r in load_records(results) if r.system == "logreg"]
    assert record.serving is not None and record.serving.served
    assert set(record.serving.scenarios) == {"single-stream", "offline"}
    assert record.serving.scenarios["single-stream"].queries >= 64 and record.serving.noop_p50_ms is not None
    assert record.serving.load_before is not None and record.timings["serve_s"] > 0 and "fit_s" in record.timings
    assert any(name.endswith("loadgen.single-stream.summary.txt") for name in record.artifacts)
    summary = next(record.path.parent.glob("*loadgen.single-stream.summary.txt")).read_text()
    assert f"Result is : {record.serving.scenarios['single-stream'].result}" in summary
    (unserved,) = [r for r in load_records(results) if r.system == "mock-majority"]
    assert unserved.ok and unserved.serving is not None and unserved.serving.status == "not served"
    page = squeeze((results / "mock-acc.md").read_text())
    assert "**Serving**" in page and (results / "mock-acc-serving.svg").is_file()
    assert "| mock-majority |" in page.split("**Serving**")[1] and "not served" in page


def test_a_server_search_too_slow_for_its_budget_is_not_measured(tmp_path: Path) -> None:
    from benchmarks.serving import search_server

    budget = ServeBudget(queries=10, single_stream_s=0.1, repeats=1, server_step_s=1.0)
    result, logs = search_server(lambda indices: None, 10, 100.0, 2.0, budget, tmp_path)  # 2 s a query
    assert result.result == "not measured" and "459 queries" in result.note and logs is None
    assert not any(tmp_path.iterdir())  # LoadGen never ran


def test_server_steps_are_sized_to_see_a_ten_percent_overload() -> None:
    from benchmarks.serving import server_step_queries

    full = ServeBudget(queries=None, single_stream_s=None, repeats=3, server_step_s=20.0)
    # the case: bm25s at ~0.3 ms a query under a 100 ms bound needs ~3,300 queries
    assert server_step_queries(100.0, 0.0003, 3000.0, full) == 3334
    assert server_step_queries(100.0, 0.0003, 100.0, full) == 2000  # capped by the step's time budget
    assert server_step_queries(100.0, 0.05, 10.0, full) == 459  # never below LoadGen's minimum


def test_rank_on_a_serving_column_puts_the_unmeasured_last() -> None:
    from benchmarks.api import DatasetInfo
    from benchmarks.records import Record
    from benchmarks.serving import ScenarioResult, Spread, rank

    def record(system: str, p99: float | None, qps: float | None) -> Record:
        scenarios = {}
        if p99 is not None:
            scenarios["single-stream"] = ScenarioResult("single-stream", "VALID", p99_ms=Spread(p99, p99, p99))
        if qps is not None:
            scenarios["server"] = ScenarioResult("server", "INVALID", qps=Spread(qps, qps, qps))
        return Record(task="t", task_version="1", system=system, seed=0, profile="smoke", status="ok", main_metric="m",
                      higher_is_better=True, dataset=DatasetInfo("d", "f"), serving=Serving("served", scenarios=scenarios))

    records = [record("slow", 9.0, 10.0), record("fast", 1.0, None), record("none", None, 50.0)]
    assert [r.system for r, *_ in rank(records, "p99_ms")] == ["fast", "slow", "none"]
    assert [(r.system, verdict) for r, _, _, verdict in rank(records, "server_qps")][:2] == [("none", "INVALID"), ("slow", "INVALID")]
