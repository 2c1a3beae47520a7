"""OKS: COCO's definition, labeled joints only, the keypoint set's sigmas, clear errors."""

import math

import numpy as np
import pytest

from vatl.data.annotations import Predictions
from vatl.data.video import Frame, Video
from vatl.metrics import box_areas, oks, oks_video
from vatl.skeletons import COCO17, JRDB, KeypointSet


def _one_joint_set(sigma: float) -> KeypointSet:
    return KeypointSet(name="one", keypoints=("j",), sigmas=(sigma,))


def test_box_areas_width_times_height_and_scale():
    boxes = np.array([[5.0, 7.0, 10.0, 20.0], [0.0, 0.0, 3.0, 4.0]])
    np.testing.assert_allclose(box_areas(boxes), [200.0, 12.0])
    np.testing.assert_allclose(box_areas(boxes, scale=0.53), [106.0, 6.36])


def test_one_joint_off_by_d():
    # d = 10 px, A = 100 * 200 = 20000, sigma = 0.079:
    # e = d^2 / (2 * A * (2 sigma)^2) = 100 / (2 * 20000 * 0.024964) = 0.100144 -> OKS = exp(-e) = 0.904707
    gt = np.array([[[50.0, 60.0, 2.0]]])
    pred = np.array([[[56.0, 68.0]]])  # (6, 8) -> d = 10
    got = oks(pred, gt, np.array([20000.0]), np.array([0.079]))
    assert got.shape == (1,)
    assert got[0] == pytest.approx(math.exp(-100.0 / (2 * 20000 * (2 * 0.079) ** 2)), rel=1e-12)
    assert got[0] == pytest.approx(0.904707, abs=1e-6)


def test_perfect_prediction_is_one_and_confidence_column_ignored():
    gt = np.array([[[1.0, 2.0, 1.0], [3.0, 4.0, 2.0]]])
    pred = gt.copy()
    pred[..., 2] = 0.123
    assert oks(pred, gt, np.array([50.0]), np.array([0.05, 0.07]))[0] == 1.0


def test_only_labeled_joints_count():
    # 3 labeled joints: two exact, one off by d = 5 (A = 400, sigma = 0.1 -> e = 25 / (800 * 0.04) = 0.78125);
    # 2 unlabeled joints predicted absurdly far away must not matter.
    gt = np.zeros((1, 5, 3))
    gt[0, :3] = [[10, 10, 2], [20, 20, 1], [30, 30, 2]]
    pred = gt[..., :2].copy()
    pred[0, 2] += [3.0, 4.0]
    pred[0, 3:] = 1e6
    got = oks(pred, gt, np.array([400.0]), np.full(5, 0.1))
    assert got[0] == pytest.approx((2 + math.exp(-0.78125)) / 3, rel=1e-12)


def test_vectorised_over_samples_with_own_areas():
    gt = np.array([[[0.0, 0.0, 1.0]], [[0.0, 0.0, 1.0]]])
    pred = np.array([[[2.0, 0.0]], [[2.0, 0.0]]])
    got = oks(pred, gt, np.array([100.0, 400.0]), np.array([0.1]))
    # e = 4 / (2 * A * 0.04): A = 100 -> 0.5, A = 400 -> 0.125
    np.testing.assert_allclose(got, [math.exp(-0.5), math.exp(-0.125)], rtol=1e-12)


