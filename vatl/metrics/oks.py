"""Object keypoint similarity (OKS), exactly as COCO defines it, for paired predictions and ground truths.

OKS = mean over the ground truth's labeled joints (v > 0) of exp(-e_k), with
e_k = d_k² / (2σ_k)² / (A + ε) / 2 — COCO's ``vars = (2σ)²`` and ``ε = np.spacing(1)`` — where d_k is
the pixel distance of joint k and A the object area. PoseTrack has no segment areas, so A is the
ground-truth box area w·h after clipping the box to its image, as the published code does
(:func:`clipped_box_areas`; :meth:`vatl.data.video.Video.oks_areas`); COCO's segment area is about
0.53 × the box area, which ``box_areas(boxes, scale=0.53)`` gives when a caller wants it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from vatl.data.annotations import Predictions
    from vatl.data.video import Video

# COCO adds machine epsilon to the area so a zero area cannot divide by zero.
AREA_EPS = float(np.spacing(1))


def box_areas(boxes: np.ndarray, scale: float = 1.0) -> np.ndarray:
    """(N,) OKS areas ``scale · w · h`` from (N, 4) xywh boxes."""
    b = np.asarray(boxes, dtype=np.float64)
    if b.ndim != 2 or b.shape[1] != 4:
        raise ValueError(f"boxes must be (N, 4) xywh, got shape {b.shape}")
    if not scale > 0:
        raise ValueError(f"area scale must be > 0, got {scale}")
    return scale * b[:, 2] * b[:, 3]


def clipped_box_areas(boxes: np.ndarray, widths: np.ndarray, heights: np.ndarray) -> np.ndarray:
    """(N,) OKS areas of (N, 4) xywh boxes clipped to their images first, as the published code does.

    widths, heights: (N,) image sizes; where a size is unknown (<= 0), or the box lies wholly outside
    its image, the box's own area w·h is used.
    """
    b = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    w_img = np.asarray(widths, dtype=np.float64).reshape(-1)
    h_img = np.asarray(heights, dtype=np.float64).reshape(-1)
    known = (w_img > 0) & (h_img > 0)
    x0, y0 = np.maximum(b[:, 0], 0.0), np.maximum(b[:, 1], 0.0)
    x1 = np.minimum(b[:, 0] + b[:, 2], np.where(known, w_img, np.inf))
    y1 = np.minimum(b[:, 1] + b[:, 3], np.where(known, h_img, np.inf))
    clipped = np.clip(x1 - x0, 0.0, None) * np.clip(y1 - y0, 0.0, None)
    return np.where(known & (clipped > 0), clipped, b[:, 2] * b[:, 3])


def indices_text(mask: np.ndarray, limit: int = 20) -> str:
    """The True positions of a (N,) mask as text for error messages (the first ``limit`` of them)."""
    idx = np.flatnonzero(mask)
    shown = ", ".join(str(i) for i in idx[:limit])
    return shown + (f", … ({len(idx)} in all)" if len(idx) > limit else "")


def check_oks_inputs(pred: np.ndarray, gt: np.ndarray, areas: np.ndarray,
                     sigmas: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Validated float64 copies of the OKS inputs; ValueError naming the offending samples."""
    pred = np.asarray(pred, dtype=np.float64)
    gt = np.asarray(gt, dtype=np.float64)
    areas = np.asarray(areas, dtype=np.float64)
    sigmas = np.asarray(sigmas, dtype=np.float64)
    if gt.ndim != 3 or gt.shape[2] != 3:
        raise ValueError(f"ground-truth keypoints must be (N, K, 3), got shape {gt.shape}")
    n, k = gt.shape[:2]
    if pred.ndim != 3 or pred.shape[:2] != (n, k) or pred.shape[2] not in (2, 3):
        raise ValueError(f"predicted keypoints must be ({n}, {k}, 2 or 3) like the ground truth, got {pred.shape}")
    if areas.shape != (n,):
        raise ValueError(f"areas must be ({n},), got shape {areas.shape}")
    if sigmas.shape != (k,):
        raise ValueError(f"sigmas must be ({k},) for {k} keypoints, got shape {sigmas.shape}")
    if not np.all(sigmas > 0):
        raise ValueError(f"sigmas must be > 0; slots {indices_text(~(sigmas > 0))} are not")
    labeled = gt[..., 2] > 0
    unlabeled = ~labeled.any(axis=1)
    if unlabeled.any():
        raise ValueError(f"OKS undefined: ground truth of samples {indices_text(unlabeled)} has no labeled joint")
    bad_area = ~(areas > 0) | ~np.isfinite(areas)
    if bad_area.any():
        raise ValueError(f"OKS area must be a finite value > 0; samples {indices_text(bad_area)} have "
                         f"{areas[bad_area][:5].tolist()}")
    bad_gt = ~np.isfinite(gt[..., :2]).all(axis=2) & labeled
    if bad_gt.any():
        raise ValueError(f"ground truth of samples {indices_text(bad_gt.any(axis=1))} has a labeled joint "
                         f"with a non-finite coordinate")
    bad_pred = (~np.isfinite(pred[..., :2]).all(axis=2) & labeled).any(axis=1)
    if bad_pred.any():
        raise ValueError(f"predictions of samples {indices_text(bad_pred)} have a non-finite coordinate "
                         f"on a labeled joint")
    return pred, gt, areas, sigmas


