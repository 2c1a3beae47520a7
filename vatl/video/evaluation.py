"""Evaluating a clip's detected people against a ground-truth video of the same frames (benchmarks).

A clip's video (:mod:`vatl.video.ingest`) has no ground truth in its samples; the ground truth is a
separate :class:`~vatl.data.video.Video` (e.g. the PoseTrack annotation of the same frames). Here:

* :func:`match_detections`: each detected sample -> the ground-truth sample of its frame it matches
  (box IoU >= ``min_iou``, one-to-one per frame, by maximum total IoU) or -1;
* :func:`detection_counts`: true / false positives and misses at that IoU (recall, precision);
* :class:`MatchedOracle`: a simulated annotator for detected samples: the matched person's ground-truth
  pose, ``"reject"`` for a detection matching nobody;
* :func:`detected_keypoint_ap`: COCO keypoint AP when predictions and ground truths are not paired:
  every prediction of a frame competes for that frame's ground truths (COCOeval's own matching, by score),
  unmatched predictions are false positives and unmatched ground truths misses, with the settings of
  :func:`vatl.metrics.ap.keypoint_ap` (the keypoint set's sigmas, one area range, no size limit);
* :class:`ClipEvaluator`: AP of a detected video's predictions, raw and with the labels so far counted
  correct and rejected samples removed (what :meth:`ATLSession.query` returns, cycle by cycle).
"""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.optimize import linear_sum_assignment

from vatl.data.annotations import LabelStore, Predictions
from vatl.data.boxes import box_iou
from vatl.data.video import Video
from vatl.metrics.ap import AP_KEYS, OKS_THRESHOLDS, ap_key


def xyxy(boxes: np.ndarray) -> np.ndarray:
    b = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    return np.concatenate([b[:, :2], b[:, :2] + b[:, 2:]], axis=1)


def match_boxes(detected: np.ndarray, truth: np.ndarray, min_iou: float = 0.5) -> np.ndarray:
    """(M,) index into ``truth`` (G, 4) of each ``detected`` (M, 4) box (both xywh), or -1: one-to-one, the
    assignment of maximum total IoU among pairs with IoU >= ``min_iou``."""
    out = np.full(len(detected), -1, dtype=np.int64)
    if not len(detected) or not len(truth):
        return out
    iou = box_iou(xyxy(detected), xyxy(truth))
    rows, cols = linear_sum_assignment(np.where(iou >= min_iou, iou, 0.0), maximize=True)
    ok = iou[rows, cols] >= min_iou
    out[rows[ok]] = cols[ok]
    return out


def match_detections(detected: Video, truth: Video, min_iou: float = 0.5) -> np.ndarray:
    """(N,) ground-truth sample index per detected sample, or -1 (see :func:`match_boxes`), frame by frame.
    Both videos must have the same frames (the same count, in the same order)."""
    if len(detected.frames) != len(truth.frames):
        raise ValueError(f"detected video {detected.name!r} has {len(detected.frames)} frames, the ground truth "
                         f"{truth.name!r} {len(truth.frames)}")
    out = np.full(detected.num_samples, -1, dtype=np.int64)
    for f in np.unique(detected.frame_index):
        d = np.flatnonzero(detected.frame_index == f)
        g = np.flatnonzero(truth.frame_index == f)
        m = match_boxes(detected.boxes[d], truth.boxes[g], min_iou)
        out[d[m >= 0]] = g[m[m >= 0]]
    return out


@dataclass
class DetectionCounts:
    true_positives: int
    false_positives: int
    misses: int

    @property
    def recall(self) -> float:
        total = self.true_positives + self.misses
        return self.true_positives / total if total else 0.0

    @property
    def precision(self) -> float:
        total = self.true_positives + self.false_positives
        return self.true_positives / total if total else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"true_positives": self.true_positives, "false_positives": self.false_positives,
                "misses": self.misses, "recall": self.recall, "precision": self.precision}


def detection_counts(matches: np.ndarray, num_truth: int) -> DetectionCounts:
    """Counts from :func:`match_detections`' result and the number of ground-truth samples."""
    tp = int((matches >= 0).sum())
    return DetectionCounts(tp, int((matches < 0).sum()), int(num_truth) - tp)


class MatchedOracle:
    """Answers a detected sample with the ground-truth pose of the person it matches (IoU >= ``min_iou``,
    one-to-one per frame) and rejects a detection that matches nobody; a matched person whose ground truth
    has no labeled joint is skipped (nothing to label)."""

    def __init__(self, detected: Video, truth: Video, min_iou: float = 0.5) -> None:
        if detected.keypoint_set.keypoints != truth.keypoint_set.keypoints:
            raise ValueError(f"the detected video uses {detected.keypoint_set.name!r} keypoints, the ground truth "
                             f"{truth.keypoint_set.name!r}")
        self.truth = truth
        self.matches = match_detections(detected, truth, min_iou)

    def answer(self, indices: np.ndarray, predictions: np.ndarray) -> dict[int, Any]:
        answers: dict[int, Any] = {}
        for i in np.asarray(indices, dtype=np.int64).tolist():
            g = int(self.matches[i])
            if g < 0:
                answers[i] = "reject"
            elif self.truth.visible[g].any():
                answers[i] = self.truth.keypoints[g].copy()
            else:
                answers[i] = "skip"
        return answers