def test_matches_pycocotools_compute_oks():
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    rng = np.random.default_rng(3)
    n, k = 6, 17
    gt = np.concatenate([rng.uniform(0, 300, (n, k, 2)), rng.integers(0, 3, (n, k, 1)).astype(float)], axis=2)
    gt[:, 0, 2] = 2  # at least one labeled joint each
    pred = gt[..., :2] + rng.normal(0, 6, (n, k, 2))
    areas = rng.uniform(500, 5000, n)
    sigmas = COCO17.sigma_array
    ours = oks(pred, gt, areas, sigmas)

    def coco(anns):
        c = COCO()
        c.dataset = {"images": [{"id": i + 1} for i in range(n)], "categories": [{"id": 1, "name": "p"}],
                     "annotations": anns}
        c.createIndex()
        return c
    common = [{"id": i + 1, "image_id": i + 1, "category_id": 1, "iscrowd": 0, "area": float(areas[i]),
               "bbox": [0, 0, 1, 1]} for i in range(n)]
    gts = coco([dict(c, keypoints=gt[i].ravel().tolist(), num_keypoints=int((gt[i, :, 2] > 0).sum()))
                for i, c in enumerate(common)])
    dts = coco([dict(c, keypoints=np.c_[pred[i], np.ones(k)].ravel().tolist(), score=1.0)
                for i, c in enumerate(common)])
    ev = COCOeval(gts, dts, iouType="keypoints")
    ev.params.kpt_oks_sigmas = sigmas
    ev._prepare()
    stock = np.array([ev.computeOks(i + 1, 1)[0, 0] for i in range(n)])
    np.testing.assert_allclose(ours, stock, rtol=1e-12)


def test_no_labeled_joint_raises_naming_the_sample():
    gt = np.zeros((3, 2, 3))
    gt[[0, 2], 0, 2] = 2
    with pytest.raises(ValueError, match=r"samples 1 has no labeled joint"):
        oks(gt, gt, np.ones(3), np.full(2, 0.05))


@pytest.mark.parametrize("bad", [0.0, -4.0, np.nan])
def test_non_positive_area_raises_naming_the_sample(bad):
    gt = np.ones((3, 1, 3))
    with pytest.raises(ValueError, match=r"samples 2 have"):
        oks(gt, gt, np.array([1.0, 1.0, bad]), np.array([0.05]))


def test_shape_mismatch_raises():
    gt = np.ones((2, 3, 3))
    with pytest.raises(ValueError, match="predicted keypoints"):
        oks(np.ones((2, 4, 2)), gt, np.ones(2), np.full(3, 0.05))
    with pytest.raises(ValueError, match="sigmas"):
        oks(gt, gt, np.ones(2), np.full(4, 0.05))


def _single_sample_video(keypoint_set: KeypointSet, gt: np.ndarray, box: list[float]) -> Video:
    return Video(name="v", keypoint_set=keypoint_set, frames=[Frame(None, 0)], frame_index=[0], track_id=[0],
                 boxes=[box], keypoints=gt[None], annotation_ids=[0])


def test_oks_video_uses_jrdb_sigmas_for_a_jrdb_video():
    # All 17 joints labeled, only slot 0 off by d = 10 px, box area 100 * 200 = 20000.
    # Slot 0 is JRDB 'head' with sigma 0.079; COCO's slot 0 (nose) has sigma 0.026.
    gt = np.concatenate([np.arange(34, dtype=float).reshape(17, 2) * 5, np.full((17, 1), 2.0)], axis=1)
    pred = gt.copy()
    pred[0, 0] += 10.0
    video = _single_sample_video(JRDB, gt, [0, 0, 100, 200])
    jrdb_expected = (16 + math.exp(-100 / (2 * 20000 * (2 * 0.079) ** 2))) / 17  # = 0.99439
    coco_expected = (16 + math.exp(-100 / (2 * 20000 * (2 * 0.026) ** 2))) / 17  # = 0.96451
    got = oks_video(video, Predictions(pred[None], np.ones(1)))
    assert got[0] == pytest.approx(jrdb_expected, rel=1e-12)
    assert oks(pred[None], gt[None], np.array([20000.0]), COCO17.sigma_array)[0] == pytest.approx(coco_expected)
    assert abs(jrdb_expected - coco_expected) > 0.02


