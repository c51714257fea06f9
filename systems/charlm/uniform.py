"""System ``uniform``: every character equally likely; the floor of the ladder (loss ln V, perplexity V)."""

from __future__ import annotations

import numpy as np

from benchmarks.api import System
from benchmarks.kinds.char_language_model import serve_by_log_probs
from benchmarks.registry import register_system


@register_system
class Uniform(System):
    id = "uniform"
    kind = "char-language-model"
    tasks = ("shakespeare-char-ppl",)  # no training loop, so no checkpoints to race on (the speedrun)
    description = "p(c) = 1/V for every character"

    def fit(self, train_ids: np.ndarray, vocab_size: int, valid_ids: np.ndarray) -> None:
        self.vocab_size = vocab_size
        self.train_chars_seen = 0

    def log_probs(self, stream: np.ndarray, start: int) -> np.ndarray:
        return np.full((len(stream) - start + 1, self.vocab_size), -np.log(self.vocab_size), dtype=np.float64)

    def num_parameters(self) -> int:
        return 0

    def serve(self, batch: list[np.ndarray], k: int) -> list[np.ndarray]:
        """Per 64-character prompt its next ``k`` characters, greedy through ``log_probs``."""
        return serve_by_log_probs(self, batch, k)
