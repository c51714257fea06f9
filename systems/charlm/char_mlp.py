"""System ``char-mlp``: Bengio et al. (2003) / makemore part 2 — embed the previous ``context``
characters, concatenate, and predict the next one with a GELU MLP.

Training windows of ``block_size`` characters give ``block_size - context + 1`` targets each
(the MLP slides over the window with ``unfold``), which is the same as sampling that many
(context, next character) pairs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from benchmarks.registry import register_system
from systems.charlm.lib.neural import NeuralCharLM, TrainConfig


@dataclass
class Config(TrainConfig):
    context: int = 12
    n_embd: int = 24
    hidden: int = 512
    n_hidden_layers: int = 2
    dropout: float = 0.0
    iterations: int = 3000
    batch_size: int = 16
    block_size: int = 44
    """44-character windows give 33 (12-character context, next character) pairs each."""
    learning_rate: float = 3e-3
    min_learning_rate: float = 1e-4
    weight_decay: float = 0.1
    eval_interval: int = 250


def build_mlp(vocab_size: int, cfg: Config) -> Any:
    import torch
    import torch.nn as nn

    class CharMLP(nn.Module):
        """(B, T) ids → (B, T - context + 1, V) logits, one per full window of ``context`` characters."""

        def __init__(self) -> None:
            super().__init__()
            self.context = cfg.context
            self.embedding = nn.Embedding(vocab_size, cfg.n_embd)
            layers: list[nn.Module] = []
            width = cfg.context * cfg.n_embd
            for _ in range(cfg.n_hidden_layers):
                layers += [nn.Linear(width, cfg.hidden), nn.GELU(), nn.Dropout(cfg.dropout)]
                width = cfg.hidden
            layers.append(nn.Linear(width, vocab_size))
            self.mlp = nn.Sequential(*layers)

        def forward(self, idx: torch.Tensor) -> torch.Tensor:
            B, T = idx.shape
            windows = idx.unfold(1, self.context, 1)  # (B, T - C + 1, C)
            x = self.embedding(windows).flatten(2)  # (B, T - C + 1, C * E)
            return self.mlp(x)  # (B, T - C + 1, V)

    return CharMLP()


@register_system
class CharMLPSystem(NeuralCharLM):
    id = "char-mlp"
    Config = Config
    profile_overrides = {
        "smoke": {"context": 4, "n_embd": 8, "hidden": 32, "iterations": 30, "block_size": 16, "eval_interval": 15},
        "full": {"context": 10, "n_embd": 64, "hidden": 2048, "iterations": 20000, "batch_size": 64, "dropout": 0.1},
    }
    description = "embedding + 2-layer GELU MLP over a fixed window of characters"

    @property
    def warmup(self) -> int:
        return self.config.context - 1

    def build_model(self, vocab_size: int) -> Any:
        return build_mlp(vocab_size, self.config)
