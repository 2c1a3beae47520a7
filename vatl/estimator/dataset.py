"""Samples of videos -> network crops and Gaussian targets, with training augmentation.

Two ways from frames to crops, with memory bounded by what is being used:

* the estimator pass streams: :func:`iter_input_batches` visits the frames in increasing order, decodes
  each once, cuts the network input crops of its samples and yields batches of ``batch_size`` samples
  (a batch may span frames); it holds the decoded frame being cut and the batch being filled.
* training keeps a :class:`CropCache` of its own samples only: for each sample a *context crop* (the
  person's crop region enlarged by ``margin``, at the network's pixel density). Network inputs are cut
  from it: without augmentation by slicing (no resampling), with augmentation (flip with the keypoint
  set's pairs, rotation, scale) by one small affine warp per sample.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from vatl.data.video import Video
from vatl.estimator.crops import (
    apply_affine,
    box_to_center_size,
    compose_affine,
    crop_affine,
    invert_affine,
    warp_crops,
)
from vatl.estimator.heatmaps import SIGMA, gaussian_targets, rescale_points

log = logging.getLogger(__name__)

CONTEXT_MARGIN = 1.5


@dataclass(frozen=True)
class Augmentation:
    """Training augmentation (published SimpleBaseline / ATL settings).

    Horizontal flip with probability ``flip_prob`` (left/right slots swapped with the keypoint set's
    pairs); rotation clip(rotation_sigma·N(0,1), ±rotation_max) degrees applied with probability
    ``rotation_prob``; scale clip(1 + scale_sigma·N(0,1), scale_min, scale_max) of the crop region.
    """

    flip_prob: float = 0.5
    rotation_sigma: float = 40.0
    rotation_max: float = 80.0
    rotation_prob: float = 0.6
    scale_sigma: float = 0.3
    scale_min: float = 0.7
    scale_max: float = 1.3

    def sample(self, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(scale (n,), rotation degrees (n,), flip (n,) bool) for n samples."""
        scale = np.clip(1.0 + self.scale_sigma * rng.standard_normal(n), self.scale_min, self.scale_max)
        rotation = np.clip(self.rotation_sigma * rng.standard_normal(n), -self.rotation_max, self.rotation_max)
        rotation = np.where(rng.random(n) < self.rotation_prob, rotation, 0.0)
        flip = rng.random(n) < self.flip_prob
        return scale, rotation, flip


NO_AUGMENTATION = Augmentation(flip_prob=0.0, rotation_prob=0.0, scale_sigma=0.0)


