"""Gaussian target heatmaps, decoding (argmax + quarter-pixel refinement) and flipping.

Heatmap coordinates use the pixel-centre convention of :mod:`vatl.estimator.crops`: a keypoint at heatmap
coordinate (x, y) lies at column x, row y; the heatmap covers [-0.5, w - 0.5] × [-0.5, h - 0.5].
"""

from __future__ import annotations

import numpy as np

SIGMA = 2.0


def gaussian_targets(points: np.ndarray, valid: np.ndarray, heatmap_size: tuple[int, int],
                     sigma: float = SIGMA) -> tuple[np.ndarray, np.ndarray]:
    """Target heatmaps and joint weights.

    points: (N, K, 2) keypoints in heatmap coordinates. valid: (N, K) bool, joints with a label.
    heatmap_size: (w, h).
    Returns heatmaps (N, K, h, w) float32 with an unnormalised Gaussian (peak 1 at the sub-pixel
    keypoint, ``sigma`` in heatmap pixels) and weights (N, K) float32: 1 for a labeled joint inside the
    heatmap, else 0 (its heatmap is all zeros).
    """
    w, h = int(heatmap_size[0]), int(heatmap_size[1])
    points = np.asarray(points, dtype=np.float64)
    inside = ((points[..., 0] >= -0.5) & (points[..., 0] <= w - 0.5)
              & (points[..., 1] >= -0.5) & (points[..., 1] <= h - 0.5))
    weights = (np.asarray(valid, dtype=bool) & inside & np.isfinite(points).all(axis=-1))
    px = np.where(weights, points[..., 0], 0.0)
    py = np.where(weights, points[..., 1], 0.0)
    gx = np.exp(-((np.arange(w) - px[..., None]) ** 2) / (2 * sigma ** 2))  # (N, K, w)
    gy = np.exp(-((np.arange(h) - py[..., None]) ** 2) / (2 * sigma ** 2))  # (N, K, h)
    heatmaps = (gy[..., :, None] * gx[..., None, :]).astype(np.float32)
    heatmaps *= weights[..., None, None]
    return heatmaps, weights.astype(np.float32)


def decode_heatmaps(heatmaps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Peak positions and values.

    heatmaps: (N, K, h, w). Returns coords (N, K, 2) float64 in heatmap coordinates and maxvals (N, K).
    As the published SimpleBaseline / ATL code decodes: the argmax, moved a quarter pixel toward the
    higher of its two neighbours along each axis (not along an axis where they are equal) when the peak
    lies inside on both axes (1 < x < w − 1 and 1 < y < h − 1); a heatmap whose maximum is <= 0 decodes
    to (0, 0).
    """
    hm = np.asarray(heatmaps)
    n, k, h, w = hm.shape
    flat = hm.reshape(n, k, h * w)
    idx = flat.argmax(axis=2)
    maxvals = np.take_along_axis(flat, idx[..., None], axis=2)[..., 0].astype(np.float64)
    ys, xs = np.divmod(idx, w)

    def at(y: np.ndarray, x: np.ndarray) -> np.ndarray:
        pos = np.clip(y, 0, h - 1) * w + np.clip(x, 0, w - 1)
        return np.take_along_axis(flat, pos[..., None], axis=2)[..., 0].astype(np.float64)

    positive = maxvals > 0
    xs, ys = xs * positive, ys * positive
    inside = (xs > 1) & (xs < w - 1) & (ys > 1) & (ys < h - 1)
    dx = np.sign(at(ys, xs + 1) - at(ys, xs - 1)) * inside
    dy = np.sign(at(ys + 1, xs) - at(ys - 1, xs)) * inside
    coords = np.stack([xs + 0.25 * dx, ys + 0.25 * dy], axis=-1).astype(np.float64)
    return coords, maxvals


def flip_heatmaps(heatmaps, flip_index: np.ndarray):
    """Heatmaps of a mirrored crop brought back to the unmirrored crop: (N, K, h, w) numpy or torch.

    Mirrors the width axis and swaps left/right channels: out[:, i] = mirrored in[:, flip_index[i]].
    """
    perm = np.asarray(flip_index, dtype=np.int64)
    if isinstance(heatmaps, np.ndarray):
        return heatmaps[:, perm, :, ::-1].copy()
    import torch

    return torch.flip(heatmaps[:, torch.as_tensor(perm, device=heatmaps.device)], dims=[3])


def rescale_points(points: np.ndarray, from_size: tuple[int, int], to_size: tuple[int, int]) -> np.ndarray:
    """Points (..., 2) between two arrays covering the same region, e.g. network input -> heatmap."""
    scale = np.array([to_size[0] / from_size[0], to_size[1] / from_size[1]])
    return (np.asarray(points, dtype=np.float64) + 0.5) * scale - 0.5
