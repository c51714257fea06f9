"""System ``unigram``: character frequencies of the training text with add-k smoothing, no context."""

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
class Unigram(System):
    id = "unigram"
    kind = "char-language-model"
    tasks = ("shakespeare-char-ppl",)  # no training loop, so no checkpoints to race on (the speedrun)
    Config = Config
    description = "p(c) ∝ count(c) + k"

    def fit(self, train_ids: np.ndarray, vocab_size: int, valid_ids: np.ndarray) -> None:
        counts = np.bincount(train_ids, minlength=vocab_size).astype(np.float64) + self.config.add_k  # (V,)
        self.table = np.log(counts / counts.sum())
        self.train_chars_seen = int(len(train_ids))

    def log_probs(self, stream: np.ndarray, start: int) -> np.ndarray:
        return np.tile(self.table, (len(stream) - start + 1, 1))

    def num_parameters(self) -> int:
        return int(self.table.size)

    def serve(self, batch: list[np.ndarray], k: int) -> list[np.ndarray]:
        """Per 64-character prompt its next ``k`` characters, greedy through ``log_probs``."""
        return serve_by_log_probs(self, batch, k)
