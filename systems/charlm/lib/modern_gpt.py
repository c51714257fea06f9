"""A character GPT with the modded-nanoGPT speedrun's architecture changes, each one switchable.

Against ``gpt_model.py`` (nanoGPT): parameter-free RMSNorm everywhere (also on the embeddings), an
untied output head, and four switches (``ModernGPTConfig``):

- ``rotary``: rotary position embeddings on queries and keys (Su et al., 2021) instead of learned
  absolute positions added to the input;
- ``qk_norm``: RMSNorm of each head's queries and keys before attention;
- ``relu2``: ReLU² (``relu(x)²``, So et al., 2021) instead of GELU in the MLP;
- ``zero_init``: the attention and MLP output projections and the head start at zero (each block
  starts as the identity), instead of GPT-2's small normal init.

The hidden weight matrices are ``hidden_matrices()`` (for Muon); the rest (embeddings, head) go to
AdamW. The query/key/value weight is stored as a stack of three (C, C) matrices, so Muon
orthogonalises each of them on its own.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn as nn
from torch.nn import functional as F


@dataclass
class ModernGPTConfig:
    vocab_size: int = 65
    block_size: int = 64
    n_layer: int = 4
    n_head: int = 4
    n_embd: int = 128
    rotary: bool = True
    qk_norm: bool = True
    relu2: bool = True
    zero_init: bool = True


def rms_norm(x: torch.Tensor) -> torch.Tensor:
    return F.rms_norm(x, (x.size(-1),))


class Rotary(nn.Module):
    """cos/sin tables of rotary embeddings for head size ``dim``: pair ``(i, i + dim/2)`` of position
    ``t`` turns by the angle ``t · base^(-2i/dim)``."""

    def __init__(self, dim: int, max_len: int, base: float = 10_000.0) -> None:
        super().__init__()
        inverse_frequency = base ** (-torch.arange(0, dim, 2, dtype=torch.float32) / dim)  # (dim/2,)
        angles = torch.outer(torch.arange(max_len, dtype=torch.float32), inverse_frequency)  # (max_len, dim/2)
        self.register_buffer("cos", angles.cos(), persistent=False)
        self.register_buffer("sin", angles.sin(), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Rotate (B, nh, T, hs) queries or keys by their positions."""
        T, half = x.size(-2), x.size(-1) // 2
        cos, sin = self.cos[:T].to(x.dtype), self.sin[:T].to(x.dtype)  # (T, hs/2)
        x1, x2 = x[..., :half], x[..., half:]  # 2 × (B, nh, T, hs/2)
        return torch.cat([x1 * cos + x2 * sin, x2 * cos - x1 * sin], dim=-1)  # (B, nh, T, hs)


class CausalSelfAttention(nn.Module):
    def __init__(self, config: ModernGPTConfig) -> None:
        super().__init__()
        assert config.n_embd % config.n_head == 0 and (config.n_embd // config.n_head) % 2 == 0
        C = config.n_embd
        self.qkv_weight = nn.Parameter(torch.empty(3, C, C))  # (3, C, C): query, key, value
        self.c_proj = nn.Linear(C, C, bias=False)
        self.n_head = config.n_head
        self.qk_norm = config.qk_norm
        self.rotary = Rotary(C // config.n_head, config.block_size) if config.rotary else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, T, C = x.size()
        qkv = F.linear(x, self.qkv_weight.view(3 * C, C))  # (B, T, 3C)
        q, k, v = (t.view(B, T, self.n_head, C // self.n_head).transpose(1, 2) for t in qkv.split(C, dim=2))  # 3 × (B, nh, T, hs)
        if self.rotary is not None:
            q, k = self.rotary(q), self.rotary(k)
        if self.qk_norm:
            q, k = rms_norm(q), rms_norm(k)
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)  # (B, nh, T, hs)
        return self.c_proj(y.transpose(1, 2).contiguous().view(B, T, C))  # (B, T, C)


class MLP(nn.Module):
    def __init__(self, config: ModernGPTConfig) -> None:
        super().__init__()
        self.c_fc = nn.Linear(config.n_embd, 4 * config.n_embd, bias=False)
        self.c_proj = nn.Linear(4 * config.n_embd, config.n_embd, bias=False)
        self.relu2 = config.relu2

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.c_fc(x)  # (B, T, 4C)
        h = F.relu(h).square() if self.relu2 else F.gelu(h)
        return self.c_proj(h)  # (B, T, C)


class Block(nn.Module):
    def __init__(self, config: ModernGPTConfig) -> None:
        super().__init__()
        self.attn = CausalSelfAttention(config)
        self.mlp = MLP(config)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(rms_norm(x))
        return x + self.mlp(rms_norm(x))


class ModernGPT(nn.Module):
    """Maps ids (B, T) with T ≤ block_size to next-character logits (B, T, vocab_size)."""

    def __init__(self, config: ModernGPTConfig) -> None:
        super().__init__()
        self.config = config
        self.wte = nn.Embedding(config.vocab_size, config.n_embd)
        self.wpe = None if config.rotary else nn.Embedding(config.block_size, config.n_embd)
        self.blocks = nn.ModuleList([Block(config) for _ in range(config.n_layer)])
        self.lm_head = nn.Linear(config.n_embd, config.vocab_size, bias=False)
        self._init_weights()

    def _init_weights(self) -> None:
        C, L = self.config.n_embd, self.config.n_layer
        nn.init.normal_(self.wte.weight, std=1.0)  # normalised right away, so only directions matter
        if self.wpe is not None:
            nn.init.normal_(self.wpe.weight, std=1.0)
        for block in self.blocks:
            nn.init.normal_(block.attn.qkv_weight, std=C**-0.5)
            nn.init.normal_(block.mlp.c_fc.weight, std=C**-0.5)
            for projection in (block.attn.c_proj.weight, block.mlp.c_proj.weight):
                if self.config.zero_init:
                    nn.init.zeros_(projection)
                else:
                    nn.init.normal_(projection, std=0.02 / math.sqrt(2 * L))
        if self.config.zero_init:
            nn.init.zeros_(self.lm_head.weight)
        else:
            nn.init.normal_(self.lm_head.weight, std=0.02)

    def hidden_matrices(self) -> list[nn.Parameter]:
        """The weight matrices inside the blocks (Muon's); everything else is AdamW's."""
        return [p for block in self.blocks for p in block.parameters() if p.dim() >= 2]

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        B, T = idx.size()
        if T > self.config.block_size:
            raise ValueError(f"sequence of length {T} is longer than block_size {self.config.block_size}")
        x = self.wte(idx)  # (B, T, C)
        if self.wpe is not None:
            x = x + self.wpe(torch.arange(T, device=idx.device))  # (B, T, C)
        x = rms_norm(x)
        for block in self.blocks:
            x = block(x)
        return self.lm_head(rms_norm(x))  # (B, T, V)
