"""BlazePose's person detector (MediaPipe ``pose_detection.tflite``, Apache-2.0) converted to PyTorch, and
the decoding MediaPipe's pose detection graph applies to its outputs.

The network sees a 224×224 RGB square with values in [-1, 1] and outputs, per SSD anchor (2,254 of them),
a raw box and 4 keypoints ``Identity`` (A, 12) and a score logit ``Identity_1`` (A, 1). What we decode:

* **anchors** (:func:`ssd_anchors`): MediaPipe's SSD anchors for strides 8, 16, 32, 32, 32 with fixed
  anchor size; layers of equal stride share their grid, each layer puts 2 anchors on a cell (aspect 1 and
  the interpolated scale), centres at ((x + 0.5) / w, (y + 0.5) / h): 28²·2 + 14²·2 + 7²·6 = 2,254;
* **boxes and keypoints** (:func:`decode`): offsets in input pixels from the anchor centre (x, y) and
  sizes (w, h) in input pixels; score = sigmoid(logit clipped to ±100);
* **weighted NMS** (:func:`weighted_nms`): MediaPipe's WEIGHTED algorithm at IoU 0.3 on the boxes: the
  best detection absorbs every remaining one that overlaps it more than the threshold, its box and
  keypoints become their score-weighted mean, its score stays the best one;
* **person ROI** (:func:`person_roi`): the box is the face; keypoint 0 is the mid-hip and keypoint 1 a
  point on the circle around the whole body. The ROI is the square centred on keypoint 0 with side
  2 × 1.25 × |kp1 − kp0|, rotated by the body's tilt (0 when kp1 is straight above kp0).

:class:`PersonDetectorNet` cuts square regions of an image (the letterboxed frame, tiles, ROIs) to the
input, runs the network and returns detections in image pixels.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from vatl.data.boxes import box_iou
from vatl.estimator.blazepose.convert import GraphModule, convert
from vatl.estimator.blazepose.tflite_reader import Graph

INPUT_SIZE = 224
STRIDES = (8, 16, 32, 32, 32)
ANCHORS_PER_LAYER = 2
NUM_KEYPOINTS = 4
BOXES_TENSOR = "Identity"
SCORES_TENSOR = "Identity_1"
MIN_SCORE = 0.5
NMS_IOU = 0.3
ROI_SCALE = 1.25


def ssd_anchors(input_size: int = INPUT_SIZE, strides: Sequence[int] = STRIDES,
                anchors_per_layer: int = ANCHORS_PER_LAYER) -> np.ndarray:
    """(A, 2) anchor centres (x, y) in [0, 1], in the network's output order."""
    centres = []
    layer = 0
    while layer < len(strides):
        stride, same = strides[layer], 0
        while layer + same < len(strides) and strides[layer + same] == stride:
            same += 1
        fm = math.ceil(input_size / stride)
        ys, xs = np.meshgrid((np.arange(fm) + 0.5) / fm, (np.arange(fm) + 0.5) / fm, indexing="ij")
        grid = np.stack([xs.ravel(), ys.ravel()], axis=1)
        centres.append(np.repeat(grid, same * anchors_per_layer, axis=0))
        layer += same
    return np.concatenate(centres).astype(np.float64)


@dataclass
class Detections:
    """M detections: ``boxes`` (M, 4) x0, y0, x1, y1; ``keypoints`` (M, P, 2) x, y; ``scores`` (M,) in (0, 1).
    Coordinates are in whatever frame the producer states (normalised input or image pixels)."""

    boxes: np.ndarray
    keypoints: np.ndarray
    scores: np.ndarray

    def __len__(self) -> int:
        return len(self.scores)

    @classmethod
    def empty(cls, num_keypoints: int = NUM_KEYPOINTS) -> Detections:
        return cls(np.zeros((0, 4)), np.zeros((0, num_keypoints, 2)), np.zeros(0))

    @classmethod
    def concatenate(cls, parts: Sequence[Detections]) -> Detections:
        if not parts:
            return cls.empty()
        return cls(np.concatenate([p.boxes for p in parts]), np.concatenate([p.keypoints for p in parts]),
                   np.concatenate([p.scores for p in parts]))

    def take(self, index: np.ndarray) -> Detections:
        return Detections(self.boxes[index], self.keypoints[index], self.scores[index])


