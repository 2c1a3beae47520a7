"""COCO keypoint AP through pycocotools: hand-computed precision-recall curves.

COCOeval's AP at one OKS threshold is the mean over the 101 recall points r = 0, 0.01, …, 1 of the
interpolated precision p(r) = max precision at any recall >= r (0 when recall r is never reached).
"""

import json
import math
from pathlib import Path

import numpy as np
import pytest

from vatl.data.annotations import LabelStore, Predictions
from vatl.data.video import Frame, Video
from vatl.metrics import AP_KEYS, OKS_THRESHOLDS, box_areas, evaluate_video, keypoint_ap
from vatl.skeletons import POSETRACK21

SIGMAS = POSETRACK21.sigma_array
K = POSETRACK21.num_keypoints
LABELED = POSETRACK21.annotated_slots  # ears (3, 4) never labeled
THRESHOLD_KEYS = AP_KEYS[:-1]

# Hand-computed curves, 4 ground truths, predictions ranked by score:
# TP, FP, TP, FP -> recall .25 .25 .5 .5, precision 1 .5 2/3 .5; p(r) = 1 for r <= .25 (26 points),
# 2/3 for .25 < r <= .5 (25 points), 0 above -> AP = (26 + 25 * 2/3) / 101.
AP_TP_FP_TP_FP = 100 * (26 + 25 * 2 / 3) / 101  # 42.244 %
# TP, TP, TP, FP -> recall .25 .5 .75 .75, precision 1 1 1 .75; p(r) = 1 for r <= .75 (76 points).
AP_TP_TP_TP_FP = 100 * 76 / 101  # 75.248 %


def person(cx: float, cy: float) -> tuple[np.ndarray, np.ndarray]:
    """(K, 3) ground truth spread over a 100 x 200 box centred at (cx, cy), and that box xywh."""
    offsets = np.stack([np.linspace(-40, 40, K), np.linspace(-90, 90, K)], axis=1)
    kp = np.concatenate([offsets + [cx, cy], np.where(LABELED, 2.0, 0.0)[:, None]], axis=1)
    return kp, np.array([cx - 50, cy - 100, 100, 200.0])


def at_oks(gt: np.ndarray, value: float, area: float = 20000.0) -> np.ndarray:
    """gt with every joint moved by d_k = sqrt(2 A (2 sigma_k)^2 ln(1/value)) in x: OKS exactly ``value``."""
    pred = gt.copy()
    pred[:, 0] += np.sqrt(2 * area * (2 * SIGMAS) ** 2 * math.log(1 / value))
    return pred


def far_off(gt: np.ndarray) -> np.ndarray:
    pred = gt.copy()
    pred[:, :2] += 5000.0
    return pred


def scene(second_pred: str = "far", shift=(0.0, 0.0)):
    """4 people in 2 frames, two per frame 500 px apart.

    Predictions by score: A exact (0.9), C ``second_pred`` (0.8), B exact (0.7), D far off (0.6).
    Returns gt keypoints, boxes, frame index, predicted keypoints, scores.
    """
    (a, box_a), (b, box_b) = person(100, 150), person(600, 150)
    (c, box_c), (d, box_d) = person(100, 150), person(600, 150)
    gt = np.stack([a, b, c, d])
    boxes = np.stack([box_a, box_b, box_c, box_d])
    frame = np.array([0, 0, 1, 1])
    pred_c = far_off(c) if second_pred == "far" else at_oks(c, float(second_pred))
    pred = np.stack([a, b, pred_c, far_off(d)])
    scores = np.array([0.9, 0.7, 0.8, 0.6])
    gt[..., :2] += shift
    pred[..., :2] += shift
    boxes[:, :2] += shift
    return gt, boxes, frame, pred, scores


def assert_all_thresholds(result: dict, expected: float) -> None:
    for key in THRESHOLD_KEYS:
        assert result[key] == pytest.approx(expected, abs=1e-9), key
    assert result["AP"] == pytest.approx(expected, abs=1e-9)


def test_keys_are_the_ten_coco_thresholds_and_the_mean():
    assert AP_KEYS == ("AP@0.5", "AP@0.55", "AP@0.6", "AP@0.65", "AP@0.7", "AP@0.75", "AP@0.8", "AP@0.85",
                       "AP@0.9", "AP@0.95", "AP")
    np.testing.assert_allclose(OKS_THRESHOLDS, np.arange(10) * 0.05 + 0.5)
    gt, boxes, frame, pred, scores = scene()
    assert tuple(keypoint_ap(gt, boxes, frame, pred, scores, SIGMAS)) == AP_KEYS


def test_perfect_predictions_give_100():
    people = [person(100 + 300 * i, 200) for i in range(3)]
    gt = np.stack([p[0] for p in people] * 2)
    boxes = np.stack([p[1] for p in people] * 2)
    frame = np.repeat([4, 9], 3)
    result = keypoint_ap(gt, boxes, frame, gt.copy(), np.linspace(0.1, 0.9, 6), SIGMAS)
    assert_all_thresholds(result, 100.0)
    # (N, K, 2) predictions are accepted too.
    assert_all_thresholds(keypoint_ap(gt, boxes, frame, gt[..., :2], np.ones(6), SIGMAS), 100.0)


