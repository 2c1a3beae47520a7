"""track_clip: joining track starts, filling gaps by interpolation, dropping what stays untracked."""

import numpy as np
import pytest
from video_testdata import people_boxes

from vatl.video.detection import PersonBoxes
from vatl.video.tracking import Tracks, get_tracker, track_clip


def clip(frames=12, missing=()):
    """The two figures' boxes per frame; ``missing``: (frame, person) pairs left out."""
    out = []
    for f in range(frames):
        keep = [p for p in range(2) if (f, p) not in missing]
        out.append(PersonBoxes(people_boxes(f)[keep], np.full(len(keep), 0.95)))
    return out


def test_two_people_two_tracks_including_their_first_frame():
    tracks = track_clip(clip(), get_tracker("bytetrack", frame_rate=25))
    assert len(tracks) == 24 and tracks.untracked == 0 and tracks.notes["joined_track_starts"] == 2
    assert sorted(np.unique(tracks.track_id).tolist()) == [0, 1]
    for t in (0, 1):  # one person per track: x moves steadily one way
        x = tracks.boxes[tracks.track_id == t, 0]
        assert len(x) == 12 and (np.all(np.diff(x) > 0) or np.all(np.diff(x) < 0))
    assert np.all(np.diff(tracks.frame) >= 0)  # sorted by frame


def test_gaps_are_filled_by_linear_interpolation():
    detections = clip(missing={(5, 0), (6, 0), (7, 0)})
    plain = track_clip(detections, get_tracker("bytetrack", frame_rate=25), max_gap=0)
    assert len(plain) == 21 and not plain.interpolated.any()
    filled = track_clip(detections, get_tracker("bytetrack", frame_rate=25), max_gap=3)
    assert len(filled) == 24 and filled.interpolated.sum() == 3
    new = filled.boxes[filled.interpolated]
    assert np.allclose(new, [people_boxes(f)[0] for f in (5, 6, 7)])  # straight-line motion: exact
    short = track_clip(detections, get_tracker("bytetrack", frame_rate=25), max_gap=2)
    assert short.interpolated.sum() == 0  # a 3-frame gap is longer than max_gap


def test_weak_lone_boxes_stay_untracked_and_are_counted():
    detections = clip()
    detections[4] = PersonBoxes(np.vstack([detections[4].boxes, [[70, 70, 8, 8]]]), [0.95, 0.95, 0.3])
    tracks = track_clip(detections, get_tracker("bytetrack", frame_rate=25))
    assert len(tracks) == 24 and tracks.untracked == 1


def test_tracks_round_trip_as_plain_data():
    tracks = track_clip(clip(), get_tracker("sort", frame_rate=25), max_gap=2)
    again = Tracks.from_dict(tracks.to_dict())
    assert np.array_equal(again.frame, tracks.frame) and np.allclose(again.boxes, tracks.boxes)


def test_unknown_tracker():
    with pytest.raises(ValueError, match="unknown tracker 'deepsort'"):
        get_tracker("deepsort")
