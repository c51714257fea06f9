"""Statistics for comparing systems honestly: paired tests, Holm's correction, confidence intervals.

Pure functions over plain arrays. The unit of analysis is whatever the caller passes: per-example
values (one per query, customer, session or text window), or one value per seed when per-example
values are missing or the examples differ. Two-sided tests throughout.

    >>> a = [0.9, 0.8, 0.7, 0.95, 0.85]
    >>> b = [0.6, 0.5, 0.65, 0.7, 0.55]
    >>> round(paired_t_test(a, b).p_value, 4)
    0.0078
    >>> paired_randomization_test(a, b).p_value  # exact: 2 of the 2**5 sign patterns are as extreme
    0.0625
    >>> holm([0.01, 0.04, 0.03])
    [0.03, 0.06, 0.06]
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import special

# Relative tolerance when deciding that a resampled statistic is "as extreme" as the observed
# one: sums of the same numbers in another order differ in the last bits.
_TIE_TOLERANCE = 1e-9


@dataclass(frozen=True)
class TestResult:
    """The outcome of a two-sided test of "A and B have the same mean".

    Args:
        test: which test (``"paired-t"``, ``"paired-randomization"``, ``"welch-t"``, ...).
        statistic: t statistic, or the observed mean difference for randomization tests.
        p_value: two-sided p-value.
        n: number of pairs (or of values in the smaller group for unpaired tests).
        mean_difference: mean(A) - mean(B).
        exact: True when a randomization test enumerated every sign pattern.
    """

    test: str
    statistic: float
    p_value: float
    n: int
    mean_difference: float
    exact: bool = False


def _pair(a: Sequence[float], b: Sequence[float]) -> np.ndarray:
    x = np.asarray(a, dtype=np.float64).ravel()
    y = np.asarray(b, dtype=np.float64).ravel()
    if x.shape != y.shape:
        raise ValueError(f"paired values must have the same length, got {x.size} and {y.size}")
    if x.size == 0:
        raise ValueError("no values to compare")
    return x - y


def _t_two_sided(t: float, df: float) -> float:
    """P(|T| >= |t|) for Student's t with ``df`` degrees of freedom."""
    return float(2.0 * special.stdtr(df, -abs(t)))


def paired_t_test(a: Sequence[float], b: Sequence[float]) -> TestResult:
    """Paired (dependent-samples) t-test, as ``scipy.stats.ttest_rel``.

    Args:
        a, b: values of the two systems on the same examples, in the same order.

    Returns:
        The t statistic of the differences ``a - b`` and its two-sided p-value. Identical
        vectors give p = 1; constant non-zero differences give p = 0.
    """
    d = _pair(a, b)
    n = d.size
    mean = float(d.mean())
    if n < 2:
        return TestResult("paired-t", math.nan, 1.0 if mean == 0 else math.nan, n, mean)
    sd = float(d.std(ddof=1))
    if sd == 0.0:
        if mean == 0.0:
            return TestResult("paired-t", math.nan, 1.0, n, mean)
        return TestResult("paired-t", math.copysign(math.inf, mean), 0.0, n, mean)
    t = mean / (sd / math.sqrt(n))
    return TestResult("paired-t", t, _t_two_sided(t, n - 1), n, mean)


