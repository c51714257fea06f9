"""The charlm systems: count models against hand/brute-force oracles, the strided evaluator, and a
smoke run of every system through the real runner."""

from __future__ import annotations

import json
import math
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
import pytest

from benchmarks.api import RunContext
from benchmarks.config import build_config
from benchmarks.data.shakespeare import split_text
from benchmarks.registry import get_system, get_task, systems_for
from benchmarks.runner import RunRequest, run
from systems.charlm.lib.kneser_ney import KneserNeyCounts
from tests.conftest import synthetic_text

TASK = "shakespeare-char-ppl"
SYSTEMS = [s.id for s in systems_for(TASK) if not s.missing_requirements()]
"""From the registry: a new char-LM system is smoke-run here without editing a list."""
NEURAL = [s for s in SYSTEMS if hasattr(get_system(s), "window_losses")]
"""The window models (``kinds.WindowModel``): trained in a loop with checkpoints, scored by nanoGPT's estimate too."""


def make_system(system_id: str, profile: str = "smoke", **overrides: object):
    cls = get_system(system_id)
    values = {**cls.profile_overrides.get(profile, {}), **overrides}
    return cls(build_config(cls.Config, values, owner=system_id), RunContext(task_id=TASK, profile=profile))


def brute_force_kn(text: list[int], vocab_size: int, order: int, history: list[int], word: int) -> float:
    """Interpolated Kneser-Ney written out with dictionaries, straight from Chen & Goodman (1998)."""
    n = len(text)
    raw = Counter(tuple(text[i : i + order]) for i in range(n - order + 1))
    continuation: dict[int, Counter] = {}
    for m in range(1, order):
        preceded: dict[tuple, set] = defaultdict(set)
        for i in range(1, n - m + 1):
            preceded[tuple(text[i : i + m])].add(text[i - 1])
        continuation[m] = Counter({gram: len(before) for gram, before in preceded.items()})

    def discount(counts: Counter) -> float:
        n1 = sum(1 for c in counts.values() if c == 1)
        n2 = sum(1 for c in counts.values() if c == 2)
        return min(max(n1 / (n1 + 2 * n2), 0.05), 0.95) if n1 + n2 else 0.5

    def prob(m: int) -> float:
        if m == 0:
            return 1.0 / vocab_size
        lower = prob(m - 1)
        if len(history) < m - 1:
            return lower
        context = tuple(history[len(history) - (m - 1) :]) if m > 1 else ()
        counts = raw if m == order else continuation[m]
        total = sum(c for gram, c in counts.items() if gram[:-1] == context)
        if total == 0:
            return lower
        types = sum(1 for gram in counts if gram[:-1] == context)
        d = discount(counts)
        return max(counts.get((*context, word), 0) - d, 0) / total + d * types / total * lower

    return prob(order)


def test_kneser_ney_matches_brute_force() -> None:
    rng = np.random.default_rng(0)
    text = [int(x) for x in rng.choice(4, size=300, p=[0.5, 0.3, 0.15, 0.05])]
    vocab_size = 5  # id 4 never occurs
    counts = KneserNeyCounts(np.array(text), vocab_size, max_order=3)
    stream = np.array([0, 1, 0, 2, 3, 1, 1, 0])
    positions = np.arange(0, len(stream) + 1)
    candidates = np.broadcast_to(np.arange(vocab_size), (len(positions), vocab_size))
    for order in (1, 2, 3):
        probs = counts.probabilities(stream, positions, candidates, order)
        assert probs.sum(axis=1) == pytest.approx(np.ones(len(positions)), abs=1e-12)
        for p in positions:
            for w in range(vocab_size):
                expected = brute_force_kn(text, vocab_size, order, stream[:p].tolist(), w)
                assert probs[p, w] == pytest.approx(expected, rel=1e-9), (order, p, w)


def test_bigram_count_is_add_k_table() -> None:
    system = make_system("bigram-count", add_k=0.5)
    system.fit(np.array([0, 1, 1, 0, 2]), 3, np.array([0]))
    rows = system.log_probs(np.array([1, 0]), 0)
    # empty prefix → unigram counts [2, 2, 1] + 0.5; after '1' → pairs (1→1, 1→0) = [1, 1, 0] + 0.5; after '0' → [0, 1, 1] + 0.5
    expected = [[2.5 / 6.5, 2.5 / 6.5, 1.5 / 6.5], [1.5 / 3.5, 1.5 / 3.5, 0.5 / 3.5], [0.5 / 3.5, 1.5 / 3.5, 1.5 / 3.5]]
    np.testing.assert_allclose(np.exp(rows), expected, rtol=1e-12)


