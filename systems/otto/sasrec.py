"""System ``otto-sasrec``: SASRec (Kang & McAuley, 2018), a causal transformer over the session's aids, in PyTorch.

Each session is its sequence of aids (consecutive repeats merged, the last ``max_length``
kept); the model learns to predict the next aid at every position with a softmax over all
items (tied input/output embeddings), or over ``negatives`` shared random items when the
catalogue is too large (or the CPU too slow) for a full softmax. Trained on the training sessions and the
truncated test sessions (no labels are used). Clicks: the model's top aids for the next
event. Carts and orders: the session's own aids first (Σ recency × type weight), then the
model's top aids — a sequence model alone does not know that buys repeat earlier views.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from benchmarks.api import System
from benchmarks.kinds.session_recommender import serve_by_recommend
from benchmarks.registry import register_system
from systems.otto.lib.common import EVENT_TYPES, history_scores, popular_items, test_sessions, top_k_lists


@dataclass
class Config:
    max_length: int = 50
    dim: int = 64
    layers: int = 2
    heads: int = 2
    dropout: float = 0.1
    epochs: int = 3
    """Default-profile data (scale 0.004), one seed: 1 epoch 0.4853, 3 epochs 0.5172, 6 epochs 0.5248 (fit 303 s on 2 cores)."""
    batch_size: int = 256
    learning_rate: float = 5e-3
    weight_decay: float = 0.0
    negatives: int = 512
    """N > 0: sampled softmax against N shared uniform negatives per batch (fast on CPU, scales to
    1.8M items); 0: full softmax over all items."""
    history_weight_buys: float = 1000.0
    """Multiplier of the session-history score for carts/orders (large = the session's aids first)."""
    threads: int = 1
    """torch threads: 1, because on a shared 2-core machine two spinning threads ran 10x slower than one."""


def _build_model(n_items: int, config: Config) -> Any:
    import torch
    from torch import nn

    class SASRec(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.items = nn.Embedding(n_items + 1, config.dim, padding_idx=0)  # row 0 = padding
            self.positions = nn.Embedding(config.max_length, config.dim)
            layer = nn.TransformerEncoderLayer(config.dim, config.heads, dim_feedforward=2 * config.dim,
                                               dropout=config.dropout, batch_first=True, norm_first=True)
            self.encoder = nn.TransformerEncoder(layer, config.layers, enable_nested_tensor=False)
            self.norm = nn.LayerNorm(config.dim)
            self.dropout = nn.Dropout(config.dropout)
            nn.init.normal_(self.items.weight, std=config.dim**-0.5)  # unit-norm rows: dot products start near ±1
            with torch.no_grad():
                self.items.weight[0].zero_()

        def forward(self, sequences: torch.Tensor) -> torch.Tensor:
            B, T = sequences.shape  # (B, T) item indices, left-padded with 0
            positions = torch.arange(T, device=sequences.device)
            x = self.dropout(self.items(sequences) * config.dim**0.5 + self.positions(positions))  # (B, T, d)
            causal = torch.triu(torch.ones(T, T, dtype=torch.bool, device=sequences.device), diagonal=1)
            x = self.encoder(x, mask=causal)  # (B, T, d); padding sits left of real items, so causal masking hides it
            return self.norm(x)  # (B, T, d)

    return SASRec()


def _sequences(events: Any, max_length: int, index_of: dict[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """(session ids, (n, max_length) left-padded item indices) of the sessions in ``events``."""
    import polars as pl

    merged = events.filter(pl.col("aid") != pl.col("aid").shift(1).over("session").fill_null(-1))
    grouped = merged.group_by("session", maintain_order=True).agg(pl.col("aid").tail(max_length)).sort("session")
    sessions = grouped["session"].to_numpy()
    out = np.zeros((len(sessions), max_length), dtype=np.int64)
    for row, aids in enumerate(grouped["aid"].to_list()):
        indices = [index_of.get(a, 0) for a in aids]
        out[row, max_length - len(indices):] = indices
    return sessions, out


@register_system
class OttoSASRec(System):
    id = "otto-sasrec"
    kind = "session-recommender"
    Config = Config
    profile_overrides = {"smoke": {"epochs": 1, "dim": 32, "layers": 1, "max_length": 20}, "full": {"epochs": 6}}
    requires = ("torch", "polars")
    extra = "otto"
    description = "SASRec causal transformer, next-aid softmax; carts/orders: session aids first, then the model"

    def fit(self, train: Any, test: Any) -> None:
        import polars as pl
        import torch

        torch.manual_seed(self.seed)
        torch.set_num_threads(self.config.threads)
        rng = np.random.default_rng(self.seed)
        events = pl.concat([train, test])
        self.item_of_index = np.concatenate(([-1], np.unique(events["aid"].to_numpy()))).astype(np.int64)
        self.index_of = {int(a): i for i, a in enumerate(self.item_of_index.tolist()) if i > 0}
        n_items = self.n_items = len(self.item_of_index) - 1
        _, sequences = _sequences(events, self.config.max_length + 1, self.index_of)
        sequences = sequences[(sequences > 0).sum(axis=1) >= 2]  # (n, T+1): need one input and one target
        self.model = _build_model(n_items, self.config).to(self.device)
        optimizer = torch.optim.AdamW(self.model.parameters(), lr=self.config.learning_rate, weight_decay=self.config.weight_decay)
        self.losses: list[float] = []
        for _ in range(self.config.epochs):
            order = rng.permutation(len(sequences))
            total, batches = 0.0, 0
            self.model.train()
            for start in range(0, len(order), self.config.batch_size):
                batch = torch.as_tensor(sequences[order[start:start + self.config.batch_size]], device=self.device)
                inputs, targets = batch[:, :-1], batch[:, 1:]  # (B, T)
                valid = (inputs > 0) & (targets > 0)  # (B, T)
                hidden = self.model(inputs)[valid]  # (N, d)
                wanted = targets[valid]  # (N,)
                if self.config.negatives and self.config.negatives < n_items:
                    negatives = torch.randint(1, n_items + 1, (self.config.negatives,), device=self.device)  # (M,)
                    positive = (hidden * self.model.items(wanted)).sum(-1, keepdim=True)  # (N, 1)
                    negative = hidden @ self.model.items(negatives).T  # (N, M), shared by the batch
                    negative = negative.masked_fill(negatives[None, :] == wanted[:, None], float("-inf"))
                    logits = torch.cat([positive, negative], dim=1)  # (N, 1 + M): the target is column 0
                    loss = torch.nn.functional.cross_entropy(logits, torch.zeros(len(wanted), dtype=torch.long, device=self.device))
                else:
                    logits = hidden @ self.model.items.weight.T  # (N, n_items + 1)
                    logits[:, 0] = float("-inf")
                    loss = torch.nn.functional.cross_entropy(logits, wanted)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                total += float(loss.detach())
                batches += 1
            self.losses.append(total / max(1, batches))
        self.popular = popular_items(train, 40)

    def recommend(self, test: Any, k: int) -> dict[str, np.ndarray]:
        import polars as pl
        import torch

        sessions = test_sessions(test)
        seq_sessions, sequences = _sequences(test, self.config.max_length, self.index_of)
        self.model.eval()
        top_items, top_scores = [], []
        with torch.no_grad():
            for start in range(0, len(sequences), 1024):
                batch = torch.as_tensor(sequences[start:start + 1024], device=self.device)
                last = self.model(batch)[:, -1]  # (B, d) state after the latest event
                probabilities = torch.softmax(last @ self.model.items.weight.T, dim=-1)  # (B, n_items + 1)
                probabilities[:, 0] = 0.0
                values, indices = probabilities.topk(min(2 * k, probabilities.shape[1] - 1), dim=-1)  # (B, 2k)
                top_items.append(self.item_of_index[indices.cpu().numpy()])
                top_scores.append(values.cpu().numpy())
        items, scores = np.concatenate(top_items), np.concatenate(top_scores)
        model_scores = pl.DataFrame({
            "session": np.repeat(seq_sessions, items.shape[1]).astype(np.int32),
            "aid": items.ravel().astype(np.int32),
            "model": scores.ravel().astype(np.float64),
        })
        clicks = model_scores.rename({"model": "score"})
        history = history_scores(test).select("session", "aid", "history")
        buys = (history.join(model_scores, on=["session", "aid"], how="full", coalesce=True)
                .select("session", "aid", (self.config.history_weight_buys * pl.col("history").fill_null(0.0)
                                           + pl.col("model").fill_null(0.0)).alias("score")))
        result: dict[str, np.ndarray] = {"session": sessions}
        for name in EVENT_TYPES:
            result[name] = top_k_lists(clicks if name == "clicks" else buys, sessions, k, self.popular[name])
        return result

    def report(self) -> dict[str, Any]:
        return {"parameters": sum(p.numel() for p in self.model.parameters()), "epoch_losses": self.losses}

    def __getstate__(self) -> dict[str, Any]:
        """Pickled as its weights (the model's class is built inside ``_build_model``, so it cannot be pickled)."""
        state = dict(self.__dict__)
        if "model" in state:
            state["model"] = {name: tensor.cpu() for name, tensor in self.model.state_dict().items()}
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        if isinstance(state.get("model"), dict):
            self.model = _build_model(self.n_items, self.config).to(self.device)
            self.model.load_state_dict(state["model"])
            self.model.eval()

    def serve(self, batch: list[Any], k: int) -> list[dict[str, np.ndarray]]:
        """Per session its k aids per event type, through ``recommend`` on the batch's events (each session is
        answered from its own events)."""
        return serve_by_recommend(self, batch, k)
