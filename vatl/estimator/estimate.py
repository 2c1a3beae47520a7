"""The estimator pass: every sample of a video once, in temporal order, streamed to consumers."""

from __future__ import annotations

import logging
from collections.abc import Iterable

import numpy as np
import torch

from vatl.data.video import Video
from vatl.estimator.crops import apply_affine
from vatl.estimator.dataset import CropCache, crop_cache
from vatl.estimator.device import resolve_device
from vatl.estimator.heatmaps import decode_heatmaps, flip_heatmaps
from vatl.estimator.interface import PassBatch, PassConsumer, PassResult
from vatl.estimator.models import PoseModel

log = logging.getLogger(__name__)


def estimate(model: PoseModel, video: Video, consumers: Iterable[PassConsumer] = (), batch_size: int = 64,
             device: str | torch.device | None = None, flip_test: bool = False,
             cache: CropCache | None = None) -> PassResult:
    """Run ``model`` once over every sample of ``video``.

    Batches follow :meth:`Video.temporal_order` (track, then frame); each :class:`PassBatch` (heatmaps
    (B, K, h, w) float32 in the crop frame, keypoints (B, K, 3) in image pixels with confidence = heatmap
    maximum, features (B, D) float32) is handed to every consumer, then dropped.
    ``device``: move the model there first (default: stay where it is). ``flip_test``: average the
    heatmaps with those of the mirrored crop (left/right channels swapped back); features always come
    from the unmirrored crop. ``cache``: the video's crops (default: the shared memoised cache).
    Returns keypoints (N, K, 3) float64 and features (N, D) float32 indexed by sample.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    if device is not None:
        model.to(resolve_device(device))
    consumers = list(consumers)
    n, k = video.num_samples, model.num_keypoints
    if video.keypoint_set.num_keypoints != k:
        raise ValueError(f"video {video.name!r} has {video.keypoint_set.num_keypoints} keypoint slots "
                         f"({video.keypoint_set.name}) but the model predicts {k} ({model.keypoint_set.name})")
    keypoints = np.zeros((n, k, 3), dtype=np.float64)
    if n == 0:
        return PassResult(keypoints, np.zeros((0, model.feature_dim), dtype=np.float32))
    features: np.ndarray | None = None
    cache = cache if cache is not None else crop_cache(video, model.input_size)
    flip_index = model.keypoint_set.flip_index
    was_training = model.training
    model.eval()
    try:
        with torch.inference_mode():
            for idx in np.array_split(video.temporal_order(), int(np.ceil(n / batch_size))):
                x = model.prepare(cache.input_crops(idx))
                heatmaps, feats = model(x)
                if flip_test:
                    flipped, _ = model(torch.flip(x, dims=[3]))
                    heatmaps = (heatmaps + flip_heatmaps(flipped, flip_index)) / 2
                hm = heatmaps.float().cpu().numpy()
                coords, maxvals = decode_heatmaps(hm)
                kp = np.concatenate([apply_affine(cache.image_affine(idx, model.heatmap_size), coords),
                                     maxvals[..., None]], axis=2)
                batch = PassBatch(indices=idx, heatmaps=hm, keypoints=kp,
                                  features=feats.float().cpu().numpy())
                for consumer in consumers:
                    consumer.consume(batch)
                keypoints[idx] = kp
                if features is None:
                    features = np.zeros((n, batch.features.shape[1]), dtype=np.float32)
                features[idx] = batch.features
    finally:
        model.train(was_training)
    return PassResult(keypoints, features)
