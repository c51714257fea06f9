"""System kinds: the contract a task asks of a system, one Protocol per kind of problem.

A task declares its ``kind``; a system declares the kind it implements and then serves every task
of that kind (its ``tasks`` may narrow that to some of them). ``register_system`` checks that the
class has every method of its kind, so a missing method is an error when the module is imported,
not halfway through a run. The data types a kind exchanges (``HMTrainData``) live here too.

| kind | what the task calls |
|---|---|
| ``classifier`` | ``fit(X, y)``, ``predict(X)`` |
| ``char-language-model`` | ``fit(train_ids, vocab_size, valid_ids)``, ``log_probs(stream, start)``, ``num_parameters()``; a training loop calls ``context.checkpoint`` (``WindowModel`` adds ``window_losses``) |
| ``recommender`` | ``fit(train: HMTrainData)``, ``recommend(customers, k)`` |
| ``session-recommender`` | ``fit(train, test)``, ``recommend(test, k)`` |
| ``retriever`` | ``index(corpus)``, ``search(queries, k)`` |
"""

from __future__ import annotations

import datetime as dt
import inspect
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from benchmarks.data.beir import Corpus


@runtime_checkable
class Classifier(Protocol):
    """``moons-acc``: binary classification of points."""

    def fit(self, X: np.ndarray, y: np.ndarray) -> None:
        """X: (n, 2) float64 points; y: (n,) labels in {0, 1}."""

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Return (n,) labels in {0, 1}."""


@runtime_checkable
class CharLanguageModel(Protocol):
    """``shakespeare-char-ppl``: next-character distributions.

    Attributes:
        train_chars_seen: training characters consumed as prediction targets during ``fit``
            (iterations × batch × context for neural models; the corpus size for count models).
    """

    train_chars_seen: int

    def fit(self, train_ids: np.ndarray, vocab_size: int, valid_ids: np.ndarray) -> None:
        """Train on ``train_ids`` ((n,) int64 in [0, vocab_size)).

        ``valid_ids`` may only be used to *report* a validation-loss curve, never to train or
        select anything (the n-gram order, for example, is chosen on a slice of the training data).
        """

    def log_probs(self, stream: np.ndarray, start: int) -> np.ndarray:
        """Next-character log-probabilities after each prefix of ``stream``.

        Args:
            stream: (n,) int64 character ids.
            start: the first prefix length to predict after (``0 <= start <= n``).

        Returns:
            (n - start + 1, V) float array; row ``j`` is log p(· | stream[:start + j]), a
            normalised distribution. A model may truncate each prefix to its own context size.
        """

    def num_parameters(self) -> int:
        """Trainable parameters (``numel``), or the number of stored counts for count models."""


@runtime_checkable
class WindowModel(Protocol):
    """An optional capability of a char-LM trained on random windows (the neural systems): the task
    also scores it with nanoGPT's own ``estimate_loss`` (``nanogpt_val_loss``)."""

    training_window: tuple[int, int]
    """(batch size, context) of its training batches."""

    def window_losses(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """(B, T) inputs and targets → (B, T') per-position losses (``language_model.WindowScorer``)."""


@dataclass
class HMTrainData:
    """What an H&M recommender may learn from: the transactions before the test week, and the tables.

    Attributes:
        transactions: ``day`` (int16, days since ``start_date``), ``customer`` and ``article``
            (int32 codes), ``price`` (float32), ``channel`` (int8: 1 store, 2 online, 0 unknown).
        customers: per customer code: ``age``, ``fn``, ``active``, ``club``, ``news``, ``postal``.
        articles: per article code: integer category codes (product_code, product_type_no, ...).
        n_customers, n_articles: sizes of the code spaces.
        last_day: the last day of the training data; the test week starts the day after.
        start_date: the date of day 0.
    """

    transactions: pd.DataFrame
    customers: pd.DataFrame
    articles: pd.DataFrame
    n_customers: int
    n_articles: int
    last_day: int
    start_date: dt.date


@runtime_checkable
class Recommender(Protocol):
    """``hm-map12``: a ranked list of articles per customer."""

    def fit(self, train: HMTrainData) -> None:
        """Learn from the training transactions (everything before the test week)."""

    def recommend(self, customers: np.ndarray, k: int) -> np.ndarray:
        """Return (len(customers), k) int article codes, best first; -1 pads a short list."""


@runtime_checkable
class SessionRecommender(Protocol):
    """``otto-recall20``: next click, carts and orders of a truncated session.

    Events are polars DataFrames with columns ``session`` (i32), ``aid`` (i32), ``ts`` (i32,
    seconds) and ``type`` (i8: 0 clicks, 1 carts, 2 orders), sorted by session then ts.
    """

    def fit(self, train: Any, test: Any) -> None:
        """Learn from the training sessions; ``test`` holds the truncated test sessions (no labels),
        which Kaggle allowed participants to use."""

    def recommend(self, test: Any, k: int) -> dict[str, np.ndarray]:
        """Return ``{"session": (n,) ids, "clicks"|"carts"|"orders": (n, k) aids}``, one row per
        test session, ``-1`` for an empty slot."""


@runtime_checkable
class Retriever(Protocol):
    """``beir-*`` and ``msmarco-*``: rank a corpus for each query."""

    def index(self, corpus: Corpus) -> None:
        """Index the documents (``corpus.ids``, ``corpus.titles``, ``corpus.texts``; ``corpus.contents()``
        joins title and text; ``corpus.fingerprint`` identifies it for caches)."""

    def search(self, queries: dict[str, str], k: int) -> dict[str, dict[str, float]]:
        """Return ``{qid: {docid: score}}`` with at most ``k`` documents per query, higher = better."""


KINDS: dict[str, type] = {
    "classifier": Classifier,
    "char-language-model": CharLanguageModel,
    "recommender": Recommender,
    "session-recommender": SessionRecommender,
    "retriever": Retriever,
}


class PredictionError(ValueError):
    """A system's answer that breaks its kind's contract (shape, type, NaN, infinities): the job fails with it,
    it is never scored. Each kind's check is one function below, called by the tasks of that kind."""


def _numbers(value: Any, what: str, shape: tuple[int | None, ...]) -> np.ndarray:
    """``value`` as a real-number array of ``shape`` (None: any size), all finite.

    Raises:
        PredictionError: not numbers (strings, None, objects, complex), another shape, NaN or an infinity.
    """
    import numpy as np

    try:
        array = np.asarray(value)
    except Exception as error:  # noqa: BLE001 - a foreign object's __array__ may raise anything
        raise PredictionError(f"{what}: not an array ({type(error).__name__}: {error})") from None
    if array.dtype.kind not in "biuf":
        example = next((repr(v) for v in array.ravel()[:1000] if not isinstance(v, (int, float, np.number))), None)
        raise PredictionError(f"{what}: expected numbers, got dtype {array.dtype}" + (f" (e.g. {example[:40]})" if example else ""))
    if array.ndim != len(shape) or any(want is not None and got != want for got, want in zip(array.shape, shape)):
        expected = ", ".join("n" if want is None else str(want) for want in shape)
        raise PredictionError(f"{what}: shape {array.shape}, expected ({expected}{',' if len(shape) == 1 else ''})")
    if array.dtype.kind == "f":
        bad = ~np.isfinite(array)
        if bad.any():
            first = tuple(int(i) for i in np.argwhere(bad)[0])
            share = "all" if bad.all() else f"{int(bad.sum())} of {bad.size}"
            raise PredictionError(f"{what}: {share} values are NaN or infinite (first at {first}: {array[first]})")
    return array


def _integers(value: Any, what: str, shape: tuple[int | None, ...], low: int, high: int | None = None) -> np.ndarray:
    """``value`` as an integer array of ``shape`` with values in [low, high): as it is when its dtype is an integer
    one (no copy of a large answer), else as int64 (floats that are whole are accepted)."""
    import numpy as np

    array = _numbers(value, what, shape)
    if array.dtype.kind == "f" and (array != np.round(array)).any():
        first = tuple(int(i) for i in np.argwhere(array != np.round(array))[0])
        raise PredictionError(f"{what}: expected whole numbers, got {array[first]} at {first}")
    if array.size and (array.min() < low or (high is not None and array.max() >= high)):
        bad = array[(array < low) | (array >= high)] if high is not None else array[array < low]
        allowed = f"[{low}, {high})" if high is not None else f"{low} or more"
        raise PredictionError(f"{what}: value {bad.ravel()[0]} outside {allowed}")
    return array if array.dtype.kind in "iu" else array.astype(np.int64)


def check_labels(labels: Any, n: int) -> np.ndarray:
    """A classifier's ``predict`` answer as (n,) integer labels in {0, 1} ((n, 1) is accepted and flattened).

    >>> check_labels([0, 1.0, True], 3).tolist()
    [0, 1, 1]
    """
    import numpy as np

    array = np.asarray(labels) if not isinstance(labels, np.ndarray) else labels
    if array.ndim == 2 and array.shape[1:] == (1,):
        array = array[:, 0]
    return _integers(array, "predict()", (n,), 0, 2)


def check_recommendations(recommended: Any, n_customers: int, k: int, n_items: int) -> np.ndarray:
    """A recommender's ``recommend`` answer as (n_customers, k) int32 item codes in [-1, n_items) (-1 pads)."""
    import numpy as np

    return _integers(recommended, "recommend()", (n_customers, k), -1, n_items).astype(np.int32)


def check_session_recommendations(predictions: Any, k: int, event_types: tuple[str, ...]) -> dict[str, np.ndarray]:
    """A session recommender's ``recommend`` answer: ``{"session": (n,) distinct ids, type: (n, ≤k) aids ≥ -1}``,
    as integer arrays (other keys are dropped)."""
    import numpy as np

    if not isinstance(predictions, dict):
        raise PredictionError(f"recommend(): expected a dict of arrays, got {type(predictions).__name__}")
    missing = [key for key in ("session", *event_types) if key not in predictions]
    if missing:
        raise PredictionError(f"recommend(): missing key(s) {', '.join(map(repr, missing))}")
    sessions = _integers(predictions["session"], "recommend()['session']", (None,), 0)
    if len(np.unique(sessions)) != len(sessions):
        raise PredictionError("recommend()['session']: a session is listed twice")
    checked = {"session": sessions}
    for event_type in event_types:
        array = _integers(predictions[event_type], f"recommend()[{event_type!r}]", (len(sessions), None), -1)
        if array.shape[1] > k:
            raise PredictionError(f"recommend()[{event_type!r}]: {array.shape[1]} columns, expected at most {k}")
        checked[event_type] = array
    return checked


def check_run(run: Any) -> dict[str, dict[str, float]]:
    """A retriever's ``search`` answer as ``{qid: {docid: score}}`` with string ids and finite float scores
    (numbers only: a string, None or a bool is refused, not converted)."""
    import math
    import numbers

    if not isinstance(run, dict):
        raise PredictionError(f"search(): expected {{qid: {{docid: score}}}}, got {type(run).__name__}")
    clean: dict[str, dict[str, float]] = {}
    for qid, docs in run.items():
        if not isinstance(docs, dict):
            raise PredictionError(f"search()[{qid!r}]: expected {{docid: score}}, got {type(docs).__name__}")
        scores: dict[str, float] = {}
        for docid, score in docs.items():
            if isinstance(score, bool) or not isinstance(score, numbers.Real):
                raise PredictionError(f"search() returned the score {score!r} ({type(score).__name__}) for document {docid!r} "
                                      f"of query {qid!r}: scores must be numbers")
            if not math.isfinite(score):
                raise PredictionError(f"search() returned the score {score} for document {docid!r} of query {qid!r}: "
                                      "scores must be finite numbers")
            scores[str(docid)] = float(score)
        clean[str(qid)] = scores
    return clean


def methods(kind: str) -> list[str]:
    """The methods a system of ``kind`` must define (data attributes are not checked).

    >>> methods("retriever")
    ['index', 'search']
    """
    protocol = KINDS[kind]
    return sorted(name for name, value in vars(protocol).items() if not name.startswith("_") and inspect.isfunction(value))


def missing_methods(cls: type, kind: str) -> list[str]:
    """The methods of ``kind`` that ``cls`` lacks (or that are not callable)."""
    return [name for name in methods(kind) if not callable(getattr(cls, name, None))]
