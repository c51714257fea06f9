"""Kaggle-size scoring files for the speed benchmarks: an H&M submission and truth, OTTO labels and a submission.

The files have the real formats and sizes (H&M: 1,371,980 customers, 68,984 of them buyers in the
truth week; OTTO: 1,671,803 test sessions, three 20-aid rows each) and random but plausible content:
items drawn from a skewed popularity, some true items placed in the predictions so that the
metrics are not zero. They measure how fast a scorer reads and scores, not how good a model is.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

HM_CUSTOMERS = 1_371_980
HM_BUYERS = 68_984
HM_ARTICLES = 105_542
OTTO_SESSIONS = 1_671_803
OTTO_ITEMS = 1_855_603
OTTO_FIRST_SESSION = 12_899_779


def _popularity(n_items: int) -> np.ndarray:
    """Cumulative Zipf-like popularity (weight ∝ 1 / (rank + 10)) of ``n_items`` item codes."""
    weights = 1.0 / (np.arange(n_items) + 10.0)
    return np.cumsum(weights / weights.sum())


def _popular(rng: np.random.Generator, cumulative: np.ndarray, size: int | tuple[int, ...]) -> np.ndarray:
    """Item codes drawn from the popularity ``cumulative``."""
    return np.minimum(np.searchsorted(cumulative, rng.random(size)), len(cumulative) - 1)


def _write_rows(path: Path, header: str, keys: list[str], rows: list[str]) -> Path:
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(header + "\n")
        handle.writelines(f"{key},{row}\n" for key, row in zip(keys, rows))
    return path


def write_hm_files(folder: Path, seed: int = 0, customers: int = HM_CUSTOMERS, buyers: int = HM_BUYERS,
                   repeat_every: int = 0) -> tuple[Path, Path]:
    """Write ``submission.csv`` (12 articles for every customer) and ``truth.csv`` (the buyers' distinct
    articles; with ``repeat_every=n``, every n-th truth row also repeats its first article).

    Returns:
        ``(submission path, truth path)``.
    """
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    words = rng.integers(0, 2**63, size=(customers, 4), dtype=np.int64).tolist()
    ids = [f"{a:016x}{b:016x}{c:016x}{d:016x}" for a, b, c, d in words]
    articles = np.array([f"0{v}" for v in 108_775_015 + rng.choice(850_686_984, HM_ARTICLES, replace=False)])
    popularity = _popularity(HM_ARTICLES)
    predicted = _popular(rng, popularity, (customers, 12))
    buyer_rows = np.sort(rng.choice(customers, buyers, replace=False))
    truth_rows = []
    for number, row in enumerate(buyer_rows.tolist()):
        size = int(min(1 + rng.geometric(0.3), 30))
        bought = list(dict.fromkeys(_popular(rng, popularity, size).tolist()))
        for slot in np.flatnonzero(rng.random(12) < 0.15).tolist():  # some true articles predicted
            predicted[row, slot] = bought[int(rng.integers(len(bought)))]
        if repeat_every and number % repeat_every == 0:
            bought = bought + bought[:1]
        truth_rows.append(" ".join(articles[bought]))
    submission = _write_rows(folder / "submission.csv", "customer_id,prediction", ids,
                             [" ".join(r) for r in articles[predicted].tolist()])
    truth = _write_rows(folder / "truth.csv", "customer_id,prediction", [ids[i] for i in buyer_rows.tolist()], truth_rows)
    return submission, truth


def write_otto_files(folder: Path, seed: int = 0, sessions: int = OTTO_SESSIONS) -> tuple[Path, Path]:
    """Write otto-de's ``test_labels.jsonl`` and a Kaggle ``submission.csv`` (20 aids per session and type).

    Returns:
        ``(submission path, labels path)``.
    """
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    ids = np.arange(OTTO_FIRST_SESSION, OTTO_FIRST_SESSION + sessions)
    has_click = rng.random(sessions) < 0.93
    cart_sizes = np.where(rng.random(sessions) < 0.17, rng.geometric(0.45, sessions), 0)
    order_sizes = np.where(rng.random(sessions) < 0.09, rng.geometric(0.4, sessions), 0)
    popularity = _popularity(OTTO_ITEMS)
    clicks = _popular(rng, popularity, sessions)
    carts = _popular(rng, popularity, int(cart_sizes.sum()))
    orders = _popular(rng, popularity, int(order_sizes.sum()))
    cart_at = np.concatenate([[0], np.cumsum(cart_sizes)])
    order_at = np.concatenate([[0], np.cumsum(order_sizes)])
    predicted = {t: _popular(rng, popularity, (sessions, 20)).astype(np.int32) for t in ("clicks", "carts", "orders")}
    lucky = rng.random(sessions) < 0.4
    predicted["clicks"][lucky, rng.integers(0, 20, int(lucky.sum()))] = clicks[lucky]
    labels = folder / "test_labels.jsonl"
    clicks_list, carts_list, orders_list = clicks.tolist(), carts.tolist(), orders.tolist()
    with open(labels, "w", encoding="utf-8") as handle:
        for i, session in enumerate(ids.tolist()):
            parts = []
            if has_click[i]:
                parts.append(f'"clicks": {clicks_list[i]}')
            for name, values, at in (("carts", carts_list, cart_at), ("orders", orders_list, order_at)):
                chosen = sorted(set(values[at[i]:at[i + 1]]))
                if chosen:
                    parts.append(f'"{name}": [{", ".join(map(str, chosen))}]')
                    if rng.random() < 0.5:
                        predicted[name][i, : len(chosen)] = chosen[:20]
            if not parts:
                parts.append(f'"clicks": {clicks_list[i]}')
            handle.write(f'{{"session": {session}, "labels": {{{", ".join(parts)}}}}}\n')
    submission = folder / "submission.csv"
    with open(submission, "w", encoding="utf-8") as handle:
        handle.write("session_type,labels\n")
        for name in ("clicks", "carts", "orders"):
            for lo in range(0, sessions, 100_000):  # in blocks: 100M Python ints at once would take GBs
                rows = predicted[name][lo:lo + 100_000].tolist()
                handle.writelines(f"{s}_{name},{' '.join(map(str, row))}\n" for s, row in zip(ids[lo:lo + 100_000].tolist(), rows))
    return submission, labels
