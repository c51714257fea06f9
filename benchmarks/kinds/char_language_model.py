"""Kind ``char-language-model`` (``shakespeare-char-ppl``): next-character distributions; one served query
is a 64-character prompt, answered by its next 64 characters (greedy)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from benchmarks.api import Kind, QueryUnit, SmokeInputs, Task, TaskData

if TYPE_CHECKING:
    from pathlib import Path

    import numpy as np


@dataclass(frozen=True)
class CharSplit:
    """A character-level corpus, encoded and split."""

    vocab: str  # the sorted distinct characters; id ``i`` is ``vocab[i]``
    train: np.ndarray  # (n_train,) int64 character ids, the first part of the text
    valid: np.ndarray  # (n_valid,) int64 character ids, the rest

    @property
    def vocab_size(self) -> int:
        return len(self.vocab)

    def encode(self, text: str) -> np.ndarray:
        """Ids of ``text``'s characters; raises KeyError on a character outside the vocabulary."""
        import numpy as np

        index = {ch: i for i, ch in enumerate(self.vocab)}
        return np.array([index[ch] for ch in text], dtype=np.int64)

    def decode(self, ids: np.ndarray | list[int]) -> str:
        return "".join(self.vocab[int(i)] for i in ids)


@dataclass
class CharData(TaskData):
    """A char-LM task's data: the encoded text, split into training and validation ids."""

    split: CharSplit


@runtime_checkable
class CharLanguageModel(Protocol):
    """``shakespeare-char-ppl``: next-character distributions."""

    train_chars_seen: int
    """Training characters consumed as prediction targets during ``fit`` (iterations × batch × context for neural
    models; the corpus size for count models)."""

    def fit(self, train_ids: np.ndarray, vocab_size: int, valid_ids: np.ndarray) -> None:
        """Train on ``train_ids`` ((n,) int64 in [0, vocab_size)).

        ``valid_ids`` may only be used to *report* a validation-loss curve, never to train or
        select anything (the n-gram order, for example, is chosen on a slice of the training data).
        """

    def log_probs(self, stream: np.ndarray, start: int) -> np.ndarray:
        """Next-character log-probabilities after each prefix of ``stream`` ((n,) int64 ids) from length ``start``
        on (``0 <= start <= n``): an (n - start + 1, V) float array whose row ``j`` is log p(· | stream[:start + j]),
        a normalised distribution. A model may truncate each prefix to its own context size."""

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


@runtime_checkable
class ServedCharLanguageModel(Protocol):
    """Optional: continue prompts one at a time, greedily (deterministic, so it equals the batch path)."""

    def serve(self, batch: list[np.ndarray], k: int) -> list[np.ndarray]:
        """``batch``: prompts, each (64,) int64 ids → per prompt its (k,) greedy continuation."""


PROMPT = 64
"""Characters in a served prompt."""


def serving_queries(data: CharData) -> list[np.ndarray]:
    """The first 256 prompts of 64 characters cut from the validation ids, one query each."""
    import numpy as np

    stream = np.asarray(data.split.valid, dtype=np.int64)
    return [stream[i * PROMPT:(i + 1) * PROMPT].copy() for i in range(min(256, max(0, (len(stream) - 1) // PROMPT)))]


def serve_by_log_probs(system: CharLanguageModel, queries: list[np.ndarray],
                       k: int | None = PROMPT) -> list[np.ndarray]:
    """The batch path, and ``serve`` by greedy decoding: each prompt continued by ``k`` characters, each the argmax of
    ``log_probs`` (ties: the lowest id; no cache: each step rescores)."""
    import numpy as np

    answers = []
    for prompt in queries:
        stream = np.asarray(prompt, dtype=np.int64)
        for _ in range(k or PROMPT):
            stream = np.append(stream, int(np.argmax(system.log_probs(stream, len(stream))[-1])))
        answers.append(stream[len(prompt):])
    return answers


def smoke_inputs(task: type[Task], scratch: Path) -> SmokeInputs:
    return SmokeInputs(shared_data="tinyshakespeare")


KIND = Kind("char-language-model", CharLanguageModel, ServedCharLanguageModel,
            QueryUnit(query="a prompt of 64 characters (int64 ids)", answer="the next 64 characters, greedy", k=64,
                      latency_bound_ms=1000.0),
            serving_queries, serve_by_log_probs, smoke_inputs)
