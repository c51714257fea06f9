"""Task ``shakespeare-char-ppl``: character-level language modelling of tiny-shakespeare, validation perplexity.

Karpathy's "Zero to Hero" ladder as a leaderboard (counts, n-grams, an MLP, an LSTM and a GPT), each scored at every
checkpoint of its training loop (:class:`StrictCurve`) and, for window models, by nanoGPT's own ``estimate_loss``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.api import DatasetInfo, Evaluation, RunContext, Task
from benchmarks.data.download import sha256_file
from benchmarks.data.shakespeare import SHA256, find_input, read_text, split_text
from benchmarks.errors import DataError, UserError
from benchmarks.kinds import char_language_model
from benchmarks.kinds.char_language_model import CharData, CharLanguageModel, CharSplit, WindowModel
from benchmarks.metrics.language_model import (
    BLOCK_CHARS,
    CurvePoint,
    char_lm_evaluation,
    check_log_probs,
    nanogpt_estimate_loss,
    token_losses,
)
from benchmarks.registry import register_task

PREFIX_CHARS = 1024
"""Training characters placed before the validation stream as context (never scored)."""
SMOKE_EVAL_CHARS = 20_000
NANOGPT_EVAL_ITERS = {"nanogpt-cpu": 20}
"""``estimate_loss`` batches per profile where nanoGPT's command sets them (``--eval_iters=20``); 200 elsewhere."""
NANOGPT_CPU_LOSS = 1.88
"""nanoGPT's README: validation loss of its CPU command."""
NANOGPT_CPU_STANDARD_ERROR = 0.014
"""Standard error of ``nanogpt_val_loss`` over 20 batches of 12 windows of 64 (one batch's spread / √20)."""


@dataclass
class Options:
    """Task options (``--set task.KEY=VALUE``)."""

    dataset: str | None = None
    """A local UTF-8 text file to use instead of tiny-shakespeare (same 90/10 protocol; ``--dataset PATH``)."""
    eval_chars: int = -1
    """Score only the first N validation characters; -1 = the whole split (20,000 in ``smoke``)."""
    sample_chars: int = 300
    sample_seed: int = 1337
    prompt: str = ""
    """The prompt of the prompted sample; empty: the validation text's first speech (its speaker and first line:
    ``GREMIO:\nGood morrow, neighbour Baptista.\n`` on tiny-shakespeare), the same for every system."""
    prompt_chars: int = 200
    """Characters generated after the prompt (0: no prompted sample)."""
    temperature: float = 1.0
    """Sampling temperature of the prompted sample (logits / temperature)."""
    save_log_probs: bool = False
    """Write the (N, V) validation log-probabilities as ``<record>.logprobs.npz`` (about 29 MB)."""
    curve: bool = True
    """Score the model on the strict protocol at every checkpoint of its training loop (outside the clock)."""
    nanogpt_eval_iters: int = -1
    """Batches of nanoGPT's ``estimate_loss`` behind ``nanogpt_val_loss`` (nanoGPT's ``eval_iters``); -1 = the
    profile's: 20 under ``nanogpt-cpu`` (the README's CPU command), 200 otherwise (``train_shakespeare_char.py``)."""
    nanogpt_eval_seed: int = 1337
    """Seed of its random window starts."""


