"""System kinds: the contract a task asks of a system, one module (and one Protocol) per kind of problem.

A task declares its ``kind``; a system declares the kind it implements and then serves every task
of that kind (its ``tasks`` may narrow that to some of them). ``register_system`` checks that the
class has every method of its kind, so a missing method is an error when the module is imported,
not halfway through a run. The data types a kind exchanges (``HMTrainData``) live with it.

| kind | module | what the task calls |
|---|---|---|
| ``classifier`` | ``classifier`` | ``fit(X, y)``, ``predict(X)`` |
| ``char-language-model`` | ``char_language_model`` | ``fit(train_ids, vocab_size, valid_ids)``, ``log_probs(stream, start)``, ``num_parameters()``; a training loop calls ``context.checkpoint`` (``WindowModel`` adds ``window_losses``) |
| ``recommender`` | ``recommender`` | ``fit(train: HMTrainData)``, ``recommend(customers, k)`` |
| ``session-recommender`` | ``session_recommender`` | ``fit(train, test)``, ``recommend(test, k)`` |
| ``retriever`` | ``retriever`` | ``index(corpus)``, ``search(queries, k)`` |

Serving is optional: each kind also declares its query unit (``QUERY_UNIT``) and a ``Served…``
Protocol with one method, ``serve(batch) -> list[answer]``, answering queries one unit at a time
with the model that ``fit`` produced. A system without ``serve`` is listed as "not served";
``missing_methods`` never asks for it.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass

from benchmarks.kinds import char_language_model, classifier, recommender, retriever, session_recommender
from benchmarks.kinds.answers import PredictionError
from benchmarks.kinds.char_language_model import CharLanguageModel, ServedCharLanguageModel, WindowModel
from benchmarks.kinds.classifier import Classifier, ProbabilisticClassifier, ServedClassifier, check_labels
from benchmarks.kinds.query_unit import QueryUnit
from benchmarks.kinds.recommender import HMTrainData, Recommender, ServedRecommender, check_recommendations
from benchmarks.kinds.retriever import Retriever, ServedRetriever, check_run
from benchmarks.kinds.session_recommender import ServedSessionRecommender, SessionRecommender, check_session_recommendations

__all__ = [
    "KINDS", "SERVING", "QUERY_UNITS", "Kind", "QueryUnit", "methods", "missing_methods", "is_served",
    "Classifier", "ProbabilisticClassifier", "CharLanguageModel", "WindowModel", "HMTrainData", "Recommender", "SessionRecommender", "Retriever",
    "ServedClassifier", "ServedCharLanguageModel", "ServedRecommender", "ServedSessionRecommender", "ServedRetriever",
    "PredictionError", "check_labels", "check_recommendations", "check_session_recommendations", "check_run",
]


@dataclass(frozen=True)
class Kind:
    """One kind: its required Protocol, its optional serving Protocol and its query unit."""

    name: str
    protocol: type
    served: type
    query_unit: QueryUnit


_MODULES = {
    "classifier": classifier,
    "char-language-model": char_language_model,
    "recommender": recommender,
    "session-recommender": session_recommender,
    "retriever": retriever,
}
_ALL: dict[str, Kind] = {
    name: Kind(name=name, protocol=module.PROTOCOL, served=module.SERVED, query_unit=module.QUERY_UNIT)
    for name, module in _MODULES.items()
}

KINDS: dict[str, type] = {name: kind.protocol for name, kind in _ALL.items()}
"""kind name → the Protocol every system of that kind implements."""
SERVING: dict[str, type] = {name: kind.served for name, kind in _ALL.items()}
"""kind name → the optional serving Protocol (``serve``)."""
QUERY_UNITS: dict[str, QueryUnit] = {name: kind.query_unit for name, kind in _ALL.items()}
"""kind name → what one served query is and what it answers."""


def methods(kind: str) -> list[str]:
    """The methods a system of ``kind`` must define (data attributes are not checked; ``serve`` is optional).

    >>> methods("retriever")
    ['index', 'search']
    """
    protocol = KINDS[kind]
    return sorted(name for name, value in vars(protocol).items() if not name.startswith("_") and inspect.isfunction(value))


def missing_methods(cls: type, kind: str) -> list[str]:
    """The methods of ``kind`` that ``cls`` lacks (or that are not callable)."""
    return [name for name in methods(kind) if not callable(getattr(cls, name, None))]


def is_served(cls_or_system: object) -> bool:
    """Whether a system (class or instance) implements the optional ``serve`` of its kind."""
    return callable(getattr(cls_or_system, "serve", None))


def serving_queries(kind: str, data: object) -> list[object]:
    """A task's test queries as its kind's query units (a retrieval query, a customer, a session, a point)."""
    return _MODULES[kind].serving_queries(data)


def batch_answers(kind: str, system: object, queries: list[object]) -> list[object]:
    """What the system's batch path (``predict``, ``search``, ``recommend``) answers for each query."""
    return _MODULES[kind].batch_answers(system, queries, QUERY_UNITS[kind].k)


def serve(kind: str, system: object, batch: list[object]) -> list[object]:
    """Call the system's ``serve`` the way its kind declares it (with ``k`` where the answer is a list)."""
    k = QUERY_UNITS[kind].k
    return system.serve(batch) if k is None else system.serve(batch, k)  # type: ignore[attr-defined]
