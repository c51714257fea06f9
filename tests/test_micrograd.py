"""micrograd's Value against torch as the oracle, on random expression graphs."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from systems.moons.lib.micrograd.engine import Value
from systems.moons.lib.micrograd.nn import MLP

torch = pytest.importorskip("torch")

# Each op maps (a, b) to a new node, written once for Value and once for torch tensors.
# Denominators, logs and fractional powers see x*x + 1 >= 1, so every graph is well defined.
OPS = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / (b * b + 1),
    "rdiv": lambda a, b: 2.0 / (a * a + 1) - b,
    "square": lambda a, b: a**2,
    "cube": lambda a, b: a**3,
    "inverse": lambda a, b: (a * a + 1) ** -1,
    "sqrt": lambda a, b: (a * a + 1) ** 0.5,
    "neg": lambda a, b: -a + 3 * b,
    "relu": lambda a, b: a.relu() if isinstance(a, Value) else torch.relu(a),
    "tanh": lambda a, b: a.tanh() if isinstance(a, Value) else torch.tanh(a),
    "exp": lambda a, b: a.tanh().exp() if isinstance(a, Value) else torch.exp(torch.tanh(a)),
    "log": lambda a, b: (a * a + 1).log() if isinstance(a, Value) else torch.log(a * a + 1),
    "sum": lambda a, b: Value.total([a, b, a]) if isinstance(a, Value) else a + b + a,
}

graphs = st.tuples(
    st.lists(st.floats(-2, 2, allow_nan=False).filter(lambda x: abs(x) > 1e-3), min_size=1, max_size=4),
    st.lists(
        st.tuples(st.sampled_from(sorted(OPS)), st.integers(0, 1000), st.integers(0, 1000)),
        min_size=1, max_size=14,
    ),
)


def _build(leaves, steps, make_leaf):
    nodes = [make_leaf(x) for x in leaves]
    for op, i, j in steps:
        nodes.append(OPS[op](nodes[i % len(nodes)], nodes[j % len(nodes)]))
    return nodes


def _close(a: float, b: float, tol: float = 1e-6) -> bool:
    return abs(a - b) <= tol * max(1.0, abs(b))


@settings(max_examples=150, deadline=None)
@given(graphs)
def test_value_and_gradients_match_torch(graph):
    leaves, steps = graph
    mg_nodes = _build(leaves, steps, Value)
    mg_leaves = mg_nodes[: len(leaves)]
    mg_out = mg_nodes[-1]
    pt_leaves = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in leaves]
    pt_nodes = list(pt_leaves)
    for op, i, j in steps:
        pt_nodes.append(OPS[op](pt_nodes[i % len(pt_nodes)], pt_nodes[j % len(pt_nodes)]))
    pt_out = pt_nodes[-1]
    if not math.isfinite(mg_out.data):
        return
    mg_out.backward()
    if pt_out.requires_grad:
        pt_out.backward()
    assert _close(mg_out.data, pt_out.item())
    for mg_leaf, pt_leaf in zip(mg_leaves, pt_leaves):
        expected = 0.0 if pt_leaf.grad is None else pt_leaf.grad.item()
        assert _close(mg_leaf.grad, expected), (steps, mg_leaf.grad, expected)


def test_micrograd_readme_example():
    # The example from micrograd's README, with its published results.
    a = Value(-4.0)
    b = Value(2.0)
    c = a + b
    d = a * b + b**3
    c += c + 1
    c += 1 + c + (-a)
    d += d * 2 + (b + a).relu()
    d += 3 * d + (b - a).relu()
    e = c - d
    f = e**2
    g = f / 2.0
    g += 10.0 / f
    g.backward()
    assert abs(g.data - 24.7041) < 1e-4
    assert abs(a.grad - 138.8338) < 1e-4
    assert abs(b.grad - 645.5773) < 1e-4


def test_mlp_gradients_match_torch():
    model = MLP(3, [4, 4, 1], seed=7)
    x = [0.5, -1.5, 2.0]
    out = model(x)
    out.backward()
    # The same network in torch, with micrograd's weights.
    weights = [
        (torch.tensor([[w.data for w in n.w] for n in layer.neurons], dtype=torch.float64, requires_grad=True),
         torch.tensor([n.b.data for n in layer.neurons], dtype=torch.float64, requires_grad=True))
        for layer in model.layers
    ]
    h = torch.tensor(x, dtype=torch.float64)
    for index, (w, b) in enumerate(weights):
        h = w @ h + b
        if index < len(weights) - 1:
            h = torch.relu(h)
    h.sum().backward()
    assert _close(out.data, h.item())
    for layer, (w, b) in zip(model.layers, weights):
        for row, neuron in enumerate(layer.neurons):
            for col, weight in enumerate(neuron.w):
                assert _close(weight.grad, w.grad[row, col].item())
            assert _close(neuron.b.grad, b.grad[row].item())


def test_log_of_non_positive_is_an_error():
    with pytest.raises(ValueError, match="non-positive"):
        Value(0.0).log()


def test_deep_graph_does_not_hit_recursion_limit():
    x = Value(1.0)
    y = x
    for _ in range(5000):
        y = y * 1.0 + 0.0
    y.backward()
    assert x.grad == 1.0


@pytest.mark.integration
def test_graph_of_one_neuron_holds_data_and_gradients():
    """micrograd's draw_dot, from this engine: the graph of o = tanh(x1*w1 + x2*w2 + b) after backward, checked
    against torch's gradients."""
    from systems.moons.lib.micrograd import graph

    o, names = graph.example_neuron()
    nodes, edges = graph.trace(o)
    by_name = {names[id(n)]: n for n in nodes if id(n) in names}
    x1, x2, w1, w2, b = (torch.tensor(v, dtype=torch.float64, requires_grad=True)
                         for v in (2.0, 0.0, -3.0, 1.0, 6.8813735870195432))
    out = torch.tanh(x1 * w1 + x2 * w2 + b)
    out.backward()
    for name, tensor in (("x1", x1), ("x2", x2), ("w1", w1), ("w2", w2), ("b", b)):
        assert by_name[name].grad == pytest.approx(tensor.grad.item(), abs=1e-12), name
    assert by_name["o"].data == pytest.approx(out.item()) and len(nodes) == 10 and len(edges) == 9
    if not graph.can_draw():
        pytest.skip(f"Graphviz is not installed ({graph.INSTALL_HINT})")
    svg = graph.neuron_svg().decode()
    assert svg.lstrip().startswith("<?xml") and "data 0.7071" in svg and "grad 0.5000" in svg and "grad &#45;1.5000" in svg


def test_without_graphviz_the_page_says_how_to_get_the_graph(tmp_path, monkeypatch):
    from benchmarks.registry import get_system
    from systems.moons.lib.micrograd import graph

    monkeypatch.setattr(graph, "can_draw", lambda: False)
    [(text, path)] = get_system("micrograd-mlp").draw_pictures(tmp_path, "moons-acc")
    assert path is None and 'pip install -e ".[graph]"' in text and "apt-get install graphviz" in text
    assert not list(tmp_path.iterdir())


def test_a_pickled_model_keeps_its_parameters_and_answers():
    """A Value pickles as its number (its backward closure cannot be pickled): a saved MLP answers as the original."""
    import pickle

    model = MLP(2, [4, 4, 1], seed=3)
    loaded = pickle.loads(pickle.dumps(model))
    assert [p.data for p in loaded.parameters()] == [p.data for p in model.parameters()]
    point = [Value(0.3), Value(-1.2)]
    assert loaded(point).data == model(point).data
    trained = Value(2.0) * Value(3.0)  # an inner node keeps its value, not the graph that made it
    assert pickle.loads(pickle.dumps(trained)).data == 6.0 and pickle.loads(pickle.dumps(trained))._prev == ()
