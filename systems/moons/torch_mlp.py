"""System ``torch-mlp``: the same 2-16-16-1 MLP as micrograd's demo, in PyTorch, trained with
Adam on the logistic loss, on the detected device."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from benchmarks.api import System
from benchmarks.expected import Expected
from benchmarks.kinds.classifier import serve_by_predict
from benchmarks.registry import register_system


@dataclass
class Config:
    hidden: tuple[int, ...] = (16, 16)
    steps: int = 500
    learning_rate: float = 0.01
    weight_decay: float = 1e-4


@register_system
class TorchMLP(System):
    id = "torch-mlp"
    kind = "classifier"
    Config = Config
    # `python -m benchmarks check --profile smoke` reruns this (the smoke data, seed 0).
    expected = (Expected(task="moons-acc", profile="smoke", metric="accuracy", value=0.996, tolerance=0.01,
                         seed=0, dataset_fingerprint="4ba193759a562c60d59b981c048d50006355f55f65b6bd559cef9767d68a064a"),)
    profile_overrides = {"smoke": {"steps": 200}}
    requires = ("torch",)
    extra = "torch"
    description = "PyTorch MLP, Adam, logistic loss"

    def fit(self, X: np.ndarray, y: np.ndarray) -> None:
        import torch

        torch.manual_seed(self.seed)
        dims = [X.shape[1], *self.config.hidden]
        layers: list[torch.nn.Module] = []
        for d_in, d_out in zip(dims, dims[1:]):
            layers += [torch.nn.Linear(d_in, d_out), torch.nn.ReLU()]
        self.model = torch.nn.Sequential(*layers, torch.nn.Linear(dims[-1], 1)).to(self.device)
        inputs = torch.tensor(X, dtype=torch.float32, device=self.device)  # (n, 2)
        targets = torch.tensor(y, dtype=torch.float32, device=self.device)  # (n,)
        optimizer = torch.optim.AdamW(self.model.parameters(), lr=self.config.learning_rate, weight_decay=self.config.weight_decay)
        for step in range(self.config.steps):
            loss = torch.nn.functional.binary_cross_entropy_with_logits(self.model(inputs).squeeze(-1), targets)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            self.context.checkpoint(step + 1, (step + 1) * len(X), float(loss.detach()))  # the task's loss curve
        self.final_loss = float(loss.detach())

    def predict(self, X: np.ndarray) -> np.ndarray:
        import torch

        with torch.no_grad():
            logits = self.model(torch.tensor(X, dtype=torch.float32, device=self.device)).squeeze(-1)
        return (logits > 0).long().cpu().numpy()

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """(n,) probabilities of label 1 (``kinds.ProbabilisticClassifier``: shades in the boundary picture)."""
        import torch

        with torch.no_grad():
            logits = self.model(torch.tensor(X, dtype=torch.float32, device=self.device)).squeeze(-1)
        return torch.sigmoid(logits).cpu().numpy()

    def report(self) -> dict:
        return {"parameters": sum(p.numel() for p in self.model.parameters()), "final_loss": self.final_loss}

    def serve(self, batch: list[np.ndarray]) -> list[int]:
        """One class per point, through ``predict`` on the batch (its per-point path)."""
        return serve_by_predict(self, batch)
