"""Neuron, Layer and MLP built from ``Value`` scalars."""

from __future__ import annotations

import random
from collections.abc import Sequence

from systems.moons.lib.micrograd.engine import Value


class Module:
    def zero_grad(self) -> None:
        for p in self.parameters():
            p.grad = 0.0

    def parameters(self) -> list[Value]:
        return []


class Neuron(Module):
    def __init__(self, n_inputs: int, nonlinear: bool = True, rng: random.Random | None = None) -> None:
        rng = rng or random.Random()
        self.w = [Value(rng.uniform(-1, 1)) for _ in range(n_inputs)]
        self.b = Value(0.0)
        self.nonlinear = nonlinear

    def __call__(self, x: Sequence[Value | float]) -> Value:
        activation = Value.total([*(wi * xi for wi, xi in zip(self.w, x)), self.b])
        return activation.relu() if self.nonlinear else activation

    def parameters(self) -> list[Value]:
        return [*self.w, self.b]


class Layer(Module):
    def __init__(self, n_inputs: int, n_outputs: int, nonlinear: bool = True, rng: random.Random | None = None) -> None:
        self.neurons = [Neuron(n_inputs, nonlinear, rng) for _ in range(n_outputs)]

    def __call__(self, x: Sequence[Value | float]) -> Value | list[Value]:
        out = [n(x) for n in self.neurons]
        return out[0] if len(out) == 1 else out

    def parameters(self) -> list[Value]:
        return [p for n in self.neurons for p in n.parameters()]


class MLP(Module):
    """ReLU hidden layers and a linear output layer."""

    def __init__(self, n_inputs: int, sizes: Sequence[int], seed: int = 0) -> None:
        rng = random.Random(seed)
        dims = [n_inputs, *sizes]
        self.layers = [Layer(dims[i], dims[i + 1], nonlinear=i != len(sizes) - 1, rng=rng) for i in range(len(sizes))]

    def __call__(self, x: Sequence[Value | float]) -> Value | list[Value]:
        out: Sequence[Value | float] | Value = x
        for layer in self.layers:
            out = layer(out)  # type: ignore[arg-type]
        return out  # type: ignore[return-value]

    def parameters(self) -> list[Value]:
        return [p for layer in self.layers for p in layer.parameters()]
