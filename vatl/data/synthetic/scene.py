"""A synthetic scene: people on a ground plane, occluders and a moving camera, drawn at random.

Scene geometry: a ground plane seen by a level pinhole camera ("base image"). A person at depth D
(D = 1: the nearest standing distance) appears ``f / D`` pixels tall (``f`` = nearest height) with the
feet at ``y = horizon + (feet_near - horizon) / D``; farther people are smaller and higher, and the
painter's order by depth decides who occludes whom. The handheld camera then pans, zooms and rolls
the base image (a similarity per frame). People either stand about doing motions (some at the frame
border, truncated) or walk/run across, entering and leaving the view.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from vatl.data.synthetic.appearance import Appearance, sample_appearance, weighted_choice
from vatl.data.synthetic.body import BodyShape, P, sample_body_shape
from vatl.data.synthetic.domains import DomainSpec
from vatl.data.synthetic.motions import LOCOMOTION, motion_clip

NEAR_DISTANCE = 2.5  # the nearest standing distance in body heights (converts walking into depth change)


@dataclass
class Camera:
    """matrices: (T, 2, 3) base image -> frame; zoom, roll: (T,) its scale and rotation (radians)."""

    matrices: np.ndarray
    zoom: np.ndarray
    roll: np.ndarray


@dataclass
class PersonTrack:
    """One person over the whole clip (it may be outside the frame at times).

    pose: (T, NUM_PARAMS) with absolute yaw; ground: (T, 2) base-image ground point under the pelvis;
    scale: (T,) base-image pixels per nominal body height (stature included); depth: (T,).
    """

    track_id: int
    shape: BodyShape
    appearance: Appearance
    pose: np.ndarray
    ground: np.ndarray
    scale: np.ndarray
    depth: np.ndarray
    motions: list[str] = field(default_factory=list)


@dataclass
class Occluder:
    """A pole, rail or box standing in the scene. polygon: (V, 2) base-image px (convex)."""

    polygon: np.ndarray
    depth: float
    colour: tuple[float, float, float]


@dataclass
class Scene:
    width: int
    height: int
    fps: float
    horizon: float                  # base-image y of the horizon (may be outside the frame)
    camera: Camera
    persons: list[PersonTrack]
    occluders: list[Occluder]

    @property
    def num_frames(self) -> int:
        return len(self.camera.zoom)


@dataclass(frozen=True)
class GroundPlane:
    """Base-image projection of the ground: x = cx + f X / D, y = horizon + (feet_near - horizon) / D."""

    width: int
    height: int
    f: float             # pixels per body height at D = 1
    horizon: float
    feet_near: float
    far: float           # depth of the farthest people

    def ground_point(self, x_world: np.ndarray, depth: np.ndarray) -> np.ndarray:
        """(..., 2) base-image ground points of world lateral positions (body heights) at depths."""
        x = 0.5 * self.width + self.f * x_world / depth
        y = self.horizon + (self.feet_near - self.horizon) / depth
        return np.stack(np.broadcast_arrays(x, y), axis=-1)

    def world_x(self, x_image: float, depth: float) -> float:
        return (x_image - 0.5 * self.width) * depth / self.f


def ground_plane(domain: DomainSpec, width: int, height: int, rng: np.random.Generator) -> GroundPlane:
    near, far = domain.person_height_frac
    return GroundPlane(width, height, f=near * height, horizon=float(rng.uniform(*domain.horizon_frac)) * height,
                       feet_near=domain.feet_near_frac * height, far=near / far)


def sample_camera(domain: DomainSpec, num_frames: int, width: int, height: int, fps: float,
                  rng: np.random.Generator) -> Camera:
    """Smooth pan (sinusoid + drift), zoom (eased ramp between two levels) and roll (static + wobble)."""
    t = np.arange(num_frames) / fps
    amp = domain.pan_frac * width * rng.uniform(0.3, 1.0, 2) * np.array([1.0, 0.4])
    freq = rng.uniform(0.04, 0.18, 2)
    phase = rng.uniform(0, 2 * np.pi, 2)
    pan = amp * (np.sin(2 * np.pi * freq * t[:, None] + phase) - np.sin(phase))
    z0, z1 = rng.uniform(*domain.zoom_range, 2)
    ease = np.clip(t / max(t[-1], 1e-6), 0, 1) if num_frames > 1 else np.zeros(1)
    zoom = z0 + (z1 - z0) * ease * ease * (3 - 2 * ease)
    roll = np.deg2rad(rng.uniform(-domain.roll_deg, domain.roll_deg)
                      + domain.roll_wobble_deg * np.sin(2 * np.pi * rng.uniform(0.05, 0.25) * t + rng.uniform(0, 6.3)))
    c, s = np.cos(roll) * zoom, np.sin(roll) * zoom
    centre = np.array([0.5 * width, 0.5 * height])
    m = np.zeros((num_frames, 2, 3))
    m[:, 0, 0], m[:, 0, 1], m[:, 1, 0], m[:, 1, 1] = c, -s, s, c
    m[:, :, 2] = centre + pan - np.einsum("tij,j->ti", m[:, :, :2], centre)
    return Camera(m, zoom, roll)


def _heading(domain: DomainSpec, rng: np.random.Generator) -> float:
    if rng.random() < domain.yaw_front_prob:
        return float(rng.normal(0.0, 0.45))
    return float(rng.uniform(-np.pi, np.pi))


def _person(domain: DomainSpec, plane: GroundPlane, track_id: int, walker: bool, t: np.ndarray,
            rng: np.random.Generator) -> PersonTrack:
    shape = sample_body_shape(rng, domain.stature, domain.girth, domain.head_scale, domain.leg_ratio,
                              domain.child_prob)
    appearance = sample_appearance(domain, rng)
    tempo = rng.uniform(*domain.tempo)
    local_t = t * tempo + rng.uniform(0, 10)
    width = plane.width
    if walker:
        first = weighted_choice({k: v for k, v in domain.motions.items() if k in LOCOMOTION}, rng)
        pose, names = motion_clip(local_t, rng, domain.motions, first=first)
        direction = rng.choice([-1.0, 1.0])
        heading = direction * np.pi / 2 + rng.normal(0, 0.3)
        s0 = rng.uniform(1.0 / plane.far, 1.0)
        depth0 = 1.0 / s0
        if rng.random() < 0.45:
            x0 = rng.uniform(0.05, 0.95) * width
        else:  # off-screen on the side it walks from, entering after a while
            x0 = 0.5 * width - direction * (0.6 + rng.uniform(0.0, 0.5)) * width
        pose[:, P["yaw"]] += heading
        yaw = pose[:, P["yaw"]]
        dt = np.diff(t, prepend=t[0])
        v = pose[:, P["speed"]] * tempo * shape.stature * dt
        x_world = plane.world_x(x0, depth0) + np.cumsum(v * np.sin(yaw))
        depth = np.clip(depth0 - np.cumsum(v * np.cos(yaw)) / NEAR_DISTANCE, 0.8, plane.far * 1.3)
    else:
        repertoire = {k: v for k, v in domain.motions.items() if k not in LOCOMOTION} or {"stand": 1.0}
        pose, names = motion_clip(local_t, rng, repertoire)
        pose[:, P["yaw"]] += _heading(domain, rng)
        s0 = rng.uniform(1.0, 1.35) if rng.random() < domain.close_prob else rng.uniform(1.0 / plane.far, 1.0)
        depth = np.full(len(t), 1.0 / s0)
        if rng.random() < domain.border_prob:
            x0 = (0.5 + rng.choice([-1.0, 1.0]) * rng.uniform(0.44, 0.55)) * width
        else:
            x0 = rng.uniform(0.1, 0.9) * width
        x_world = np.full(len(t), plane.world_x(x0, depth[0]))
    ground = plane.ground_point(x_world, depth)
    scale = plane.f * shape.stature / depth
    return PersonTrack(track_id, shape, appearance, pose, ground, scale, depth, names)


def _occluder(plane: GroundPlane, rng: np.random.Generator) -> Occluder:
    depth = float(rng.uniform(0.85, plane.far))
    x = rng.uniform(0.05, 0.95) * plane.width
    gx, gy = plane.ground_point(plane.world_x(x, depth), depth)
    px = plane.f / depth
    kind = rng.integers(3)
    if kind == 0:    # pole
        half = rng.uniform(0.02, 0.05) * px
        poly = [[gx - half, gy], [gx + half, gy], [gx + half, gy - 3 * px], [gx - half, gy - 3 * px]]
    elif kind == 1:  # rail at hip height
        y = gy - rng.uniform(0.4, 0.6) * px
        half_w = rng.uniform(0.3, 0.6) * plane.width
        th = rng.uniform(0.025, 0.05) * px
        poly = [[gx - half_w, y - th], [gx + half_w, y - th], [gx + half_w, y + th], [gx - half_w, y + th]]
    else:            # box / bench
        half_w = rng.uniform(0.15, 0.4) * px
        h = rng.uniform(0.25, 0.45) * px
        poly = [[gx - half_w, gy + 0.02 * px], [gx + half_w, gy + 0.02 * px], [gx + half_w, gy - h], [gx - half_w, gy - h]]
    colour = tuple(float(c) for c in rng.uniform(40, 200) * rng.uniform(0.8, 1.2, 3))
    return Occluder(np.array(poly, dtype=np.float64), depth, colour)


def sample_scene(domain: DomainSpec, num_frames: int, width: int, height: int,
                 rng: np.random.Generator) -> Scene:
    """A random scene of ``num_frames`` frames for ``domain``."""
    if num_frames < 1:
        raise ValueError(f"num_frames must be >= 1, got {num_frames}")
    fps = domain.fps
    t = np.arange(num_frames) / fps
    plane = ground_plane(domain, width, height, rng)
    camera = sample_camera(domain, num_frames, width, height, fps, rng)
    lo, hi = domain.persons
    count = int(rng.integers(lo, hi + 1))
    has_gait = any(k in LOCOMOTION and v > 0 for k, v in domain.motions.items())
    walkers = int(rng.binomial(count, domain.walker_fraction)) if has_gait else 0
    walkers = min(walkers, max(count - 2, 0))   # at least two people stay in view
    persons = [_person(domain, plane, i, i >= count - walkers, t, rng) for i in range(count)]
    occluders = [_occluder(plane, rng) for _ in range(int(rng.integers(domain.occluders[0], domain.occluders[1] + 1)))]
    return Scene(width, height, fps, plane.horizon, camera, persons, occluders)