@dataclass
class CropCache:
    """Context crops of M samples (a training set), decoded once; rows are indexed 0..M-1 (see :meth:`build`).

    crops: (M, Hc, Wc, 3) uint8 context crops. to_context: (M, 2, 3) image -> context affines.
    centers, sizes: (M, 2) the crop regions (box at the input's aspect ×1.25) in image pixels.
    input_size: (W, H) of the network input; the context is (W + 2·pad_x, H + 2·pad_y) at the same density.
    """

    crops: np.ndarray
    to_context: np.ndarray
    centers: np.ndarray
    sizes: np.ndarray
    input_size: tuple[int, int]

    def __len__(self) -> int:
        return len(self.crops)

    @property
    def pad(self) -> tuple[int, int]:
        """(pad_x, pad_y) context pixels on each side of the un-augmented input crop."""
        return (self.crops.shape[2] - self.input_size[0]) // 2, (self.crops.shape[1] - self.input_size[1]) // 2

    @property
    def nbytes(self) -> int:
        return int(self.crops.nbytes)

    @classmethod
    def build(cls, video: Video, input_size: tuple[int, int], indices: np.ndarray | None = None,
              margin: float = CONTEXT_MARGIN) -> CropCache:
        """Context crops of samples ``indices`` of ``video`` (default: all), decoding each of their frames once.

        Row i of the cache is sample ``indices[i]`` (repeats allowed): train on it with cache indices
        ``0..M-1``, not with the video's sample indices. Raises FileNotFoundError naming the video and
        frame when a frame has no readable image.
        """
        idx = np.arange(video.num_samples) if indices is None else np.asarray(indices, dtype=np.int64).reshape(-1)
        w_in, h_in = int(input_size[0]), int(input_size[1])
        pad_x = int(round(w_in * (margin - 1) / 2))
        pad_y = int(round(h_in * (margin - 1) / 2))
        ctx_size = (w_in + 2 * pad_x, h_in + 2 * pad_y)
        centers, sizes = box_to_center_size(video.boxes[idx], w_in / h_in)
        ctx_sizes = sizes * np.array([ctx_size[0] / w_in, ctx_size[1] / h_in])
        to_context = crop_affine(centers, ctx_sizes, ctx_size)
        crops = np.zeros((len(idx), ctx_size[1], ctx_size[0], 3), dtype=np.uint8)
        for f, rows in _frame_runs(video.frame_index[idx]):
            crops[rows] = warp_crops(load_frame(video, f), to_context[rows], ctx_size)
        log.debug("video %s: cached %d context crops (%.1f MB)", video.name, len(crops), crops.nbytes / 1e6)
        return cls(crops, to_context, centers, sizes, (w_in, h_in))

    @classmethod
    def concatenate(cls, caches: Sequence[CropCache]) -> CropCache:
        """One cache holding the samples of several caches (same input and context size), in order."""
        if not caches:
            raise ValueError("no crop caches to concatenate")
        shapes = {c.crops.shape[1:] for c in caches}
        if len(shapes) != 1 or len({c.input_size for c in caches}) != 1:
            raise ValueError("crop caches of different input or context sizes cannot be concatenated")
        return cls(np.concatenate([c.crops for c in caches]), np.concatenate([c.to_context for c in caches]),
                   np.concatenate([c.centers for c in caches]), np.concatenate([c.sizes for c in caches]),
                   caches[0].input_size)

    def input_crops(self, indices: np.ndarray) -> np.ndarray:
        """Un-augmented network inputs (B, H, W, 3) uint8 of the given samples (a slice, no resampling)."""
        px, py = self.pad
        w, h = self.input_size
        return self.crops[np.asarray(indices), py:py + h, px:px + w]

    def input_affine(self, indices: np.ndarray) -> np.ndarray:
        """(B, 2, 3) image -> un-augmented network input affines."""
        idx = np.asarray(indices)
        return crop_affine(self.centers[idx], self.sizes[idx], self.input_size)

    def image_affine(self, indices: np.ndarray, size: tuple[int, int]) -> np.ndarray:
        """(B, 2, 3) affines from an array of ``size`` (w, h) covering the crop region (e.g. a heatmap) back
        to image pixels."""
        idx = np.asarray(indices)
        return invert_affine(crop_affine(self.centers[idx], self.sizes[idx], size))


def load_frame(video: Video, frame: int) -> np.ndarray:
    """Frame ``frame`` of ``video`` decoded (H, W, 3) uint8; FileNotFoundError names the video and frame."""
    try:
        return video.frames[int(frame)].load()
    except FileNotFoundError as exc:
        raise FileNotFoundError(f"video {video.name!r}: {exc}; the estimator needs the frame images") from None


def _frame_runs(frame_index: np.ndarray) -> Iterator[tuple[int, np.ndarray]]:
    """(frame, positions into ``frame_index`` (M,) on that frame) for each frame, in increasing frame order."""
    order = np.argsort(frame_index, kind="stable")
    frames, starts = np.unique(frame_index[order], return_index=True)
    yield from zip(frames.tolist(), np.split(order, starts[1:]))


