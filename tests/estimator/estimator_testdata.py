"""Tiny in-memory videos for the estimator tests: blobs drawn at known keypoints on written PNG frames."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from vatl.data.video import Frame, Video
from vatl.skeletons import KeypointSet

# Three slots: a centre joint and a left/right pair (flip pairs (1, 2)).
TINY_SET = KeypointSet(name="tiny3", keypoints=("head", "left_hand", "right_hand"), sigmas=(0.05, 0.05, 0.05),
                       flip_pairs=((1, 2),))
COLOURS = ((255, 255, 255), (255, 0, 0), (0, 0, 255))  # RGB per slot

BONN_JSON = (Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "bonn_posetrack" / "posetrack_data"
             / "val" / "060470979.json")


def tiny_video(folder: Path, num_frames: int = 4, num_tracks: int = 2, size: tuple[int, int] = (160, 120),
               seed: int = 0) -> Video:
    """A video of ``num_tracks`` persons (boxes 40×60 px) over ``num_frames`` frames; each keypoint is a
    coloured disc of radius 3 drawn on a black frame. Samples are listed frame-major (not temporal order)."""
    rng = np.random.default_rng(seed)
    w, h = size
    frames, frame_index, track_id, boxes, keypoints = [], [], [], [], []
    for f in range(num_frames):
        image = np.zeros((h, w, 3), dtype=np.uint8)
        for t in range(num_tracks):
            x0 = 10 + 70 * t + 2 * f
            y0 = 20 + f
            box = np.array([x0, y0, 40.0, 60.0])
            kp = np.array([[x0 + 20, y0 + 10, 2], [x0 + 30, y0 + 35, 2], [x0 + 10, y0 + 35, 2]], dtype=np.float64)
            kp[:, :2] += rng.uniform(-3, 3, size=(3, 2))
            for k, (x, y, _) in enumerate(kp):
                cv2.circle(image, (int(round(x)), int(round(y))), 3, COLOURS[k], -1)
            frame_index.append(f)
            track_id.append(t)
            boxes.append(box)
            keypoints.append(kp)
        path = folder / f"{f:04d}.png"
        cv2.imwrite(str(path), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
        frames.append(Frame(path=path, image_id=f, width=w, height=h))
    n = len(frame_index)
    return Video(name="tiny", keypoint_set=TINY_SET, frames=frames, frame_index=np.array(frame_index),
                 track_id=np.array(track_id), boxes=np.array(boxes), keypoints=np.array(keypoints),
                 annotation_ids=np.arange(n))
