"""COCO keypoint AP at OKS 0.50, 0.55, …, 0.95 through stock pycocotools ``COCOeval``.

Each ground-truth instance (sample) has exactly one prediction, placed in the same image (frame);
COCOeval then matches predictions to ground truths per frame greedily by score, as it always does.
The COCO objects are built in memory (no JSON files) and pycocotools' prints are captured.

Choices that differ from COCOeval's keypoint defaults, and why:
    * ``kpt_oks_sigmas`` = the keypoint set's sigmas (COCO's are only right for COCO's order).
    * ``areaRng`` = one range ``[0, inf]`` labelled 'all': no prediction is ever ignored because of its
      size or where it lies (the published code's modified pycocotools did that).
    * ``maxDets`` = the most crowded frame's instance count, so no prediction is dropped.
    * gt areas = the configured OKS area (box w·h by default); prediction areas = the same value (the
      area of a prediction only matters for area-range ignoring, which ``[0, inf]`` never does).
Samples whose ground truth has no labeled joint are left out, together with their prediction (COCOeval
would ignore such a ground truth anyway, ``num_keypoints == 0``; leaving the pair out makes it explicit).
"""

from __future__ import annotations

import contextlib
import io
from typing import TYPE_CHECKING

import numpy as np

from vatl.metrics.oks import box_areas, indices_text

if TYPE_CHECKING:
    from vatl.data.annotations import LabelStore, Predictions
    from vatl.data.video import Video

# As COCOeval builds them (linspace, not arange, so 0.6 is the same float pycocotools compares with).
OKS_THRESHOLDS: np.ndarray = np.linspace(0.5, 0.95, int(np.round((0.95 - 0.5) / 0.05)) + 1, endpoint=True)


def ap_key(threshold: float) -> str:
    """The result key of one OKS threshold: 0.5 -> 'AP@0.5', 0.55 -> 'AP@0.55'."""
    return f"AP@{round(float(threshold), 2):g}"


AP_KEYS: tuple[str, ...] = tuple(ap_key(t) for t in OKS_THRESHOLDS) + ("AP",)

_CATEGORY_ID = 1


