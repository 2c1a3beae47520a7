"""The landmark network on ROIs: person boxes and next-frame ROIs from landmarks (constructed points), and
the real converted network's outputs on a rotated ROI when the model is cached."""

import numpy as np
import pytest

from vatl.estimator.blazepose.fetch import cached_model_path
from vatl.estimator.blazepose.landmarks import LandmarkNet, RoiLandmarks
from vatl.estimator.blazepose.tflite_reader import read_tflite


def test_boxes_and_next_rois_from_landmarks():
    points = np.zeros((1, 39, 2))
    points[0, :33] = np.stack([np.linspace(100, 140, 33), np.linspace(50, 250, 33)], axis=1)
    points[0, 33] = [120, 180]  # mid-hip
    points[0, 34] = [120, 80]  # a point on the body's circle, straight above
    lm = RoiLandmarks(points, np.array([0.9]))
    assert np.allclose(lm.boxes(padding=0.1), [[96, 30, 144, 270]])
    assert np.allclose(lm.next_rois(), [[120, 180, 250, 0]])


@pytest.mark.skipif(not cached_model_path().is_file(),
                    reason="BlazePose is not cached (run `vatl blazepose fetch`; make setup does)")
def test_the_real_landmark_network_on_rotated_rois():
    net = LandmarkNet.from_graph(read_tflite(cached_model_path()))
    rng = np.random.default_rng(0)
    image = rng.integers(0, 255, (200, 300, 3), dtype=np.uint8)
    rois = np.array([[150.0, 100.0, 120.0, 0.0], [150.0, 100.0, 120.0, 0.7]])
    lm = net.run(image, rois)
    assert lm.points.shape == (2, 39, 2) and np.isfinite(lm.points).all()
    assert ((lm.presence >= 0) & (lm.presence <= 1)).all() and lm.presence.max() < 0.5  # noise holds no person
    assert len(net.run(image, np.zeros((0, 4))).presence) == 0
