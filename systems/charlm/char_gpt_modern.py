"""System ``char-gpt-modern``: ``char-gpt`` with the modded-nanoGPT speedrun's best-documented ingredients.

The model is ``lib/modern_gpt.py`` (rotary embeddings, QK-norm, ReLU², zero-initialised output
projections, RMSNorm, untied head); hidden weight matrices are trained with Muon (``lib/muon.py``),
embeddings and head with AdamW; the learning rate follows a trapezoid (warmup, constant, linear
decay to zero). Each ingredient is a boolean field, so ``--set muon=False`` (etc.) measures what it
buys; switched off, they fall back to char-gpt's choices: learned absolute positions, no QK-norm,
GELU, GPT-2 init, AdamW for every matrix, cosine decay to ``min_learning_rate``.

The ``default`` hyperparameters were tuned for the ``shakespeare-char-speedrun`` task on CPU, i.e. on
the strict validation loss that task measures (selection on the validation set, as in every speedrun):
seed 0, one thread, batch × context 16 × 128 (400 iterations), 32 × 128 (250), 24 × 64 (450) and
16 × 64 (500, 600), Muon lr 0.02 and 0.04. 16 × 64 for 600 iterations reached 1.70 in the fewest CPU
seconds with a margin (500 iterations reached it only at the last step). The same context as
char-gpt (64) keeps the comparison about the recipe. ``full`` (GPU) is untuned: no GPU was available.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from benchmarks.registry import register_system
from systems.charlm.lib.neural import NeuralCharLM, TrainConfig, learning_rate_at, trapezoid_learning_rate


@dataclass
class Config(TrainConfig):
    n_layer: int = 4
    n_head: int = 4
    n_embd: int = 128
    block_size: int = 64
    batch_size: int = 16
    iterations: int = 600
    learning_rate: float = 3e-3
    """AdamW's peak rate for the head (and for the blocks' matrices when ``muon`` is off)."""
    embedding_learning_rate: float = 0.05
    """AdamW's peak rate for the embeddings (initialised with std 1 and normalised, so rates are relative)."""
    muon_learning_rate: float = 0.02
    muon_momentum: float = 0.95
    weight_decay: float = 0.0
    warmup_iterations: int = 50
    cooldown_fraction: float = 0.5
    """Trapezoid: the share of the iterations over which the rate decays linearly to zero."""
    eval_interval: int = 25
    """Frequent checkpoints: the speedrun's time to target is only known to within one interval."""
    rotary: bool = True
    qk_norm: bool = True
    relu2: bool = True
    zero_init: bool = True
    muon: bool = True
    trapezoid: bool = True


@register_system
class CharGPTModern(NeuralCharLM):
    id = "char-gpt-modern"
    Config = Config
    profile_overrides = {
        "smoke": {"n_layer": 1, "n_head": 2, "n_embd": 32, "block_size": 32, "batch_size": 8, "iterations": 30, "eval_interval": 15},
        "full": {"n_layer": 6, "n_head": 6, "n_embd": 384, "block_size": 256, "batch_size": 64, "iterations": 3000,
                 "eval_interval": 250},
    }
    description = "char-gpt + rotary, QK-norm, ReLU², zero-init projections, Muon for hidden matrices, trapezoid schedule"

    def build_model(self, vocab_size: int) -> Any:
        from systems.charlm.lib.modern_gpt import ModernGPT, ModernGPTConfig

        c = self.config
        return ModernGPT(ModernGPTConfig(vocab_size, c.block_size, c.n_layer, c.n_head, c.n_embd,
                                         rotary=c.rotary, qk_norm=c.qk_norm, relu2=c.relu2, zero_init=c.zero_init))

    def make_optimizers(self, model: Any) -> list[Any]:
        """AdamW for the embeddings (at ``embedding_learning_rate``) and the head (and for the blocks'
        matrices when ``muon`` is off); Muon for the blocks' matrices."""
        import torch

        from systems.charlm.lib.muon import Muon

        c = self.config
        hidden = model.hidden_matrices()
        embeddings = [p for p in (model.wte.weight, getattr(model.wpe, "weight", None)) if p is not None]
        groups = [{"params": embeddings, "lr": c.embedding_learning_rate}, {"params": [model.lm_head.weight]}]
        if not c.muon:
            groups.append({"params": hidden})
        adam = torch.optim.AdamW(groups, lr=c.learning_rate, betas=(0.9, c.beta2), weight_decay=c.weight_decay)
        if not c.muon:
            return [adam]
        return [adam, Muon(hidden, lr=c.muon_learning_rate, momentum=c.muon_momentum, weight_decay=c.weight_decay)]

    def learning_rate_at(self, iteration: int) -> float:
        c = self.config
        if c.trapezoid:
            return trapezoid_learning_rate(iteration, c.iterations, c.learning_rate, c.warmup_iterations, c.cooldown_fraction)
        return learning_rate_at(iteration, c)
