"""Body shapes and forward kinematics of the synthetic figures.

Figures are posed in 3D and projected orthographically. Camera-aligned axes: x right, y down, z away
from the camera; lengths are in units of the nominal standing height (ankle to head top ~ 1). The pose
of one frame is a vector of :data:`POSE_PARAMS` (angles in radians): with ``yaw = 0`` the figure faces
the camera (its left side appears on the image's right, as in PoseTrack), ``yaw = +pi/2`` faces image
right. ``roll`` turns the whole figure in the image plane about the pelvis (lying down, cartwheels),
``lift`` raises it off the ground (jumps), ``speed`` is its forward travel in body heights per second.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

POSE_PARAMS: tuple[str, ...] = (
    "yaw", "roll", "lift", "speed", "torso_flex", "torso_side", "head_flex", "head_side",
    "l_sh_flex", "l_sh_abd", "l_el_flex", "l_el_abd", "r_sh_flex", "r_sh_abd", "r_el_flex", "r_el_abd",
    "l_hip_flex", "l_hip_abd", "l_knee", "r_hip_flex", "r_hip_abd", "r_knee",
)
P: dict[str, int] = {name: i for i, name in enumerate(POSE_PARAMS)}
NUM_PARAMS = len(POSE_PARAMS)

JOINTS: tuple[str, ...] = (
    "pelvis", "neck_base", "head_bottom", "head_centre", "head_top", "nose",
    "l_shoulder", "r_shoulder", "l_elbow", "r_elbow", "l_wrist", "r_wrist", "l_hand", "r_hand",
    "l_hip", "r_hip", "l_knee", "r_knee", "l_ankle", "r_ankle", "l_toe", "r_toe",
)
J: dict[str, int] = {name: i for i, name in enumerate(JOINTS)}
NUM_JOINTS = len(JOINTS)
# Extra projected points after the joints: 8 torso box corners, the hair centre, the eyes.
TORSO_CORNERS = slice(NUM_JOINTS, NUM_JOINTS + 8)
HAIR_CENTRE = NUM_JOINTS + 8
EYES = (NUM_JOINTS + 9, NUM_JOINTS + 10)   # left, right
NUM_POINTS = NUM_JOINTS + 11

# PoseTrack21 slot -> internal joint (-1: never annotated, the ears).
PT21_JOINT: tuple[int, ...] = (
    J["nose"], J["head_bottom"], J["head_top"], -1, -1, J["l_shoulder"], J["r_shoulder"],
    J["l_elbow"], J["r_elbow"], J["l_wrist"], J["r_wrist"], J["l_hip"], J["r_hip"],
    J["l_knee"], J["r_knee"], J["l_ankle"], J["r_ankle"],
)


@dataclass(frozen=True)
class BodyShape:
    """Per-person proportions, in nominal body heights (``stature`` scales the whole figure)."""

    stature: float = 1.0
    head_rv: float = 0.066       # head half-height
    head_rw: float = 0.052       # head half-width
    neck_len: float = 0.045
    neck_r: float = 0.022
    torso_len: float = 0.29      # pelvis to shoulder line
    shoulder_half: float = 0.115
    hip_half: float = 0.06
    chest_depth: float = 0.14
    waist_half: float = 0.09     # half-width of the torso at the hips (outer)
    shoulder_pad: float = 0.03   # torso outline beyond the shoulder joints
    upper_arm: float = 0.18
    forearm: float = 0.15
    hand_len: float = 0.06
    upper_arm_r: float = 0.036
    forearm_r: float = 0.029
    hand_r: float = 0.024
    thigh: float = 0.245
    shin: float = 0.245
    foot_len: float = 0.075
    thigh_r: float = 0.056
    shin_r: float = 0.04
    foot_r: float = 0.02
    hair_scale: float = 1.08     # hair ellipse relative to the head


def sample_body_shape(rng: np.random.Generator, stature: tuple[float, float] = (0.92, 1.08),
                      girth: tuple[float, float] = (0.85, 1.2), head_scale: tuple[float, float] = (0.95, 1.08),
                      leg_ratio: tuple[float, float] = (0.95, 1.05), child_prob: float = 0.0) -> BodyShape:
    """A random body: stature, girth (widths and limb radii), head size, legs vs. trunk.

    With probability ``child_prob`` a child: smaller (0.55–0.75), bigger head, shorter legs.
    """
    base = BodyShape()
    s = float(rng.uniform(*stature))
    g = float(rng.uniform(*girth))
    h = float(rng.uniform(*head_scale))
    legs = float(rng.uniform(*leg_ratio))
    if rng.random() < child_prob:
        s, h, legs = float(rng.uniform(0.55, 0.75)), h * 1.3, legs * 0.88
    widths = ("neck_r", "shoulder_half", "hip_half", "chest_depth", "waist_half", "upper_arm_r", "forearm_r",
              "hand_r", "thigh_r", "shin_r", "foot_r", "shoulder_pad")
    values = {f.name: getattr(base, f.name) for f in fields(base)}
    for name in widths:
        values[name] *= g if name != "shoulder_half" else 0.5 + 0.5 * g
    values["head_rv"] *= h
    values["head_rw"] *= h
    values["thigh"] *= legs
    values["shin"] *= legs
    # keep the standing height ~1: the trunk absorbs what the legs and head take
    standing = lambda v: v["shin"] + v["thigh"] + v["torso_len"] + v["neck_len"] + 1.9 * v["head_rv"] + v["foot_r"]
    values["torso_len"] += 1.0 - standing(values)
    values["stature"] = s
    values["hair_scale"] = float(rng.uniform(1.02, 1.15))
    return BodyShape(**values)


def _rot(a: np.ndarray, b: np.ndarray, angle: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rotate the orthonormal pair (a, b) by ``angle`` in their plane: (a', b'), each (T, 3)."""
    c, s = np.cos(angle)[:, None], np.sin(angle)[:, None]
    return c * a + s * b, c * b - s * a


