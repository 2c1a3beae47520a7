"""Procedural motions: smooth pose-parameter tracks over time, and their blending into a person's clip.

A motion is a function ``(t, rng) -> (T, NUM_PARAMS)`` of the time in seconds (vectorised over frames);
its random draws (tempo, amplitude, side, phase) are made once, so the track is smooth. ``yaw`` in a
motion is an offset to the person's heading chosen by the scene; ``speed`` is forward travel in body
heights per second. :func:`motion_clip` strings 1–3 motions together with smooth cross-fades.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

from vatl.data.synthetic.body import NUM_PARAMS, P

Motion = Callable[[np.ndarray, np.random.Generator], np.ndarray]
D = np.pi / 180.0


def rest_pose(t_count: int) -> np.ndarray:
    """(T, NUM_PARAMS) relaxed standing: arms hanging slightly out, elbows and knees a little bent."""
    pose = np.zeros((t_count, NUM_PARAMS))
    for side in "lr":
        pose[:, P[f"{side}_sh_abd"]] = 8 * D
        pose[:, P[f"{side}_el_flex"]] = 12 * D
        pose[:, P[f"{side}_knee"]] = 3 * D
    return pose


def _set(pose: np.ndarray, name: str, value: np.ndarray | float) -> None:
    pose[:, P[name]] = value


def _pulse(x: np.ndarray) -> np.ndarray:
    """0..1 raised cosine of a phase (peaks at x = 0 mod 2 pi)."""
    return 0.5 + 0.5 * np.cos(x)


def _smoothstep(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


def stand(t: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    pose = rest_pose(len(t))
    ph = rng.uniform(0, 2 * np.pi, 4)
    f = rng.uniform(0.15, 0.4)
    _set(pose, "torso_side", 3 * D * np.sin(2 * np.pi * f * t + ph[0]))
    _set(pose, "head_side", 6 * D * np.sin(2 * np.pi * f * 0.7 * t + ph[1]))
    _set(pose, "head_flex", rng.uniform(-10, 15) * D)
    if rng.random() < 0.35:  # hands on the hips
        for side in "lr":
            _set(pose, f"{side}_sh_abd", 40 * D)
            _set(pose, f"{side}_el_flex", 100 * D)
            _set(pose, f"{side}_el_abd", -60 * D)
    else:
        for i, side in enumerate("lr"):
            _set(pose, f"{side}_sh_flex", 8 * D * np.sin(2 * np.pi * f * t + ph[2 + i]))
    return pose


def walk(t: np.ndarray, rng: np.random.Generator, run: bool = False) -> np.ndarray:
    pose = rest_pose(len(t))
    f = rng.uniform(1.3, 1.6) if run else rng.uniform(0.8, 1.05)
    phi = 2 * np.pi * f * t + rng.uniform(0, 2 * np.pi)
    hip_amp = rng.uniform(35, 45) * D if run else rng.uniform(18, 26) * D
    knee_amp = rng.uniform(80, 105) * D if run else rng.uniform(30, 45) * D
    arm_amp = rng.uniform(30, 45) * D if run else rng.uniform(12, 25) * D
    for side, sign in (("l", 1.0), ("r", -1.0)):
        ph = phi if sign > 0 else phi + np.pi
        _set(pose, f"{side}_hip_flex", hip_amp * np.sin(ph) + (10 * D if run else 0.0))
        _set(pose, f"{side}_knee", 5 * D + knee_amp * _pulse(ph - 1.9) ** 2)
        _set(pose, f"{side}_sh_flex", -arm_amp * np.sin(ph))
        _set(pose, f"{side}_el_flex", (85 * D if run else 15 * D) + 10 * D * np.sin(ph))
    _set(pose, "torso_flex", rng.uniform(8, 16) * D if run else rng.uniform(0, 5) * D)
    _set(pose, "lift", (0.035 if run else 0.008) * np.abs(np.sin(phi)))
    _set(pose, "speed", f * (0.9 if run else 0.75))
    return pose


def run(t: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return walk(t, rng, run=True)


def wave(t: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    pose = stand(t, rng)
    side = "l" if rng.random() < 0.5 else "r"
    f = rng.uniform(1.2, 2.2)
    osc = np.sin(2 * np.pi * f * t + rng.uniform(0, 2 * np.pi))
    _set(pose, f"{side}_sh_abd", rng.uniform(120, 160) * D)
    _set(pose, f"{side}_sh_flex", rng.uniform(0, 25) * D)
    _set(pose, f"{side}_el_flex", 15 * D)
    _set(pose, f"{side}_el_abd", rng.uniform(20, 40) * D + 30 * D * osc)
    if rng.random() < 0.3:  # both arms
        other = "r" if side == "l" else "l"
        _set(pose, f"{other}_sh_abd", pose[:, P[f"{side}_sh_abd"]])
        _set(pose, f"{other}_el_abd", pose[:, P[f"{side}_el_abd"]][::-1])
        _set(pose, f"{other}_el_flex", 15 * D)
    return pose


def squat(t: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    pose = rest_pose(len(t))
    f = rng.uniform(0.35, 0.6)
    depth = rng.uniform(0.7, 1.0)
    s = depth * _pulse(2 * np.pi * f * t + rng.uniform(0, 2 * np.pi))
    for side in "lr":
        _set(pose, f"{side}_hip_flex", 105 * D * s)
        _set(pose, f"{side}_knee", 125 * D * s)
        _set(pose, f"{side}_hip_abd", 10 * D * s)
        _set(pose, f"{side}_sh_flex", 85 * D * s)
    _set(pose, "torso_flex", 30 * D * s)
    return pose


def jump(t: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    pose = rest_pose(len(t))
    f = rng.uniform(0.7, 1.0)
    phase = (f * t + rng.uniform(0, 1)) % 1.0
    air = np.sin(np.pi * np.clip((phase - 0.35) / 0.45, 0, 1))          # 0 on the ground, 1 at the top
    crouch = np.sin(np.pi * np.clip(phase / 0.35, 0, 1)) + 0.6 * np.sin(np.pi * np.clip((phase - 0.8) / 0.2, 0, 1))
    height = rng.uniform(0.12, 0.3)
    _set(pose, "lift", height * air)
    arms_up = rng.random() < 0.6
    for side in "lr":
        _set(pose, f"{side}_hip_flex", 70 * D * crouch + 25 * D * air)
        _set(pose, f"{side}_knee", 90 * D * crouch + 50 * D * air)
        if arms_up:
            _set(pose, f"{side}_sh_flex", -30 * D * crouch + 165 * D * air)
        else:
            _set(pose, f"{side}_sh_abd", 8 * D + 80 * D * air)
    _set(pose, "torso_flex", 25 * D * crouch)
    return pose


def dance(t: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    pose = rest_pose(len(t))
    f = rng.uniform(0.8, 1.4)
    phi = 2 * np.pi * f * t + rng.uniform(0, 2 * np.pi)
    style = rng.integers(3)
    _set(pose, "torso_side", 12 * D * np.sin(phi))
    _set(pose, "yaw", rng.uniform(20, 50) * D * np.sin(0.5 * phi))
    _set(pose, "lift", 0.015 * np.abs(np.sin(phi)))
    for side, sign in (("l", 1.0), ("r", -1.0)):
        ph = phi if sign > 0 else phi + np.pi
        _set(pose, f"{side}_hip_abd", 12 * D * _pulse(ph))
        _set(pose, f"{side}_knee", 10 * D + 30 * D * _pulse(ph + 1.0))
        _set(pose, f"{side}_hip_flex", 15 * D * _pulse(ph + 1.0))
        if style == 0:    # arms alternately up
            _set(pose, f"{side}_sh_abd", 40 * D + 110 * D * _pulse(ph))
            _set(pose, f"{side}_el_flex", 20 * D + 60 * D * _pulse(ph + 1.5))
        elif style == 1:  # arms pumping forward
            _set(pose, f"{side}_sh_flex", 30 * D + 70 * D * _pulse(ph))
            _set(pose, f"{side}_el_flex", 90 * D)
            _set(pose, f"{side}_sh_abd", 25 * D)
        else:             # both arms up, swaying
            _set(pose, f"{side}_sh_abd", 150 * D + 15 * D * np.sin(phi))
            _set(pose, f"{side}_el_abd", 20 * D * np.sin(phi + 1))
    return pose


def turn(t: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    pose = stand(t, rng)
    rate = rng.choice([-1, 1]) * rng.uniform(60, 140) * D
    _set(pose, "yaw", rate * (t - t[0]))
    step = 2 * np.pi * 1.2 * t
    for side, sign in (("l", 1.0), ("r", -1.0)):
        _set(pose, f"{side}_hip_flex", 12 * D * _pulse(step + (0 if sign > 0 else np.pi)))
        _set(pose, f"{side}_knee", 20 * D * _pulse(step + (0 if sign > 0 else np.pi)))
    return pose


def bend(t: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    pose = rest_pose(len(t))
    f = rng.uniform(0.2, 0.4)
    s = _smoothstep(1.4 * _pulse(2 * np.pi * f * t + rng.uniform(0, 2 * np.pi)) - 0.2)
    flex = rng.uniform(75, 105) * D * s
    _set(pose, "torso_flex", flex)
    _set(pose, "head_flex", -20 * D * s)
    reach = rng.uniform(-10, 40) * D
    for side in "lr":
        _set(pose, f"{side}_sh_flex", flex + reach * s)
        _set(pose, f"{side}_knee", 20 * D * s)
        _set(pose, f"{side}_hip_flex", 10 * D * s)
    return pose


def lie_down(t: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Lie down (turning about the pelvis in the image plane) and lie still with small movements."""
    pose = rest_pose(len(t))
    start = t[0] + rng.uniform(0.0, 0.4) * max(t[-1] - t[0], 1e-6)
    s = _smoothstep((t - start) / rng.uniform(0.8, 1.5))
    _set(pose, "roll", rng.choice([-1, 1]) * rng.uniform(80, 95) * D * s)
    _set(pose, "torso_flex", 30 * D * s * (1 - s) * 4)
    leg = "l" if rng.random() < 0.5 else "r"
    _set(pose, f"{leg}_hip_flex", rng.uniform(0, 60) * D * s)
    _set(pose, f"{leg}_knee", rng.uniform(0, 90) * D * s)
    arm_abd = rng.uniform(10, 100) * D
    for side in "lr":
        _set(pose, f"{side}_sh_abd", 8 * D + (arm_abd - 8 * D) * s)
        _set(pose, f"{side}_el_flex", 12 * D + 20 * D * np.sin(0.8 * t + (side == "l")) ** 2)
    return pose