def detected_keypoint_ap(truth: Video, pred_frames: np.ndarray, pred_keypoints: np.ndarray,
                         pred_scores: np.ndarray, areas: np.ndarray | None = None) -> dict[str, float]:
    """COCO keypoint AP (%) at OKS 0.50…0.95 and their mean ("AP") of unpaired predictions.

    truth: the ground-truth video (its samples with a labeled joint are the ground truths; OKS areas
    :meth:`Video.oks_areas` unless ``areas`` (G,)); pred_frames (P,), pred_keypoints (P, K, 3) and
    pred_scores (P,): the predictions and the frames they are in.
    """
    from pycocotools.cocoeval import COCOeval

    k = truth.keypoint_set.num_keypoints
    pred_kp = np.asarray(pred_keypoints, dtype=np.float64).reshape(-1, k, 3)
    pred_frames = np.asarray(pred_frames, dtype=np.int64).reshape(-1)
    pred_scores = np.asarray(pred_scores, dtype=np.float64).reshape(-1)
    if not (len(pred_kp) == len(pred_frames) == len(pred_scores)):
        raise ValueError(f"{len(pred_kp)} predictions, {len(pred_frames)} frames and {len(pred_scores)} scores")
    if not (np.isfinite(pred_kp).all() and np.isfinite(pred_scores).all()):
        raise ValueError("predictions contain a non-finite value")
    gt_areas = truth.oks_areas() if areas is None else np.asarray(areas, dtype=np.float64)
    has_gt = truth.visible.any(axis=1)
    if not has_gt.any():
        raise ValueError(f"video {truth.name!r} has no labeled ground truth: AP is undefined")
    images = [{"id": f + 1} for f in range(len(truth.frames))]
    categories = [{"id": 1, "name": "person", "keypoints": [str(i) for i in range(k)], "skeleton": []}]
    gt_anns = [{"id": n + 1, "image_id": int(truth.frame_index[i]) + 1, "category_id": 1, "iscrowd": 0,
                "keypoints": truth.keypoints[i].reshape(-1).tolist(), "area": float(gt_areas[i]),
                "bbox": truth.boxes[i].tolist(), "num_keypoints": int(truth.visible[i].sum())}
               for n, i in enumerate(np.flatnonzero(has_gt))]
    dt_anns = [{"id": j + 1, "image_id": int(pred_frames[j]) + 1, "category_id": 1, "keypoints":
                pred_kp[j].reshape(-1).tolist(), "score": float(pred_scores[j]), "area": 1.0,
                "bbox": [0.0, 0.0, 1.0, 1.0]} for j in range(len(pred_kp))]
    coco_gt = _coco_index({"images": images, "categories": categories, "annotations": gt_anns})
    coco_dt = _coco_index({"images": images, "categories": categories, "annotations": dt_anns})
    evaluator = COCOeval(coco_gt, coco_dt, iouType="keypoints")
    params = evaluator.params
    params.kpt_oks_sigmas = truth.keypoint_set.sigma_array
    per_frame = np.bincount(pred_frames, minlength=len(truth.frames)) if len(pred_frames) else np.zeros(1, int)
    params.maxDets = [max(1, int(per_frame.max()))]
    params.areaRng = [[0.0, float("inf")]]
    params.areaRngLbl = ["all"]
    with contextlib.redirect_stdout(io.StringIO()):
        evaluator.evaluate()
        evaluator.accumulate()
    precision = evaluator.eval["precision"][:, :, 0, 0, -1]  # (T, R); -1 where a recall level is never reached
    result = {ap_key(t): 100.0 * float(np.clip(precision[i], 0, None).mean()) for i, t in enumerate(OKS_THRESHOLDS)}
    result["AP"] = float(np.mean([result[ap_key(t)] for t in OKS_THRESHOLDS]))
    return result


def _coco_index(dataset: dict) -> Any:
    """A pycocotools ``COCO`` object over an in-memory dataset (its prints captured)."""
    from pycocotools.coco import COCO

    coco = COCO()
    coco.dataset = dataset
    with contextlib.redirect_stdout(io.StringIO()):
        coco.createIndex()
    return coco


class ClipEvaluator:
    """AP of the predictions of a detected video's samples against a separate ground truth.

    ``evaluate(keypoints, labels, rejected)``: keypoints (N, K, 3) of every detected sample (e.g.
    ``session.query().keypoints``); rejected samples are left out; "with_labels" replaces labeled samples'
    predictions by their labels (:meth:`LabelStore.merged_with`). Returns ``{"raw": {...}, "with_labels":
    {...}}`` with the keys of :data:`vatl.metrics.AP_KEYS`.
    """

    def __init__(self, detected: Video, truth: Video) -> None:
        if len(detected.frames) != len(truth.frames):
            raise ValueError(f"{detected.name!r} has {len(detected.frames)} frames, the ground truth "
                             f"{len(truth.frames)}")
        self.detected, self.truth = detected, truth

    def ap(self, keypoints: np.ndarray, scores: np.ndarray, rejected: Any = ()) -> dict[str, float]:
        keep = np.setdiff1d(np.arange(self.detected.num_samples), np.asarray(list(rejected), dtype=np.int64))
        return detected_keypoint_ap(self.truth, self.detected.frame_index[keep], keypoints[keep], scores[keep])

    def evaluate(self, keypoints: np.ndarray, labels: LabelStore | None = None, rejected: Any = ()
                 ) -> dict[str, dict[str, float]]:
        predictions = Predictions.from_keypoints(keypoints)
        raw = self.ap(predictions.keypoints, predictions.scores, rejected)
        if labels is None or not len(labels):
            return {"raw": raw, "with_labels": dict(raw)}
        merged = labels.merged_with(predictions)
        return {"raw": raw, "with_labels": self.ap(merged.keypoints, merged.scores, rejected)}


__all__ = ["AP_KEYS", "ClipEvaluator", "DetectionCounts", "MatchedOracle", "detected_keypoint_ap", "detection_counts",
           "match_boxes", "match_detections"]