def test_two_exact_two_far_off():
    result = keypoint_ap(*scene("far"), SIGMAS)
    assert_all_thresholds(result, AP_TP_FP_TP_FP)
    assert result["AP@0.5"] == pytest.approx(42.2442, abs=1e-4)


def test_a_prediction_at_oks_072_is_correct_up_to_threshold_070_only():
    result = keypoint_ap(*scene("0.72"), SIGMAS)
    for key in ("AP@0.5", "AP@0.55", "AP@0.6", "AP@0.65", "AP@0.7"):
        assert result[key] == pytest.approx(AP_TP_TP_TP_FP, abs=1e-9), key
    for key in ("AP@0.75", "AP@0.8", "AP@0.85", "AP@0.9", "AP@0.95"):
        assert result[key] == pytest.approx(AP_TP_FP_TP_FP, abs=1e-9), key
    assert result["AP"] == pytest.approx((AP_TP_TP_TP_FP + AP_TP_FP_TP_FP) / 2, abs=1e-9)  # 58.746 %


@pytest.mark.parametrize("shift", [(3000.0, 1500.0), (-700.0, -900.0), (1e5, 2e5)])
def test_translation_elsewhere_in_the_frame_keeps_the_ap(shift):
    for second in ("far", "0.72"):
        assert keypoint_ap(*scene(second, shift), SIGMAS) == pytest.approx(keypoint_ap(*scene(second), SIGMAS))


def test_false_positive_with_a_huge_extent_is_not_ignored():
    # Stock COCO area ranges end at 1e5^2; a wild prediction spanning 2e5 x 2e5 px must still count as FP.
    gt, boxes, frame, pred, scores = scene("far")
    pred[3, :, :2] = np.linspace(0, 2e5, K)[:, None]
    assert_all_thresholds(keypoint_ap(gt, boxes, frame, pred, scores, SIGMAS), AP_TP_FP_TP_FP)


def test_area_is_configurable():
    # With areas = 0.5 * box area, the OKS 0.72 prediction drops to 0.72^(1/0.5) = 0.5184:
    # correct at 0.5 only.
    gt, boxes, frame, pred, scores = scene("0.72")
    result = keypoint_ap(gt, boxes, frame, pred, scores, SIGMAS, areas=box_areas(boxes, scale=0.5))
    assert result["AP@0.5"] == pytest.approx(AP_TP_TP_TP_FP, abs=1e-9)
    assert result["AP@0.55"] == pytest.approx(AP_TP_FP_TP_FP, abs=1e-9)


def test_unlabeled_ground_truth_is_left_out_with_its_prediction():
    gt, boxes, frame, pred, scores = scene("far")
    extra_gt, extra_box = person(1500, 150)
    extra_gt[:, 2] = 0  # no labeled joint
    gt2 = np.concatenate([gt, extra_gt[None]])
    result = keypoint_ap(gt2, np.concatenate([boxes, extra_box[None]]), np.append(frame, 0),
                         np.concatenate([pred, far_off(extra_gt)[None]]), np.append(scores, 1.0), SIGMAS)
    assert_all_thresholds(result, AP_TP_FP_TP_FP)


def test_crowded_frame_is_not_cut_at_20_detections():
    people = [person(150 * i, 150 * j) for i in range(6) for j in range(5)]  # 30 people, 1 frame
    gt = np.stack([p[0] for p in people])
    boxes = np.stack([p[1] for p in people])
    assert_all_thresholds(keypoint_ap(gt, boxes, np.zeros(30, int), gt, np.linspace(0, 1, 30), SIGMAS), 100.0)


def test_prints_of_pycocotools_are_captured(capsys):
    keypoint_ap(*scene(), SIGMAS)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


def test_errors():
    gt, boxes, frame, pred, scores = scene()
    with pytest.raises(ValueError, match="N = 0"):
        keypoint_ap(gt[:0], boxes[:0], frame[:0], pred[:0], scores[:0], SIGMAS)
    no_labels = gt.copy()
    no_labels[..., 2] = 0
    with pytest.raises(ValueError, match="none of the 4 ground-truth instances has a labeled joint"):
        keypoint_ap(no_labels, boxes, frame, pred, scores, SIGMAS)
    zero = boxes.copy()
    zero[2, 3] = 0
    with pytest.raises(ValueError, match=r"samples 2 have an OKS area"):
        keypoint_ap(gt, zero, frame, pred, scores, SIGMAS)
    with pytest.raises(ValueError, match="pred_scores"):
        keypoint_ap(gt, boxes, frame, pred, scores[:3], SIGMAS)
    nan_pred = pred.copy()
    nan_pred[1, 7, 0] = np.nan
    with pytest.raises(ValueError, match=r"samples 1 have a non-finite predicted"):
        keypoint_ap(gt, boxes, frame, nan_pred, scores, SIGMAS)