def kick(t: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    pose = rest_pose(len(t))
    f = rng.uniform(0.5, 0.9)
    k = _pulse(2 * np.pi * f * t + rng.uniform(0, 2 * np.pi)) ** 3
    leg = "l" if rng.random() < 0.5 else "r"
    high = rng.uniform(70, 110) * D
    _set(pose, f"{leg}_hip_flex", high * k)
    _set(pose, f"{leg}_knee", 70 * D * np.sin(np.pi * k) ** 2)
    _set(pose, "torso_flex", -15 * D * k)
    for side in "lr":
        _set(pose, f"{side}_sh_abd", 20 * D + 50 * D * k)
        _set(pose, f"{side}_el_flex", 60 * D)
    return pose


def stretch(t: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    pose = rest_pose(len(t))
    f = rng.uniform(0.2, 0.4)
    s = np.sin(2 * np.pi * f * t + rng.uniform(0, 2 * np.pi))
    _set(pose, "torso_side", 25 * D * s)
    for side in "lr":
        _set(pose, f"{side}_sh_flex", 165 * D)
        _set(pose, f"{side}_sh_abd", 15 * D)
        _set(pose, f"{side}_el_flex", 10 * D)
        _set(pose, f"{side}_hip_abd", 12 * D)
    return pose


def cartwheel(t: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A full turn in the image plane with arms and legs spread, travelling sideways."""
    pose = rest_pose(len(t))
    period = rng.uniform(1.3, 2.0)
    phase = ((t - t[0]) / period) % 1.0
    direction = rng.choice([-1, 1])
    _set(pose, "roll", direction * 2 * np.pi * _smoothstep(phase * 1.2))
    _set(pose, "yaw", 0.0)
    for side in "lr":
        _set(pose, f"{side}_sh_abd", 160 * D)
        _set(pose, f"{side}_el_flex", 5 * D)
        _set(pose, f"{side}_hip_abd", 35 * D)
        _set(pose, f"{side}_knee", 5 * D)
    return pose


MOTIONS: dict[str, Motion] = {
    "stand": stand, "walk": walk, "run": run, "wave": wave, "squat": squat, "jump": jump,
    "dance": dance, "turn": turn, "bend": bend, "lie_down": lie_down, "kick": kick, "stretch": stretch,
    "cartwheel": cartwheel,
}
LOCOMOTION = frozenset({"walk", "run"})


def motion_clip(t: np.ndarray, rng: np.random.Generator, repertoire: Mapping[str, float],
                max_segments: int = 3, fade: float = 0.6, first: str | None = None) -> tuple[np.ndarray, list[str]]:
    """A person's pose track: 1..max_segments motions drawn from ``repertoire`` (name -> weight).

    Args:
        t: (T,) time in seconds.
        first: force the first motion (e.g. ``walk`` for people crossing the scene).
    Returns:
        ((T, NUM_PARAMS) blended pose track, the motion names in order).
    """
    names = sorted(name for name, w in repertoire.items() if w > 0)
    unknown = [n for n in names if n not in MOTIONS]
    if unknown or not names:
        raise ValueError(f"unknown motions {unknown} (known: {', '.join(MOTIONS)})" if unknown
                         else "the motion repertoire is empty")
    weights = np.array([repertoire[n] for n in names], dtype=np.float64)
    weights /= weights.sum()
    span = float(t[-1] - t[0]) if len(t) > 1 else 0.0
    count = int(rng.integers(1, max_segments + 1)) if span > 2.5 else 1
    chosen = [first] if first is not None else []
    while len(chosen) < count:
        chosen.append(str(names[rng.choice(len(names), p=weights)]))
    # segment boundaries, at least ~1 s apart
    cuts = np.sort(rng.uniform(0.2, 0.8, count - 1)) * span + t[0] if count > 1 else np.zeros(0)
    tracks = [MOTIONS[name](t, rng) for name in chosen]
    pose = tracks[0].copy()
    yaw, roll = P["yaw"], P["roll"]
    for cut, track in zip(cuts, tracks[1:]):
        # carry the heading over (no unwinding after a turn) and the roll up to whole turns
        at = int(np.searchsorted(t, cut))
        at = min(at, len(t) - 1)
        track[:, yaw] += pose[at, yaw] - track[at, yaw]
        track[:, roll] += 2 * np.pi * np.round((pose[at, roll] - track[at, roll]) / (2 * np.pi))
        w = _smoothstep((t - cut) / fade + 0.5)[:, None]
        pose = (1.0 - w) * pose + w * track
    return pose, chosen
