"""Statistics for comparing systems honestly: scipy's tests and intervals, Holm's correction.

Thin wrappers over ``scipy.stats`` that add what the comparisons need: one result type, defined answers for
degenerate inputs (identical or constant values), and a two-level bootstrap over seeds and examples. Holm's
correction is written here (scipy has none). The unit of analysis is whatever the caller passes: per-example values
(one per query, customer, session or text window), or one value per seed. Two-sided tests throughout.

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

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats


@dataclass(frozen=True)
class TestResult:
    """The outcome of a two-sided test of "A and B have the same mean"."""

    test: str  # "paired-t", "paired-randomization", "welch-t"
    statistic: float  # t, or the observed mean difference for randomization tests
    p_value: float
    n: int  # pairs, or the values in the smaller group of an unpaired test
    mean_difference: float  # mean(A) - mean(B)
    exact: bool = False  # a randomization test that enumerated every sign pattern


def _pair(a: Sequence[float], b: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    x, y = np.asarray(a, dtype=np.float64).ravel(), np.asarray(b, dtype=np.float64).ravel()
    if x.shape != y.shape:
        raise ValueError(f"paired values must have the same length, got {x.size} and {y.size}")
    if x.size == 0:
        raise ValueError("no values to compare")
    return x, y


def _degenerate(test: str, mean: float, n: int) -> TestResult:
    """No spread: equal means are not different (p = 1); constant non-zero differences are (p = 0)."""
    if mean == 0.0:
        return TestResult(test, math.nan, 1.0, n, mean)
    return TestResult(test, math.copysign(math.inf, mean), 0.0, n, mean)


def paired_t_test(a: Sequence[float], b: Sequence[float]) -> TestResult:
    """``scipy.stats.ttest_rel`` on the same examples in the same order; identical vectors: p = 1, a constant shift: 0."""
    x, y = _pair(a, b)
    d = x - y
    mean = float(d.mean())
    if d.size < 2:
        return TestResult("paired-t", math.nan, 1.0 if mean == 0 else math.nan, d.size, mean)
    if float(d.std(ddof=1)) == 0.0:
        return _degenerate("paired-t", mean, d.size)
    result = stats.ttest_rel(x, y)
    return TestResult("paired-t", float(result.statistic), float(result.pvalue), d.size, mean)


def paired_randomization_test(a: Sequence[float], b: Sequence[float], n_resamples: int = 10_000,
                              seed: int = 0) -> TestResult:
    """Sign-flip test on the mean difference (``scipy.stats.permutation_test``, ``permutation_type="samples"``): under
    the null each difference is as likely to have either sign. Exact when ``2**n <= n_resamples``; else ``n_resamples``
    random patterns from ``seed`` and p = (count + 1) / (n_resamples + 1)."""
    x, y = _pair(a, b)
    d = x - y
    observed = float(d.mean())
    if d.size == 1 or not d.any():  # both sign patterns (or all of them) are as extreme
        return TestResult("paired-randomization", observed, 1.0, d.size, observed, exact=True)
    result = stats.permutation_test(
        (d,), np.mean, permutation_type="samples", vectorized=True, n_resamples=n_resamples,
        alternative="two-sided", batch=max(1, (1 << 20) // d.size), rng=np.random.default_rng(seed),
    )
    exact = 2**d.size <= n_resamples
    return TestResult("paired-randomization", observed, float(result.pvalue), d.size, observed, exact=exact)


def welch_t_test(a: Sequence[float], b: Sequence[float]) -> TestResult:
    """``scipy.stats.ttest_ind(a, b, equal_var=False)``, for seeds that cannot be paired; NaN with fewer than two
    values on a side."""
    x, y = (np.asarray(values, dtype=np.float64).ravel() for values in (a, b))
    diff = float(x.mean() - y.mean()) if x.size and y.size else math.nan
    n = int(min(x.size, y.size))
    if x.size < 2 or y.size < 2:
        return TestResult("welch-t", math.nan, math.nan, n, diff)
    if float(x.var(ddof=1)) + float(y.var(ddof=1)) == 0.0:
        return _degenerate("welch-t", diff, n)
    result = stats.ttest_ind(x, y, equal_var=False)
    return TestResult("welch-t", float(result.statistic), float(result.pvalue), n, diff)


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm-Bonferroni step-down adjusted p-values: the i-th smallest times (m - i + 1), made monotone, capped at 1.
    NaN stays NaN; the order is kept."""
    values = [float(p) for p in p_values]
    finite = [i for i, p in enumerate(values) if not math.isnan(p)]
    m = len(finite)
    adjusted = list(values)
    running = 0.0
    for rank, index in enumerate(sorted(finite, key=lambda i: values[i])):
        running = max(running, min(1.0, (m - rank) * values[index]))
        adjusted[index] = round(running, 15)
    return adjusted