def _direct_rows(system, stream: np.ndarray, start: int) -> np.ndarray:
    """Oracle: run the model once per prefix on its last ``block_size`` characters, after the
    ``warmup + 1`` newlines the evaluator assumes before the stream."""
    import torch

    pad = system.warmup + 1
    padded = np.concatenate([np.zeros(pad, dtype=np.int64), stream])
    rows = []
    with torch.no_grad():
        for i in range(start, len(stream) + 1):
            end = pad + i
            window = torch.from_numpy(padded[max(0, end - system.config.block_size) : end][None])  # (1, L)
            rows.append(torch.log_softmax(system.model(window)[0, -1], dim=-1).numpy())
    return np.stack(rows)


@pytest.mark.parametrize("system_id", ["char-gpt", "char-mlp", "char-lstm"])
def test_strided_evaluation_scores_each_prefix_once(system_id: str) -> None:
    split = split_text(synthetic_text(3_000, seed=1))
    # stride 1: every prefix gets the full window, so rows must equal the one-prefix-at-a-time oracle
    system = make_system(system_id, iterations=2, eval_stride=1)
    system.fit(split.train, split.vocab_size, split.valid)
    stream = split.valid[:90]
    rows = system.log_probs(stream, 5)
    assert rows.shape == (len(stream) - 5 + 1, split.vocab_size)
    np.testing.assert_allclose(rows, _direct_rows(system, stream, 5), atol=2e-5)
    # default stride: same shape, normalised rows, the same first window
    system.config.eval_stride = 0
    strided = system.log_probs(stream, 5)
    assert strided.shape == rows.shape
    np.testing.assert_allclose(np.exp(strided).sum(axis=1), 1.0, atol=1e-5)
    if system_id == "char-mlp":  # a fixed-context model sees the same context whatever the stride
        np.testing.assert_allclose(strided, rows, atol=2e-5)


def _records(results_dir: Path) -> dict[str, dict]:
    found = {}
    for path in sorted((results_dir / "records" / TASK).glob("*/*.json")):
        record = json.loads(path.read_text())
        found[record["system"]] = record
    return found


@pytest.mark.realdata
@pytest.mark.integration
def test_smoke_run_of_every_system(data_dir: Path, smoke_run) -> None:
    """The smoke runs the contract test makes (one per session), checked for what char-LMs promise."""
    found = smoke_run(TASK, {}, data_dir)
    assert {system: record.status for system, record in found.items()} == dict.fromkeys(SYSTEMS, "ok")
    records = {system: record.to_dict() for system, record in found.items()}
    ln65 = math.log(65)
    assert records["uniform"]["metrics"]["val_ppl"] == pytest.approx(65.0, abs=1e-6)
    assert records["uniform"]["metrics"]["val_loss"] == pytest.approx(ln65, abs=1e-9)
    assert {"uniform", "unigram", "bigram-count", "ngram-kn"} <= set(SYSTEMS) and len(NEURAL) >= 4
    for system_id in (s for s in SYSTEMS if s != "uniform"):
        metrics = records[system_id]["metrics"]
        assert 0.5 < metrics["val_loss"] < ln65, system_id
        assert metrics["val_ppl"] == pytest.approx(math.exp(metrics["val_loss"]), rel=1e-9)
        assert metrics["val_bpc"] == pytest.approx(metrics["val_loss"] / math.log(2), rel=1e-9)
        assert metrics["params"] > 0 and metrics["train_chars"] > 0
        extras = records[system_id]["extras"]
        assert isinstance(extras["sample"], str) and len(extras["sample"]) == 300
        prompted = extras["prompted_sample"]  # the same prompt for every system, seed and temperature recorded
        assert prompted["prompt"] == "GREMIO:\nGood morrow, neighbour Baptista.\n" and len(prompted["continuation"]) == 200
        assert prompted["seed"] == 1337 and prompted["temperature"] == 1.0
        assert extras["eval_chars"] == 20_000
        assert len(records[system_id]["per_example"]["values"]["val_loss"]) == 20
    assert records["bigram-count"]["metrics"]["val_loss"] < records["unigram"]["metrics"]["val_loss"] < ln65
    assert records["ngram-kn"]["metrics"]["val_loss"] < records["bigram-count"]["metrics"]["val_loss"]
    for system_id in NEURAL:
        metrics, curves = records[system_id]["metrics"], records[system_id]["extras"]["curves"]
        assert curves["step"][0] == 0 and curves["step"][-1] == records[system_id]["config"]["iterations"]
        assert len(curves["train_loss"]) == len(curves["val_loss"]) == len(curves["step"])
        assert curves["val_loss"][-1] < curves["val_loss"][0]
        assert curves["val_loss"][-1] == pytest.approx(metrics["val_loss"], abs=1e-5)  # the last checkpoint is the final model
        assert metrics["val_loss_best_val_selected"] <= metrics["val_loss"] + 1e-5
        # nanoGPT's estimate: same model, other windows; early positions with little context make it a bit worse
        assert 0.5 < metrics["nanogpt_val_loss"] < ln65 and abs(metrics["nanogpt_val_loss"] - metrics["val_loss"]) < 0.3
    for system_id in ("uniform", "ngram-kn"):  # count models have no windows and no training loop
        assert "nanogpt_val_loss" not in records[system_id]["metrics"] and "curves" not in records[system_id]["extras"]


