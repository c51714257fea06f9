"""System ``micrograd-mlp``: micrograd's demo, a 2-16-16-1 MLP of scalar ``Value``s trained with
the max-margin (hinge) loss plus L2 and full-batch SGD with a decaying learning rate."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from benchmarks.api import System
from benchmarks.expected import Expected
from benchmarks.kinds.classifier import serve_by_predict
from benchmarks.registry import register_system
from systems.moons.lib.micrograd.engine import Value
from systems.moons.lib.micrograd.nn import MLP


@dataclass
class Config:
    hidden: tuple[int, ...] = (16, 16)
    steps: int = 100
    batch_size: int | None = 32
    """Points per SGD step (None: full batch); micrograd's demo offers both."""
    learning_rate: float = 1.0
    """Initial rate; decays linearly to 10% of it, as in micrograd's demo."""
    alpha: float = 1e-4
    """L2 regularisation strength."""


@register_system
class MicrogradMLP(System):
    id = "micrograd-mlp"
    kind = "classifier"
    Config = Config
    # `python -m benchmarks check --profile smoke` reruns this (the smoke data, seed 0).
    expected = (Expected(task="moons-acc", profile="smoke", metric="accuracy", value=0.916, tolerance=0.004,
                         seed=0, dataset_fingerprint="4ba193759a562c60d59b981c048d50006355f55f65b6bd559cef9767d68a064a"),)
    profile_overrides = {"smoke": {"steps": 30}}
    description = "the project's own scalar autograd (micrograd) MLP, hinge loss + L2, SGD"

    def fit(self, X: np.ndarray, y: np.ndarray) -> None:
        self.model = MLP(X.shape[1], [*self.config.hidden, 1], seed=self.seed)
        inputs = [[Value(float(v)) for v in row] for row in X]
        targets = [1.0 if label == 1 else -1.0 for label in y]
        parameters = self.model.parameters()
        self.losses: list[float] = []
        rng = np.random.default_rng(self.seed)
        for step in range(self.config.steps):
            batch = range(len(inputs))
            if self.config.batch_size is not None and self.config.batch_size < len(inputs):
                batch = rng.choice(len(inputs), size=self.config.batch_size, replace=False).tolist()
            scores = [self.model(inputs[i]) for i in batch]
            margins = [(1 + -targets[i] * s).relu() for i, s in zip(batch, scores)]
            data_loss = Value.total(margins) * (1.0 / len(margins))
            reg_loss = self.config.alpha * Value.total([p * p for p in parameters])
            loss = data_loss + reg_loss
            self.model.zero_grad()
            loss.backward()
            rate = self.config.learning_rate * (1.0 - 0.9 * step / self.config.steps)
            for p in parameters:
                p.data -= rate * p.grad
            self.losses.append(loss.data)
            self.context.checkpoint(step + 1, (step + 1) * len(batch), loss.data)  # the task's loss curve

    def predict(self, X: np.ndarray) -> np.ndarray:
        # The trained weights, evaluated with numpy: the same function, without building graphs.
        out = X.astype(np.float64)  # (n, d_in)
        for index, layer in enumerate(self.model.layers):
            weights = np.array([[w.data for w in n.w] for n in layer.neurons])  # (d_out, d_in)
            bias = np.array([n.b.data for n in layer.neurons])  # (d_out,)
            out = out @ weights.T + bias
            if index < len(self.model.layers) - 1:
                out = np.maximum(out, 0.0)
        return (out[:, 0] > 0).astype(int)

    @classmethod
    def draw_pictures(cls, out_dir: Path, task_id: str) -> list[tuple[str, Path | None]]:
        """micrograd's graph of one tanh neuron, drawn from this engine with data and gradient at each node (Graphviz)."""
        from benchmarks.records import atomic_write_text
        from systems.moons.lib.micrograd import graph

        caption = ("micrograd-mlp's engine: the computation graph of one neuron, o = tanh(x1*w1 + x2*w2 + b), after "
                   "backward(): each box holds a value's data and its gradient d o / d value; the small nodes are the "
                   "operations")
        if not graph.can_draw():
            return [(f"{caption}. Graphviz is not installed here, so the picture is not drawn: {graph.INSTALL_HINT}, "
                     "then `python -m benchmarks leaderboard`.", None)]
        path = Path(out_dir) / f"{task_id}-micrograd-graph.svg"
        atomic_write_text(path, graph.neuron_svg().decode("utf-8"))
        return [(caption, path)]

    def report(self) -> dict:
        return {"parameters": len(self.model.parameters()), "final_loss": self.losses[-1] if self.losses else None}

    def serve(self, batch: list[np.ndarray]) -> list[int]:
        """One class per point, through ``predict`` on the batch (its per-point path)."""
        return serve_by_predict(self, batch)
