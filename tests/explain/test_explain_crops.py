"""Display crops: geometry shared by saved and re-cut crops, JPEG round trip, unreadable frames."""

from __future__ import annotations

import numpy as np

from vatl.data.formats import load_video
from vatl.estimator.crops import apply_affine
from vatl.explain.crops import CROP_SIZE, cut_crops, decode_jpeg, display_affines, encode_jpeg, heatmap_to_display


def test_a_box_maps_to_the_middle_of_its_crop_with_room_around():
    boxes = np.array([[100.0, 50.0, 60.0, 120.0], [0.0, 0.0, 300.0, 30.0]])
    m = display_affines(boxes)
    corners = np.array([[[100, 50], [160, 170]], [[0, 0], [300, 30]]], dtype=np.float64)
    out = apply_affine(m, corners)
    w, h = CROP_SIZE
    centre = out.mean(axis=1)
    np.testing.assert_allclose(centre, [[(w - 1) / 2, (h - 1) / 2]] * 2, atol=1e-9)
    assert (out[:, 0] > -0.5).all() and (out[:, 1] < [w - 0.5, h - 0.5]).all()  # the box lies inside


def test_heatmap_centre_lands_on_the_crop_centre():
    boxes = np.array([[10.0, 20.0, 40.0, 90.0]])
    m = heatmap_to_display(boxes, (96, 128), (24, 32))
    w, h = CROP_SIZE
    np.testing.assert_allclose(apply_affine(m, np.array([[[11.5, 15.5]]]))[0, 0], [(w - 1) / 2, (h - 1) / 2], atol=1e-9)


def test_crops_come_from_the_frames_and_unreadable_frames_give_none(tiny_video_path, tmp_path):
    video = load_video(tiny_video_path)
    crops = cut_crops(video, np.array([0, 5]))
    assert all(c is not None and c.shape == (CROP_SIZE[1], CROP_SIZE[0], 3) for c in crops)
    decoded = decode_jpeg(encode_jpeg(crops[0]))
    assert decoded.shape == crops[0].shape and np.abs(decoded.astype(int) - crops[0]).mean() < 8
    assert encode_jpeg(None) == b"" and decode_jpeg(b"") is None and decode_jpeg(b"garbage") is None
    frame = video.frames[int(video.frame_index[5])]
    frame.path = tmp_path / "gone.jpg"
    assert cut_crops(video, np.array([0, 5]))[1] is None
