"""System ``hm-two-tower``: a retrieval two-tower model built from TorchRec
``EmbeddingBagCollection`` towers, trained with in-batch negatives (sampled softmax with a
log-popularity correction).

Customer tower: customer id, age bucket, and the bag of recently bought articles (mean-pooled).
Article tower: article id, product type, product group, index group, garment group, colour.
Both end in a small MLP and an L2 normalisation; the score is their dot product. Training
pairs are (customer as of the start of a week, article bought that week) over the last few
training weeks; recommendations are the nearest articles among those sold recently.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from benchmarks.api import System
from benchmarks.kinds.recommender import serve_by_recommend
from benchmarks.registry import register_system
from systems.hm.lib.common import bestsellers, fill

if TYPE_CHECKING:
    import pandas as pd

AGE_BUCKETS = 16
ARTICLE_FEATURES = ("product_type_no", "product_group_name", "index_group_no", "garment_group_no", "colour_group_code")


@dataclass
class Config:
    embedding_dim: int = 32
    output_dim: int = 64
    hidden: int = 128
    train_weeks: int = 6
    history_days: int = 90
    history_items: int = 20
    epochs: int = 3
    batch_size: int = 1024
    learning_rate: float = 3e-3
    temperature: float = 0.05
    recent_days: int = 28
    """Only articles sold in the last ``recent_days`` days are recommended."""
    popularity_weight: float = 1.0
    """At inference, add this × log(recent sales) to the logits: training removed the popularity
    prior (log-Q correction), ranking puts it back."""
    num_threads: int = 1


def history_csr(transactions: pd.DataFrame, n_customers: int, cutoff: int, days: int, items: int) -> tuple[np.ndarray, np.ndarray]:
    """Each customer's last ``items`` distinct articles bought in ``(cutoff - days, cutoff]``, as CSR.

    Returns:
        ``(indptr (n_customers + 1,), article codes)``.
    """
    import pandas as pd

    tx = transactions[(transactions["day"] <= cutoff) & (transactions["day"] > cutoff - days)]
    frame = pd.DataFrame({"c": tx["customer"].to_numpy(), "a": tx["article"].to_numpy(), "d": tx["day"].to_numpy()})
    frame = frame.sort_values(["c", "d"], ascending=[True, False], kind="stable").drop_duplicates(["c", "a"])
    frame = frame.groupby("c", sort=False).head(items)
    counts = np.bincount(frame["c"].to_numpy(), minlength=n_customers)
    return np.r_[0, np.cumsum(counts)].astype(np.int64), frame["a"].to_numpy().astype(np.int64)


def gather_jagged(indptr: np.ndarray, values: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Values and lengths of ``rows`` of a CSR structure (a jagged batch)."""
    starts, lengths = indptr[rows], indptr[rows + 1] - indptr[rows]
    offsets = np.repeat(starts - np.r_[0, np.cumsum(lengths)[:-1]], lengths)
    return values[np.arange(lengths.sum()) + offsets], lengths


def _build_model(config: Config, sizes: dict[str, int], device):
    import torch
    from torchrec import EmbeddingBagCollection, EmbeddingBagConfig, PoolingType

    class Tower(torch.nn.Module):
        def __init__(self, features: list[str]) -> None:
            super().__init__()
            self.features = features
            self.bags = EmbeddingBagCollection(
                tables=[EmbeddingBagConfig(name=f"table_{f}", embedding_dim=config.embedding_dim, num_embeddings=sizes[f],
                                           feature_names=[f], pooling=PoolingType.MEAN) for f in features],
                device=device,
            )
            self.mlp = torch.nn.Sequential(
                torch.nn.Linear(config.embedding_dim * len(features), config.hidden), torch.nn.ReLU(),
                torch.nn.Linear(config.hidden, config.output_dim),
            )

        def forward(self, kjt) -> torch.Tensor:
            pooled = self.bags(kjt).values()  # (B, embedding_dim * n_features)
            return torch.nn.functional.normalize(self.mlp(pooled), dim=-1)  # (B, output_dim)

    customer = Tower(["customer", "age", "history"])
    article = Tower(["article", *ARTICLE_FEATURES])
    return customer.to(device), article.to(device)


