"""Evaluating detected people against a separate ground truth: one-to-one box matching, the matched
simulated annotator, COCO-style AP with unpaired predictions (false positives count, misses count)."""

import numpy as np
import pytest

from vatl.data.annotations import LabelStore
from vatl.metrics.ap import keypoint_ap
from vatl.video.evaluation import (
    ClipEvaluator,
    MatchedOracle,
    detected_keypoint_ap,
    detection_counts,
    match_boxes,
    match_detections,
)


def test_match_boxes_is_one_to_one_at_the_iou_threshold():
    truth = np.array([[0, 0, 10, 20], [30, 0, 10, 20]], dtype=float)
    detected = np.array([[1, 0, 10, 20], [0, 1, 10, 20], [30, 0, 10, 4], [31, 1, 10, 20]], dtype=float)
    m = match_boxes(detected, truth)
    assert sorted(m[:2].tolist()) == [-1, 0]  # two boxes on person 0: one matches, the other is a duplicate
    assert m[2] == -1 and m[3] == 1  # IoU 0.2 is no match
    assert match_boxes(detected, np.zeros((0, 4))).tolist() == [-1] * 4


def detected_copy(video, drop=(), duplicate=()):
    """A 'detected' video: the ground-truth video's boxes (some dropped, some duplicated and shifted),
    keypoints zero."""
    keep = np.setdiff1d(np.arange(video.num_samples), drop)
    extra = np.asarray(duplicate, dtype=np.int64)
    idx = np.concatenate([keep, extra])
    det = video.subset(idx)
    det.boxes = det.boxes.copy()
    det.boxes[len(keep):, 0] += det.boxes[len(keep):, 2] * 2  # far off: a false detection
    det.keypoints = np.zeros_like(det.keypoints)
    det.annotation_ids = np.arange(1, len(idx) + 1)
    return det, keep


def test_matched_oracle_answers_with_the_matched_pose_and_rejects_false_detections(tiny_video):
    det, keep = detected_copy(tiny_video, drop=[0, 1], duplicate=[5])
    matches = match_detections(det, tiny_video)
    assert np.array_equal(matches[:len(keep)], keep) and matches[-1] == -1
    counts = detection_counts(matches, tiny_video.num_samples)
    assert (counts.true_positives, counts.false_positives, counts.misses) == (len(keep), 1, 2)
    answers = MatchedOracle(det, tiny_video).answer(np.array([0, det.num_samples - 1]), None)
    assert np.array_equal(answers[0], tiny_video.keypoints[keep[0]]) and answers[det.num_samples - 1] == "reject"


def test_unpaired_ap_equals_paired_ap_and_counts_false_positives_and_misses(tiny_video):
    v = tiny_video
    rng = np.random.default_rng(0)
    pred = v.keypoints.copy()
    pred[..., :2] += rng.normal(0, 2, pred[..., :2].shape)
    scores = rng.uniform(0, 1, v.num_samples)
    paired = keypoint_ap(v.keypoints, v.boxes, v.frame_index, pred, scores, v.keypoint_set.sigma_array, v.oks_areas())
    unpaired = detected_keypoint_ap(v, v.frame_index, pred, scores)
    assert unpaired == pytest.approx(paired)
    with_fp = detected_keypoint_ap(v, np.r_[v.frame_index, v.frame_index[:5]],
                                   np.concatenate([pred, pred[:5] + [40, 0, 0]]), np.r_[scores, np.ones(5)])
    assert with_fp["AP@0.6"] < unpaired["AP@0.6"]
    missing = detected_keypoint_ap(v, v.frame_index[5:], pred[5:], scores[5:])
    assert missing["AP@0.6"] < unpaired["AP@0.6"]


def test_clip_evaluator_counts_labels_correct_and_leaves_rejected_out(tiny_video):
    det, keep = detected_copy(tiny_video, duplicate=[3, 4])
    rng = np.random.default_rng(1)
    kp = np.zeros_like(det.keypoints)
    kp[:len(keep)] = tiny_video.keypoints[keep]
    kp[..., :2] += rng.normal(0, 6, kp[..., :2].shape)
    kp[..., 2] = 0.8
    kp[len(keep):, :, 2] = 0.95  # the false detections rank first
    evaluator = ClipEvaluator(det, tiny_video)
    base = evaluator.evaluate(kp)
    assert base["raw"] == base["with_labels"]
    labels = LabelStore()
    for i in range(10):
        labels.add(i, tiny_video.keypoints[keep[i]], cycle=0)
    better = evaluator.evaluate(kp, labels)
    assert better["with_labels"]["AP"] > base["raw"]["AP"] and better["raw"] == base["raw"]
    cleaned = evaluator.evaluate(kp, None, rejected={det.num_samples - 1, det.num_samples - 2})
    assert cleaned["raw"]["AP"] > base["raw"]["AP"]
