"""The blazepose person detector's orchestration on stub networks: tiles are asked for, a person the
detector misses in the next frame is found again from the previous frame's pose (re-detection), low
presence drops a ROI, duplicate people merge."""

import numpy as np
import pytest

from vatl.estimator.blazepose.detector import Detections
from vatl.estimator.blazepose.landmarks import RoiLandmarks
from vatl.video.blazepose_detector import BlazePosePersonDetector, suppress


class StubDetector:
    """Finds one person (mid-hip (100, 150), body circle point (100, 70)) in frame 0 only."""

    def __init__(self):
        self.regions = []
        self.frame = 0

    def detect(self, image, regions, min_score=0.5):
        self.regions.append(len(regions))
        if self.frame > 0:
            return Detections.empty()
        kps = np.array([[[100, 150], [100, 70], [100, 100], [100, 60]]], dtype=float)
        return Detections(np.array([[80.0, 40.0, 120.0, 80.0]]), kps, np.array([0.9]))


class StubLandmarks:
    """Landmarks of a person standing in the ROI's square (presence ``presence``); ROIs whose centre is
    off-image get presence 0."""

    def __init__(self, presence=0.95):
        self.presence = presence
        self.rois = []

    def run(self, image, rois):
        self.rois.append(np.asarray(rois).copy())
        points = np.zeros((len(rois), 39, 2))
        for i, (cx, cy, side, _) in enumerate(rois):
            h = side / 2.5
            points[i, :33] = np.stack([np.linspace(cx - h / 4, cx + h / 4, 33), np.linspace(cy - h, cy + h, 33)], 1)
            points[i, 33], points[i, 34] = [cx, cy], [cx, cy - h]
        return RoiLandmarks(points, np.full(len(rois), self.presence))


def detector(**options):
    det, lm = StubDetector(), StubLandmarks(options.pop("presence", 0.95))
    return BlazePosePersonDetector(networks=(det, lm), **options), det, lm


def test_re_detection_keeps_a_person_the_detector_misses():
    image = np.zeros((300, 400, 3), dtype=np.uint8)
    person, det, lm = detector(grids=(1, 2))
    det.frame = 0
    first = person.detect(0, image)
    assert len(first) == 1 and det.regions == [1 + 4]  # the letterbox and 2×2 tiles
    det.frame = 1
    second = person.detect(1, image)
    assert len(second) == 1 and np.allclose(second.boxes, first.boxes)  # found again from the previous pose
    assert len(lm.rois[1]) == 1  # only the re-detection ROI
    person.reset()
    assert len(person.detect(1, image)) == 0  # a new clip: nothing to re-detect from

    plain, det, _ = detector(grids=(1,), redetect=False)
    plain.detect(0, image)
    det.frame = 1
    assert len(plain.detect(1, image)) == 0


def test_low_presence_drops_the_roi():
    person, _, _ = detector(presence=0.3)
    assert len(person.detect(0, np.zeros((300, 400, 3), dtype=np.uint8))) == 0


def test_suppress_keeps_the_best_of_overlapping_boxes():
    boxes = np.array([[0, 0, 10, 20], [1, 0, 11, 20], [30, 0, 40, 20]], dtype=float)
    assert suppress(boxes, np.array([0.5, 0.9, 0.7]), 0.5).tolist() == [1, 2]


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="grids"):
        detector(grids=(0,))
    with pytest.raises(ValueError, match="min_presence"):
        detector(min_presence=2.0)
