"""Tiny in-memory videos and contexts for the criteria tests (no images: criteria never read pixels)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from vatl.criteria.base import Criterion, SelectionContext, collect_scores
from vatl.data.video import Frame, Video
from vatl.estimator.interface import PassBatch
from vatl.skeletons import POSETRACK21, KeypointSet

BONN = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "bonn_posetrack" / "posetrack_data"


def make_video(frame_track: Sequence[tuple[int, int]], keypoint_set: KeypointSet = POSETRACK21,
               keypoints: np.ndarray | None = None, boxes: np.ndarray | None = None) -> Video:
    """A video whose sample i is in frame ``frame_track[i][0]`` of track ``frame_track[i][1]``."""
    ft = np.asarray(frame_track, dtype=np.int64).reshape(-1, 2)
    n, k = len(ft), keypoint_set.num_keypoints
    frames = [Frame(path=None, image_id=i) for i in range(int(ft[:, 0].max()) + 1 if n else 1)]
    if keypoints is None:
        keypoints = np.zeros((n, k, 3))
    if boxes is None:
        boxes = np.tile([0.0, 0.0, 50.0, 100.0], (n, 1))
    return Video(name="test", keypoint_set=keypoint_set, frames=frames, frame_index=ft[:, 0],
                 track_id=ft[:, 1], boxes=boxes, keypoints=keypoints, annotation_ids=np.arange(n))


def grid_video(num_frames: int, num_tracks: int, **kw) -> Video:
    """Every track in every frame, samples listed frame-major."""
    return make_video([(f, t) for f in range(num_frames) for t in range(num_tracks)], **kw)


def stream(criterion: Criterion, video: Video, heatmaps: np.ndarray, features: np.ndarray,
           keypoints: np.ndarray, batch_size: int = 4, order: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Run the criterion's consumers over a fake pass (default order: temporal); returns the scores."""
    consumers = criterion.pass_consumers(video)
    order = video.temporal_order() if order is None else np.asarray(order)
    for s in range(0, len(order), batch_size):
        idx = order[s:s + batch_size]
        batch = PassBatch(indices=idx, heatmaps=heatmaps[idx], keypoints=keypoints[idx], features=features[idx])
        for c in consumers:
            c.consume(batch)
    return collect_scores(consumers)


def random_inputs(video: Video, seed: int = 0, dim: int = 8, hm: tuple[int, int] = (8, 6)):
    """Heatmaps (N, K, h, w), features (N, dim), predicted keypoints (N, K, 3) and labels (N, K, 3)."""
    rng = np.random.default_rng(seed)
    n, k = video.num_samples, video.keypoint_set.num_keypoints
    heatmaps = rng.random((n, k, *hm)).astype(np.float32)
    features = rng.normal(size=(n, dim)).astype(np.float32)
    base = rng.uniform(10, 40, size=(1, k, 2)) * np.array([1.0, 2.0])
    xy = base + rng.normal(scale=3.0, size=(n, k, 2))
    keypoints = np.concatenate([xy, rng.uniform(0.2, 1.0, size=(n, k, 1))], axis=2)
    labels = np.concatenate([xy + rng.normal(scale=1.0, size=xy.shape), np.ones((n, k, 1))], axis=2)
    labels[:, list(video.keypoint_set.never_annotated), :] = 0.0
    return heatmaps, features, keypoints, labels


def context_for(criterion: Criterion, video: Video, unlabeled: np.ndarray, budget: int, seed: int = 0,
                inputs=None, G: float | None = 0.5) -> SelectionContext:
    """A full context (scores streamed) for ``criterion``."""
    heatmaps, features, keypoints, labels = inputs if inputs is not None else random_inputs(video)
    scores = stream(criterion, video, heatmaps, features, keypoints)
    unlabeled = np.asarray(unlabeled, dtype=bool)
    return SelectionContext(video=video, unlabeled=unlabeled, budget=budget, keypoints=keypoints,
                            features=features, rng=np.random.default_rng(seed), scores=scores, G=G,
                            label_keypoints=np.where(~unlabeled[:, None, None], labels, 0.0))