def test_nanogpt_cpu_profile_is_the_readme_command() -> None:
    from benchmarks.config import resolve_system_config
    from benchmarks.errors import UserError
    from benchmarks.tasks.moons import MoonsAccuracy

    config = resolve_system_config(get_system("char-gpt"), "nanogpt-cpu", {})
    # train.py config/train_shakespeare_char.py --block_size=64 --batch_size=12 --n_layer=4 --n_head=4 --n_embd=128
    #   --max_iters=2000 --lr_decay_iters=2000 --dropout=0.0 (lr 1e-3, min_lr 1e-4, warmup 100, beta2 0.99 from the config)
    #   --eval_iters=20 --log_interval=1 (eval_interval 250 from the config)
    expected = {"block_size": 64, "batch_size": 12, "n_layer": 4, "n_head": 4, "n_embd": 128, "iterations": 2000, "dropout": 0.0,
                "learning_rate": 1e-3, "min_learning_rate": 1e-4, "warmup_iterations": 100, "beta2": 0.99, "weight_decay": 0.1,
                "grad_clip": 1.0, "bias": False, "eval_interval": 250, "log_interval": 1, "seed": None}
    assert {k: getattr(config, k) for k in expected} == expected
    task = get_task(TASK)()
    assert task.nanogpt_eval_iters("nanogpt-cpu") == 20 and task.nanogpt_eval_iters("full") == 200
    assert get_task(TASK)(get_task(TASK).Options(nanogpt_eval_iters=7)).nanogpt_eval_iters("nanogpt-cpu") == 7
    assert "standard error of about 0.014" in get_task(TASK).description and "±0.03 of 1.88" in get_task(TASK).description
    with pytest.raises(UserError, match="offers smoke, default, full"):
        run(RunRequest(task=MoonsAccuracy.id, profile="nanogpt-cpu", progress=False, update_leaderboard=False))


def nanogpt_get_lr(it: int, learning_rate: float, min_lr: float, warmup_iters: int, lr_decay_iters: int) -> float:
    """nanoGPT's ``train.py`` schedule, written out from its definition: warmup ``(it + 1) / (warmup_iters + 1)``,
    min_lr after ``lr_decay_iters``, cosine in between."""
    if it < warmup_iters:
        return learning_rate * (it + 1) / (warmup_iters + 1)
    if it > lr_decay_iters:
        return min_lr
    ratio = (it - warmup_iters) / (lr_decay_iters - warmup_iters)
    return min_lr + 0.5 * (1.0 + math.cos(math.pi * ratio)) * (learning_rate - min_lr)


def test_learning_rate_schedule_is_nanogpts() -> None:
    system = make_system("char-gpt", "nanogpt-cpu")
    got = [system.learning_rate_at(it) for it in range(2001)]
    want = [nanogpt_get_lr(it, 1e-3, 1e-4, 100, 2000) for it in range(2001)]
    assert got == pytest.approx(want, rel=1e-12, abs=1e-15)
    assert got[0] == pytest.approx(1e-3 / 101) and got[99] == pytest.approx(1e-3 * 100 / 101) and got[100] == pytest.approx(1e-3)


