"""Language-model metrics: negative log-likelihood, perplexity, bits per character, top-1 accuracy,
and nanoGPT's random-window loss estimate (``nanogpt_estimate_loss``).

All losses are in nats. A worked example: a model that gives the true next character probability
1/2 at one position and 1/8 at the next has per-character losses ln 2 and ln 8, a mean loss of
(ln 2 + ln 8) / 2 = 2 ln 2 ≈ 1.3863 nats, a perplexity of exp(2 ln 2) = 4 and 2 bits per character:

>>> import numpy as np
>>> log_probs = np.log([[0.5, 0.25, 0.25], [0.75, 0.125, 0.125]])
>>> losses = token_losses(log_probs, np.array([0, 2]))
>>> round(float(losses.mean()), 4), round(perplexity(losses.mean()), 6), round(bits_per_token(losses.mean()), 6)
(1.3863, 4.0, 2.0)
>>> top1_correct(log_probs, np.array([0, 2])).tolist()
[1.0, 0.0]
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from benchmarks.api import Evaluation
from benchmarks.metrics import Metric, declare

BLOCK_CHARS = 1000
"""Characters per per-example value of a char-LM evaluation (for significance tests)."""

declare(Metric("val_ppl", higher_is_better=False, description="validation perplexity per character: exp(val_loss)"))
declare(Metric("val_loss", higher_is_better=False, description="mean validation negative log-likelihood, nats per character"))
declare(Metric("val_bpc", higher_is_better=False, description="validation bits per character"))
declare(Metric("val_top1_acc", higher_is_better=True, description="share of validation characters predicted first"))
declare(Metric("params", higher_is_better=False, digits=0, description="trainable parameters or stored counts"))
declare(Metric("train_chars", higher_is_better=False, digits=0, description="training characters consumed as targets"))
declare(Metric("train_seconds", higher_is_better=False, digits=2, description="training wall seconds (the fit phase)"))
declare(Metric("eval_seconds", higher_is_better=False, digits=2, description="wall seconds to score the validation stream"))
declare(Metric("nanogpt_val_loss", higher_is_better=False,
               description="nanoGPT's estimate_loss: mean loss over every position of eval_iters batches of random validation windows (20 under nanogpt-cpu, else 200)"))
declare(Metric("val_loss_best_val_selected", higher_is_better=False,
               description="the best checkpoint's strict val_loss (the checkpoint is selected on the validation set)"))


def check_log_probs(log_probs: np.ndarray, n_rows: int, vocab_size: int, atol: float = 1e-3) -> None:
    """Raise ValueError unless ``log_probs`` is an (n_rows, vocab_size) array of normalised log-probabilities
    (``logsumexp`` of each row within ``atol`` of 0)."""
    log_probs = np.asarray(log_probs)
    if log_probs.dtype.kind not in "iuf":
        raise ValueError(f"log-probabilities have dtype {log_probs.dtype}, expected floats")
    if log_probs.shape != (n_rows, vocab_size):
        raise ValueError(f"log-probabilities have shape {log_probs.shape}, expected ({n_rows}, {vocab_size})")
    if np.isnan(log_probs).any() or np.isposinf(log_probs).any():
        raise ValueError("log-probabilities contain NaN or +inf")
    if not len(log_probs):
        return
    top = log_probs.max(axis=1, keepdims=True)
    if np.isneginf(top).any():
        raise ValueError(f"row {int(np.argmax(np.isneginf(top[:, 0])))} is -inf everywhere: not a distribution")
    totals = (top[:, 0] + np.log(np.exp(log_probs - top).sum(axis=1))).astype(np.float64)
    worst = int(np.argmax(np.abs(totals)))
    if not abs(totals[worst]) <= atol:
        raise ValueError(f"row {worst} is not a distribution: logsumexp = {totals[worst]:.6f}, expected 0")


def token_losses(log_probs: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """(N,) negative log-likelihood ``-log_probs[i, targets[i]]`` of the true tokens (N,), in nats, as float64,
    from (N, V) log-probabilities of each position's next token."""
    targets = np.asarray(targets, dtype=np.int64)
    return -np.asarray(log_probs[np.arange(len(targets)), targets], dtype=np.float64)