def _limb_dir(down: np.ndarray, front: np.ndarray, side: np.ndarray, flex: np.ndarray,
              abd: np.ndarray) -> np.ndarray:
    """(T, 3) unit direction: ``down`` turned by ``flex`` towards ``front`` and by ``abd`` towards ``side``."""
    c, s = np.cos(flex)[:, None], np.sin(flex)[:, None]
    ca, sa = np.cos(abd)[:, None], np.sin(abd)[:, None]
    return ca * (c * down + s * front) + sa * side


def forward_kinematics(pose: np.ndarray, shape: BodyShape) -> tuple[np.ndarray, np.ndarray]:
    """Pose the figure.

    Args:
        pose: (T, NUM_PARAMS) pose parameters per frame.
        shape: the person's proportions (``stature`` is NOT applied here).
    Returns:
        points: (T, NUM_POINTS, 3) joints (:data:`JOINTS`), then the 8 torso box corners, the hair
            centre and the eyes; camera-aligned, pelvis at the origin, before ``roll``/``lift``.
        head_axes: (T, 2, 3) the head's up and front unit vectors.
    """
    pose = np.asarray(pose, dtype=np.float64)
    t_count = len(pose)
    prm = {name: pose[:, i] for name, i in P.items()}
    yaw = prm["yaw"]
    zero = np.zeros(t_count)
    front = np.stack([np.sin(yaw), zero, -np.cos(yaw)], axis=1)
    left = np.stack([np.cos(yaw), zero, np.sin(yaw)], axis=1)
    up = np.tile([0.0, -1.0, 0.0], (t_count, 1))

    # torso frame: bend forward, then sideways
    t1, n1 = _rot(up, front, prm["torso_flex"])
    t_up, l1 = _rot(t1, left, prm["torso_side"])
    # head frame relative to the torso
    h1, hn = _rot(t_up, n1, prm["head_flex"])
    h_up, _ = _rot(h1, l1, prm["head_side"])

    pts = np.zeros((t_count, NUM_POINTS, 3))
    neck_base = t_up * shape.torso_len
    pts[:, J["neck_base"]] = neck_base
    head_bottom = neck_base + h_up * shape.neck_len
    head_centre = head_bottom + h_up * shape.head_rv
    pts[:, J["head_bottom"]] = head_bottom
    pts[:, J["head_centre"]] = head_centre
    pts[:, J["head_top"]] = head_centre + h_up * (0.88 * shape.head_rv)
    pts[:, J["nose"]] = head_centre + hn * (0.72 * shape.head_rw) - h_up * (0.12 * shape.head_rv)
    pts[:, HAIR_CENTRE] = head_centre + h_up * (0.18 * shape.head_rv) - hn * (0.22 * shape.head_rw)
    head_left = np.cross(h_up, hn)
    for eye, sign in zip(EYES, (1.0, -1.0)):
        pts[:, eye] = head_centre + shape.head_rw * (0.8 * hn + sign * 0.38 * head_left) + 0.12 * shape.head_rv * h_up

    for side, sign in (("l", 1.0), ("r", -1.0)):
        shoulder = neck_base + sign * l1 * shape.shoulder_half
        up_dir = _limb_dir(-t_up, n1, sign * l1, prm[f"{side}_sh_flex"], prm[f"{side}_sh_abd"])
        fo_dir = _limb_dir(-t_up, n1, sign * l1, prm[f"{side}_sh_flex"] + prm[f"{side}_el_flex"],
                           prm[f"{side}_sh_abd"] + prm[f"{side}_el_abd"])
        elbow = shoulder + up_dir * shape.upper_arm
        wrist = elbow + fo_dir * shape.forearm
        pts[:, J[f"{side}_shoulder"]] = shoulder
        pts[:, J[f"{side}_elbow"]] = elbow
        pts[:, J[f"{side}_wrist"]] = wrist
        pts[:, J[f"{side}_hand"]] = wrist + fo_dir * shape.hand_len

        hip = sign * left * shape.hip_half
        th_dir = _limb_dir(-up, front, sign * left, prm[f"{side}_hip_flex"], prm[f"{side}_hip_abd"])
        sh_dir = _limb_dir(-up, front, sign * left, prm[f"{side}_hip_flex"] - prm[f"{side}_knee"],
                           prm[f"{side}_hip_abd"])
        knee = hip + th_dir * shape.thigh
        ankle = knee + sh_dir * shape.shin
        # the foot points forward, perpendicular to the shin, a little down
        foot = front - np.sum(front * sh_dir, axis=1, keepdims=True) * sh_dir
        foot = foot / np.maximum(np.linalg.norm(foot, axis=1, keepdims=True), 1e-6) + 0.25 * sh_dir
        foot = foot / np.linalg.norm(foot, axis=1, keepdims=True)
        pts[:, J[f"{side}_hip"]] = hip
        pts[:, J[f"{side}_knee"]] = knee
        pts[:, J[f"{side}_ankle"]] = ankle
        pts[:, J[f"{side}_toe"]] = ankle + foot * shape.foot_len

    # torso box: hips level (pelvis frame) and shoulder level (torso frame), front and back faces
    half_d = 0.5 * shape.chest_depth
    corners = []
    for base, across, depth, half_w in ((np.zeros_like(neck_base), left, front, shape.waist_half),
                                        (neck_base, l1, n1, shape.shoulder_half + shape.shoulder_pad)):
        for sw in (1.0, -1.0):
            for sd in (1.0, -1.0):
                corners.append(base + sw * half_w * across + sd * half_d * depth)
    pts[:, TORSO_CORNERS] = np.stack(corners, axis=1)
    return pts, np.stack([h_up, hn], axis=1)
