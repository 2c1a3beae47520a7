import numpy as np

from vatl.data.boxes import box_iou


def test_box_iou_of_overlapping_disjoint_and_empty_boxes():
    iou = box_iou(np.array([[0, 0, 10, 10]]), np.array([[5, 0, 15, 10], [20, 20, 30, 30], [0, 0, 0, 0]]))
    assert np.allclose(iou, [[50 / 150, 0, 0]])
