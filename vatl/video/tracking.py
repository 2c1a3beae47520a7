"""Trackers: person boxes per frame -> track ids, through the ``trackers`` library (Roboflow, Apache-2.0).

A tracker is fed the frames of one clip in increasing order after :meth:`~Tracker.reset` and returns a
track id per box (-1: the box belongs to no track). :func:`track_clip` runs one over a whole clip and
tidies what online trackers leave:

* **track starts**: ByteTrack and SORT give a new track its id only from its second matched frame, so
  the box that started it comes back as -1; a -1 box whose IoU with the first box of a track starting in
  the next frame is at least ``min_iou`` joins that track;
* **gaps**: a track missing from up to ``max_gap`` frames between two of its boxes gets linearly
  interpolated boxes there (ByteTrack's own offline post-processing), with the lower of the two scores;
* boxes left with -1 are dropped and counted (``untracked``).

Trackers (:data:`TRACKERS`): ``bytetrack`` and ``sort`` (``trackers.ByteTrackTracker`` /
``trackers.SORTTracker``). ``trackers`` is installed without its dependencies (it asks for
``opencv-python``, which clashes with the headless OpenCV vatl uses): ``make setup`` does it.

Adding a new tracker: a class satisfying :class:`Tracker`, a line in :data:`TRACKERS` (or
:func:`register_tracker`) and an example in ``tests/video/tracker_examples.py`` (the template test
``tests/video/test_tracker_template.py`` runs every registered tracker).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np

from vatl.data.boxes import box_iou
from vatl.video.detection import PersonBoxes

TRACKERS_PIN = "trackers==2.6.1 supervision==0.31.2"


@runtime_checkable
class Tracker(Protocol):
    """Links person boxes across the frames of one clip (called in increasing frame order)."""

    name: str

    def reset(self) -> None:
        """Forget every track (a new clip starts)."""
        ...

    def update(self, boxes: PersonBoxes) -> np.ndarray:
        """(M,) int track ids (>= 0) for the M boxes of the next frame, -1 for a box in no track."""
        ...


def _import_trackers() -> Any:
    try:
        import trackers  # noqa: PLC0415
    except ImportError as exc:
        raise ImportError(f"the tracker needs the `trackers` package ({exc}); install it without its "
                          f"dependencies: pip install --no-deps {TRACKERS_PIN} (make setup does)") from None
    return trackers


class LibraryTracker:
    """A tracker of the ``trackers`` library; ``options`` go to its constructor (e.g. ``lost_track_buffer``,
    ``track_activation_threshold``, ``minimum_iou_threshold``)."""

    def __init__(self, name: str, cls_name: str, frame_rate: float | None = None, **options: Any) -> None:
        self.name = name
        self._cls = getattr(_import_trackers(), cls_name)
        self._options = dict(options)
        if frame_rate:
            self._options["frame_rate"] = float(frame_rate)
        try:
            self._tracker = self._cls(**self._options)
        except TypeError as exc:
            raise ValueError(f"tracker {name!r}: {exc}") from None

    def settings(self) -> dict[str, Any]:
        return {"name": self.name, **self._options}

    def reset(self) -> None:
        self._tracker.reset()

    def update(self, boxes: PersonBoxes) -> np.ndarray:
        import supervision as sv  # noqa: PLC0415 - installed with trackers

        ids = np.full(len(boxes), -1, dtype=np.int64)
        detections = sv.Detections(xyxy=boxes.xyxy().astype(np.float32), confidence=boxes.scores.astype(np.float32),
                                   data={"row": np.arange(len(boxes))}) if len(boxes) else sv.Detections.empty()
        result = self._tracker.update(detections)
        if len(result):
            ids[np.asarray(result.data["row"], dtype=np.int64)] = np.asarray(result.tracker_id, dtype=np.int64)
        return ids


# Defaults for person boxes: a box scoring >= 0.8 starts a track at once (BlazePose's scores, presence ×
# detector score, are 0.9-1 for people in view; false detections mostly stay below 0.8), weaker boxes only
# continue tracks (ByteTrack's second stage below 0.5). Chosen on the Bonn video (docs/results/video_bonn.md).
BYTETRACK_DEFAULTS = {"track_activation_threshold": 0.8, "high_conf_det_threshold": 0.5,
                      "minimum_consecutive_frames": 1, "lost_track_buffer": 30}
SORT_DEFAULTS = {"track_activation_threshold": 0.8, "minimum_consecutive_frames": 1, "lost_track_buffer": 30}


def _bytetrack(**options: Any) -> Tracker:
    return LibraryTracker("bytetrack", "ByteTrackTracker", **{**BYTETRACK_DEFAULTS, **options})


def _sort(**options: Any) -> Tracker:
    return LibraryTracker("sort", "SORTTracker", **{**SORT_DEFAULTS, **options})


TRACKERS: dict[str, Callable[..., Tracker]] = {"bytetrack": _bytetrack, "sort": _sort}
DEFAULT_TRACKER = "bytetrack"


def register_tracker(name: str, factory: Callable[..., Tracker]) -> None:
    if name in TRACKERS:
        raise ValueError(f"tracker {name!r} is already registered")
    TRACKERS[name] = factory


def tracker_names() -> tuple[str, ...]:
    return tuple(TRACKERS)


def get_tracker(name: str, **options: Any) -> Tracker:
    """A new tracker of kind ``name``; ValueError for unknown names or options."""
    if name not in TRACKERS:
        raise ValueError(f"unknown tracker {name!r}; known: {', '.join(TRACKERS)}")
    return TRACKERS[name](**options)


@dataclass
class Tracks:
    """The tracked people of a clip, one row per box: ``frame`` (M,), ``track_id`` (M,) >= 0 (renumbered
    0..T-1 in order of first appearance), ``boxes`` (M, 4) x, y, w, h, ``scores`` (M,), ``interpolated``
    (M,) bool (a gap-filled box); sorted by (frame, track). ``untracked``: boxes left in no track."""

    frame: np.ndarray
    track_id: np.ndarray
    boxes: np.ndarray
    scores: np.ndarray
    interpolated: np.ndarray
    untracked: int = 0
    notes: dict[str, int] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.frame)

    def to_dict(self) -> dict[str, Any]:
        return {"frame": self.frame.tolist(), "track_id": self.track_id.tolist(),
                "boxes": np.round(self.boxes, 3).tolist(), "scores": np.round(self.scores, 5).tolist(),
                "interpolated": self.interpolated.tolist(), "untracked": self.untracked, "notes": self.notes}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Tracks:
        n = len(d["frame"])
        return cls(np.asarray(d["frame"], dtype=np.int64), np.asarray(d["track_id"], dtype=np.int64),
                   np.asarray(d["boxes"], dtype=np.float64).reshape(n, 4), np.asarray(d["scores"], dtype=np.float64),
                   np.asarray(d["interpolated"], dtype=bool), int(d.get("untracked", 0)), dict(d.get("notes", {})))


def track_clip(detections: Sequence[PersonBoxes], tracker: Tracker, max_gap: int = 0, min_iou: float = 0.3) -> Tracks:
    """Track the boxes of every frame of a clip (``detections[f]``: frame f) with ``tracker``, then join track
    starts, fill gaps of up to ``max_gap`` frames and drop what stays untracked (see the module docstring)."""
    tracker.reset()
    ids = [tracker.update(d) for d in detections]
    joined = _join_track_starts(detections, ids, min_iou)
    frame, track, boxes, scores = [], [], [], []
    untracked = 0
    for f, (d, t) in enumerate(zip(detections, ids)):
        ok = t >= 0
        untracked += int((~ok).sum())
        frame.append(np.full(int(ok.sum()), f, dtype=np.int64))
        track.append(t[ok])
        boxes.append(d.boxes[ok])
        scores.append(d.scores[ok])
    frame_a, track_a = np.concatenate(frame), np.concatenate(track)
    boxes_a, scores_a = np.concatenate(boxes).reshape(-1, 4), np.concatenate(scores)
    interp = np.zeros(len(frame_a), dtype=bool)
    if max_gap > 0 and len(frame_a):
        frame_a, track_a, boxes_a, scores_a, interp = _fill_gaps(frame_a, track_a, boxes_a, scores_a, max_gap)
    duplicates = 0
    if len(frame_a):  # a tracker assigns a track at most once per frame; keep the best box if not
        order = np.lexsort((-scores_a, frame_a, track_a))
        first = np.ones(len(order), dtype=bool)
        first[1:] = (track_a[order][1:] != track_a[order][:-1]) | (frame_a[order][1:] != frame_a[order][:-1])
        duplicates = int((~first).sum())
        keep = order[first]
        frame_a, track_a, boxes_a, scores_a, interp = (a[keep] for a in (frame_a, track_a, boxes_a, scores_a, interp))
    track_a = _renumber(frame_a, track_a)
    order = np.lexsort((track_a, frame_a))
    notes = {"joined_track_starts": joined, "interpolated": int(interp.sum()), "duplicate_in_frame": duplicates}
    return Tracks(frame_a[order], track_a[order], boxes_a[order], scores_a[order], interp[order],
                  untracked + duplicates, notes)


def _join_track_starts(detections: Sequence[PersonBoxes], ids: list[np.ndarray], min_iou: float) -> int:
    """Give -1 boxes of frame f the id of a track whose first box is in frame f + 1 and overlaps them (in place)."""
    first_frame: dict[int, int] = {}
    for f, t in enumerate(ids):
        for tid in t[t >= 0].tolist():
            first_frame.setdefault(tid, f)
    joined = 0
    for f in range(len(ids) - 1):
        lost = np.flatnonzero(ids[f] < 0)
        starting = [j for j, tid in enumerate(ids[f + 1].tolist()) if tid >= 0 and first_frame[tid] == f + 1]
        if not len(lost) or not starting:
            continue
        iou = box_iou(detections[f].xyxy()[lost], detections[f + 1].xyxy()[starting])
        while iou.size and iou.max() >= min_iou:
            a, b = np.unravel_index(np.argmax(iou), iou.shape)
            ids[f][lost[a]] = ids[f + 1][starting[b]]
            iou[a, :], iou[:, b] = -1, -1
            joined += 1
    return joined


def _fill_gaps(frame: np.ndarray, track: np.ndarray, boxes: np.ndarray, scores: np.ndarray, max_gap: int):
    """Linear interpolation of each track's boxes over missing runs of at most ``max_gap`` frames."""
    new_f, new_t, new_b, new_s = [], [], [], []
    order = np.lexsort((frame, track))
    f, t, b, s = frame[order], track[order], boxes[order], scores[order]
    for i in range(len(f) - 1):
        gap = f[i + 1] - f[i] - 1
        if t[i] == t[i + 1] and 0 < gap <= max_gap:
            w = (np.arange(1, gap + 1) / (gap + 1))[:, None]
            new_f.append(np.arange(f[i] + 1, f[i + 1]))
            new_t.append(np.full(gap, t[i]))
            new_b.append(b[i] * (1 - w) + b[i + 1] * w)
            new_s.append(np.full(gap, min(s[i], s[i + 1])))
    if not new_f:
        return frame, track, boxes, scores, np.zeros(len(frame), dtype=bool)
    return (np.concatenate([frame, *new_f]), np.concatenate([track, *new_t]), np.concatenate([boxes, *new_b]),
            np.concatenate([scores, *new_s]),
            np.concatenate([np.zeros(len(frame), dtype=bool), np.ones(sum(len(x) for x in new_f), dtype=bool)]))


def _renumber(frame: np.ndarray, track: np.ndarray) -> np.ndarray:
    """Track ids 0..T-1 in order of first appearance (frame, then old id)."""
    if not len(track):
        return track
    order = np.lexsort((track, frame))
    mapping: dict[int, int] = {}
    for tid in track[order].tolist():
        mapping.setdefault(tid, len(mapping))
    return np.array([mapping[t] for t in track.tolist()], dtype=np.int64)
