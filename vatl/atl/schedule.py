"""The labeling budget: cumulative percentages of N turned into per-cycle query sizes."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

DEFAULT_SCHEDULE = (5, 10, 15, 20, 30, 40, 60, 80, 100)


def parse_schedule(text: str) -> tuple[float, ...]:
    """``"5,10,20,100"`` -> (5.0, 10.0, 20.0, 100.0), validated by :func:`validate_schedule`."""
    try:
        values = tuple(float(v) for v in text.replace(" ", "").split(",") if v)
    except ValueError:
        raise ValueError(f"schedule {text!r}: expected comma-separated percentages such as 5,10,20,100") from None
    return validate_schedule(values)


def validate_schedule(percents: Sequence[float]) -> tuple[float, ...]:
    values = tuple(float(p) for p in percents)
    if not values:
        raise ValueError("schedule is empty: give at least one cumulative percentage")
    if any(not 0 < p <= 100 for p in values):
        raise ValueError(f"schedule {list(values)}: every percentage must be in (0, 100]")
    if any(b <= a for a, b in zip(values, values[1:])):
        raise ValueError(f"schedule {list(values)}: percentages must increase strictly")
    return values


def cumulative_targets(num_samples: int, percents: Sequence[float]) -> np.ndarray:
    """(C,) labeled-sample counts to reach after each cycle.

    floor(N·p/100), but every cycle adds at least one sample (so N < 20 still queries something), capped
    at N; cycles that would add nothing once N is reached are dropped.
    """
    if num_samples < 1:
        raise ValueError("the video has no samples: nothing to select")
    targets = []
    previous = 0
    for p in validate_schedule(percents):
        t = min(num_samples, max(int(np.floor(num_samples * p / 100 + 1e-9)), previous + 1))
        if t > previous:
            targets.append(t)
            previous = t
        if previous == num_samples:
            break
    return np.asarray(targets, dtype=np.int64)
