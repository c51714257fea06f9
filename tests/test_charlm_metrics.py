"""Language-model metrics (benchmarks/metrics/language_model.py) and the task's file scorer."""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import numpy as np
import pytest

from benchmarks.metrics.language_model import (
    bits_per_token,
    block_means,
    char_lm_evaluation,
    check_log_probs,
    nanogpt_estimate_loss,
    nanogpt_window_starts,
    perplexity,
    token_losses,
    top1_correct,
)
from benchmarks.tasks.shakespeare import ShakespeareCharPerplexity


def test_hand_computed_perplexity() -> None:
    # p(true) = 0.5, 0.25, 0.125, 0.5 → losses ln2, ln4, ln8, ln2 → mean = 7/4 ln 2 → ppl = 2^(7/4), bpc = 1.75
    probs = np.array([[0.5, 0.5, 0.0], [0.25, 0.25, 0.5], [0.125, 0.375, 0.5], [0.2, 0.3, 0.5]])
    probs[3] = [0.5, 0.25, 0.25]
    with np.errstate(divide="ignore"):
        log_probs = np.log(probs)
    targets = np.array([0, 1, 0, 0])
    losses = token_losses(log_probs, targets)
    assert losses == pytest.approx([math.log(2), math.log(4), math.log(8), math.log(2)])
    mean = losses.mean()
    assert perplexity(mean) == pytest.approx(2 ** 1.75, rel=1e-12)
    assert bits_per_token(mean) == pytest.approx(1.75, rel=1e-12)
    # argmax ties resolve to the lowest id: row 0 → 0 (right), row 1 → 2, row 2 → 2, row 3 → 0 (right)
    assert top1_correct(log_probs, targets).tolist() == [1.0, 0.0, 0.0, 1.0]


def test_losses_match_torch_cross_entropy() -> None:
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(50, 65))
    targets = rng.integers(65, size=50)
    log_probs = torch.log_softmax(torch.tensor(logits), dim=-1).numpy()
    expected = float(torch.nn.functional.cross_entropy(torch.tensor(logits), torch.tensor(targets)))
    assert token_losses(log_probs, targets).mean() == pytest.approx(expected, rel=1e-12)


def _estimate_loss_as_nanogpt_writes_it(model, data, starts: np.ndarray, block_size: int) -> float:
    """Oracle: nanoGPT's train.py ``estimate_loss()`` (the val split), transcribed; its ``get_batch`` draws
    ``ix`` with ``torch.randint``, here the same starts are given."""
    import torch
    from torch.nn import functional as F

    data = torch.from_numpy(data)
    model.eval()
    losses = torch.zeros(len(starts))
    with torch.no_grad():
        for k in range(len(starts)):
            ix = torch.from_numpy(starts[k])
            X = torch.stack([data[i : i + block_size] for i in ix])
            Y = torch.stack([data[i + 1 : i + 1 + block_size] for i in ix])
            logits = model(X)  # nanoGPT's model(X, Y): logits of every position, then the mean cross-entropy
            loss = F.cross_entropy(logits.view(-1, logits.size(-1)), Y.view(-1), ignore_index=-1)
            losses[k] = loss.item()
    return float(losses.mean())


@pytest.mark.parametrize("system_id", ["char-gpt", "char-lstm", "char-gpt-modern"])
def test_nanogpt_val_loss_equals_transcribed_estimate_loss(system_id: str) -> None:
    pytest.importorskip("torch")
    from benchmarks.data.shakespeare import split_text
    from tests.conftest import synthetic_text
    from tests.test_charlm_systems import make_system

    split = split_text(synthetic_text(6_000, seed=4))
    system = make_system(system_id, iterations=5)  # a fixed, seeded, partly trained model
    system.fit(split.train, split.vocab_size, split.valid)
    batch_size, block_size = system.training_window
    starts = nanogpt_window_starts(len(split.valid), block_size, batch_size, eval_iters=25, seed=7)
    expected = _estimate_loss_as_nanogpt_writes_it(system.model, split.valid, starts, block_size)
    got = nanogpt_estimate_loss(split.valid, system.window_losses, block_size, batch_size, eval_iters=25, seed=7)
    assert got == pytest.approx(expected, abs=1e-6)
    # other seeds draw other windows (so the seed is really used), and all positions count
    assert nanogpt_estimate_loss(split.valid, system.window_losses, block_size, batch_size, 25, seed=8) != pytest.approx(got, abs=1e-6)
    first_only = nanogpt_estimate_loss(split.valid, lambda x, y: system.window_losses(x, y)[:, :1], block_size, batch_size, 25, seed=7)
    assert first_only > got  # position 0 has no context: the hardest one