@register_system
class HMTwoTower(System):
    id = "hm-two-tower"
    kind = "recommender"
    Config = Config
    profile_overrides = {"smoke": {"epochs": 1, "train_weeks": 2, "embedding_dim": 8, "output_dim": 16, "hidden": 32}}
    requires = ("torch", "torchrec", "fbgemm_gpu")
    extra = "torchrec"
    description = "TorchRec EmbeddingBagCollection two-tower retrieval, in-batch negatives"

    def _customer_kjt(self, customers: np.ndarray, indptr: np.ndarray, history: np.ndarray):
        import torch
        from torchrec import KeyedJaggedTensor

        hist_values, hist_lengths = gather_jagged(indptr, history, customers)
        n = len(customers)
        values = np.concatenate([customers, self.age_bucket[customers], hist_values])
        lengths = np.concatenate([np.ones(n, np.int64), np.ones(n, np.int64), hist_lengths])
        return KeyedJaggedTensor.from_lengths_sync(
            keys=["customer", "age", "history"], values=torch.as_tensor(values, dtype=torch.long, device=self.torch_device),
            lengths=torch.as_tensor(lengths, dtype=torch.int32, device=self.torch_device),
        )

    def _article_kjt(self, articles: np.ndarray):
        import torch
        from torchrec import KeyedJaggedTensor

        n = len(articles)
        values = np.concatenate([articles] + [self.article_codes[f][articles] for f in ARTICLE_FEATURES])
        return KeyedJaggedTensor.from_lengths_sync(
            keys=["article", *ARTICLE_FEATURES], values=torch.as_tensor(values, dtype=torch.long, device=self.torch_device),
            lengths=torch.ones(n * (1 + len(ARTICLE_FEATURES)), dtype=torch.int32, device=self.torch_device),
        )

    def fit(self, train) -> None:
        import torch

        config = self.config
        torch.set_num_threads(config.num_threads)
        torch.manual_seed(self.seed)
        rng = np.random.default_rng(self.seed)
        self.torch_device = torch.device(self.device if self.device in ("cpu", "cuda", "mps") else "cpu")
        age = train.customers["age"].to_numpy()
        self.age_bucket = np.where(np.isnan(age), 0, np.clip((np.nan_to_num(age) - 14) // 5 + 1, 1, AGE_BUCKETS - 1)).astype(np.int64)
        self.article_codes = {f: np.maximum(train.articles[f].to_numpy().astype(np.int64), 0) for f in ARTICLE_FEATURES}
        sizes = {"customer": train.n_customers, "age": AGE_BUCKETS, "history": train.n_articles, "article": train.n_articles}
        sizes.update({f: int(codes.max(initial=0)) + 1 for f, codes in self.article_codes.items()})
        self.sizes = sizes
        self.customer_tower, self.article_tower = _build_model(config, sizes, self.torch_device)
        parameters = list(self.customer_tower.parameters()) + list(self.article_tower.parameters())
        optimizer = torch.optim.Adam(parameters, lr=config.learning_rate)

        tx = train.transactions
        weeks = []
        for week in range(config.train_weeks):
            start = train.last_day - 7 * (week + 1) + 1
            if start - 1 < 7:
                break
            pairs = tx[(tx["day"] >= start) & (tx["day"] < start + 7)][["customer", "article"]].drop_duplicates()
            indptr, history = history_csr(tx, train.n_customers, start - 1, config.history_days, config.history_items)
            weeks.append((pairs["customer"].to_numpy().astype(np.int64), pairs["article"].to_numpy().astype(np.int64), indptr, history))
        counts = np.bincount(tx["article"].to_numpy(), minlength=train.n_articles) + 1.0
        log_q = torch.as_tensor(np.log(counts / counts.sum()), dtype=torch.float32, device=self.torch_device)
        self.losses: list[float] = []
        for _ in range(config.epochs):
            for customers, articles, indptr, history in weeks:
                order = rng.permutation(len(customers))
                for begin in range(0, len(order), config.batch_size):
                    batch = order[begin:begin + config.batch_size]
                    if len(batch) < 2:
                        continue
                    users = self.customer_tower(self._customer_kjt(customers[batch], indptr, history))  # (B, D)
                    items = self.article_tower(self._article_kjt(articles[batch]))  # (B, D)
                    logits = users @ items.T / config.temperature  # (B, B)
                    logits = logits - log_q[torch.as_tensor(articles[batch], device=self.torch_device)][None, :]
                    same = torch.as_tensor(articles[batch][:, None] == articles[batch][None, :], device=self.torch_device)
                    logits = logits.masked_fill(same & ~torch.eye(len(batch), dtype=torch.bool, device=self.torch_device), -1e9)
                    loss = torch.nn.functional.cross_entropy(logits, torch.arange(len(batch), device=self.torch_device))
                    optimizer.zero_grad(set_to_none=True)
                    loss.backward()
                    optimizer.step()
                    self.losses.append(float(loss.detach()))
        self.indptr, self.history = history_csr(tx, train.n_customers, train.last_day, config.history_days, config.history_items)
        recent = tx[tx["day"] > train.last_day - config.recent_days]["article"].to_numpy()
        self.catalogue = np.unique(recent) if len(recent) else np.arange(train.n_articles)
        last_week = tx[tx["day"] > train.last_day - 7]["article"].to_numpy()
        sales = np.bincount(last_week, minlength=train.n_articles)[self.catalogue] + 1.0
        self.prior = torch.as_tensor(config.popularity_weight * np.log(sales), dtype=torch.float32, device=self.torch_device)
        self.top = bestsellers(tx, train.last_day, 7, 36)

    def recommend(self, customers: np.ndarray, k: int) -> np.ndarray:
        import torch

        with torch.no_grad():
            items = torch.cat([self.article_tower(self._article_kjt(self.catalogue[s:s + 8192]))
                               for s in range(0, len(self.catalogue), 8192)])  # (A, D)
            lists = []
            for start in range(0, len(customers), 8192):
                users = self.customer_tower(self._customer_kjt(customers[start:start + 8192], self.indptr, self.history))  # (B, D)
                scores = users @ items.T / self.config.temperature + self.prior[None, :]  # (B, A)
                top = torch.topk(scores, min(k, len(self.catalogue)), dim=1).indices.cpu().numpy()
                lists += list(self.catalogue[top])
        return fill(customers, lists, self.top, k)

    def report(self) -> dict:
        parameters = sum(p.numel() for p in self.customer_tower.parameters()) + sum(p.numel() for p in self.article_tower.parameters())
        tail = self.losses[-20:]
        return {"parameters": int(parameters), "steps": len(self.losses), "final_loss": float(np.mean(tail)) if tail else None}

    def __getstate__(self) -> dict:
        """Pickled as the towers' weights (their class is built inside ``_build_model``, so it cannot be pickled)."""
        state = dict(self.__dict__)
        for name in ("customer_tower", "article_tower"):
            if name in state:
                state[name] = {key: tensor.cpu() for key, tensor in state[name].state_dict().items()}
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        if isinstance(state.get("customer_tower"), dict):
            self.customer_tower, self.article_tower = _build_model(self.config, self.sizes, self.torch_device)
            for name in ("customer_tower", "article_tower"):
                getattr(self, name).load_state_dict(state[name])

    def serve(self, batch: list[int], k: int) -> list[np.ndarray]:
        """Per customer its k articles, through ``recommend`` on the batch (its per-customer path)."""
        return serve_by_recommend(self, batch, k)
