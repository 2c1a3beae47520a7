"""Boxes from other detectors' files: COCO detection results (list or dataset form) and MOTChallenge det.txt."""

import json

import numpy as np
import pytest

from vatl.video.detection import detector_for_file
from vatl.video.detection_files import CocoResultsDetections, MotDetections


def test_coco_results_list_by_frame_index(tmp_path):
    path = tmp_path / "dets.json"
    path.write_text(json.dumps([
        {"image_id": 0, "category_id": 1, "bbox": [1, 2, 30, 40], "score": 0.9},
        {"image_id": 0, "category_id": 1, "bbox": [50, 2, 20, 40], "score": 0.2},
        {"image_id": 2, "category_id": 1, "bbox": [5, 5, 10, 10], "score": 0.7},
        {"image_id": 2, "category_id": 3, "bbox": [5, 5, 10, 10], "score": 0.99},  # a car
    ]))
    det = detector_for_file(str(path), min_score=0.5)
    assert isinstance(det, CocoResultsDetections) and not det.needs_pixels
    boxes = det.detect(0, None)
    assert boxes.boxes.tolist() == [[1, 2, 30, 40]] and boxes.scores.tolist() == [0.9]
    assert len(det.detect(1, None)) == 0 and len(det.detect(2, None)) == 1
    assert det.skipped == {"below_min_score": 1, "other_category": 1}
    det.check_frames(3)
    with pytest.raises(ValueError, match="frame 2 .* beyond the clip's 2 frames"):
        det.check_frames(2)


def test_coco_results_counting_from_one_and_dataset_form(tmp_path):
    path = tmp_path / "dets.json"
    path.write_text(json.dumps([{"image_id": 1, "bbox": [1, 2, 3, 4], "score": 1.0}]))
    assert len(CocoResultsDetections(path, first_image_id=1).detect(0, None)) == 1
    doc = {"images": [{"id": 7, "file_name": "f10.jpg"}, {"id": 9, "file_name": "f2.jpg"}],
           "annotations": [{"image_id": 7, "category_id": 1, "bbox": [0, 0, 5, 5], "score": 0.8}]}
    path.write_text(json.dumps(doc))
    det = CocoResultsDetections(path)
    assert len(det.detect(1, None)) == 1 and len(det.detect(0, None)) == 0  # f2 is frame 0, f10 frame 1


@pytest.mark.parametrize("record, message", [
    ({"image_id": 0, "bbox": [0, 0, -1, 5]}, "w, h > 0"),
    ({"image_id": 0, "bbox": [0, 0, 1]}, r"\[x, y, w, h\]"),
    ({"image_id": "a", "bbox": [0, 0, 1, 1]}, "'image_id' must be an integer"),
    ({"image_id": -1, "bbox": [0, 0, 1, 1]}, "before the clip's first frame"),
])
def test_malformed_coco_records_name_the_record(tmp_path, record, message):
    path = tmp_path / "dets.json"
    path.write_text(json.dumps([record]))
    with pytest.raises(ValueError, match=message) as err:
        CocoResultsDetections(path)
    assert "record 0" in str(err.value) and "dets.json" in str(err.value)


def test_mot_det_txt(tmp_path):
    path = tmp_path / "det.txt"
    path.write_text("1,-1,10,20,30,40,0.9,-1,-1,-1\n1,-1,100,20,30,40,-0.5,-1,-1,-1\n3,-1,1,2,3,4\n")
    det = detector_for_file(str(path))
    assert isinstance(det, MotDetections)
    assert det.detect(0, None).boxes.tolist() == [[10, 20, 30, 40], [100, 20, 30, 40]]
    assert det.detect(0, None).scores.tolist() == [0.9, 0.0]  # scores clipped to [0, 1]
    assert det.detect(2, None).scores.tolist() == [1.0]  # no confidence column: 1
    assert len(MotDetections(path, min_score=0.0).detect(0, None)) == 1
    path.write_text("1,-1,10,20\n")
    with pytest.raises(ValueError, match="line 1"):
        MotDetections(path)
    with pytest.raises(FileNotFoundError, match="nothing.txt"):
        MotDetections(tmp_path / "nothing.txt")


def test_settings_change_with_the_file(tmp_path):
    path = tmp_path / "det.txt"
    path.write_text("1,-1,10,20,30,40,0.9\n")
    first = MotDetections(path).settings()
    path.write_text("1,-1,10,20,30,40,0.9\n2,-1,10,20,30,40,0.9\n")
    assert MotDetections(path).settings() != first
    assert np.isfinite(MotDetections(path).detect(1, None).boxes).all()
