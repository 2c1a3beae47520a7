"""Person boxes and their clipping to the frame."""

import numpy as np
import pytest

from vatl.video.detection import PersonBoxes, clip_boxes


def test_person_boxes_round_trip_and_corners():
    b = PersonBoxes(np.array([[1, 2, 3, 4]]), [0.5])
    assert b.xyxy().tolist() == [[1, 2, 4, 6]]
    assert np.array_equal(PersonBoxes.from_xyxy(b.xyxy(), b.scores).boxes, b.boxes)
    assert np.array_equal(PersonBoxes.from_dict(b.to_dict()).boxes, b.boxes)
    with pytest.raises(ValueError, match="1 boxes but 2 scores"):
        PersonBoxes(np.zeros((1, 4)), [1, 2])


def test_clip_boxes_to_the_frame_and_drop_boxes_outside():
    boxes = PersonBoxes(np.array([[-10, -5, 30, 20], [90, 40, 30, 30], [200, 10, 5, 5]]), [0.9, 0.8, 0.7])
    clipped, dropped = clip_boxes(boxes, 100, 60)
    assert dropped == 1
    assert clipped.boxes.tolist() == [[0, 0, 20, 15], [90, 40, 10, 20]] and clipped.scores.tolist() == [0.9, 0.8]
