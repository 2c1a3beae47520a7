"""What one estimator pass over a video produces, and how criteria listen to it while it streams.

An estimator pass visits every sample once, in batches, in frame order (samples sorted by frame, by
sample index within a frame; a batch may span frames), so that each frame is decoded once and a track's
temporal neighbours arrive one frame apart. Each batch is handed to every :class:`PassConsumer` (THC,
LC, MPE, … accumulate their scores from it) and then dropped: no pass holds every crop or heatmap of a
video in memory. Consumers must not rely on the order for correctness, only for how much they hold.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np


@dataclass
class PassBatch:
    """One batch of an estimator pass.

    indices: (B,) sample indices of the video.
    heatmaps: (B, K, h, w) float32 heatmaps, each in its own sample's crop frame.
    keypoints: (B, K, 3) decoded x, y in image pixels and confidence (heatmap maximum).
    features: (B, D) float32 pooled feature (global average pool of the backbone's last stage).
    """

    indices: np.ndarray
    heatmaps: np.ndarray
    keypoints: np.ndarray
    features: np.ndarray


@runtime_checkable
class PassConsumer(Protocol):
    """Anything that accumulates a per-sample quantity from the batches of a pass."""

    def consume(self, batch: PassBatch) -> None: ...


@dataclass
class PassResult:
    """What remains of a pass after streaming: keypoints (N, K, 3) and features (N, D)."""

    keypoints: np.ndarray
    features: np.ndarray
