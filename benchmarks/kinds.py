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
class ProbabilisticClassifier(Protocol):
    """An optional capability of a classifier (not part of the contract): class-1 probabilities, which the
    decision-boundary pictures show as shades."""

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """X: (n, 2) points; return (n,) probabilities of label 1."""


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