def oks(pred: np.ndarray, gt: np.ndarray, areas: np.ndarray, sigmas: np.ndarray) -> np.ndarray:
    """Paired OKS of prediction i against ground truth i.

    Args:
        pred: (N, K, 2|3) predicted x, y (a third column, e.g. confidence, is ignored).
        gt: (N, K, 3) ground truth x, y, v; only joints with v > 0 count.
        areas: (N,) object areas A (> 0), e.g. :func:`box_areas` of the ground-truth boxes.
        sigmas: (K,) the keypoint set's sigmas.
    Returns:
        (N,) OKS in [0, 1].
    Raises:
        ValueError naming the samples whose ground truth has no labeled joint or whose area is not > 0.
    """
    pred, gt, areas, sigmas = check_oks_inputs(pred, gt, areas, sigmas)
    labeled = gt[..., 2] > 0
    d2 = np.square(pred[..., 0] - gt[..., 0]) + np.square(pred[..., 1] - gt[..., 1])  # (N, K)
    variances = np.square(2.0 * sigmas)  # (K,)
    e = d2 / variances[None, :] / (areas[:, None] + AREA_EPS) / 2.0
    sim = np.where(labeled, np.exp(-np.where(labeled, e, 0.0)), 0.0)
    return sim.sum(axis=1) / labeled.sum(axis=1)


def correct_percent(video: Video, keypoints: np.ndarray, theta: float, areas: np.ndarray | None = None) -> float:
    """The share (%) of the video's samples with ground truth whose pose ``keypoints`` (N, K, 2|3) has
    OKS > θ: what a user gets at the target θ, independent of prediction scores (unlike AP)."""
    has_gt = video.visible.any(axis=1)
    if not has_gt.any():
        raise ValueError(f"video {video.name!r} has no ground truth: the share of correct poses is undefined")
    areas = video.oks_areas() if areas is None else np.asarray(areas, dtype=np.float64)
    kp = np.asarray(keypoints, dtype=np.float64)
    values = oks(kp[has_gt], video.keypoints[has_gt], areas[has_gt], video.keypoint_set.sigma_array)
    return 100.0 * float(np.mean(values > theta))


def oks_video(video: Video, keypoints: np.ndarray | Predictions, areas: np.ndarray | None = None) -> np.ndarray:
    """(N,) OKS of ``keypoints`` ((N, K, 2|3) or :class:`Predictions`) against ``video.keypoints``.

    Sigmas come from ``video.keypoint_set``; ``areas`` defaults to :meth:`Video.oks_areas` (the
    ground-truth boxes clipped to their images).
    """
    kp = getattr(keypoints, "keypoints", keypoints)
    if areas is None:
        areas = video.oks_areas()
    return oks(kp, video.keypoints, areas, video.keypoint_set.sigma_array)
