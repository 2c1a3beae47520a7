"""Heatmap uncertainty of one sample: least confidence (LC) and multiple peak entropy (MPE).

Both are computed while the estimator pass streams (:class:`HeatmapScoreConsumer`) over the keypoint
slots that can carry a label (``KeypointSet.annotated_slots``: PoseTrack21's ears are left out).

- LC:  u = −Σ_k max H_k.
- MPE: per joint, the local maxima of H_k as ``skimage.feature.peak_local_max(min_distance=5,
  num_peaks=5)`` finds them in the published code (a pixel equal to the maximum of its 11×11 window, off
  the 5-pixel border, above the heatmap's minimum, at most 5 kept greedily by value at least 5 px apart
  in Chebyshev distance; :func:`local_peaks`); p = softmax of the peak values; u = Σ_k entropy(p)
  (natural log). A joint without a peak (flat heatmap) adds 0.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from vatl.criteria.base import ScoreConsumer, Scorer, SelectionContext
from vatl.data.video import Video
from vatl.estimator.interface import PassBatch

HeatmapScore = Callable[[np.ndarray], np.ndarray]


def least_confidence(heatmaps: np.ndarray) -> np.ndarray:
    """LC of each sample: heatmaps (B, K, h, w) -> (B,) = −Σ_k max H_k."""
    h = np.asarray(heatmaps, dtype=np.float64)
    return -h.reshape(h.shape[0], h.shape[1], -1).max(axis=2).sum(axis=1)


def local_peaks(heatmaps: np.ndarray, num_peaks: int = 5, min_distance: int = 5
                ) -> tuple[np.ndarray, np.ndarray]:
    """Local maxima of every heatmap, as ``skimage.feature.peak_local_max(H, min_distance, num_peaks=...)``
    finds them (the published code's call; checked against scikit-image in the tests).

    heatmaps: (M, h, w). A candidate equals the maximum of its (2·min_distance+1)² window ('nearest'
    edges), lies more than ``min_distance - 1`` px from the border and is above the heatmap's minimum; a
    heatmap whose every pixel is its window's maximum (flat) has none. Candidates are taken by value (ties:
    raster order), every one of them examined, and one is kept when it is at least ``min_distance`` px
    (Chebyshev) from every kept peak, up to ``num_peaks``.
    Returns ``values`` (M, num_peaks) float64 and ``valid`` (M, num_peaks) bool (kept peaks first, by value).
    """
    from scipy.ndimage import maximum_filter  # imported on use: keeps `vatl --help` fast

    hm = np.asarray(heatmaps, dtype=np.float32)
    m, h, w = hm.shape
    size = 2 * min_distance + 1
    window_max = maximum_filter(hm, size=(1, size, size), mode="nearest")
    candidate = hm == window_max
    candidate[candidate.reshape(m, -1).all(axis=1)] = False  # a flat heatmap has no peak
    candidate &= hm > hm.reshape(m, -1).min(axis=1)[:, None, None]
    b = min_distance
    if b > 0:
        candidate[:, :b] = candidate[:, -b:] = False
        candidate[:, :, :b] = candidate[:, :, -b:] = False
    flat = np.where(candidate, hm, -np.inf).reshape(m, -1)
    candidates = candidate.reshape(m, -1).sum(axis=1)  # (M,): they come first once sorted
    c = int(candidates.max()) if m else 0
    idx = np.argsort(-flat, axis=1, kind="stable")[:, :c]  # by value, ties in raster order
    vals = np.take_along_axis(flat, idx, axis=1).astype(np.float64)
    ys, xs = idx // w, idx % w
    kept = np.zeros((m, c), dtype=bool)
    count = np.zeros(m, dtype=np.int64)
    for r in range(c):
        ok = (count < num_peaks) & (r < candidates)
        if not ok.any():
            break
        if r:
            cheb = np.maximum(np.abs(ys[:, :r] - ys[:, r:r + 1]), np.abs(xs[:, :r] - xs[:, r:r + 1]))
            ok &= ~(kept[:, :r] & (cheb < min_distance)).any(axis=1)
        kept[:, r] = ok
        count += ok
    rank = np.cumsum(kept, axis=1) - 1
    values = np.zeros((m, num_peaks))
    valid = np.zeros((m, num_peaks), dtype=bool)
    rows, cols = np.nonzero(kept)
    values[rows, rank[rows, cols]] = vals[rows, cols]
    valid[rows, rank[rows, cols]] = True
    return values, valid


def peak_entropy(values: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Entropy of the softmax over the valid peak values: (M, P) -> (M,); 0 without peaks."""
    v = np.where(valid, values, -np.inf)
    top = np.max(v, axis=1, keepdims=True)
    top = np.where(np.isfinite(top), top, 0.0)
    e = np.where(valid, np.exp(v - top), 0.0)
    z = e.sum(axis=1, keepdims=True)
    p = np.divide(e, z, out=np.zeros_like(e), where=z > 0)
    return -(p * np.log(np.where(p > 0, p, 1.0))).sum(axis=1)


def multiple_peak_entropy(heatmaps: np.ndarray, num_peaks: int = 5, min_distance: int = 5) -> np.ndarray:
    """MPE of each sample: heatmaps (B, K, h, w) -> (B,) = Σ_k entropy(softmax(peaks of H_k))."""
    b, k, h, w = heatmaps.shape
    values, valid = local_peaks(np.asarray(heatmaps).reshape(b * k, h, w), num_peaks, min_distance)
    return peak_entropy(values, valid).reshape(b, k).sum(axis=1)


class HeatmapScoreConsumer:
    """Streams a per-sample heatmap score over the selected keypoint slots; memory (N,) floats.

    Samples the pass never delivered score NaN (ranked last by the criteria).
    """

    def __init__(self, name: str, num_samples: int, fn: HeatmapScore, slots: np.ndarray | None = None):
        self.name = name
        self.fn = fn
        self.slots = None if slots is None else np.asarray(slots)
        self._scores = np.full(num_samples, np.nan)

    def consume(self, batch: PassBatch) -> None:
        hm = batch.heatmaps if self.slots is None else batch.heatmaps[:, self.slots]
        self._scores[np.asarray(batch.indices, dtype=np.int64)] = self.fn(hm)

    def scores(self) -> np.ndarray:
        return self._scores.copy()


def label_slots(video: Video) -> np.ndarray:
    """(K',) slot indices that can carry a label."""
    return np.flatnonzero(video.keypoint_set.annotated_slots)


class LCScorer(Scorer):
    """Least confidence, streamed."""

    name = "lc"

    def pass_consumers(self, video: Video) -> list[ScoreConsumer]:
        return [HeatmapScoreConsumer(self.name, video.num_samples, least_confidence, label_slots(video))]

    def score(self, ctx: SelectionContext) -> np.ndarray:
        return self._streamed(ctx)


class MPEScorer(Scorer):
    """Multiple peak entropy, streamed."""

    name = "mpe"

    def __init__(self, num_peaks: int = 5, min_distance: int = 5):
        self.num_peaks = num_peaks
        self.min_distance = min_distance

    def _fn(self, heatmaps: np.ndarray) -> np.ndarray:
        return multiple_peak_entropy(heatmaps, self.num_peaks, self.min_distance)

    def pass_consumers(self, video: Video) -> list[ScoreConsumer]:
        return [HeatmapScoreConsumer(self.name, video.num_samples, self._fn, label_slots(video))]

    def score(self, ctx: SelectionContext) -> np.ndarray:
        return self._streamed(ctx)

