"""The code examples of CONTRIBUTING.md, run as written: a system, a task and a kind are one file each, and each
works with nothing else edited (the command examples are checked by ``test_docs_examples.py``)."""

from __future__ import annotations

import re
import sys
import types
from pathlib import Path

import numpy as np
import pytest

from benchmarks import kinds, metrics
from benchmarks.api import Kind, RunContext
from benchmarks.kinds import classifier
from benchmarks.registry import SYSTEMS, TASKS, register_system, serves
from tests.conftest import REPO

BLOCKS = re.findall(r"```python\n(.*?)```", (REPO / "CONTRIBUTING.md").read_text(encoding="utf-8"), flags=re.S)


def example(first_line: str) -> str:
    """The python block of CONTRIBUTING.md that starts with ``first_line`` (its file name as a comment)."""
    found = [block for block in BLOCKS if block.startswith(first_line)]
    assert len(found) == 1, f"CONTRIBUTING.md has {len(found)} python blocks starting with {first_line!r}"
    return found[0]


def load(source: str, name: str) -> types.ModuleType:
    """Run ``source`` as the module ``name`` (registered in ``sys.modules``, as an import would)."""
    module = types.ModuleType(name)
    sys.modules[name] = module
    exec(compile(source, f"CONTRIBUTING.md:{name}", "exec"), module.__dict__)
    return module


@pytest.fixture()
def cleanup():
    """Whatever an example registers is gone afterwards (the registries are process-wide)."""
    yield
    for name in ("knn", "linear"):
        SYSTEMS.remove(name)
    TASKS.remove("circles-acc")
    for name in ("contributing_knn", "contributing_circles", "benchmarks.kinds.regressor"):
        sys.modules.pop(name, None)


def test_the_system_and_the_task_examples_run_together(cleanup) -> None:
    knn = load(example("# systems/moons/knn.py"), "contributing_knn")
    load(example("# benchmarks/tasks/circles.py"), "contributing_circles")
    task_cls, system_cls = TASKS.get("circles-acc"), SYSTEMS.get("knn")
    assert task_cls.kind is classifier.KIND and serves(system_cls, task_cls)
    task = task_cls()
    context = RunContext(task_id="circles-acc")
    data = task.prepare(context)
    assert isinstance(data, classifier.ClassifierData) and len(data.test[1]) == 1000
    system = system_cls(knn.Config(), context)
    task.fit(system, data, context)
    evaluation = task.evaluate(task.predict(system, data, context), data, context)
    assert evaluation.metrics["accuracy"] > 0.95  # the circles are easy for a 15-NN
    assert np.mean(evaluation.per_example["accuracy"]) == evaluation.metrics["accuracy"]


def test_the_kind_example_is_found_as_one_file_and_its_systems_register(tmp_path: Path, monkeypatch, cleanup) -> None:
    (tmp_path / "regressor.py").write_text(example("# benchmarks/kinds/regressor.py"))
    monkeypatch.setattr(kinds, "__path__", [*kinds.__path__, str(tmp_path)])
    found = kinds._discover()
    assert set(found) == {*kinds.KINDS, "regressor"}
    kind = found["regressor"]
    assert isinstance(kind, Kind) and kind.missing_methods(object) == ["fit", "predict"]  # what a system must define
    monkeypatch.setitem(kinds.KINDS, "regressor", kind)

    class Linear:
        id = "linear"
        kind = "regressor"
        tasks = ()
        requires = ()

        def fit(self, X: np.ndarray, y: np.ndarray) -> None:
            self.w = np.linalg.lstsq(X, y, rcond=None)[0]

        def predict(self, X: np.ndarray) -> np.ndarray:
            return X @ self.w

        def serve(self, batch: list[np.ndarray]) -> list[float]:
            return [float(x @ self.w) for x in batch]

    register_system(Linear)
    system = Linear()
    X = np.random.default_rng(0).normal(size=(50, 3))
    system.fit(X, X @ np.array([1.0, -2.0, 0.5]))
    data = sys.modules["benchmarks.kinds.regressor"].RegressionData(None, (X, X[:, 0]), (X[:5], X[:5, 0]))
    queries = kind.serving_queries(data)
    assert kind.serve(system, queries) == pytest.approx(kind.batch_answers(system, queries, None))
    assert kind.serve(system, queries[:1]) == pytest.approx([X[0] @ [1.0, -2.0, 0.5]])


def test_the_metric_example_picks_a_name_not_declared_yet() -> None:
    (line,) = [block for block in BLOCKS if block.startswith("declare(")]
    name = re.search(r'Metric\("([^"]+)"', line).group(1)
    assert metrics.find(name.replace("*", "10")) is None


def test_a_task_naming_its_kind_by_a_string_is_refused_with_the_fix() -> None:
    from mock_plugins import MockAccuracy

    from benchmarks.errors import UserError
    from benchmarks.registry import register_task

    class ByName(MockAccuracy):
        id = "by-name-acc"
        kind = "classifier"

    with pytest.raises(UserError, match=r"kind 'classifier' is not a kind; expected the KIND of a module of "
                                        r"benchmarks/kinds/ \(one of .*classifier.*\), e\.g\. kind = retriever\.KIND"):
        register_task(ByName)
    assert "by-name-acc" not in TASKS
