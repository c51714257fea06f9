"""Checks of a system's answers against its kind's contract: a broken answer fails the job, it is never scored."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np


class PredictionError(ValueError):
    """A system's answer that breaks its kind's contract (shape, type, NaN, infinities)."""


def numbers(value: Any, what: str, shape: tuple[int | None, ...]) -> np.ndarray:
    """``value`` as a real-number array of ``shape`` (None: any size), all finite; a PredictionError for anything
    else (strings, None, objects, complex), another shape, NaN or an infinity."""
    import numpy as np

    try:
        array = np.asarray(value)
    except Exception as error:  # noqa: BLE001 - a foreign object's __array__ may raise anything
        raise PredictionError(f"{what}: not an array ({type(error).__name__}: {error})") from None
    if array.dtype.kind not in "biuf":
        example = next((repr(v) for v in array.ravel()[:1000] if not isinstance(v, (int, float, np.number))), None)
        raise PredictionError(f"{what}: expected numbers, got dtype {array.dtype}" + (f" (e.g. {example[:40]})" if example else ""))
    if array.ndim != len(shape) or any(want is not None and got != want for got, want in zip(array.shape, shape)):
        expected = ", ".join("n" if want is None else str(want) for want in shape)
        raise PredictionError(f"{what}: shape {array.shape}, expected ({expected}{',' if len(shape) == 1 else ''})")
    if array.dtype.kind == "f":
        bad = ~np.isfinite(array)
        if bad.any():
            first = tuple(int(i) for i in np.argwhere(bad)[0])
            share = "all" if bad.all() else f"{int(bad.sum())} of {bad.size}"
            raise PredictionError(f"{what}: {share} values are NaN or infinite (first at {first}: {array[first]})")
    return array


def integers(value: Any, what: str, shape: tuple[int | None, ...], low: int, high: int | None = None) -> np.ndarray:
    """``value`` as an integer array of ``shape`` with values in [low, high): as it is when its dtype is an integer
    one (no copy of a large answer), else as int64 (floats that are whole are accepted)."""
    import numpy as np

    array = numbers(value, what, shape)
    if array.dtype.kind == "f" and (array != np.round(array)).any():
        first = tuple(int(i) for i in np.argwhere(array != np.round(array))[0])
        raise PredictionError(f"{what}: expected whole numbers, got {array[first]} at {first}")
    if array.size and (array.min() < low or (high is not None and array.max() >= high)):
        bad = array[(array < low) | (array >= high)] if high is not None else array[array < low]
        allowed = f"[{low}, {high})" if high is not None else f"{low} or more"
        raise PredictionError(f"{what}: value {bad.ravel()[0]} outside {allowed}")
    return array if array.dtype.kind in "iu" else array.astype(np.int64)