def _validate(gt: np.ndarray, boxes: np.ndarray, frames: np.ndarray, pred: np.ndarray, scores: np.ndarray,
              sigmas: np.ndarray, areas: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """Shape and value checks; returns the (N,) mask of evaluated samples and the (N,) OKS areas."""
    n = len(gt)
    if n == 0:
        raise ValueError("keypoint AP needs at least one ground-truth instance; got N = 0 samples")
    if gt.ndim != 3 or gt.shape[2] != 3:
        raise ValueError(f"gt_keypoints must be (N, K, 3), got shape {gt.shape}")
    k = gt.shape[1]
    if boxes.shape != (n, 4):
        raise ValueError(f"gt_boxes must have shape {(n, 4)} for N={n}; got {boxes.shape}")
    areas = box_areas(boxes) if areas is None else np.asarray(areas, dtype=np.float64)
    expected = {"frame_index": (frames, (n,)), "pred_scores": (scores, (n,)), "sigmas": (sigmas, (k,)),
                "areas": (areas, (n,))}
    for name, (arr, shape) in expected.items():
        if arr.shape != shape:
            raise ValueError(f"{name} must have shape {shape} for N={n}, K={k}; got {arr.shape}")
    if pred.ndim != 3 or pred.shape[:2] != (n, k) or pred.shape[2] not in (2, 3):
        raise ValueError(f"pred_keypoints must be ({n}, {k}, 2 or 3) like gt_keypoints, got {pred.shape}")
    if not np.all(sigmas > 0):
        raise ValueError(f"sigmas must be > 0; slots {indices_text(~(sigmas > 0))} are not")
    labeled = gt[..., 2] > 0
    keep = labeled.any(axis=1)
    if not keep.any():
        raise ValueError(f"keypoint AP undefined: none of the {n} ground-truth instances has a labeled joint")
    checks = (
        (keep & ~(np.isfinite(areas) & (areas > 0)), "have an OKS area that is not a finite value > 0"),
        (keep & ~np.isfinite(scores), "have a non-finite prediction score"),
        ((labeled & ~np.isfinite(gt[..., :2]).all(axis=2)).any(axis=1), "have a labeled ground-truth joint "
                                                                          "with a non-finite coordinate"),
        ((labeled & ~np.isfinite(pred[..., :2]).all(axis=2)).any(axis=1), "have a non-finite predicted "
                                                                            "coordinate on a labeled joint"),
    )
    for bad, what in checks:
        if bad.any():
            raise ValueError(f"samples {indices_text(bad)} {what}")
    return keep, areas


def _coco(dataset: dict):
    from pycocotools.coco import COCO

    coco = COCO()
    coco.dataset = dataset
    with contextlib.redirect_stdout(io.StringIO()):
        coco.createIndex()
    return coco


def _annotations(image_ids: np.ndarray, keypoints: np.ndarray, areas: np.ndarray, boxes: np.ndarray,
                 extra: dict[str, np.ndarray]) -> list[dict]:
    """COCO annotation dicts with ids 1..M (0 means 'unmatched' inside COCOeval)."""
    flat = keypoints.reshape(len(keypoints), -1).tolist()
    cols = {"image_id": image_ids.tolist(), "area": areas.tolist(), "bbox": boxes.tolist(),
            **{name: values.tolist() for name, values in extra.items()}}
    return [{"id": i + 1, "category_id": _CATEGORY_ID, "iscrowd": 0, "keypoints": flat[i],
             **{name: values[i] for name, values in cols.items()}} for i in range(len(flat))]


def keypoint_ap(gt_keypoints: np.ndarray, gt_boxes: np.ndarray, frame_index: np.ndarray,
                pred_keypoints: np.ndarray, pred_scores: np.ndarray, sigmas: np.ndarray,
                areas: np.ndarray | None = None) -> dict[str, float]:
    """COCO keypoint AP (%) at OKS 0.50…0.95 with one prediction per ground-truth instance.

    Args:
        gt_keypoints: (N, K, 3) x, y, v ground truth (v > 0: labeled).
        gt_boxes: (N, 4) ground-truth boxes xywh (the default OKS area is w·h).
        frame_index: (N,) frame of each instance (its COCO image).
        pred_keypoints: (N, K, 2|3) prediction i for ground truth i.
        pred_scores: (N,) prediction scores (rank predictions in the precision–recall curve).
        sigmas: (K,) the keypoint set's OKS sigmas.
        areas: (N,) OKS areas; default ``box_areas(gt_boxes)``.
    Returns:
        {"AP@0.5": …, "AP@0.55": …, …, "AP@0.95": …, "AP": mean of the ten}, each in percent (0–100).
        AP at a threshold is the mean of COCOeval's 101-point interpolated precision.
    Raises:
        ValueError: N = 0, no labeled ground truth at all, mismatched shapes, a non-positive area or a
        non-finite value, naming the samples.
    """
    from pycocotools.cocoeval import COCOeval

    gt = np.asarray(gt_keypoints, dtype=np.float64)
    boxes = np.asarray(gt_boxes, dtype=np.float64)
    frames = np.asarray(frame_index)
    pred = np.asarray(pred_keypoints, dtype=np.float64)
    scores = np.asarray(pred_scores, dtype=np.float64)
    sigmas = np.asarray(sigmas, dtype=np.float64)
    keep, areas = _validate(gt, boxes, frames, pred, scores, sigmas, areas)

    gt, boxes, frames, pred, scores, areas = (a[keep] for a in (gt, boxes, frames, pred, scores, areas))
    if pred.shape[2] == 2:
        pred = np.concatenate([pred, np.ones(pred.shape[:2] + (1,))], axis=2)
    frame_ids, image_ids = np.unique(frames, return_inverse=True)
    image_ids = image_ids.reshape(-1).astype(np.int64) + 1
    max_per_frame = int(np.bincount(image_ids).max())

    images = [{"id": int(i)} for i in range(1, len(frame_ids) + 1)]
    categories = [{"id": _CATEGORY_ID, "name": "person", "keypoints": [str(i) for i in range(gt.shape[1])],
                   "skeleton": []}]
    num_labeled = (gt[..., 2] > 0).sum(axis=1)
    gt_anns = _annotations(image_ids, gt, areas, boxes, {"num_keypoints": num_labeled})
    dt_anns = _annotations(image_ids, pred, areas, boxes, {"score": scores})
    coco_gt = _coco({"images": images, "categories": categories, "annotations": gt_anns})
    coco_dt = _coco({"images": images, "categories": categories, "annotations": dt_anns})

    evaluator = COCOeval(coco_gt, coco_dt, iouType="keypoints")
    params = evaluator.params
    params.kpt_oks_sigmas = sigmas
    params.maxDets = [max_per_frame]
    params.areaRng = [[0.0, float("inf")]]
    params.areaRngLbl = ["all"]
    if not np.allclose(params.iouThrs, OKS_THRESHOLDS):
        raise RuntimeError(f"this pycocotools uses OKS thresholds {params.iouThrs}, expected {OKS_THRESHOLDS}")
    with contextlib.redirect_stdout(io.StringIO()):
        evaluator.evaluate()
        evaluator.accumulate()

    precision = evaluator.eval["precision"][:, :, 0, 0, -1]  # (T thresholds, R recall points)
    result: dict[str, float] = {}
    for t, threshold in enumerate(OKS_THRESHOLDS):
        valid = precision[t][precision[t] > -1]
        if valid.size == 0:  # cannot happen with >= 1 evaluated ground truth; never report NaN
            raise RuntimeError(f"COCOeval returned no precision at OKS {threshold:.2f}")
        result[ap_key(threshold)] = 100.0 * float(valid.mean())
    result["AP"] = float(np.mean([result[ap_key(t)] for t in OKS_THRESHOLDS]))
    return result


def evaluate_video(video: Video, predictions: Predictions, labels: LabelStore | None = None,
                   areas: np.ndarray | None = None) -> dict[str, dict[str, float]]:
    """AP of a video's predictions, raw and with labeled samples counted as correct.

    Returns ``{"raw": keypoint_ap(...), "with_labels": keypoint_ap(...)}``; "with_labels" uses
    ``labels.merged_with(predictions)`` (a labeled sample's prediction is its label; its score stays the
    model's). ``areas`` defaults to :meth:`Video.oks_areas` (boxes clipped to their images).
    """
    n, k = video.num_samples, video.keypoint_set.num_keypoints
    if n == 0:
        raise ValueError(f"video {video.name!r} has no samples: AP is undefined")
    if predictions.keypoints.shape[:2] != (n, k):
        raise ValueError(f"video {video.name!r}: predictions are {predictions.keypoints.shape[:2]} "
                         f"(N, K), the video has ({n}, {k})")
    if labels is not None and len(labels):
        idx = labels.indices
        if idx.min() < 0 or idx.max() >= n:
            raise ValueError(f"video {video.name!r}: labels refer to samples outside 0..{n - 1}")

    areas = video.oks_areas() if areas is None else areas

    def ap(preds: Predictions) -> dict[str, float]:
        return keypoint_ap(video.keypoints, video.boxes, video.frame_index, preds.keypoints, preds.scores,
                           video.keypoint_set.sigma_array, areas)

    raw = ap(predictions)
    with_labels = ap(labels.merged_with(predictions)) if labels is not None and len(labels) else dict(raw)
    return {"raw": raw, "with_labels": with_labels}
