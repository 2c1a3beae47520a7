"""Video and Frame: aligned sample arrays, neighbours by (track, frame ± gap), lazy frames."""

from __future__ import annotations

import numpy as np
import pytest

from vatl.data.video import Frame, Video
from vatl.skeletons import COCO17


def _video(track, frame, n_frames: int = 8) -> Video:
    n = len(track)
    kp = np.zeros((n, 17, 3))
    kp[:, 0] = [10.0, 20.0, 2.0]
    boxes = np.tile([0.0, 0.0, 4.0, 5.0], (n, 1))
    return Video(name="v", keypoint_set=COCO17, frames=[Frame(None, image_id=i) for i in range(n_frames)],
                 frame_index=np.array(frame), track_id=np.array(track), boxes=boxes, keypoints=kp,
                 annotation_ids=np.arange(100, 100 + n))


# samples (track, frame): 0:(1,3) 1:(2,1) 2:(1,0) 3:(1,6) 4:(1,1) 5:(2,4)
TRACK = [1, 2, 1, 1, 1, 2]
FRAME = [3, 1, 0, 6, 1, 4]


@pytest.mark.parametrize("max_gap, prev, nxt", [
    (1, [-1, -1, -1, -1, 2, -1], [-1, -1, 4, -1, -1, -1]),
    (2, [4, -1, -1, -1, 2, -1], [-1, -1, 4, -1, 0, -1]),
    (3, [4, -1, -1, 0, 2, 1], [3, 5, 4, -1, 0, -1]),
])
def test_neighbours_respect_track_gap_and_max_gap(max_gap, prev, nxt):
    p, n = _video(TRACK, FRAME).neighbours(max_gap=max_gap)
    assert p.tolist() == prev
    assert n.tolist() == nxt


def test_neighbours_never_cross_tracks_and_same_frame_duplicates_are_not_neighbours():
    # track 1 at frames 0 and 2, track 2 at frame 1: with gap 1 nobody has a neighbour
    p, n = _video([1, 2, 1], [0, 1, 2]).neighbours(max_gap=1)
    assert p.tolist() == [-1, -1, -1] and n.tolist() == [-1, -1, -1]
    p, n = _video([1, 1], [4, 4]).neighbours(max_gap=3)
    assert p.tolist() == [-1, -1] and n.tolist() == [-1, -1]


def test_neighbours_of_tiny_videos_and_bad_gap():
    for video in (_video([], []), _video([3], [2])):
        p, n = video.neighbours()
        assert (p == -1).all() and (n == -1).all() and len(p) == video.num_samples
    with pytest.raises(ValueError, match="max_gap must be >= 1, got 0"):
        _video(TRACK, FRAME).neighbours(max_gap=0)


def test_temporal_order_groups_tracks_in_frame_order():
    assert _video(TRACK, FRAME).temporal_order().tolist() == [2, 4, 0, 3, 1, 5]


def test_sample_arrays_are_coerced_and_summarised():
    video = _video(TRACK, FRAME)
    assert len(video) == video.num_samples == 6
    assert video.num_tracks == 2
    assert video.frame_index.dtype == np.int64 and video.boxes.dtype == np.float64
    assert video.visible.shape == (6, 17) and video.visible[:, 0].all() and not video.visible[:, 1:].any()
    assert video.has_ground_truth
    np.testing.assert_array_equal(video.box_areas(), np.full(6, 20.0))
    empty = _video([], [])
    assert empty.keypoints.shape == (0, 17, 3) and not empty.has_ground_truth


def test_samples_must_point_at_existing_frames():
    with pytest.raises(ValueError, match=r"a sample refers to a frame outside 0..7"):
        _video([1], [8])
    with pytest.raises(ValueError, match=r"outside 0..7"):
        _video([1], [-1])


def test_subset_keeps_frames_and_selected_samples():
    video = _video(TRACK, FRAME)
    video.skipped["empty_box"] = 2
    sub = video.subset(np.array([3, 0]), name="part")
    assert sub.name == "part" and sub.frames is video.frames
    assert sub.frame_index.tolist() == [6, 3] and sub.annotation_ids.tolist() == [103, 100]
    assert sub.skipped == {"empty_box": 2} and sub.skipped is not video.skipped
    assert sub.neighbours(max_gap=3)[0].tolist() == [1, -1]


def test_frame_loads_rgb_lazily_and_errors_name_the_path(tmp_path):
    import cv2
    bgr = np.zeros((6, 8, 3), dtype=np.uint8)
    bgr[..., 0] = 255  # blue in OpenCV's BGR
    cv2.imwrite(str(tmp_path / "f.png"), bgr)
    image = Frame(tmp_path / "f.png", image_id=1).load()
    assert image.shape == (6, 8, 3)
    assert image[0, 0].tolist() == [0, 0, 255]  # RGB
    with pytest.raises(FileNotFoundError, match=r"cannot read image .*nope\.png \(frame 2\)"):
        Frame(tmp_path / "nope.png", image_id=2).load()
    with pytest.raises(FileNotFoundError, match="frame 3 has no image file"):
        Frame(None, image_id=3).load()
