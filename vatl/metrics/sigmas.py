"""Per-joint OKS sigmas of a keypoint set, estimated from labels as COCO derived its own.

COCO defines σ_k by the spread of annotations of the same joint: σ_k² = E[d² / s²], d the distance of an
annotation from the true point, s² the object's area, and OKS = exp(−d² / (2 s² (2σ_k)²)). vatl's OKS uses
the (clipped) box area as s² (:meth:`vatl.data.video.Video.oks_areas`), so the estimates here use it too.

Two sources:

* **repeated labels** (:func:`sigmas_from_repeats`): the same instances labeled R ≥ 2 times (several files
  of one clip, matched by frame and track). The spread around each instance's mean underestimates the
  spread around the truth by (R − 1)/R, which is corrected: σ_k² = mean of R/(R − 1) · |x_r − x̄|² / A.
  This is COCO's method (it used 5,000 doubly annotated images).
* **one labeled clip** (:func:`sigmas_from_clip`): along each track, the second difference
  r = x_t − (x_{t−1} + x_{t+1}) / 2 of three consecutive labels removes smooth motion; with independent
  label noise of E|e|² = σ²A it has E|r|² = 1.5 σ²A. Motion that is not locally linear adds to r, so the
  estimate is an upper bound; the median of |r|²/A (scaled by 1/ln 2, exact for Gaussian noise) keeps
  frames of fast motion from dominating it.

A joint with fewer than ``min_count`` measurements keeps the set's current sigma (``counts`` says so);
an estimate below :data:`MIN_SIGMA` (labels without measurable spread) is raised to it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from vatl.data.video import Video

MIN_COUNT = 10
MIN_SIGMA = 0.005  # an estimate is never below this (a fifth of COCO's tightest): OKS needs σ > 0
METHODS = ("repeats", "clip")


@dataclass(frozen=True)
class SigmaEstimate:
    """keypoints: (K,) slot names; sigmas: (K,) estimated (or kept, where counts < min_count);
    counts: (K,) measurements per joint; method: ``repeats`` or ``clip``; estimated: (K,) bool."""

    keypoints: tuple[str, ...]
    sigmas: np.ndarray
    counts: np.ndarray
    estimated: np.ndarray
    method: str

    def to_dict(self) -> dict[str, Any]:
        return {"keypoints": list(self.keypoints), "sigmas": [round(float(s), 5) for s in self.sigmas],
                "counts": [int(c) for c in self.counts], "estimated": [bool(e) for e in self.estimated],
                "method": self.method}


def _finish(video: Video, sum_or_median: np.ndarray, counts: np.ndarray, method: str,
            min_count: int) -> SigmaEstimate:
    estimated = counts >= min_count
    sigmas = np.where(estimated, np.maximum(np.sqrt(np.clip(sum_or_median, 0.0, None)), MIN_SIGMA),
                      video.keypoint_set.sigma_array)
    return SigmaEstimate(video.keypoint_set.keypoints, sigmas, counts, estimated, method)


def _instance_key(video: Video, i: int) -> tuple[Any, int]:
    frame = video.frames[int(video.frame_index[i])]
    where = str(frame.path) if frame.path is not None else f"image {frame.image_id}"
    return where, int(video.track_id[i])


def sigmas_from_repeats(labelings: list[Video], min_count: int = MIN_COUNT) -> SigmaEstimate:
    """σ per joint from R ≥ 2 labelings of the same clip (same keypoint names; instances matched by frame
    image and track id). Returns the estimate for the first labeling's set."""
    if len(labelings) < 2:
        raise ValueError("repeated labels need at least two labelings of the same clip")
    first = labelings[0]
    names = first.keypoint_set.keypoints
    for v in labelings[1:]:
        if v.keypoint_set.keypoints != names:
            raise ValueError(f"labeling {v.name!r} has keypoints {v.keypoint_set.keypoints}, not {names}")
    k = len(names)
    groups: dict[tuple[Any, int], list[tuple[np.ndarray, float]]] = {}
    for v in labelings:
        areas = v.oks_areas()
        for i in range(v.num_samples):
            groups.setdefault(_instance_key(v, i), []).append((v.keypoints[i], float(areas[i])))
    total = np.zeros(k)
    counts = np.zeros(k, dtype=np.int64)
    for labels in groups.values():
        if len(labels) < 2:
            continue
        kp = np.stack([lab for lab, _ in labels])  # (R, K, 3)
        area = float(np.mean([a for _, a in labels]))
        if area <= 0:
            continue
        for j in range(k):
            rows = kp[:, j, 2] > 0
            r = int(rows.sum())
            if r < 2:
                continue
            xy = kp[rows, j, :2]
            dev = ((xy - xy.mean(axis=0)) ** 2).sum(axis=1) / area * r / (r - 1)
            total[j] += dev.sum()
            counts[j] += r
    if not counts.any():
        raise ValueError("the labelings share no instance labeled twice (instances are matched by frame image "
                         "and track id)")
    mean = np.divide(total, counts, out=np.zeros(k), where=counts > 0)
    return _finish(first, mean, counts, "repeats", min_count)


def sigmas_from_clip(video: Video, min_count: int = MIN_COUNT, max_gap: int = 1) -> SigmaEstimate:
    """σ per joint (an upper bound) from the spread of one clip's labels along its tracks (see the module
    docstring): triples of samples of one track in consecutive frames (gaps ≤ ``max_gap``)."""
    prev, nxt = video.neighbours(max_gap)
    mid = np.flatnonzero((prev >= 0) & (nxt >= 0))
    k = video.keypoint_set.num_keypoints
    if len(mid) == 0:
        raise ValueError(f"video {video.name!r}: no track has three labeled samples in consecutive frames; "
                         "estimate sigmas from repeated labels instead")
    kp = video.keypoints
    a, b, c = kp[prev[mid]], kp[mid], kp[nxt[mid]]
    ok = (a[..., 2] > 0) & (b[..., 2] > 0) & (c[..., 2] > 0)  # (M, K)
    r2 = ((b[..., :2] - (a[..., :2] + c[..., :2]) / 2) ** 2).sum(axis=2)  # (M, K)
    areas = video.oks_areas()[mid]
    valid_area = areas > 0
    ok &= valid_area[:, None]
    scaled = np.where(ok, r2 / np.where(valid_area, areas, 1.0)[:, None], np.nan)
    counts = ok.sum(axis=0)
    median = np.array([np.nanmedian(scaled[:, j]) if counts[j] else 0.0 for j in range(k)])
    return _finish(video, median / np.log(2) / 1.5, counts, "clip", min_count)