def test_the_oks_area_is_the_box_clipped_to_the_image_as_published():
    from vatl.metrics.oks import clipped_box_areas

    boxes = np.array([[-20.0, 10.0, 60.0, 100.0], [10.0, 10.0, 20.0, 20.0], [150.0, 0.0, 10.0, 10.0]])
    # (-20..40) x (10..110) in a 100 x 100 image -> 40 x 90; inside -> as read; wholly outside -> as read
    np.testing.assert_allclose(clipped_box_areas(boxes, [100, 100, 100], [100, 100, 100]), [3600.0, 400.0, 100.0])
    np.testing.assert_allclose(clipped_box_areas(boxes, [0, 0, 0], [0, 0, 0]), [6000.0, 400.0, 100.0])
    # a person at the frame edge: one joint 10 px off, sigma 0.079:
    # OKS = exp(-d² / (2 A (2σ)²)) with A = 3600, not the 6000 of the box as read
    gt = np.zeros((1, 17, 3))
    gt[0, 5] = [20.0, 50.0, 2.0]
    pred = gt.copy()
    pred[0, 5, 0] += 10.0
    video = Video(name="edge", keypoint_set=COCO17, frames=[Frame(None, 0, width=100, height=100)],
                  frame_index=[0], track_id=[0], boxes=boxes[:1], keypoints=gt, annotation_ids=[0])
    expected = math.exp(-100.0 / (2 * 3600.0 * (2 * 0.079) ** 2))
    assert oks_video(video, pred)[0] == pytest.approx(expected, rel=1e-9)
    assert oks_video(video, pred)[0] < math.exp(-100.0 / (2 * 6000.0 * (2 * 0.079) ** 2))


def test_frame_sizes_unknown_to_the_annotation_are_read_from_the_image(tmp_path):
    import cv2

    cv2.imwrite(str(tmp_path / "f.jpg"), np.zeros((100, 100, 3), np.uint8))
    frame = Frame(tmp_path / "f.jpg", 0)
    gt = np.zeros((1, 17, 3))
    gt[0, 5] = [20.0, 50.0, 2.0]
    video = Video(name="edge", keypoint_set=COCO17, frames=[frame], frame_index=[0], track_id=[0],
                  boxes=[[-20.0, 10.0, 60.0, 100.0]], keypoints=gt, annotation_ids=[0])
    np.testing.assert_allclose(video.oks_areas(), [3600.0])
    assert (frame.width, frame.height) == (100, 100)
    missing = Frame(tmp_path / "none.jpg", 1)
    assert missing.size() == (0, 0)


def test_correct_percent_counts_poses_above_theta():
    from vatl.metrics import correct_percent

    gt = np.zeros((4, 17, 3))
    gt[:, 5] = [50.0, 50.0, 2.0]
    boxes = np.tile([0.0, 0.0, 100.0, 100.0], (4, 1))
    video = Video(name="v", keypoint_set=COCO17, frames=[Frame(None, 0)], frame_index=np.zeros(4),
                  track_id=np.arange(4), boxes=boxes, keypoints=gt, annotation_ids=np.arange(4))
    pred = gt.copy()
    # one joint off by d: OKS = exp(-d² / (2 · 10^4 · (2 · 0.079)²)); d = 10 -> 0.82, d = 20 -> 0.45
    pred[1, 5, 0] += 10.0
    pred[2, 5, 0] += 20.0
    pred[3, 5, 0] += 40.0
    assert correct_percent(video, pred, 0.6) == 50.0  # samples 0 and 1
    assert correct_percent(video, pred, 0.4) == 75.0


def test_oks_video_area_is_configurable():
    gt = np.array([[0.0, 0.0, 2.0]])
    video = _single_sample_video(_one_joint_set(0.1), gt, [0, 0, 10, 10])
    pred = np.array([[[2.0, 0.0]]])
    # box area 100: e = 4 / (2 * 100 * 0.04) = 0.5; caller's area 50 (scale 0.5): e = 1.0
    assert oks_video(video, pred)[0] == pytest.approx(math.exp(-0.5))
    assert oks_video(video, pred, areas=box_areas(video.boxes, scale=0.5))[0] == pytest.approx(math.exp(-1.0))
