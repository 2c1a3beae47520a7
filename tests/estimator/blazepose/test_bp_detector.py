"""Decoding BlazePose's person detector on constructed tensors: SSD anchors, boxes and keypoints, sigmoid
scores, MediaPipe's weighted NMS, the person ROI from keypoints 0 / 1, and the mapping of regions (the
letterboxed frame, tiles, rotated ROIs) to the network input and back."""

import numpy as np
import pytest

from vatl.estimator.blazepose.detector import (
    INPUT_SIZE,
    Detections,
    PersonDetectorNet,
    cut_regions,
    decode,
    person_roi,
    region_affine,
    square_regions,
    ssd_anchors,
    to_image,
    weighted_nms,
)


def test_anchors_follow_mediapipes_ssd_layout():
    a = ssd_anchors()
    assert a.shape == (2254, 2)
    assert np.allclose(a[0], a[1]) and np.allclose(a[0], [0.5 / 28, 0.5 / 28])  # 2 anchors per cell
    assert np.allclose(a[2], [1.5 / 28, 0.5 / 28])  # x runs fastest
    assert np.allclose(a[1568], [0.5 / 14, 0.5 / 14])  # stride 16 starts after 28·28·2
    stride32 = a[1568 + 392:]
    assert len(stride32) == 7 * 7 * 6 and np.allclose(stride32[:6], [0.5 / 7, 0.5 / 7])  # 3 layers share the grid
    assert np.allclose(a[-1], [6.5 / 7, 6.5 / 7])


def test_decode_boxes_keypoints_and_scores():
    anchors = ssd_anchors()
    raw = np.zeros((2254, 12))
    logits = np.full(2254, -10.0)
    i = 1600
    raw[i, :4] = [22.4, -11.2, 44.8, 22.4]  # centre offset (0.1, -0.05), size (0.2, 0.1) of the input
    raw[i, 4:6] = [0.0, 44.8]  # keypoint 0: 0.2 below the anchor
    raw[i, 6:8] = [0.0, -44.8]
    logits[i] = 1000.0  # clipped to 100: score 1
    logits[5] = 0.2  # sigmoid 0.55: kept at 0.5, dropped at 0.6
    det = decode(raw, logits, anchors)
    assert len(det) == 2 and det.scores[np.argmax(det.scores)] == pytest.approx(1.0)
    k = int(np.argmax(det.scores))
    cx, cy = anchors[i] + [0.1, -0.05]
    assert np.allclose(det.boxes[k], [cx - 0.1, cy - 0.05, cx + 0.1, cy + 0.05])
    assert np.allclose(det.keypoints[k, 0], anchors[i] + [0, 0.2]) and np.allclose(det.keypoints[k, 1], anchors[i] - [0, 0.2])
    assert len(decode(raw, logits, anchors, min_score=0.6)) == 1
    assert det.scores[1 - k] == pytest.approx(1 / (1 + np.exp(-0.2)))


def test_weighted_nms_merges_overlaps_by_score():
    boxes = np.array([[0, 0, 10, 10], [1, 0, 11, 10], [50, 50, 60, 60]], dtype=float)
    kps = np.array([[[0, 0]], [[4, 0]], [[55, 55]]], dtype=float)
    out = weighted_nms(Detections(boxes, kps, np.array([0.6, 0.9, 0.8])), iou_threshold=0.3)
    assert len(out) == 2 and out.scores.tolist() == [0.9, 0.8]  # best first, the best score kept
    w = np.array([0.9, 0.6]) / 1.5
    assert np.allclose(out.boxes[0], w[0] * boxes[1] + w[1] * boxes[0])
    assert np.allclose(out.keypoints[0, 0], [w[0] * 4, 0])
    assert np.allclose(out.boxes[1], boxes[2])
    assert len(weighted_nms(Detections.empty())) == 0


def test_person_roi_from_the_alignment_points():
    upright = person_roi(np.array([[100.0, 200.0]]), np.array([[100.0, 100.0]]))
    assert np.allclose(upright, [[100, 200, 250, 0]])  # side 2 × 1.25 × 100, no tilt
    lying = person_roi(np.array([[0.0, 0.0]]), np.array([[40.0, 0.0]]))  # kp1 right of kp0: 90° clockwise
    assert np.allclose(lying, [[0, 0, 100, np.pi / 2]])
    assert person_roi(np.array([[0.0, 0.0]]), np.array([[-40.0, 0.0]]))[0, 3] == pytest.approx(-np.pi / 2)


def test_regions_map_to_the_input_and_back():
    regions = np.array([[100.0, 50.0, 80.0, 0.0], [100.0, 50.0, 80.0, np.pi / 2]])
    m = region_affine(regions, 224)
    for affine in m:
        assert np.allclose(affine[:, :2] @ [100, 50] + affine[:, 2], [112, 112])  # centre to centre
        assert np.allclose(to_image(np.array([[112.0, 112.0], [0.0, 0.0]]) @ np.eye(2), affine)[0], [100, 50])
    # in the tilted region the body's up (kp0 -> kp1, which points right in the image) is the crop's up
    assert np.allclose(m[1][:, :2] @ [140, 50] + m[1][:, 2], [112, 0])
    image = np.zeros((100, 200, 3), dtype=np.uint8)
    image[40:60, 90:110] = 255
    crops, _ = cut_regions(image, regions[:1], 224)
    assert crops.shape == (1, 224, 224, 3) and crops[0, 112, 112].min() == 255 and crops[0, 5, 5].max() == 0


def test_square_regions_cover_the_frame():
    whole = square_regions(960, 540, 1)
    assert np.allclose(whole, [[480, 270, 960, 0]])  # the letterbox
    tiles = square_regions(960, 540, 3)
    assert tiles.shape == (9, 4) and np.allclose(tiles[:, 2], 400)
    assert tiles[:, 0].min() - 200 == 0 and tiles[:, 0].max() + 200 == 960
    assert tiles[:, 1].min() - 200 == 0 and tiles[:, 1].max() + 200 == 540
    with pytest.raises(ValueError, match="grid must be >= 1"):
        square_regions(10, 10, 0)


class _StubNet(PersonDetectorNet):
    """The decoding and region logic of PersonDetectorNet on constructed network outputs: one confident
    anchor per crop, its box 0.1 of the input wide around the anchor."""

    def __init__(self, anchor: int) -> None:
        self.anchors = ssd_anchors()
        self.anchor = anchor

    def raw(self, crops):
        boxes = np.zeros((len(crops), 2254, 12))
        boxes[:, self.anchor, 2:4] = 0.1 * INPUT_SIZE
        logits = np.full((len(crops), 2254), -20.0)
        logits[:, self.anchor] = 5.0
        return boxes, logits


def test_detections_come_back_in_image_pixels_and_merge_across_regions():
    net = _StubNet(anchor=1568 + 392 + 6 * 24)  # stride 32, cell (3, 3): the input's centre
    image = np.zeros((540, 960, 3), dtype=np.uint8)
    one = net.detect(image, square_regions(960, 540, 1))
    assert len(one) == 1 and np.allclose(one.boxes[0], [480 - 48, 270 - 48, 480 + 48, 270 + 48])
    assert np.allclose(one.keypoints[0], [[480, 270]] * 4)
    # two identical regions: the same person twice, merged into one by the cross-region NMS
    twice = net.detect(image, np.array([[300.0, 270.0, 400.0, 0.0], [300.0, 270.0, 400.0, 0.0]]))
    assert len(twice) == 1 and np.allclose(twice.boxes[0], [280, 250, 320, 290])