def scene_video() -> tuple[Video, Predictions]:
    gt, boxes, frame, pred, scores = scene("far")
    video = Video(name="scene", keypoint_set=POSETRACK21, frames=[Frame(None, 0), Frame(None, 1)],
                  frame_index=frame, track_id=[0, 1, 0, 1], boxes=boxes, keypoints=gt, annotation_ids=range(4))
    return video, Predictions(pred, scores)


def test_evaluate_video_without_labels():
    video, preds = scene_video()
    result = evaluate_video(video, preds)
    assert_all_thresholds(result["raw"], AP_TP_FP_TP_FP)
    assert result["with_labels"] == result["raw"]


def test_labeled_samples_count_as_correct():
    video, preds = scene_video()
    labels = LabelStore()
    labels.add(2, video.keypoints[2], cycle=1, replaced=preds.keypoints[2])  # one of the two far-off ones
    result = evaluate_video(video, preds, labels)
    assert_all_thresholds(result["raw"], AP_TP_FP_TP_FP)
    # ranked by the model's scores, which labeled samples keep: A TP, C (label, 0.8) TP, B TP, D FP
    assert_all_thresholds(result["with_labels"], AP_TP_TP_TP_FP)
    labels.add(3, video.keypoints[3], cycle=2)
    assert_all_thresholds(evaluate_video(video, preds, labels)["with_labels"], 100.0)


def test_labeled_samples_keep_the_models_score_as_the_published_evaluation():
    video, preds = scene_video()
    labels = LabelStore()
    labels.add(3, video.keypoints[3], cycle=1)  # D, the lowest-scored prediction (0.6)
    # A TP (.9), C FP (.8), B TP (.7), D label TP (.6): recall .25 .25 .5 .75, precision 1 .5 2/3 .75;
    # p(r) = 1 for r <= .25 (26 points), .75 for .25 < r <= .75 (50 points) -> (26 + 50 · .75) / 101.
    # (With a score of 1 for the label it would rank first: (51 + 25 · .75) / 101 = 69.06 %.)
    result = evaluate_video(video, preds, labels)
    assert_all_thresholds(result["with_labels"], 100 * (26 + 50 * 0.75) / 101)


def test_everything_labeled_gives_100():
    video, preds = scene_video()
    labels = LabelStore()
    for i in range(4):
        labels.add(i, video.keypoints[i], cycle=0)
    result = evaluate_video(video, preds, labels)
    assert_all_thresholds(result["with_labels"], 100.0)
    assert result["raw"]["AP"] < 50


def test_evaluate_video_errors():
    video, preds = scene_video()
    with pytest.raises(ValueError, match="predictions"):
        evaluate_video(video, Predictions(preds.keypoints[:3], preds.scores[:3]))
    with pytest.raises(ValueError, match="no samples"):
        evaluate_video(video.subset(np.array([], dtype=int)), Predictions(np.zeros((0, K, 3)), np.zeros(0)))


BONN = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "bonn_posetrack" / "posetrack_data" / "val"


def test_real_posetrack_video_ground_truth_as_prediction():
    path = BONN / "060470979.json"
    if not path.exists():
        pytest.skip(f"real data not found at {path}")
    data = json.loads(path.read_text())
    frame_of = {img["id"]: i for i, img in enumerate(data["images"])}
    anns = [a for a in data["annotations"] if any(v > 0 for v in a["keypoints"][2::3])]
    gt = np.array([a["keypoints"] for a in anns], dtype=float).reshape(-1, K, 3)
    boxes = np.array([a["bbox"] for a in anns], dtype=float)
    frame = np.array([frame_of[a["image_id"]] for a in anns])
    assert len(gt) == 164
    assert_all_thresholds(keypoint_ap(gt, boxes, frame, gt, np.ones(len(gt)), SIGMAS), 100.0)
    # Every joint shifted to OKS 0.72 -> every prediction correct up to 0.70 and wrong above.
    pred = np.stack([at_oks(g, 0.72, area=b[2] * b[3]) for g, b in zip(gt, boxes)])
    result = keypoint_ap(gt, boxes, frame, pred, np.ones(len(gt)), SIGMAS)
    assert result["AP@0.7"] == pytest.approx(100.0)
    assert result["AP@0.75"] == pytest.approx(0.0)


def test_jrdb_video_is_evaluated_with_jrdb_sigmas():
    from vatl.skeletons import JRDB

    # Predictions at OKS 0.72 under JRDB's sigmas: correct up to 0.70, wrong above. Under COCO's sigmas
    # (slot order differs) the same offsets give another OKS for most joints.
    gt, box = person(300, 300)
    gt[:, 2] = 2
    pred = gt.copy()
    pred[:, 0] += np.sqrt(2 * 20000 * (2 * JRDB.sigma_array) ** 2 * math.log(1 / 0.72))
    video = Video(name="jrdb", keypoint_set=JRDB, frames=[Frame(None, 0)], frame_index=[0], track_id=[0],
                  boxes=box[None], keypoints=gt[None], annotation_ids=[0])
    raw = evaluate_video(video, Predictions(pred[None], np.ones(1)))["raw"]
    assert raw["AP@0.7"] == pytest.approx(100.0)
    assert raw["AP@0.75"] == pytest.approx(0.0)