class StrictCurve:
    """The task's periodic evaluation: a ``RunContext.checkpoint_callback`` that scores the model on the
    strict protocol (``log_probs`` over ``stream[start:]``, after ``start`` ids of context, as ``predict`` does) and
    records a :class:`CurvePoint` each time, off the training clock (the context's ``checkpoint_s``). ``stop`` is
    called with each new point; True ends training there (the callback returns False). The training clock starts
    when it is made, just before ``system.fit``."""

    def __init__(self, system: Any, stream: np.ndarray, start: int, context: RunContext,
                 stop: Callable[[CurvePoint], bool] | None = None) -> None:
        self.system, self.stream, self.start, self.context, self.stop = system, stream, start, context, stop
        self.points: list[CurvePoint] = []
        self.started = time.perf_counter()
        self.excluded_at_start = self.context.timings.get("checkpoint_s", 0.0)
        self.cpu_started = time.process_time()
        self.cpu_excluded = 0.0

    def __call__(self, step: int, train_chars: int, train_loss: float | None = None) -> bool:
        cpu_entered = time.process_time()
        train_seconds = time.perf_counter() - self.started - (self.context.timings.get("checkpoint_s", 0.0) - self.excluded_at_start)
        train_cpu_seconds = cpu_entered - self.cpu_started - self.cpu_excluded
        rows = np.asarray(self.system.log_probs(self.stream, self.start))
        loss = float(token_losses(rows[:-1], self.stream[self.start :]).mean())
        point = CurvePoint(int(step), int(train_chars), float(train_seconds), loss, train_loss, float(train_cpu_seconds))
        self.points.append(point)
        self.cpu_excluded += time.process_time() - cpu_entered
        self.context.log(f"checkpoint {step}: strict val loss {loss:.4f} after {train_seconds:.1f} s of training")
        return not (self.stop is not None and self.stop(point))


def rows_of(records: list[Any], keep: Callable[[Any], bool] = lambda record: True) -> list[list[Any]]:
    """The ok records that ``keep`` accepts, grouped by leaderboard row (system and config)."""
    groups: dict[tuple[str, str], list[Any]] = {}
    for record in records:
        if record.ok and keep(record):
            groups.setdefault((record.system, record.config_key), []).append(record)
    return list(groups.values())


def curve_extras(points: list[CurvePoint]) -> dict[str, list[Any]]:
    """The curve as ``extras["curves"]`` (the leaderboard plots ``step`` against ``val_loss``/``train_loss``)."""
    return {
        "step": [p.step for p in points],
        "train_chars": [p.train_chars for p in points],
        "train_seconds": [round(p.train_seconds, 3) for p in points],
        "train_cpu_seconds": [round(p.train_cpu_seconds, 3) for p in points],
        "val_loss": [round(p.val_loss, 5) for p in points],
        "train_loss": [None if p.train_loss is None else round(p.train_loss, 5) for p in points],
    }


