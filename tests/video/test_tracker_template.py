"""The contract every registered tracker meets (parametrised over the registry): two people walking apart
keep one id each, boxes come back in input order, reset() starts the ids again."""

import numpy as np
import pytest
from tracker_examples import EXAMPLES
from video_testdata import people_boxes

from vatl.video.detection import PersonBoxes
from vatl.video.tracking import Tracker, tracker_names


def feed(tracker, frames=10):
    tracker.reset()
    out = []
    for f in range(frames):
        boxes = people_boxes(f)[::-1] if f % 2 else people_boxes(f)  # input order changes: ids must follow
        ids = tracker.update(PersonBoxes(boxes, [0.95, 0.9]))
        out.append(ids[::-1] if f % 2 else ids)
    return np.array(out)


@pytest.mark.parametrize("name", tracker_names())
def test_tracker_contract(name):
    if name not in EXAMPLES:
        pytest.fail(f"tracker {name!r} has no test example: add one to tests/video/tracker_examples.py")
    tracker = EXAMPLES[name]()
    assert isinstance(tracker, Tracker) and tracker.name == name
    ids = feed(tracker)
    assert ids.shape == (10, 2) and ids.dtype.kind == "i"
    tracked = ids[1:]  # a new track may get its id only from its second frame
    assert (tracked >= 0).all() and len(np.unique(tracked[:, 0])) == 1 and len(np.unique(tracked[:, 1])) == 1
    assert tracked[0, 0] != tracked[0, 1]
    assert np.array_equal(feed(tracker), ids)  # reset: the same clip gives the same ids
    assert tracker.update(PersonBoxes.empty()).shape == (0,)


def test_every_example_is_registered():
    assert set(EXAMPLES) <= set(tracker_names())
