"""BlazePose's landmark network on person ROIs: the second stage of MediaPipe's pose pipeline, used to
turn a detector ROI into a tight person box and to find a person again from the previous frame's pose.

The graph (``pose_landmark_full.tflite``) is converted with two outputs: ``Identity`` (39 × 5: x, y, z in
256-pixel crop units, visibility and presence logits; points 0–32 are the body landmarks, 33 the
mid-hip and 34 a point on the circle around the body, MediaPipe's alignment points for the next frame's
ROI) and ``Identity_1`` (the pose-presence probability: the graph applies the sigmoid itself). Input: the rotated ROI cut to 256×256, RGB in [0, 1].
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from vatl.estimator.blazepose.convert import GraphModule, convert
from vatl.estimator.blazepose.detector import cut_regions, person_roi, to_image
from vatl.estimator.blazepose.tflite_reader import Graph

INPUT_SIZE = 256
LANDMARKS_TENSOR = "Identity"
PRESENCE_TENSOR = "Identity_1"
NUM_BODY = 33
ALIGN_START, ALIGN_END = 33, 34


@dataclass
class RoiLandmarks:
    """Landmarks found in M ROIs: ``points`` (M, 39, 2) image pixels, ``presence`` (M,) in (0, 1)."""

    points: np.ndarray
    presence: np.ndarray

    def boxes(self, padding: float = 0.1) -> np.ndarray:
        """(M, 4) person boxes x0, y0, x1, y1: the extent of the 33 body landmarks, grown by ``padding`` of
        its width / height on each side (as PoseTrack-style ground-truth boxes are made)."""
        body = self.points[:, :NUM_BODY]
        lo, hi = body.min(axis=1), body.max(axis=1)
        pad = (hi - lo) * padding
        return np.concatenate([lo - pad, hi + pad], axis=1)

    def next_rois(self) -> np.ndarray:
        """(M, 4) ROIs (cx, cy, side, rotation) for the next frame from the alignment points 33 / 34."""
        return person_roi(self.points[:, ALIGN_START], self.points[:, ALIGN_END])


class LandmarkNet:
    """The converted landmark network; :meth:`run` finds the landmarks in rotated ROIs of an image."""

    def __init__(self, module: GraphModule) -> None:
        self.module = module.eval()
        _, h, w, _ = module.spec["input_shape"]
        if (h, w) != (INPUT_SIZE, INPUT_SIZE):
            raise ValueError(f"expected a {INPUT_SIZE}×{INPUT_SIZE} landmark input, the graph has {w}×{h}")

    @classmethod
    def from_graph(cls, graph: Graph) -> LandmarkNet:
        return cls(convert(graph, {"landmarks": LANDMARKS_TENSOR, "presence": PRESENCE_TENSOR}))

    def run(self, image: np.ndarray, rois: np.ndarray, batch_size: int = 8) -> RoiLandmarks:
        """Landmarks of the rotated square ``rois`` (M, 4) of ``image`` (H, W, 3) uint8 RGB."""
        rois = np.asarray(rois, dtype=np.float64).reshape(-1, 4)
        points, presence = [], []
        for start in range(0, len(rois), batch_size):
            crops, affines = cut_regions(image, rois[start:start + batch_size], INPUT_SIZE)
            x = torch.from_numpy(crops).permute(0, 3, 1, 2).float().div_(255.0)
            with torch.inference_mode():
                out = self.module(x)
            lm = out["landmarks"].numpy().reshape(len(crops), -1, 5)
            points.extend(to_image(lm[b, :, :2], affines[b]) for b in range(len(crops)))
            presence.append(out["presence"].numpy().reshape(-1).astype(np.float64))
        if not points:
            return RoiLandmarks(np.zeros((0, 39, 2)), np.zeros(0))
        return RoiLandmarks(np.stack(points), np.concatenate(presence))
