"""A scalar autograd engine: each ``Value`` remembers how it was made and backpropagates.

One operation = one closure that adds the local gradient to its inputs. Checked against
torch in tests/test_micrograd.py.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Union

Number = Union[int, float]


class Value:
    """A scalar with a gradient.

    >>> a = Value(2.0); b = a * a + a; b.backward(); a.grad
    5.0
    """

    __slots__ = ("data", "grad", "_backward", "_prev", "_op")

    def __init__(self, data: Number, _children: tuple[Value, ...] = (), _op: str = "") -> None:
        self.data = float(data)
        self.grad = 0.0
        self._backward: Callable[[], None] = lambda: None
        self._prev = _children
        self._op = _op

    def __reduce__(self) -> tuple[type[Value], tuple[float]]:
        """A pickled Value is its number: a saved model keeps its parameters, not the graph or gradients of training."""
        return Value, (self.data,)

    @staticmethod
    def _lift(other: Value | Number) -> Value:
        return other if isinstance(other, Value) else Value(other)

    def __add__(self, other: Value | Number) -> Value:
        other = self._lift(other)
        out = Value(self.data + other.data, (self, other), "+")

        def _backward() -> None:
            self.grad += out.grad
            other.grad += out.grad

        out._backward = _backward
        return out

    def __mul__(self, other: Value | Number) -> Value:
        other = self._lift(other)
        out = Value(self.data * other.data, (self, other), "*")

        def _backward() -> None:
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad

        out._backward = _backward
        return out

    def __pow__(self, exponent: Number) -> Value:
        if not isinstance(exponent, (int, float)):
            raise TypeError("only int/float powers are supported")
        out = Value(self.data**exponent, (self,), f"**{exponent}")

        def _backward() -> None:
            self.grad += exponent * self.data ** (exponent - 1) * out.grad

        out._backward = _backward
        return out

    @staticmethod
    def total(values: list[Value | Number]) -> Value:
        """The sum of many values as one node (the n-ary form of ``+``: a smaller graph)."""
        items = [Value._lift(v) for v in values]
        out = Value(sum(v.data for v in items), tuple(items), "sum")

        def _backward() -> None:
            for v in items:
                v.grad += out.grad

        out._backward = _backward
        return out

    def relu(self) -> Value:
        out = Value(self.data if self.data > 0 else 0.0, (self,), "relu")

        def _backward() -> None:
            self.grad += (out.data > 0) * out.grad

        out._backward = _backward
        return out

    def tanh(self) -> Value:
        t = math.tanh(self.data)
        out = Value(t, (self,), "tanh")

        def _backward() -> None:
            self.grad += (1.0 - t * t) * out.grad

        out._backward = _backward
        return out

    def exp(self) -> Value:
        e = math.exp(self.data)
        out = Value(e, (self,), "exp")

        def _backward() -> None:
            self.grad += e * out.grad

        out._backward = _backward
        return out

    def log(self) -> Value:
        if self.data <= 0:
            raise ValueError(f"log of non-positive value {self.data}")
        out = Value(math.log(self.data), (self,), "log")

        def _backward() -> None:
            self.grad += out.grad / self.data

        out._backward = _backward
        return out

    def backward(self) -> None:
        """Set ``grad`` of every node in the graph to d(self)/d(node)."""
        order: list[Value] = []
        seen: set[int] = set()
        stack: list[tuple[Value, bool]] = [(self, False)]
        while stack:  # iterative topological sort: deep graphs must not hit the recursion limit
            node, expanded = stack.pop()
            if expanded:
                order.append(node)
                continue
            if id(node) in seen:
                continue
            seen.add(id(node))
            stack.append((node, True))
            stack.extend((child, False) for child in node._prev if id(child) not in seen)
        self.grad = 1.0
        for node in reversed(order):
            node._backward()

    def __neg__(self) -> Value:
        return self * -1

    def __radd__(self, other: Number) -> Value:
        return self + other

    def __sub__(self, other: Value | Number) -> Value:
        return self + (-self._lift(other))

    def __rsub__(self, other: Number) -> Value:
        return self._lift(other) + (-self)

    def __rmul__(self, other: Number) -> Value:
        return self * other

    def __truediv__(self, other: Value | Number) -> Value:
        return self * self._lift(other) ** -1

    def __rtruediv__(self, other: Number) -> Value:
        return self._lift(other) * self**-1

    def __repr__(self) -> str:
        return f"Value(data={self.data}, grad={self.grad})"
