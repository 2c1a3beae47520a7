import numpy as np
import pytest

from vatl.estimator.crops import (
    apply_affine,
    box_to_center_size,
    compose_affine,
    crop_affine,
    invert_affine,
    warp_crops,
)


def test_box_is_grown_to_the_input_aspect_then_padded():
    # aspect 0.75 (W/H = 96/128). A tall box keeps its height, a wide box keeps its width.
    centers, sizes = box_to_center_size(np.array([[10, 20, 30, 100], [0, 0, 120, 40]]), aspect=0.75)
    np.testing.assert_allclose(centers, [[25, 70], [60, 20]])
    np.testing.assert_allclose(sizes, [[75 * 1.25, 100 * 1.25], [120 * 1.25, 160 * 1.25]])


def test_crop_region_edges_map_to_output_edges():
    m = crop_affine(np.array([[50.0, 40.0]]), np.array([[20.0, 40.0]]), (10, 20))
    # left/top edge -> -0.5, right/bottom edge -> size - 0.5, centre -> middle of the array
    pts = np.array([[[40.0, 20.0], [60.0, 60.0], [50.0, 40.0]]])
    np.testing.assert_allclose(apply_affine(m, pts), [[[-0.5, -0.5], [9.5, 19.5], [4.5, 9.5]]])


def test_flip_mirrors_the_output_columns():
    c, s = np.array([[50.0, 40.0]]), np.array([[20.0, 40.0]])
    p = np.array([[[43.0, 31.0]]])
    plain = apply_affine(crop_affine(c, s, (10, 20)), p)
    flipped = apply_affine(crop_affine(c, s, (10, 20), flip=np.array([True])), p)
    np.testing.assert_allclose(flipped[..., 0], 10 - 1 - plain[..., 0])
    np.testing.assert_allclose(flipped[..., 1], plain[..., 1])


def test_rotation_by_90_degrees_turns_right_of_centre_into_up():
    c, s = np.array([[0.0, 0.0]]), np.array([[10.0, 10.0]])
    m = crop_affine(c, s, (10, 10), rotation=np.array([90.0]))
    out = apply_affine(m, np.array([[[2.0, 0.0]]]))
    np.testing.assert_allclose(out, [[[4.5, 4.5 - 2.0]]], atol=1e-12)


def test_inverse_and_composition_round_trip():
    rng = np.random.default_rng(0)
    m = crop_affine(rng.uniform(0, 100, (5, 2)), rng.uniform(10, 50, (5, 2)), (96, 128),
                    rotation=rng.uniform(-80, 80, 5), flip=rng.random(5) < 0.5)
    pts = rng.uniform(0, 100, (5, 7, 2))
    np.testing.assert_allclose(apply_affine(invert_affine(m), apply_affine(m, pts)), pts, atol=1e-9)
    ident = compose_affine(invert_affine(m), m)
    np.testing.assert_allclose(ident, np.tile(np.eye(2, 3), (5, 1, 1)), atol=1e-12)


@pytest.mark.parametrize("rotation", [0.0, 30.0])
def test_warped_dot_lands_where_the_affine_sends_it(rotation):
    image = np.zeros((100, 120, 3), dtype=np.uint8)
    image[37, 52] = 255  # a one-pixel dot at x=52, y=37
    c, s = np.array([[50.0, 40.0]]), np.array([[30.0, 40.0]])
    m = crop_affine(c, s, (60, 80), rotation=np.array([rotation]))  # 2× magnification
    crop = warp_crops(image, m, (60, 80))[0, ..., 0].astype(float)
    ys, xs = np.mgrid[:80, :60]
    centroid = np.array([(crop * xs).sum(), (crop * ys).sum()]) / crop.sum()
    np.testing.assert_allclose(centroid, apply_affine(m, np.array([[[52.0, 37.0]]]))[0, 0], atol=0.1)
