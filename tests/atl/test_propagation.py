import math

import numpy as np
import pytest

from vatl.atl.propagation import Propagation, TrackLayout, smooth_tracks
from vatl.data.annotations import LabelStore

K = 3


def layout(frames, tracks, box=(0.0, 0.0, 100.0, 100.0)):
    n = len(frames)
    return TrackLayout(np.asarray(frames), np.asarray(tracks), np.tile(np.asarray(box, dtype=float), (n, 1)))


def predictions(n, x=0.0):
    kp = np.zeros((n, K, 3))
    kp[..., 0] = x
    kp[..., 1] = 50.0
    kp[..., 2] = 0.5
    return kp


def label(dx, dy=0.0, annotated=(True,) * K):
    out = np.zeros((K, 3))
    out[:, 0], out[:, 1] = dx, 50.0 + dy
    out[:, 2] = np.where(annotated, 2.0, 0.0)
    return out


def test_two_anchors_interpolate_their_residuals_in_time_by_hand():
    # one track, frames 0..4, labels at 0 (residual +20 px) and 4 (residual -20 px); box scale 100 px
    lay = layout(range(5), [7] * 5)
    labels = {0: label(20.0), 4: label(-20.0)}
    out = Propagation(reach=math.inf, smooth=0).apply(lay, predictions(5), labels)
    # frame 1: 3/4 of +20 and 1/4 of -20 = +10; frame 2: 0; frame 3: -10
    np.testing.assert_allclose(out[[1, 2, 3], 0, 0], [10.0, 0.0, -10.0])
    np.testing.assert_allclose(out[:, :, 1], 50.0)  # y residual is 0
    np.testing.assert_allclose(out[[0, 4], 0, 0], 0.0)  # labeled samples keep their prediction
    # with reach 2: damped by exp(-1/2) at frames 1 and 3 (one frame from the nearer anchor)
    damped = Propagation(reach=2.0, smooth=0).apply(lay, predictions(5), labels)
    np.testing.assert_allclose(damped[[1, 3], 0, 0], [10.0 * math.exp(-0.5), -10.0 * math.exp(-0.5)])
    np.testing.assert_allclose(damped[..., 2], 0.5)  # confidences are the model's


def test_one_anchor_extrapolates_in_box_units_and_decays_with_the_gap():
    lay = layout([0, 1, 3], [1, 1, 1])
    lay.boxes[2, 2:] = [200.0, 200.0]  # the person twice as large at frame 3: the correction doubles
    out = Propagation(reach=4.0, smooth=0).apply(lay, predictions(3), {0: label(10.0, dy=-4.0)})
    np.testing.assert_allclose(out[1, :, 0], 10.0 * math.exp(-1 / 4))
    np.testing.assert_allclose(out[1, :, 1], 50.0 - 4.0 * math.exp(-1 / 4))
    np.testing.assert_allclose(out[2, :, 0], 20.0 * math.exp(-3 / 4))


def test_only_annotated_joints_of_the_same_track_within_the_span_propagate():
    lay = layout([0, 1, 1, 9], [1, 1, 2, 1])
    labels = {0: label(10.0, annotated=(True, False, True))}
    out = Propagation(reach=math.inf, max_gap=5, smooth=0).apply(lay, predictions(4), labels)
    np.testing.assert_allclose(out[1, :, 0], [10.0, 0.0, 10.0])  # joint 1 was not annotated
    np.testing.assert_allclose(out[2, :, 0], 0.0)  # another track
    np.testing.assert_allclose(out[3, :, 0], 0.0)  # 9 frames away, beyond max_gap


def test_without_labels_only_smoothing_changes_anything():
    lay = layout(range(6), [0] * 6)
    kp = predictions(6)
    np.testing.assert_array_equal(Propagation(smooth=0).apply(lay, kp, LabelStore()), kp)
    assert not np.array_equal(Propagation(smooth=2).apply(lay, kp + np.arange(6)[:, None, None] ** 2, {}),
                              kp + np.arange(6)[:, None, None] ** 2)  # the default smooths


def test_smoothing_keeps_straight_motion_and_removes_a_one_frame_jump():
    lay = layout(range(9), [0] * 9)
    kp = predictions(9)
    kp[:, :, 0] = np.arange(9)[:, None] * 2.0  # moving 2 px per frame, equal confidences
    smoothed = smooth_tracks(lay, kp, 2)
    np.testing.assert_allclose(smoothed[2:7, :, 0], kp[2:7, :, 0])  # interior: a straight line stays
    jumped = kp.copy()
    jumped[4, :, 0] += 30.0
    out = smooth_tracks(lay, jumped, 2)
    assert abs(out[4, 0, 0] - kp[4, 0, 0]) < 30.0 * 3 / 9 + 1e-9  # the jump keeps its triangular share only
    np.testing.assert_allclose(out[..., 2], kp[..., 2])


def test_labeled_samples_are_not_smoothed_and_labels_go_in_as_label_store_or_mapping():
    lay = layout(range(4), [0] * 4)
    kp = predictions(4)
    kp[1, :, 0] = 40.0
    store = LabelStore()
    store.add(1, label(40.0), cycle=0)
    a = Propagation(smooth=1).apply(lay, kp, store)
    b = Propagation(smooth=1).apply(lay, kp, {1: label(40.0)})
    np.testing.assert_array_equal(a, b)
    assert a[1, 0, 0] == 40.0


def test_layout_of_a_video_takes_no_keypoints(tiny_video):
    lay = TrackLayout.of(tiny_video)
    assert set(vars(lay)) == {"frame_index", "track_id", "boxes"}
    np.testing.assert_array_equal(lay.track_id, tiny_video.track_id)
    assert sum(len(t) for t in lay.tracks()) == tiny_video.num_samples


@pytest.mark.parametrize("kwargs", [{"reach": 0}, {"reach": -1.0}, {"max_gap": -1}, {"smooth": 1.5},
                                    {"reach": True}])
def test_bad_settings_are_refused(kwargs):
    with pytest.raises(ValueError, match="propagation"):
        Propagation(**kwargs)


def test_bad_shapes_are_refused():
    lay = layout(range(3), [0] * 3)
    with pytest.raises(ValueError, match=r"predictions must be \(3, K, 3\)"):
        Propagation().apply(lay, np.zeros((2, K, 3)), {})
    with pytest.raises(ValueError, match="label of sample 5"):
        Propagation().apply(lay, predictions(3), {5: label(0.0)})
