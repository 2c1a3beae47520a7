"""Turning annotation records into the aligned sample arrays of a :class:`Video`, counting what is left out."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from vatl.data.formats._records import (
    box_from_keypoints,
    check_plausible,
    parse_bbox,
    parse_keypoints,
    record_error,
    require_int,
)
from vatl.data.video import Frame, Video
from vatl.skeletons import KeypointSet

log = logging.getLogger(__name__)

# Reasons an instance is left out of a video (keys of ``Video.skipped``).
SKIP_UNLABELED_FRAME = "unlabeled_frame"  # on a frame whose keypoints were not annotated
SKIP_NO_JOINT = "no_annotated_joint"  # every v == 0
SKIP_MISSING_BOX = "missing_box"  # no bbox (or an empty list) and none could be derived
SKIP_EMPTY_BOX = "empty_box"  # w <= 0 or h <= 0
SKIP_CROWD = "crowd"  # iscrowd / is_crowd = 1
SKIP_OTHER_CATEGORY = "other_category"  # category without keypoints of the chosen set
SKIP_AFTER_MAX_FRAMES = "after_max_frames"  # beyond the first n frames kept
SKIP_WRAPS_SEAM = "wraps_panorama_seam"  # derived box would span a 360° panorama's seam


@dataclass
class SampleArrays:
    """Samples gathered from annotation records (aligned lists) and what was left out."""

    frame_index: list[int] = field(default_factory=list)
    track_id: list[int] = field(default_factory=list)
    boxes: list[np.ndarray] = field(default_factory=list)
    keypoints: list[np.ndarray] = field(default_factory=list)
    annotation_ids: list[int] = field(default_factory=list)
    derived_box: list[bool] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)

    def skip(self, reason: str) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + 1


def image_index_by_id(path: Path, images: Sequence[Mapping[str, Any]], order: Sequence[int]) -> dict[int, int]:
    """image id → position in the ordered frame list; duplicate ids are an error."""
    by_id: dict[int, int] = {}
    for pos, i in enumerate(order):
        iid = require_int(path, "images", i, images[i], "id")
        if iid in by_id:
            raise record_error(path, "images", i, images[i], "id", f"duplicate image id {iid}")
        by_id[iid] = pos
    return by_id


def collect_samples(path: Path, annotations: Sequence[Mapping[str, Any]], frame_of_image: Mapping[int, int],
                    frames: Sequence[Frame], keypoint_set: KeypointSet,
                    track_id_of: Callable[[int, Mapping[str, Any]], int],
                    accept: Callable[[int, Mapping[str, Any], int], str | None] | None = None,
                    derive_missing_box: bool = False, box_padding: float = 0.1,
                    clip_derived_boxes: bool = True, panorama_width: int = 0) -> SampleArrays:
    """Turn annotation records into samples, skipping (and counting) unusable instances.

    ``accept(index, record, frame)`` may return a skip reason checked before the keypoints are parsed
    (unlabeled frame, other category, crowd, …). Kept instances need ≥ 1 joint with v > 0 and a box
    with w > 0 and h > 0; a missing box is derived from the joints when ``derive_missing_box`` (clipped
    to the frame's ``width``/``height`` when ``clip_derived_boxes`` and the size is known).
    With ``panorama_width`` > 0, a derived box wider than half the panorama (a person across the
    seam of a 360° image) is skipped.
    """
    out = SampleArrays()
    k = keypoint_set.num_keypoints
    seen_ids: dict[int, int] = {}
    for i, rec in enumerate(annotations):
        image_id = require_int(path, "annotations", i, rec, "image_id")
        if image_id not in frame_of_image:
            raise record_error(path, "annotations", i, rec, "image_id",
                               f"image id {image_id} is not in 'images'")
        frame = frame_of_image[image_id]
        if frame < 0:  # image dropped (after max_frames)
            out.skip(SKIP_AFTER_MAX_FRAMES)
            continue
        if accept is not None:
            reason = accept(i, rec, frame)
            if reason is not None:
                out.skip(reason)
                continue
        ann_id = require_int(path, "annotations", i, rec, "id")
        if ann_id in seen_ids:
            raise record_error(path, "annotations", i, rec, "id",
                               f"duplicate annotation id {ann_id} (also annotations[{seen_ids[ann_id]}])")
        seen_ids[ann_id] = i
        track = track_id_of(i, rec)
        kp = parse_keypoints(path, i, rec, k)
        box = parse_bbox(path, i, rec)
        if not (kp[:, 2] > 0).any():
            out.skip(SKIP_NO_JOINT)
            continue
        derived = False
        if box is None:
            if not derive_missing_box:
                out.skip(SKIP_MISSING_BOX)
                continue
            fr = frames[frame]
            box = (box_from_keypoints(kp, box_padding, fr.width, fr.height) if clip_derived_boxes
                   else box_from_keypoints(kp, box_padding))
            derived = True
            if panorama_width > 0 and box[2] > panorama_width / 2:
                out.skip(SKIP_WRAPS_SEAM)
                continue
        if box[2] <= 0 or box[3] <= 0:
            out.skip(SKIP_EMPTY_BOX)
            continue
        check_plausible(path, i, rec, kp, box, frames[frame].width, frames[frame].height)
        out.frame_index.append(frame)
        out.track_id.append(track)
        out.boxes.append(box)
        out.keypoints.append(kp)
        out.annotation_ids.append(ann_id)
        out.derived_box.append(derived)
    return out


def build_video(name: str, keypoint_set: KeypointSet, frames: list[Frame], samples: SampleArrays,
                source: dict[str, Any]) -> Video:
    k = keypoint_set.num_keypoints
    n = len(samples.frame_index)
    if n:
        pairs = np.stack([samples.track_id, samples.frame_index], axis=1)
        duplicates = n - len(np.unique(pairs, axis=0))
        if duplicates:
            log.warning("%s: %d instance(s) share a track id with another instance of the same frame; "
                        "temporal neighbours of that track are ambiguous", source.get("path", name), duplicates)
    return Video(
        name=name,
        keypoint_set=keypoint_set,
        frames=frames,
        frame_index=np.asarray(samples.frame_index, dtype=np.int64),
        track_id=np.asarray(samples.track_id, dtype=np.int64),
        boxes=np.asarray(samples.boxes, dtype=np.float64).reshape(n, 4),
        keypoints=np.asarray(samples.keypoints, dtype=np.float64).reshape(n, k, 3),
        annotation_ids=np.asarray(samples.annotation_ids, dtype=np.int64),
        skipped=dict(sorted(samples.skipped.items())),
        source=source,
    )


def require_samples(video: Video) -> Video:
    """``video`` itself, or a ValueError saying why it has no sample (for callers that need one)."""
    if video.num_samples:
        return video
    where_from = video.source.get("path", video.name)
    why = ", ".join(f"{n} {reason}" for reason, n in video.skipped.items()) or "no annotated instance"
    raise ValueError(f"{where_from}: no usable person instance in {len(video.frames)} frames (skipped: {why})")
