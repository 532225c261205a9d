"""Measurements on one training curve: best epoch, trend, noise, spikes, plateau.

Every function takes a 1-D numpy array (NaN allowed where noted) and returns plain numbers.
"""

from __future__ import annotations

import numpy as np


def first_nonfinite(values: np.ndarray) -> int | None:
    """Index of the first NaN/inf, or None.

    Example:
        >>> first_nonfinite(np.array([1.0, float("nan")]))
        1
    """
    bad = np.flatnonzero(~np.isfinite(values))
    return int(bad[0]) if bad.size else None


def tail_size(n: int) -> int:
    """How many final epochs stand for "the end" of a curve of n epochs: n/10, within [3, 10] (fewer if n is).

    At least three, so that the median of the end is never one noisy epoch.
    """
    return int(min(n, 10, max(3, n // 10)))


def end_value(values: np.ndarray) -> float:
    """The curve's level at the end: the median of its last `tail_size` epochs."""
    return float(np.median(values[-tail_size(len(values)) :]))


def noise(values: np.ndarray) -> float:
    """Typical epoch-to-epoch movement: the median absolute difference (0 for < 3 points)."""
    if len(values) < 3:
        return 0.0
    return float(np.median(np.abs(np.diff(values))))


def relative_slope(values: np.ndarray, window: int) -> float:
    """Least-squares slope over the last `window` epochs, divided by the curve's level there.

    Negative: still falling. Example:
        >>> round(relative_slope(np.array([4.0, 3.0, 2.0, 1.0]), 4), 3)
        -0.4
    """
    y = values[-window:]
    if len(y) < 2:
        return 0.0
    x = np.arange(len(y), dtype=float)
    slope = np.polyfit(x, y, 1)[0]
    level = float(np.mean(np.abs(y))) or 1.0
    return float(slope / level)


def spikes(values: np.ndarray, jump: float = 0.25, floor: float = 0.0) -> list[int]:
    """Epochs where the value jumps more than `jump` (25%) above the best so far, and by more than `floor`."""
    if len(values) < 3:
        return []
    best = np.minimum.accumulate(values)
    ratio = values[1:] / np.maximum(best[:-1], 1e-12)
    rise = values[1:] - best[:-1]
    return [int(i) + 1 for i in np.flatnonzero((ratio > 1 + jump) & (rise > floor))]


def oscillation(values: np.ndarray) -> float:
    """Total variation over net change in the second half: 1 for a smooth curve, larger when it zigzags."""
    half = values[len(values) // 2 :]
    if len(half) < 3:
        return 1.0
    travel = float(np.sum(np.abs(np.diff(half))))
    net = abs(float(half[-1] - half[0]))
    scale = float(np.median(np.abs(half))) or 1.0
    denominator = max(net, 0.02 * scale)  # 0 only for a curve of denormal values (5e-324): nothing to compare
    return travel / denominator if denominator > 0 else 1.0


def epochs_to_plateau(values: np.ndarray) -> int | None:
    """Rough epochs still needed to get 90% of the remaining gain, from the decay of the last windows."""
    n = len(values)
    w = max(2, n // 5)
    if n < 2 * w + 1:
        return None
    d_prev = float(values[-2 * w - 1] - values[-w - 1])
    d_last = float(values[-w - 1] - values[-1])
    if d_last <= 0:
        return 0
    if d_prev <= d_last:
        return int(min(10 * n, 2 * n))
    q = d_last / d_prev
    windows = np.log(0.1) / np.log(q)
    return int(np.clip(np.ceil(windows * w), w, 10 * n))


def count_from_steps(values: np.ndarray, max_count: int = 200_000) -> int | None:
    """How many samples an accuracy curve was measured on, read from its steps (None when unclear).

    An accuracy over n samples is always k/n: the curve's distinct values sit on a grid of step
    1/n. The smallest n (up to 6 times the one the smallest step suggests) for which every value
    is a whole number of steps, within float32 rounding, is the answer; fewer than 4 distinct
    values, or weighted metrics that are no such fraction, give None.

    Example:
        >>> count_from_steps(np.array([0.81, 0.826, 0.842, 0.836, 0.85]))
        500
    """
    finite = values[np.isfinite(values)]
    distinct = np.unique(np.round(finite, 7))
    if len(distinct) < 4 or distinct[0] < 0 or distinct[-1] > 1:
        return None
    step = float(np.min(np.diff(distinct)))
    if step <= 0:
        return None
    for multiple in range(1, 7):
        n = int(round(multiple / step))
        if n < 2 or n > max_count:
            return None
        scaled = distinct * n
        if np.all(np.abs(scaled - np.round(scaled)) < 0.02 + 2e-7 * n):
            return n
    return None


def resolution(accuracy: float, n: int) -> float:
    """The smallest change between two accuracies measured on n samples that is not sampling noise.

    Two standard errors of a difference of two such measurements: 2 x sqrt(2 p (1 - p) / n).

    Example:
        >>> round(resolution(0.95, 500), 4)
        0.0276
    """
    p = min(max(accuracy, 1.0 / n), 1 - 1.0 / n)
    return 2.0 * float(np.sqrt(2 * p * (1 - p) / n))
