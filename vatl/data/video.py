"""The video: frames (decoded lazily) and person instances (samples 0..N-1) as aligned arrays."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from vatl.skeletons import KeypointSet


class FrameReader(Protocol):
    """Decodes the frames of one video file: ``read(i)`` -> (H, W, 3) uint8 RGB (e.g.
    :class:`vatl.video.reader.VideoFile`: sequential reads decode once, random reads seek)."""

    def read(self, index: int) -> np.ndarray: ...


@dataclass
class Frame:
    """One image of a video. ``path`` may be None for annotation-only videos (no pixels) and for the frames
    of a video file, which ``reader`` decodes (frame number ``position`` of the file)."""

    path: Path | None
    image_id: int
    width: int = 0
    height: int = 0
    is_labeled: bool = True
    reader: FrameReader | None = field(default=None, repr=False, compare=False)
    position: int = 0

    def size(self) -> tuple[int, int]:
        """(width, height); read from the image file's header (and remembered) when the annotation did not
        give it; (0, 0) when unknown (no file, or not readable)."""
        if (self.width <= 0 or self.height <= 0) and self.path is not None:
            try:
                from PIL import Image

                with Image.open(self.path) as image:
                    self.width, self.height = image.size
            except (OSError, ValueError):
                return 0, 0
        return self.width, self.height

    def load(self) -> np.ndarray:
        """The image as (H, W, 3) uint8 RGB. Raises FileNotFoundError naming the path."""
        import cv2

        if self.reader is not None:
            return self.reader.read(self.position)
        if self.path is None:
            raise FileNotFoundError(f"frame {self.image_id} has no image file")
        image = cv2.imread(str(self.path), cv2.IMREAD_COLOR)
        if image is None:
            raise FileNotFoundError(f"cannot read image {self.path} (frame {self.image_id})")
        return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


@dataclass
class Video:
    """A query video: the frames and the N person instances (samples) in them.

    Sample arrays are aligned on the sample index 0..N-1:
        frame_index: (N,) int, index into ``frames`` (frames are in temporal order).
        track_id: (N,) int.
        boxes: (N, 4) float xywh in image pixels.
        keypoints: (N, K, 3) float x, y, v ground truth as read (v = 0: no label for that joint).
        annotation_ids: (N,) int64 ids of the source records (for writing back).
    ``skipped`` counts instances the reader left out, by reason. ``source`` holds what a writer needs
    to reproduce the input's format (format name, original JSON, …).
    """

    name: str
    keypoint_set: KeypointSet
    frames: list[Frame]
    frame_index: np.ndarray
    track_id: np.ndarray
    boxes: np.ndarray
    keypoints: np.ndarray
    annotation_ids: np.ndarray
    skipped: dict[str, int] = field(default_factory=dict)
    source: dict[str, Any] = field(default_factory=dict)
    _oks_areas: np.ndarray | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        n = len(self.frame_index)
        k = self.keypoint_set.num_keypoints
        self.frame_index = np.asarray(self.frame_index, dtype=np.int64).reshape(n)
        self.track_id = np.asarray(self.track_id, dtype=np.int64).reshape(n)
        self.boxes = np.asarray(self.boxes, dtype=np.float64).reshape(n, 4)
        self.keypoints = np.asarray(self.keypoints, dtype=np.float64).reshape(n, k, 3)
        self.annotation_ids = np.asarray(self.annotation_ids, dtype=np.int64).reshape(n)
        if n and (self.frame_index.min() < 0 or self.frame_index.max() >= len(self.frames)):
            raise ValueError(f"video {self.name!r}: a sample refers to a frame outside 0..{len(self.frames) - 1}")

    @property
    def num_samples(self) -> int:
        return len(self.frame_index)

    def __len__(self) -> int:
        return self.num_samples

    @property
    def num_tracks(self) -> int:
        return len(np.unique(self.track_id))

    @property
    def visible(self) -> np.ndarray:
        """(N, K) bool: joints with a ground-truth label."""
        return self.keypoints[..., 2] > 0

    @property
    def has_ground_truth(self) -> bool:
        return bool(self.visible.any())

    def box_areas(self) -> np.ndarray:
        """(N,) ground-truth box areas w·h as read."""
        return self.boxes[:, 2] * self.boxes[:, 3]

    def oks_areas(self) -> np.ndarray:
        """(N,) OKS areas: the boxes clipped to their images first, as the published code does (a frame
        whose size is unknown keeps its boxes' own areas). Computed once per video."""
        if self._oks_areas is None:
            from vatl.metrics.oks import clipped_box_areas

            sizes = np.array([f.size() for f in self.frames], dtype=np.float64).reshape(-1, 2)
            per_sample = sizes[self.frame_index] if self.num_samples else np.zeros((0, 2))
            self._oks_areas = clipped_box_areas(self.boxes, per_sample[:, 0], per_sample[:, 1])
        return self._oks_areas

    def neighbours(self, max_gap: int = 1) -> tuple[np.ndarray, np.ndarray]:
        """Temporal neighbours of every sample in its own track.

        Returns ``(prev, next)``, each (N,) int: the sample of the same track in the closest earlier
        (later) frame at most ``max_gap`` frames away, or -1 when there is none.
        """
        if max_gap < 1:
            raise ValueError(f"max_gap must be >= 1, got {max_gap}")
        n = self.num_samples
        prev = np.full(n, -1, dtype=np.int64)
        nxt = np.full(n, -1, dtype=np.int64)
        if n < 2:
            return prev, nxt
        order = np.lexsort((self.frame_index, self.track_id))
        same_track = self.track_id[order[1:]] == self.track_id[order[:-1]]
        gap = self.frame_index[order[1:]] - self.frame_index[order[:-1]]
        linked = same_track & (gap >= 1) & (gap <= max_gap)
        prev[order[1:][linked]] = order[:-1][linked]
        nxt[order[:-1][linked]] = order[1:][linked]
        return prev, nxt

    def temporal_order(self) -> np.ndarray:
        """(N,) sample indices sorted by (track, frame): neighbours are adjacent in this order."""
        return np.lexsort((self.frame_index, self.track_id))

    def subset(self, indices: np.ndarray, name: str | None = None) -> Video:
        """A video holding only the given samples (same frames)."""
        idx = np.asarray(indices, dtype=np.int64)
        return Video(
            name=name or self.name,
            keypoint_set=self.keypoint_set,
            frames=self.frames,
            frame_index=self.frame_index[idx],
            track_id=self.track_id[idx],
            boxes=self.boxes[idx],
            keypoints=self.keypoints[idx],
            annotation_ids=self.annotation_ids[idx],
            skipped=dict(self.skipped),
            source=self.source,
        )
