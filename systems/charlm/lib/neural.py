"""Shared training and evaluation for the neural character models (char-mlp, char-lstm, char-gpt).

A *window model* maps ids ``(B, T)`` to next-character logits ``(B, T - warmup, V)``: output ``j``
predicts the character after input position ``warmup + j`` (a GPT or an LSTM has ``warmup = 0``;
an MLP over ``C`` characters has ``warmup = C - 1``). Training is iteration-based and
deterministic for a seed: batches are random windows drawn with a seeded ``torch.Generator``,
AdamW with nanoGPT's schedule (linear warmup, cosine decay), gradient clipping. Every ``eval_interval`` iterations
and after the last one the loop calls ``context.checkpoint`` (the task's periodic evaluation, timed
apart from training), which may stop training early. Evaluation slides windows of ``block_size``
over the stream with stride ``eval_stride`` (default: half the usable window) so every position is
scored exactly once with at least ``block_size - warmup - stride`` characters of context;
``window_losses`` scores whole windows instead, as nanoGPT's ``model(X, Y)`` does.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from benchmarks.api import System


@dataclass
class TrainConfig:
    """Optimisation settings shared by the neural systems (the defaults are the ``default`` profile)."""

    iterations: int = 2000
    batch_size: int = 12
    block_size: int = 64
    learning_rate: float = 1e-3
    min_learning_rate: float = 1e-4
    warmup_iterations: int = 100
    weight_decay: float = 0.1
    beta2: float = 0.99
    grad_clip: float = 1.0
    eval_interval: int = 250
    """Steps between two calls of ``context.checkpoint`` (the task's periodic evaluation)."""
    log_interval: int = 0
    """Keep the training-batch loss of every ``log_interval``-th step in ``report()["train_log"]`` (nanoGPT's
    ``log_interval``; 0: none)."""
    seed: int | None = None
    """The torch seed of initialisation and batches; None: the job's seed (nanoGPT's is 1337: ``--set seed=1337``)."""
    eval_stride: int = 0
    """Stride of the evaluation windows; 0 = half the usable window."""
    eval_batch_size: int = 64
    compile: bool = False
    """``torch.compile`` the model (off by default: slow to start, and not deterministic across versions)."""
    threads: int = 1
    """torch threads; 1 by default because on a busy 2-core machine a second OpenMP thread spin-waits (≈8× slower)."""


def learning_rate_at(iteration: int, cfg: TrainConfig) -> float:
    """nanoGPT's ``get_lr``: linear warmup ``lr * (it + 1) / (warmup + 1)``, then cosine decay to
    ``min_learning_rate`` at the last iteration (nanoGPT's ``lr_decay_iters = max_iters``).

    >>> cfg = TrainConfig(iterations=100, warmup_iterations=9, learning_rate=1.0, min_learning_rate=0.0)
    >>> learning_rate_at(0, cfg), learning_rate_at(8, cfg), learning_rate_at(9, cfg), learning_rate_at(100, cfg)
    (0.1, 0.9, 1.0, 0.0)
    """
    if iteration < cfg.warmup_iterations:
        return cfg.learning_rate * (iteration + 1) / (cfg.warmup_iterations + 1)
    span = max(1, cfg.iterations - cfg.warmup_iterations)
    progress = min(1.0, (iteration - cfg.warmup_iterations) / span)
    return cfg.min_learning_rate + 0.5 * (1.0 + math.cos(math.pi * progress)) * (cfg.learning_rate - cfg.min_learning_rate)


def trapezoid_learning_rate(iteration: int, iterations: int, peak: float, warmup: int, cooldown_fraction: float) -> float:
    """Warmup–stable–decay: linear warmup to ``peak`` over ``warmup`` steps, constant, then linear decay to
    zero over the last ``cooldown_fraction`` of the ``iterations`` (the speedrun's trapezoid).

    >>> [trapezoid_learning_rate(i, 100, 1.0, 10, 0.4) for i in (0, 9, 30, 60, 80, 100)]
    [0.1, 1.0, 1.0, 1.0, 0.5, 0.0]
    """
    if iteration < warmup:
        return peak * (iteration + 1) / warmup
    cooldown = max(1.0, cooldown_fraction * iterations)
    return peak * min(1.0, max(0.0, (iterations - iteration) / cooldown))


def setup_torch(seed: int, device: str, threads: int) -> Any:
    """Seed torch, pin its thread count, ask for deterministic kernels; return the torch.device."""
    import os

    if device == "cuda":  # deterministic cuBLAS needs a fixed workspace (set before the first CUDA call)
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    import torch

    torch.set_num_threads(max(1, threads))
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True, warn_only=True)
    if device == "cuda":
        torch.backends.cudnn.benchmark = False
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    return torch.device(device)


