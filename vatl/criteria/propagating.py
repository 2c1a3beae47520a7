"""Criteria that use the video beyond selection: label-anchored propagation (LAP) around a base criterion.

``<base>+lap`` (e.g. ``thc+wpu+duw+lap``) selects as ``<base>`` does, optionally keeping its picks apart
along each track, and offers the ATL loop two hooks (:mod:`vatl.atl.hooks`):

- **refine** (:class:`~vatl.atl.hooks.PredictionRefiner`): after every pass, the model's predictions of
  unlabeled samples are corrected by the residuals of the same track's labels, interpolated over the
  frame gap, after an optional smoothing along the track (:class:`~vatl.atl.propagation.Propagation`);
- **pseudo-labels** (:class:`~vatl.atl.hooks.TrainingExtender`, ``pseudo`` = g > 0): unlabeled samples
  at most g frames from a label of their track are added to each retraining set with their corrected
  prediction as the label (joints annotated in that nearest label only).

``spacing`` = s > 0: the base criterion ranks 4k candidates (k = the budget); they are taken in its
order, skipping any within s frames of a labeled or already taken sample of the same track (what
propagation covers already); the skipped ones fill up when too few are left.

Nothing here reads the ground truth: the hooks see the :class:`~vatl.atl.propagation.TrackLayout`
(frames, tracks, person boxes), the predictions and the labels.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from vatl.atl.propagation import Propagation, TrackLayout
from vatl.criteria.base import Criterion, ScoreConsumer, SelectionContext
from vatl.data.annotations import LabelStore
from vatl.data.video import Video

OVERASK = 4  # candidates the base ranks per pick when spacing


class PropagatingCriterion(Criterion):
    """``base``'s selection (spaced along tracks when ``spacing`` > 0), with label-anchored propagation of
    the predictions and, when ``pseudo`` > 0, pseudo-labels of the labels' neighbours for retraining."""

    def __init__(self, base: Criterion, propagation: Propagation, spacing: int = 0, pseudo: int = 0,
                 name: str | None = None):
        for label, value in (("spacing", spacing), ("pseudo", pseudo)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"{label} must be an integer number of frames >= 0, got {value!r}")
        self.base = base
        self.scorers = base.scorers
        self.propagation = propagation
        self.spacing = spacing
        self.pseudo = pseudo
        self.name = name or f"{base.name}+lap"

    def pass_consumers(self, video: Video) -> list[ScoreConsumer]:
        return self.base.pass_consumers(video)

    def check(self, video: Video) -> None:
        self.base.check(video)

    # ------------------------------------------------------------------------------------- selection
    def select(self, ctx: SelectionContext) -> np.ndarray:
        if self.spacing == 0 or ctx.k == 0:
            return self.base.select(ctx)
        wide = self.base.select(replace(ctx, budget=min(int(ctx.unlabeled.sum()), OVERASK * ctx.k)))
        return spaced(ctx.video.frame_index, ctx.video.track_id, np.flatnonzero(ctx.labeled), wide, ctx.k,
                      self.spacing, ctx.pool)

    # ------------------------------------------------------------------------------------- hooks
    def refine_predictions(self, layout: TrackLayout, keypoints: np.ndarray, labels: LabelStore) -> np.ndarray:
        return self.propagation.apply(layout, keypoints, labels)

    def training_extension(self, layout: TrackLayout, keypoints: np.ndarray, labels: LabelStore
                           ) -> tuple[np.ndarray, np.ndarray]:
        k = keypoints.shape[1]
        if self.pseudo == 0 or not len(labels):
            return np.zeros(0, dtype=np.int64), np.zeros((0, k, 3))
        corrected = self.propagation.apply(layout, keypoints, labels)
        nearest = nearest_label(layout, labels.mask(layout.num_samples), self.pseudo)
        rows = np.flatnonzero(nearest >= 0)
        pseudo = corrected[rows].copy()
        annotated = np.stack([labels[int(j)].keypoints[:, 2] > 0 for j in nearest[rows]]) if len(rows) \
            else np.zeros((0, k), dtype=bool)
        pseudo[..., 2] = np.where(annotated, 2.0, 0.0)
        return rows.astype(np.int64), pseudo


def spaced(frame_index: np.ndarray, track_id: np.ndarray, labeled: np.ndarray, ranked: np.ndarray, k: int,
           spacing: int, pool: np.ndarray) -> np.ndarray:
    """``k`` picks from ``ranked`` (candidate order, best first) that keep ``spacing`` frames from every
    labeled (``labeled`` indices) or earlier pick of the same track; skipped candidates, then the rest of
    ``pool`` in index order, fill up when too few are left. Returns (min(k, |pool|),) int64."""
    taken: dict[int, list[int]] = {}
    for i in labeled:
        taken.setdefault(int(track_id[i]), []).append(int(frame_index[i]))
    picks: list[int] = []
    skipped: list[int] = []
    for i in (int(i) for i in ranked):
        if len(picks) == k:
            break
        frames = taken.setdefault(int(track_id[i]), [])
        if any(abs(int(frame_index[i]) - f) <= spacing for f in frames):
            skipped.append(i)
            continue
        picks.append(i)
        frames.append(int(frame_index[i]))
    chosen, ranked_set = set(picks), {int(i) for i in ranked}
    for i in skipped + [int(i) for i in pool if int(i) not in ranked_set]:
        if len(picks) >= k:
            break
        if i not in chosen:
            picks.append(i)
            chosen.add(i)
    return np.asarray(picks[:k], dtype=np.int64)


def nearest_label(layout: TrackLayout, labeled: np.ndarray, max_gap: int) -> np.ndarray:
    """(N,) the labeled sample of the same track nearest in frames (at most ``max_gap`` away; ties: the
    earlier frame) for every unlabeled sample, -1 where none is; -1 for labeled samples."""
    out = np.full(layout.num_samples, -1, dtype=np.int64)
    for track in layout.tracks():
        anchors = track[labeled[track]]
        if not len(anchors):
            continue
        targets = track[~labeled[track]]
        af, tf = layout.frame_index[anchors], layout.frame_index[targets]  # both ascending (tracks are)
        pos = np.searchsorted(af, tf)
        before, after = np.clip(pos - 1, 0, len(af) - 1), np.clip(pos, 0, len(af) - 1)
        gap_before = np.where(pos > 0, tf - af[before], np.iinfo(np.int64).max)
        gap_after = np.where(pos < len(af), af[after] - tf, np.iinfo(np.int64).max)
        best = np.where(gap_before <= gap_after, before, after)
        near = np.minimum(gap_before, gap_after) <= max_gap
        out[targets[near]] = anchors[best[near]]
    return out