def _matrix(values: Sequence[float] | np.ndarray) -> np.ndarray:
    """(n,) or (seeds, examples) values as a (seeds, examples) float64 array."""
    matrix = np.asarray(values, dtype=np.float64)
    matrix = matrix[None, :] if matrix.ndim == 1 else matrix
    if matrix.ndim != 2:
        raise ValueError(f"expected a 1-D or 2-D array, got shape {matrix.shape}")
    return matrix


def bootstrap_ci(values: Sequence[float] | np.ndarray, confidence: float = 0.95, n_resamples: int = 1000,
                 seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap interval of a mean (``scipy.stats.bootstrap``). A 2-D ``(seeds, examples)`` input is
    resampled at both levels: examples (the same for every seed: ``paired=True``), then seeds (multinomial weights
    from the same generator), so the interval covers training randomness and the finite test set. Reproducible from
    ``seed``; (nan, nan) for no values, (v, v) for one."""
    matrix = _matrix(values)
    seeds, n = matrix.shape
    if matrix.size == 0:
        return (math.nan, math.nan)
    if matrix.size == 1:
        return (float(matrix.flat[0]), float(matrix.flat[0]))
    rng = np.random.default_rng(seed)
    if n == 1:  # one example: only the seeds vary
        data: tuple[np.ndarray, ...] = (matrix[:, 0],)
        statistic = np.mean
    else:
        data = (matrix,)

        def statistic(resampled: np.ndarray, axis: int = -1) -> np.ndarray:
            per_seed = resampled.mean(axis=axis)  # (seeds, batch): each seed on the resampled examples
            if seeds == 1:
                return per_seed[0]
            counts = rng.multinomial(seeds, np.full(seeds, 1.0 / seeds), size=per_seed.shape[1])  # (batch, seeds)
            return (counts * per_seed.T).sum(axis=1) / seeds

    result = stats.bootstrap(
        data, statistic, n_resamples=n_resamples, confidence_level=confidence, method="percentile",
        paired=n > 1, vectorized=True, axis=-1, batch=max(1, min(n_resamples, (1 << 20) // n)), rng=rng,
    )
    return (float(result.confidence_interval.low), float(result.confidence_interval.high))


def t_interval(values: Sequence[float], confidence: float = 0.95) -> tuple[float, float]:
    """``scipy.stats.t.interval`` of a mean of a few values (one per seed); (v, v) for one value or identical ones."""
    x = np.asarray(values, dtype=np.float64).ravel()
    if x.size == 0:
        return (math.nan, math.nan)
    mean = float(x.mean())
    scale = float(stats.sem(x)) if x.size > 1 else 0.0
    if scale == 0.0:
        return (mean, mean)
    low, high = stats.t.interval(confidence, x.size - 1, loc=mean, scale=scale)
    return (float(low), float(high))


def normal_ci(values: Sequence[float] | np.ndarray, confidence: float = 0.95) -> tuple[float, float]:
    """Normal approximation of :func:`bootstrap_ci`'s two levels, for large inputs:
    Var(mean) ≈ s²(seed means) / S + s²(seed-averaged example values) / n."""
    matrix = _matrix(values)
    seeds, n = matrix.shape
    if matrix.size == 0:
        return (math.nan, math.nan)
    mean = float(matrix.mean())
    variance = float(matrix.mean(axis=0).var(ddof=1)) / n if n > 1 else 0.0
    if seeds > 1:
        variance += float(matrix.mean(axis=1).var(ddof=1)) / seeds
    low, high = stats.norm.interval(confidence, loc=mean, scale=math.sqrt(variance)) if variance > 0 else (mean, mean)
    return (float(low), float(high))
