"""Display crops of person instances: the box at 3:4 grown by a quarter, as small JPEGs.

The same geometry serves the crops saved with a cycle (:mod:`.record`) and those cut later from the
video's frames (:mod:`.report`), so that keypoints (image pixels) and heatmaps (the network's crop
frame) can be drawn onto either with :func:`display_affines` / :func:`heatmap_to_display`.
"""

from __future__ import annotations

import logging

import cv2
import numpy as np

from vatl.data.video import Video
from vatl.estimator.crops import box_to_center_size, compose_affine, crop_affine, invert_affine, warp_crops

log = logging.getLogger(__name__)

CROP_SIZE = (144, 192)  # (w, h) of a display crop
JPEG_QUALITY = 85


def display_affines(boxes: np.ndarray, size: tuple[int, int] = CROP_SIZE) -> np.ndarray:
    """(M, 2, 3) affines from image pixels to display crops of ``size`` (w, h) around boxes (M, 4) xywh."""
    centers, sizes = box_to_center_size(boxes, size[0] / size[1])
    return crop_affine(centers, sizes, size)


def heatmap_to_display(boxes: np.ndarray, input_size: tuple[int, int], heatmap_size: tuple[int, int],
                       size: tuple[int, int] = CROP_SIZE) -> np.ndarray:
    """(M, 2, 3) affines from heatmap pixels (the estimator's crop of each box, input aspect ``input_size``
    (w, h), heatmap ``heatmap_size`` (w, h)) to the display crops of the same boxes (M, 4)."""
    centers, sizes = box_to_center_size(boxes, input_size[0] / input_size[1])
    to_image = invert_affine(crop_affine(centers, sizes, heatmap_size))
    return compose_affine(display_affines(boxes, size), to_image)


def cut_crops(video: Video, indices: np.ndarray, size: tuple[int, int] = CROP_SIZE) -> list[np.ndarray | None]:
    """Display crops (h, w, 3) uint8 RGB of samples ``indices`` (M,), each frame decoded once; None for a
    sample whose frame cannot be read (the reason is logged once)."""
    idx = np.asarray(indices, dtype=np.int64)
    out: list[np.ndarray | None] = [None] * len(idx)
    affines = display_affines(video.boxes[idx], size)
    frames = video.frame_index[idx]
    for f in np.unique(frames):
        rows = np.flatnonzero(frames == f)
        try:
            image = video.frames[int(f)].load()
        except (OSError, ValueError) as exc:
            log.info("no crop for frame %d of %s: %s", int(f), video.name, exc)
            continue
        for r, crop in zip(rows, warp_crops(image, affines[rows], size)):
            out[int(r)] = crop
    return out


def encode_jpeg(image: np.ndarray | None) -> bytes:
    """JPEG bytes of an RGB image (h, w, 3) uint8; b"" for None."""
    if image is None:
        return b""
    ok, data = cv2.imencode(".jpg", cv2.cvtColor(image, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    if not ok:
        raise ValueError("could not encode a crop as JPEG")
    return data.tobytes()


def decode_jpeg(data: bytes) -> np.ndarray | None:
    """(h, w, 3) uint8 RGB of JPEG bytes; None for b"" or bytes that are not an image."""
    if not data:
        return None
    image = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_COLOR)
    return None if image is None else cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
