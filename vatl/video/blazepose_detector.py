"""The ``blazepose`` person detector: BlazePose's detector and landmark networks (both from the mediapipe
wheel, converted by :mod:`vatl.estimator.blazepose`) as MediaPipe chains them, made for several and small
people.

Per frame:

1. **detect** on square regions of the frame: the letterboxed frame and overlapping tiles (grids 2×2 and
   3×3 by default: the detector is made for one prominent person, tiles make small people large);
   detections are suppressed per region and across regions (weighted NMS on the face boxes);
2. **re-detect** from the previous frame's poses, as MediaPipe's tracking mode does: each person kept in
   the previous frame contributes the ROI its landmarks' alignment points give;
3. **landmarks** in every ROI (detected and re-detected): the landmark network's presence score keeps a
   ROI (>= ``min_presence``), the extent of its 33 landmarks grown by ``box_padding`` per side is the
   person's box, the score is presence × the ROI's source score (the detector's, or the person's score in
   the previous frame);
4. **suppress** overlapping person boxes (IoU > ``nms_iou``, best score first): a re-detected ROI that
   drifted onto another person merges into it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np

from vatl.data.boxes import box_iou
from vatl.estimator.blazepose.detector import PersonDetectorNet, person_roi, square_regions
from vatl.estimator.blazepose.landmarks import LandmarkNet
from vatl.video.detection import PersonBoxes, clip_boxes

log = logging.getLogger(__name__)


def load_networks() -> tuple[PersonDetectorNet, LandmarkNet]:
    """The converted detector and landmark networks from the cached TFLite files (``vatl blazepose fetch``)."""
    from vatl.estimator.blazepose.fetch import require_detector, require_model
    from vatl.estimator.blazepose.tflite_reader import read_tflite

    return (PersonDetectorNet.from_graph(read_tflite(require_detector())),
            LandmarkNet.from_graph(read_tflite(require_model())))


def suppress(boxes: np.ndarray, scores: np.ndarray, iou_threshold: float) -> np.ndarray:
    """Indices of the boxes (M, 4) x0, y0, x1, y1 kept by greedy NMS, best score first."""
    order = np.argsort(-scores, kind="stable")
    iou = box_iou(boxes, boxes)
    taken = np.zeros(len(boxes), dtype=bool)
    keep = []
    for i in order:
        if not taken[i]:
            keep.append(i)
            taken |= iou[i] > iou_threshold
    return np.asarray(keep, dtype=np.int64)


class BlazePosePersonDetector:
    """See the module docstring. ``networks`` (detector, landmarks) default to the cached models."""

    name = "blazepose"
    needs_pixels = True

    def __init__(self, grids: Sequence[int] = (1, 2, 3), redetect: bool = True, min_score: float = 0.5,
                 min_presence: float = 0.5, nms_iou: float = 0.5, box_padding: float = 0.1,
                 networks: tuple[PersonDetectorNet, LandmarkNet] | None = None) -> None:
        if not grids or any(int(g) < 1 for g in grids):
            raise ValueError(f"grids must be tile grid sizes >= 1, got {grids}")
        for name, value in (("min_score", min_score), ("min_presence", min_presence), ("nms_iou", nms_iou)):
            if not 0 <= value <= 1:
                raise ValueError(f"{name} must be in [0, 1], got {value}")
        self.grids = tuple(int(g) for g in grids)
        self.redetect = bool(redetect)
        self.min_score, self.min_presence, self.nms_iou = float(min_score), float(min_presence), float(nms_iou)
        self.box_padding = float(box_padding)
        self.detector, self.landmarks = networks if networks is not None else load_networks()
        self.reset()

    def settings(self) -> dict[str, object]:
        """What determines the detections (kept with cached detections)."""
        return {"grids": list(self.grids), "redetect": self.redetect, "min_score": self.min_score,
                "min_presence": self.min_presence, "nms_iou": self.nms_iou, "box_padding": self.box_padding}

    def reset(self) -> None:
        self._previous_rois = np.zeros((0, 4))
        self._previous_scores = np.zeros(0)

    def check_frames(self, num_frames: int) -> None:
        return None

    def detect(self, frame: int, image: np.ndarray | None) -> PersonBoxes:
        if image is None:
            raise ValueError("the blazepose detector needs the frame's pixels")
        h, w = image.shape[:2]
        regions = np.concatenate([square_regions(w, h, g) for g in self.grids])
        found = self.detector.detect(image, regions, min_score=self.min_score)
        rois = person_roi(found.keypoints[:, 0], found.keypoints[:, 1])
        source = found.scores
        if self.redetect and len(self._previous_rois):
            rois = np.concatenate([rois, self._previous_rois])
            source = np.concatenate([source, self._previous_scores])
        lm = self.landmarks.run(image, rois)
        keep = np.flatnonzero(lm.presence >= self.min_presence)
        boxes, scores = lm.boxes(self.box_padding)[keep], (lm.presence * source)[keep]
        next_rois = lm.next_rois()[keep]
        chosen = suppress(boxes, scores, self.nms_iou)
        people, dropped = clip_boxes(PersonBoxes.from_xyxy(boxes[chosen], scores[chosen]), w, h)
        inside = _inside(boxes[chosen], w, h)
        self._previous_rois, self._previous_scores = next_rois[chosen][inside], scores[chosen][inside]
        log.debug("frame %d: %d detections, %d ROIs, %d people (%d outside the frame)", frame, len(found),
                  len(rois), len(people), dropped)
        return people


def _inside(boxes: np.ndarray, width: int, height: int, min_size: float = 1.0) -> np.ndarray:
    """(M,) bool: boxes x0, y0, x1, y1 that keep at least ``min_size`` pixels a side inside the image
    (the same rule as :func:`~vatl.video.detection.clip_boxes`)."""
    x0, y0 = boxes[:, 0].clip(0, width), boxes[:, 1].clip(0, height)
    x1, y1 = boxes[:, 2].clip(0, width), boxes[:, 3].clip(0, height)
    return ((x1 - x0) >= min_size) & ((y1 - y0) >= min_size)
