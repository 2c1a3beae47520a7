"""Area under the learning curve (ALC): AP (%) against the labeled fraction (%), scaled to 0–100."""

from __future__ import annotations

import numpy as np


def alc(labeled_percent: np.ndarray, ap_percent: np.ndarray) -> float:
    """Trapezoid area under AP(%) over labeled fraction(%) divided by 100, so it lies in 0–100.

    Args:
        labeled_percent: (M,) labeled fractions in percent; must include 0 and 100, no duplicates.
            Points are sorted by fraction (the order given does not matter).
        ap_percent: (M,) AP in percent at those fractions.
    Raises:
        ValueError: mismatched shapes, fewer than two points, NaN/inf, fractions outside 0–100,
        AP outside 0–100, duplicate fractions, or 0 % or 100 % missing.
    """
    x = np.asarray(labeled_percent, dtype=np.float64)
    y = np.asarray(ap_percent, dtype=np.float64)
    if x.ndim != 1 or x.shape != y.shape:
        raise ValueError(f"ALC needs two 1-D arrays of equal length; got fractions {x.shape}, AP {y.shape}")
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        raise ValueError(f"ALC: non-finite value (NaN/inf) in fractions {x.tolist()} or AP {y.tolist()}")
    if ((x < 0) | (x > 100)).any():
        raise ValueError(f"ALC: labeled fractions must be percentages in 0..100, got {x.tolist()}")
    if ((y < 0) | (y > 100)).any():
        raise ValueError(f"ALC: AP values must be percentages in 0..100, got {y.tolist()}")
    order = np.argsort(x, kind="stable")
    x, y = x[order], y[order]
    duplicates = np.unique(x[1:][np.diff(x) == 0])
    if duplicates.size:
        raise ValueError(f"ALC: labeled fraction(s) {duplicates.tolist()} % evaluated more than once")
    missing = [p for p in (0.0, 100.0) if p not in x]
    if missing:
        raise ValueError(f"ALC needs the points at 0 % and 100 % labeled; missing {missing} "
                         f"(have {x.tolist()})")
    area = float(np.sum(np.diff(x) * (y[1:] + y[:-1]) / 2.0))
    return area / 100.0
