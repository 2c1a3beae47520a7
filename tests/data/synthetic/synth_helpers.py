"""Hand-built scenes for the synthetic-data tests (no randomness in the geometry)."""

from __future__ import annotations

import numpy as np

from vatl.data.synthetic.appearance import Appearance, Garment
from vatl.data.synthetic.body import BodyShape, P
from vatl.data.synthetic.generate import project_scene
from vatl.data.synthetic.motions import rest_pose
from vatl.data.synthetic.render import RenderStyle, render_frames
from vatl.data.synthetic.scene import Camera, PersonTrack, Scene

BACKGROUND = (128.0, 128.0, 128.0)
PLAIN = RenderStyle(gain=1.0, tint=(1.0, 1.0, 1.0), gamma=1.0, haze=0.0, haze_colour=(0.0, 0.0, 0.0), vignette=0.0,
                    light_slope=(0.0, 0.0), flicker=0.0, edge_factor=1.0, blur_sigma=0.0, motion_blur_px=0.0,
                    motion_blur_angle=0.0, noise_sigma=0.0)


def look(shirt=(20.0, 20.0, 220.0)) -> Appearance:
    solid = lambda c: Garment(c, c, "solid", 0.05, 0.0, 0.0)
    return Appearance(skin=(90.0, 140.0, 210.0), hair=(20.0, 40.0, 70.0), shoes=(10.0, 10.0, 10.0),
                      shirt=solid(shirt), pants=solid((200.0, 60.0, 20.0)), long_sleeves=False,
                      long_pants=True, has_hair=True)


def person(track_id: int, x: float, feet_y: float, height_px: float, depth: float, yaw: float = 0.0,
           frames: int = 1, pose: np.ndarray | None = None, shirt=(20.0, 20.0, 220.0)) -> PersonTrack:
    """A person standing at base-image (x, feet_y), ``height_px`` tall."""
    pose = rest_pose(frames) if pose is None else pose
    pose[:, P["yaw"]] = yaw
    return PersonTrack(track_id, BodyShape(), look(shirt), pose, np.tile([x, feet_y], (frames, 1)),
                       np.full(frames, height_px), np.full(frames, depth))


def still_scene(persons: list[PersonTrack], width: int = 160, height: int = 120) -> Scene:
    frames = len(persons[0].pose)
    m = np.tile(np.array([[1.0, 0, 0], [0, 1.0, 0]]), (frames, 1, 1))
    return Scene(width, height, 25.0, 0.0, Camera(m, np.ones(frames), np.zeros(frames)), persons, [])


def render(scene: Scene):
    """(figures, [(image, ids, drawn)]) with a uniform grey background and no image degradations."""
    figures = project_scene(scene)
    margin = 8
    canvas = np.full((scene.height + 2 * margin, scene.width + 2 * margin, 3), BACKGROUND, np.uint8)
    return figures, list(render_frames(scene, figures, canvas, margin, PLAIN, np.random.default_rng(0)))
