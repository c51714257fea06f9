"""Muon (MomentUm Orthogonalized by Newton–Schulz): SGD with Nesterov momentum whose update of each
weight matrix is replaced by an approximately orthogonal matrix with the same singular vectors.

After Keller Jordan's optimizer of the modded-nanoGPT speedrun (2024), written from its description:
the momentum ``M`` of a matrix with SVD ``U S Vᵀ`` is mapped to roughly ``U Vᵀ`` by a few steps of a
quintic Newton–Schulz iteration ``X ← a X + (b A + c A²) X`` with ``A = X Xᵀ``, started from
``M / ‖M‖_F`` (so every singular value is ≤ 1). The coefficients (3.4445, −4.7750, 2.0315) make the
iteration's slope at zero large, so small singular values grow fast; the price is that the result's
singular values land anywhere in about [0.7, 1.2] instead of exactly 1, which does not hurt training.
Muon is for the hidden weight matrices only: embeddings, the output head, gains and biases belong to
AdamW. A parameter with more than two dimensions is a stack of matrices (its last two dimensions),
each orthogonalised on its own.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch

NEWTON_SCHULZ_COEFFICIENTS = (3.4445, -4.7750, 2.0315)


def newton_schulz(matrix: torch.Tensor, steps: int = 5, eps: float = 1e-7) -> torch.Tensor:
    """Approximately orthogonalise ``matrix`` (or a stack of matrices): ``U S Vᵀ`` → about ``U Vᵀ``.

    Args:
        matrix: (..., m, n) float tensor.
        steps: Newton–Schulz iterations (5 is the speedrun's choice).
        eps: guards the normalisation of an all-zero matrix.

    Returns:
        (..., m, n) float32 tensor whose singular values lie in about [0.7, 1.2] (those of ``matrix``
        that are not tiny compared with its largest), with ``matrix``'s singular vectors.
    """
    a, b, c = NEWTON_SCHULZ_COEFFICIENTS
    x = matrix.float()
    x = x / (x.norm(dim=(-2, -1), keepdim=True) + eps)  # (..., m, n), singular values ≤ 1
    wide = x.size(-2) <= x.size(-1)
    if not wide:
        x = x.mT  # (..., n, m): iterate on the side with the smaller Gram matrix
    for _ in range(steps):
        gram = x @ x.mT  # (..., k, k), k = min(m, n)
        x = a * x + (b * gram + c * gram @ gram) @ x
    return x if wide else x.mT


class Muon(torch.optim.Optimizer):
    """Muon for weight matrices (see the module docstring).

    Args:
        params: parameters (or param groups) with at least two dimensions.
        lr: step size; each matrix's orthogonalised update is scaled by ``sqrt(max(1, rows / cols))``
            so tall and wide matrices move alike per unit of lr.
        momentum: SGD momentum.
        nesterov: use the Nesterov form (the gradient plus ``momentum`` × the buffer).
        ns_steps: Newton–Schulz iterations per update.
        weight_decay: decoupled weight decay (``p ← p × (1 − lr × weight_decay)``).
    """

    def __init__(self, params: Iterable[torch.Tensor] | Iterable[dict], lr: float = 0.02, momentum: float = 0.95,
                 nesterov: bool = True, ns_steps: int = 5, weight_decay: float = 0.0) -> None:
        defaults = {"lr": lr, "momentum": momentum, "nesterov": nesterov, "ns_steps": ns_steps, "weight_decay": weight_decay}
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                if p.dim() < 2:
                    raise ValueError(f"Muon is for matrices; got a parameter of shape {tuple(p.shape)} (give it to AdamW)")

    @torch.no_grad()
    def step(self, closure: None = None) -> None:  # type: ignore[override]
        for group in self.param_groups:
            lr, momentum = group["lr"], group["momentum"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if "momentum_buffer" not in state:
                    state["momentum_buffer"] = torch.zeros_like(p.grad)
                buffer = state["momentum_buffer"]
                buffer.mul_(momentum).add_(p.grad)
                direction = p.grad.add(buffer, alpha=momentum) if group["nesterov"] else buffer
                update = newton_schulz(direction, group["ns_steps"]).to(p.dtype)  # like p
                scale = max(1.0, p.size(-2) / p.size(-1)) ** 0.5
                if group["weight_decay"]:
                    p.mul_(1.0 - lr * group["weight_decay"])
                p.add_(update, alpha=-lr * scale)