class NeuralCharLM(System):
    """Base class of the torch window models: subclasses define ``build_model`` and ``warmup``."""

    kind = "char-language-model"
    requires = ("torch",)
    extra = "charlm"

    def build_model(self, vocab_size: int) -> Any:
        """Return a ``torch.nn.Module`` mapping (B, T) ids to (B, T - warmup, V) logits."""
        raise NotImplementedError

    @property
    def warmup(self) -> int:
        return 0

    # --- training -------------------------------------------------------------------------

    def _batch(self, data: Any, generator: Any, batch_size: int) -> tuple[Any, Any]:
        import torch

        T = self.config.block_size
        starts = torch.randint(len(data) - T, (batch_size,), generator=generator)
        x = torch.stack([data[s : s + T] for s in starts.tolist()])  # (B, T)
        y = torch.stack([data[s + 1 + self.warmup : s + 1 + T] for s in starts.tolist()])  # (B, T - warmup)
        return x.to(self.torch_device, non_blocking=True), y.to(self.torch_device, non_blocking=True)

    def _loss(self, model: Any, x: Any, y: Any) -> Any:
        import torch

        with self._autocast():
            logits = model(x)  # (B, T - warmup, V)
        return torch.nn.functional.cross_entropy(logits.float().reshape(-1, logits.size(-1)), y.reshape(-1))

    def _autocast(self) -> Any:
        import contextlib

        import torch

        if self.torch_device.type == "cuda":
            return torch.autocast(device_type="cuda", dtype=torch.bfloat16)
        return contextlib.nullcontext()

    def make_optimizers(self, model: Any) -> list[Any]:
        """AdamW: weight decay on matrices and embeddings (``dim >= 2``), none on gains and biases.
        Each param group's ``lr`` is set to ``lr_scale * learning_rate_at(...)`` before every step."""
        import torch

        cfg: TrainConfig = self.config
        decay = [p for p in model.parameters() if p.dim() >= 2]
        no_decay = [p for p in model.parameters() if p.dim() < 2]
        return [torch.optim.AdamW(
            [{"params": decay, "weight_decay": cfg.weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
            lr=cfg.learning_rate, betas=(0.9, cfg.beta2),
        )]

    def learning_rate_at(self, iteration: int) -> float:
        """The learning rate of step ``iteration`` (each param group gets it times its ``lr_scale``)."""
        return learning_rate_at(iteration, self.config)

    def fit(self, train_ids: np.ndarray, vocab_size: int, valid_ids: np.ndarray) -> None:
        import torch

        cfg: TrainConfig = self.config
        seed = self.seed if cfg.seed is None else cfg.seed
        self.torch_device = setup_torch(seed, self.device, cfg.threads)
        self.vocab_size = vocab_size
        self.model = self.build_model(vocab_size).to(self.torch_device)
        model = torch.compile(self.model) if cfg.compile else self.model
        train = torch.from_numpy(np.asarray(train_ids, dtype=np.int64))
        optimizers = self.make_optimizers(self.model)
        for optimizer in optimizers:
            for group in optimizer.param_groups:
                group.setdefault("lr_scale", group["lr"] / cfg.learning_rate)
        batches = torch.Generator().manual_seed(seed)
        self.train_log: dict[str, list[float]] = {"step": [], "loss": []}
        chars_per_step = cfg.batch_size * (cfg.block_size - self.warmup)
        running, count = torch.zeros((), device=self.torch_device), 0  # training loss since the last checkpoint
        steps = 0
        while True:
            if steps % cfg.eval_interval == 0 or steps == cfg.iterations:
                self.model.eval()
                train_loss = float(running) / count if count else None
                keep_going = self.context.checkpoint(steps, steps * chars_per_step, train_loss)
                running, count = torch.zeros((), device=self.torch_device), 0
                self.context.log(f"fit {steps}/{cfg.iterations} {self.context.clock():.0f}s")
                if not keep_going or steps == cfg.iterations:
                    break
            lr = self.learning_rate_at(steps)
            for optimizer in optimizers:
                for group in optimizer.param_groups:
                    group["lr"] = lr * group["lr_scale"]
            model.train()
            x, y = self._batch(train, batches, cfg.batch_size)
            loss = self._loss(model, x, y)
            for optimizer in optimizers:
                optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if cfg.grad_clip > 0:
                torch.nn.utils.clip_grad_norm_(self.model.parameters(), cfg.grad_clip)
            for optimizer in optimizers:
                optimizer.step()
            running += loss.detach()
            count += 1
            if cfg.log_interval > 0 and steps % cfg.log_interval == 0:  # nanoGPT prints it; a sync on a GPU
                self.train_log["step"].append(steps)
                self.train_log["loss"].append(round(float(loss.detach()), 4))
            steps += 1
        self.model.eval()
        self.steps_done = steps
        self.train_chars_seen = int(steps * chars_per_step)

    # --- evaluation -----------------------------------------------------------------------

    def log_probs(self, stream: np.ndarray, start: int) -> np.ndarray:
        """See ``CharLanguageModel.log_probs``: strided windows, each row scored exactly once.

        The text before the stream is taken to be newlines (id 0, the first of the sorted
        vocabulary), so short prefixes (and the empty one) still fill a window.
        """
        import torch

        T, w = self.config.block_size, self.warmup
        pad = w + 1
        padded = np.concatenate([np.zeros(pad, dtype=np.int64), np.asarray(stream, dtype=np.int64)])
        # prefix length i of the stream = last input at padded index pad + i - 1
        first, last = pad + start - 1, pad + len(stream) - 1  # padded input positions to score
        usable = T - w
        stride = self.config.eval_stride or max(1, usable // 2)
        stride = min(stride, usable)
        windows: list[tuple[int, int, int]] = []  # (window start, first scored, end) in padded indices
        end = first
        while end <= last:
            stop = min(end + stride, last + 1)
            begin = max(0, stop - T)
            windows.append((begin, end, stop))
            end = stop
        rows = np.empty((len(stream) - start + 1, self.vocab_size), dtype=np.float32)
        model = self.model
        model.eval()
        by_length: dict[int, list[tuple[int, int, int]]] = {}
        for window in windows:
            by_length.setdefault(window[2] - window[0], []).append(window)
        with torch.no_grad():
            for group in by_length.values():
                for b in range(0, len(group), self.config.eval_batch_size):
                    chunk = group[b : b + self.config.eval_batch_size]
                    x = torch.from_numpy(np.stack([padded[a:e] for a, _, e in chunk])).to(self.torch_device)  # (B, L)
                    with self._autocast():
                        logits = model(x)  # (B, L - w, V)
                    log_probs = torch.log_softmax(logits.float(), dim=-1).cpu().numpy()
                    for k, (a, s, e) in enumerate(chunk):
                        # output j predicts after input a + w + j
                        rows[s - first : e - first] = log_probs[k, s - a - w : e - a - w]
        return rows

    @property
    def training_window(self) -> tuple[int, int]:
        """(batch size, context) of the training batches: the windows nanoGPT's estimate_loss draws."""
        return self.config.batch_size, self.config.block_size

    def window_losses(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Per-position losses of whole windows, with no padding, as nanoGPT's ``model(X, Y)`` computes
        them before its mean (see ``benchmarks.metrics.language_model.WindowScorer``).

        Args:
            x: (B, T) input ids.
            y: (B, T) targets, ``y[:, t]`` the character after ``x[:, t]``.

        Returns:
            (B, T - warmup) float32 losses in nats, for the targets ``y[:, warmup:]``.
        """
        import torch

        self.model.eval()
        with torch.no_grad():
            inputs = torch.from_numpy(np.ascontiguousarray(x, dtype=np.int64)).to(self.torch_device)
            targets = torch.from_numpy(np.ascontiguousarray(y[:, self.warmup :], dtype=np.int64)).to(self.torch_device)
            with self._autocast():
                logits = self.model(inputs)  # (B, T - warmup, V)
            losses = torch.nn.functional.cross_entropy(
                logits.float().reshape(-1, logits.size(-1)), targets.reshape(-1), reduction="none"
            )  # (B * (T - warmup),)
        return losses.view(targets.shape).cpu().numpy()

    def num_parameters(self) -> int:
        return int(sum(p.numel() for p in self.model.parameters()))

    def report(self) -> dict[str, Any]:
        """The per-step training log where ``log_interval`` asked for one."""
        log = getattr(self, "train_log", None)
        return {"train_log": log} if log and log["step"] else {}
