"""Combining uncertainty scores: min–max normalisation over the pool and the THC–WPU weightings.

THC+WPU (as in the published code): each score is min–max normalised over the pool U, the two are
added with weights, and the sum is min–max normalised again, so C ∈ [0, 1]:

- ``const``:    1 · THC + 1 · WPU (the paper's choice);
- ``increase``: f · THC + (1 − f) · WPU, f = labeled fraction |L|/N (THC weight rises from 0 to 1);
- ``decrease``: (1 − f) · THC + f · WPU.

All-equal scores normalise to 0 (never NaN); a NaN score (a sample the pass never delivered) counts 0.
"""

from __future__ import annotations

import numpy as np

from vatl.criteria.base import ScoreConsumer, Scorer, SelectionContext
from vatl.data.video import Video

WEIGHTINGS: tuple[str, ...] = ("const", "increase", "decrease")


def minmax(values: np.ndarray) -> np.ndarray:
    """Min–max normalisation to [0, 1] over the finite entries.

    All-equal (or empty) input gives zeros, never NaN; NaN entries stay NaN; ±inf are clipped to the
    finite range.
    """
    v = np.asarray(values, dtype=np.float64)
    out = np.zeros_like(v)
    finite = np.isfinite(v)
    if finite.any():
        lo, hi = v[finite].min(), v[finite].max()
        if hi > lo:
            out = (np.clip(np.nan_to_num(v, nan=lo), lo, hi) - lo) / (hi - lo)
    out[np.isnan(v)] = np.nan
    return out


def weights_for(weighting: str, labeled_fraction: float) -> tuple[float, float]:
    """(w_first, w_second) of a two-score combination (first = THC, second = WPU)."""
    f = float(np.clip(labeled_fraction, 0.0, 1.0))
    if weighting == "const":
        return 1.0, 1.0
    if weighting == "increase":
        return f, 1.0 - f
    if weighting == "decrease":
        return 1.0 - f, f
    raise ValueError(f"unknown weighting {weighting!r}; known: {', '.join(WEIGHTINGS)}")


def pool_normalised(scores: np.ndarray, pool: np.ndarray) -> np.ndarray:
    """(N,) with min–max normalised scores on ``pool`` (NaN -> 0) and 0 elsewhere."""
    out = np.zeros(len(scores))
    out[pool] = np.nan_to_num(minmax(np.asarray(scores, dtype=np.float64)[pool]), nan=0.0)
    return out


class CombinedScorer(Scorer):
    """Weighted sum of min–max normalised scores, normalised again to [0, 1] over the pool.

    With one part it is just that score normalised over the pool (the C of ``thc+duw``, ``wpu+duw``).
    """

    def __init__(self, parts: tuple[Scorer, ...], weighting: str = "const"):
        if not parts:
            raise ValueError("a combined score needs at least one part")
        if weighting not in WEIGHTINGS:
            raise ValueError(f"unknown weighting {weighting!r}; known: {', '.join(WEIGHTINGS)}")
        if weighting != "const" and len(parts) != 2:
            raise ValueError(f"weighting {weighting!r} needs exactly two scores, got {len(parts)}")
        self.parts = tuple(parts)
        self.weighting = weighting
        self.name = "+".join(p.name for p in parts)

    def pass_consumers(self, video: Video) -> list[ScoreConsumer]:
        return [c for p in self.parts for c in p.pass_consumers(video)]

    def check(self, video: Video) -> None:
        for p in self.parts:
            p.check(video)

    def score(self, ctx: SelectionContext) -> np.ndarray:
        pool = ctx.pool
        w = weights_for(self.weighting, ctx.labeled_fraction) if len(self.parts) == 2 else (1.0,) * len(self.parts)
        total = sum(wi * pool_normalised(p.score(ctx), pool) for wi, p in zip(w, self.parts))
        return pool_normalised(total, pool)
