import numpy as np
import torch

from vatl.estimator.crops import apply_affine, box_to_center_size, crop_affine, invert_affine
from vatl.estimator.heatmaps import decode_heatmaps, flip_heatmaps, gaussian_targets, rescale_points
from vatl.skeletons import POSETRACK21


def test_targets_peak_at_the_keypoint_and_weights_mark_labeled_inside_joints():
    pts = np.array([[[5.0, 7.0], [2.0, 3.0], [30.0, 3.0]]])
    hm, w = gaussian_targets(pts, np.array([[True, False, True]]), (24, 32), sigma=2.0)
    assert hm.shape == (1, 3, 32, 24) and hm.dtype == np.float32
    np.testing.assert_array_equal(w, [[1, 0, 0]])  # unlabeled; outside the 24-px width
    assert hm[0, 0, 7, 5] == 1.0
    np.testing.assert_allclose(hm[0, 0, 7, 7], np.exp(-4 / 8), rtol=1e-6)
    assert not hm[0, 1:].any()


def test_encode_decode_round_trip_within_a_quarter_pixel():
    rng = np.random.default_rng(0)
    pts = rng.uniform(1.0, 22.0, size=(50, 17, 2))
    hm, _ = gaussian_targets(pts, np.ones((50, 17), bool), (24, 32))
    coords, maxvals = decode_heatmaps(hm)
    peak = np.rint(pts)
    inside = ((peak[..., 0] > 1) & (peak[..., 0] < 23) & (peak[..., 1] > 1) & (peak[..., 1] < 31))[..., None]
    assert np.abs(coords - pts)[np.broadcast_to(inside, pts.shape)].max() <= 0.25 + 1e-9
    assert np.abs(coords - pts).max() <= 0.5 + 1e-9  # at the border: the argmax, not refined
    assert (maxvals > np.exp(-0.25 / 4) - 1e-6).all() and (maxvals <= 1).all()


def test_quarter_pixel_shift_goes_toward_the_higher_neighbour():
    hm = np.zeros((1, 2, 5, 5))
    hm[0, 0, 2, 2], hm[0, 0, 2, 3], hm[0, 0, 2, 1] = 1.0, 0.6, 0.2   # higher neighbour on the right
    hm[0, 1, 2, 2], hm[0, 1, 1, 2], hm[0, 1, 3, 2] = 1.0, 0.5, 0.5   # equal neighbours: no shift
    coords, maxvals = decode_heatmaps(hm)
    np.testing.assert_allclose(coords[0], [[2.25, 2.0], [2.0, 2.0]])
    np.testing.assert_allclose(maxvals[0], [1.0, 1.0])


def test_decoding_refines_only_inside_on_both_axes_and_non_positive_maxima_give_the_origin():
    # published rule: shift only when 1 < x < w - 1 and 1 < y < h - 1
    hm = np.zeros((1, 4, 6, 6))
    hm[0, 0, 3, 1], hm[0, 0, 3, 2] = 1.0, 0.5  # x = 1: on the border band, not refined
    hm[0, 1, 1, 3], hm[0, 1, 1, 4] = 1.0, 0.5  # y = 1: not refined along x either
    hm[0, 2, 3, 3], hm[0, 2, 3, 4], hm[0, 2, 4, 3] = 1.0, 0.5, 0.7  # inside: both axes refined
    hm[0, 3] = -0.1
    hm[0, 3, 4, 4] = -0.01  # maximum <= 0: (0, 0), as the published code decodes it
    coords, maxvals = decode_heatmaps(hm)
    np.testing.assert_allclose(coords[0], [[1.0, 3.0], [3.0, 1.0], [3.25, 3.25], [0.0, 0.0]])
    np.testing.assert_allclose(maxvals[0], [1.0, 1.0, 1.0, -0.01])


def test_keypoint_through_crop_heatmap_and_back_to_image():
    boxes = np.array([[100.0, 50.0, 80.0, 200.0], [400.0, 20.0, 150.0, 160.0]])
    centers, sizes = box_to_center_size(boxes, 96 / 128)
    rng = np.random.default_rng(1)
    image_pts = boxes[:, None, :2] + rng.uniform(0.1, 0.9, (2, 17, 2)) * boxes[:, None, 2:]
    to_input = crop_affine(centers, sizes, (96, 128))
    hm_pts = rescale_points(apply_affine(to_input, image_pts), (96, 128), (24, 32))
    np.testing.assert_allclose(hm_pts, apply_affine(crop_affine(centers, sizes, (24, 32)), image_pts), atol=1e-9)
    hm, _ = gaussian_targets(hm_pts, np.ones((2, 17), bool), (24, 32))
    coords, _ = decode_heatmaps(hm)
    back = apply_affine(invert_affine(crop_affine(centers, sizes, (24, 32))), coords)
    px_per_heatmap_px = sizes[:, None, :] / np.array([24, 32])
    assert (np.abs(back - image_pts) <= 0.25 * px_per_heatmap_px + 1e-6).all()


def test_flipping_a_heatmap_batch_equals_encoding_the_mirrored_swapped_pose():
    flip_index = POSETRACK21.flip_index
    rng = np.random.default_rng(2)
    pts = rng.uniform(2, 20, size=(3, 17, 2))
    hm, _ = gaussian_targets(pts, np.ones((3, 17), bool), (24, 32))
    mirrored = pts[:, flip_index].copy()
    mirrored[..., 0] = 24 - 1 - mirrored[..., 0]
    expected, _ = gaussian_targets(mirrored, np.ones((3, 17), bool), (24, 32))
    np.testing.assert_allclose(flip_heatmaps(hm, flip_index), expected, atol=1e-6)
    # left_shoulder (5) takes the mirrored right_shoulder (6)
    np.testing.assert_array_equal(flip_heatmaps(hm, flip_index)[:, 5], hm[:, 6, :, ::-1])
    # numpy and torch agree; flipping twice is the identity
    np.testing.assert_allclose(flip_heatmaps(torch.from_numpy(hm), flip_index).numpy(), expected, atol=1e-6)
    np.testing.assert_array_equal(flip_heatmaps(flip_heatmaps(hm, flip_index), flip_index), hm)
