"""System ``ngram-kn``: interpolated Kneser-Ney character n-grams; the order is chosen on a held-out
slice at the end of the *training* data, then the counts are rebuilt on all of it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from benchmarks.api import System
from benchmarks.kinds.char_language_model import serve_by_log_probs
from benchmarks.registry import register_system
from systems.charlm.lib.kneser_ney import KneserNeyCounts


@dataclass
class Config:
    orders: tuple[int, ...] = (2, 3, 4, 5, 6, 7, 8, 9)
    """Candidate orders (n-gram lengths); 1 = unigram."""
    selection_chars: int = 100_000
    """The last this many training characters are held out to choose the order."""
    chunk: int = 8192
    """Positions scored per vectorised step (memory: chunk × V × 8 bytes per temporary)."""


@register_system
class NgramKneserNey(System):
    id = "ngram-kn"
    kind = "char-language-model"
    tasks = ("shakespeare-char-ppl",)  # no training loop, so no checkpoints to race on (the speedrun)
    Config = Config
    profile_overrides = {"smoke": {"orders": (2, 3, 4), "selection_chars": 20_000}}
    description = "interpolated Kneser-Ney n-grams, order chosen on a training slice"

    def fit(self, train_ids: np.ndarray, vocab_size: int, valid_ids: np.ndarray) -> None:
        cfg = self.config
        self.vocab_size = vocab_size
        held_out = min(cfg.selection_chars, len(train_ids) // 10)
        head, tail = train_ids[: len(train_ids) - held_out], train_ids[len(train_ids) - held_out :]
        counts = KneserNeyCounts(head, vocab_size, max(cfg.orders))
        stream = np.concatenate([head[-32:], tail])
        positions = np.arange(len(stream) - len(tail), len(stream))
        self.selection_losses: dict[str, float] = {}
        for order in cfg.orders:
            probs = self._chunked(counts, stream, positions, stream[positions][:, None], order)
            self.selection_losses[str(order)] = float(-np.log(probs[:, 0]).mean())
        self.order = int(min(cfg.orders, key=lambda o: (self.selection_losses[str(o)], o)))
        self.counts = KneserNeyCounts(train_ids, vocab_size, self.order)
        self.train_chars_seen = int(len(train_ids))

    def _chunked(self, counts: KneserNeyCounts, stream: np.ndarray, positions: np.ndarray, candidates: np.ndarray, order: int) -> np.ndarray:
        parts = []
        for begin in range(0, len(positions), self.config.chunk):
            end = begin + self.config.chunk
            parts.append(counts.probabilities(stream, positions[begin:end], candidates[begin:end], order))
        return np.concatenate(parts) if parts else np.zeros(candidates.shape)

    def log_probs(self, stream: np.ndarray, start: int) -> np.ndarray:
        stream = np.asarray(stream, dtype=np.int64)
        positions = np.arange(start, len(stream) + 1)
        candidates = np.broadcast_to(np.arange(self.vocab_size), (len(positions), self.vocab_size))
        return np.log(self._chunked(self.counts, stream, positions, candidates, self.order))

    def num_parameters(self) -> int:
        return self.counts.size(self.order)

    def report(self) -> dict:
        return {"order": self.order, "selection_losses": self.selection_losses}

    def serve(self, batch: list[np.ndarray], k: int) -> list[np.ndarray]:
        """Per 64-character prompt its next ``k`` characters, greedy through ``log_probs``."""
        return serve_by_log_probs(self, batch, k)