def test_prompted_sample_continues_the_prompt() -> None:
    """A model that always predicts 'a' continues any prompt with 'a's; the seed fixes the draws; temperature sharpens."""
    from benchmarks.tasks.shakespeare import generate

    split = split_text("ab\n\nX:\nab ba\n" * 50)

    class Always:
        def __init__(self, favourite: int, weight: float) -> None:
            self.favourite, self.weight = favourite, weight

        def log_probs(self, stream: np.ndarray, start: int) -> np.ndarray:
            row = np.full(split.vocab_size, -self.weight)
            row[self.favourite] = 0.0
            rows = np.repeat((row - np.logaddexp.reduce(row))[None], len(stream) - start + 1, axis=0)
            return rows

    a = split.vocab.index("a")
    assert generate(Always(a, 50.0), split, 20, seed=1, prompt="X:\n") == "a" * 20
    soft = Always(a, 1.0)
    assert generate(soft, split, 50, seed=3, prompt="X:\n") == generate(soft, split, 50, seed=3, prompt="X:\n")
    assert generate(soft, split, 200, seed=3, prompt="X:\n", temperature=0.05) == "a" * 200
    assert generate(soft, split, 200, seed=3, prompt="X:\n").count("a") < 200


def test_seed_option_and_per_step_log(tmp_path: Path) -> None:
    """``seed`` fixes torch's seed whatever the job's seed (nanoGPT: 1337); ``log_interval=1`` logs every step's loss."""
    split = split_text(synthetic_text(20_000, seed=1))
    runs = []
    for job_seed in (0, 5):
        system = make_system("char-gpt", iterations=6, eval_interval=3, log_interval=1, seed=1337)
        system.context.seed, system.seed = job_seed, job_seed
        system.fit(split.train, split.vocab_size, split.valid)
        runs.append(system.report()["train_log"])
    assert runs[0] == runs[1] and runs[0]["step"] == [0, 1, 2, 3, 4, 5] and len(runs[0]["loss"]) == 6
    other = make_system("char-gpt", iterations=6, eval_interval=3, log_interval=1)
    other.fit(split.train, split.vocab_size, split.valid)
    assert other.report()["train_log"]["loss"] != runs[0]["loss"]
    assert "train_log" not in make_system("char-gpt", iterations=2).report()


@pytest.mark.realdata
def test_real_uniform_and_bigram_acceptance(data_dir: Path, results_dir: Path) -> None:
    run(RunRequest(task=TASK, systems=["uniform", "bigram-count"], seeds=[0], profile="default", device="cpu",
                   data_dir=data_dir, results_dir=results_dir, progress=False, isolate=False))
    records = _records(results_dir)
    assert records["uniform"]["metrics"]["val_ppl"] == pytest.approx(65.0, abs=1e-6)
    assert records["uniform"]["extras"]["eval_chars"] == 111_540
    assert records["bigram-count"]["metrics"]["val_loss"] == pytest.approx(2.48, abs=0.01)


@pytest.mark.slow  # two trainings of every char-LM on a custom text
def test_same_seed_same_metrics_on_a_custom_text(tmp_path: Path) -> None:
    corpus = tmp_path / "play.txt"
    corpus.write_text(synthetic_text(30_000, seed=2))
    metrics = []
    for attempt in range(2):
        results = tmp_path / f"r{attempt}"
        outcomes = run(RunRequest(task=TASK, systems=["char-gpt", "ngram-kn"], seeds=[3], profile="smoke", device="cpu",
                                  results_dir=results, overrides={"task.dataset": str(corpus)}, progress=False))
        assert all(o.status == "ok" for o in outcomes)
        metrics.append({o.system: {k: v for k, v in o.metrics.items() if not k.endswith("_seconds")} for o in outcomes})
    for system_id in ("char-gpt", "ngram-kn"):
        for name, value in metrics[0][system_id].items():
            assert metrics[1][system_id][name] == pytest.approx(value, abs=1e-6), (system_id, name)
    records = _records(tmp_path / "r0")
    assert records["char-gpt"]["dataset"]["name"] == "text:play.txt"
    assert records["char-gpt"]["extras"]["sample"] == _records(tmp_path / "r1")["char-gpt"]["extras"]["sample"]


def test_doctests_of_the_task_and_the_training_library() -> None:
    import doctest

    from benchmarks.tasks import shakespeare
    from systems.charlm.lib import neural

    assert doctest.testmod(shakespeare).failed == 0 and doctest.testmod(neural).failed == 0
