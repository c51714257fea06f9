"""System ``bigram-count``: a (V, V) table of next-character counts with add-k smoothing
(makemore part 1); the prefix's last character picks the row."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from benchmarks.api import System
from benchmarks.kinds.char_language_model import serve_by_log_probs
from benchmarks.registry import register_system


@dataclass
class Config:
    add_k: float = 1.0


@register_system
class BigramCount(System):
    id = "bigram-count"
    kind = "char-language-model"
    tasks = ("shakespeare-char-ppl",)  # no training loop, so no checkpoints to race on (the speedrun)
    Config = Config
    description = "p(c | previous c) ∝ count(previous, c) + k"

    def fit(self, train_ids: np.ndarray, vocab_size: int, valid_ids: np.ndarray) -> None:
        k = self.config.add_k
        pairs = np.bincount(train_ids[:-1] * vocab_size + train_ids[1:], minlength=vocab_size * vocab_size)
        counts = pairs.reshape(vocab_size, vocab_size).astype(np.float64) + k  # (V previous, V next)
        self.table = np.log(counts / counts.sum(axis=1, keepdims=True))
        first = np.bincount(train_ids, minlength=vocab_size).astype(np.float64) + k  # (V,) for an empty prefix
        self.unigram = np.log(first / first.sum())
        self.train_chars_seen = int(len(train_ids))

    def log_probs(self, stream: np.ndarray, start: int) -> np.ndarray:
        stream = np.asarray(stream, dtype=np.int64)
        rows = np.empty((len(stream) - start + 1, self.table.shape[1]))
        if start == 0:
            rows[0] = self.unigram
            rows[1:] = self.table[stream]
        else:
            rows[:] = self.table[stream[start - 1 :]]
        return rows

    def num_parameters(self) -> int:
        return int(self.table.size)

    def serve(self, batch: list[np.ndarray], k: int) -> list[np.ndarray]:
        """Per 64-character prompt its next ``k`` characters, greedy through ``log_probs``."""
        return serve_by_log_probs(self, batch, k)
