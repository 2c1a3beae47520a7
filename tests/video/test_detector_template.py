"""The contract every registered person detector meets (parametrised over the registry)."""

import numpy as np
import pytest
from detector_examples import EXAMPLES
from video_testdata import SIZE, draw_frame

from vatl.video.detection import PersonBoxes, PersonDetector, detector_names, get_detector

FRAMES = 4


def example(name, tmp_path):
    if name not in EXAMPLES:
        pytest.fail(f"person detector {name!r} has no test example: add one to tests/video/detector_examples.py")
    return EXAMPLES[name](tmp_path, FRAMES)


def run(detector):
    detector.reset()
    return [detector.detect(f, draw_frame(f) if detector.needs_pixels else None) for f in range(FRAMES)]


@pytest.mark.parametrize("name", detector_names())
def test_detector_contract(name, tmp_path):
    detector = example(name, tmp_path)
    assert isinstance(detector, PersonDetector) and detector.name == name
    detector.check_frames(FRAMES)
    found = run(detector)
    for boxes in found:
        assert isinstance(boxes, PersonBoxes) and boxes.boxes.shape == (len(boxes), 4)
        assert np.isfinite(boxes.boxes).all() and (boxes.boxes[:, 2:] > 0).all()
        assert ((boxes.scores >= 0) & (boxes.scores <= 1)).all()
        assert (boxes.boxes[:, :2] < SIZE).all() and (boxes.boxes[:, :2] + boxes.boxes[:, 2:] > 0).all()
    again = run(detector)  # reset() forgets the previous clip: the same frames give the same boxes
    assert all(np.allclose(a.boxes, b.boxes) and np.allclose(a.scores, b.scores) for a, b in zip(found, again))


def test_every_example_is_registered():
    assert set(EXAMPLES) <= set(detector_names())


def test_unknown_detectors_and_options_are_clear_errors(tmp_path):
    with pytest.raises(ValueError, match="unknown person detector 'yolo'"):
        get_detector("yolo")
    with pytest.raises(ValueError, match="person detector 'mot'"):
        get_detector("mot", path=str(tmp_path / "x.txt"), colour="red")
