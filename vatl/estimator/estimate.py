"""The estimator pass: every sample of a video once, in frame order, streamed to consumers."""

from __future__ import annotations

import logging
from collections.abc import Iterable

import numpy as np
import torch

from vatl.data.video import Video
from vatl.estimator.crops import apply_affine
from vatl.estimator.dataset import InputBatch, iter_input_batches
from vatl.estimator.device import check_amp, mixed_precision, resolve_device
from vatl.estimator.heatmaps import decode_heatmaps, flip_heatmaps
from vatl.estimator.interface import PassBatch, PassConsumer, PassResult
from vatl.estimator.models import PoseModel

log = logging.getLogger(__name__)


def estimate(model: PoseModel, video: Video, consumers: Iterable[PassConsumer] = (), batch_size: int = 64,
             device: str | torch.device | None = None, flip_test: bool = False, amp: bool = False) -> PassResult:
    """Run ``model`` once over every sample of ``video``.

    Samples are visited in frame order in batches of ``batch_size`` that may span frames; each frame is
    decoded once and its samples' network input crops are cut from it
    (:func:`vatl.estimator.dataset.iter_input_batches`). Each :class:`PassBatch` (heatmaps (B, K, h, w)
    float32 in the crop frame, keypoints (B, K, 3) in image pixels with confidence = heatmap maximum,
    features (B, D) float32) is handed to every consumer, then dropped: memory is bounded by the batch
    (its crops and heatmaps, and the previous batch's while the next one is cut) and one decoded frame,
    plus the results and what the consumers keep.
    ``device``: move the model there first (default: stay where it is). ``flip_test``: average the
    heatmaps with those of the mirrored crop (left/right channels swapped back); features always come
    from the unmirrored crop. ``amp``: mixed precision (the network under float16 autocast, CUDA only: a
    ValueError on another device; outputs still float32); off by default, and off the pass is float32.
    Returns keypoints (N, K, 3) float64 and features (N, D) float32 indexed by sample.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    if device is not None:
        model.to(resolve_device(device))
    check_amp(amp, model.device)
    consumers = list(consumers)
    n, k = video.num_samples, model.num_keypoints
    if video.keypoint_set.num_keypoints != k:
        raise ValueError(f"video {video.name!r} has {video.keypoint_set.num_keypoints} keypoint slots "
                         f"({video.keypoint_set.name}) but the model predicts {k} ({model.keypoint_set.name})")
    keypoints = np.zeros((n, k, 3), dtype=np.float64)
    features: np.ndarray | None = None  # (N, D) once the first batch tells D
    flip_index = model.keypoint_set.flip_index
    was_training = model.training
    model.eval()
    try:
        with torch.inference_mode():
            for inputs in iter_input_batches(video, model.input_size, batch_size):
                batch = _forward(model, inputs, flip_index if flip_test else None, amp)
                for consumer in consumers:
                    consumer.consume(batch)
                if features is None:
                    features = np.zeros((n, batch.features.shape[1]), dtype=np.float32)
                keypoints[batch.indices] = batch.keypoints
                features[batch.indices] = batch.features
    finally:
        model.train(was_training)
    if features is None:  # no samples
        features = np.zeros((0, model.feature_dim), dtype=np.float32)
    return PassResult(keypoints, features)


def _forward(model: PoseModel, inputs: InputBatch, flip_index: np.ndarray | None, amp: bool = False) -> PassBatch:
    """Heatmaps, keypoints in image pixels and features of one batch of crops; ``flip_index``: flip test;
    ``amp``: the network under float16 autocast (CUDA)."""
    x = model.prepare(inputs.images)
    with mixed_precision(amp, x.device):
        heatmaps, feats = model(x)
        flipped = None if flip_index is None else model(torch.flip(x, dims=[3]))[0]
    heatmaps, feats = heatmaps.float(), feats.float()  # float16 under amp; a no-op in float32
    if flipped is not None:
        heatmaps = (heatmaps + flip_heatmaps(flipped, flip_index)) / 2
    hm = heatmaps.cpu().numpy()
    coords, maxvals = decode_heatmaps(hm)
    kp = np.concatenate([apply_affine(inputs.image_affine(model.heatmap_size), coords), maxvals[..., None]], axis=2)
    return PassBatch(indices=inputs.indices, heatmaps=hm, keypoints=kp, features=feats.cpu().numpy())
