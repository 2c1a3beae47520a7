"""Temporal uncertainty: THC (temporal heatmap continuity, Eq. 7) and TPC (temporal pose continuity).

Temporal neighbours are true neighbours: the sample of the same track in the closest earlier (later)
frame at most ``max_gap`` frames away (:meth:`Video.neighbours`). Both scores add a "previous" and a
"next" side; with one neighbour missing that side is counted twice; with none the score is 0.
The keypoint slots used are those that can carry a label (PoseTrack21's ears are left out).

THC_t = (1/K) Σ_k SAD(H_{t−1}^k, H_t^k) + (1/K) Σ_k SAD(H_t^k, H_{t+1}^k), every heatmap in its own
sample's crop frame. It is computed while the estimator pass streams (:class:`THCConsumer`), holding
only the heatmaps whose neighbours have not arrived yet: in the pass's frame order that is at most one
heatmap per track (the previous frame's persons); in any other order it stays correct and may hold more.

TPC_t = the number of joints whose decoded position moves more than ``threshold · sqrt(crop area)``
(0.01 and the enlarged crop region, as in the published code) to the previous sample, plus the same to
the next; as in the published code, the neighbour's heatmap is decoded in the current sample's crop, so
only motion relative to the person's box counts (a person walking across the frame scores 0).
"""

from __future__ import annotations

import numpy as np

from vatl.criteria.base import ScoreConsumer, Scorer, SelectionContext
from vatl.criteria.confidence import label_slots
from vatl.data.video import Video
from vatl.estimator.crops import box_to_center_size
from vatl.estimator.heatmaps import decode_heatmaps
from vatl.estimator.interface import PassBatch


def combine_sides(prev_side: np.ndarray, next_side: np.ndarray) -> np.ndarray:
    """prev + next; a NaN (missing) side counts the other one twice; both NaN -> 0.  (N,), (N,) -> (N,)"""
    p, n = np.asarray(prev_side, dtype=np.float64), np.asarray(next_side, dtype=np.float64)
    out = np.where(np.isnan(p), 2.0 * n, np.where(np.isnan(n), 2.0 * p, p + n))
    return np.nan_to_num(out, nan=0.0)


