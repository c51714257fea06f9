"""char-gpt-modern's parts: Muon's Newton–Schulz orthogonalisation, the Muon step, the model's
switches and causality, and the optimizer split (every parameter trained exactly once)."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from benchmarks.data.shakespeare import split_text  # noqa: E402
from systems.charlm.lib.modern_gpt import ModernGPT, ModernGPTConfig  # noqa: E402
from systems.charlm.lib.muon import Muon, newton_schulz  # noqa: E402
from tests.conftest import synthetic_text  # noqa: E402
from tests.test_charlm_systems import make_system  # noqa: E402

SWITCHES = ("rotary", "qk_norm", "relu2", "zero_init", "muon", "trapezoid")


@pytest.mark.parametrize("shape", [(128, 32), (32, 128), (512, 128), (128, 512), (65, 128), (300, 20), (3, 64, 16), (4, 40, 80)])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_newton_schulz_is_approximately_orthogonal(shape: tuple[int, ...], seed: int) -> None:
    generator = torch.Generator().manual_seed(seed)
    matrix = torch.randn(*shape, generator=generator, dtype=torch.float64) * 10 ** (seed - 1)  # the scale must not matter
    result = newton_schulz(matrix)
    assert result.shape == matrix.shape
    singular = torch.linalg.svdvals(result.double())
    assert singular.min() >= 0.5 and singular.max() <= 1.5, (shape, singular.min(), singular.max())
    # it keeps the singular vectors: Uᵀ · NS(G) · V is diagonal
    u, _, vh = torch.linalg.svd(matrix, full_matrices=False)
    core = u.mT @ result.double() @ vh.mT  # (..., k, k)
    off_diagonal = core - torch.diag_embed(torch.diagonal(core, dim1=-2, dim2=-1))
    assert off_diagonal.abs().max() < 1e-4


def test_newton_schulz_of_zero_is_zero() -> None:
    assert torch.count_nonzero(newton_schulz(torch.zeros(8, 4))) == 0


def test_muon_step_is_scaled_orthogonalised_nesterov_momentum() -> None:
    generator = torch.Generator().manual_seed(0)
    weight = torch.nn.Parameter(torch.randn(64, 16, generator=generator))
    start = weight.detach().clone()
    optimizer = Muon([weight], lr=0.1, momentum=0.9)
    gradients = [torch.randn(64, 16, generator=generator) for _ in range(2)]
    buffer = torch.zeros(64, 16)
    expected = start.clone()
    for gradient in gradients:
        weight.grad = gradient.clone()
        optimizer.step()
        buffer = 0.9 * buffer + gradient
        expected -= 0.1 * (64 / 16) ** 0.5 * newton_schulz(gradient + 0.9 * buffer)
    torch.testing.assert_close(weight.detach(), expected, rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match="Muon is for matrices"):
        Muon([torch.nn.Parameter(torch.zeros(3))])


@pytest.mark.parametrize("switch", [None, "rotary", "qk_norm", "relu2", "zero_init"])
def test_modern_model_is_causal_with_every_switch(switch: str | None) -> None:
    torch.manual_seed(0)
    config = ModernGPTConfig(vocab_size=11, block_size=16, n_layer=2, n_head=2, n_embd=16, **({switch: False} if switch else {}))
    model = ModernGPT(config)
    for parameter in model.parameters():  # zero-initialised outputs would hide any leak
        torch.nn.init.normal_(parameter, std=0.3)
    x = torch.randint(11, (2, 16))
    changed = x.clone()
    changed[:, 9:] = (changed[:, 9:] + 1) % 11
    with torch.no_grad():
        a, b = model(x), model(changed)
    assert a.shape == (2, 16, 11)
    torch.testing.assert_close(a[:, :9], b[:, :9])  # positions before 9 never see position 9 on
    assert not torch.allclose(a[:, 9:], b[:, 9:])


def test_switches_change_what_they_say() -> None:
    on = ModernGPT(ModernGPTConfig(n_layer=2))
    assert on.wpe is None and all(torch.count_nonzero(b.mlp.c_proj.weight) == 0 for b in on.blocks)
    assert torch.count_nonzero(on.lm_head.weight) == 0
    off = ModernGPT(ModernGPTConfig(n_layer=2, rotary=False, zero_init=False))
    assert off.wpe is not None and all(torch.count_nonzero(b.attn.c_proj.weight) > 0 for b in off.blocks)
    x = torch.randn(2, 8, 128)
    relu2, gelu = on.blocks[0].mlp, ModernGPT(ModernGPTConfig(n_layer=1, relu2=False)).blocks[0].mlp
    gelu.load_state_dict(relu2.state_dict())
    torch.nn.init.normal_(relu2.c_proj.weight)
    gelu.c_proj.weight.data.copy_(relu2.c_proj.weight)
    assert not torch.allclose(relu2(x), gelu(x))


@pytest.mark.parametrize("muon", [True, False])
def test_every_parameter_has_exactly_one_optimizer(muon: bool) -> None:
    system = make_system("char-gpt-modern", muon=muon)
    model = system.build_model(65)
    optimizers = system.make_optimizers(model)
    assert [type(o).__name__ for o in optimizers] == (["AdamW", "Muon"] if muon else ["AdamW"])
    owned = [id(p) for o in optimizers for g in o.param_groups for p in g["params"]]
    assert sorted(owned) == sorted(id(p) for p in model.parameters())
    if muon:
        assert {id(p) for p in optimizers[1].param_groups[0]["params"]} == {id(p) for p in model.hidden_matrices()}


def test_trapezoid_and_cosine_schedules() -> None:
    on = make_system("char-gpt-modern", iterations=100, warmup_iterations=10, cooldown_fraction=0.5, learning_rate=1.0)
    assert [on.learning_rate_at(i) for i in (0, 9, 50, 75, 100)] == [0.1, 1.0, 1.0, 0.5, 0.0]
    off = make_system("char-gpt-modern", iterations=100, warmup_iterations=10, learning_rate=1.0, min_learning_rate=0.1, trapezoid=False)
    assert off.learning_rate_at(55) == pytest.approx(0.55) and off.learning_rate_at(100) == pytest.approx(0.1)


@pytest.mark.parametrize("switch", SWITCHES)
def test_each_ablation_trains(switch: str) -> None:
    split = split_text(synthetic_text(4_000, seed=3))
    system = make_system("char-gpt-modern", iterations=20, **{switch: False})
    system.fit(split.train, split.vocab_size, split.valid)
    stream = split.valid[:200]
    rows = system.log_probs(stream, 1)
    np.testing.assert_allclose(np.exp(rows).sum(axis=1), 1.0, atol=1e-5)
    losses = -rows[np.arange(len(stream) - 1), stream[1:]]
    assert losses.mean() < np.log(split.vocab_size)  # it learned something