def decode(raw_boxes: np.ndarray, raw_scores: np.ndarray, anchors: np.ndarray, input_size: int = INPUT_SIZE,
           min_score: float = MIN_SCORE) -> Detections:
    """The detections of one input with score >= ``min_score``, in normalised input coordinates [0, 1].

    raw_boxes: (A, 12) = (dx, dy, w, h, then 4 × (x, y)) in input pixels relative to the anchor centre;
    raw_scores: (A,) or (A, 1) logits; anchors: (A, 2) from :func:`ssd_anchors`.
    """
    raw = np.asarray(raw_boxes, dtype=np.float64).reshape(len(anchors), -1)
    logits = np.clip(np.asarray(raw_scores, dtype=np.float64).reshape(len(anchors)), -100.0, 100.0)
    scores = 1.0 / (1.0 + np.exp(-logits))
    keep = np.flatnonzero(scores >= min_score)
    r, a = raw[keep] / input_size, anchors[keep]
    centre = r[:, 0:2] + a
    half = r[:, 2:4] / 2
    boxes = np.concatenate([centre - half, centre + half], axis=1)
    keypoints = r[:, 4:4 + 2 * NUM_KEYPOINTS].reshape(-1, NUM_KEYPOINTS, 2) + a[:, None, :]
    return Detections(boxes, keypoints, scores[keep])


def weighted_nms(detections: Detections, iou_threshold: float = NMS_IOU) -> Detections:
    """MediaPipe's weighted non-maximum suppression (see the module docstring), best first."""
    order = np.argsort(-detections.scores, kind="stable")
    iou = box_iou(detections.boxes, detections.boxes)
    boxes, keypoints, scores = [], [], []
    remaining = order
    while len(remaining):
        top = remaining[0]
        overlap = iou[top, remaining] > iou_threshold
        overlap[0] = True
        group = remaining[overlap]
        w = detections.scores[group]
        boxes.append((detections.boxes[group] * w[:, None]).sum(0) / w.sum())
        keypoints.append((detections.keypoints[group] * w[:, None, None]).sum(0) / w.sum())
        scores.append(detections.scores[top])
        remaining = remaining[~overlap]
    if not scores:
        return Detections.empty(detections.keypoints.shape[1])
    return Detections(np.stack(boxes), np.stack(keypoints), np.asarray(scores))


def person_roi(start: np.ndarray, end: np.ndarray, scale: float = ROI_SCALE) -> np.ndarray:
    """(M, 4) rotated square ROIs (cx, cy, side, rotation in radians) from alignment points start (M, 2)
    (the mid-hip) and end (M, 2) (a point on the circle around the body), in any pixel frame.

    rotation = the tilt of end − start clockwise from straight up (image y points down), in [−π, π).
    """
    start, end = np.asarray(start, dtype=np.float64).reshape(-1, 2), np.asarray(end, dtype=np.float64).reshape(-1, 2)
    d = end - start
    side = 2.0 * np.hypot(d[:, 0], d[:, 1]) * scale
    rotation = np.pi / 2 - np.arctan2(-d[:, 1], d[:, 0])
    rotation = (rotation + np.pi) % (2 * np.pi) - np.pi
    return np.stack([start[:, 0], start[:, 1], side, rotation], axis=1)


def region_affine(regions: np.ndarray, size: int) -> np.ndarray:
    """(R, 2, 3) affines from image pixels to a size×size crop of each rotated square region
    (cx, cy, side, rotation) (R, 4): the region's centre goes to the crop's centre, its up axis (turned by
    ``rotation`` clockwise in the image) to the crop's up."""
    r = np.asarray(regions, dtype=np.float64).reshape(-1, 4)
    s = size / r[:, 2]
    cos, sin = np.cos(-r[:, 3]) * s, np.sin(-r[:, 3]) * s
    m = np.zeros((len(r), 2, 3))
    m[:, 0, 0], m[:, 0, 1], m[:, 1, 0], m[:, 1, 1] = cos, -sin, sin, cos
    m[:, :, 2] = size / 2 - np.einsum("rij,rj->ri", m[:, :, :2], r[:, :2])
    return m