@register_task
class ShakespeareCharPerplexity(Task):
    id = "shakespeare-char-ppl"
    version = "1"
    kind = char_language_model.KIND
    main_metric = "val_ppl"
    description = (
        "Character-level language modelling of tiny-shakespeare (Karpathy's char-rnn / nanoGPT `shakespeare_char`). "
        "Validation perplexity per character, every validation character scored once: a uniform model scores 65, "
        "bigram counts ≈ 12 (loss ≈ 2.48). nanoGPT's published losses, 1.88 for its README CPU command (profile "
        "`nanogpt-cpu`) and 1.4697 for its 6-layer GPU model (the best of its periodic evaluations), compare with "
        "the `nanogpt_val_loss` column only: nanoGPT averages the loss over every position of `eval_iters` batches of "
        "random validation windows, so early positions see almost no context and some characters count twice, where "
        "`val_loss` scores each validation character exactly once with at least half a window of context. The README "
        "CPU command sets `eval_iters=20` (its config 200): with 20 batches `nanogpt_val_loss` has a standard error of "
        f"about {NANOGPT_CPU_STANDARD_ERROR}, so a 3-seed mean within ±0.03 of {NANOGPT_CPU_LOSS} is the expected agreement."
    )
    protocol = (
        "nanoGPT's `shakespeare_char` split: sorted vocabulary of the 65 characters, the first 90% of the text "
        "(1,003,854 characters) for training, the last 10% (111,540) for validation. Every validation character is "
        f"scored exactly once, conditioned on all preceding text (the last {PREFIX_CHARS:,} training characters are "
        "given as unscored context before the validation stream); each model truncates that context to its own "
        "window (a GPT with context T slides windows of T with stride T/2, so every character but the first T/2 "
        "sees at least T/2 characters). Main metric: exp(mean NLL in nats). Also: loss (nats), bits per character, "
        "top-1 next-character accuracy, parameters, training characters seen, train and eval seconds. Per-example "
        f"values: mean loss per block of {BLOCK_CHARS:,} validation characters. A {Options.sample_chars}-character "
        "sample (seed 1337, from a newline) is kept with each result, and a "
        f"{Options.prompt_chars}-character continuation of a fixed prompt, the same for every system (the validation "
        "text's first speech opening, `GREMIO: / Good morrow, neighbour Baptista.`; seed 1337, temperature 1). During training the same strict loss is "
        "computed at every checkpoint of the system's loop, off the training clock: the curve (step, training "
        "characters, training seconds, loss) is kept, `val_loss` is the final model's and "
        "`val_loss_best_val_selected` the best checkpoint's (selected on the validation set, so optimistic). "
        "`nanogpt_val_loss` (window models only): nanoGPT's `estimate_loss` on the final model, i.e. the mean over "
        "`eval_iters` batches (20 under `nanogpt-cpu`, as the README's CPU command sets, 200 otherwise) of the system's "
        "batch size of random windows (its context; starts from numpy PCG64 seed 1337) of the loss at every window "
        "position, model in eval mode."
    )
    data_source = "karpathy/char-rnn data/tinyshakespeare/input.txt (sha256 86c4e6aa…565ed)"
    profiles = {
        "smoke": "tiny models, first 20,000 validation characters",
        "default": "≤ ~10 minutes per system on 2 CPU cores, whole validation split",
        "full": "nanoGPT's GPU settings (6 layers × 384, context 256, 5,000 iterations)",
        "nanogpt-cpu": "nanoGPT's README CPU command (4 × 4 × 128, context 64, batch 12, 2,000 iterations, lr 1e-3)",
    }
    default_seeds = (0,)
    Options = Options
    leaderboard_columns = ("val_top1_acc", "val_loss", "val_bpc", "nanogpt_val_loss", "params", "train_chars")

    @classmethod
    def leaderboard_section(cls, records: list[Any]) -> list[str]:
        """Under a ``nanogpt-cpu`` table: each row's mean ``nanogpt_val_loss`` against nanoGPT's README."""
        from benchmarks.leaderboard import row_label  # the leaderboard calls this: no import at module load

        lines = []
        for runs in rows_of(records, lambda r: r.profile == "nanogpt-cpu" and r.metrics.get("nanogpt_val_loss") is not None):
            losses = [float(r.metrics["nanogpt_val_loss"]) for r in runs]
            mean = sum(losses) / len(losses)
            iters = {int((r.task_options or {}).get("nanogpt_eval_iters", -1)) for r in runs}
            batches = ", ".join(str(i if i > 0 else NANOGPT_EVAL_ITERS["nanogpt-cpu"]) for i in sorted(iters))
            within = abs(mean - NANOGPT_CPU_LOSS) <= 0.03
            label = row_label(runs[-1].system, runs[-1].config_overrides)
            when = f"run {runs[-1].finished_at[:10]}, git {(runs[-1].git_sha or '?')[:7]}"  # tells reruns of one config apart
            lines.append(f"- {label.replace('|', '/')} ({when}): mean `nanogpt_val_loss` {mean:.4f} over {len(runs)} seed(s) "
                         f"({batches} batches each): {'within' if within else 'outside'} ±0.03 of nanoGPT's {NANOGPT_CPU_LOSS}.")
        if not lines:
            return []
        return [f"**Against nanoGPT's README** (validation loss {NANOGPT_CPU_LOSS} for its CPU command): with 20 batches "
                f"`nanogpt_val_loss` has a standard error of about {NANOGPT_CPU_STANDARD_ERROR}, so a 3-seed mean within "
                "±0.03 of 1.88 is the expected agreement.", "", *lines, ""]

    def prepare(self, context: RunContext) -> CharData:
        if self.options.dataset:
            path = Path(self.options.dataset)
            if not path.is_file():
                raise UserError(f"--dataset {path}: no such file (expected a UTF-8 text file)")
            fingerprint = sha256_file(path)
            name = f"text:{path.name}"
        else:
            path = find_input(context.data_dir, context.cache_dir)
            fingerprint = SHA256
            name = "tinyshakespeare"
        info = DatasetInfo(name=name, fingerprint=fingerprint, synthetic=False, source=str(path))
        return CharData(info, split_text(read_text(path)))

    def nanogpt_eval_iters(self, profile: str) -> int:
        wanted = self.options.nanogpt_eval_iters
        return wanted if wanted > 0 else NANOGPT_EVAL_ITERS.get(profile, 200)

    def eval_stream(self, split: CharSplit, profile: str) -> tuple[np.ndarray, int]:
        """The strict protocol's input: (context + scored validation ids, length of the context)."""
        wanted = self.options.eval_chars
        if wanted < 0:
            wanted = SMOKE_EVAL_CHARS if profile == "smoke" else len(split.valid)
        n_eval = max(1, min(wanted, len(split.valid)))
        prefix = split.train[-PREFIX_CHARS:]
        return np.concatenate([prefix, split.valid[:n_eval]]), len(prefix)

    def make_curve(self, system: CharLanguageModel, split: CharSplit, context: RunContext) -> StrictCurve | None:
        if not self.options.curve:
            return None
        return StrictCurve(system, *self.eval_stream(split, context.profile), context)

    def fit(self, system: CharLanguageModel, data: CharData, context: RunContext) -> None:
        split = data.split
        self._curve = self.make_curve(system, split, context)
        context.checkpoint_callback = self._curve
        try:
            system.fit(split.train.copy(), split.vocab_size, split.valid.copy())
        finally:
            context.checkpoint_callback = None

    def predict(self, system: CharLanguageModel, data: CharData, context: RunContext) -> Any:
        split = data.split
        stream, n_prefix = self.eval_stream(split, context.profile)
        n_eval = len(stream) - n_prefix
        with context.phase("log_probs"):
            rows = np.asarray(system.log_probs(stream, n_prefix))
        try:
            check_log_probs(rows, n_eval + 1, split.vocab_size)
        except ValueError as error:
            raise RuntimeError(f"system {getattr(system, 'id', '?')!r} returned bad log-probabilities: {error}") from None
        sample = generate(system, split, self.options.sample_chars, self.options.sample_seed)
        prompted = self.prompted_sample(system, split)
        nanogpt_loss = None
        if isinstance(system, WindowModel):
            batch_size, block_size = system.training_window
            nanogpt_loss = nanogpt_estimate_loss(split.valid, system.window_losses, block_size, batch_size,
                                                 self.nanogpt_eval_iters(context.profile), self.options.nanogpt_eval_seed)
        curve = getattr(self, "_curve", None)
        return {
            "log_probs": rows[:-1],
            "targets": split.valid[:n_eval],
            "params": int(system.num_parameters()),
            "train_chars": int(getattr(system, "train_chars_seen", 0)),
            "sample": sample,
            "prompted_sample": prompted,
            "nanogpt_val_loss": nanogpt_loss,
            "curve": list(curve.points) if curve is not None else [],
        }

    def evaluate(self, predictions: Any, data: CharData, context: RunContext) -> Evaluation:
        evaluation = char_lm_evaluation(predictions["log_probs"], predictions["targets"])
        evaluation.metrics.update(
            params=float(predictions["params"]),
            train_chars=float(predictions["train_chars"]),
            train_seconds=context.timings.get("fit_s", float("nan")),  # checkpoints are untimed: not in fit_s
            eval_seconds=context.timings.get("log_probs_s", float("nan")),
        )
        if predictions.get("nanogpt_val_loss") is not None:
            evaluation.metrics["nanogpt_val_loss"] = float(predictions["nanogpt_val_loss"])
        points: list[CurvePoint] = predictions.get("curve") or []
        if points:
            best = min(points, key=lambda p: p.val_loss)
            evaluation.metrics["val_loss_best_val_selected"] = best.val_loss
            evaluation.extras["curves"] = curve_extras(points)
            evaluation.extras["best_step_val_selected"] = best.step
        evaluation.extras["sample"] = predictions["sample"]
        if predictions.get("prompted_sample"):
            evaluation.extras["prompted_sample"] = predictions["prompted_sample"]
        evaluation.extras["eval_chars"] = int(len(predictions["targets"]))
        return evaluation

    def prompted_sample(self, system: CharLanguageModel, split: CharSplit) -> dict[str, Any] | None:
        """``{"prompt", "continuation", "seed", "temperature"}``: the model's continuation of the fixed prompt."""
        options = self.options
        if options.prompt_chars <= 0:
            return None
        prompt = options.prompt or first_speech(split.decode(split.valid))
        unknown = sorted({ch for ch in prompt if ch not in split.vocab})
        if unknown:
            raise UserError(f"task.prompt {prompt!r}: characters {''.join(unknown)!r} are not in the data's vocabulary")
        continuation = generate(system, split, options.prompt_chars, options.sample_seed, prompt=prompt,
                                temperature=options.temperature)
        return {"prompt": prompt, "continuation": continuation, "seed": options.sample_seed,
                "temperature": options.temperature}

    def save_predictions(self, predictions: Any, data: CharData, context: RunContext) -> list[Path]:
        path = context.artifact_path("logprobs.npz") if self.options.save_log_probs else None
        if path is None:
            return []
        np.savez_compressed(path, log_probs=predictions["log_probs"].astype(np.float32), vocab=np.array(data.split.vocab))
        return [path]

    def score(self, predictions_file: Path, truth_file: Path) -> Evaluation:
        """Score an ``.npz`` with ``log_probs`` (N, V) and ``vocab`` (the V characters, in column
        order) against a UTF-8 text file of the N true characters."""
        try:
            bundle = np.load(predictions_file, allow_pickle=False)
            log_probs, vocab = bundle["log_probs"], str(bundle["vocab"])
        except (OSError, ValueError, KeyError) as error:
            raise DataError(predictions_file, f"cannot read it as .npz with 'log_probs' and 'vocab' ({error})") from None
        text = read_text(truth_file)
        index = {ch: i for i, ch in enumerate(vocab)}
        for position, ch in enumerate(text):
            if ch not in index:
                line = text[:position].count("\n") + 1
                raise DataError(truth_file, f"character {ch!r} at offset {position} is not in the predictions' vocabulary", line=line)
        targets = np.array([index[ch] for ch in text], dtype=np.int64)
        try:
            check_log_probs(log_probs, len(targets), len(vocab))
        except ValueError as error:
            raise DataError(predictions_file, f"field 'log_probs': {error}") from None
        return char_lm_evaluation(log_probs, targets)


