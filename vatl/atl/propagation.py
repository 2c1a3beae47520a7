"""Label-anchored temporal propagation: the labels of a track correct the predictions of its other frames.

A person's pose changes little from one frame to the next, and so does the estimator's error on it (the
same clothes, light and body part hidden by the same obstacle). After every estimator pass, each
unlabeled sample's prediction is corrected by the residuals (label − prediction) of the labeled samples
of the same track:

- per joint k, the anchors are the track's labeled samples with k annotated: the nearest one before
  (frame a) and after (frame b) the sample's frame t;
- a residual is measured in units of its sample's box scale s = √(w·h): r = (label − prediction) / s;
- between two anchors the residual is interpolated linearly in time, beyond the last (or before the
  first) the nearest one is taken; it is damped by exp(−g / reach), g the frame distance to the nearer
  anchor, and applied at t's own scale: x'_t = x_t + exp(−g / reach) · r(t) · s_t. Anchors farther than
  ``max_gap`` frames are not used.

Optionally (``smooth`` = h > 0) the predictions are first smoothed along each track: every joint is
replaced by the confidence-weighted mean of its box-relative positions over the frames t − h … t + h of
the same track (triangular weights), which removes single-frame jitter. Labels are never changed, and
confidences (hence instance scores and AP's ranking) stay the model's.

Only the method's inputs are read — which frame and track each sample belongs to, the person boxes the
video comes with, the predictions and the labels — never the video's ground truth:
:meth:`TrackLayout.of` takes exactly those fields from a :class:`~vatl.data.video.Video`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from vatl.data.annotations import LabelStore


@dataclass(frozen=True)
class TrackLayout:
    """Where the samples are: frame_index (N,), track_id (N,), boxes (N, 4) xywh — no keypoints."""

    frame_index: np.ndarray
    track_id: np.ndarray
    boxes: np.ndarray

    @classmethod
    def of(cls, video: Any) -> TrackLayout:
        """The layout of a :class:`~vatl.data.video.Video` (its ground-truth keypoints are not taken)."""
        return cls(np.asarray(video.frame_index, dtype=np.int64).copy(), np.asarray(video.track_id, dtype=np.int64).copy(),
                   np.asarray(video.boxes, dtype=np.float64).copy())

    @property
    def num_samples(self) -> int:
        return len(self.frame_index)

    def scales(self) -> np.ndarray:
        """(N,) box scale √(w·h), at least 1 pixel."""
        return np.sqrt(np.maximum(self.boxes[:, 2] * self.boxes[:, 3], 1.0))

    def tracks(self) -> list[np.ndarray]:
        """The samples of each track, sorted by frame: a list of (n_T,) index arrays."""
        order = np.lexsort((self.frame_index, self.track_id))
        cuts = np.flatnonzero(np.diff(self.track_id[order])) + 1
        return np.split(order, cuts) if len(order) else []


@dataclass(frozen=True)
class Propagation:
    """Settings of the propagation (see the module docstring).

    reach: frames over which a label's correction decays by 1/e (``inf``, or the default 1e6: no decay).
    max_gap: anchors more than this many frames away are not used.
    smooth: half-width h (frames) of the smoothing along tracks before the correction (0: none).
    """

    reach: float = 1e6
    max_gap: int = 60
    smooth: int = 2

    def __post_init__(self) -> None:
        if not (isinstance(self.reach, (int, float)) and not isinstance(self.reach, bool) and self.reach > 0):
            raise ValueError(f"propagation reach must be a number of frames > 0 (or inf), got {self.reach!r}")
        for name in ("max_gap", "smooth"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"propagation {name} must be an integer >= 0, got {value!r}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def apply(self, layout: TrackLayout, keypoints: np.ndarray, labels: LabelStore | Mapping[int, np.ndarray]
              ) -> np.ndarray:
        """The corrected predictions (N, K, 3) of ``keypoints`` (N, K, 3) given the labels.

        labels: a :class:`LabelStore` or {sample: (K, 3) x, y, v}. Labeled samples keep their predictions
        (the caller merges the labels); confidences are kept.
        """
        kp = np.array(keypoints, dtype=np.float64, copy=True)
        n = layout.num_samples
        if kp.ndim != 3 or kp.shape[0] != n or kp.shape[2] != 3:
            raise ValueError(f"predictions must be ({n}, K, 3), got {kp.shape}")
        label_kp = _label_array(labels, n, kp.shape[1])
        labeled = np.isfinite(label_kp[:, 0, 0])
        if self.smooth > 0:
            kp[~labeled] = smooth_tracks(layout, kp, self.smooth)[~labeled]
        if not labeled.any():
            return kp
        scales = layout.scales()
        frames = layout.frame_index
        raw = np.asarray(keypoints, dtype=np.float64)
        for track in layout.tracks():
            anchors = track[labeled[track]]
            if not len(anchors):
                continue
            targets = track[~labeled[track]]
            if not len(targets):
                continue
            # (A, K, 2) residuals in box units; NaN where the joint is not annotated
            annotated = label_kp[anchors, :, 2] > 0
            residual = (label_kp[anchors, :, :2] - raw[anchors, :, :2]) / scales[anchors, None, None]
            residual[~annotated] = np.nan
            correction = _interpolate(frames[anchors], residual, frames[targets], self.reach, self.max_gap)
            kp[targets, :, :2] += correction * scales[targets, None, None]
        return kp


def _label_array(labels: LabelStore | Mapping[int, np.ndarray], n: int, k: int) -> np.ndarray:
    """(N, K, 3) labels, NaN rows for unlabeled samples."""
    items = labels.labels.items() if isinstance(labels, LabelStore) else labels.items()
    out = np.full((n, k, 3), np.nan)
    for i, label in items:
        value = label.keypoints if hasattr(label, "keypoints") else label
        value = np.asarray(value, dtype=np.float64)
        if not 0 <= int(i) < n or value.shape != (k, 3):
            raise ValueError(f"label of sample {i}: expected a (K, 3) = ({k}, 3) label of a sample in 0..{n - 1}, "
                             f"got shape {value.shape}")
        out[int(i)] = value
    return out


def _interpolate(anchor_frames: np.ndarray, residual: np.ndarray, frames: np.ndarray, reach: float,
                 max_gap: int) -> np.ndarray:
    """(M, K, 2) damped residuals at ``frames`` (M,) from anchors at ``anchor_frames`` (A,) with residuals
    (A, K, 2) (NaN: joint not annotated there). Per joint, the nearest annotated anchor on each side."""
    m, k = len(frames), residual.shape[1]
    out = np.zeros((m, k, 2))
    order = np.argsort(anchor_frames, kind="stable")
    anchor_frames, residual = anchor_frames[order], residual[order]
    for j in range(k):
        ok = np.isfinite(residual[:, j, 0])
        if not ok.any():
            continue
        af, r = anchor_frames[ok].astype(np.float64), residual[ok, j]
        pos = np.searchsorted(af, frames, side="right")  # anchors before: [:pos], after: [pos:]
        before = np.clip(pos - 1, 0, len(af) - 1)
        after = np.clip(pos, 0, len(af) - 1)
        has_before, has_after = pos > 0, pos < len(af)
        gap_before = np.where(has_before, frames - af[before], np.inf)
        gap_after = np.where(has_after, af[after] - frames, np.inf)
        has_before &= gap_before <= max_gap
        has_after &= gap_after <= max_gap
        both = has_before & has_after
        span = np.where(both, gap_before + gap_after, 1.0)
        w_after = np.where(both, gap_before / span, np.where(has_after, 1.0, 0.0))
        w_before = np.where(both, gap_after / span, np.where(has_before, 1.0, 0.0))
        value = w_before[:, None] * r[before] + w_after[:, None] * r[after]
        gap = np.minimum(np.where(has_before, gap_before, np.inf), np.where(has_after, gap_after, np.inf))
        damp = np.where(np.isfinite(gap), np.exp(-np.where(np.isfinite(gap), gap, 0.0) / reach)
                        if math.isfinite(reach) else 1.0, 0.0)
        out[:, j] = damp[:, None] * np.where((has_before | has_after)[:, None], value, 0.0)
    return out


def smooth_tracks(layout: TrackLayout, keypoints: np.ndarray, half_width: int) -> np.ndarray:
    """(N, K, 3) predictions smoothed along each track: each joint's box-relative position (in box scales,
    from the box centre) averaged over the track's samples within ``half_width`` frames of its own, weighted
    by confidence × (h + 1 − |Δt|); confidences are kept. Memory O(N·K): one frame offset at a time."""
    kp = np.array(keypoints, dtype=np.float64, copy=True)
    if half_width <= 0:
        return kp
    scales = layout.scales()
    centres = layout.boxes[:, :2] + layout.boxes[:, 2:] / 2
    rel = (kp[..., :2] - centres[:, None, :]) / scales[:, None, None]  # (N, K, 2)
    conf = np.clip(kp[..., 2], 1e-6, None)  # (N, K)
    for track in layout.tracks():
        frames = layout.frame_index[track]
        total = np.zeros((len(track), kp.shape[1]))
        acc = np.zeros((len(track), kp.shape[1], 2))
        for offset in range(-half_width, half_width + 1):
            pos = np.searchsorted(frames, frames + offset)
            found = (pos < len(track)) & (frames[np.minimum(pos, len(track) - 1)] == frames + offset)
            if not found.any():
                continue
            rows, other = np.flatnonzero(found), track[pos[found]]
            w = (half_width + 1 - abs(offset)) * conf[other]  # (M, K)
            total[rows] += w
            acc[rows] += w[..., None] * rel[other]
        kp[track, :, :2] = acc / total[..., None] * scales[track, None, None] + centres[track, None, :]
    return kp