def test_nanogpt_window_starts_cover_the_split_and_reject_short_data() -> None:
    starts = nanogpt_window_starts(50, 10, 4, 500, seed=0)
    assert starts.min() == 0 and starts.max() == 39  # torch.randint(len - block_size) draws from [0, 40)
    with pytest.raises(ValueError, match="cannot hold a window"):
        nanogpt_window_starts(10, 10, 1, 1, seed=0)
    with pytest.raises(ValueError, match="scorer returned shape"):
        nanogpt_estimate_loss(np.arange(50), lambda x, y: np.zeros(len(x)), block_size=4, batch_size=2, eval_iters=1)


def test_uniform_identity() -> None:
    log_probs = np.full((1000, 65), -math.log(65))
    evaluation = char_lm_evaluation(log_probs, np.arange(1000) % 65)
    assert evaluation.metrics["val_ppl"] == pytest.approx(65.0, abs=1e-9)
    assert evaluation.metrics["val_loss"] == pytest.approx(math.log(65), abs=1e-12)
    assert evaluation.metrics["val_bpc"] == pytest.approx(math.log2(65), abs=1e-12)
    assert len(evaluation.per_example["val_loss"]) == 1


def test_block_means_mean_equals_total_for_equal_blocks() -> None:
    values = np.arange(3000, dtype=float)
    blocks = block_means(values, 1000)
    assert blocks.tolist() == [499.5, 1499.5, 2499.5]
    assert block_means(np.arange(5.0), 2).tolist() == [0.5, 2.5, 4.0]


def test_check_log_probs_rejects_bad_rows() -> None:
    good = np.log(np.full((3, 4), 0.25))
    check_log_probs(good, 3, 4)
    with pytest.raises(ValueError, match="shape"):
        check_log_probs(good, 2, 4)
    bad = good.copy()
    bad[1, 0] = 0.0
    with pytest.raises(ValueError, match="row 1 is not a distribution"):
        check_log_probs(bad, 3, 4)
    bad[1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        check_log_probs(bad, 3, 4)


def test_score_command_on_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    vocab = "\n ab"
    truth = tmp_path / "valid.txt"
    truth.write_text("ab a\n")
    probs = np.full((5, 4), 0.25)
    probs[0] = [0.1, 0.1, 0.7, 0.1]  # 'a' with 0.7
    predictions = tmp_path / "pred.npz"
    np.savez(predictions, log_probs=np.log(probs), vocab=np.array(vocab))
    evaluation = ShakespeareCharPerplexity().score(predictions, truth)
    expected = (-math.log(0.7) + 4 * math.log(4)) / 5
    assert evaluation.metrics["val_loss"] == pytest.approx(expected, rel=1e-12)
    from benchmarks.commands import score

    args = argparse.Namespace(task="shakespeare-char-ppl", predictions=predictions, truth=truth, json=True)
    assert score.main(args) == 0
    assert json.loads(capsys.readouterr().out)["metrics"]["val_ppl"] == pytest.approx(math.exp(expected), rel=1e-9)


def test_score_names_unknown_character(tmp_path: Path) -> None:
    from benchmarks.errors import DataError

    truth = tmp_path / "valid.txt"
    truth.write_text("ab\nz")
    predictions = tmp_path / "pred.npz"
    np.savez(predictions, log_probs=np.log(np.full((4, 3), 1 / 3)), vocab=np.array("\nab"))
    with pytest.raises(DataError, match=r"valid\.txt, line 2: character 'z' at offset 3"):
        ShakespeareCharPerplexity().score(predictions, truth)


@pytest.mark.parametrize(
    "module_name",
    ["benchmarks.metrics.language_model", "benchmarks.data.shakespeare", "systems.charlm.lib.kneser_ney", "systems.charlm.lib.neural"],
)
def test_docstring_examples(module_name: str) -> None:
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(module_name))
    assert result.attempted > 0 and result.failed == 0
