"""Statistics for comparing systems honestly: scipy's tests and intervals, Holm's correction.

Thin wrappers over ``scipy.stats`` (``ttest_rel``, ``ttest_ind(equal_var=False)``,
``permutation_test``, ``bootstrap``, ``t``) that fix what the comparisons need on top: one result
type, defined answers for degenerate inputs (identical or constant values), and a two-level
bootstrap over seeds and examples. Holm's correction is written here (scipy has none). The unit of
analysis is whatever the caller passes: per-example values (one per query, customer, session or
text window), or one value per seed when per-example values are missing or the examples differ.
Two-sided tests throughout.

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


def _degenerate(test: str, mean: float, n: int) -> TestResult:
    """No spread: equal means are not different (p = 1); constant non-zero differences are (p = 0)."""
    if mean == 0.0:
        return TestResult(test, math.nan, 1.0, n, mean)
    return TestResult(test, math.copysign(math.inf, mean), 0.0, n, mean)


def paired_t_test(a: Sequence[float], b: Sequence[float]) -> TestResult:
    """Paired (dependent-samples) t-test: ``scipy.stats.ttest_rel``.

    Args:
        a, b: values of the two systems on the same examples, in the same order.

    Returns:
        The t statistic of the differences ``a - b`` and its two-sided p-value. Identical
        vectors give p = 1; constant non-zero differences give p = 0.
    """
    d = _pair(a, b)
    mean = float(d.mean())
    if d.size < 2:
        return TestResult("paired-t", math.nan, 1.0 if mean == 0 else math.nan, d.size, mean)
    if float(d.std(ddof=1)) == 0.0:
        return _degenerate("paired-t", mean, d.size)
    result = stats.ttest_rel(np.asarray(a, dtype=np.float64).ravel(), np.asarray(b, dtype=np.float64).ravel())
    return TestResult("paired-t", float(result.statistic), float(result.pvalue), d.size, mean)


def _mean(x: np.ndarray, axis: int = -1) -> np.ndarray:
    return np.mean(x, axis=axis)


def paired_randomization_test(
    a: Sequence[float], b: Sequence[float], n_resamples: int = 10_000, seed: int = 0
) -> TestResult:
    """Paired randomization (sign-flip permutation) test on the mean difference:
    ``scipy.stats.permutation_test(..., permutation_type="samples")``.

    Under the null hypothesis each pair's two values are exchangeable, so each difference is as
    likely to have either sign. When ``2**n <= n_resamples`` every sign pattern is enumerated
    (an exact test); otherwise ``n_resamples`` random patterns are drawn and p = (count + 1) /
    (n_resamples + 1).

    Args:
        a, b: values of the two systems on the same examples, in the same order.
        n_resamples: random sign patterns to draw when exact enumeration is too large.
        seed: random seed, so the p-value is reproducible.

    Returns:
        The observed mean difference and the two-sided p-value.
    """
    d = _pair(a, b)
    observed = float(d.mean())
    if d.size == 1 or not d.any():  # both sign patterns (or all of them) are as extreme
        return TestResult("paired-randomization", observed, 1.0, d.size, observed, exact=True)
    result = stats.permutation_test(
        (d,), _mean, permutation_type="samples", vectorized=True, n_resamples=n_resamples,
        alternative="two-sided", batch=max(1, (1 << 20) // d.size), rng=np.random.default_rng(seed),
    )
    exact = 2**d.size <= n_resamples
    return TestResult("paired-randomization", observed, float(result.pvalue), d.size, observed, exact=exact)


def welch_t_test(a: Sequence[float], b: Sequence[float]) -> TestResult:
    """Welch's unequal-variance t-test for two independent groups:
    ``scipy.stats.ttest_ind(a, b, equal_var=False)``. Used over seeds when two systems' seeds
    cannot be paired.

    Args:
        a, b: independent values (e.g. one per seed) of the two systems.

    Returns:
        The t statistic and its two-sided p-value (Welch-Satterthwaite degrees of freedom);
        NaN with fewer than two values on a side.
    """
    x = np.asarray(a, dtype=np.float64).ravel()
    y = np.asarray(b, dtype=np.float64).ravel()
    diff = float(x.mean() - y.mean()) if x.size and y.size else math.nan
    n = int(min(x.size, y.size))
    if x.size < 2 or y.size < 2:
        return TestResult("welch-t", math.nan, math.nan, n, diff)
    if float(x.var(ddof=1)) + float(y.var(ddof=1)) == 0.0:
        return _degenerate("welch-t", diff, n)
    result = stats.ttest_ind(x, y, equal_var=False)
    return TestResult("welch-t", float(result.statistic), float(result.pvalue), n, diff)


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
    """Percentile bootstrap confidence interval for a mean: ``scipy.stats.bootstrap(...,
    method="percentile")``.

    A 1-D input is resampled over its values. A 2-D input ``(seeds, examples)`` is resampled at
    both levels: examples with replacement (the same examples for every seed, scipy's
    ``paired=True``), then seeds with replacement (multinomial weights drawn from the same
    generator), so the interval covers both training randomness and the finite test set.

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
    if n == 1:  # one example: only the seeds vary
        data: tuple[np.ndarray, ...] = (matrix[:, 0],)
        statistic = _mean
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
    """Student-t confidence interval for a mean of a few values (e.g. one per seed):
    ``scipy.stats.t.interval``.

    Args:
        values: the values.
        confidence: e.g. 0.95.

    Returns:
        (low, high); (v, v) for one value or for identical values.
    """
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
    low, high = stats.norm.interval(confidence, loc=mean, scale=math.sqrt(variance)) if variance > 0 else (mean, mean)
    return (float(low), float(high))