def generate(system: Any, split: CharSplit, n_chars: int, seed: int, prompt: str = "", temperature: float = 1.0) -> str:
    """Sample ``n_chars`` characters from ``system`` after ``prompt`` (empty: after a newline), with a fixed seed.

    Sampling uses float64 probabilities of ``log_probs / temperature`` and inverse-CDF draws from ``numpy``'s
    PCG64, so the same model gives the same text. Returns the generated characters only (not the prompt).
    """
    if n_chars <= 0:
        return ""
    if temperature <= 0:
        raise UserError(f"temperature {temperature}: expected a positive number")
    rng = np.random.default_rng(seed)
    stream = split.encode(prompt).tolist() if prompt else [split.vocab.index("\n") if "\n" in split.vocab else 0]
    n_prompt = len(stream)
    for _ in range(n_chars):
        row = np.asarray(system.log_probs(np.array(stream, dtype=np.int64), len(stream)), dtype=np.float64)[-1] / temperature
        probs = np.exp(row - row.max())
        cdf = np.cumsum(probs / probs.sum())
        stream.append(int(min(np.searchsorted(cdf, rng.random(), side="right"), len(cdf) - 1)))
    return split.decode(stream[n_prompt:])


def first_speech(text: str) -> str:
    r"""The first speech's opening of a play text: its speaker line and first line, after the first blank line.

    >>> first_speech("?\n\nGREMIO:\nGood morrow, neighbour Baptista.\n\nBAPTISTA:\n")
    'GREMIO:\nGood morrow, neighbour Baptista.\n'
    >>> first_speech("no blank line here\nsecond")
    'no blank line here\n'
    """
    blank = text.find("\n\n")
    start = blank + 2 if 0 <= blank < len(text) - 2 else 0
    lines = text[start:].split("\n")
    speaker_first = lines[0].endswith(":") and len(lines) > 2
    return "\n".join(lines[: 2 if speaker_first else 1]) + "\n"