def top1_correct(log_probs: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """(N,) 1.0 where the most probable token (lowest id on ties) is the true one, else 0.0."""
    return (np.argmax(log_probs, axis=1) == np.asarray(targets)).astype(np.float64)


def perplexity(mean_loss: float) -> float:
    """exp(mean negative log-likelihood in nats). A uniform model over V tokens scores V.

    >>> round(perplexity(math.log(65)), 9)
    65.0
    """
    return float(math.exp(float(mean_loss)))


def bits_per_token(mean_loss: float) -> float:
    """Mean loss converted from nats to bits (``loss / ln 2``).

    >>> bits_per_token(math.log(8))
    3.0
    """
    return float(mean_loss) / math.log(2.0)


def block_means(values: np.ndarray, block: int) -> np.ndarray:
    """Means over consecutive blocks of ``block`` values (the last block may be shorter).

    >>> block_means(np.array([1.0, 3.0, 2.0, 4.0, 5.0]), 2).tolist()
    [2.0, 3.0, 5.0]
    """
    values = np.asarray(values, dtype=np.float64)
    starts = np.arange(0, len(values), block)
    sums = np.add.reduceat(values, starts) if len(values) else np.zeros(0)
    sizes = np.minimum(block, len(values) - starts)
    return sums / sizes


def char_lm_evaluation(log_probs: np.ndarray, targets: np.ndarray, block: int = BLOCK_CHARS) -> Evaluation:
    """The char-LM metrics from (N, V) next-character log-probabilities and (N,) true ids. Per-example values: the
    mean loss and top-1 accuracy of each block of ``block`` characters (units for significance tests), ids "start-end"."""
    losses = token_losses(log_probs, targets)
    if not np.isfinite(losses).all():
        first = int(np.argmax(~np.isfinite(losses)))
        raise ValueError(f"the model gave probability 0 (log-probability -inf) to the true character at position {first} "
                         f"(id {int(targets[first])}): its loss and perplexity are infinite")
    correct = top1_correct(log_probs, targets)
    mean_loss = float(losses.mean())
    blocks = [f"{start}-{min(start + block, len(targets))}" for start in range(0, len(targets), block)]
    return Evaluation(
        metrics={
            "val_ppl": perplexity(mean_loss),
            "val_loss": mean_loss,
            "val_bpc": bits_per_token(mean_loss),
            "val_top1_acc": float(correct.mean()),
        },
        per_example={"val_loss": block_means(losses, block).tolist(), "val_top1_acc": block_means(correct, block).tolist()},
        example_ids=blocks,
    )


WindowScorer = Callable[[np.ndarray, np.ndarray], np.ndarray]
"""``score(x, y) -> losses``: inputs ``x`` (B, T) and targets ``y`` (B, T) (``y[b, t]`` follows
``x[b, t]``) to per-position losses in nats, (B, T'), for the last T' ≤ T targets of each window
(a model that needs ``w`` characters before its first prediction scores T - w of them)."""


def nanogpt_window_starts(n: int, block_size: int, batch_size: int, eval_iters: int, seed: int) -> np.ndarray:
    """(eval_iters, batch_size) window starts, uniform on [0, n - block_size), as nanoGPT's ``get_batch``
    draws them (``torch.randint(len(data) - block_size, (batch_size,))``), but from numpy's PCG64 seeded
    with ``seed``, so the windows are the same on every machine and independent of torch.

    >>> nanogpt_window_starts(100, 10, 3, 2, seed=0).shape
    (2, 3)
    """
    if n - block_size < 1:
        raise ValueError(f"{n} ids cannot hold a window of {block_size} inputs and their targets")
    return np.random.default_rng(seed).integers(0, n - block_size, size=(eval_iters, batch_size))


def nanogpt_estimate_loss(
    data: np.ndarray, score: WindowScorer, block_size: int, batch_size: int, eval_iters: int = 200, seed: int = 1337
) -> float:
    """nanoGPT's ``estimate_loss()`` on one split: the mean over ``eval_iters`` batches of the mean loss
    over *every* position of ``batch_size`` random windows of ``block_size`` characters.

    This is the number nanoGPT prints as "val loss" (and the one behind its published 1.88 / 1.4697).
    It differs from the strict protocol (every validation character scored once, each with a long
    context): windows start at random (some characters are scored twice, others never), and position
    ``t`` of a window sees only ``t`` characters of context, so early positions are harder.

    ``score`` (a :data:`WindowScorer`) is called once per batch, with the model in eval mode. Returns nats.

    A scorer whose loss is the position index scores (0 + 1 + 2 + 3) / 4 = 1.5 on windows of 4,
    because every position of every window counts:

    >>> by_position = lambda x, y: np.broadcast_to(np.arange(y.shape[1], dtype=float), y.shape)
    >>> nanogpt_estimate_loss(np.arange(100), by_position, block_size=4, batch_size=2, eval_iters=3)
    1.5
    """
    data = np.asarray(data, dtype=np.int64)
    starts = nanogpt_window_starts(len(data), block_size, batch_size, eval_iters, seed)
    offsets = np.arange(block_size)
    batch_means = np.empty(eval_iters, dtype=np.float64)
    for k, batch in enumerate(starts):
        x = data[batch[:, None] + offsets]  # (B, T)
        y = data[batch[:, None] + offsets + 1]  # (B, T)
        losses = np.asarray(score(x, y), dtype=np.float64)  # (B, T')
        if losses.ndim != 2 or losses.shape[0] != batch_size or not 0 < losses.shape[1] <= block_size:
            raise ValueError(f"scorer returned shape {losses.shape}, expected ({batch_size}, T' <= {block_size})")
        batch_means[k] = losses.mean()
    return float(batch_means.mean())


@dataclass(frozen=True)
class CurvePoint:
    """One checkpoint of training: where it was, and the strict validation loss there (times exclude checkpoints)."""

    step: int
    train_chars: int
    train_seconds: float  # training wall seconds so far
    val_loss: float
    train_loss: float | None = None  # the system's mean training-batch loss since the previous checkpoint, if it says
    train_cpu_seconds: float = float("nan")  # this process's CPU seconds (all threads): steadier than wall seconds