@dataclass
class InputBatch:
    """Network inputs of a batch of samples, cut straight from the frames.

    indices: (B,) sample indices of the video. images: (B, H, W, 3) uint8 un-augmented network inputs.
    centers, sizes: (B, 2) their crop regions in image pixels (see :func:`box_to_center_size`).
    """

    indices: np.ndarray
    images: np.ndarray
    centers: np.ndarray
    sizes: np.ndarray

    def image_affine(self, size: tuple[int, int]) -> np.ndarray:
        """(B, 2, 3) affines from an array of ``size`` (w, h) covering the crop region (e.g. a heatmap) back
        to image pixels."""
        return invert_affine(crop_affine(self.centers, self.sizes, size))


def iter_input_batches(video: Video, input_size: tuple[int, int], batch_size: int) -> Iterator[InputBatch]:
    """Every sample of ``video`` once, in batches of ``batch_size`` (the last one smaller), in frame order.

    Samples are sorted by frame (stable: by sample index within a frame); a batch may span frames, and
    each frame is decoded once. Memory: the decoded frame being cut and the batch being filled (plus the
    batch the caller still holds).
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    w, h = int(input_size[0]), int(input_size[1])
    order = np.argsort(video.frame_index, kind="stable")
    held, image = -1, None
    for start in range(0, len(order), batch_size):
        idx = order[start:start + batch_size]
        centers, sizes = box_to_center_size(video.boxes[idx], w / h)
        to_input = crop_affine(centers, sizes, (w, h))
        images = np.empty((len(idx), h, w, 3), dtype=np.uint8)
        for f, rows in _frame_runs(video.frame_index[idx]):
            if f != held:  # frames only increase: drop the held one (never needed again), decode the next
                image = None
                image, held = load_frame(video, f), f
            images[rows] = warp_crops(image, to_input[rows], (w, h))
        yield InputBatch(idx, images, centers, sizes)


def training_batch(cache: CropCache, indices: np.ndarray, keypoints: np.ndarray, flip_index: np.ndarray,
                   heatmap_size: tuple[int, int], rng: np.random.Generator,
                   augmentation: Augmentation | None = Augmentation(), sigma: float = SIGMA
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Network inputs and targets for samples ``indices`` of ``cache``.

    keypoints: (B, K, 3) labels x, y (image pixels), v (v > 0: labeled). flip_index: (K,) left/right
    permutation. Returns images (B, H, W, 3) uint8, target heatmaps (B, K, h, w) float32 and joint
    weights (B, K) float32 (0 for unlabeled joints and joints that leave the crop).
    """
    idx = np.asarray(indices, dtype=np.int64)
    kp = np.asarray(keypoints, dtype=np.float64).reshape(len(idx), -1, 3)
    aug = augmentation or NO_AUGMENTATION
    scale, rotation, flip = aug.sample(len(idx), rng)
    if not (scale != 1).any() and not (rotation != 0).any() and not flip.any():
        images = cache.input_crops(idx)
        to_input = cache.input_affine(idx)
    else:
        to_input = crop_affine(cache.centers[idx], cache.sizes[idx] * scale[:, None], cache.input_size,
                               rotation, flip)
        from_context = compose_affine(to_input, invert_affine(cache.to_context[idx]))
        images = np.empty((len(idx), cache.input_size[1], cache.input_size[0], 3), dtype=np.uint8)
        for i in range(len(idx)):  # one cv2 warp per sample (C-level work)
            images[i] = warp_crops(cache.crops[idx[i]], from_context[i:i + 1], cache.input_size)[0]
        # A mirrored crop shows the left joints where the right ones were: swap their slots.
        perm = np.asarray(flip_index, dtype=np.int64)
        kp = np.where(flip[:, None, None], kp[:, perm], kp)
    points = rescale_points(apply_affine(to_input, kp[..., :2]), cache.input_size, heatmap_size)
    targets, weights = gaussian_targets(points, kp[..., 2] > 0, heatmap_size, sigma)
    return images, targets, weights
