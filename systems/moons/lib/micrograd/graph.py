"""The computation graph of a ``Value``, with data and gradient at each node, drawn with Graphviz (after micrograd's
``draw_dot``). Graphviz is optional: the ``graph`` extra (``pip install -e ".[graph]"``) and its ``dot`` program."""

from __future__ import annotations

import shutil
from typing import Any

from systems.moons.lib.micrograd.engine import Value

INSTALL_HINT = 'pip install -e ".[graph]" and Graphviz\'s dot program (Debian/Ubuntu: apt-get install graphviz)'


def trace(root: Value) -> tuple[list[Value], list[tuple[Value, Value]]]:
    """Every node of ``root``'s graph (in a fixed order: depth first from the root) and every edge child → parent.

    >>> a = Value(2.0); b = a * 3.0 + a
    >>> nodes, edges = trace(b)
    >>> len(nodes), len(edges)
    (4, 4)
    """
    nodes: list[Value] = []
    edges: list[tuple[Value, Value]] = []
    seen: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        nodes.append(node)
        for child in node._prev:
            edges.append((child, node))
            stack.append(child)
    return nodes, edges


def example_neuron() -> tuple[Value, dict[int, str]]:
    """One tanh neuron with two inputs, after micrograd's lecture, backpropagated: ``o = tanh(x1*w1 + x2*w2 + b)``.

    Returns:
        The output ``o`` (gradients filled) and a name for each named node, by ``id``.

    >>> o, names = example_neuron()
    >>> round(o.data, 4), sorted(names.values())[:3]
    (0.7071, ['b', 'n', 'o'])
    """
    x1, x2, w1, w2 = Value(2.0), Value(0.0), Value(-3.0), Value(1.0)
    b = Value(6.8813735870195432)
    x1w1, x2w2 = x1 * w1, x2 * w2
    n = x1w1 + x2w2 + b
    o = n.tanh()
    o.backward()
    names = {id(x1): "x1", id(x2): "x2", id(w1): "w1", id(w2): "w2", id(b): "b", id(x1w1): "x1*w1", id(x2w2): "x2*w2",
             id(n): "n", id(o): "o"}
    return o, names


def draw_dot(root: Value, names: dict[int, str] | None = None, rankdir: str = "LR") -> Any:
    """A ``graphviz.Digraph`` of ``root``'s graph: one record per value (name, data, grad), one small node per
    operation between a value and its inputs.

    Raises:
        ImportError: the ``graphviz`` package is not installed (see ``INSTALL_HINT``).
    """
    import graphviz

    names = names or {}
    nodes, edges = trace(root)
    number = {id(node): index for index, node in enumerate(nodes)}
    dot = graphviz.Digraph(format="svg", graph_attr={"rankdir": rankdir})
    for node in nodes:
        uid = f"v{number[id(node)]}"
        name = names.get(id(node), "")
        label = " | ".join(part for part in (name, f"data {node.data:.4f}", f"grad {node.grad:.4f}") if part)
        dot.node(uid, label="{ " + label + " }", shape="record")
        if node._op:
            dot.node(uid + "op", label=node._op)
            dot.edge(uid + "op", uid)
    for child, parent in edges:
        dot.edge(f"v{number[id(child)]}", f"v{number[id(parent)]}op")
    return dot


def can_draw() -> bool:
    """True when both the ``graphviz`` package and its ``dot`` program are here."""
    try:
        import graphviz  # noqa: F401
    except ImportError:
        return False
    return shutil.which("dot") is not None


def neuron_svg() -> bytes:
    """The example neuron's graph as SVG (needs :func:`can_draw`)."""
    o, names = example_neuron()
    return draw_dot(o, names).pipe(format="svg")
