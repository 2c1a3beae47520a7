"""A posed figure in image space: projected points, drawing parts in depth order, silhouette extents.

The figure is made of :data:`PARTS`: the torso (convex hull of a box), the head and hair (ellipses)
and capsules (two circles joined by a tapered quad) for neck, limbs, hands and feet. Every PoseTrack21
joint lies inside a part of its own figure (joints at capsule ends, head top and nose inside the head
ellipse), so a joint is visible exactly when the pixel under it shows its own figure.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vatl.data.synthetic.appearance import EYES_M, HAIR_M, PANTS_M, SHIRT_M, SHOES_M, SKIN_M
from vatl.data.synthetic.body import EYES, HAIR_CENTRE, NUM_JOINTS, TORSO_CORNERS, BodyShape, J, P, forward_kinematics

# capsule parts: name, end joints a and b, BodyShape fields of the radii at a and at b
CAPSULES: tuple[tuple[str, str, str, str, str], ...] = (
    ("neck", "neck_base", "head_bottom", "neck_r", "neck_r"),
    ("l_upper_arm", "l_shoulder", "l_elbow", "upper_arm_r", "forearm_r"),
    ("r_upper_arm", "r_shoulder", "r_elbow", "upper_arm_r", "forearm_r"),
    ("l_forearm", "l_elbow", "l_wrist", "forearm_r", "hand_r"),
    ("r_forearm", "r_elbow", "r_wrist", "forearm_r", "hand_r"),
    ("l_hand", "l_wrist", "l_hand", "hand_r", "hand_r"),
    ("r_hand", "r_wrist", "r_hand", "hand_r", "hand_r"),
    ("l_thigh", "l_hip", "l_knee", "thigh_r", "shin_r"),
    ("r_thigh", "r_hip", "r_knee", "thigh_r", "shin_r"),
    ("l_shin", "l_knee", "l_ankle", "shin_r", "foot_r"),
    ("r_shin", "r_knee", "r_ankle", "shin_r", "foot_r"),
    ("l_foot", "l_ankle", "l_toe", "foot_r", "foot_r"),
    ("r_foot", "r_ankle", "r_toe", "foot_r", "foot_r"),
)
PART_NAMES: tuple[str, ...] = ("torso", "head", "hair", "l_eye", "r_eye") + tuple(c[0] for c in CAPSULES)
NUM_PARTS = len(PART_NAMES)
TORSO, HEAD, HAIR, L_EYE, R_EYE = 0, 1, 2, 3, 4
FIRST_CAPSULE = 5
EYE_RADIUS = 0.16          # relative to the head's half-width
CAPSULE_A = np.array([J[c[1]] for c in CAPSULES])
CAPSULE_B = np.array([J[c[2]] for c in CAPSULES])


def part_materials(long_sleeves: bool, long_pants: bool, has_hair: bool) -> np.ndarray:
    """(NUM_PARTS,) material index of every part (hair = -1: not drawn)."""
    mat = {"torso": SHIRT_M, "head": SKIN_M, "hair": HAIR_M if has_hair else -1, "neck": SKIN_M,
           "l_eye": EYES_M, "r_eye": EYES_M}
    for side in "lr":
        mat[f"{side}_upper_arm"] = SHIRT_M
        mat[f"{side}_forearm"] = SHIRT_M if long_sleeves else SKIN_M
        mat[f"{side}_hand"] = SKIN_M
        mat[f"{side}_thigh"] = PANTS_M
        mat[f"{side}_shin"] = PANTS_M if long_pants else SKIN_M
        mat[f"{side}_foot"] = SHOES_M
    return np.array([mat[n] for n in PART_NAMES])


@dataclass
class Figure:
    """One person's figure over T frames, in frame pixels (pixel centres at integer coordinates).

    points: (T, NUM_POINTS, 2) joints, torso corners, hair centre and eyes.
    part_depth: (T, NUM_PARTS) depth of each part within the figure (larger = farther; eyes on the
        far side of the head: +inf, not drawn).
    radii: (T, NUM_CAPSULES, 2) capsule end radii in pixels.
    head: (T, 3) head ellipse: semi-axis along the head's up direction, across, angle (radians).
    hair_scale: hair ellipse size relative to the head.
    face_z: (T,) z of the head's front direction (< 0: the face looks towards the camera).
    scale: (T,) pixels per body height in the frame.
    depth: (T,) scene depth of the person (larger = farther; decides who occludes whom).
    extent: (T, 4) x0, y0, x1, y1 of the whole silhouette, occluded and off-frame parts included.
    """

    points: np.ndarray
    part_depth: np.ndarray
    radii: np.ndarray
    head: np.ndarray
    hair_scale: float
    face_z: np.ndarray
    scale: np.ndarray
    depth: np.ndarray
    extent: np.ndarray


def _rotate(xy: np.ndarray, angle: np.ndarray) -> np.ndarray:
    """Rotate (T, N, 2) points by (T,) angles about the origin (image axes: y down)."""
    c, s = np.cos(angle)[:, None], np.sin(angle)[:, None]
    x, y = xy[..., 0], xy[..., 1]
    return np.stack([c * x - s * y, s * x + c * y], axis=-1)


def project_figure(pose: np.ndarray, shape: BodyShape, ground: np.ndarray, scale: np.ndarray,
                   depth: np.ndarray, camera: np.ndarray, camera_roll: np.ndarray,
                   camera_zoom: np.ndarray) -> Figure:
    """Pose, stand on the ground and project one person.

    Args:
        pose: (T, NUM_PARAMS) pose parameters (absolute yaw).
        ground: (T, 2) scene position (base image px) of the ground point under the pelvis.
        scale: (T,) base-image pixels per nominal body height, stature included.
        depth: (T,) scene depth.
        camera: (T, 2, 3) base image -> frame affine (a similarity).
        camera_roll, camera_zoom: (T,) its rotation (radians) and scale.
    """
    pts3, head_axes = forward_kinematics(pose, shape)
    roll = pose[:, P["roll"]]
    xy = _rotate(pts3[..., :2], roll)
    # stand on the ground: the lowest joint touches it (plus the foot's thickness), then the lift
    low = xy[:, :NUM_JOINTS, 1].max(axis=1) + shape.foot_r
    xy[..., 1] -= (low + pose[:, P["lift"]])[:, None]
    base = ground[:, None, :] + scale[:, None, None] * xy
    pts = np.einsum("tij,tnj->tni", camera[:, :, :2], base) + camera[:, None, :, 2]
    px = scale * camera_zoom
    angle = roll + camera_roll

    # head ellipse: the projected up axis is foreshortened when the head tips towards the camera
    h2 = head_axes[:, 0, :2]
    h_len = np.minimum(np.linalg.norm(h2, axis=1), 1.0)
    along = np.sqrt((shape.head_rv * h_len) ** 2 + shape.head_rw ** 2 * (1 - h_len ** 2)) * px
    head_angle = np.arctan2(h2[:, 1], h2[:, 0]) + angle
    head = np.stack([along, np.full_like(along, shape.head_rw) * px, head_angle], axis=1)

    z = pts3[..., 2]
    cap_depth = 0.5 * (z[:, CAPSULE_A] + z[:, CAPSULE_B])
    torso_depth = z[:, TORSO_CORNERS].mean(axis=1) + 0.3 * shape.chest_depth
    head_depth = z[:, J["head_centre"]] - 0.02
    hair_depth = z[:, HAIR_CENTRE] - 0.02
    # an eye shows when it is on the camera's side of the head (drawn right after the head)
    eye_depth = np.where(z[:, list(EYES)] < z[:, [J["head_centre"]]] - 0.25 * shape.head_rw,
                         head_depth[:, None] - 1e-3, np.inf)
    part_depth = np.concatenate([torso_depth[:, None], head_depth[:, None], hair_depth[:, None], eye_depth,
                                 cap_depth], axis=1)

    ra = np.array([getattr(shape, c[3]) for c in CAPSULES])
    rb = np.array([getattr(shape, c[4]) for c in CAPSULES])
    radii = np.stack([np.outer(px, ra), np.outer(px, rb)], axis=2)

    # silhouette extent: capsule ends with their radii, torso corners, head/hair ellipse bounds
    ends = np.concatenate([pts[:, CAPSULE_A], pts[:, CAPSULE_B]], axis=1)
    r_ends = np.concatenate([radii[..., 0], radii[..., 1]], axis=1)[..., None]
    head_r = (np.maximum(head[:, 0], head[:, 1]) * shape.hair_scale)[:, None]
    centres = pts[:, [J["head_centre"], HAIR_CENTRE]]
    lo = np.minimum(np.min(ends - r_ends, axis=1), np.min(pts[:, TORSO_CORNERS], axis=1))
    hi = np.maximum(np.max(ends + r_ends, axis=1), np.max(pts[:, TORSO_CORNERS], axis=1))
    lo = np.minimum(lo, np.min(centres, axis=1) - head_r)
    hi = np.maximum(hi, np.max(centres, axis=1) + head_r)
    return Figure(points=pts, part_depth=part_depth, radii=radii, head=head, hair_scale=shape.hair_scale,
                  face_z=head_axes[:, 1, 2], scale=px, depth=np.asarray(depth, dtype=np.float64),
                  extent=np.concatenate([lo, hi], axis=1))