def cut_regions(image: np.ndarray, regions: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Crops (R, size, size, 3) uint8 of the regions (R, 4) of ``image`` (H, W, 3) (black outside the
    image), and their (R, 2, 3) image -> crop affines."""
    import cv2

    affines = region_affine(regions, size)
    crops = np.empty((len(affines), size, size, 3), dtype=np.uint8)
    for i, m in enumerate(affines):
        crops[i] = cv2.warpAffine(image, m, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                                  borderValue=(0, 0, 0))
    return crops, affines


def to_image(points: np.ndarray, affine: np.ndarray) -> np.ndarray:
    """Points (..., 2) of a crop back to the image through the inverse of one (2, 3) image -> crop affine."""
    a = np.vstack([affine, [0.0, 0.0, 1.0]])
    inv = np.linalg.inv(a)[:2]
    p = np.asarray(points, dtype=np.float64)
    return p @ inv[:, :2].T + inv[:, 2]


def square_regions(width: int, height: int, grid: int, overlap: float = 0.25) -> np.ndarray:
    """(grid², 4) axis-aligned square regions (cx, cy, side, 0) over a width×height image.

    grid = 1: the letterboxed frame (side = the longer edge). grid = n ≥ 2: n × n squares of side
    longer edge / n · (1 + overlap) (at most the longer edge), centres spread evenly so that the squares
    reach the image's borders.
    """
    if grid < 1:
        raise ValueError(f"tile grid must be >= 1, got {grid}")
    long = float(max(width, height))
    if grid == 1:
        return np.array([[width / 2, height / 2, long, 0.0]])
    side = min(long, long / grid * (1 + overlap))
    xs = np.linspace(side / 2, width - side / 2, grid) if width > side else np.full(grid, width / 2)
    ys = np.linspace(side / 2, height - side / 2, grid) if height > side else np.full(grid, height / 2)
    cy, cx = np.meshgrid(ys, xs, indexing="ij")
    return np.stack([cx.ravel(), cy.ravel(), np.full(cx.size, side), np.zeros(cx.size)], axis=1)


class PersonDetectorNet:
    """The converted detector: :meth:`detect` runs it on square regions of an image."""

    def __init__(self, module: GraphModule) -> None:
        self.module = module.eval()
        _, h, w, _ = module.spec["input_shape"]
        if (h, w) != (INPUT_SIZE, INPUT_SIZE):
            raise ValueError(f"expected a {INPUT_SIZE}×{INPUT_SIZE} detector input, the graph has {w}×{h}")
        self.anchors = ssd_anchors()

    @classmethod
    def from_graph(cls, graph: Graph) -> PersonDetectorNet:
        return cls(convert(graph, {"boxes": BOXES_TENSOR, "scores": SCORES_TENSOR}))

    def raw(self, crops: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Network outputs for crops (B, 224, 224, 3) uint8 RGB: boxes (B, A, 12), score logits (B, A)."""
        x = torch.from_numpy(np.ascontiguousarray(crops)).permute(0, 3, 1, 2).float().div_(127.5).sub_(1.0)
        with torch.inference_mode():
            out = self.module(x)
        boxes = out["boxes"].numpy().reshape(len(crops), -1, 12)
        if boxes.shape[1] != len(self.anchors):
            raise ValueError(f"detector outputs {boxes.shape[1]} anchors, expected {len(self.anchors)}")
        return boxes, out["scores"].numpy().reshape(len(crops), -1)

    def detect(self, image: np.ndarray, regions: np.ndarray, min_score: float = MIN_SCORE,
               iou_threshold: float = NMS_IOU, batch_size: int = 8) -> Detections:
        """Detections in image pixels over the axis-aligned square ``regions`` (R, 4) of ``image``
        (H, W, 3) uint8 RGB: per region decoded and suppressed, then suppressed again across regions
        (duplicates of one person in overlapping regions merge)."""
        regions = np.asarray(regions, dtype=np.float64).reshape(-1, 4)
        parts = []
        for start in range(0, len(regions), batch_size):
            crops, affines = cut_regions(image, regions[start:start + batch_size], INPUT_SIZE)
            raw_boxes, raw_scores = self.raw(crops)
            for b, m in zip(range(len(crops)), affines):
                det = weighted_nms(decode(raw_boxes[b], raw_scores[b], self.anchors, min_score=min_score),
                                   iou_threshold)
                corners = to_image(det.boxes.reshape(-1, 2, 2) * INPUT_SIZE, m).reshape(-1, 4)
                boxes = np.concatenate([corners[:, :2].clip(max=corners[:, 2:]), corners[:, 2:]], axis=1)
                parts.append(Detections(boxes, to_image(det.keypoints * INPUT_SIZE, m), det.scores))
        merged = Detections.concatenate(parts)
        return weighted_nms(merged, iou_threshold) if len(regions) > 1 else merged
