"""System ``char-gpt``: the nanoGPT-style transformer of ``gpt_model.py`` trained on characters.

The ``default`` profile is nanoGPT's CPU recipe for ``shakespeare_char`` (4 layers, 4 heads,
width 128, context 64, batch 12, 2,000 iterations, no dropout) with the peak learning rate raised
from 1e-3 to 2e-3 (same seed and budget: validation loss 1.881 at 1e-3, 1.793 at 2e-3); ``full`` is
its GPU recipe (6 × 6 × 384, context 256, batch 64, 5,000 iterations, dropout 0.2, lr 1e-3).
``nanogpt-cpu`` is the README's CPU command exactly (``--eval_iters=20 --log_interval=1 --block_size=64
--batch_size=12 --n_layer=4 --n_head=4 --n_embd=128 --max_iters=2000 --lr_decay_iters=2000 --dropout=0.0``
over ``config/train_shakespeare_char.py``: lr 1e-3 decaying to min_lr 1e-4, 100 warmup iterations of
``lr * (it + 1) / (warmup + 1)``, beta2 0.99, eval_interval 250), scored at its final iteration; the task's
``nanogpt_val_loss`` then uses 20 batches. ``--set seed=1337`` seeds torch as nanoGPT does (its batches come
from the global generator, ours from a generator of their own, so the runs are alike, not bitwise equal).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from benchmarks.registry import register_system
from systems.charlm.lib.neural import NeuralCharLM, TrainConfig


@dataclass
class Config(TrainConfig):
    n_layer: int = 4
    n_head: int = 4
    n_embd: int = 128
    dropout: float = 0.0
    bias: bool = False
    learning_rate: float = 2e-3


@register_system
class CharGPT(NeuralCharLM):
    id = "char-gpt"
    Config = Config
    profile_overrides = {
        "smoke": {"n_layer": 1, "n_head": 2, "n_embd": 32, "block_size": 32, "iterations": 30, "eval_interval": 15},
        "nanogpt-cpu": {
            "n_layer": 4, "n_head": 4, "n_embd": 128, "block_size": 64, "batch_size": 12, "iterations": 2000, "dropout": 0.0,
            "learning_rate": 1e-3, "min_learning_rate": 1e-4, "warmup_iterations": 100, "beta2": 0.99, "weight_decay": 0.1,
            "grad_clip": 1.0, "eval_interval": 250, "log_interval": 1,
        },
        "full": {
            "n_layer": 6, "n_head": 6, "n_embd": 384, "block_size": 256, "batch_size": 64, "iterations": 5000,
            "dropout": 0.2, "learning_rate": 1e-3, "warmup_iterations": 100, "min_learning_rate": 1e-4, "eval_interval": 250,
        },
    }
    description = "nanoGPT-style decoder-only transformer (SDPA causal attention, AdamW, cosine schedule)"

    def build_model(self, vocab_size: int) -> Any:
        from systems.charlm.lib.gpt_model import GPT, GPTConfig

        c = self.config
        return GPT(GPTConfig(vocab_size, c.block_size, c.n_layer, c.n_head, c.n_embd, c.dropout, c.bias))
