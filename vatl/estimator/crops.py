"""Top-down crops: person box -> crop region -> affine warp, and the way back to image coordinates.

Coordinates follow OpenCV's pixel-centre convention (pixel (i, j) of an array has its centre at x = j,
y = i). A crop region of size (w, h) around centre (cx, cy) maps its *edges* onto the edges of the output
array of size (W, H): the region's left edge cx - w/2 goes to x = -0.5 and its right edge to W - 0.5.
The same region therefore maps consistently onto the network input (W, H) and onto the heatmap (w_h, h_h),
and a horizontal flip of the output array is exactly x -> W - 1 - x at every resolution.

Affines are (N, 2, 3) float64 matrices M with p_out = M[:, :2] @ p_in + M[:, 2].
"""

from __future__ import annotations

import cv2
import numpy as np

BOX_PADDING = 1.25


def box_to_center_size(boxes: np.ndarray, aspect: float, padding: float = BOX_PADDING) -> tuple[np.ndarray, np.ndarray]:
    """Crop regions from person boxes.

    boxes: (N, 4) xywh in image pixels. aspect: width / height of the network input.
    Returns centres (N, 2) and region sizes (N, 2) as (w, h): the box grown to the input's aspect ratio
    (the short side is extended), then multiplied by ``padding``. Degenerate boxes get a 1-pixel size.
    """
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    centers = boxes[:, :2] + boxes[:, 2:] / 2.0
    w = np.maximum(boxes[:, 2], 1.0)
    h = np.maximum(boxes[:, 3], 1.0)
    wider = w > aspect * h
    h = np.where(wider, w / aspect, h)
    w = np.where(wider, w, h * aspect)
    return centers, np.stack([w, h], axis=1) * padding


def crop_affine(centers: np.ndarray, sizes: np.ndarray, output_size: tuple[int, int],
                rotation: np.ndarray | None = None, flip: np.ndarray | None = None) -> np.ndarray:
    """(N, 2, 3) affines from image pixels to an output array of ``output_size`` = (W, H).

    centers, sizes: (N, 2) crop regions (see :func:`box_to_center_size`).
    rotation: (N,) degrees; the crop content appears rotated counter-clockwise by this angle.
    flip: (N,) bool; the output is mirrored horizontally (x -> W - 1 - x).
    """
    centers = np.asarray(centers, dtype=np.float64).reshape(-1, 2)
    sizes = np.asarray(sizes, dtype=np.float64).reshape(-1, 2)
    n = len(centers)
    out_w, out_h = float(output_size[0]), float(output_size[1])
    theta = np.zeros(n) if rotation is None else np.deg2rad(np.asarray(rotation, dtype=np.float64).reshape(n))
    cos, sin = np.cos(theta), np.sin(theta)
    sx = out_w / sizes[:, 0]
    sy = out_h / sizes[:, 1]
    # Rotation by -theta in image axes (y down) shows the content rotated counter-clockwise.
    a = np.empty((n, 2, 2))
    a[:, 0, 0] = sx * cos
    a[:, 0, 1] = sx * sin
    a[:, 1, 0] = -sy * sin
    a[:, 1, 1] = sy * cos
    offset = np.array([out_w / 2.0 - 0.5, out_h / 2.0 - 0.5])
    t = offset - np.einsum("nij,nj->ni", a, centers)
    m = np.concatenate([a, t[:, :, None]], axis=2)
    if flip is not None:
        f = np.asarray(flip, dtype=bool).reshape(n)
        m[f, 0, :] = -m[f, 0, :]
        m[f, 0, 2] += out_w - 1.0
    return m


def invert_affine(m: np.ndarray) -> np.ndarray:
    """(N, 2, 3) inverses of (N, 2, 3) affines."""
    m = np.asarray(m, dtype=np.float64)
    a_inv = np.linalg.inv(m[..., :2])
    t = -np.einsum("...ij,...j->...i", a_inv, m[..., 2])
    return np.concatenate([a_inv, t[..., None]], axis=-1)


def compose_affine(outer: np.ndarray, inner: np.ndarray) -> np.ndarray:
    """(N, 2, 3) affine applying ``inner`` first, then ``outer``."""
    a = np.einsum("nij,njk->nik", outer[..., :2], inner[..., :2])
    t = np.einsum("nij,nj->ni", outer[..., :2], inner[..., 2]) + outer[..., 2]
    return np.concatenate([a, t[..., None]], axis=-1)


def apply_affine(m: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Points (N, K, 2) mapped by per-sample affines (N, 2, 3) -> (N, K, 2)."""
    points = np.asarray(points, dtype=np.float64)
    return np.einsum("nij,nkj->nki", m[..., :2], points) + m[:, None, :, 2]


def warp_crops(image: np.ndarray, affines: np.ndarray, output_size: tuple[int, int]) -> np.ndarray:
    """Crops (M, H, W, C) of one image (h, w, C) uint8 by (M, 2, 3) affines; outside the image is black."""
    out_w, out_h = int(output_size[0]), int(output_size[1])
    crops = np.empty((len(affines), out_h, out_w, image.shape[2]), dtype=image.dtype)
    for i, m in enumerate(affines):  # one cv2 call per crop: the loop is over C-level warps
        crops[i] = cv2.warpAffine(image, m, (out_w, out_h), flags=cv2.INTER_LINEAR,
                                  borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    return crops