def mean_sad(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(1/K) Σ_k Σ_pixels |a − b|: (M, K, h, w) x2 -> (M,)."""
    d = np.abs(np.asarray(a, dtype=np.float32) - np.asarray(b, dtype=np.float32))
    return d.reshape(d.shape[0], d.shape[1], -1).sum(axis=2, dtype=np.float64).mean(axis=1)


class THCConsumer:
    """Streams THC over a pass; memory: four (N,) arrays plus the heatmaps still waiting for a neighbour."""

    name = "thc"

    def __init__(self, video: Video, max_gap: int = 1, slots: np.ndarray | None = None):
        self.prev, self.next = video.neighbours(max_gap)
        n = video.num_samples
        self.slots = None if slots is None else np.asarray(slots)
        self.sad_prev = np.full(n, np.nan)
        self.sad_next = np.full(n, np.nan)
        self.arrived = np.zeros(n, dtype=bool)
        self.pending: dict[int, np.ndarray] = {}
        self._pos = np.full(n, -1, dtype=np.int64)
        self.max_pending = 0

    def consume(self, batch: PassBatch) -> None:
        idx = np.asarray(batch.indices, dtype=np.int64)
        hm = batch.heatmaps if self.slots is None else batch.heatmaps[:, self.slots]
        hm = np.asarray(hm, dtype=np.float32)
        self._pos[idx] = np.arange(len(idx))
        self.arrived[idx] = True
        # an edge is computed when its second end arrives: "prev" edges to anything arrived (this batch
        # included), "next" edges only to samples of earlier batches (in-batch ones are their prev edges)
        p, q = self.prev[idx], self.next[idx]
        prev_edge = (p >= 0) & self.arrived[np.maximum(p, 0)]
        next_edge = (q >= 0) & self.arrived[np.maximum(q, 0)] & (self._pos[np.maximum(q, 0)] < 0)
        rows = np.concatenate([np.flatnonzero(prev_edge), np.flatnonzero(next_edge)])
        partners = np.concatenate([p[prev_edge], q[next_edge]])
        if len(rows):
            self._record(idx, hm, rows, partners, int(prev_edge.sum()))
        waiting = (((p >= 0) & ~self.arrived[np.maximum(p, 0)]) | ((q >= 0) & ~self.arrived[np.maximum(q, 0)]))
        for j in np.flatnonzero(waiting):
            self.pending[int(idx[j])] = hm[j].copy()
        for s in np.unique(partners[self._pos[partners] < 0]):
            if self._done(int(s)):
                self.pending.pop(int(s), None)
        self.max_pending = max(self.max_pending, len(self.pending))
        self._pos[idx] = -1

    def _record(self, idx: np.ndarray, hm: np.ndarray, rows: np.ndarray, partners: np.ndarray,
                num_prev: int) -> None:
        in_batch = self._pos[partners] >= 0
        other = np.empty((len(rows),) + hm.shape[1:], dtype=np.float32)
        other[in_batch] = hm[self._pos[partners[in_batch]]]
        for r in np.flatnonzero(~in_batch):
            other[r] = self.pending[int(partners[r])]
        sad = mean_sad(hm[rows], other)
        me = idx[rows]
        self.sad_prev[me[:num_prev]] = sad[:num_prev]
        self.sad_next[partners[:num_prev]] = sad[:num_prev]
        self.sad_next[me[num_prev:]] = sad[num_prev:]
        self.sad_prev[partners[num_prev:]] = sad[num_prev:]

    def _done(self, s: int) -> bool:
        p, q = self.prev[s], self.next[s]
        return (p < 0 or self.arrived[p]) and (q < 0 or self.arrived[q])

    def scores(self) -> np.ndarray:
        """(N,) THC; NaN for samples the pass never delivered."""
        out = combine_sides(self.sad_prev, self.sad_next)
        out[~self.arrived] = np.nan
        return out


class THCScorer(Scorer):
    """Temporal heatmap continuity, streamed from the pass."""

    name = "thc"

    def __init__(self, max_gap: int = 1):
        self.max_gap = max_gap

    def pass_consumers(self, video: Video) -> list[ScoreConsumer]:
        return [THCConsumer(video, self.max_gap, label_slots(video))]

    def score(self, ctx: SelectionContext) -> np.ndarray:
        return self._streamed(ctx)


def temporal_pose_continuity(coords: np.ndarray, crop_sizes: np.ndarray, heatmap_size: tuple[int, int],
                             prev: np.ndarray, nxt: np.ndarray, threshold: float = 0.01,
                             slots: np.ndarray | None = None) -> np.ndarray:
    """TPC of every sample, as the published code computes it.

    coords: (N, K, 2) decoded keypoints in heatmap coordinates (each in its own sample's crop);
    crop_sizes: (N, 2) the crop regions (w, h) in image pixels; heatmap_size: (w, h).
    A neighbour's keypoints are read in the current sample's crop (its heatmap coordinates scaled by the
    current crop), so only motion relative to the box counts. Returns (N,) float64: joints moving more than
    ``threshold · sqrt(crop w · crop h)`` to prev plus to next (a missing side counts the other twice;
    none -> 0).
    """
    uv = np.asarray(coords, dtype=np.float64)
    if slots is not None:
        uv = uv[:, slots]
    sizes = np.asarray(crop_sizes, dtype=np.float64)
    scale = sizes / np.asarray(heatmap_size, dtype=np.float64)  # image px per heatmap px (N, 2)
    limit = threshold * np.sqrt(sizes[:, 0] * sizes[:, 1])

    def side(nb: np.ndarray) -> np.ndarray:
        moved = np.linalg.norm((uv[np.maximum(nb, 0)] - uv) * scale[:, None, :], axis=2) > limit[:, None]
        return np.where(nb >= 0, moved.sum(axis=1).astype(np.float64), np.nan)

    return combine_sides(side(np.asarray(prev)), side(np.asarray(nxt)))


class TPCConsumer:
    """Streams the decoded heatmap coordinates of every sample over a pass (N × K × 2 numbers)."""

    name = "tpc"

    def __init__(self, video: Video, max_gap: int = 1, threshold: float = 0.01, slots: np.ndarray | None = None):
        self.video = video
        self.prev, self.next = video.neighbours(max_gap)
        self.threshold = threshold
        self.slots = None if slots is None else np.asarray(slots)
        self.coords = np.zeros((video.num_samples, video.keypoint_set.num_keypoints, 2))
        self.arrived = np.zeros(video.num_samples, dtype=bool)
        self.heatmap_size: tuple[int, int] | None = None

    def consume(self, batch: PassBatch) -> None:
        idx = np.asarray(batch.indices, dtype=np.int64)
        coords, _ = decode_heatmaps(batch.heatmaps)
        self.coords[idx] = coords
        self.arrived[idx] = True
        h, w = batch.heatmaps.shape[2:]
        self.heatmap_size = (int(w), int(h))

    def scores(self) -> np.ndarray:
        """(N,) TPC; NaN for samples the pass never delivered."""
        n = self.video.num_samples
        if self.heatmap_size is None:
            return np.full(n, np.nan)
        w, h = self.heatmap_size
        _, sizes = box_to_center_size(self.video.boxes, w / h)  # the crops the pass cut, at the input's aspect
        out = temporal_pose_continuity(self.coords, sizes, self.heatmap_size, self.prev, self.next,
                                       self.threshold, self.slots)
        out[~self.arrived] = np.nan
        return out


class TPCScorer(Scorer):
    """Temporal pose continuity, streamed from the pass (the decoded heatmap coordinates)."""

    name = "tpc"

    def __init__(self, max_gap: int = 1, threshold: float = 0.01):
        self.max_gap = max_gap
        self.threshold = threshold

    def pass_consumers(self, video: Video) -> list[ScoreConsumer]:
        return [TPCConsumer(video, self.max_gap, self.threshold, label_slots(video))]

    def score(self, ctx: SelectionContext) -> np.ndarray:
        return self._streamed(ctx)
