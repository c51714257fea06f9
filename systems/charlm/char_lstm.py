"""System ``char-lstm``: Karpathy's char-rnn with ``torch.nn.LSTM`` — embed, stacked LSTM, linear
head. Trained on windows of ``block_size`` characters from a zero state, and evaluated the same
way (strided windows), so training and evaluation see the same context lengths.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from benchmarks.registry import register_system
from systems.charlm.lib.neural import NeuralCharLM, TrainConfig


@dataclass
class Config(TrainConfig):
    n_embd: int = 64
    hidden: int = 256
    n_layer: int = 1
    dropout: float = 0.0
    iterations: int = 2000
    batch_size: int = 32
    block_size: int = 64
    learning_rate: float = 3e-3
    min_learning_rate: float = 1e-4
    weight_decay: float = 0.01
    eval_interval: int = 250


def build_lstm(vocab_size: int, cfg: Config) -> Any:
    import torch
    import torch.nn as nn

    class CharLSTM(nn.Module):
        """(B, T) ids → (B, T, V) next-character logits, from a zero initial state."""

        def __init__(self) -> None:
            super().__init__()
            self.embedding = nn.Embedding(vocab_size, cfg.n_embd)
            self.lstm = nn.LSTM(cfg.n_embd, cfg.hidden, num_layers=cfg.n_layer, batch_first=True,
                                dropout=cfg.dropout if cfg.n_layer > 1 else 0.0)
            self.head = nn.Linear(cfg.hidden, vocab_size)

        def forward(self, idx: torch.Tensor) -> torch.Tensor:
            x = self.embedding(idx)  # (B, T, E)
            h, _ = self.lstm(x)  # (B, T, H)
            return self.head(h)  # (B, T, V)

    return CharLSTM()


@register_system
class CharLSTMSystem(NeuralCharLM):
    id = "char-lstm"
    Config = Config
    profile_overrides = {
        "smoke": {"n_embd": 8, "hidden": 32, "n_layer": 1, "iterations": 30, "block_size": 16, "eval_interval": 15},
        "full": {"n_embd": 128, "hidden": 512, "n_layer": 3, "iterations": 10000, "batch_size": 64, "block_size": 256, "dropout": 0.2},
    }
    description = "embedding + stacked LSTM (char-rnn), windows from a zero state"

    def build_model(self, vocab_size: int) -> Any:
        return build_lstm(vocab_size, self.config)