def paired_randomization_test(
    a: Sequence[float], b: Sequence[float], n_resamples: int = 10_000, seed: int = 0
) -> TestResult:
    """Paired randomization (sign-flip permutation) test on the mean difference.

    Under the null hypothesis each pair's two values are exchangeable, so each difference is as
    likely to have either sign. When ``2**n <= n_resamples`` every sign pattern is enumerated
    (an exact test, as ``scipy.stats.permutation_test(..., permutation_type="samples")`` does);
    otherwise ``n_resamples`` random patterns are drawn and p = (count + 1) / (n_resamples + 1).

    Args:
        a, b: values of the two systems on the same examples, in the same order.
        n_resamples: random sign patterns to draw when exact enumeration is too large.
        seed: random seed, so the p-value is reproducible.

    Returns:
        The observed mean difference and the share of sign patterns whose |mean| is at least
        as large.
    """
    d = _pair(a, b)
    n = d.size
    observed = float(d.mean())
    threshold = abs(observed) * (1 - _TIE_TOLERANCE) - 1e-15
    total = float(d.sum())
    if 2**n <= n_resamples:
        patterns = np.array(list(itertools.product((0.0, 1.0), repeat=n)))  # (2**n, n), 1 = flipped
        means = (total - 2.0 * patterns @ d) / n
        count = int(np.count_nonzero(np.abs(means) >= threshold))
        return TestResult("paired-randomization", observed, count / len(means), n, observed, exact=True)
    rng = np.random.default_rng(seed)
    batch = max(1, min(n_resamples, (1 << 22) // n))
    count = 0
    done = 0
    while done < n_resamples:
        size = min(batch, n_resamples - done)
        flips = (rng.random((size, n), dtype=np.float32) < 0.5).astype(np.float64)  # (size, n)
        means = (total - 2.0 * flips @ d) / n
        count += int(np.count_nonzero(np.abs(means) >= threshold))
        done += size
    return TestResult("paired-randomization", observed, (count + 1) / (n_resamples + 1), n, observed)


def welch_t_test(a: Sequence[float], b: Sequence[float]) -> TestResult:
    """Welch's unequal-variance t-test for two independent groups, as
    ``scipy.stats.ttest_ind(a, b, equal_var=False)``. Used over seeds when two systems' seeds
    cannot be paired.

    Args:
        a, b: independent values (e.g. one per seed) of the two systems.

    Returns:
        The t statistic and its two-sided p-value (Welch-Satterthwaite degrees of freedom).
    """
    x = np.asarray(a, dtype=np.float64).ravel()
    y = np.asarray(b, dtype=np.float64).ravel()
    diff = float(x.mean() - y.mean()) if x.size and y.size else math.nan
    n = int(min(x.size, y.size))
    if x.size < 2 or y.size < 2:
        return TestResult("welch-t", math.nan, math.nan, n, diff)
    vx = float(x.var(ddof=1)) / x.size
    vy = float(y.var(ddof=1)) / y.size
    if vx + vy == 0.0:
        p = 1.0 if diff == 0.0 else 0.0
        return TestResult("welch-t", math.nan if diff == 0 else math.copysign(math.inf, diff), p, n, diff)
    t = diff / math.sqrt(vx + vy)
    df = (vx + vy) ** 2 / (vx**2 / (x.size - 1) + vy**2 / (y.size - 1))
    return TestResult("welch-t", t, _t_two_sided(t, df), n, diff)


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm-Bonferroni adjusted p-values (step-down), for several tests at once.

    The i-th smallest p-value is multiplied by (m - i + 1), made monotone, and capped at 1.
    Reject a hypothesis at level alpha when its adjusted p-value is <= alpha. NaN stays NaN.

    Args:
        p_values: raw p-values, any order.

    Returns:
        Adjusted p-values in the same order.

    >>> holm([0.01, 0.02, 0.5])
    [0.03, 0.04, 0.5]
    """
    values = [float(p) for p in p_values]
    finite = [i for i, p in enumerate(values) if not math.isnan(p)]
    m = len(finite)
    adjusted = list(values)
    running = 0.0
    for rank, index in enumerate(sorted(finite, key=lambda i: values[i])):
        running = max(running, min(1.0, (m - rank) * values[index]))
        adjusted[index] = round(running, 15)
    return adjusted


def bootstrap_ci(
    values: Sequence[float] | np.ndarray, confidence: float = 0.95, n_resamples: int = 1000, seed: int = 0
) -> tuple[float, float]:
    """Percentile bootstrap confidence interval for a mean.

    A 1-D input is resampled over its values (as ``scipy.stats.bootstrap(...,
    method="percentile")``). A 2-D input ``(seeds, examples)`` is resampled at both levels: seeds
    with replacement, then examples with replacement, so the interval covers both training
    randomness and the finite test set.

    Args:
        values: (n,) or (seeds, examples) array.
        confidence: e.g. 0.95.
        n_resamples: bootstrap replicates.
        seed: random seed, so the interval is reproducible.

    Returns:
        (low, high); (nan, nan) for no values; (v, v) for a single value.
    """
    matrix = np.asarray(values, dtype=np.float64)
    if matrix.ndim == 1:
        matrix = matrix[None, :]  # (1, n)
    if matrix.ndim != 2:
        raise ValueError(f"expected a 1-D or 2-D array, got shape {matrix.shape}")
    seeds, n = matrix.shape
    if matrix.size == 0:
        return (math.nan, math.nan)
    if matrix.size == 1:
        return (float(matrix.flat[0]), float(matrix.flat[0]))
    rng = np.random.default_rng(seed)
    estimates = np.empty(n_resamples)
    batch = max(1, min(n_resamples, (1 << 20) // n))
    done = 0
    while done < n_resamples:
        size = min(batch, n_resamples - done)
        picks = rng.integers(0, n, size=(size, n))  # (size, n) example indices
        # one seed at a time: the same means as matrix[:, picks].mean(axis=2), without a (seeds, size, n) array
        per_seed = np.stack([np.take(row, picks).mean(axis=1) for row in matrix])  # (seeds, size)
        if seeds > 1:
            seed_counts = rng.multinomial(seeds, np.full(seeds, 1.0 / seeds), size=size)  # (size, seeds)
            estimates[done:done + size] = (seed_counts * per_seed.T).sum(axis=1) / seeds
        else:
            estimates[done:done + size] = per_seed[0]
        done += size
    alpha = (1.0 - confidence) / 2.0
    low, high = np.percentile(estimates, [100 * alpha, 100 * (1 - alpha)])
    return (float(low), float(high))


def t_interval(values: Sequence[float], confidence: float = 0.95) -> tuple[float, float]:
    """Student-t confidence interval for a mean of a few values (e.g. one per seed).

    Args:
        values: the values.
        confidence: e.g. 0.95.

    Returns:
        (low, high); (v, v) for one value.
    """
    x = np.asarray(values, dtype=np.float64).ravel()
    if x.size == 0:
        return (math.nan, math.nan)
    mean = float(x.mean())
    if x.size == 1:
        return (mean, mean)
    half = float(special.stdtrit(x.size - 1, 0.5 + confidence / 2)) * float(x.std(ddof=1)) / math.sqrt(x.size)
    return (mean - half, mean + half)


def normal_ci(values: Sequence[float] | np.ndarray, confidence: float = 0.95) -> tuple[float, float]:
    """Normal-approximation interval matching :func:`bootstrap_ci`'s two levels, for large inputs.

    The variance of the mean is that of the seed means over seeds plus that of the seed-averaged
    per-example values over examples: Var ≈ s²(seed means) / S + s²(example means) / n.

    Args:
        values: (n,) or (seeds, examples) array.
        confidence: e.g. 0.95.

    Returns:
        (low, high).
    """
    matrix = np.asarray(values, dtype=np.float64)
    if matrix.ndim == 1:
        matrix = matrix[None, :]  # (1, n)
    seeds, n = matrix.shape
    if matrix.size == 0:
        return (math.nan, math.nan)
    mean = float(matrix.mean())
    variance = float(matrix.mean(axis=0).var(ddof=1)) / n if n > 1 else 0.0
    if seeds > 1:
        variance += float(matrix.mean(axis=1).var(ddof=1)) / seeds
    half = float(special.ndtri(0.5 + confidence / 2)) * math.sqrt(variance)
    return (mean - half, mean + half)
