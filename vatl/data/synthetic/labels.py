"""Ground truth from the rendered id map: PoseTrack21 keypoints with visibility, and person boxes.

Rules (the same for every domain):

- A joint is labeled (v = 1, at its exact projected position) when its pixel lies in the frame and
  shows the person's own figure. A joint outside the frame (truncation) or covered by another person
  or an occluder is not labeled (stored as ``0, 0, 0``, as PoseTrack does). Joints hidden behind the
  person's own body stay labeled, as annotators infer them — except the nose, which is labeled only
  while the face is turned less than about 100° away from the camera.
- The ears are never labeled (PoseTrack21).
- The box is the extent of the person's whole silhouette (head, limb thickness; parts hidden behind
  others included, as an annotator infers them), padded by 3 % of its larger side + 1 px, clipped to
  the frame.
- A person instance is kept when at least ``min_joints`` joints are labeled (PoseTrack's reader drops
  instances without any, so counts written and read agree).
"""

from __future__ import annotations

import numpy as np

from vatl.data.synthetic.body import PT21_JOINT
from vatl.data.synthetic.figure import NUM_PARTS, Figure
from vatl.data.synthetic.render import OCCLUDER_BASE

PT21_SLOTS = np.array(PT21_JOINT)
ANNOTATED = PT21_SLOTS >= 0
NOSE = 0
FACE_AWAY_Z = 0.17          # face_z above this: turned more than ~100° from the camera
BOX_PAD = 0.03


def pixel_of(xy: np.ndarray) -> np.ndarray:
    """Integer pixel (column, row) containing a point; pixel centres are at integer coordinates."""
    return np.floor(np.asarray(xy) + 0.5).astype(np.int64)


def owner_slot(ids: np.ndarray) -> np.ndarray:
    """Person slot owning each id (-1: background or an occluder); same shape as ``ids``."""
    ids = ids.astype(np.int64)
    return np.where((ids > 0) & (ids < OCCLUDER_BASE), (ids - 1) // NUM_PARTS, -1)


def joint_visibility(ids: np.ndarray, joints: np.ndarray, slots: np.ndarray) -> np.ndarray:
    """(M, K) bool: joint k of person ``slots[m]`` shows that person at its pixel and lies in the frame.

    Args:
        ids: (H, W) id map of the frame.
        joints: (M, K, 2) joint positions in frame pixels.
        slots: (M,) person slots.
    """
    h, w = ids.shape
    px = pixel_of(joints)
    inside = (px[..., 0] >= 0) & (px[..., 0] < w) & (px[..., 1] >= 0) & (px[..., 1] < h)
    owner = owner_slot(ids[np.clip(px[..., 1], 0, h - 1), np.clip(px[..., 0], 0, w - 1)])
    return inside & (owner == np.asarray(slots)[:, None])


def frame_annotations(ids: np.ndarray, figures: list[Figure], slots: list[int], t: int,
                      min_joints: int = 3) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The kept instances of frame ``t`` among the drawn persons ``slots``.

    Returns:
        kept slots (M,), keypoints (M, 17, 3) x, y, v (unlabeled joints 0, 0, 0), boxes (M, 4) xywh.
    """
    h, w = ids.shape
    if not slots:
        return np.zeros(0, np.int64), np.zeros((0, len(PT21_SLOTS), 3)), np.zeros((0, 4))
    slots_a = np.asarray(slots, dtype=np.int64)
    joints = np.stack([figures[s].points[t, np.maximum(PT21_SLOTS, 0)] for s in slots])     # (M, 17, 2)
    visible = joint_visibility(ids, joints, slots_a) & ANNOTATED[None]
    face_z = np.array([figures[s].face_z[t] for s in slots])
    visible[:, NOSE] &= face_z <= FACE_AWAY_Z
    keypoints = np.zeros(joints.shape[:2] + (3,))
    keypoints[..., :2] = np.where(visible[..., None], np.round(joints, 2), 0.0)
    keypoints[..., 2] = visible
    ext = np.stack([figures[s].extent[t] for s in slots])                                      # (M, 4)
    pad = BOX_PAD * np.maximum(ext[:, 2] - ext[:, 0], ext[:, 3] - ext[:, 1]) + 1.0
    x0 = np.clip(ext[:, 0] - pad, 0, w)
    y0 = np.clip(ext[:, 1] - pad, 0, h)
    x1 = np.clip(ext[:, 2] + pad, 0, w)
    y1 = np.clip(ext[:, 3] + pad, 0, h)
    boxes = np.round(np.stack([x0, y0, x1 - x0, y1 - y0], axis=1), 2)
    keep = (visible.sum(axis=1) >= min_joints) & (boxes[:, 2] > 1) & (boxes[:, 3] > 1)
    return slots_a[keep], keypoints[keep], boxes[keep]
