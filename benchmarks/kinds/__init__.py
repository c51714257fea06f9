"""System kinds: the contract a task asks of a system, one module (and one :class:`~benchmarks.api.Kind`) per kind.

A task declares its kind as an object (``kind = retriever.KIND``); a system names the kind it implements
(``kind = "retriever"``) and then serves every task of that kind (its ``tasks`` may narrow that).
``register_system`` checks that the class has every method of its kind, so a missing method is an error when
the module is imported, not halfway through a run. Each module also holds the kind's typed task data and
domain types (``RetrievalData``, ``Corpus``, ...), the checks of a system's answers, its serving query unit
and its smoke inputs for the contract test. Adding a kind is adding one module here that defines ``KIND``.

| kind | module | what the task calls |
|---|---|---|
| ``classifier`` | ``classifier`` | ``fit(X, y)``, ``predict(X)`` |
| ``char-language-model`` | ``char_language_model`` | ``fit(train_ids, vocab_size, valid_ids)``, ``log_probs(stream, start)``, ``num_parameters()``; a training loop calls ``context.checkpoint`` (``WindowModel`` adds ``window_losses``) |
| ``recommender`` | ``recommender`` | ``fit(train: HMTrainData)``, ``recommend(customers, k)`` |
| ``session-recommender`` | ``session_recommender`` | ``fit(train, test)``, ``recommend(test, k)`` |
| ``retriever`` | ``retriever`` | ``index(corpus)``, ``search(queries, k)`` |

Serving is optional: a kind's ``served`` Protocol has one method, ``serve(batch) -> list[answer]``, answering
queries one unit at a time with the model that ``fit`` produced; a system without it is listed "not served".
"""

from __future__ import annotations

import importlib
import pkgutil

from benchmarks.api import Kind


def _discover() -> dict[str, Kind]:
    """Every module of this package that defines ``KIND``, by kind name."""
    found: dict[str, Kind] = {}
    for module in pkgutil.iter_modules(__path__):
        kind = getattr(importlib.import_module(f"{__name__}.{module.name}"), "KIND", None)
        if isinstance(kind, Kind):
            found[kind.name] = kind
    return dict(sorted(found.items()))


KINDS: dict[str, Kind] = _discover()
"""kind name → its :class:`Kind`."""


def is_served(cls_or_system: object) -> bool:
    """Whether a system (class or instance) implements the optional ``serve`` of its kind."""
    return callable(getattr(cls_or_system, "serve", None))
